"""CodePipelineExecutor against scripted CodePipeline responses (botocore Stubber checks every request)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import Stubber

import pipeweaver as pw
from pipeweaver.aws import Backoff, CodePipelineExecutor
from pipeweaver.execution import (
    ActionFinished,
    ActionStarted,
    ActionStatus,
    ApprovalRequested,
    Event,
    ExecutionFinished,
    ExecutionStarted,
    ExecutionStatus,
    StageFinished,
    StageStarted,
    StageStatus,
)
from pipeweaver.synth import to_codepipeline

from .conftest import stubbed

EID = "3137f7cb-7cf7-4b4c-a1e1-4a6e5b5f0a11"
TOKEN = "8a1b4c2d-1111-2222-3333-444455556666"
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(name="release")
def _release() -> pw.Pipeline:
    src = pw.Artifact("SourceOutput")
    return pw.Pipeline(
        name="rel",
        role_arn="arn:aws:iam::123456789012:role/PipelineRole",
        artifact_store=pw.ArtifactStore(location="my-artifact-bucket"),
        stages=[
            pw.Stage(
                name="Source",
                actions=[
                    pw.Action(
                        name="Source",
                        action_type=pw.ActionType(category="Source", provider="CodeStarSourceConnection"),
                        configuration={
                            "ConnectionArn": "arn:aws:codeconnections:us-east-1:123456789012:connection/abc",
                            "FullRepositoryId": "acme/web",
                            "BranchName": "main",
                        },
                        outputs=[src],
                        namespace="SourceVariables",
                    )
                ],
            ),
            pw.Stage(
                name="Approval",
                actions=[
                    pw.Action(
                        name="Approve",
                        action_type=pw.ActionType(category="Approval", provider="Manual"),
                        configuration={"CustomData": "Ship #{SourceVariables.CommitId}?"},
                    )
                ],
            ),
            pw.Stage(
                name="Deploy",
                actions=[
                    pw.Action(
                        name="Deploy",
                        action_type=pw.ActionType(category="Deploy", provider="CodeDeploy"),
                        configuration={"ApplicationName": "web", "DeploymentGroupName": "prod"},
                        inputs=[src],
                    )
                ],
            ),
        ],
    )


def execution(status: str, summary: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "pipelineName": "rel",
        "pipelineVersion": 1,
        "pipelineExecutionId": EID,
        "status": status,
        "trigger": {"triggerType": "StartPipelineExecution", "triggerDetail": "arn:aws:iam::123456789012:user/alice"},
        "variables": [{"name": "env", "resolvedValue": "prod"}],
        "executionType": "STANDARD",
    }
    if summary:
        body["statusSummary"] = summary
    return {"pipelineExecution": body}


def action(stage: str, name: str, status: str, minute: int, **output: Any) -> dict[str, Any]:
    return {
        "pipelineExecutionId": EID,
        "actionExecutionId": f"{name.lower()}-{minute}",
        "pipelineVersion": 1,
        "stageName": stage,
        "actionName": name,
        "startTime": T0 + timedelta(minutes=minute),
        "lastUpdateTime": T0 + timedelta(minutes=minute + 1),
        "status": status,
        "input": {"resolvedConfiguration": {"Branch": "main"}},
        "output": output,
    }


SOURCE_DONE = action(
    "Source",
    "Source",
    "Succeeded",
    0,
    outputArtifacts=[
        {"name": "SourceOutput", "s3location": {"bucket": "my-artifact-bucket", "key": "rel/SourceOutp/a1b2c3d"}}
    ],
    executionResult={"externalExecutionId": "abc123", "externalExecutionSummary": "Fix the thing"},
    outputVariables={"CommitId": "abc123", "BranchName": "main"},
)


def state(approval: str, token: bool, deploy: str | None = None) -> dict[str, Any]:
    approve_latest: dict[str, Any] = {"status": approval}
    if token:
        approve_latest["token"] = TOKEN
    stages: list[dict[str, Any]] = [
        {"stageName": "Source", "latestExecution": {"pipelineExecutionId": EID, "status": "Succeeded"}},
        {
            "stageName": "Approval",
            "latestExecution": {"pipelineExecutionId": EID, "status": approval},
            "actionStates": [{"actionName": "Approve", "latestExecution": approve_latest}],
        },
    ]
    if deploy:
        stages.append({"stageName": "Deploy", "latestExecution": {"pipelineExecutionId": EID, "status": deploy}})
    return {"pipelineName": "rel", "pipelineVersion": 1, "stageStates": stages}


def script_poll(stub: Stubber, exec_status: str, actions: list[dict[str, Any]], pipeline_state: dict[str, Any]) -> None:
    stub.add_response(
        "get_pipeline_execution", execution(exec_status), {"pipelineName": "rel", "pipelineExecutionId": EID}
    )
    stub.add_response(
        "list_action_executions",
        {"actionExecutionDetails": actions},
        {"pipelineName": "rel", "filter": {"pipelineExecutionId": EID}},
    )
    stub.add_response("get_pipeline_state", pipeline_state, {"name": "rel"})


def script_start(stub: Stubber, **extra: Any) -> None:
    stub.add_response("start_pipeline_execution", {"pipelineExecutionId": EID}, {"name": "rel", **extra})


def approval_call(status: str, summary: str) -> dict[str, Any]:
    return {
        "pipelineName": "rel",
        "stageName": "Approval",
        "actionName": "Approve",
        "token": TOKEN,
        "result": {"summary": summary, "status": status},
    }


class FakeTime:
    """A clock that moves only when the executor sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def executor(client: Any, events: list[Event], time: FakeTime, **kwargs: Any) -> CodePipelineExecutor:
    return CodePipelineExecutor(
        client, deploy=False, observers=[events.append], sleep=time.sleep, clock=time.clock, **kwargs
    )


