"""Running pipelines: the executor contract and the local engine.

Layer: execution. Never imports :mod:`pipeweaver.synth` or boto3. Exports what users of the
executors, handlers, triggers and events need; the machinery behind them (the history store,
the masker, archive helpers, cron matching, default timeouts) stays in the private modules.
"""

from __future__ import annotations

from .._public import publish as _publish
from ._artifacts import ExtractLimits, LocalArtifactStore
from ._base import (
    CONTINUATION_TOKEN_LIMIT,
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
    check_continuation_token,
)
from ._clock import Clock, SystemClock
from ._eventbridge import EventBridgeObserver, pattern_matches, to_eventbridge
from ._handlers import HandlerRegistry
from ._local import LocalExecutionHandle, LocalExecutor
from ._rules import RuleContext, RuleFailed, RuleHandler
from ._settings import EngineSettings, LocalEmulation
from ._watch import Started, Starter, Watcher, watch
from ._webhook import Delivery, WebhookReceiver

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
    "CONTINUATION_TOKEN_LIMIT",
    "Clock",
    "Delivery",
    "EngineSettings",
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
    "LocalArtifactStore",
    "LocalEmulation",
    "LocalExecutionHandle",
    "LocalExecutor",
    "LogLine",
    "Observer",
    "RuleContext",
    "RuleFailed",
    "RuleHandler",
    "RuleRecord",
    "StageFinished",
    "StageRecord",
    "StageStarted",
    "StageStatus",
    "Started",
    "Starter",
    "SystemClock",
    "TriggerInfo",
    "Watcher",
    "WebhookReceiver",
    "check_continuation_token",
    "pattern_matches",
    "to_eventbridge",
    "watch",
]

_publish(globals(), __all__, __name__)
