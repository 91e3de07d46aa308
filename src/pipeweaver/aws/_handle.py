"""``CodePipelineHandle``: one execution on AWS, followed by polling, and the polling ``Backoff``.

Layer: aws. The handle polls GetPipelineExecution, ListActionExecutions and GetPipelineState in
the caller's thread, emits events for what changed, and answers approvals, stops and retries.
It reads its client, backoff, clock, observers and approval policy from the executor that
started it, through :class:`HandleOwner`, so this module never imports the executor.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, final

import attrs

from .._model import ActionCategory, Pipeline, RetryMode, RetryModeName
from ..errors import AwsError, ExecutionError
from ..execution import (
    ActionFinished,
    ActionRecord,
    ActionStarted,
    ActionStatus,
    ApprovalPolicy,
    ApprovalRequested,
    ArtifactRef,
    Event,
    Execution,
    ExecutionFinished,
    ExecutionStatus,
    Observer,
    RuleRecord,
    StageFinished,
    StageRecord,
    StageStarted,
    StageStatus,
    TriggerInfo,
)
from ._client import Client, call

__all__ = ["Backoff", "CodePipelineHandle", "HandleOwner"]

_THROTTLED = frozenset({"ThrottlingException", "Throttling", "RequestLimitExceeded", "TooManyRequestsException"})
_CONDITION_FIELDS = (
    ("beforeEntryConditionState", "BEFORE_ENTRY"),
    ("onSuccessConditionState", "ON_SUCCESS"),
    ("onFailureConditionState", "ON_FAILURE"),
)


@final
@attrs.frozen(kw_only=True)
class Backoff:
    """
    How often to poll: start at *initial* seconds, multiply by *factor* up to *maximum*.

    The delay goes back to *initial* whenever something changed since the last poll.

    .. versionadded:: 0.1.0
    """

    initial: float = 2.0
    maximum: float = 30.0
    factor: float = 1.5

    def next(self, delay: float) -> float:
        """The delay after *delay*."""
        return min(self.maximum, delay * self.factor)


def _enum(cls: Any, value: Any, default: Any) -> Any:
    try:
        return cls(value)
    except ValueError:
        return default


class HandleOwner(Protocol):
    """**Protocol:** what a handle reads from the executor that started it."""

    @property
    def client(self) -> Client:
        """The CodePipeline client."""
        ...

    @property
    def poll(self) -> Backoff:
        """The polling backoff."""
        ...

    @property
    def observers(self) -> list[Observer]:
        """Called with every event."""
        ...

    @property
    def approval(self) -> ApprovalPolicy:
        """What to do with manual approvals while waiting."""
        ...

    @property
    def sleep(self) -> Callable[[float], None]:
        """Sleeps between polls."""
        ...

    @property
    def clock(self) -> Callable[[], float]:
        """A monotonic clock for timeouts."""
        ...


def _now() -> datetime:
    return datetime.now(UTC)


class CodePipelineHandle:
    """
    An execution running on AWS: poll it, answer its approvals, stop or retry it.

    Implements :class:`~pipeweaver.execution.ExecutionHandle`. Thread-safe: one poll at a time.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self, executor: HandleOwner, pipeline: Pipeline, execution_id: str, *, variables: Mapping[str, str]
    ) -> None:
        self._executor = executor
        self._pipeline = pipeline
        self._name = str(pipeline.name)
        self._id = execution_id
        self._lock = threading.RLock()
        self._record = Execution(
            id=execution_id, pipeline=self._name, status=ExecutionStatus.IN_PROGRESS, variables=dict(variables)
        )
        self._seen_actions: dict[str, ActionStatus] = {}
        self._seen_stages: dict[tuple[str, int], StageStatus] = {}
        self._seen_tokens: set[str] = set()
        self._rules: dict[tuple[str, str, str], RuleRecord] = {}
        self._finished = False

    @property
    def id(self) -> str:
        """The pipeline execution id."""
        return self._id

    @property
    def client(self) -> Client:
        """The CodePipeline client."""
        return self._executor.client

    @property
    def pipeline_name(self) -> str:
        """The name of the pipeline this execution belongs to."""
        return self._name

    # -- reading ---------------------------------------------------------------------------

    def snapshot(self) -> Execution:
        """Poll AWS once and return the execution's record as it is now."""
        self.refresh()
        return self._record

    def wait(self, timeout: float | None = None) -> Execution:
        """Poll with backoff until the execution ends (or *timeout* seconds pass); return its record."""
        ex = self._executor
        deadline = None if timeout is None else ex.clock() + timeout
        delay = ex.poll.initial
        while True:
            changed = self.refresh()
            if self._record.status.is_terminal:
                return self._record
            if deadline is not None and ex.clock() >= deadline:
                return self._record
            delay = ex.poll.initial if changed else ex.poll.next(delay)
            if deadline is not None:
                delay = max(0.0, min(delay, deadline - ex.clock()))
            ex.sleep(delay)

    def refresh(self) -> bool:
        """Poll AWS once, emit events for what changed; return whether anything changed."""
        with self._lock:
            if self._finished:
                return False
            try:
                record, state = self._read()
            except AwsError as exc:
                if exc.code in _THROTTLED:
                    return False
                raise
            before = self._record
            self._record = record
            self._events(before, state)
            return before != self._record

    def _read(self) -> tuple[Execution, dict[str, Any]]:
        """Poll AWS once: the execution's record and the pipeline state it was built from (no events)."""
        execution = call(self.client, "GetPipelineExecution", pipelineName=self._name, pipelineExecutionId=self._id)[
            "pipelineExecution"
        ]
        details = self._action_executions()
        state = call(self.client, "GetPipelineState", name=self._name)
        return self._build(execution, details, state), state

    def _action_executions(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        params: dict[str, Any] = {"pipelineName": self._name, "filter": {"pipelineExecutionId": self._id}}
        while True:
            page = call(self.client, "ListActionExecutions", **params)
            out.extend(page.get("actionExecutionDetails") or ())
            if not page.get("nextToken"):
                break
            params["nextToken"] = page["nextToken"]
        epoch = datetime.min.replace(tzinfo=UTC)
        return sorted(out, key=lambda d: d.get("startTime") or epoch)

    def _build(
        self, execution: Mapping[str, Any], details: Sequence[Mapping[str, Any]], state: Mapping[str, Any]
    ) -> Execution:
        attempts: dict[tuple[str, str], int] = {}
        actions: list[ActionRecord] = []
        artifacts: dict[str, ArtifactRef] = {}
        for d in details:
            key = (d["stageName"], d["actionName"])
            attempts[key] = attempts.get(key, 0) + 1
            status = _enum(ActionStatus, d.get("status"), ActionStatus.IN_PROGRESS)
            output = d.get("output") or {}
            result = output.get("executionResult") or {}
            error = (result.get("errorDetails") or {}).get("message")
            actions.append(
                ActionRecord(
                    stage=key[0],
                    name=key[1],
                    status=status,
                    attempt=attempts[key],
                    started_at=d.get("startTime"),
                    ended_at=d.get("lastUpdateTime") if status.is_terminal else None,
                    resolved_configuration=dict((d.get("input") or {}).get("resolvedConfiguration") or {}),
                    output_variables=dict(output.get("outputVariables") or {}),
                    summary=result.get("externalExecutionSummary"),
                    error=error,
                    external_execution_id=result.get("externalExecutionId"),
                )
            )
            for art in output.get("outputArtifacts") or ():
                loc = art.get("s3location") or {}
                if loc.get("bucket"):
                    # CodePipeline does not publish a content hash; sha256 stays empty for AWS runs.
                    artifacts[art["name"]] = ArtifactRef(
                        name=art["name"], uri=f"s3://{loc['bucket']}/{loc.get('key', '')}", sha256=""
                    )
        stages = self._stages(state, actions)
        self._collect_rules(state)
        trigger = execution.get("trigger") or {}
        variables = {v["name"]: v.get("resolvedValue", "") for v in execution.get("variables") or ()}
        status = _enum(ExecutionStatus, execution.get("status"), ExecutionStatus.IN_PROGRESS)
        starts = [a.started_at for a in actions if a.started_at]
        ends = [a.ended_at for a in actions if a.ended_at]
        return Execution(
            id=self._id,
            pipeline=self._name,
            status=status,
            started_at=min(starts) if starts else self._record.started_at,
            ended_at=(max(ends) if ends else _now()) if status.is_terminal else None,
            trigger=TriggerInfo(
                trigger_type=trigger.get("triggerType", "StartPipelineExecution"),
                detail=trigger.get("triggerDetail", ""),
            ),
            stages=stages,
            actions=tuple(actions),
            artifacts=artifacts,
            variables=variables or dict(self._record.variables),
            execution_type=execution.get("executionType", "STANDARD"),
            rollback_target=(execution.get("rollbackMetadata") or {}).get("rollbackTargetPipelineExecutionId"),
            status_summary=execution.get("statusSummary"),
            rules=tuple(self._rules.values()),
        )

    def _collect_rules(self, state: Mapping[str, Any]) -> None:
        # GetPipelineState shows only the latest rule evaluations of the stage's current
        # execution, so keep what earlier polls saw once the stage moves on.
        for stage_state in state.get("stageStates") or ():
            if (stage_state.get("latestExecution") or {}).get("pipelineExecutionId") != self._id:
                continue
            for field, condition in _CONDITION_FIELDS:
                for cond in (stage_state.get(field) or {}).get("conditionStates") or ():
                    for rule in cond.get("ruleStates") or ():
                        latest = rule.get("latestExecution") or {}
                        if not latest.get("status"):
                            continue
                        key = (stage_state["stageName"], condition, rule.get("ruleName", ""))
                        self._rules[key] = RuleRecord(
                            stage=key[0],
                            condition=condition,
                            name=key[2],
                            status=str(latest["status"]),
                            summary=latest.get("summary") or (latest.get("errorDetails") or {}).get("message"),
                            at=latest.get("lastStatusChange"),
                        )

    def _stages(self, state: Mapping[str, Any], actions: Sequence[ActionRecord]) -> tuple[StageRecord, ...]:
        live = {s.get("stageName"): s for s in state.get("stageStates") or ()}
        out = []
        for stage in self._pipeline.stages:
            mine = [a for a in actions if a.stage == stage.name]
            latest = (live.get(stage.name) or {}).get("latestExecution") or {}
            retry = (live.get(stage.name) or {}).get("retryStageMetadata") or {}
            attempt = 1 + int(retry.get("autoStageRetryAttempt") or 0) + int(retry.get("manualStageRetryAttempt") or 0)
            if latest.get("pipelineExecutionId") == self._id:
                status = _enum(StageStatus, latest.get("status"), StageStatus.IN_PROGRESS)
            elif mine:
                status = _derived_stage_status(mine)
            else:
                continue
            error = next((a.error for a in reversed(mine) if a.status is ActionStatus.FAILED and a.error), None)
            starts = [a.started_at for a in mine if a.started_at]
            ends = [a.ended_at for a in mine if a.ended_at]
            out.append(
                StageRecord(
                    name=stage.name,
                    status=status,
                    attempt=attempt,
                    started_at=min(starts) if starts else None,
                    ended_at=max(ends) if ends and status.is_terminal else None,
                    error=error,
                )
            )
        return tuple(out)

    def _emit(self, event: Event) -> None:
        for observer in self._executor.observers:
            observer(event)

    def _events(self, before: Execution, state: Mapping[str, Any]) -> None:
        now = _now()
        base: dict[str, Any] = {"execution_id": self._id, "pipeline": self._name, "at": now}
        # Per stage, in pipeline order: started, its actions, finished -- the order a local run emits.
        for stage in self._record.stages:
            key = (stage.name, stage.attempt)
            if key not in self._seen_stages:
                self._seen_stages[key] = StageStatus.IN_PROGRESS
                self._emit(StageStarted(**base, stage=stage.name, attempt=stage.attempt))
            for action in (a for a in self._record.actions if a.stage == stage.name):
                key_a = f"{action.stage}/{action.name}#{action.attempt}"
                if key_a not in self._seen_actions:
                    self._seen_actions[key_a] = ActionStatus.IN_PROGRESS
                    self._emit(ActionStarted(**base, stage=action.stage, action=action.name, attempt=action.attempt))
                if action.status.is_terminal and not self._seen_actions[key_a].is_terminal:
                    self._seen_actions[key_a] = action.status
                    self._emit(
                        ActionFinished(
                            **base, stage=action.stage, action=action.name, status=action.status, record=action
                        )
                    )
            if stage.status.is_terminal and not self._seen_stages[key].is_terminal:
                self._seen_stages[key] = stage.status
                self._emit(StageFinished(**base, stage=stage.name, status=stage.status, attempt=stage.attempt))
        for request in self._approvals(state):
            if request.token in self._seen_tokens:
                continue
            self._seen_tokens.add(request.token)
            self._emit(request)
            self._answer(request)
        if self._record.status.is_terminal and not before.status.is_terminal:
            self._finished = True
            self._emit(ExecutionFinished(**base, status=self._record.status, execution=self._record))

    def _approvals(self, state: Mapping[str, Any]) -> list[ApprovalRequested]:
        out = []
        for stage_state in state.get("stageStates") or ():
            latest = stage_state.get("latestExecution") or {}
            if latest.get("pipelineExecutionId") != self._id:
                continue
            for action_state in stage_state.get("actionStates") or ():
                execution = action_state.get("latestExecution") or {}
                token = execution.get("token")
                if not token or execution.get("status") != "InProgress":
                    continue
                if not self._is_approval(stage_state["stageName"], action_state["actionName"]):
                    continue
                action = self._pipeline.stage(stage_state["stageName"]).action(action_state["actionName"])
                out.append(
                    ApprovalRequested(
                        execution_id=self._id,
                        pipeline=self._name,
                        at=_now(),
                        stage=stage_state["stageName"],
                        action=action_state["actionName"],
                        token=token,
                        custom_data=_str_or_none(action.configuration.get("CustomData")),
                        external_entity_link=_str_or_none(action.configuration.get("ExternalEntityLink")),
                    )
                )
        return out

    def pending_approvals(self) -> list[str]:
        """``Stage/Action`` of the manual approvals of this execution waiting for a decision (GetPipelineState)."""
        state = call(self.client, "GetPipelineState", name=self._name)
        return sorted(f"{r.stage}/{r.action}" for r in self._approvals(state))

    def _is_approval(self, stage: str, action: str) -> bool:
        try:
            return self._pipeline.stage(stage).action(action).category is ActionCategory.APPROVAL
        except KeyError:
            return False

    def _answer(self, request: ApprovalRequested) -> None:
        policy = self._executor.approval
        if policy is None or policy == "wait":
            return
        summary = "answered by pipeweaver policy"
        if policy == "approve":
            decision: bool | tuple[bool, str] | None = True
        elif policy == "reject":
            decision = False
        else:
            assert callable(policy)
            decision = policy(request)
        if decision is None:
            return
        if isinstance(decision, tuple):
            decision, given = decision
            summary = given or summary
        self._put_approval(request.stage, request.action, request.token, bool(decision), summary)

    # -- steering --------------------------------------------------------------------------

    def _token(self, stage: str, action: str) -> str:
        state = call(self.client, "GetPipelineState", name=self._name)
        for stage_state in state.get("stageStates") or ():
            if stage_state.get("stageName") != stage:
                continue
            latest = stage_state.get("latestExecution") or {}
            if latest.get("pipelineExecutionId") != self._id:
                raise ExecutionError(
                    f"stage {stage} is not running execution {self._id} (it runs "
                    f"{latest.get('pipelineExecutionId') or 'nothing'}); its approval cannot be answered from here"
                )
            for action_state in stage_state.get("actionStates") or ():
                if action_state.get("actionName") == action:
                    token = (action_state.get("latestExecution") or {}).get("token")
                    if token:
                        return str(token)
        raise ExecutionError(f"no approval is waiting at {stage}/{action} in execution {self._id}")

    def _put_approval(self, stage: str, action: str, token: str, approved: bool, summary: str) -> None:
        call(
            self.client,
            "PutApprovalResult",
            pipelineName=self._name,
            stageName=stage,
            actionName=action,
            token=token,
            result={"summary": summary[:512], "status": "Approved" if approved else "Rejected"},
        )

    def approve(self, stage: str, action: str, summary: str = "", *, by: str = "") -> None:
        """Approve the waiting approval *stage*/*action* (token read from GetPipelineState)."""
        self._put_approval(stage, action, self._token(stage, action), True, _summary(summary, by))

    def reject(self, stage: str, action: str, summary: str = "", *, by: str = "") -> None:
        """Reject the waiting approval *stage*/*action*: the action fails."""
        self._put_approval(stage, action, self._token(stage, action), False, _summary(summary, by))

    def stop(self, *, abandon: bool = False, reason: str = "") -> None:
        """StopPipelineExecution: let running actions finish, or abandon them."""
        params: dict[str, Any] = {"pipelineName": self._name, "pipelineExecutionId": self._id, "abandon": abandon}
        if reason:
            params["reason"] = reason[:200]
        call(self.client, "StopPipelineExecution", **params)

    def retry(self, stage: str, *, mode: RetryMode | RetryModeName = RetryMode.FAILED_ACTIONS) -> None:
        """RetryStageExecution of *stage* in this execution (``FAILED_ACTIONS`` or ``ALL_ACTIONS``)."""
        call(
            self.client,
            "RetryStageExecution",
            pipelineName=self._name,
            stageName=stage,
            pipelineExecutionId=self._id,
            retryMode=str(mode),
        )
        with self._lock:
            self._finished = False
            self._record = attrs.evolve(self._record, status=ExecutionStatus.IN_PROGRESS, ended_at=None)

    def override_stage_condition(self, stage: str, condition_type: str) -> None:
        """OverrideStageCondition of *stage* in this execution (``BEFORE_ENTRY`` or ``ON_SUCCESS``)."""
        call(
            self.client,
            "OverrideStageCondition",
            pipelineName=self._name,
            stageName=stage,
            pipelineExecutionId=self._id,
            conditionType=condition_type,
        )
        with self._lock:
            self._finished = False
            self._record = attrs.evolve(self._record, status=ExecutionStatus.IN_PROGRESS, ended_at=None)


def _summary(summary: str, by: str) -> str:
    return f"{summary} (by {by})".strip() if by else summary


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _derived_stage_status(actions: Sequence[ActionRecord]) -> StageStatus:
    latest: dict[str, ActionRecord] = {}
    for a in actions:
        latest[a.name] = a
    statuses = {a.status for a in latest.values()}
    if ActionStatus.IN_PROGRESS in statuses:
        return StageStatus.IN_PROGRESS
    if ActionStatus.FAILED in statuses:
        return StageStatus.FAILED
    if ActionStatus.ABANDONED in statuses:
        return StageStatus.STOPPED
    return StageStatus.SUCCEEDED