def test_approved_execution_maps_to_a_succeeded_record(release: pw.Pipeline) -> None:
    """InProgress -> approval (answered by policy) -> Succeeded gives the same record and events as a local run."""
    client, events, time = stubbed("codepipeline"), [], FakeTime()
    with Stubber(client) as stub:
        script_start(
            stub,
            clientRequestToken="tok-1",
            variables=[{"name": "env", "value": "prod"}],
            sourceRevisions=[{"actionName": "Source", "revisionType": "COMMIT_ID", "revisionValue": "abc123"}],
        )
        script_poll(
            stub, "InProgress", [SOURCE_DONE, action("Approval", "Approve", "InProgress", 2)], state("InProgress", True)
        )
        stub.add_response(
            "put_approval_result", {"approvedAt": T0}, approval_call("Approved", "answered by pipeweaver policy")
        )
        done = [
            SOURCE_DONE,
            action("Approval", "Approve", "Succeeded", 2, executionResult={"externalExecutionSummary": "ok"}),
            action("Deploy", "Deploy", "Succeeded", 4, executionResult={"externalExecutionId": "d-ABCDEF123"}),
        ]
        script_poll(stub, "Succeeded", done, state("Succeeded", False, "Succeeded"))

        record = executor(client, events, time, approval="approve").run(
            release, variables={"env": "prod"}, source_revisions={"Source": "abc123"}, client_request_token="tok-1"
        )
        stub.assert_no_pending_responses()

    assert ExecutionStatus.SUCCEEDED == record.status
    assert [
        ("Source", StageStatus.SUCCEEDED),
        ("Approval", StageStatus.SUCCEEDED),
        ("Deploy", StageStatus.SUCCEEDED),
    ] == [(s.name, s.status) for s in record.stages]
    source = record.action("Source", "Source")
    assert ({"CommitId": "abc123", "BranchName": "main"}, "Fix the thing", "abc123") == (
        dict(source.output_variables),
        source.summary,
        source.external_execution_id,
    )
    assert "d-ABCDEF123" == record.action("Deploy", "Deploy").external_execution_id
    assert "s3://my-artifact-bucket/rel/SourceOutp/a1b2c3d" == record.artifacts["SourceOutput"].uri
    assert ({"env": "prod"}, "StartPipelineExecution") == (dict(record.variables), record.trigger.trigger_type)
    assert (T0, T0 + timedelta(minutes=5)) == (record.started_at, record.ended_at)
    assert [2.0] == time.sleeps
    kinds = [type(e).__name__ for e in events]
    assert [
        "ExecutionStarted",
        "StageStarted",
        "ActionStarted",
        "ActionFinished",
        "StageFinished",
        "StageStarted",
        "ActionStarted",
        "ApprovalRequested",
        "ActionFinished",
        "StageFinished",
        "StageStarted",
        "ActionStarted",
        "ActionFinished",
        "StageFinished",
        "ExecutionFinished",
    ] == kinds
    assert ("ExecutionStarted", "ExecutionFinished") == (kinds[0], kinds[-1])
    assert 1 == kinds.count("ApprovalRequested")
    request = next(e for e in events if isinstance(e, ApprovalRequested))
    assert (TOKEN, "Ship #{SourceVariables.CommitId}?") == (request.token, request.custom_data)
    assert {"Source", "Approval", "Deploy"} == {e.stage for e in events if isinstance(e, StageFinished)}
    assert 3 == sum(isinstance(e, ActionStarted) for e in events) == sum(isinstance(e, ActionFinished) for e in events)
    assert record == next(e for e in events if isinstance(e, ExecutionFinished)).execution


