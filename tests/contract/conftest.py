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
from typing import Any, Protocol

import attrs
import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

import pipeweaver as pw
from pipeweaver.aws import Backoff, CodePipelineExecutor
from pipeweaver.execution import Execution, ExecutionHandle, Executor, LocalExecutor
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
    """How one action ends: with *variables* and *summary*, or failed with the message *fail*."""

    fail: str | None = None
    summary: str = "done"
    variables: Mapping[str, str] = attrs.field(factory=dict)


#: "Stage/Action" -> its outcome; actions not named succeed with nothing to report.
Script = Mapping[str, Outcome]


class Backend(Protocol):
    """One executor under contract, with what the test needs to drive it the same way."""

    name: str
    executor: Executor

    def start(
        self, pipeline: pw.Pipeline, script: Script, variables: Mapping[str, str] | None = None
    ) -> ExecutionHandle: ...


# -- local -------------------------------------------------------------------------------------


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
        self, pipeline: pw.Pipeline, script: Script, variables: Mapping[str, str] | None = None
    ) -> ExecutionHandle:
        handlers: dict[Any, Any] = {}
        for stage, action in pipeline.actions():
            if action.category == "Approval":
                continue
            outcome = script.get(f"{stage.name}/{action.name}", Outcome())
            handlers[f"{stage.name}/{action.name}"] = fake(
                fail=outcome.fail, summary=outcome.summary, variables=outcome.variables
            )
        if self._executor is not None:
            self._executor.close()
        self._executor = LocalExecutor(self.workdir, handlers=handlers, approval="approve")
        return self._executor.start(pipeline, variables=variables)

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


@attrs.frozen(kw_only=True)
class _Ran:
    stage: str
    action: pw.Action
    outcome: Outcome
    at: datetime


