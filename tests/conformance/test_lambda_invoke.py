"""Lambda invoke actions run locally as CodePipeline runs them: the job API decides the outcome.

The functions here are written as AWS's tutorials write them: a module-level
``boto3.client("codepipeline")`` and ``put_job_success_result`` / ``put_job_failure_result``
calls with the event's job id. They run unchanged; only the region is set, as Lambda's runtime
sets it (``AWS_REGION``), and no credentials or network are needed.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import pipeweaver as pw
from pipeweaver.execution import CONTINUATION_TOKEN_LIMIT, ActionStatus, LocalExecutor

from .conftest import SRC, source_then

LAMBDA = "https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-Lambda.html"
TUTORIAL = "https://docs.aws.amazon.com/codepipeline/latest/userguide/actions-invoke-lambda-function.html"
SUCCESS = "https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PutJobSuccessResult.html"
FAILURE = "https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PutJobFailureResult.html"
LAMBDA_EVENT = "https://docs.aws.amazon.com/lambda/latest/dg/services-codepipeline.html"

#: A function module as AWS's tutorial writes one: the client is made at import time.
FUNCTION = textwrap.dedent(
    """\
    import json
    import tempfile
    import zipfile

    import boto3
    from boto3.session import Session

    code_pipeline = boto3.client("codepipeline")
    calls = []


    def put_job_success(job, message, **extra):
        code_pipeline.put_job_success_result(jobId=job, executionDetails={"summary": message}, **extra)


    def put_job_failure(job, message):
        code_pipeline.put_job_failure_result(jobId=job, failureDetails={"message": message, "type": "JobFailed"})


    def release(event, context):
        job_id = event["CodePipeline.job"]["id"]
        data = event["CodePipeline.job"]["data"]
        calls.append(event)
        try:
            params = json.loads(data["actionConfiguration"]["configuration"]["UserParameters"])
            if params.get("fail"):
                raise ValueError("the smoke test found a 500")
            put_job_success(job_id, "released " + params["version"], outputVariables={"Version": params["version"]})
        except Exception as error:
            put_job_failure(job_id, "Function exception: " + str(error))
        return "Complete."


    def long_running(event, context):
        job_id = event["CodePipeline.job"]["id"]
        data = event["CodePipeline.job"]["data"]
        calls.append(event)
        if "continuationToken" in data:
            step = json.loads(data["continuationToken"])["step"]
            if step < 3:
                put_job_success(job_id, "step %d" % step, continuationToken=json.dumps({"step": step + 1}))
            else:
                put_job_success(job_id, "done", outputVariables={"Steps": str(step)})
        else:
            put_job_success(job_id, "started", continuationToken=json.dumps({"step": 1}))


    def copy_artifact(event, context):
        job = event["CodePipeline.job"]
        credentials = job["data"]["artifactCredentials"]
        session = Session(
            aws_access_key_id=credentials["accessKeyId"],
            aws_secret_access_key=credentials["secretAccessKey"],
            aws_session_token=credentials["sessionToken"],
        )
        s3 = session.client("s3")
        source = job["data"]["inputArtifacts"][0]["location"]["s3Location"]
        target = job["data"]["outputArtifacts"][0]["location"]["s3Location"]
        with tempfile.TemporaryDirectory() as tmp:
            s3.download_file(source["bucketName"], source["objectKey"], tmp + "/in.zip")
            with zipfile.ZipFile(tmp + "/in.zip") as archive:
                text = archive.read("version.txt").decode()
            with zipfile.ZipFile(tmp + "/out.zip", "w") as archive:
                archive.writestr("release.txt", "release " + text)
            s3.upload_file(tmp + "/out.zip", target["bucketName"], target["objectKey"])
        code_pipeline.put_job_success_result(jobId=job["id"])
    """
)


@pytest.fixture(name="functions")
def _functions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The tutorial-style module, imported with the region Lambda's runtime would set."""
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    path = tmp_path / "release_function.py"
    path.write_text(FUNCTION)
    spec = importlib.util.spec_from_file_location("release_function", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "release_function", module)
    spec.loader.exec_module(module)
    return module


