"""The execution contract shared by every executor and every action handler.

Layer: execution (the executor side; never imports synth). This module holds only the
vocabulary: status enums with AWS's words, the immutable :class:`Execution` record, the
:class:`ActionContext` a handler receives, the :class:`Executor`, :class:`ExecutionHandle`,
:class:`ActionHandler` and :class:`ArtifactStore` protocols, and the events observers receive.
:class:`~pipeweaver.execution.LocalExecutor` and ``pipeweaver.aws.CodePipelineExecutor`` both
speak it, and ``pipeweaver.aws.JobWorker`` serves the same handlers on AWS.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol, TypeAlias, final, runtime_checkable

import attrs

from .._model import Action, Pipeline, RetryMode, RetryModeName, Stage

__all__ = [
    "CONTINUATION_TOKEN_LIMIT",
    "ActionContext",
    "ActionFailed",
    "ActionFinished",
    "ActionHandler",
    "ActionRecord",
    "ActionResult",
    "ActionStarted",
    "ActionStatus",
    "ApprovalPolicy",
    "ApprovalRequested",
    "ArtifactRef",
    "ArtifactStore",
    "Event",
    "Execution",
    "ExecutionFinished",
    "ExecutionHandle",
    "ExecutionStarted",
    "ExecutionStatus",
    "ExecutionStatusName",
    "Executor",
    "FailureType",
    "LogLine",
    "Observer",
    "RuleRecord",
    "StageFinished",
    "StageRecord",
    "StageStarted",
    "StageStatus",
    "TriggerInfo",
    "check_continuation_token",
]


class ExecutionStatus(enum.StrEnum):
    """Pipeline execution status, in AWS's words (``PipelineExecutionStatus``)."""

    IN_PROGRESS = "InProgress"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    SUCCEEDED = "Succeeded"
    SUPERSEDED = "Superseded"
    FAILED = "Failed"
    CANCELLED = "Cancelled"

    @property
    def is_terminal(self) -> bool:
        """Whether the execution has ended."""
        return self not in (ExecutionStatus.IN_PROGRESS, ExecutionStatus.STOPPING)


#: :class:`ExecutionStatus`'s values, accepted where an ``ExecutionStatus`` is.
ExecutionStatusName = Literal["InProgress", "Stopping", "Stopped", "Succeeded", "Superseded", "Failed", "Cancelled"]


class StageStatus(enum.StrEnum):
    """Stage execution status, in AWS's words (``StageExecutionStatus``)."""

    IN_PROGRESS = "InProgress"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    CANCELLED = "Cancelled"
    SKIPPED = "Skipped"

    @property
    def is_terminal(self) -> bool:
        """Whether the stage execution has ended."""
        return self not in (StageStatus.IN_PROGRESS, StageStatus.STOPPING)


class ActionStatus(enum.StrEnum):
    """Action execution status, in AWS's words (``ActionExecutionStatus``)."""

    IN_PROGRESS = "InProgress"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    ABANDONED = "Abandoned"

    @property
    def is_terminal(self) -> bool:
        """Whether the action execution has ended."""
        return self is not ActionStatus.IN_PROGRESS


class FailureType(enum.StrEnum):
    """Why an action failed (``FailureDetails.type`` of the job APIs)."""

    JOB_FAILED = "JobFailed"
    CONFIGURATION_ERROR = "ConfigurationError"
    PERMISSION_ERROR = "PermissionError"
    REVISION_OUT_OF_SYNC = "RevisionOutOfSync"
    REVISION_UNAVAILABLE = "RevisionUnavailable"
    SYSTEM_UNAVAILABLE = "SystemUnavailable"


@final
@attrs.frozen(kw_only=True)
class ArtifactRef:
    """
    A stored artifact: where its zip lives and its content hash.

    Attributes:
        name: The artifact's name in the pipeline.
        uri: ``file:///...`` for the local store, ``s3://bucket/key`` for S3.
        sha256: Hex digest of the zip, recorded on write and verified on read.
        size: Size of the zip in bytes.

    .. versionadded:: 0.1.0
    """

    name: str
    uri: str
    sha256: str
    size: int = 0


