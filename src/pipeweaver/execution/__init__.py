"""Running pipelines: the executor contract and the local engine.

Layer: execution. Never imports :mod:`pipeweaver.synth` or boto3.
"""

from __future__ import annotations

from .._masking import Masker
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
    ApprovalPolicy,
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
from ._eventbridge import EventBridgeObserver, pattern_matches, to_eventbridge
from ._handlers import HandlerRegistry, default_timeout
from ._history import History
from ._local import LocalExecutionHandle, LocalExecutor
from ._rules import RuleContext, RuleFailed, RuleHandler, cron_matches
from ._watch import Watcher, watch
from ._webhook import WebhookReceiver

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
    "EventBridgeObserver",
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
    "Watcher",
    "WebhookReceiver",
    "cron_matches",
    "default_timeout",
    "pattern_matches",
    "safe_extract",
    "to_eventbridge",
    "watch",
    "zip_directory",
]
