"""JobWorker: the job protocol against a Stubber-checked CodePipeline client and moto S3/KMS for artifacts."""

from __future__ import annotations

import io
import logging
import os
import signal
import threading
import zipfile
from collections.abc import Mapping
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

import pipeweaver as pw
from pipeweaver.aws import ArtifactBounds, ConfigurationProperty, CustomActionType, JobWorker
from pipeweaver.execution import ActionContext, ActionFailed, ActionResult, FailureType

from .conftest import REGION, stubbed

EID = "3137f7cb-7cf7-4b4c-a1e1-4a6e5b5f0a11"
SECRET = "s3cr3t-token-value"
CREDS = {"accessKeyId": "AKIATEMPORARY", "secretAccessKey": "temporary-secret-key", "sessionToken": "temporary-session"}

ACME = CustomActionType(
    category="Deploy",
    provider="AcmeDeploy",
    version="1",
    configuration_properties=[
        ConfigurationProperty(name="Environment", required=True, queryable=True),
        ConfigurationProperty(name="ApiToken", required=True, secret=True),
    ],
    inputs=ArtifactBounds(0, 1),
    outputs=ArtifactBounds(0, 1),
)
TYPE_ID = {"category": "Deploy", "owner": "Custom", "provider": "AcmeDeploy", "version": "1"}
POLL = {"actionTypeId": TYPE_ID, "maxBatchSize": 4, "queryParam": {"Environment": "prod"}}


def job(job_id: str, nonce: str = "n1", *, token: str | None = None, **data: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "actionTypeId": TYPE_ID,
        "actionConfiguration": {"configuration": {"Environment": "prod", "ApiToken": SECRET}},
        "pipelineContext": {
            "pipelineName": "web",
            "stage": {"name": "Deploy"},
            "action": {"name": "Acme", "actionExecutionId": f"ae-{job_id}"},
            "pipelineArn": "arn:aws:codepipeline:us-east-1:123456789012:web",
            "pipelineExecutionId": EID,
        },
        "artifactCredentials": CREDS,
        **data,
    }
    if token:
        body["continuationToken"] = token
    return {"id": job_id, "nonce": nonce, "accountId": "123456789012", "data": body}


def jid(n: int) -> str:
    return f"0000000{n}-aaaa-bbbb-cccc-dddddddddddd"


def ack(stub: Stubber, job_id: str, nonce: str = "n1", status: str = "InProgress") -> None:
    stub.add_response("acknowledge_job", {"status": status}, {"jobId": job_id, "nonce": nonce})


class Recorder:
    """A handler that records the contexts it was called with."""

    def __init__(self, result: ActionResult | None = None) -> None:
        self.calls: list[ActionContext] = []
        self.result = result

    def __call__(self, context: ActionContext) -> ActionResult | None:
        self.calls.append(context)
        return self.result


def worker(client: Any, handler: Any, **kwargs: Any) -> JobWorker:
    return JobWorker(ACME, handler, client=client, query="prod", **kwargs)