def _invoke(user_parameters: str = "{}", *, outputs: list[pw.Artifact] | None = None) -> pw.Action:
    return pw.Action(
        name="Invoke",
        action_type=pw.ActionType(category="Invoke", provider="Lambda"),
        configuration={"FunctionName": "release", "UserParameters": user_parameters},
        inputs=[SRC],
        outputs=outputs or [],
        namespace="Release",
    )


def _run(tmp_path: Path, function: Callable[..., Any], *stages: pw.Stage, **kwargs: Any) -> pw.execution.Execution:
    src = tmp_path / "src"
    src.mkdir(parents=True, exist_ok=True)
    (src / "version.txt").write_text("1.2.3")
    x = LocalExecutor(tmp_path / "wd", sources={"Source": src}, functions={"release": function}, **kwargs)
    with x:
        return x.run(source_then(*stages))


def test_put_job_success_result_succeeds_the_action_and_publishes_its_output_variables(
    tmp_path: Path, functions: ModuleType
) -> None:
    """AWS Lambda invoke action reference (LAMBDA): the action's variables are PutJobSuccessResult's outputVariables.

    A function written as the tutorial (TUTORIAL) writes it, with a module-level boto3 client,
    reports success; a later action reads ``#{Release.Version}``; the summary is
    executionDetails.summary.
    """
    check = pw.Action(
        name="Check",
        action_type=pw.ActionType(category="Compute", provider="Commands"),
        commands=["test '#{Release.Version}' = 2.0.1"],
        inputs=[SRC],
    )

    e = _run(
        tmp_path,
        functions.release,
        pw.Stage(name="Release", actions=[_invoke('{"version": "2.0.1"}')]),
        pw.Stage(name="Verify", actions=[check]),
    )

    assert e.succeeded, e.status_summary
    invoke = e.action("Release", "Invoke")
    assert {"Version": "2.0.1"} == dict(invoke.output_variables)
    assert "released 2.0.1" == invoke.summary


def test_put_job_failure_result_fails_the_action_though_the_function_returns(
    tmp_path: Path, functions: ModuleType
) -> None:
    """PutJobFailureResult (FAILURE): the action fails with failureDetails.message; the return value is ignored."""
    e = _run(tmp_path, functions.release, pw.Stage(name="Release", actions=[_invoke('{"fail": true}')]))

    invoke = e.action("Release", "Invoke")
    assert ActionStatus.FAILED == invoke.status
    assert "Function exception: the smoke test found a 500" == invoke.error


def test_a_function_that_returns_without_reporting_fails_as_a_timeout(tmp_path: Path) -> None:
    """AWS Lambda invoke action reference (LAMBDA): without PutJobSuccessResult or PutJobFailureResult the
    action waits until it times out. A return value reports nothing.

    Local: refused: the action fails at once, saying the function returned without reporting and
    would time out on AWS, instead of waiting out the timeout.
    """

    def returns(event: dict[str, Any], context: object) -> dict[str, str]:
        return {"Version": "1"}

    def raises(event: dict[str, Any], context: object) -> None:
        raise RuntimeError("boom")

    returned = _run(tmp_path / "r", returns, pw.Stage(name="Release", actions=[_invoke()]))
    raised = _run(tmp_path / "x", raises, pw.Stage(name="Release", actions=[_invoke()]))

    assert (
        "timed out: function release returned without calling PutJobSuccessResult or PutJobFailureResult "
        "(on AWS the action waits for one until it times out); it returned {'Version': '1'}, and a return "
        "value reports nothing"
    ) == returned.action("Release", "Invoke").error
    assert (
        "timed out: function release raised RuntimeError: boom without calling PutJobSuccessResult or "
        "PutJobFailureResult (on AWS the action waits for one until it times out)"
    ) == raised.action("Release", "Invoke").error


