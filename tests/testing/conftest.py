"""A small release pipeline for the pipeweaver.testing tests."""

from __future__ import annotations

import pytest

import pipeweaver as pw


def release_pipeline() -> pw.Pipeline:
    """Source -> Build -> UnitTest -> Approval -> Deploy, with a variable flowing to the deploy."""
    src, built = pw.Artifact("SourceOutput"), pw.Artifact("BuildOutput")
    source = pw.Action(
        name="Source",
        namespace="SourceVariables",
        outputs=[src],
        action_type=pw.ActionType(category="Source", provider="S3"),
        configuration={"S3Bucket": "release-source", "S3ObjectKey": "app.zip", "PollForSourceChanges": "false"},
    )
    build = pw.Action(
        name="Build",
        namespace="BuildVariables",
        inputs=[src],
        outputs=[built],
        action_type=pw.ActionType(category="Build", provider="CodeBuild"),
        configuration={"ProjectName": "app-build"},
    )
    test = pw.Action(
        name="UnitTest",
        inputs=[built],
        action_type=pw.ActionType(category="Test", provider="CodeBuild"),
        configuration={"ProjectName": "app-test"},
    )
    approval = pw.Action(name="Approve", action_type=pw.ActionType(category="Approval", provider="Manual"))
    deploy = pw.Action(
        name="Deploy",
        run_order=2,
        inputs=[built],
        action_type=pw.ActionType(category="Deploy", provider="CloudFormation"),
        configuration={
            "ActionMode": "CREATE_UPDATE",
            "StackName": f"app-{build.variable('Version')}",
            "TemplatePath": "BuildOutput::template.yaml",
            "RoleArn": "arn:aws:iam::123456789012:role/CfnRole",
        },
    )
    return pw.Pipeline(
        name="release",
        role_arn="arn:aws:iam::123456789012:role/PipelineRole",
        artifact_store=pw.ArtifactStore(location="release-artifacts"),
        stages=[
            pw.Stage(name="Source", actions=[source]),
            pw.Stage(name="Build", actions=[build]),
            pw.Stage(name="Test", actions=[test]),
            pw.Stage(name="Release", actions=[approval, deploy]),
        ],
    )


@pytest.fixture(name="release")
def _release() -> pw.Pipeline:
    return release_pipeline()