@pytest.mark.parametrize(
    ("answer", "summary"),
    [(False, "answered by pipeweaver policy"), ((False, "not on a Friday"), "not on a Friday")],
    ids=["bool", "with-summary"],
)
def test_rejected_approval_fails_the_execution(release: pw.Pipeline, answer: Any, summary: str) -> None:
    """A rejection (by policy callable, with or without its reason) fails the approval action, its stage and the execution."""
    client, events, time = stubbed("codepipeline"), [], FakeTime()
    with Stubber(client) as stub:
        script_start(stub, clientRequestToken="tok-2")
        script_poll(
            stub, "InProgress", [SOURCE_DONE, action("Approval", "Approve", "InProgress", 2)], state("InProgress", True)
        )
        stub.add_response("put_approval_result", {"approvedAt": T0}, approval_call("Rejected", summary))
        rejected = action(
            "Approval",
            "Approve",
            "Failed",
            2,
            executionResult={"errorDetails": {"code": "JobFailed", "message": "Rejected by alice: not today"}},
        )
        stub.add_response(
            "get_pipeline_execution",
            execution("Failed", "Rejected by alice: not today"),
            {"pipelineName": "rel", "pipelineExecutionId": EID},
        )
        stub.add_response(
            "list_action_executions",
            {"actionExecutionDetails": [SOURCE_DONE, rejected]},
            {"pipelineName": "rel", "filter": {"pipelineExecutionId": EID}},
        )
        stub.add_response("get_pipeline_state", state("Failed", False), {"name": "rel"})

        asked: list[ApprovalRequested] = []
        record = executor(client, events, time, approval=lambda r: asked.append(r) or answer).run(
            release, client_request_token="tok-2"
        )
        stub.assert_no_pending_responses()

    assert (ExecutionStatus.FAILED, "Rejected by alice: not today") == (record.status, record.status_summary)
    assert (StageStatus.FAILED, "Rejected by alice: not today") == (
        record.stage("Approval").status,
        record.stage("Approval").error,
    )
    assert ActionStatus.FAILED == record.action("Approval", "Approve").status
    assert not record.ran("Deploy", "Deploy")
    assert [("Approval", "Approve")] == [(r.stage, r.action) for r in asked]
    assert ExecutionStatus.FAILED == next(e for e in events if isinstance(e, ExecutionFinished)).status


