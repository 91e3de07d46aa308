"""An execution's state as plain records, each with one owner.

Layer: execution. A running execution (:class:`._run.Run`) keeps what it is, what it has done
and what others ask of it in four records, so that who may change what is visible in the
types instead of spread over the driver's attributes:

- :class:`Identity` (frozen): what the execution is (its id, the pipeline it runs, its trigger,
  variables and source revisions, its type and rollback target, the runner that owns it); the
  facade or a retry or rollback (:mod:`._recovery`) makes it, and it never changes;
- :class:`Scope` (frozen): which stages the run walks and how the first one is retried; a
  retry or rollback (:mod:`._recovery`) prepares it before the run starts;
- :class:`Progress`: the execution's record so far (status, summary, times, stage, action and
  rule records, artifacts, namespaces, attempt positions) and what the core's failure
  decisions read and change (stages retried automatically, the stage to roll back, through
  :meth:`Progress.apply`). It changes only through its own
  methods, each under its lock, by the run's engine thread (and, once the run has ended, the
  facade's note about an automatic rollback); :meth:`Progress.snapshot` copies it for readers
  on other threads. :func:`Progress.resumed` and :func:`Progress.carried` seed it from an
  earlier execution;
- :class:`Control`: what other threads ask of the run and where it waits. ``request_stop``
  (any thread) and the gate (under its condition) write it; the engine thread reads it between
  steps. Each field is one assignment of an immutable value, so readers need no lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from datetime import datetime

import attrs

from .._model import ExecutionMode, Pipeline, RetryMode
from ._base import (
    ActionRecord,
    ArtifactRef,
    Execution,
    ExecutionStatus,
    RuleRecord,
    StageRecord,
    TriggerInfo,
)
from ._core import FailureStep, Recovery

__all__ = ["Control", "Identity", "Progress", "Scope"]


def _copied(value: Mapping[str, str]) -> Mapping[str, str]:
    return dict(value)


@attrs.frozen
class Identity:
    """What an execution is: fixed when it is made, the same for every attempt of a retry."""

    id: str
    pipeline: Pipeline
    trigger: TriggerInfo
    #: The runner (``host:pid:nonce``) holding the execution's lease.
    owner: str
    #: The pipeline-level variables' values for this execution.
    variables: Mapping[str, str] = attrs.field(factory=dict, converter=_copied, hash=False)
    #: Source revision overrides (``Stage/Action`` or ``Action`` -> revision).
    source_revisions: Mapping[str, str] = attrs.field(factory=dict, converter=_copied, hash=False)
    #: ``STANDARD`` or ``ROLLBACK``.
    execution_type: str = "STANDARD"
    #: The execution whose artifacts a ``ROLLBACK`` execution runs on.
    rollback_target: str | None = None

    @property
    def name(self) -> str:
        """The pipeline's name."""
        return str(self.pipeline.name)

    @property
    def mode(self) -> ExecutionMode:
        """How concurrent executions of the pipeline share its stages."""
        return self.pipeline.effective_execution_mode


@attrs.frozen
class Scope:
    """The stages a run walks (positions *first* to *last*) and the retry mode of the first."""

    first: int
    last: int
    #: How the first stage is retried (``None``: the run is not a retry).
    retry_mode: RetryMode | None = None


@attrs.define(eq=False)
class Control:
    """Requests from outside the engine thread, and where the run waits."""

    stop_requested: bool = False
    abandon: bool = False
    stop_reason: str = ""
    #: The execution that superseded this one while it waited.
    superseded_by: str | None = None
    #: The stage this run waits in front of (a locked stage or a disabled transition).
    waiting_at: str | None = None


