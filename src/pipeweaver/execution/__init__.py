"""Running pipelines: the executor contract and the local engine.

Layer: execution. Never imports :mod:`pipeweaver.synth` or boto3.
"""

from __future__ import annotations

from ._base import (
    ActionContext,
    ActionFailed,
    ActionFinished,
    ActionHandler,
    ActionRecord,
    ActionResult,
    ActionStarted,
    ActionStatus,
    ApprovalRequested,
    ArtifactRef,
    ArtifactStore,
    Event,
    Execution,
    ExecutionFinished,
    ExecutionHandle,
    ExecutionStarted,
    ExecutionStatus,
    Executor,
    FailureType,
    LogLine,
    Observer,
    StageFinished,
    StageRecord,
    StageStarted,
    StageStatus,
    TriggerInfo,
)

__all__ = [
    "ActionContext",
    "ActionFailed",
    "ActionFinished",
    "ActionHandler",
    "ActionRecord",
    "ActionResult",
    "ActionStarted",
    "ActionStatus",
    "ApprovalRequested",
    "ArtifactRef",
    "ArtifactStore",
    "Event",
    "Execution",
    "ExecutionFinished",
    "ExecutionHandle",
    "ExecutionStarted",
    "ExecutionStatus",
    "Executor",
    "FailureType",
    "LogLine",
    "Observer",
    "StageFinished",
    "StageRecord",
    "StageStarted",
    "StageStatus",
    "TriggerInfo",
]