def _act_out(pipeline: pw.Pipeline, script: Script) -> tuple[list[_Ran], dict[str, str]]:
    """The actions CodePipeline runs for *script*, in start order, and each stage's status."""
    ran: list[_Ran] = []
    stages: dict[str, str] = {}
    clock = iter(T0 + timedelta(seconds=i) for i in range(10_000))
    for stage in pipeline.stages:
        failed = False
        for order in sorted({a.run_order or 1 for a in stage.actions}):
            for action in (a for a in stage.actions if (a.run_order or 1) == order):
                outcome = script.get(f"{stage.name}/{action.name}", Outcome())
                ran.append(_Ran(stage=stage.name, action=action, outcome=outcome, at=next(clock)))
                failed = failed or outcome.fail is not None
            if failed:
                break
        stages[stage.name] = "Failed" if failed else "Succeeded"
        if failed:
            break
    return ran, stages


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
        self.executor = CodePipelineExecutor(
            self.client,  # type: ignore[arg-type]
            poll=Backoff(initial=0.0, maximum=0.0),
            approval="approve",
            sleep=lambda _seconds: None,
        )

    def start(
        self, pipeline: pw.Pipeline, script: Script, variables: Mapping[str, str] | None = None
    ) -> ExecutionHandle:
        pipeline = attrs.evolve(pipeline, role_arn=self.role_arn)
        handle = self.executor.start(pipeline, variables=variables)
        # GetPipelineExecution lists every variable the execution resolved, defaults included.
        resolved = {str(v.name): str(v.default_value) for v in pipeline.variables if v.default_value is not None}
        self.play(pipeline, script, handle.id, {**resolved, **(variables or {})})
        return handle

    def play(self, pipeline: pw.Pipeline, script: Script, execution_id: str, variables: Mapping[str, str]) -> None:
        """Queue what CodePipeline answers while the execution runs and once it has ended."""
        ran, stages = _act_out(pipeline, script)
        approvals = [i for i, r in enumerate(ran) if r.action.category == "Approval"]
        for i in approvals:
            # One poll while the approval waits; the executor's policy answers it.
            self.queue_poll(pipeline, execution_id, variables, ran[: i + 1], stages, running=True)
            self.stubber.add_response(
                "put_approval_result",
                {"approvedAt": T0},
                {
                    "pipelineName": str(pipeline.name),
                    "stageName": ran[i].stage,
                    "actionName": ran[i].action.name,
                    "token": f"token-{i}",
                    "result": {"summary": POLICY_SUMMARY, "status": "Approved"},
                },
            )
        self.queue_poll(pipeline, execution_id, variables, ran, stages, running=False)

    def queue_poll(
        self,
        pipeline: pw.Pipeline,
        execution_id: str,
        variables: Mapping[str, str],
        ran: list[_Ran],
        stages: Mapping[str, str],
        *,
        running: bool,
        repeat: int = 1,
    ) -> None:
        """One poll: GetPipelineExecution, ListActionExecutions, GetPipelineState (in that order)."""
        name = str(pipeline.name)
        failed = "Failed" in stages.values()
        status = "InProgress" if running else ("Failed" if failed else "Succeeded")
        details = []
        for i, r in enumerate(ran):
            last = running and i == len(ran) - 1
            a_status = "InProgress" if last else ("Failed" if r.outcome.fail else "Succeeded")
            result: dict[str, Any] = {}
            if r.action.category == "Approval":
                # CodePipeline keeps the summary the approval was answered with.
                result["externalExecutionSummary"] = POLICY_SUMMARY
            elif not r.outcome.fail:
                result["externalExecutionSummary"] = r.outcome.summary
            if r.outcome.fail:
                result["errorDetails"] = {"code": "JobFailed", "message": r.outcome.fail}
            output: dict[str, Any] = {"outputArtifacts": [], "outputVariables": dict(r.outcome.variables)}
            if result:
                output["executionResult"] = result
            details.append(
                {
                    "pipelineExecutionId": execution_id,
                    "actionExecutionId": f"{execution_id[:8]}-{i}",
                    "pipelineVersion": 1,
                    "stageName": r.stage,
                    "actionName": r.action.name,
                    "startTime": r.at,
                    "lastUpdateTime": r.at + timedelta(milliseconds=500),
                    "status": a_status,
                    "input": {
                        "actionTypeId": {
                            "category": str(r.action.action_type.category),
                            "owner": str(r.action.action_type.owner),
                            "provider": r.action.action_type.provider,
                            "version": r.action.action_type.version,
                        },
                        "resolvedConfiguration": {k: str(v) for k, v in r.action.configuration.items()},
                    },
                    "output": output if not last else {},
                }
            )
        stage_states = []
        for stage in pipeline.stages:
            mine = [(i, r) for i, r in enumerate(ran) if r.stage == stage.name]
            if not mine:
                stage_states.append({"stageName": stage.name, "actionStates": []})
                continue
            live = running and mine[-1][0] == len(ran) - 1
            actions = []
            for i, r in mine:
                latest: dict[str, Any] = {"status": "InProgress" if live and i == len(ran) - 1 else "Succeeded"}
                if latest["status"] == "InProgress" and r.action.category == "Approval":
                    latest["token"] = f"token-{i}"
                actions.append({"actionName": r.action.name, "latestExecution": latest})
            stage_states.append(
                {
                    "stageName": stage.name,
                    "latestExecution": {
                        "pipelineExecutionId": execution_id,
                        "status": "InProgress" if live else stages[stage.name],
                    },
                    "actionStates": actions,
                }
            )
        for _ in range(repeat):
            self.stubber.add_response(
                "get_pipeline_execution",
                {
                    "pipelineExecution": {
                        "pipelineName": name,
                        "pipelineVersion": 1,
                        "pipelineExecutionId": execution_id,
                        "status": status,
                        "variables": [{"name": k, "resolvedValue": v} for k, v in variables.items()],
                        "trigger": {"triggerType": "StartPipelineExecution", "triggerDetail": ""},
                        "executionMode": str(pipeline.effective_execution_mode),
                        "executionType": "STANDARD",
                    }
                },
                {"pipelineName": name, "pipelineExecutionId": execution_id},
            )
            self.stubber.add_response(
                "list_action_executions",
                {"actionExecutionDetails": details},
                {"pipelineName": name, "filter": {"pipelineExecutionId": execution_id}},
            )
            self.stubber.add_response(
                "get_pipeline_state",
                {"pipelineName": name, "pipelineVersion": 1, "stageStates": stage_states},
                {"name": name},
            )

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
        "stages": [(s.name, s.status, s.attempt) for s in execution.stages],
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
