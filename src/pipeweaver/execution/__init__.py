"""Running pipelines: the executor contract and the local engine.

Layer: execution. Never imports :mod:`pipeweaver.synth` or boto3.
"""

from __future__ import annotations

from ._artifacts import ExtractLimits, LocalArtifactStore, safe_extract, zip_directory
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
    RuleRecord,
    StageFinished,
    StageRecord,
    StageStarted,
    StageStatus,
    TriggerInfo,
)
from ._handlers import HandlerRegistry, default_timeout
from ._history import History
from ._local import ApprovalPolicy, LocalExecutionHandle, LocalExecutor
from ._masking import Masker
from ._rules import RuleContext, RuleFailed, RuleHandler, cron_matches

__all__ = [
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
    "Executor",
    "ExtractLimits",
    "FailureType",
    "HandlerRegistry",
    "History",
    "LocalArtifactStore",
    "LocalExecutionHandle",
    "LocalExecutor",
    "LogLine",
    "Masker",
    "Observer",
    "RuleContext",
    "RuleFailed",
    "RuleHandler",
    "RuleRecord",
    "StageFinished",
    "StageRecord",
    "StageStarted",
    "StageStatus",
    "TriggerInfo",
    "cron_matches",
    "default_timeout",
    "safe_extract",
    "zip_directory",
]