@final
@attrs.frozen(kw_only=True)
class TriggerInfo:
    """
    What started an execution (``ExecutionTrigger``).

    Attributes:
        trigger_type: One of AWS's trigger types: ``StartPipelineExecution``,
            ``PollForSourceChanges``, ``Webhook``, ``WebhookV2``, ``CloudWatchEvent``,
            ``PutActionRevision``, ``CreatePipeline``, ``ManualRollback``,
            ``AutomatedRollback``, or ``Schedule`` for local cron starts.
        detail: Free text (who, which commit, which filter matched).

    .. versionadded:: 0.1.0
    """

    trigger_type: str = "StartPipelineExecution"
    detail: str = ""


@final
@attrs.frozen(kw_only=True)
class ActionRecord:
    """
    One attempt of one action in an execution.

    .. versionadded:: 0.1.0
    """

    stage: str
    name: str
    status: ActionStatus
    attempt: int = 1
    started_at: datetime | None = None
    ended_at: datetime | None = None
    resolved_configuration: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    output_variables: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    summary: str | None = None
    error: str | None = None
    log_file: str | None = None
    external_execution_id: str | None = None


@final
@attrs.frozen(kw_only=True)
class StageRecord:
    """
    One attempt of one stage in an execution.

    .. versionadded:: 0.1.0
    """

    name: str
    status: StageStatus
    attempt: int = 1
    started_at: datetime | None = None
    ended_at: datetime | None = None
    error: str | None = None


@final
@attrs.frozen(kw_only=True)
class RuleRecord:
    """
    One evaluation of one rule of a stage condition.

    Attributes:
        stage: The stage whose condition holds the rule.
        condition: ``BEFORE_ENTRY``, ``ON_SUCCESS`` or ``ON_FAILURE``.
        name: The rule's name.
        status: ``Succeeded``, ``Failed`` or ``Errored`` (AWS's rule states).
        summary: Why it passed or failed.

    .. versionadded:: 0.1.0
    """

    stage: str
    condition: str
    name: str
    status: str
    summary: str | None = None
    at: datetime | None = None


@final
@attrs.frozen(kw_only=True)
class Execution:
    """
    The record of one pipeline execution, the same whichever executor ran it.

    Attributes:
        id: The pipeline execution id (a UUID).
        pipeline: The pipeline's name.
        status: AWS's status word.
        stages: Stage records, latest attempt last.
        actions: Action records, every attempt, in start order.
        artifacts: Artifact name -> stored zip and its sha256.
        variables: Pipeline-level variable values used by this execution.
        execution_type: ``STANDARD`` or ``ROLLBACK``.
        rollback_target: For rollbacks, the execution whose state was restored.
        rules: Stage-condition rule evaluations, in the order they ran.

    .. versionadded:: 0.1.0
    """

    id: str
    pipeline: str
    status: ExecutionStatus
    started_at: datetime | None = None
    ended_at: datetime | None = None
    trigger: TriggerInfo = attrs.field(factory=TriggerInfo)
    stages: tuple[StageRecord, ...] = ()
    actions: tuple[ActionRecord, ...] = ()
    artifacts: Mapping[str, ArtifactRef] = attrs.field(factory=dict, hash=False)
    variables: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    execution_type: str = "STANDARD"
    rollback_target: str | None = None
    status_summary: str | None = None
    rules: tuple[RuleRecord, ...] = ()

    @property
    def succeeded(self) -> bool:
        """Whether the execution ended ``Succeeded``."""
        return self.status is ExecutionStatus.SUCCEEDED

    def action(self, stage: str, name: str) -> ActionRecord:
        """The latest attempt of action *name* in *stage* (``KeyError`` if it never ran)."""
        found = [a for a in self.actions if a.stage == stage and a.name == name]
        if not found:
            ran = sorted({f"{a.stage}/{a.name}" for a in self.actions})
            raise KeyError(f"action {stage}/{name} did not run in execution {self.id}; these ran: {ran}")
        return found[-1]

    def stage(self, name: str) -> StageRecord:
        """The latest attempt of stage *name* (``KeyError`` if it never ran)."""
        found = [s for s in self.stages if s.name == name]
        if not found:
            raise KeyError(f"stage {name} did not run in execution {self.id}")
        return found[-1]

    def ran(self, stage: str, name: str) -> bool:
        """Whether action *name* of *stage* started at least once."""
        return any(a.stage == stage and a.name == name for a in self.actions)


