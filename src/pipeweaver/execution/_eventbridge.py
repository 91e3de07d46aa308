"""Local executor events in the shape CodePipeline sends to EventBridge.

Layer: execution. :class:`EventBridgeObserver` is an :data:`~pipeweaver.execution.Observer`
that turns :class:`~pipeweaver.execution.ExecutionStarted`, stage and action events into the
``CodePipeline Pipeline/Stage/Action Execution State Change`` events AWS documents (envelope
``version``/``id``/``detail-type``/``source``/``account``/``time``/``region``/``resources``
and a ``detail`` with ``pipeline``, ``execution-id``, ``stage``, ``action``, ``state``,
``type``...), so notification code and EventBridge event patterns can be tested locally.
:func:`pattern_matches` applies an event pattern (exact values, nested objects, and the
``prefix``, ``anything-but`` and ``exists`` operators) to such an event.

Local events have no AWS account or region; they carry the ones given (placeholders by
default). Approval requests and log lines have no EventBridge counterpart and are skipped;
so are stages ending ``Skipped``, for which AWS documents no state-change event.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from .._model import Pipeline
from ._base import (
    ActionFinished,
    ActionStarted,
    ActionStatus,
    Event,
    ExecutionFinished,
    ExecutionStarted,
    ExecutionStatus,
    StageFinished,
    StageStarted,
    StageStatus,
)

__all__ = ["DETAIL_TYPES", "EventBridgeObserver", "pattern_matches", "to_eventbridge"]

DETAIL_TYPES = {
    "pipeline": "CodePipeline Pipeline Execution State Change",
    "stage": "CodePipeline Stage Execution State Change",
    "action": "CodePipeline Action Execution State Change",
}

_PIPELINE_STATES = {
    ExecutionStatus.SUCCEEDED: "SUCCEEDED",
    ExecutionStatus.FAILED: "FAILED",
    ExecutionStatus.STOPPED: "STOPPED",
    ExecutionStatus.STOPPING: "STOPPING",
    ExecutionStatus.SUPERSEDED: "SUPERSEDED",
    ExecutionStatus.CANCELLED: "CANCELED",
}
_STAGE_STATES = {
    StageStatus.SUCCEEDED: "SUCCEEDED",
    StageStatus.FAILED: "FAILED",
    StageStatus.STOPPED: "STOPPED",
    StageStatus.STOPPING: "STOPPING",
    StageStatus.CANCELLED: "CANCELED",
}
_ACTION_STATES = {
    ActionStatus.SUCCEEDED: "SUCCEEDED",
    ActionStatus.FAILED: "FAILED",
    ActionStatus.ABANDONED: "ABANDONED",
}


def _time(at: datetime) -> str:
    moment = at if at.tzinfo else at.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_eventbridge(
    event: Event,
    *,
    pipeline: Pipeline | None = None,
    region: str = "us-east-1",
    account: str = "123456789012",
    pipeline_version: int = 1,
) -> dict[str, Any] | None:
    """
    The EventBridge event CodePipeline would emit for *event*, or ``None`` when it emits none.

    Args:
        event: An executor event.
        pipeline: The pipeline, to fill each action's ``type`` (owner, category, provider,
            version) and ``region``.
        region: Region written in the envelope and ARN (local runs have none).
        account: Account id written in the envelope and ARN.
        pipeline_version: The pipeline structure version written in ``detail.version``.

    .. versionadded:: 0.1.0
    """
    detail: dict[str, Any] = {
        "pipeline": event.pipeline,
        "execution-id": event.execution_id,
        "version": pipeline_version,
    }
    if isinstance(event, ExecutionStarted):
        kind = "pipeline"
        detail["state"] = "STARTED"
        detail["start-time"] = _time(event.at)
        detail["execution-trigger"] = {
            "trigger-type": event.trigger.trigger_type,
            "trigger-detail": event.trigger.detail,
        }
    elif isinstance(event, ExecutionFinished):
        kind = "pipeline"
        state = _PIPELINE_STATES.get(event.status)
        if state is None:
            return None
        detail["state"] = state
        if event.execution.started_at is not None:
            detail["start-time"] = _time(event.execution.started_at)
    elif isinstance(event, StageStarted):
        kind = "stage"
        detail["stage"] = event.stage
        # A stage attempt after the first is a retry, which AWS reports as RESUMED.
        detail["state"] = "STARTED" if event.attempt <= 1 else "RESUMED"
    elif isinstance(event, StageFinished):
        kind = "stage"
        stage_state = _STAGE_STATES.get(event.status)
        if stage_state is None:
            return None
        detail["stage"] = event.stage
        detail["state"] = stage_state
    elif isinstance(event, ActionStarted | ActionFinished):
        kind = "action"
        detail["stage"] = event.stage
        detail["action"] = event.action
        if isinstance(event, ActionStarted):
            detail["state"] = "STARTED"
        else:
            action_state = _ACTION_STATES.get(event.status)
            if action_state is None:
                return None
            detail["state"] = action_state
            record = event.record
            result = {
                "external-execution-id": record.external_execution_id,
                "external-execution-summary": record.summary or record.error,
            }
            result = {k: v for k, v in result.items() if v}
            if result:
                detail["execution-result"] = result
        detail["region"] = region
        if pipeline is not None:
            found = [a for s, a in pipeline.actions() if s.name == event.stage and a.name == event.action]
            if found:
                action = found[0]
                detail["type"] = {
                    "owner": str(action.action_type.owner),
                    "category": str(action.action_type.category),
                    "provider": action.action_type.provider,
                    "version": action.action_type.version,
                }
                if isinstance(action.region, str):
                    detail["region"] = action.region
    else:
        return None
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": DETAIL_TYPES[kind],
        "source": "aws.codepipeline",
        "account": account,
        "time": _time(event.at),
        "region": region,
        "resources": [f"arn:aws:codepipeline:{region}:{account}:{event.pipeline}"],
        "detail": detail,
    }


class EventBridgeObserver:
    """
    An observer that converts executor events with :func:`to_eventbridge` and passes each
    resulting event to *sink* (e.g. ``events.append``, or your rule's Lambda handler).

    Args:
        sink: Receives each EventBridge-shaped event.
        pattern: Only events matching this EventBridge event pattern reach *sink*.
        pipeline, region, account: As for :func:`to_eventbridge`.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        sink: Callable[[dict[str, Any]], None],
        *,
        pattern: Mapping[str, Any] | None = None,
        pipeline: Pipeline | None = None,
        region: str = "us-east-1",
        account: str = "123456789012",
    ) -> None:
        self.sink = sink
        self.pattern = pattern
        self.pipeline = pipeline
        self.region = region
        self.account = account

    def __call__(self, event: Event) -> None:
        converted = to_eventbridge(event, pipeline=self.pipeline, region=self.region, account=self.account)
        if converted is None:
            return
        if self.pattern is not None and not pattern_matches(self.pattern, converted):
            return
        self.sink(converted)


