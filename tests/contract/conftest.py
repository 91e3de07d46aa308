"""The contract suite's two backends: the same test drives LocalExecutor and CodePipelineExecutor.

``backend.start(pipeline, script, variables)`` starts an execution through the executor's
public API and returns its handle; the test then reads the :class:`Execution` from the handle
or through the :class:`Executor` protocol, the same way for both backends.

* ``local``: a LocalExecutor whose handlers act out *script* (testing.fake).
* ``codepipeline``: a CodePipelineExecutor whose client is moto (in-process) for what moto
  implements (CreatePipeline, GetPipeline, StartPipelineExecution, ListPipelineExecutions)
  and a botocore Stubber for what it does not (GetPipelineExecution, ListActionExecutions,
  GetPipelineState, PutApprovalResult, StopPipelineExecution, RetryStageExecution). The
  stubbed responses are CodePipeline's report of *script* acted out with CodePipeline's
  semantics: stages in order, actions by run order, a failed action fails its stage after its
  run order finishes, later stages never start. The Stubber checks every request and every
  response against botocore's service model, so both sides speak the real API.

No test needs an AWS account or the network: fake credentials, moto, and Stubber.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol

import attrs
import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

import pipeweaver as pw
from pipeweaver.aws import Backoff, CodePipelineExecutor
from pipeweaver.execution import (
    ActionContext,
    ActionHandler,
    ActionResult,
    Execution,
    ExecutionHandle,
    Executor,
    LocalExecutor,
)
from pipeweaver.testing import fake

REGION = "us-east-1"
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "codepipeline.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


@attrs.frozen(kw_only=True)
class Outcome:
    """
    How one action ends: with *variables* and *summary*, or failed with the message *fail*.

    With *fail_attempts*, only attempts up to that number fail (a retry then succeeds).
    """

    fail: str | None = None
    fail_attempts: int | None = None
    summary: str = "done"
    variables: Mapping[str, str] = attrs.field(factory=dict)

    def fails(self, attempt: int) -> bool:
        """Whether attempt number *attempt* of the action fails."""
        return self.fail is not None and (self.fail_attempts is None or attempt <= self.fail_attempts)


#: "Stage/Action" -> its outcome; actions not named succeed with nothing to report.
Script = Mapping[str, Outcome]


class Backend(Protocol):
    """One executor under contract, with what the test needs to drive it the same way."""

    name: str
    executor: Executor

    def start(
        self,
        pipeline: pw.Pipeline,
        script: Script,
        variables: Mapping[str, str] | None = None,
        *,
        approvals: Literal["approve", "wait"] = "approve",
    ) -> ExecutionHandle:
        """Start an execution through the executor; approvals are answered by policy or left waiting."""
        ...

    def retry(self, execution_id: str, stage: str) -> ExecutionHandle:
        """``executor.retry(execution_id, stage)`` (CodePipeline: once its answers are queued)."""
        ...

    def approve(self, execution_id: str, stage: str, action: str, summary: str, by: str) -> None:
        """``executor.approve(...)`` of a waiting approval (CodePipeline: once its answers are queued)."""
        ...

    def stop(self, execution_id: str, reason: str) -> None:
        """``executor.stop(execution_id, abandon=True, reason=...)`` (CodePipeline: once its answers are queued)."""
        ...


# -- local -------------------------------------------------------------------------------------


def _acting(outcome: Outcome) -> ActionHandler:
    # Exactly the scripted variables, as the scripted AWS side reports them (no stand-ins).
    succeed = fake(summary=outcome.summary, variables=outcome.variables, documented_variables=False)
    fail = fake(fail=outcome.fail)

    def handler(context: ActionContext) -> ActionResult | None:
        return (fail if outcome.fails(context.attempt) else succeed)(context)

    return handler


class LocalBackend:
    name = "local"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._executor: LocalExecutor | None = None

    @property
    def executor(self) -> LocalExecutor:
        assert self._executor is not None, "start an execution first"
        return self._executor

    def start(
        self,
        pipeline: pw.Pipeline,
        script: Script,
        variables: Mapping[str, str] | None = None,
        *,
        approvals: Literal["approve", "wait"] = "approve",
    ) -> ExecutionHandle:
        handlers: dict[Any, ActionHandler] = {}
        for stage, action in pipeline.actions():
            if action.category != "Approval":
                handlers[f"{stage.name}/{action.name}"] = _acting(script.get(f"{stage.name}/{action.name}", Outcome()))
        self.close()
        self._executor = LocalExecutor(self.workdir, handlers=handlers, approval=approvals)
        return self._executor.start(pipeline, variables=variables)

    def retry(self, execution_id: str, stage: str) -> ExecutionHandle:
        return self.executor.retry(execution_id, stage)

    def approve(self, execution_id: str, stage: str, action: str, summary: str, by: str) -> None:
        self.executor.approve(execution_id, stage, action, summary, by=by)

    def stop(self, execution_id: str, reason: str) -> None:
        self.executor.stop(execution_id, abandon=True, reason=reason)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.close()


# -- CodePipeline (moto + Stubber) -----------------------------------------------------------------

#: What CodePipelineExecutor sends with PutApprovalResult when its policy answers.
POLICY_SUMMARY = "answered by pipeweaver policy"

#: What moto lacks or answers without knowing the scenario: these go to the Stubber.
STUBBED = frozenset(
    {
        "get_pipeline_execution",
        "list_action_executions",
        "get_pipeline_state",
        "put_approval_result",
        "stop_pipeline_execution",
        "retry_stage_execution",
    }
)


class SplitClient:
    """A CodePipeline client: moto for what it implements, a stubbed client for the rest."""

    def __init__(self, moto_client: Any, stub_client: Any) -> None:
        self._moto = moto_client
        self._stub = stub_client
        self.meta = moto_client.meta
        self.exceptions = moto_client.exceptions

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stub if name in STUBBED else self._moto, name)


@attrs.define(kw_only=True)
class _Ran:
    """One action execution as CodePipeline reports it."""

    stage: str
    action: pw.Action
    attempt: int
    status: str
    at: datetime
    summary: str | None = None
    error: str | None = None
    variables: Mapping[str, str] = attrs.field(factory=dict)


@attrs.define
class _World:
    """CodePipeline's side of one execution: what ran, each stage's status and manual retries."""

    pipeline: pw.Pipeline
    script: Script
    execution_id: str
    variables: Mapping[str, str]
    ran: list[_Ran] = attrs.field(factory=list)
    stages: dict[str, str] = attrs.field(factory=dict)
    retries: dict[str, int] = attrs.field(factory=dict)
    stopped: bool = False
    clock: Iterator[datetime] = attrs.field(factory=lambda: (T0 + timedelta(seconds=i) for i in range(10_000)))

    @property
    def name(self) -> str:
        return str(self.pipeline.name)

    @property
    def status(self) -> str:
        if self.stopped:
            return "Stopped"
        if any(r.status == "InProgress" for r in self.ran):
            return "InProgress"
        return "Failed" if "Failed" in self.stages.values() else "Succeeded"

    def act_out(self, first: int = 0, only: frozenset[str] | None = None) -> None:
        """Run the stages from index *first* (in it, only the actions *only*), stopping at a failure or an approval."""
        for index, stage in enumerate(self.pipeline.stages[first:], start=first):
            failed = False
            for order in sorted({a.run_order or 1 for a in stage.actions}):
                for action in (a for a in stage.actions if (a.run_order or 1) == order):
                    if index == first and only is not None and action.name not in only:
                        continue
                    attempt = 1 + sum(1 for r in self.ran if (r.stage, r.action.name) == (stage.name, action.name))
                    outcome = self.script.get(f"{stage.name}/{action.name}", Outcome())
                    at = next(self.clock)
                    if action.category == "Approval":
                        self.ran.append(
                            _Ran(stage=stage.name, action=action, attempt=attempt, status="InProgress", at=at)
                        )
                        self.stages[stage.name] = "InProgress"
                        return
                    if outcome.fails(attempt):
                        failed = True
                        self.ran.append(
                            _Ran(
                                stage=stage.name,
                                action=action,
                                attempt=attempt,
                                status="Failed",
                                at=at,
                                error=outcome.fail,
                            )
                        )
                    else:
                        self.ran.append(
                            _Ran(
                                stage=stage.name,
                                action=action,
                                attempt=attempt,
                                status="Succeeded",
                                at=at,
                                summary=outcome.summary,
                                variables=outcome.variables,
                            )
                        )
                if failed:
                    break
            self.stages[stage.name] = "Failed" if failed else "Succeeded"
            if failed:
                return

    def decide(self, summary: str) -> None:
        """The waiting approval was approved with *summary*; the execution carries on."""
        waiting = next(r for r in self.ran if r.status == "InProgress")
        waiting.status, waiting.summary = "Succeeded", summary
        self.stages[waiting.stage] = "Succeeded"
        index = [s.name for s in self.pipeline.stages].index(waiting.stage)
        stage = self.pipeline.stages[index]
        rest = frozenset(a.name for a in stage.actions if not any(r.action is a for r in self.ran))
        if rest:
            self.act_out(index, rest)
        else:
            self.act_out(index + 1)

    def retry(self, stage: str) -> None:
        """RetryStageExecution with FAILED_ACTIONS: the stage's failed actions run again, then the rest."""
        failed = frozenset(r.action.name for r in self.ran if r.stage == stage and r.status == "Failed")
        self.retries[stage] = self.retries.get(stage, 0) + 1
        self.act_out([s.name for s in self.pipeline.stages].index(stage), failed)

    def stop(self) -> None:
        """StopPipelineExecution with abandon: what runs is abandoned, its stage stopped."""
        self.stopped = True
        for r in self.ran:
            if r.status == "InProgress":
                r.status = "Abandoned"
                self.stages[r.stage] = "Stopped"

    def waiting(self) -> _Ran | None:
        return next((r for r in self.ran if r.status == "InProgress" and r.action.category == "Approval"), None)

    def token(self) -> str:
        waiting = self.waiting()
        assert waiting is not None
        return f"token-{waiting.stage}-{waiting.action.name}-{len(self.ran)}"

    # -- the three answers of one poll -----------------------------------------------------

    def execution(self) -> dict[str, Any]:
        return {
            "pipelineExecution": {
                "pipelineName": self.name,
                "pipelineVersion": 1,
                "pipelineExecutionId": self.execution_id,
                "status": self.status,
                "variables": [{"name": k, "resolvedValue": v} for k, v in self.variables.items()],
                "trigger": {"triggerType": "StartPipelineExecution", "triggerDetail": ""},
                "executionMode": str(self.pipeline.effective_execution_mode),
                "executionType": "STANDARD",
            }
        }

    def action_executions(self) -> dict[str, Any]:
        details = []
        for i, r in enumerate(self.ran):
            output: dict[str, Any] = {}
            if r.status != "InProgress":
                result: dict[str, Any] = {}
                if r.summary is not None:
                    result["externalExecutionSummary"] = r.summary
                if r.error is not None:
                    result["errorDetails"] = {"code": "JobFailed", "message": r.error}
                output = {"outputArtifacts": [], "outputVariables": dict(r.variables), "executionResult": result}
            details.append(
                {
                    "pipelineExecutionId": self.execution_id,
                    "actionExecutionId": f"{self.execution_id[:8]}-{i}",
                    "pipelineVersion": 1,
                    "stageName": r.stage,
                    "actionName": r.action.name,
                    "startTime": r.at,
                    "lastUpdateTime": r.at + timedelta(milliseconds=500),
                    "status": r.status,
                    "input": {
                        "actionTypeId": {
                            "category": str(r.action.action_type.category),
                            "owner": str(r.action.action_type.owner),
                            "provider": r.action.action_type.provider,
                            "version": r.action.action_type.version,
                        },
                        "resolvedConfiguration": {k: str(v) for k, v in r.action.configuration.items()},
                    },
                    "output": output,
                }
            )
        return {"actionExecutionDetails": details}

    def state(self) -> dict[str, Any]:
        stage_states: list[dict[str, Any]] = []
        for stage in self.pipeline.stages:
            mine = [r for r in self.ran if r.stage == stage.name]
            entry: dict[str, Any] = {"stageName": stage.name, "actionStates": []}
            if mine:
                entry["latestExecution"] = {"pipelineExecutionId": self.execution_id, "status": self.stages[stage.name]}
                for r in mine:
                    latest: dict[str, Any] = {"status": r.status}
                    if r is self.waiting():
                        latest["token"] = self.token()
                    entry["actionStates"].append({"actionName": r.action.name, "latestExecution": latest})
                if stage.name in self.retries:
                    entry["retryStageMetadata"] = {
                        "manualStageRetryAttempt": self.retries[stage.name],
                        "latestRetryTrigger": "ManualStageRetry",
                    }
            stage_states.append(entry)
        return {"pipelineName": self.name, "pipelineVersion": 1, "stageStates": stage_states}


