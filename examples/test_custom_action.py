"""Unit-test a custom action's handler locally, then check the same handler served by JobWorker.

Run with ``python -m pytest examples/test_custom_action.py``. No AWS account is needed: the
CodePipeline job APIs are scripted with botocore's Stubber and S3 runs in-process (moto).
"""

from __future__ import annotations

import hashlib
import io
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from pipeweaver.aws import JobWorker
from pipeweaver.execution import ActionFailed, FailureType

sys.path.insert(0, str(Path(__file__).resolve().parent))
from custom_action_worker import CHECKSUM, checksum_handler, local_context, s3_artifact

JOB_ID = "11111111-2222-3333-4444-555555555555"


def test_handler_writes_a_manifest_of_every_file(tmp_path: Path) -> None:
    """Locally, the handler lists each input file with its sha256 and counts them."""
    context = local_context(tmp_path, {"app.py": "print(1)\n", "lib/x.py": "X = 1\n"})

    result = checksum_handler(context)

    app, lib = hashlib.sha256(b"print(1)\n").hexdigest(), hashlib.sha256(b"X = 1\n").hexdigest()
    expected = [f"{app}  app.py", f"{lib}  lib/x.py"]
    assert expected == (context.outputs["Manifest"] / "MANIFEST.sha256").read_text().splitlines()
    assert {"FileCount": "2"} == dict(result.output_variables)


def test_handler_fails_with_a_configuration_error_when_the_file_is_missing(tmp_path: Path) -> None:
    """Locally, a missing RequiredFile raises ActionFailed of type ConfigurationError."""
    with pytest.raises(ActionFailed) as info:
        checksum_handler(local_context(tmp_path, {"other.py": ""}))

    assert FailureType.CONFIGURATION_ERROR == info.value.failure_type


@pytest.fixture(name="s3")
def _s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="my-artifact-bucket")
        yield client


def serve_one(s3: Any, files: dict[str, str], expected_call: tuple[str, dict[str, Any]]) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    s3.put_object(Bucket="my-artifact-bucket", Key="in.zip", Body=buffer.getvalue())
    job = {
        "id": JOB_ID,
        "nonce": "7",
        "accountId": "123456789012",
        "data": {
            "actionConfiguration": {"configuration": {"RequiredFile": "app.py", "Team": "web"}},
            "pipelineContext": {"pipelineName": "web", "stage": {"name": "Verify"}, "action": {"name": "Checksums"}},
            "inputArtifacts": [s3_artifact("BuildOutput", "in.zip")],
            "outputArtifacts": [s3_artifact("Manifest", "out.zip")],
            "artifactCredentials": {"accessKeyId": "ASIATEMP", "secretAccessKey": "temp", "sessionToken": "temp"},
        },
    }
    codepipeline = boto3.client("codepipeline", region_name="us-east-1")
    with Stubber(codepipeline) as stub:
        expected_poll = {
            "actionTypeId": {"category": "Test", "owner": "Custom", "provider": "ChecksumManifest", "version": "1"},
            "maxBatchSize": 1,
            "queryParam": {"Team": "web"},
        }
        stub.add_response("poll_for_jobs", {"jobs": [job]}, expected_poll)
        stub.add_response("acknowledge_job", {"status": "InProgress"}, {"jobId": JOB_ID, "nonce": "7"})
        stub.add_response(expected_call[0], {}, expected_call[1])
        worker = JobWorker(
            CHECKSUM, checksum_handler, client=codepipeline, query="web", max_workers=1, s3_client_factory=lambda _: s3
        )
        outcome = worker.run_once()[0].outcome
        stub.assert_no_pending_responses()
    return outcome


def test_worker_reports_success_and_uploads_the_manifest(s3: Any) -> None:
    """Served by JobWorker, the handler's manifest is uploaded and its variables reported."""
    success = {
        "jobId": JOB_ID,
        "executionDetails": {"summary": "1 file(s) hashed"},
        "outputVariables": {"FileCount": "1"},
    }

    outcome = serve_one(s3, {"app.py": "print(1)\n"}, ("put_job_success_result", success))

    manifest = zipfile.ZipFile(io.BytesIO(s3.get_object(Bucket="my-artifact-bucket", Key="out.zip")["Body"].read()))
    assert "succeeded" == outcome
    assert manifest.read("MANIFEST.sha256").decode().endswith("  app.py\n")


def test_worker_reports_the_configuration_error(s3: Any) -> None:
    """Served by JobWorker, the same failure becomes PutJobFailureResult of type ConfigurationError."""
    failure = {
        "jobId": JOB_ID,
        "failureDetails": {"type": "ConfigurationError", "message": "app.py is not in the input artifact BuildOutput"},
    }

    assert "failed" == serve_one(s3, {"other.py": ""}, ("put_job_failure_result", failure))