def _value_matches(rule: Any, present: bool, value: Any) -> bool:
    if isinstance(rule, Mapping):
        if "prefix" in rule:
            return present and isinstance(value, str) and value.startswith(str(rule["prefix"]))
        if "exists" in rule:
            return present is bool(rule["exists"])
        if "anything-but" in rule:
            excluded = rule["anything-but"]
            excluded = excluded if isinstance(excluded, list) else [excluded]
            return present and value not in excluded
        return False
    return present and value == rule


def pattern_matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """
    Whether *event* matches the EventBridge event *pattern*.

    Supports what CodePipeline rules use: lists of exact values (any may match; a list field
    in the event matches when any element does), nested objects, and ``{"prefix": ...}``,
    ``{"anything-but": ...}`` and ``{"exists": bool}``.

    .. versionadded:: 0.1.0
    """
    for key, rule in pattern.items():
        present = key in event
        value = event.get(key)
        if isinstance(rule, Mapping) and not ({"prefix", "exists", "anything-but"} & set(rule)):
            if not present or not isinstance(value, Mapping) or not pattern_matches(rule, value):
                return False
            continue
        rules = rule if isinstance(rule, list) else [rule]
        values = value if isinstance(value, list) else [value]
        if not any(_value_matches(r, present, v) for r in rules for v in values):
            return False
    return True