def test_job_downloads_inputs_runs_the_handler_and_uploads_outputs(
    s3: Any, kms_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Inputs are read with the job's credentials, outputs written with the job's KMS key, success reported."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("app/version.txt", "1.2.3\n")
    s3.put_object(Bucket="my-artifact-bucket", Key="web/BuildOutpu/in1", Body=buffer.getvalue())
    used: list[Mapping[str, str]] = []

    def s3_factory(credentials: Mapping[str, str]) -> Any:
        used.append(dict(credentials))
        return boto3.client(
            "s3",
            region_name=REGION,
            aws_access_key_id=credentials["accessKeyId"],
            aws_secret_access_key=credentials["secretAccessKey"],
            aws_session_token=credentials["sessionToken"],
        )

    def deploy_handler(context: ActionContext) -> ActionResult:
        version = (context.inputs["BuildOutput"] / "app" / "version.txt").read_text().strip()
        context.log(
            f"deploying {version} to {context.configuration['Environment']} with {context.configuration['ApiToken']}"
        )
        (context.outputs["Receipt"] / "receipt.txt").write_text(f"deployed {version}\n")
        return ActionResult(
            output_variables={"Version": version}, summary=f"deployed {version}", external_execution_id="d-42"
        )

    delivered = job(
        jid(1),
        inputArtifacts=[
            {
                "name": "BuildOutput",
                "revision": "r1",
                "location": {
                    "type": "S3",
                    "s3Location": {"bucketName": "my-artifact-bucket", "objectKey": "web/BuildOutpu/in1"},
                },
            }
        ],
        outputArtifacts=[
            {
                "name": "Receipt",
                "location": {
                    "type": "S3",
                    "s3Location": {"bucketName": "my-artifact-bucket", "objectKey": "web/Receipt/out1"},
                },
            }
        ],
        encryptionKey={"id": kms_key, "type": "KMS"},
    )
    client = stubbed("codepipeline")
    caplog.set_level(logging.DEBUG, logger="pipeweaver.aws.worker")
    with Stubber(client) as stub:
        stub.add_response("poll_for_jobs", {"jobs": [delivered]}, POLL)
        ack(stub, jid(1))
        stub.add_response(
            "put_job_success_result",
            {},
            {
                "jobId": jid(1),
                "executionDetails": {"summary": "deployed 1.2.3", "externalExecutionId": "d-42"},
                "outputVariables": {"Version": "1.2.3"},
            },
        )
        outcomes = worker(client, deploy_handler, s3_client_factory=s3_factory).run_once()
        stub.assert_no_pending_responses()

    head = s3.head_object(Bucket="my-artifact-bucket", Key="web/Receipt/out1")
    receipt = zipfile.ZipFile(
        io.BytesIO(s3.get_object(Bucket="my-artifact-bucket", Key="web/Receipt/out1")["Body"].read())
    )
    assert [(jid(1), "succeeded")] == [(o.job_id, o.outcome) for o in outcomes]
    assert [CREDS] == used
    assert ("aws:kms", kms_key) == (head["ServerSideEncryption"], head["SSEKMSKeyId"])
    assert "deployed 1.2.3\n" == receipt.read("receipt.txt").decode()
    assert "deploying 1.2.3 to prod with ****" in caplog.text
    for secret in (SECRET, *CREDS.values()):
        assert secret not in caplog.text


def test_duplicate_deliveries_run_the_handler_once() -> None:
    """The same job delivered twice in one batch and again later is acknowledged and handled once."""
    client, handler = stubbed("codepipeline"), Recorder(ActionResult(summary="done"))
    with Stubber(client) as stub:
        stub.add_response("poll_for_jobs", {"jobs": [job(jid(1)), job(jid(1))]}, POLL)
        ack(stub, jid(1))
        stub.add_response("put_job_success_result", {}, {"jobId": jid(1), "executionDetails": {"summary": "done"}})
        stub.add_response("poll_for_jobs", {"jobs": [job(jid(1), "n2")]}, POLL)
        w = worker(client, handler)
        first, second = w.run_once(), w.run_once()
        stub.assert_no_pending_responses()

    assert ["skipped", "succeeded"] == sorted(o.outcome for o in first)
    assert [("skipped", "duplicate delivery")] == [(o.outcome, o.detail) for o in second]
    assert 1 == len(handler.calls)


def test_lost_acknowledge_skips_the_job_until_it_is_redelivered() -> None:
    """A failed acknowledge (InvalidNonce) or a non-InProgress status skips the job; a later good acknowledge runs it once."""
    client, handler = stubbed("codepipeline"), Recorder()
    with Stubber(client) as stub:
        stub.add_response("poll_for_jobs", {"jobs": [job(jid(1), "n1")]}, POLL)
        stub.add_client_error(
            "acknowledge_job",
            "InvalidNonceException",
            "nonce does not match",
            expected_params={"jobId": jid(1), "nonce": "n1"},
        )
        stub.add_response("poll_for_jobs", {"jobs": [job(jid(2), "n1")]}, POLL)
        ack(stub, jid(2), status="TimedOut")
        stub.add_response("poll_for_jobs", {"jobs": [job(jid(1), "n2")]}, POLL)
        ack(stub, jid(1), "n2")
        stub.add_response("put_job_success_result", {}, {"jobId": jid(1)})
        w = worker(client, handler)
        outcomes = [w.run_once()[0] for _ in range(3)]
        stub.assert_no_pending_responses()

    assert [
        ("skipped", "acknowledge failed: InvalidNonceException"),
        ("skipped", "job status TimedOut"),
        ("succeeded", ""),
    ] == [(o.outcome, o.detail) for o in outcomes]
    assert [("Acme", "Deploy", EID)] == [(c.action.name, c.stage.name, c.execution_id) for c in handler.calls]


def test_continuation_tokens_complete_a_long_job_over_several_polls() -> None:
    """The handler returns a token twice, CodePipeline sends new jobs carrying it, the third reports variables."""
    steps = {None: "step-1", "step-1": "step-2"}
    seen: list[str | None] = []

    def long_handler(context: ActionContext) -> ActionResult:
        seen.append(context.continuation_token)
        if context.continuation_token in steps:
            return ActionResult(continuation_token=steps[context.continuation_token], summary=f"after {len(seen)}")
        return ActionResult(output_variables={"Result": "done"}, summary="finished")

    client = stubbed("codepipeline")
    with Stubber(client) as stub:
        for n, token in ((1, None), (2, "step-1"), (3, "step-2")):
            stub.add_response("poll_for_jobs", {"jobs": [job(jid(n), token=token)]}, POLL)
            ack(stub, jid(n))
            if n < 3:
                expected = {
                    "jobId": jid(n),
                    "continuationToken": steps[token],
                    "executionDetails": {"summary": f"after {n}"},
                }
            else:
                expected = {
                    "jobId": jid(n),
                    "executionDetails": {"summary": "finished"},
                    "outputVariables": {"Result": "done"},
                }
            stub.add_response("put_job_success_result", {}, expected)
        w = worker(client, long_handler)
        outcomes = [w.run_once()[0].outcome for _ in range(3)]
        stub.assert_no_pending_responses()

    assert ["continued", "continued", "succeeded"] == outcomes
    assert [None, "step-1", "step-2"] == seen


@pytest.mark.parametrize(
    ("error", "failure_type", "message"),
    [
        (
            ActionFailed(f"token {SECRET} was refused", failure_type=FailureType.PERMISSION_ERROR),
            "PermissionError",
            "token **** was refused",
        ),
        (
            ActionFailed("bad environment", failure_type=FailureType.CONFIGURATION_ERROR),
            "ConfigurationError",
            "bad environment",
        ),
        (RuntimeError(f"boom with {CREDS['secretAccessKey']}"), "JobFailed", "RuntimeError: boom with ****"),
        (ValueError("x" * 6000), "JobFailed", "ValueError: " + "x" * 4985 + "..."),
    ],
)
def test_failures_report_the_type_and_a_masked_truncated_message(
    error: Exception, failure_type: str, message: str
) -> None:
    """Handler errors become PutJobFailureResult with ActionFailed's type (else JobFailed), secrets masked, <= 5000 chars."""

    def failing(context: ActionContext) -> None:
        raise error

    client = stubbed("codepipeline")
    with Stubber(client) as stub:
        stub.add_response("poll_for_jobs", {"jobs": [job(jid(1))]}, POLL)
        ack(stub, jid(1))
        stub.add_response(
            "put_job_failure_result",
            {},
            {"jobId": jid(1), "failureDetails": {"type": failure_type, "message": message}},
        )
        outcomes = worker(client, failing).run_once()
        stub.assert_no_pending_responses()

    assert ["failed"] == [o.outcome for o in outcomes]
    assert 5000 >= len(message)


def test_queryable_type_needs_a_query_value() -> None:
    """A worker for a type with a queryable property must say which value it serves."""
    with pytest.raises(pw.AwsError, match="queryable property 'Environment'"):
        JobWorker(ACME, Recorder(), client=stubbed("codepipeline"))


def test_only_custom_types_can_be_served() -> None:
    """An AWS-owned action type is refused: PollForJobs serves Custom types only."""
    with pytest.raises(pw.AwsError, match="Custom action types only"):
        JobWorker(pw.ActionType(category="Build", provider="CodeBuild"), Recorder(), client=stubbed("codepipeline"))


def test_sigterm_stops_polling_and_lets_the_job_in_flight_finish() -> None:
    """SIGTERM during a running job: no further poll, the job completes and reports, serve() returns."""
    started, release = threading.Event(), threading.Event()
    finished: list[str] = []

    def slow(context: ActionContext) -> ActionResult:
        started.set()
        release.wait(10)
        finished.append(context.action.name)
        return ActionResult(summary="slow done")

    def terminate() -> None:
        started.wait(10)
        os.kill(os.getpid(), signal.SIGTERM)
        release.set()

    client = stubbed("codepipeline")
    previous = signal.getsignal(signal.SIGTERM)
    with Stubber(client) as stub:
        stub.add_response("poll_for_jobs", {"jobs": [job(jid(1))]}, {**POLL, "maxBatchSize": 1})
        ack(stub, jid(1))
        stub.add_response("put_job_success_result", {}, {"jobId": jid(1), "executionDetails": {"summary": "slow done"}})
        killer = threading.Thread(target=terminate)
        killer.start()
        worker(client, slow, max_workers=1, poll_interval=30).serve()
        killer.join()
        stub.assert_no_pending_responses()

    assert ["Acme"] == finished
    assert previous == signal.getsignal(signal.SIGTERM)


def test_revision_hook_fills_current_revision() -> None:
    """A source-like action reports currentRevision from the revision_of hook."""
    from pipeweaver.aws import Revision

    client = stubbed("codepipeline")
    with Stubber(client) as stub:
        stub.add_response("poll_for_jobs", {"jobs": [job(jid(1))]}, POLL)
        ack(stub, jid(1))
        stub.add_response(
            "put_job_success_result",
            {},
            {
                "jobId": jid(1),
                "currentRevision": {"revision": "v42", "changeIdentifier": "c-42", "revisionSummary": "tag v42"},
            },
        )
        hook = lambda context, result: Revision(revision="v42", change_identifier="c-42", summary="tag v42")  # noqa: E731
        outcomes = worker(client, Recorder(), revision_of=hook).run_once()
        stub.assert_no_pending_responses()

    assert ["succeeded"] == [o.outcome for o in outcomes]


def test_hostile_input_archive_fails_the_job_without_running_the_handler(s3: Any, tmp_path: Any) -> None:
    """An input zip with a `../` entry is refused: JobFailed naming the entry, the handler never runs, nothing escapes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("../../escape.txt", "owned")
    s3.put_object(Bucket="my-artifact-bucket", Key="evil", Body=buffer.getvalue())
    location = {"type": "S3", "s3Location": {"bucketName": "my-artifact-bucket", "objectKey": "evil"}}
    handler, client = Recorder(), stubbed("codepipeline")
    with Stubber(client) as stub:
        stub.add_response(
            "poll_for_jobs", {"jobs": [job(jid(1), inputArtifacts=[{"name": "In", "location": location}])]}, POLL
        )
        ack(stub, jid(1))
        stub.add_response("put_job_failure_result", {})
        outcomes = worker(client, handler, s3_client_factory=lambda _: s3, workdir=tmp_path).run_once()
        stub.assert_no_pending_responses()

    assert [("failed", True)] == [(o.outcome, "'../../escape.txt'" in o.detail) for o in outcomes]
    assert ([], []) == (handler.calls, list(tmp_path.rglob("escape.txt")))


def test_bare_action_type_takes_query_and_secret_names_explicitly() -> None:
    """With a plain ActionType, `Property=value` sets queryParam and secret_properties masks values."""
    bare = pw.ActionType(category="Deploy", owner="Custom", provider="AcmeDeploy", version="1")

    def leaky(context: ActionContext) -> None:
        raise ActionFailed(f"refused {context.configuration['ApiToken']}")

    client = stubbed("codepipeline")
    with Stubber(client) as stub:
        stub.add_response("poll_for_jobs", {"jobs": [job(jid(1))]}, POLL)
        ack(stub, jid(1))
        stub.add_response(
            "put_job_failure_result",
            {},
            {"jobId": jid(1), "failureDetails": {"type": "JobFailed", "message": "refused ****"}},
        )
        JobWorker(bare, leaky, client=client, query="Environment=prod", secret_properties=["ApiToken"]).run_once()
        stub.assert_no_pending_responses()

    with pytest.raises(pw.AwsError, match="write query='Property=value'"):
        JobWorker(bare, leaky, client=client, query="prod")


def test_jobs_of_one_batch_run_concurrently() -> None:
    """Four jobs delivered together run their handlers at the same time (a barrier of four is crossed)."""
    barrier = threading.Barrier(4, timeout=10)
    crossed: list[str] = []

    def together(context: ActionContext) -> None:
        barrier.wait()
        crossed.append(context.action.name)

    client = stubbed("codepipeline")
    with Stubber(client) as stub:
        stub.add_response("poll_for_jobs", {"jobs": [job(jid(n)) for n in range(4)]}, POLL)
        for _ in range(4):
            stub.add_response("acknowledge_job", {"status": "InProgress"})
        for _ in range(4):
            stub.add_response("put_job_success_result", {})
        outcomes = worker(client, together, max_workers=4).run_once()
        stub.assert_no_pending_responses()

    assert (["succeeded"] * 4, 4) == ([o.outcome for o in outcomes], len(crossed))


def test_continuation_token_limit_is_the_api_model_s() -> None:
    """The worker's limit for continuationToken is the one in botocore's service model for PutJobSuccessResult."""
    from botocore.loaders import Loader

    from pipeweaver.execution._base import CONTINUATION_TOKEN_LIMIT

    model = Loader().load_service_model("codepipeline", "service-2")
    member = model["shapes"]["PutJobSuccessResultInput"]["members"]["continuationToken"]["shape"]

    assert model["shapes"][member]["max"] == CONTINUATION_TOKEN_LIMIT


def test_an_overlong_continuation_token_fails_the_job_and_is_never_cut() -> None:
    """A token of 2,049 characters is reported with PutJobFailureResult naming the limit; one of 2,048 goes as it is."""
    tokens = iter(["x" * 2049, "y" * 2048])

    def handler(context: ActionContext) -> ActionResult:
        return ActionResult(continuation_token=next(tokens))

    client = stubbed("codepipeline")
    with Stubber(client) as stub:
        stub.add_response("poll_for_jobs", {"jobs": [job(jid(1))]}, POLL)
        ack(stub, jid(1))
        stub.add_response(
            "put_job_failure_result", {}, {"jobId": jid(1), "failureDetails": {"type": "JobFailed", "message": ANY}}
        )
        stub.add_response("poll_for_jobs", {"jobs": [job(jid(2))]}, POLL)
        ack(stub, jid(2))
        stub.add_response("put_job_success_result", {}, {"jobId": jid(2), "continuationToken": "y" * 2048})
        w = worker(client, handler)
        first, second = w.run_once()[0], w.run_once()[0]
        stub.assert_no_pending_responses()

    assert ("failed", "continued") == (first.outcome, second.outcome)
    assert "continuation token is 2049 characters, above CodePipeline's limit of 2048" in first.detail


def test_variables_returned_with_a_continuation_token_reach_the_final_result() -> None:
    """AWS refuses outputVariables beside a continuationToken: they ride in the token and are sent with the final result."""
    seen: list[str | None] = []
    sent: list[dict[str, Any]] = []
    results = {
        None: ActionResult(continuation_token="step-1", output_variables={"DeploymentId": "d-1", "Phase": "one"}),
        "step-1": ActionResult(continuation_token="step-2", output_variables={"Phase": "two", "Token": SECRET}),
        "step-2": ActionResult(output_variables={"Result": "done"}),
    }

    def long_handler(context: ActionContext) -> ActionResult:
        seen.append(context.continuation_token)
        return results[context.continuation_token]

    client = stubbed("codepipeline")
    client.meta.events.register(
        "before-parameter-build.codepipeline.PutJobSuccessResult", lambda params, **kw: sent.append(dict(params))
    )
    w = worker(client, long_handler)
    with Stubber(client) as stub:
        for n in (1, 2, 3):
            # CodePipeline hands the token it was given to the next job.
            token = sent[-1]["continuationToken"] if sent else None
            stub.add_response("poll_for_jobs", {"jobs": [job(jid(n), token=token)]}, POLL)
            ack(stub, jid(n))
            stub.add_response("put_job_success_result", {})
            w.run_once()
        stub.assert_no_pending_responses()

    assert [None, "step-1", "step-2"] == seen
    assert all("outputVariables" not in params for params in sent[:2])
    assert all(len(params["continuationToken"]) <= 2048 for params in sent[:2])
    assert "continuationToken" not in sent[2]
    assert {"DeploymentId": "d-1", "Phase": "two", "Token": "****", "Result": "done"} == sent[2]["outputVariables"]
    assert not any(SECRET in str(params) for params in sent)


def test_variables_too_large_to_ride_in_the_token_fail_the_job_with_a_clear_message() -> None:
    """Variables that would push the token past 2,048 characters fail the job naming them, never cut."""

    def handler(context: ActionContext) -> ActionResult:
        return ActionResult(continuation_token="step-1", output_variables={"Big": "v" * 2100})

    client = stubbed("codepipeline")
    with Stubber(client) as stub:
        stub.add_response("poll_for_jobs", {"jobs": [job(jid(1))]}, POLL)
        ack(stub, jid(1))
        stub.add_response(
            "put_job_failure_result", {}, {"jobId": jid(1), "failureDetails": {"type": "JobFailed", "message": ANY}}
        )
        (outcome,) = worker(client, handler).run_once()
        stub.assert_no_pending_responses()

    assert "failed" == outcome.outcome
    assert "output variables returned with it (['Big'])" in outcome.detail
    assert "return the variables with the final result" in outcome.detail


class Odd(BaseException):
    """A BaseException subclass that is no Exception."""


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (SystemExit(2), "the handler of Deploy/Acme raised SystemExit: 2"),
        (KeyboardInterrupt(), "the handler of Deploy/Acme raised KeyboardInterrupt"),
        (Odd(f"odd {SECRET}"), "the handler of Deploy/Acme raised Odd: odd ****"),
    ],
    ids=["SystemExit", "KeyboardInterrupt", "BaseException"],
)
def test_a_handler_raising_a_base_exception_fails_the_job_and_the_worker_serves_on(
    error: BaseException, message: str
) -> None:
    """SystemExit, KeyboardInterrupt or any BaseException: PutJobFailureResult naming it, then the next job is served."""
    handled: list[str] = []
    w: JobWorker

    def handler(context: ActionContext) -> ActionResult:
        handled.append(context.execution_id)
        if len(handled) == 1:
            raise error
        w.stop()
        return ActionResult(summary="second")

    client = stubbed("codepipeline")
    w = worker(client, handler, max_workers=1, poll_interval=0.01)
    with Stubber(client) as stub:
        stub.add_response("poll_for_jobs", {"jobs": [job(jid(1))]}, {**POLL, "maxBatchSize": 1})
        ack(stub, jid(1))
        stub.add_response(
            "put_job_failure_result", {}, {"jobId": jid(1), "failureDetails": {"type": "JobFailed", "message": message}}
        )
        stub.add_response("poll_for_jobs", {"jobs": [job(jid(2))]}, {**POLL, "maxBatchSize": 1})
        ack(stub, jid(2))
        stub.add_response("put_job_success_result", {}, {"jobId": jid(2), "executionDetails": {"summary": "second"}})
        guard = threading.Timer(10, w.stop)  # the old worker never got to the second job
        guard.start()
        try:
            w.serve(install_signal_handlers=False)
        finally:
            guard.cancel()
        stub.assert_no_pending_responses()

    assert 2 == len(handled)


def test_a_keyboard_interrupt_in_handle_on_the_main_thread_is_reported_then_passed_on() -> None:
    """handle() called on the main thread reports the job failed, then lets KeyboardInterrupt stop the caller."""

    def handler(context: ActionContext) -> None:
        raise KeyboardInterrupt

    client = stubbed("codepipeline")
    with Stubber(client) as stub:
        ack(stub, jid(1))
        stub.add_response(
            "put_job_failure_result",
            {},
            {
                "jobId": jid(1),
                "failureDetails": {
                    "type": "JobFailed",
                    "message": "the handler of Deploy/Acme raised KeyboardInterrupt",
                },
            },
        )
        with pytest.raises(KeyboardInterrupt):
            worker(client, handler).handle(job(jid(1)))
        stub.assert_no_pending_responses()
