"""A cross-region deploy: build once in us-east-1, deploy the same artifact to two regions in parallel.

    python3 examples/cross_region.py

What it shows:

* ``artifact_stores``: one artifact bucket per region (CodePipeline replicates only the inputs of
  each cross-region action to its region's bucket), each with its own KMS key;
* actions with ``region=``; parallel deploys (same ``run_order``) after a canary region;
* a local run: every regional deploy reads the one ``Packaged`` zip the build stored (its sha256
  is verified on each read); deploys are SIMULATED locally: the template is checked and recorded,
  nothing reaches AWS;
* the CloudFormation template's ``ArtifactStores`` list.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pipeweaver as pw
from pipeweaver import actions, synth

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Queue:
    Type: AWS::SQS::Queue
"""
REGIONS = {"us-east-1": "1111aaaa", "eu-west-1": "2222bbbb", "ap-southeast-2": "3333cccc"}


def build_pipeline() -> pw.Pipeline:
    """Build in us-east-1; canary to eu-west-1, then ap-southeast-2 and us-east-1 together."""
    source = actions.s3_source("Source", bucket="orders-source-us-east-1", object_key="orders.zip", output="Src")
    build = actions.codebuild("Package", project_name="orders-package", input=source.output(), outputs=["Packaged"])
    packaged = build.output()

    def deploy(region: str, run_order: int) -> pw.Action:
        return actions.cloudformation_create_update(
            f"Deploy-{region}",
            stack_name="orders",
            template=(packaged, "template.yaml"),
            deployment_role_arn="arn:aws:iam::123456789012:role/CloudFormationDeployRole",
            region=region,
            run_order=run_order,
        )

    stores = {
        region: pw.ArtifactStore(
            location=f"orders-artifacts-{region}",
            encryption_key=pw.EncryptionKey(
                id=f"arn:aws:kms:{region}:123456789012:key/{key}-0000-4000-8000-000000000000"
            ),
        )
        for region, key in REGIONS.items()
    }
    return pw.Pipeline(
        name="orders-global",
        role_arn="arn:aws:iam::123456789012:role/PipelineRole",
        artifact_stores=stores,
        stages=[
            pw.Stage(name="Source", actions=[source]),
            pw.Stage(name="Build", actions=[build]),
            pw.Stage(name="Canary", actions=[deploy("eu-west-1", 1)]),
            pw.Stage(name="Global", actions=[deploy("ap-southeast-2", 1), deploy("us-east-1", 1)]),
        ],
    )


def main() -> int:
    """Validate, run locally with a buildspec given to the executor, and show the template's stores."""
    from pipeweaver.execution import LocalExecutor

    pipeline = build_pipeline()
    pipeline.validate()
    buildspec = {
        "version": 0.2,
        "phases": {"build": {"commands": ["test -f template.yaml"]}},
        "artifacts": {"files": ["template.yaml"]},
    }
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        (src / "template.yaml").write_text(TEMPLATE)
        executor = LocalExecutor(
            workdir=Path(tmp) / ".pipeweaver", sources={"Source": src}, buildspecs={"orders-package": buildspec}
        )
        execution = executor.run(pipeline)
        executor.close()
    print(f"{pipeline.name}: {execution.status}")
    for record in execution.actions:
        region = next((a.region for s, a in pipeline.actions() if a.name == record.name and a.region), "us-east-1")
        print(f"  {record.stage:<7} {record.name:<22} {region:<15} {record.status} - {record.summary}")
    print(f"artifact Packaged sha256 {execution.artifacts['Packaged'].sha256} was deployed to {len(REGIONS)} regions")
    template = synth.to_cloudformation(pipeline)
    stores = template["Resources"]["Pipeline"]["Properties"]["ArtifactStores"]
    print("ArtifactStores:", ", ".join(f"{s['Region']} -> {s['ArtifactStore']['Location']}" for s in stores))
    return 0 if execution.succeeded else 1


if __name__ == "__main__":
    sys.exit(main())
