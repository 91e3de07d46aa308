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
from pipeweaver import actions

HERE = Path(__file__).resolve().parent

#: Where each source action reads from when the pipeline runs locally (`pipeweaver run` reads this too).
LOCAL_SOURCES = {"Source": HERE / "app"}


def build_pipeline() -> pw.Pipeline:
    """The release pipeline of the greeting app."""
    source = actions.s3_source(
        "Source", bucket="greeting-releases", object_key="greeting.zip", namespace="SourceVariables"
    )
    tests = actions.codebuild(
        "UnitTests",
        project_name="greeting-build",
        input=source.output(),
        outputs=["BuildOutput"],
        namespace="BuildVariables",
    )
    version = tests.variable("APP_VERSION")
    approve = actions.manual_approval("ReleaseApproval", custom_data=f"Release greeting {version}?")
    deploy = actions.cloudformation_create_update(
        "DeployStack",
        stack_name="greeting",
        template=(tests.output(), "template.yaml"),
        deployment_role_arn="arn:aws:iam::123456789012:role/CloudFormationDeployRole",
        parameter_overrides={"AppVersion": version},
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
