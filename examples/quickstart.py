"""Quick start: a GitHub -> CodeBuild -> CodeDeploy release pipeline, validated and synthesized.

Run it with ``python examples/quickstart.py``.
"""

from __future__ import annotations

import pipeweaver as pw
from pipeweaver import synth


def build_pipeline() -> pw.Pipeline:
    """The release pipeline of a small web service."""
    src, built = pw.Artifact("SourceOutput"), pw.Artifact("BuildOutput")
    source = pw.Action(
        name="Source",
        namespace="SourceVariables",
        outputs=[src],
        action_type=pw.ActionType(category="Source", provider="CodeStarSourceConnection"),
        configuration={
            "ConnectionArn": "arn:aws:codeconnections:us-east-1:123456789012:connection/abc",
            "FullRepositoryId": "acme/web",
            "BranchName": "main",
        },
    )
    build = pw.Action(
        name="Build",
        inputs=[src],
        outputs=[built],
        action_type=pw.ActionType(category="Build", provider="CodeBuild"),
        configuration={"ProjectName": "web-build"},
    )
    deploy = pw.Action(
        name="Deploy",
        inputs=[built],
        action_type=pw.ActionType(category="Deploy", provider="CodeDeploy"),
        configuration={"ApplicationName": "web", "DeploymentGroupName": "production"},
    )
    return pw.Pipeline(
        name="web",
        role_arn="arn:aws:iam::123456789012:role/PipelineRole",
        artifact_store=pw.ArtifactStore(location="my-artifact-bucket"),
        stages=[
            pw.Stage(name="Source", actions=[source]),
            pw.Stage(name="Build", actions=[build]),
            pw.Stage(name="Deploy", actions=[deploy]),
        ],
    )


def main() -> None:
    """Validate the pipeline, print its plan and its CodePipeline JSON."""
    pipeline = build_pipeline()
    pipeline.validate()
    print(pipeline.plan().describe())
    print(synth.dumps(pipeline))


if __name__ == "__main__":
    main()