def test_a_continuation_token_invokes_the_function_again_with_it_in_a_new_job(
    tmp_path: Path, functions: ModuleType
) -> None:
    """PutJobSuccessResult (SUCCESS): a continuationToken means the work goes on; the next job's data carries it.

    Each invocation gets a new job id, the token the previous one put, and only the last
    (without a token) publishes variables.
    """
    e = _run(tmp_path, functions.long_running, pw.Stage(name="Release", actions=[_invoke()]))

    assert e.succeeded, e.status_summary
    assert {"Steps": "3"} == dict(e.action("Release", "Invoke").output_variables)
    datas = [call["CodePipeline.job"]["data"] for call in functions.calls]
    assert [None, '{"step": 1}', '{"step": 2}', '{"step": 3}'] == [d.get("continuationToken") for d in datas]
    assert 4 == len({call["CodePipeline.job"]["id"] for call in functions.calls})


def test_output_variables_beside_a_continuation_token_are_refused_by_the_api(tmp_path: Path) -> None:
    """PutJobSuccessResult (SUCCESS): outputVariables can be included only when there is no continuation token.

    The call raises the client's modeled ValidationException, which the function can catch.
    """
    import boto3

    client = boto3.client("codepipeline", region_name="us-east-1")
    caught: list[str] = []

    def both(event: dict[str, Any], context: object) -> None:
        job_id = event["CodePipeline.job"]["id"]
        try:
            client.put_job_success_result(jobId=job_id, continuationToken="t", outputVariables={"A": "1"})
        except client.exceptions.ValidationException as error:
            caught.append(error.response["Error"]["Message"])
            client.put_job_failure_result(jobId=job_id, failureDetails={"type": "JobFailed", "message": "refused"})

    e = _run(tmp_path, both, pw.Stage(name="Release", actions=[_invoke()]))

    assert ["outputVariables can be included only when there is no continuation token"] == caught
    assert "refused" == e.action("Release", "Invoke").error


def test_a_second_result_for_one_job_is_an_invalid_job_state(tmp_path: Path) -> None:
    """PutJobSuccessResult (SUCCESS) errors: InvalidJobStateException for a job no longer in progress; the first result stands."""
    import boto3

    client = boto3.client("codepipeline", region_name="us-east-1")
    caught: list[str] = []

    def twice(event: dict[str, Any], context: object) -> None:
        job_id = event["CodePipeline.job"]["id"]
        client.put_job_success_result(jobId=job_id)
        try:
            client.put_job_failure_result(jobId=job_id, failureDetails={"type": "JobFailed", "message": "late"})
        except client.exceptions.InvalidJobStateException as error:
            caught.append(error.response["Error"]["Code"])

    e = _run(tmp_path, twice, pw.Stage(name="Release", actions=[_invoke()]))

    assert ["InvalidJobStateException"] == caught
    assert e.succeeded, e.status_summary


def test_a_continuation_token_above_the_api_limit_fails_the_job(tmp_path: Path) -> None:
    """PutJobSuccessResult (SUCCESS): continuationToken is 1-2048 characters; a longer one fails the action."""
    import boto3

    client = boto3.client("codepipeline", region_name="us-east-1")

    def huge(event: dict[str, Any], context: object) -> None:
        client.put_job_success_result(
            jobId=event["CodePipeline.job"]["id"], continuationToken="x" * (CONTINUATION_TOKEN_LIMIT + 1)
        )

    e = _run(tmp_path, huge, pw.Stage(name="Release", actions=[_invoke()]))

    assert ActionStatus.FAILED == e.action("Release", "Invoke").status
    assert f"above CodePipeline's limit of {CONTINUATION_TOKEN_LIMIT}" in (e.action("Release", "Invoke").error or "")