class CodePipelineBackend:
    name = "codepipeline"

    def __init__(self, role_arn: str) -> None:
        self.role_arn = role_arn
        moto_client = boto3.client("codepipeline", region_name=REGION)
        self.stub_client = boto3.client(
            "codepipeline", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        self.stubber = Stubber(self.stub_client)
        self.stubber.activate()
        self.client = SplitClient(moto_client, self.stub_client)
        self.worlds: dict[str, _World] = {}
        self.executor = self._executor("approve")

    def _executor(self, approvals: Literal["approve", "wait"]) -> CodePipelineExecutor:
        return CodePipelineExecutor(
            self.client,  # type: ignore[arg-type]
            poll=Backoff(initial=0.0, maximum=0.0),
            approval="approve" if approvals == "approve" else None,
            sleep=lambda _seconds: None,
        )

    def start(
        self,
        pipeline: pw.Pipeline,
        script: Script,
        variables: Mapping[str, str] | None = None,
        *,
        approvals: Literal["approve", "wait"] = "approve",
    ) -> ExecutionHandle:
        pipeline = attrs.evolve(pipeline, role_arn=self.role_arn)
        self.executor = self._executor(approvals)
        handle = self.executor.start(pipeline, variables=variables)
        # GetPipelineExecution lists every variable the execution resolved, defaults included.
        resolved = {str(v.name): str(v.default_value) for v in pipeline.variables if v.default_value is not None}
        world = _World(pipeline, script, handle.id, {**resolved, **(variables or {})})
        self.worlds[handle.id] = world
        world.act_out()
        while approvals == "approve" and world.waiting() is not None:
            # One poll sees the approval waiting; the executor's policy answers it.
            self.queue_poll(world)
            self.stubber.add_response(
                "put_approval_result",
                {"approvedAt": T0},
                {
                    "pipelineName": world.name,
                    "stageName": world.waiting().stage,  # type: ignore[union-attr]
                    "actionName": world.waiting().action.name,  # type: ignore[union-attr]
                    "token": world.token(),
                    "result": {"summary": POLICY_SUMMARY, "status": "Approved"},
                },
            )
            world.decide(POLICY_SUMMARY)
        if world.waiting() is None:
            self.queue_poll(world)
        else:
            # Left waiting: the test asks the handle which approvals wait (GetPipelineState).
            self.stubber.add_response("get_pipeline_state", world.state(), {"name": world.name})
        return handle

    def retry(self, execution_id: str, stage: str) -> ExecutionHandle:
        world = self.worlds[execution_id]
        self.stubber.add_response(
            "retry_stage_execution",
            {"pipelineExecutionId": execution_id},
            {
                "pipelineName": world.name,
                "stageName": stage,
                "pipelineExecutionId": execution_id,
                "retryMode": "FAILED_ACTIONS",
            },
        )
        world.retry(stage)
        self.queue_poll(world)
        return self.executor.retry(execution_id, stage)

    def approve(self, execution_id: str, stage: str, action: str, summary: str, by: str) -> None:
        world = self.worlds[execution_id]
        sent = f"{summary} (by {by})"
        self.stubber.add_response("get_pipeline_state", world.state(), {"name": world.name})
        self.stubber.add_response(
            "put_approval_result",
            {"approvedAt": T0},
            {
                "pipelineName": world.name,
                "stageName": stage,
                "actionName": action,
                "token": world.token(),
                "result": {"summary": sent, "status": "Approved"},
            },
        )
        world.decide(sent)
        self.queue_poll(world)
        self.executor.approve(execution_id, stage, action, summary, by=by)

    def stop(self, execution_id: str, reason: str) -> None:
        world = self.worlds[execution_id]
        self.stubber.add_response(
            "stop_pipeline_execution",
            {"pipelineExecutionId": execution_id},
            {"pipelineName": world.name, "pipelineExecutionId": execution_id, "abandon": True, "reason": reason},
        )
        world.stop()
        self.queue_poll(world)
        self.executor.stop(execution_id, abandon=True, reason=reason)

    def queue_poll(self, world: _World, *, repeat: int = 1) -> None:
        """One poll: GetPipelineExecution, ListActionExecutions, GetPipelineState (in that order)."""
        for _ in range(repeat):
            self.stubber.add_response(
                "get_pipeline_execution",
                world.execution(),
                {"pipelineName": world.name, "pipelineExecutionId": world.execution_id},
            )
            self.stubber.add_response(
                "list_action_executions",
                world.action_executions(),
                {"pipelineName": world.name, "filter": {"pipelineExecutionId": world.execution_id}},
            )
            self.stubber.add_response("get_pipeline_state", world.state(), {"name": world.name})

    def close(self) -> None:
        self.stubber.assert_no_pending_responses()
        self.stubber.deactivate()


@pytest.fixture(autouse=True)
def _fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test can reach a real account: fake credentials and region, no profile files."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@contextlib.contextmanager
def make_backend(name: str, workdir: Path) -> Iterator[Backend]:
    """A backend by name, closed (and its Stubber checked for unused responses) on exit."""
    if name == "local":
        local = LocalBackend(workdir)
        try:
            yield local
        finally:
            local.close()
        return
    with mock_aws():
        iam = boto3.client("iam", region_name=REGION)
        role = iam.create_role(RoleName="PipelineRole", AssumeRolePolicyDocument=json.dumps(TRUST))
        remote = CodePipelineBackend(str(role["Role"]["Arn"]))
        yield remote
        remote.close()


@pytest.fixture(params=["local", "codepipeline"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each contract test runs once per executor."""
    with make_backend(request.param, tmp_path / ".pipeweaver") as made:
        yield made


def shape(execution: Execution) -> dict[str, Any]:
    """
    What both executors must report alike: everything but ids, clocks and artifact locations.

    Two texts are each executor's own wording and are checked by the tests instead: a failed
    stage's error (the local engine writes ``Action: message``, CodePipelineExecutor the
    failed action's message) and the summary of an approval a policy answered.
    """
    return {
        "pipeline": execution.pipeline,
        "status": execution.status,
        "execution_type": execution.execution_type,
        "trigger": execution.trigger.trigger_type,
        "variables": dict(execution.variables),
        # the latest attempt of each stage: CodePipeline reports no earlier one (GetPipelineState)
        "stages": [(s.name, s.status, s.attempt) for s in {s.name: s for s in execution.stages}.values()],
        "actions": [
            (
                a.stage,
                a.name,
                a.status,
                a.attempt,
                dict(a.output_variables),
                None if a.name in APPROVALS else a.summary,
                a.error,
            )
            for a in execution.actions
        ],
    }


#: Approval actions of the test pipelines: each executor words a policy's decision its own way
#: (the local engine names the policy; CodePipeline keeps the summary sent with PutApprovalResult).
APPROVALS = frozenset({"Release"})