#: PutJobSuccessResult.continuationToken's maximum length in botocore's service model
#: (tests/aws/test_worker.py reads it from botocore's loader and checks this value).
CONTINUATION_TOKEN_LIMIT = 2048


def check_continuation_token(token: str) -> None:
    """Raise :class:`ActionFailed` when *token* is longer than CodePipeline accepts (never cut it)."""
    if len(token) > CONTINUATION_TOKEN_LIMIT:
        raise ActionFailed(
            f"the handler's continuation token is {len(token)} characters, above CodePipeline's limit of "
            f"{CONTINUATION_TOKEN_LIMIT} (PutJobSuccessResult.continuationToken); keep the state elsewhere "
            "(S3, DynamoDB) and return its key as the token"
        )


class ActionFailed(Exception):
    """
    Raised by a handler to fail its action with a message (and a failure type for job workers).

    .. versionadded:: 0.1.0
    """

    def __init__(self, message: str, *, failure_type: FailureType = FailureType.JOB_FAILED) -> None:
        self.message = message
        self.failure_type = failure_type
        super().__init__(message)


@final
@attrs.frozen(kw_only=True)
class ActionResult:
    """
    What a handler returns on success.

    Attributes:
        output_variables: Variables published under the action's namespace.
        summary: A one-line summary shown in history and reports.
        external_execution_id: An id in the system that did the work (a deployment id).
        continuation_token: For job workers: the work is not finished; CodePipeline will send a
            new job carrying this token (at most 2,048 characters, else the action fails).
            Local executors call the handler again with it. Output variables returned with a
            token are kept and published with the final result (later values win).
        unknown_variables: Variables the action publishes on AWS but a local stand-in cannot
            work out (a simulated stack's outputs): name (``*`` for any name not published) ->
            why, and how to give a value. A later reference to one fails with that text (never
            an empty value). Local only.

    .. versionadded:: 0.1.0
    """

    output_variables: Mapping[str, str] = attrs.field(factory=dict)
    summary: str | None = None
    external_execution_id: str | None = None
    continuation_token: str | None = None
    unknown_variables: Mapping[str, str] = attrs.field(factory=dict)


@attrs.define(kw_only=True, repr=False)
class ActionContext:
    """
    Everything a handler needs to run one action, and nothing it must not see.

    Attributes:
        pipeline: The pipeline being run.
        stage: The action's stage.
        action: The action (configuration unresolved).
        execution_id: The pipeline execution id.
        configuration: The action's configuration with variables resolved.
        inputs: Input artifact name -> directory holding its extracted files.
        outputs: Output artifact name -> empty directory for the handler to fill.
        workdir: A scratch directory for this attempt.
        environment: Extra environment variables (resolved; secrets included).
        secrets: Values that must never reach logs or history (masked by :meth:`log`).
        continuation_token: Set when the handler is called again to continue its work.
        source_revision: For source actions: the revision to fetch instead of the latest
            (``sourceRevisions`` of ``StartPipelineExecution``).
        attempt: Which attempt of the action this is (1 for the first run).
        cancel: Set when the execution is stopped; long handlers should check it.
        log: Writes one line to the action's log (secrets masked).

    .. versionadded:: 0.1.0
    """

    pipeline: Pipeline
    stage: Stage
    action: Action
    execution_id: str
    configuration: Mapping[str, str]
    inputs: Mapping[str, Path]
    outputs: Mapping[str, Path]
    workdir: Path
    # Left out of the repr: both may hold secret values.
    environment: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    secrets: frozenset[str] = attrs.field(default=frozenset(), repr=False)
    continuation_token: str | None = None
    source_revision: str | None = None
    attempt: int = 1
    cancel: threading.Event = attrs.field(factory=threading.Event)
    log: Callable[[str], None] = attrs.field(default=lambda line: None)

    def __repr__(self) -> str:
        # Names only: the pipeline, the action and the resolved configuration can hold secret
        # values (OAuthToken, ...) that no repr may show (tests/security/test_secrets.py).
        return (
            f"{type(self).__name__}(execution_id={self.execution_id!r}, stage={self.stage.name!r}, "
            f"action={self.action.name!r}, attempt={self.attempt})"
        )

    @property
    def primary_input(self) -> Path | None:
        """The first input artifact's directory (CodeBuild's primary source), if any."""
        if not self.action.inputs:
            return None
        return self.inputs.get(self.action.inputs[0].name)

    @property
    def cancelled(self) -> bool:
        """Whether the execution was stopped."""
        return self.cancel.is_set()


