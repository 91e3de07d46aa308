"""A custom action served by a job worker: one handler, tested locally, then run for CodePipeline.

The action type ``Test/Custom/ChecksumManifest/1`` reads its input artifact, writes a
``MANIFEST.sha256`` listing every file's sha256 into its output artifact, and fails with a
configuration error when a required file is missing.

``python examples/custom_action_worker.py`` runs a SIMULATED demo that needs no AWS account:
the handler runs once locally, then ``JobWorker`` serves one job from a scripted CodePipeline
client (botocore's Stubber) with artifacts in an in-process S3 (moto).
``python examples/custom_action_worker.py --register --serve`` registers the type and serves
real jobs with your AWS credentials until SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pipeweaver as pw
from pipeweaver.aws import ArtifactBounds, ConfigurationProperty, CustomActionType, JobWorker
from pipeweaver.execution import ActionContext, ActionFailed, ActionResult, FailureType

CHECKSUM = CustomActionType(
    category="Test",
    provider="ChecksumManifest",
    version="1",
    configuration_properties=[
        ConfigurationProperty(name="RequiredFile", required=True, description="A file the artifact must contain"),
        ConfigurationProperty(name="Team", required=True, queryable=True, description="Which team's worker runs it"),
    ],
    inputs=ArtifactBounds(1, 1),
    outputs=ArtifactBounds(1, 1),
)


def checksum_handler(context: ActionContext) -> ActionResult:
    """Write MANIFEST.sha256 for the input artifact; fail when RequiredFile is missing."""
    source = context.primary_input
    assert source is not None, "ChecksumManifest takes exactly one input artifact"
    required = context.configuration["RequiredFile"]
    if not (source / required).is_file():
        raise ActionFailed(
            f"{required} is not in the input artifact {context.action.inputs[0].name}",
            failure_type=FailureType.CONFIGURATION_ERROR,
        )
    lines = []
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        lines.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.relative_to(source).as_posix()}")
        context.log(f"hashed {path.relative_to(source).as_posix()}")
    output = next(iter(context.outputs.values()))
    (output / "MANIFEST.sha256").write_text("\n".join(lines) + "\n")
    return ActionResult(output_variables={"FileCount": str(len(lines))}, summary=f"{len(lines)} file(s) hashed")


def local_context(tmp: Path, files: dict[str, str], required: str = "app.py") -> ActionContext:
    """An ActionContext as the local executor builds it, for running the handler without AWS."""
    built, manifest = pw.Artifact("BuildOutput"), pw.Artifact("Manifest")
    action = CHECKSUM.action(
        "Checksums", configuration={"RequiredFile": required, "Team": "web"}, inputs=[built], outputs=[manifest]
    )
    source_action = pw.Action(
        name="Source",
        action_type=pw.ActionType(category="Source", provider="S3"),
        configuration={"S3Bucket": "my-source-bucket", "S3ObjectKey": "web.zip", "PollForSourceChanges": "false"},
        outputs=[built],
    )
    stage = pw.Stage(name="Verify", actions=[action])
    pipeline = pw.Pipeline(
        name="web",
        role_arn="arn:aws:iam::123456789012:role/PipelineRole",
        artifact_store=pw.ArtifactStore(location="my-artifact-bucket"),
        stages=[pw.Stage(name="Source", actions=[source_action]), stage],
    )
    source, out = tmp / "in", tmp / "out"
    for name, text in files.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(text)
    out.mkdir(parents=True)
    return ActionContext(
        pipeline=pipeline,
        stage=stage,
        action=action,
        execution_id="local",
        configuration=dict(action.configuration),  # type: ignore[arg-type]
        inputs={"BuildOutput": source},
        outputs={"Manifest": out},
        workdir=tmp,
    )


def s3_artifact(name: str, key: str) -> dict[str, Any]:
    """An artifact as job data describes it."""
    return {
        "name": name,
        "location": {"type": "S3", "s3Location": {"bucketName": "my-artifact-bucket", "objectKey": key}},
    }


def simulated_job_round(files: dict[str, str]) -> str:
    """SIMULATED: serve one job from a scripted CodePipeline (Stubber) with artifacts in moto's S3."""
    import boto3
    from botocore.stub import Stubber
    from moto import mock_aws

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ[key] = "testing"
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="my-artifact-bucket")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            for name, text in files.items():
                zf.writestr(name, text)
        s3.put_object(Bucket="my-artifact-bucket", Key="web/BuildOutpu/abc1234", Body=buffer.getvalue())
        job = {
            "id": "11111111-2222-3333-4444-555555555555",
            "nonce": "1",
            "accountId": "123456789012",
            "data": {
                "actionConfiguration": {"configuration": {"RequiredFile": "app.py", "Team": "web"}},
                "pipelineContext": {
                    "pipelineName": "web",
                    "stage": {"name": "Verify"},
                    "action": {"name": "Checksums"},
                    "pipelineExecutionId": "6f2b0a3c-0d6e-4f0e-9b7e-1a2b3c4d5e6f",
                },
                "inputArtifacts": [s3_artifact("BuildOutput", "web/BuildOutpu/abc1234")],
                "outputArtifacts": [s3_artifact("Manifest", "web/Manifest/def5678")],
                "artifactCredentials": {"accessKeyId": "ASIATEMP", "secretAccessKey": "temp", "sessionToken": "temp"},
            },
        }
        codepipeline = boto3.client("codepipeline", region_name="us-east-1")
        with Stubber(codepipeline) as stub:
            stub.add_response("poll_for_jobs", {"jobs": [job]})
            stub.add_response("acknowledge_job", {"status": "InProgress"}, {"jobId": job["id"], "nonce": "1"})
            stub.add_response(
                "put_job_success_result",
                {},
                {
                    "jobId": job["id"],
                    "executionDetails": {"summary": f"{len(files)} file(s) hashed"},
                    "outputVariables": {"FileCount": str(len(files))},
                },
            )

            def s3_for_job(credentials: Any) -> Any:
                return boto3.client("s3", region_name="us-east-1")

            outcomes = JobWorker(
                CHECKSUM, checksum_handler, client=codepipeline, query="web", s3_client_factory=s3_for_job
            ).run_once()
            stub.assert_no_pending_responses()
        uploaded = s3.get_object(Bucket="my-artifact-bucket", Key="web/Manifest/def5678")
        manifest = zipfile.ZipFile(io.BytesIO(uploaded["Body"].read())).read("MANIFEST.sha256").decode()
        return f"{outcomes[0].outcome}; uploaded with {uploaded['ServerSideEncryption']}:\n{manifest}"


def main(argv: list[str]) -> int:
    """Run the simulated demo, or register and serve for real with ``--register --serve``."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if "--serve" in argv:
        if "--register" in argv:
            CHECKSUM.register()
        JobWorker(CHECKSUM, checksum_handler, query="web").serve()
        return 0
    files = {"app.py": "print('hello')\n", "lib/util.py": "X = 1\n"}
    with tempfile.TemporaryDirectory() as tmp:
        result = checksum_handler(local_context(Path(tmp), files))
        print(f"local run: {result.summary}, FileCount={result.output_variables['FileCount']}")
    print("SIMULATED job (scripted CodePipeline, in-process S3):", simulated_job_round(files))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
