"""The benchmark pipelines, built the same way by every contender.

A pipeline of ``stages x actions``: the first stage holds ``actions`` CodeStarSourceConnection
sources, each later stage ``actions`` parallel CodeBuild actions, action *i* reading the
artifact action *i* of the previous stage wrote. 50 x 10 is AWS's maximum of 500 actions.

Each contender builds the pipeline *from scratch* inside the timed region: pipeweaver model
objects, a hand-written dict (the floor: no checks at all), or troposphere objects.
"""

from __future__ import annotations

import json
from typing import Any

ROLE = "arn:aws:iam::123456789012:role/PipelineRole"
CONNECTION = "arn:aws:codeconnections:us-east-1:123456789012:connection/0c0a1f8e-bench"
BUCKET = "bench-artifact-bucket"


def artifact(stage: int, action: int) -> str:
    return f"S{stage}A{action}Out"


# -- pipeweaver ---------------------------------------------------------------------------------


def pipeweaver_model(stages: int, actions: int) -> Any:
    """Build the pipeline as pipeweaver model objects."""
    import pipeweaver as pw

    previous = [pw.Artifact(artifact(0, i)) for i in range(actions)]
    stage_list = [
        pw.Stage(
            name="Source",
            actions=[
                pw.Action(
                    name=f"Source{i}",
                    action_type=pw.ActionType(category="Source", owner="AWS", provider="CodeStarSourceConnection"),
                    configuration={
                        "ConnectionArn": CONNECTION,
                        "FullRepositoryId": f"acme/service-{i}",
                        "BranchName": "main",
                        "DetectChanges": "false",
                    },
                    outputs=[previous[i]],
                )
                for i in range(actions)
            ],
        )
    ]
    for s in range(1, stages):
        outs = [pw.Artifact(artifact(s, i)) for i in range(actions)]
        stage_list.append(
            pw.Stage(
                name=f"Stage{s}",
                actions=[
                    pw.Action(
                        name=f"Build{i}",
                        action_type=pw.ActionType(category="Build", owner="AWS", provider="CodeBuild"),
                        configuration={"ProjectName": f"project-{s}-{i}"},
                        inputs=[previous[i]],
                        outputs=[outs[i]],
                    )
                    for i in range(actions)
                ],
            )
        )
        previous = outs
    return pw.Pipeline(
        name=f"bench-{stages}x{actions}",
        role_arn=ROLE,
        artifact_store=pw.ArtifactStore(location=BUCKET),
        pipeline_type="V2",
        execution_mode="QUEUED",
        stages=stage_list,
    )


# -- the floor: hand-built dicts ----------------------------------------------------------------