@runtime_checkable
class ActionHandler(Protocol):
    """
    **Protocol:** runs one action.

    Return an :class:`ActionResult` (or ``None`` for no variables) on success; raise
    :class:`ActionFailed` (or any exception) to fail the action.
    """

    def __call__(self, context: ActionContext, /) -> ActionResult | None: ...


class ArtifactStore(Protocol):
    """**Protocol:** where artifact zips live (a local folder by default, or S3)."""

    def put(self, execution_id: str, name: str, source: Path) -> ArtifactRef:
        """Zip the directory *source* and store it; return its reference with sha256."""
        ...

    def get(self, ref: ArtifactRef, destination: Path) -> None:
        """Verify *ref*'s hash and extract it safely into *destination*.

        Raises:
            ArtifactError: when the hash does not match or an entry would escape *destination*.
        """
        ...


# -- events ------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class _EventBase:
    execution_id: str
    pipeline: str
    at: datetime


@final
@attrs.frozen(kw_only=True)
class ExecutionStarted(_EventBase):
    """An execution started.

    .. versionadded:: 0.1.0
    """

    trigger: TriggerInfo


@final
@attrs.frozen(kw_only=True)
class ExecutionFinished(_EventBase):
    """An execution reached a terminal status.

    .. versionadded:: 0.1.0
    """

    status: ExecutionStatus
    execution: Execution


@final
@attrs.frozen(kw_only=True)
class StageStarted(_EventBase):
    """A stage attempt started.

    .. versionadded:: 0.1.0
    """

    stage: str
    attempt: int = 1


@final
@attrs.frozen(kw_only=True)
class StageFinished(_EventBase):
    """A stage attempt ended.

    .. versionadded:: 0.1.0
    """

    stage: str
    status: StageStatus
    attempt: int = 1


@final
@attrs.frozen(kw_only=True)
class ActionStarted(_EventBase):
    """An action attempt started.

    .. versionadded:: 0.1.0
    """

    stage: str
    action: str
    attempt: int = 1


@final
@attrs.frozen(kw_only=True)
class ActionFinished(_EventBase):
    """An action attempt ended.

    .. versionadded:: 0.1.0
    """

    stage: str
    action: str
    status: ActionStatus
    record: ActionRecord


@final
@attrs.frozen(kw_only=True)
class ApprovalRequested(_EventBase):
    """A manual approval is waiting for a decision.

    .. versionadded:: 0.1.0
    """

    stage: str
    action: str
    token: str
    custom_data: str | None = None
    external_entity_link: str | None = None


#: How an executor answers the manual approvals of the executions it runs, one rule for both
#: executors:
#:
#: * ``"approve"`` / ``"reject"``: answer every approval so;
#: * ``"wait"`` or ``None``: leave it waiting for ``approve()``/``reject()`` on the handle (or a
#:   person in the console, on AWS);
#: * ``"prompt"``: ask on the terminal (:class:`~pipeweaver.execution.LocalExecutor` only: the
#:   AWS executor refuses it, since nobody watches a terminal while it polls);
#: * a callable: receives the :class:`ApprovalRequested` event and returns ``True`` (approve),
#:   ``False`` (reject), ``(bool, summary)`` to give the reason recorded with the decision, or
#:   ``None`` to leave the approval waiting.
ApprovalPolicy: TypeAlias = (
    Literal["approve", "reject", "wait", "prompt"]
    | Callable[[ApprovalRequested], "bool | tuple[bool, str] | None"]
    | None
)


