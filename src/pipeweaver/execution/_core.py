"""The engine's decisions, as pure functions over plain records: no threads, SQLite or clock.

Layer: execution. In the spirit of h11's separation of protocol and I/O, this module holds
*what* CodePipeline does (reference §4) and :mod:`._run` *does* it: runs the actions, waits,
writes the history and emits the events. Every function here takes the state it reads as
arguments and returns a typed decision, so a test can walk an execution step by step:

- :func:`waves`: the runOrder waves a stage runs (only the actions a retry re-runs);
- :func:`plan_wave`: each action's attempt number, position and deadline;
- :class:`WaveClock`: which actions of a running wave timed out, and how long to wait;
- :func:`stage_status`: how a stage ended, from its waves and a stop;
- :func:`after_failure` and :func:`after_conditions`: what a failed stage does next (retry
  once, roll back, evaluate its onFailure conditions, fail), as a :class:`FailureStep` the
  driver applies to the execution's ``Progress`` (``Progress.apply``);
- :func:`execution_status`: what a stage's end means for the execution.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable, Mapping, Sequence, Set
from typing import Generic, TypeVar

import attrs

from .._model import Action, Result, RetryMode, Stage
from ._base import ActionRecord, ActionStatus, ExecutionStatus, StageStatus

__all__ = [
    "FailureStep",
    "PlannedAttempt",
    "Recovery",
    "WaveClock",
    "after_conditions",
    "after_failure",
    "execution_status",
    "not_succeeded",
    "plan_wave",
    "stage_status",
    "waves",
]

K = TypeVar("K", bound=Hashable)


def not_succeeded(stage: Stage, latest: Mapping[tuple[str, str], ActionRecord]) -> set[str]:
    """The actions of *stage* whose latest attempt did not succeed (what ``FAILED_ACTIONS`` re-runs)."""
    return {
        a.name
        for a in stage.actions
        if (rec := latest.get((stage.name, a.name))) is None or rec.status is not ActionStatus.SUCCEEDED
    }


def waves(stage: Stage, only: Set[str] | None = None) -> list[list[Action]]:
    """The waves of *stage* in runOrder, each with the actions in *only* (all when ``None``); none empty."""
    found = []
    for wave in stage.waves():
        todo = [a for a in wave if only is None or a.name in only]
        if todo:
            found.append(todo)
    return found


@attrs.frozen
class PlannedAttempt:
    """One action of a wave about to start."""

    action: Action
    attempt: int
    #: Order of the attempt within the execution (1, 2, ...), the history's sort key.
    position: int
    #: Monotonic time at which the attempt times out.
    deadline: float


def plan_wave(
    stage: Stage,
    actions: Sequence[Action],
    *,
    latest: Mapping[tuple[str, str], ActionRecord],
    position: int,
    start: float,
    timeout_for: Callable[[Stage, Action], float],
) -> list[PlannedAttempt]:
    """Number the attempts of a wave starting at monotonic time *start*, after *position* earlier ones."""
    planned = []
    for action in actions:
        prev = latest.get((stage.name, action.name))
        position += 1
        planned.append(
            PlannedAttempt(
                action=action,
                attempt=prev.attempt + 1 if prev is not None else 1,
                position=position,
                deadline=start + timeout_for(stage, action),
            )
        )
    return planned


class WaveClock(Generic[K]):
    """The deadlines of a running wave: which attempts are still pending and which timed out.

    Keys are whatever the driver tracks attempts by; times are the driver's monotonic clock.
    """

    def __init__(self, deadlines: Mapping[K, float]) -> None:
        self._deadlines = dict(deadlines)

    @property
    def pending(self) -> bool:
        """Whether any attempt has neither ended nor timed out."""
        return bool(self._deadlines)

    def ended(self, key: K) -> bool:
        """Attempt *key* ended; ``False`` when it was no longer pending (it had timed out)."""
        return self._deadlines.pop(key, None) is not None

    def expired(self, now: float) -> list[K]:
        """The pending attempts whose deadline is at or before *now* (no longer pending)."""
        late = [k for k, deadline in self._deadlines.items() if now >= deadline]
        for k in late:
            del self._deadlines[k]
        return late

    def abandon(self) -> list[K]:
        """Every pending attempt (no longer pending): the execution was stopped with abandon."""
        keys = list(self._deadlines)
        self._deadlines.clear()
        return keys

    def wait(self, now: float, *, flush_by: float | None, cap: float) -> float:
        """Seconds to wait for a completion: until the next deadline or *flush_by*, at most *cap*."""
        wait = min(self._deadlines.values()) - now
        if flush_by is not None:
            wait = min(wait, flush_by - now)
        return max(0.0, min(wait, cap))


def stage_status(*, ok: bool, stop_requested: bool) -> StageStatus:
    """How a stage whose waves ended *ok* (or not) ended: a stop turns a failure into STOPPED."""
    if stop_requested and not ok:
        return StageStatus.STOPPED
    return StageStatus.SUCCEEDED if ok else StageStatus.FAILED


class Recovery(enum.Enum):
    """What a failed stage does next (reference §4.5)."""

    #: Run the stage again now (once per execution), re-running ``FailureStep.retry_mode``'s actions.
    RETRY = "retry"
    #: Fail; once the execution has ended, a rollback of the stage starts.
    ROLL_BACK = "roll back"
    #: Evaluate the stage's onFailure conditions first; :func:`after_conditions` decides on their verdict.
    CONDITIONS = "conditions"
    #: Fail.
    FAIL = "fail"


@attrs.frozen
class FailureStep:
    """What the failed stage *stage* does next, and so what it changes in the execution's
    progress (``Progress.apply``): a ``RETRY`` counts as the stage's one automatic retry, a
    ``ROLL_BACK`` names the stage to roll back; ``CONDITIONS`` and ``FAIL`` change nothing."""

    recovery: Recovery
    stage: str
    #: Which actions a ``RETRY`` re-runs.
    retry_mode: RetryMode | None = None


def after_failure(stage: Stage, *, auto_retried: Set[str], stop_requested: bool, rolling_back: bool) -> FailureStep:
    """The onFailure decision of *stage* (reference §4.5): at most one automatic retry per stage.

    *rolling_back* is set once a rollback is decided (a later failure only fails);
    *auto_retried* names the stages retried automatically already.
    """
    failure = stage.on_failure
    if failure is None or rolling_back:
        return FailureStep(Recovery.FAIL, stage.name)
    if failure.result is Result.RETRY and stage.name not in auto_retried and not stop_requested:
        return FailureStep(Recovery.RETRY, stage.name, retry_mode=failure.retry_mode or RetryMode.FAILED_ACTIONS)
    if failure.result is Result.ROLLBACK:
        return FailureStep(Recovery.ROLL_BACK, stage.name)
    return FailureStep(Recovery.CONDITIONS if failure.conditions else Recovery.FAIL, stage.name)


def after_conditions(stage: str, verdict: Result | None) -> FailureStep:
    """What the *verdict* of a stage's onSuccess or onFailure conditions (the result of the first
    condition that failed, ``None`` when all passed) does to the failed stage *stage*:
    ``ROLLBACK`` rolls it back, anything else leaves it failed."""
    return FailureStep(Recovery.ROLL_BACK if verdict is Result.ROLLBACK else Recovery.FAIL, stage)


def execution_status(outcome: StageStatus) -> ExecutionStatus | None:
    """What a stage's end means for the execution: ``None`` to go on to the next stage."""
    if outcome is StageStatus.STOPPED:
        return ExecutionStatus.STOPPED
    if outcome is StageStatus.FAILED:
        return ExecutionStatus.FAILED
    return None