def test_the_function_reads_and_writes_artifacts_at_the_event_s3_locations(
    tmp_path: Path, functions: ModuleType
) -> None:
    """AWS Lambda invoke action reference (LAMBDA): output artifacts must be uploaded to S3 by the function.

    The function downloads its input zip and uploads its output zip with an S3 client made
    from the event's artifactCredentials, as the tutorial's CloudFormation sample does; the
    next action reads the file the function wrote.
    """
    out = pw.Artifact("Released")
    check = pw.Action(
        name="Check",
        action_type=pw.ActionType(category="Compute", provider="Commands"),
        commands=['test "$(cat release.txt)" = "release 1.2.3"'],
        inputs=[out],
    )

    e = _run(
        tmp_path,
        functions.copy_artifact,
        pw.Stage(name="Release", actions=[_invoke(outputs=[out])]),
        pw.Stage(name="Verify", actions=[check]),
    )

    assert e.succeeded, e.status_summary


def test_the_event_has_codepipelines_shape(tmp_path: Path, functions: ModuleType) -> None:
    """Using AWS Lambda with AWS CodePipeline (LAMBDA_EVENT): the example CodePipeline event's keys and locations."""
    out = pw.Artifact("Released")
    e = _run(
        tmp_path, functions.release, pw.Stage(name="Release", actions=[_invoke('{"version": "1"}', outputs=[out])])
    )

    assert e.succeeded, e.status_summary
    (event,) = functions.calls
    job = event["CodePipeline.job"]
    assert ["accountId", "data", "id"] == sorted(job)
    assert "123456789012" == job["accountId"]
    assert ["actionConfiguration", "artifactCredentials", "inputArtifacts", "outputArtifacts"] == sorted(job["data"])
    assert {"FunctionName": "release", "UserParameters": '{"version": "1"}'} == (
        job["data"]["actionConfiguration"]["configuration"]
    )
    (source,) = job["data"]["inputArtifacts"]
    assert ("Src", "S3", "bucket") == (
        source["name"],
        source["location"]["type"],
        source["location"]["s3Location"]["bucketName"],
    )
    assert source["location"]["s3Location"]["objectKey"].startswith("p/Src/")
    assert ["accessKeyId", "expirationTime", "secretAccessKey", "sessionToken"] == sorted(
        job["data"]["artifactCredentials"]
    )
    json.dumps(event)  # the event is plain JSON, as Lambda delivers it


def test_an_input_artifact_carries_its_source_revision_and_an_output_none(
    tmp_path: Path, functions: ModuleType
) -> None:
    """Using AWS Lambda with AWS CodePipeline (LAMBDA_EVENT): in the example event the source input artifact's
    revision is its source revision and the output artifact's revision is null.

    An artifact no source action made carries none (null) either.
    """
    out = pw.Artifact("Released")
    again = pw.Action(
        name="Again",
        action_type=pw.ActionType(category="Invoke", provider="Lambda"),
        configuration={"FunctionName": "release", "UserParameters": '{"version": "2"}'},
        inputs=[out],
    )

    e = _run(
        tmp_path,
        functions.release,
        pw.Stage(name="Release", actions=[_invoke('{"version": "1"}', outputs=[out])]),
        pw.Stage(name="Again", actions=[again]),
    )

    assert e.succeeded, e.status_summary
    first, second = (call["CodePipeline.job"]["data"] for call in functions.calls)
    version = e.action("Source", "Source").output_variables["VersionId"]
    assert [("Src", version)] == [(a["name"], a["revision"]) for a in first["inputArtifacts"]]
    assert [("Released", None)] == [(a["name"], a["revision"]) for a in first["outputArtifacts"]]
    assert [("Released", None)] == [(a["name"], a["revision"]) for a in second["inputArtifacts"]]
    assert "123456789012" == functions.calls[0]["CodePipeline.job"]["accountId"]