@final
@attrs.frozen(kw_only=True)
class LogLine(_EventBase):
    """One line of an action's log (secrets already masked).

    .. versionadded:: 0.1.0
    """

    stage: str
    action: str
    line: str


Event = (
    ExecutionStarted
    | ExecutionFinished
    | StageStarted
    | StageFinished
    | ActionStarted
    | ActionFinished
    | ApprovalRequested
    | LogLine
)

#: An observer receives every event, one frozen record at a time.
Observer = Callable[[Event], None]


class ExecutionHandle(Protocol):
    """**Protocol:** a running execution that can be watched and steered from another thread."""

    @property
    def id(self) -> str:
        """The pipeline execution id."""
        ...

    def wait(self, timeout: float | None = None) -> Execution:
        """Block until the execution ends (or *timeout* seconds pass); return its record."""
        ...

    def snapshot(self) -> Execution:
        """The execution's record as it is now."""
        ...

    def approve(self, stage: str, action: str, summary: str = "", *, by: str = "") -> None:
        """Approve a waiting manual approval."""
        ...

    def reject(self, stage: str, action: str, summary: str = "", *, by: str = "") -> None:
        """Reject a waiting manual approval (the action fails)."""
        ...

    def stop(self, *, abandon: bool = False, reason: str = "") -> None:
        """Stop: let running actions finish (``abandon=False``) or mark them ``Abandoned``."""
        ...

    def pending_approvals(self) -> list[str]:
        """``Stage/Action`` of the manual approvals waiting for a decision, sorted."""
        ...


class Executor(Protocol):
    """
    **Protocol:** runs whole pipelines.

    ``LocalExecutor`` runs in this process; ``pipeweaver.aws.CodePipelineExecutor`` runs on
    AWS. Both return the same :class:`Execution` record.
    """

    def run(
        self,
        pipeline: Pipeline,
        *,
        variables: Mapping[str, str] | None = None,
        source_revisions: Mapping[str, str] | None = None,
    ) -> Execution:
        """Start an execution and block until it ends."""
        ...

    def start(
        self,
        pipeline: Pipeline,
        *,
        variables: Mapping[str, str] | None = None,
        source_revisions: Mapping[str, str] | None = None,
    ) -> ExecutionHandle:
        """Start an execution and return a handle to it."""
        ...

    def execution(self, execution_id: str) -> Execution:
        """
        The record of one execution, as it is now.

        Raises:
            KeyError: the executor knows no execution *execution_id*.
        """
        ...

    def history(self, pipeline: Pipeline | str | None = None, *, limit: int = 100) -> list[Execution]:
        """Executions of *pipeline* (of every pipeline when ``None``), newest first."""
        ...

    def retry(
        self, execution_id: str, stage: str, *, mode: RetryMode | RetryModeName = ..., by: str = ""
    ) -> ExecutionHandle:
        """Retry *stage* of an ended execution (``RetryStageExecution``); return a handle to it."""
        ...

    def approve(self, execution_id: str, stage: str, action: str, summary: str = "", *, by: str = "") -> None:
        """Approve the manual approval waiting at *stage*/*action* of an execution."""
        ...

    def reject(self, execution_id: str, stage: str, action: str, summary: str = "", *, by: str = "") -> None:
        """Reject the manual approval waiting at *stage*/*action* of an execution (the action fails)."""
        ...

    def stop(self, execution_id: str, *, abandon: bool = False, reason: str = "") -> None:
        """Stop an execution: let running actions finish (``abandon=False``) or mark them ``Abandoned``."""
        ...

    def override_stage_condition(
        self, execution_id: str, stage: str, condition_type: str, *, by: str = ""
    ) -> ExecutionHandle:
        """OverrideStageCondition: let *stage* pass its ``BEFORE_ENTRY`` or ``ON_SUCCESS`` condition."""
        ...