def test_wait_backs_off_and_times_out_then_approve_reads_the_token(release: pw.Pipeline) -> None:
    """With no policy, wait() backs off (2, 3, 4.5, then the rest of the timeout); approve() uses GetPipelineState's token."""
    client, events, time = stubbed("codepipeline"), [], FakeTime()
    waiting = [SOURCE_DONE, action("Approval", "Approve", "InProgress", 2)]
    with Stubber(client) as stub:
        script_start(stub, clientRequestToken="tok-3")
        for _ in range(5):
            script_poll(stub, "InProgress", waiting, state("InProgress", True))
        stub.add_response("get_pipeline_state", state("InProgress", True), {"name": "rel"})
        stub.add_response("put_approval_result", {"approvedAt": T0}, approval_call("Approved", "ship it (by alice)"))

        handle = executor(client, events, time).start(release, client_request_token="tok-3")
        record = handle.wait(timeout=10)
        handle.approve("Approval", "Approve", "ship it", by="alice")
        stub.assert_no_pending_responses()

    assert ExecutionStatus.IN_PROGRESS == record.status
    assert [2.0, 3.0, 4.5, 0.5] == time.sleeps
    assert 1 == sum(isinstance(e, ApprovalRequested) for e in events)
    assert [StageStarted, StageFinished] == [type(e) for e in events if isinstance(e, StageStarted | StageFinished)][:2]


def test_stop_and_retry_send_the_execution_id(release: pw.Pipeline) -> None:
    """stop(abandon=True) and retry() send StopPipelineExecution and RetryStageExecution for this execution."""
    client, events, time = stubbed("codepipeline"), [], FakeTime()
    with Stubber(client) as stub:
        script_start(stub, clientRequestToken="tok-4")
        stub.add_response(
            "stop_pipeline_execution",
            {"pipelineExecutionId": EID},
            {"pipelineName": "rel", "pipelineExecutionId": EID, "abandon": True, "reason": "bad deploy"},
        )
        stub.add_response(
            "retry_stage_execution",
            {"pipelineExecutionId": EID},
            {"pipelineName": "rel", "stageName": "Deploy", "pipelineExecutionId": EID, "retryMode": "ALL_ACTIONS"},
        )

        handle = executor(client, events, time).start(release, client_request_token="tok-4")
        handle.stop(abandon=True, reason="bad deploy")
        handle.retry("Deploy", mode="ALL_ACTIONS")
        stub.assert_no_pending_responses()

    assert [ExecutionStarted] == [type(e) for e in events]


def test_approve_refuses_a_stage_running_another_execution(release: pw.Pipeline) -> None:
    """Approving from a handle whose execution no longer holds the stage raises ExecutionError, sending nothing."""
    client, time = stubbed("codepipeline"), FakeTime()
    other = state("InProgress", True)
    other["stageStates"][1]["latestExecution"]["pipelineExecutionId"] = "00000000-0000-0000-0000-000000000000"
    with Stubber(client) as stub:
        script_start(stub, clientRequestToken="tok-5")
        stub.add_response("get_pipeline_state", other, {"name": "rel"})
        handle = executor(client, [], time).start(release, client_request_token="tok-5")

        with pytest.raises(pw.ExecutionError, match="is not running execution"):
            handle.approve("Approval", "Approve")
        stub.assert_no_pending_responses()


def test_deploys_first_and_skips_the_update_when_live_matches(release: pw.Pipeline) -> None:
    """With deploy=True an unchanged live pipeline gets no UpdatePipeline before the start."""
    client, time = stubbed("codepipeline"), FakeTime()
    live = {
        "pipeline": {**to_codepipeline(release), "version": 7},
        "metadata": {"pipelineArn": "arn:aws:codepipeline:us-east-1:123456789012:rel"},
    }
    with Stubber(client) as stub:
        stub.add_response("get_pipeline", live, {"name": "rel"})
        script_start(stub, clientRequestToken="tok-6")
        handle = CodePipelineExecutor(client, sleep=time.sleep, clock=time.clock).start(
            release, client_request_token="tok-6"
        )
        stub.assert_no_pending_responses()

    assert EID == handle.id