@attrs.define(eq=False)
class Progress:
    """What an execution has done so far: the record its snapshot is made from, and what the
    core's failure decisions (:func:`._core.after_failure`) read and, through :meth:`apply`, change."""

    started_at: datetime
    status: ExecutionStatus = ExecutionStatus.IN_PROGRESS
    summary: str | None = None
    ended_at: datetime | None = None
    #: Stage records with the stage's position in the pipeline (the history's sort key).
    stages: list[tuple[StageRecord, int]] = attrs.Factory(list)
    actions: list[ActionRecord] = attrs.Factory(list)
    #: The latest attempt of each (stage, action).
    latest: dict[tuple[str, str], ActionRecord] = attrs.Factory(dict)
    artifacts: dict[str, ArtifactRef] = attrs.Factory(dict)
    namespaces: dict[str, dict[str, str]] = attrs.Factory(dict)
    #: Per namespace, the output variables its action declared unknowable locally (name ->
    #: why); a reference to one fails naming the reason (see ``_variables.resolve``).
    unknown: dict[str, dict[str, str]] = attrs.Factory(dict)
    rules: list[RuleRecord] = attrs.Factory(list)
    #: Attempts numbered so far (the next one is ``position + 1``).
    position: int = 0
    #: Stages retried automatically already (at most once each, reference §4.5).
    auto_retried: set[str] = attrs.Factory(set)
    #: The stage whose failure rolls it back (set once; a later failure only fails).
    rollback_stage: str | None = None
    lock: threading.Lock = attrs.field(factory=threading.Lock, repr=False)

    @classmethod
    def resumed(
        cls,
        past: Execution,
        namespaces: Mapping[str, dict[str, str]],
        order: Mapping[str, int],
        *,
        started_at: datetime,
    ) -> Progress:
        """The progress of *past* continued (a retry): its records, artifacts and namespaces."""
        return cls(
            started_at=past.started_at or started_at,
            stages=[(s, order.get(s.name, 0)) for s in past.stages],
            actions=list(past.actions),
            latest={(a.stage, a.name): a for a in past.actions},
            artifacts=dict(past.artifacts),
            namespaces=dict(namespaces),
            rules=list(past.rules),
            position=len(past.actions),
        )

    @classmethod
    def carried(cls, past: Execution, namespaces: Mapping[str, dict[str, str]], *, started_at: datetime) -> Progress:
        """A new execution that starts from the artifacts and namespaces of *past* (a rollback)."""
        return cls(started_at=started_at, artifacts=dict(past.artifacts), namespaces=dict(namespaces))

    def next_attempt(self, stage: str) -> int:
        """The attempt number the next run of *stage* gets."""
        with self.lock:
            return 1 + max((r.attempt for r, _ in self.stages if r.name == stage), default=0)

    def put_stage(self, record: StageRecord, position: int) -> None:
        """Record a stage attempt (a new one, or the update of one with the same attempt)."""
        with self.lock:
            for i, (old, _pos) in enumerate(self.stages):
                if old.name == record.name and old.attempt == record.attempt:
                    self.stages[i] = (record, position)
                    break
            else:
                self.stages.append((record, position))

    def put_action(self, record: ActionRecord, previous: ActionRecord | None, slot: int | None) -> int:
        """Record an action attempt: new (*previous* ``None``) or replacing *previous*; return
        its slot in :attr:`actions`, which the caller passes back with the next update."""
        with self.lock:
            if previous is None:
                slot = len(self.actions)
                self.actions.append(record)
            else:
                # The remembered slot avoids list.index, whose attrs __eq__ made each update
                # O(actions) and a 500-action run quadratic (bench/run.py, local run overhead).
                if slot is None or slot >= len(self.actions) or self.actions[slot] is not previous:
                    slot = self.actions.index(previous)
                self.actions[slot] = record
            self.latest[(record.stage, record.name)] = record
            return slot

    def number(self, position: int) -> None:
        """Attempts up to *position* are numbered."""
        with self.lock:
            self.position = position

    def publish(
        self,
        namespace: str | None,
        variables: dict[str, str],
        refs: Iterable[ArtifactRef],
        unknown: Mapping[str, str] | None = None,
    ) -> None:
        """A succeeded action's output variables (under *namespace*, with those it could not
        know locally in *unknown*) and artifacts."""
        with self.lock:
            if namespace:
                self.namespaces[namespace] = variables
                self.unknown[namespace] = dict(unknown or {})
            for ref in refs:
                self.artifacts[ref.name] = ref

    def apply(self, step: FailureStep) -> None:
        """Record the core's decision on a failed stage (see :class:`._core.FailureStep`): a
        stage retried automatically is never again in this execution; a stage to roll back is
        rolled back once the execution has ended."""
        with self.lock:
            if step.recovery is Recovery.RETRY:
                self.auto_retried.add(step.stage)
            elif step.recovery is Recovery.ROLL_BACK:
                self.rollback_stage = step.stage

    def add_rule(self, record: RuleRecord) -> None:
        """Record a stage-condition rule's result."""
        with self.lock:
            self.rules.append(record)

    def note(self, summary: str | None) -> None:
        """Why the execution is failing (kept until it ends)."""
        with self.lock:
            self.summary = summary

    def stopping(self) -> None:
        """A stop was requested and is under way."""
        with self.lock:
            self.status = ExecutionStatus.STOPPING

    def end(self, status: ExecutionStatus, summary: str | None, at: datetime) -> None:
        """The execution ended."""
        with self.lock:
            self.status = status
            self.summary = summary
            self.ended_at = at

    def append_summary(self, note: str) -> None:
        """Add *note* to the summary of the ended execution."""
        with self.lock:
            self.summary = (self.summary or "") + note

    def snapshot(self, identity: Identity) -> Execution:
        """The record of the execution *identity* as it is now."""
        with self.lock:
            return Execution(
                id=identity.id,
                pipeline=identity.name,
                status=self.status,
                started_at=self.started_at,
                ended_at=self.ended_at,
                trigger=identity.trigger,
                stages=tuple(r for r, _ in self.stages),
                actions=tuple(self.actions),
                artifacts=dict(self.artifacts),
                variables=dict(identity.variables),
                execution_type=identity.execution_type,
                rollback_target=identity.rollback_target,
                status_summary=self.summary,
                rules=tuple(self.rules),
            )