def floor_declaration(stages: int, actions: int) -> dict[str, Any]:
    """The CodePipeline API declaration as a hand-written dict."""
    stage_list: list[dict[str, Any]] = [
        {
            "name": "Source",
            "actions": [
                {
                    "name": f"Source{i}",
                    "actionTypeId": {
                        "category": "Source",
                        "owner": "AWS",
                        "provider": "CodeStarSourceConnection",
                        "version": "1",
                    },
                    "runOrder": 1,
                    "configuration": {
                        "ConnectionArn": CONNECTION,
                        "FullRepositoryId": f"acme/service-{i}",
                        "BranchName": "main",
                        "DetectChanges": "false",
                    },
                    "outputArtifacts": [{"name": artifact(0, i)}],
                    "inputArtifacts": [],
                }
                for i in range(actions)
            ],
        }
    ]
    for s in range(1, stages):
        stage_list.append(
            {
                "name": f"Stage{s}",
                "actions": [
                    {
                        "name": f"Build{i}",
                        "actionTypeId": {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"},
                        "runOrder": 1,
                        "configuration": {"ProjectName": f"project-{s}-{i}"},
                        "outputArtifacts": [{"name": artifact(s, i)}],
                        "inputArtifacts": [{"name": artifact(s - 1, i)}],
                    }
                    for i in range(actions)
                ],
            }
        )
    return {
        "name": f"bench-{stages}x{actions}",
        "roleArn": ROLE,
        "artifactStore": {"type": "S3", "location": BUCKET},
        "stages": stage_list,
        "executionMode": "QUEUED",
        "pipelineType": "V2",
    }


def floor_template(stages: int, actions: int) -> dict[str, Any]:
    """The CloudFormation template as a hand-written dict (PascalCase)."""
    stage_list: list[dict[str, Any]] = [
        {
            "Name": "Source",
            "Actions": [
                {
                    "Name": f"Source{i}",
                    "ActionTypeId": {
                        "Category": "Source",
                        "Owner": "AWS",
                        "Provider": "CodeStarSourceConnection",
                        "Version": "1",
                    },
                    "RunOrder": 1,
                    "Configuration": {
                        "ConnectionArn": CONNECTION,
                        "FullRepositoryId": f"acme/service-{i}",
                        "BranchName": "main",
                        "DetectChanges": "false",
                    },
                    "OutputArtifacts": [{"Name": artifact(0, i)}],
                }
                for i in range(actions)
            ],
        }
    ]
    for s in range(1, stages):
        stage_list.append(
            {
                "Name": f"Stage{s}",
                "Actions": [
                    {
                        "Name": f"Build{i}",
                        "ActionTypeId": {"Category": "Build", "Owner": "AWS", "Provider": "CodeBuild", "Version": "1"},
                        "RunOrder": 1,
                        "Configuration": {"ProjectName": f"project-{s}-{i}"},
                        "OutputArtifacts": [{"Name": artifact(s, i)}],
                        "InputArtifacts": [{"Name": artifact(s - 1, i)}],
                    }
                    for i in range(actions)
                ],
            }
        )
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Pipeline": {
                "Type": "AWS::CodePipeline::Pipeline",
                "Properties": {
                    "Name": f"bench-{stages}x{actions}",
                    "RoleArn": ROLE,
                    "ArtifactStore": {"Type": "S3", "Location": BUCKET},
                    "Stages": stage_list,
                    "ExecutionMode": "QUEUED",
                    "PipelineType": "V2",
                },
            }
        },
    }


# -- troposphere --------------------------------------------------------------------------------


def troposphere_template(stages: int, actions: int) -> Any:
    """The CloudFormation template as troposphere objects (troposphere has no API-JSON output)."""
    from troposphere import Template
    from troposphere import codepipeline as cp

    stage_list = [
        cp.Stages(
            Name="Source",
            Actions=[
                cp.Actions(
                    Name=f"Source{i}",
                    ActionTypeId=cp.ActionTypeId(
                        Category="Source", Owner="AWS", Provider="CodeStarSourceConnection", Version="1"
                    ),
                    RunOrder=1,
                    Configuration={
                        "ConnectionArn": CONNECTION,
                        "FullRepositoryId": f"acme/service-{i}",
                        "BranchName": "main",
                        "DetectChanges": "false",
                    },
                    OutputArtifacts=[cp.OutputArtifacts(Name=artifact(0, i))],
                )
                for i in range(actions)
            ],
        )
    ]
    for s in range(1, stages):
        stage_list.append(
            cp.Stages(
                Name=f"Stage{s}",
                Actions=[
                    cp.Actions(
                        Name=f"Build{i}",
                        ActionTypeId=cp.ActionTypeId(Category="Build", Owner="AWS", Provider="CodeBuild", Version="1"),
                        RunOrder=1,
                        Configuration={"ProjectName": f"project-{s}-{i}"},
                        OutputArtifacts=[cp.OutputArtifacts(Name=artifact(s, i))],
                        InputArtifacts=[cp.InputArtifacts(Name=artifact(s - 1, i))],
                    )
                    for i in range(actions)
                ],
            )
        )
    template = Template()
    template.add_resource(
        cp.Pipeline(
            "Pipeline",
            Name=f"bench-{stages}x{actions}",
            RoleArn=ROLE,
            ArtifactStore=cp.ArtifactStore(Type="S3", Location=BUCKET),
            Stages=stage_list,
            ExecutionMode="QUEUED",
            PipelineType="V2",
        )
    )
    return template


def dumps(value: Any) -> str:
    # Compact output: with indent= json.dumps falls back to its pure-Python encoder, which would
    # dominate every contender and hide the differences this benchmark is about.
    return json.dumps(value)