def test_throttled_poll_is_retried_after_backoff(release: pw.Pipeline) -> None:
    """A ThrottlingException while polling counts as "no change" and the next poll proceeds."""
    client, time = stubbed("codepipeline"), FakeTime()
    done = [SOURCE_DONE, action("Approval", "Approve", "Succeeded", 2), action("Deploy", "Deploy", "Succeeded", 4)]
    with Stubber(client) as stub:
        script_start(stub, clientRequestToken="tok-7")
        stub.add_client_error("get_pipeline_execution", "ThrottlingException", "Rate exceeded")
        script_poll(stub, "Succeeded", done, state("Succeeded", False, "Succeeded"))
        record = executor(client, [], time, poll=Backoff(initial=1.0)).run(release, client_request_token="tok-7")
        stub.assert_no_pending_responses()

    assert (ExecutionStatus.SUCCEEDED, [1.5]) == (record.status, time.sleeps)


def test_s3_object_key_revision_type_can_be_chosen(release: pw.Pipeline) -> None:
    """`TYPE:value` picks the revision type; otherwise a git source gets COMMIT_ID."""
    from pipeweaver.aws._executor import source_revisions_param

    assert [
        {"actionName": "Source", "revisionType": "S3_OBJECT_KEY", "revisionValue": "app/v2.zip"},
        {"actionName": "Other", "revisionType": "COMMIT_ID", "revisionValue": "deadbeef"},
    ] == source_revisions_param(release, {"Source": "S3_OBJECT_KEY:app/v2.zip", "Other": "deadbeef"})


def test_stage_condition_rules_are_recorded(release: pw.Pipeline) -> None:
    """Rule states of this execution's stage conditions (GetPipelineState) land in Execution.rules."""
    client, time = stubbed("codepipeline"), FakeTime()
    done = [SOURCE_DONE, action("Approval", "Approve", "Succeeded", 2), action("Deploy", "Deploy", "Succeeded", 4)]
    with_rules = state("Succeeded", False, "Succeeded")
    with_rules["stageStates"][2]["beforeEntryConditionState"] = {
        "latestExecution": {"status": "Succeeded", "summary": "all rules passed"},
        "conditionStates": [
            {
                "latestExecution": {"status": "Succeeded", "lastStatusChange": T0},
                "ruleStates": [
                    {
                        "ruleName": "BranchIsMain",
                        "latestExecution": {"status": "Succeeded", "summary": "main EQ main", "lastStatusChange": T0},
                    }
                ],
            }
        ],
    }
    with Stubber(client) as stub:
        script_start(stub, clientRequestToken="tok-8")
        script_poll(stub, "Succeeded", done, with_rules)
        record = executor(client, [], time).run(release, client_request_token="tok-8")
        stub.assert_no_pending_responses()

    assert [("Deploy", "BEFORE_ENTRY", "BranchIsMain", "Succeeded", "main EQ main", T0)] == [
        (r.stage, r.condition, r.name, r.status, r.summary, r.at) for r in record.rules
    ]


def test_prompt_is_refused_on_aws() -> None:
    """The one ApprovalPolicy's ``"prompt"`` needs a terminal the AWS executor never watches: refused at construction."""
    with pytest.raises(ValueError, match="'wait', None or a callable"):
        CodePipelineExecutor(stubbed("codepipeline"), approval="prompt")


def test_override_stage_condition_sends_the_execution_id(release: pw.Pipeline) -> None:
    """override_stage_condition() sends OverrideStageCondition for this execution, from the executor and the handle."""
    client, events, time = stubbed("codepipeline"), [], FakeTime()
    expected = {"pipelineName": "rel", "stageName": "Deploy", "pipelineExecutionId": EID}
    with Stubber(client) as stub:
        script_start(stub, clientRequestToken="tok-9")
        stub.add_response("override_stage_condition", {}, {**expected, "conditionType": "BEFORE_ENTRY"})
        stub.add_response("override_stage_condition", {}, {**expected, "conditionType": "ON_SUCCESS"})

        x = executor(client, events, time)
        handle = x.start(release, client_request_token="tok-9")
        followed = x.override_stage_condition(EID, "Deploy", "BEFORE_ENTRY")
        handle.override_stage_condition("Deploy", "ON_SUCCESS")
        stub.assert_no_pending_responses()

    assert followed is handle
