"""Quick start: run a real release pipeline on this machine, end to end.

    python3 examples/quickstart.py              # or: pipeweaver run examples/quickstart.py

The pipeline releases the tiny app in ``examples/app/``:

1. **Source** - an S3 source action; locally its "object" is the ``examples/app`` folder.
2. **Test** - a CodeBuild action that really runs the app's unit tests from its
   ``buildspec.yml`` and exports ``APP_VERSION``.
3. **Approve** - a manual approval, auto-approved here.
4. **Deploy** - a CloudFormation deploy. It is SIMULATED locally: pipeweaver checks that the
   template is in the artifact and parses, and records what it would deploy; nothing reaches AWS.

It prints a summary and writes an HTML report of the execution. The same ``Pipeline``
synthesizes to the CodePipeline JSON that AWS accepts (``pipeweaver synth examples/quickstart.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pipeweaver as pw

HERE = Path(__file__).resolve().parent

#: Where each source action reads from when the pipeline runs locally (`pipeweaver run` reads this too).
LOCAL_SOURCES = {"Source": HERE / "app"}


def build_pipeline() -> pw.Pipeline:
    """The release pipeline of the greeting app."""
    source_out, built = pw.Artifact("SourceOutput"), pw.Artifact("BuildOutput")
    source = pw.Action(
        name="Source",
        action_type=pw.ActionType(category="Source", provider="S3"),
        configuration={"S3Bucket": "greeting-releases", "S3ObjectKey": "greeting.zip", "PollForSourceChanges": "false"},
        outputs=[source_out],
        namespace="SourceVariables",
    )
    tests = pw.Action(
        name="UnitTests",
        action_type=pw.ActionType(category="Build", provider="CodeBuild"),
        configuration={"ProjectName": "greeting-build"},
        inputs=[source_out],
        outputs=[built],
        namespace="BuildVariables",
    )
    approve = pw.Action(
        name="ReleaseApproval",
        action_type=pw.ActionType(category="Approval", owner="AWS", provider="Manual"),
        configuration={"CustomData": f"Release greeting {tests.variable('APP_VERSION')}?"},
    )
    deploy = pw.Action(
        name="DeployStack",
        action_type=pw.ActionType(category="Deploy", provider="CloudFormation"),
        configuration={
            "ActionMode": "CREATE_UPDATE",
            "StackName": "greeting",
            "TemplatePath": "BuildOutput::template.yaml",
            "RoleArn": "arn:aws:iam::123456789012:role/CloudFormationDeployRole",
            "ParameterOverrides": f'{{"AppVersion": "{tests.variable("APP_VERSION")}"}}',
        },
        inputs=[built],
    )
    return pw.Pipeline(
        name="greeting-release",
        role_arn="arn:aws:iam::123456789012:role/PipelineRole",
        artifact_store=pw.ArtifactStore(location="greeting-pipeline-artifacts"),
        stages=[
            pw.Stage(name="Source", actions=[source]),
            pw.Stage(name="Test", actions=[tests]),
            pw.Stage(name="Approve", actions=[approve]),
            pw.Stage(name="Deploy", actions=[deploy]),
        ],
    )


def main() -> int:
    """Run the pipeline locally in ``./.pipeweaver``, print a summary and write a report."""
    from pipeweaver.execution import LocalExecutor
    from pipeweaver.report import render_html

    pipeline = build_pipeline()
    pipeline.validate()
    workdir = Path(".pipeweaver")
    executor = LocalExecutor(workdir=workdir, sources=LOCAL_SOURCES, approval="approve")
    execution = executor.run(pipeline)

    print(f"{pipeline.name}: execution {execution.id} {execution.status}")
    for record in execution.actions:
        seconds = (record.ended_at - record.started_at).total_seconds() if record.ended_at and record.started_at else 0
        print(f"  {record.stage:<8} {record.name:<16} {record.status!s:<10} {seconds:6.2f}s  {record.summary or ''}")
    version = execution.action("Test", "UnitTests").output_variables.get("APP_VERSION")
    print(f"tested version: {version}")
    for name, ref in execution.artifacts.items():
        print(f"artifact {name}: sha256 {ref.sha256[:16]}... ({ref.size} bytes)")
    print("note: the Deploy stage is simulated locally; `pipeweaver deploy examples/quickstart.py` ships it to AWS.")
    report = workdir / "quickstart-report.html"
    report.write_text(render_html(execution, pipeline, workdir=workdir), encoding="utf-8")
    print(f"report: {report}")
    return 0 if execution.succeeded else 1


if __name__ == "__main__":
    sys.exit(main())
