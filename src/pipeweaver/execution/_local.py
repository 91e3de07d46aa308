"""The local executor: runs a pipeline in this process with CodePipeline's semantics.

Layer: execution. One engine thread per execution walks the stages; actions run on one
shared thread pool. Every state change is queued as SQLite statements and written (one
transaction per batch) before the engine acts on it: action starts before the wave is
submitted, results before the next wave starts. Completions wake the engine through a queue,
so a wave starts the moment the previous one ends (no polling sleeps).

Concurrent executions of one pipeline meet at a per-pipeline :class:`_Gate` that implements
the execution modes (reference §4.3): SUPERSEDED and QUEUED hold one execution per stage,
PARALLEL none; disabled inbound transitions hold executions in front of a stage (§4.4).
The stage locks and waiting lines hold across processes sharing the work directory (a
``flock`` per stage and a ``stage_waits`` table, :mod:`._stagelock`); disabled transitions
and the lease on each execution are the rest of what processes share.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import queue
import sys
import threading
import time
import traceback
import uuid
import warnings
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, NoReturn, TextIO, final, overload

import attrs

from .._codec import from_codepipeline, to_codepipeline
from .._graph import VARIABLE_REF
from .._masking import MASK, SECRET_CONFIGURATION_KEYS, Masker
from .._model import (
    Action,
    ActionCategory,
    EnvironmentVariableType,
    ExecutionMode,
    Expression,
    Pipeline,
    Result,
    RetryMode,
    Stage,
)
from .._validate import lint
from ..errors import ArtifactError, ExecutionError, HandlerNotFoundError, ValidationError
from ._artifacts import LocalArtifactStore
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
    ExecutionStarted,
    ExecutionStatus,
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
from ._environment import base_environment, check_passthrough
from ._handlers import Builtins, HandlerFn, HandlerRegistry, builtin_handlers, default_timeout
from ._history import History, Op, runner_id
from ._paths import confine, s3_bucket_problem
from ._rules import RuleContext, RuleFailed, RuleHandler, builtin_rules
from ._shell import EXITING
from ._stagelock import POLL, SharedStages

__all__ = ["ApprovalPolicy", "LocalExecutionHandle", "LocalExecutor"]

_OUTPUT_VARIABLES_LIMIT = 122_880
_LEASE_SECONDS = 30.0
_MAX_CONTINUATIONS = 10_000
_FLUSH_WINDOW = 0.05
#: How to fix an artifact name that would put its folder outside the action's (checks are off
#: when a definition is loaded unchecked and run with ``validate=False``).
_ARTIFACT_FIX = "artifact names are 1-100 letters, digits, '_' and '-' (ArtifactName)"


def _now() -> datetime:
    return datetime.now(UTC)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:g} s"
    if seconds < 7200:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:g} h"


def _keep(expr: Expression, _path: str) -> Any:
    return expr.raw


def _definition(pipeline: Pipeline) -> dict[str, Any]:
    data = to_codepipeline(pipeline, resolve=_keep)
    # Stored in the history: secret configuration values become ****, as GetPipeline shows
    # them (no local handler reads them; found by tests/security/test_secrets.py).
    for stage in data["stages"]:
        for action in stage["actions"]:
            configuration = action.get("configuration") or {}
            for key in SECRET_CONFIGURATION_KEYS & configuration.keys():
                configuration[key] = MASK
    return data


# -- the action thread pool ------------------------------------------------------------------


class _PoolState:
    """What a pool's threads share: the work queue and the idle count (never the pool itself,
    so that a pool nobody holds is collected and its threads told to stop)."""

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[tuple[Callable[..., None], tuple[Any, ...]] | None] = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.idle = 0  # threads up (or coming up) that no queued task has claimed
        self.unclaimed = 0  # tasks queued while every thread was busy and the pool full
        self.closed = False

    def stop(self) -> None:
        with self.lock:
            self.closed = True
        self.queue.put(None)  # each thread passes it on as it leaves

    def work(self) -> None:
        state = self
        while True:
            item = state.queue.get()
            if item is None:
                state.queue.put(None)
                return
            fn, args = item
            # As in ThreadPoolExecutor, a task's error stays with the task (_execute reports
            # every Exception as the action's failure) and the thread goes on.
            with contextlib.suppress(BaseException):
                fn(*args)
            del item, fn, args
            with state.lock:
                if state.unclaimed:
                    state.unclaimed -= 1
                else:
                    state.idle += 1


_POOLS: weakref.WeakSet[_PoolState] = weakref.WeakSet()
_register_atexit = getattr(threading, "_register_atexit", None)


def _stop_pools() -> None:
    # Before the interpreter joins its threads: idle ones leave, busy ones after their action
    # (EXITING, set next, tells shell commands and approvals to give up).
    for state in list(_POOLS):
        state.stop()


if _register_atexit is not None:
    _register_atexit(_stop_pools)


class _ActionPool:
    """
    The executor's action threads: like ``ThreadPoolExecutor`` (threads made on demand up to a
    size, an action's error stays with the action, threads finish their action at interpreter
    exit), plus :meth:`prestart`.

    A thread start waits until the new thread runs, which on a busy machine can take a
    scheduler tick; ``ThreadPoolExecutor`` starts them one by one inside ``submit``, so the
    first wave of a fresh executor started its actions a few milliseconds apart (bench/run.py,
    critical path: the source stage). :meth:`prestart` makes a wave's threads while the engine
    prepares and writes that wave; ``submit`` never waits for a thread start it can avoid.
    """

    def __init__(self, size: int, prefix: str) -> None:
        self._size = size
        self._prefix = prefix
        self._state = _PoolState()
        self._threads: list[threading.Thread] = []
        self._count = 0  # threads started or reserved
        _POOLS.add(self._state)
        weakref.finalize(self, self._state.stop)

    def _spawn(self, number: int) -> None:
        thread = threading.Thread(
            target=self._state.work, name=f"{self._prefix}_{number}", daemon=_register_atexit is None
        )
        thread.start()
        self._threads.append(thread)

    def prestart(self, count: int) -> None:
        """Start threads until there are *count* (at most the pool's size)."""
        state = self._state
        while True:
            with state.lock:
                if state.closed or self._count >= min(count, self._size):
                    return
                number = self._count
                self._count += 1
                state.idle += 1
            self._spawn(number)

    def submit(self, fn: Callable[..., None], *args: Any) -> None:
        """Run ``fn(*args)`` on a pool thread."""
        state = self._state
        with state.lock:
            if state.closed:
                raise RuntimeError("cannot schedule new actions after the executor was closed")
            state.queue.put((fn, args))
            if state.idle:
                state.idle -= 1
                return
            if self._count >= self._size:
                state.unclaimed += 1
                return
            number = self._count
            self._count += 1
        self._spawn(number)

    def shutdown(self, *, wait: bool = True, cancel_futures: bool = True) -> None:
        """Refuse new work, drop queued work (*cancel_futures*), and let the threads leave."""
        state = self._state
        with state.lock:
            state.closed = True
        if cancel_futures:
            with contextlib.suppress(queue.Empty):
                while True:
                    state.queue.get_nowait()
        state.stop()
        if wait:
            for thread in list(self._threads):
                if thread is not threading.current_thread():
                    thread.join()


# -- gates: execution modes and transitions ------------------------------------------------


class _Gate:
    """Per-pipeline stage locks, waiting lines and disabled inbound transitions.

    Within this executor the condition variable orders executions; *shared* extends the
    stage locks and the waiting lines of SUPERSEDED and QUEUED pipelines to every process on
    the work directory (see :mod:`._stagelock`).
    """

    def __init__(self, disabled: Mapping[str, str], shared: SharedStages) -> None:
        self.cond = threading.Condition()
        self.holders: dict[str, str] = {}
        self.waiting: dict[str, list[_Run]] = {}
        self.disabled: dict[str, str] = dict(disabled)
        self.shared = shared
        self.locks: dict[str, int] = {}

    def _claim(self, run: _Run, stage: str, line: list[tuple[str, int, str | None]]) -> bool:
        """Take *stage* across processes (it is free in this one); *line* is who waits for it."""
        # This executor's own waiting runs are ordered by the in-process line; waiting for
        # one of them here could deadlock (it waits for the line's head, which is *run*).
        here = {r.id for r in self.waiting.get(stage, ())}
        older = [seq for eid, seq, by in line if eid not in here and by is None and seq < run.seq]
        if older and run.mode is ExecutionMode.QUEUED:
            return False
        fd = self.shared.try_lock(stage)
        if fd is None:
            return False
        self.locks[stage] = fd
        self.holders[stage] = run.id
        if older:
            # An older execution still waits (its process has not looked since the stage came
            # free): arriving later, this one supersedes it, as it would have while it waited.
            self.shared.supersede(stage, run.id, run.seq)
        return True

    def enter(self, run: _Run, stage: str) -> bool:
        """Wait until *run* may enter *stage*; ``False`` when it was superseded or stopped."""
        mode = run.mode
        joined = False
        with self.cond:
            line = self.waiting.setdefault(stage, [])
            line.append(run)
            run.waiting_at = stage
            if mode is ExecutionMode.SUPERSEDED:
                for other in list(line):
                    if other is not run and other.seq < run.seq:
                        other.superseded_by = run.id
                        line.remove(other)
                self.cond.notify_all()
            try:
                while True:
                    if run.superseded_by is not None or run.stop_requested:
                        return False
                    if mode is ExecutionMode.PARALLEL:
                        if stage not in self.disabled:
                            return True
                        self.cond.wait()
                        continue
                    admissible = (
                        stage not in self.disabled
                        and stage not in self.holders
                        and (mode is not ExecutionMode.QUEUED or line[0] is run)
                    )
                    shared_line = self.shared.waiting(stage) if joined or admissible else []
                    if joined:
                        mark = next((by for eid, _, by in shared_line if eid == run.id), None)
                        if mark is not None:
                            run.superseded_by = mark
                            return False
                    if admissible and self._claim(run, stage, shared_line):
                        return True
                    if not joined:
                        # Waiting: stand in the shared line, where a later execution of another
                        # process supersedes this one (SUPERSEDED) or queues behind it (QUEUED).
                        self.shared.join(stage, run.id, run.seq, supersede=mode is ExecutionMode.SUPERSEDED)
                        joined = True
                    self.cond.wait(POLL)
            finally:
                if run in line:
                    line.remove(run)
                run.waiting_at = None
                if joined:
                    self.shared.leave(stage, run.id)

    def try_enter(self, run: _Run, stage: str) -> bool:
        """Enter *stage* only if *run* may do so at once (nobody waits, nothing holds it)."""
        with self.cond:
            if run.superseded_by is not None or run.stop_requested or self.waiting.get(stage):
                return False
            if stage in self.disabled:
                return False
            if run.mode is not ExecutionMode.PARALLEL:
                if stage in self.holders:
                    return False
                return self._claim(run, stage, self.shared.waiting(stage))
            return True

    def leave(self, run: _Run, stage: str) -> None:
        with self.cond:
            if self.holders.get(stage) == run.id:
                del self.holders[stage]
                fd = self.locks.pop(stage, None)
                if fd is not None:
                    self.shared.unlock(fd)
            self.cond.notify_all()

    def wake(self) -> None:
        with self.cond:
            self.cond.notify_all()


# -- one action attempt --------------------------------------------------------------------


class _LocalContext(ActionContext):
    """An :class:`ActionContext` whose scratch directory is created when first used.

    Creating a directory costs a few hundred microseconds on some file systems, more than the
    whole per-action budget of a no-op action; most handlers never touch their scratch space.
    """

    __slots__ = ("_made", "_scratch")
    _made: bool
    _scratch: Path

    @property
    def workdir(self) -> Path:
        if not self._made:
            self._scratch.mkdir(parents=True, exist_ok=True)
            self._made = True
        return self._scratch

    @workdir.setter
    def workdir(self, value: Path) -> None:
        self._scratch = value
        self._made = False


class _Job:
    __slots__ = (
        "action",
        "attempt",
        "cancel",
        "deadline",
        "dir",
        "error",
        "index",
        "log_fh",
        "log_path",
        "position",
        "record",
        "refs",
        "resolved",
        "result",
        "stage",
        "status",
    )

    def __init__(
        self, stage: Stage, action: Action, attempt: int, index: int, directory: Path, deadline: float
    ) -> None:
        self.stage = stage
        self.action = action
        self.attempt = attempt
        self.index = index
        self.dir = directory
        self.deadline = deadline
        self.cancel = threading.Event()
        self.status = ActionStatus.IN_PROGRESS
        self.error: str | None = None
        self.result: ActionResult | None = None
        self.refs: list[ArtifactRef] = []
        self.resolved: dict[str, str] = {}
        self.log_fh: TextIO | None = None
        self.log_path: Path | None = None
        self.record: ActionRecord | None = None
        self.position: int | None = None


class _Approval:
    def __init__(self, token: str) -> None:
        self.token = token
        self.event = threading.Event()


# -- one execution -------------------------------------------------------------------------


class _Run:
    """The engine of one execution (or one retry/rollback of it)."""

    def __init__(
        self,
        executor: LocalExecutor,
        pipeline: Pipeline,
        *,
        execution_id: str,
        variables: Mapping[str, str],
        source_revisions: Mapping[str, str],
        trigger: TriggerInfo,
        execution_type: str = "STANDARD",
        rollback_target: str | None = None,
    ) -> None:
        self.x = executor
        self.pipeline = pipeline
        self.name = str(pipeline.name)
        self.mode = pipeline.effective_execution_mode
        self.id = execution_id
        self.variables = dict(variables)
        self.source_revisions = dict(source_revisions)
        self.trigger = trigger
        self.execution_type = execution_type
        self.rollback_target = rollback_target
        self.seq = 0
        self.status = ExecutionStatus.IN_PROGRESS
        self.summary: str | None = None
        self.started_at = _now()
        self.ended_at: datetime | None = None
        self.lock = threading.Lock()
        self.stages: list[tuple[StageRecord, int]] = []
        self.actions: list[ActionRecord] = []
        self.latest: dict[tuple[str, str], ActionRecord] = {}
        self.artifacts: dict[str, ArtifactRef] = {}
        self.namespaces: dict[str, dict[str, str]] = {}
        self.rules: list[RuleRecord] = []
        self.ops: list[Op] = []
        self.queued: list[Event] = []
        self.done = threading.Event()
        self.stop_requested = False
        self.abandon = False
        self.stop_reason = ""
        self.superseded_by: str | None = None
        self.waiting_at: str | None = None
        self.approvals: dict[tuple[str, str], _Approval] = {}
        self.completions: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self.events: deque[Event] = deque()
        self.events_cond = threading.Condition()
        self.followup: _Run | None = None
        self.rollback_stage: str | None = None
        self.rule_cancels: set[threading.Event] = set()
        self.auto_retried: set[str] = set()
        self.position = 0
        self.lease_renewed = time.monotonic()
        self.run_dir = executor.workdir / "runs" / execution_id
        self.owner = executor.owner
        self.first_stage = 0
        self.last_stage = len(pipeline.stages) - 1
        self.retry_mode: RetryMode | None = None
        self.after_flush: list[Callable[[], None]] = []

    # events and writes ---------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        with self.events_cond:
            self.events.append(event)
            self.events_cond.notify_all()
        for observer in self.x.observers:
            try:
                observer(event)
            except Exception as exc:  # an observer must never break the run
                warnings.warn(f"pipeweaver observer {observer!r} raised {exc!r}", RuntimeWarning, stacklevel=2)

    def flush(self) -> None:
        if time.monotonic() - self.lease_renewed > _LEASE_SECONDS / 3:
            self.ops.append(History.op_renew(self.id, self.owner, _LEASE_SECONDS))
            self.lease_renewed = time.monotonic()
        if self.ops:
            ops, self.ops = self.ops, []
            self.x._history.write(ops)
        # Events about state changes go out only once those changes are on disk.
        if self.queued:
            events, self.queued = self.queued, []
            for event in events:
                self.emit(event)
        # So does what waited for them (leaving the stage that just ended, see _drive).
        if self.after_flush:
            hooks, self.after_flush = self.after_flush, []
            for hook in hooks:
                hook()

    def _stage_record(self, record: StageRecord, position: int) -> None:
        with self.lock:
            for i, (old, _pos) in enumerate(self.stages):
                if old.name == record.name and old.attempt == record.attempt:
                    self.stages[i] = (record, position)
                    break
            else:
                self.stages.append((record, position))
        self.ops.append(History.op_stage(self.id, record, position))

    def _action_record(self, job: _Job, record: ActionRecord) -> None:
        with self.lock:
            if job.record is None:
                job.position = len(self.actions)
                self.actions.append(record)
            else:
                # The remembered slot avoids list.index, whose attrs __eq__ made each update
                # O(actions) and a 500-action run quadratic (bench/run.py, local run overhead).
                position = job.position
                if position is None or position >= len(self.actions) or self.actions[position] is not job.record:
                    position = self.actions.index(job.record)
                self.actions[position] = record
            job.record = record
            self.latest[(record.stage, record.name)] = record
        self.ops.append(History.op_action(self.id, record, job.index, job.action.namespace))

    def snapshot(self) -> Execution:
        with self.lock:
            return Execution(
                id=self.id,
                pipeline=self.name,
                status=self.status,
                started_at=self.started_at,
                ended_at=self.ended_at,
                trigger=self.trigger,
                stages=tuple(r for r, _ in self.stages),
                actions=tuple(self.actions),
                artifacts=dict(self.artifacts),
                variables=dict(self.variables),
                execution_type=self.execution_type,
                rollback_target=self.rollback_target,
                status_summary=self.summary,
                rules=tuple(self.rules),
            )

    # the main loop -------------------------------------------------------------------------

    def main(self) -> None:
        try:
            self._drive()
        except BaseException as exc:  # an engine bug still ends the execution readably
            self.ops.clear()
            self._finish(ExecutionStatus.FAILED, f"internal error in the local executor: {exc!r}")
            traceback.print_exc(file=sys.stderr)
        finally:
            try:
                self.x._history.write([History.op_release(self.id, self.owner)])
                # A failing rollback never starts another rollback (it would target the same
                # execution again and loop).
                if (
                    self.rollback_stage is not None
                    and self.status is ExecutionStatus.FAILED
                    and self.execution_type == "STANDARD"
                ):
                    # Started before `done` is set, so wait() follows it without a race.
                    self.followup = self.x._auto_rollback(self)
            finally:
                self.x._forget(self)
                self.done.set()
                with self.events_cond:
                    self.events_cond.notify_all()

    def _drive(self) -> None:
        gate = self.x._gate(self.pipeline)
        stages = self.pipeline.stages
        index = self.first_stage
        # A stage that succeeded leaves its end queued, not written, and stays held. When the
        # next stage can be entered at once, the end, the next stage's start and its first
        # wave's starts go out in one transaction, and the ended stage is left once that is on
        # disk; otherwise the end is written and the stage left before waiting at the next.
        held: str | None = None
        try:
            while index <= self.last_stage:
                stage = stages[index]
                if held is not None:
                    previous = held
                    if not self.stop_requested and stage.before_entry is None and gate.try_enter(self, stage.name):
                        held = stage.name
                        self.after_flush.append(functools.partial(gate.leave, self, previous))
                    else:
                        self.flush()
                        held = None
                        gate.leave(self, previous)
                if held is None:
                    if self.stop_requested:
                        self._finish(ExecutionStatus.STOPPED, self._stopped_summary())
                        return
                    if not gate.enter(self, stage.name):
                        if self.superseded_by is not None:
                            self._finish(ExecutionStatus.SUPERSEDED, f"Superseded by execution {self.superseded_by}")
                        else:
                            self._finish(ExecutionStatus.STOPPED, self._stopped_summary())
                        return
                    held = stage.name
                outcome = self._stage(stage, index)
                index += 1
                if outcome == "succeeded":
                    continue
                held = None
                gate.leave(self, stage.name)
                if outcome == "stopped":
                    self._finish(ExecutionStatus.STOPPED, self._stopped_summary())
                    return
                if outcome == "failed":
                    self._finish(ExecutionStatus.FAILED, self.summary or f"stage {stage.name} failed")
                    return
            self._finish(ExecutionStatus.SUCCEEDED, None)
        finally:
            # Normally empty by now (a flush ran them); after an engine error the stages are
            # still left, so that other executions do not wait for them forever.
            hooks, self.after_flush = self.after_flush, []
            for hook in hooks:
                hook()
            if held is not None:
                gate.leave(self, held)

    def _stopped_summary(self) -> str:
        how = "stop and abandon" if self.abandon else "stop and wait"
        return f"Stopped ({how}){': ' + self.stop_reason if self.stop_reason else ''}"

    def _finish(self, status: ExecutionStatus, summary: str | None) -> None:
        summary = self.x.masker(summary) if summary else summary
        with self.lock:
            self.status = status
            self.summary = summary
            self.ended_at = _now()
        self.ops.append(History.op_status(self.id, status, summary, self.ended_at))
        self.flush()
        snap = self.snapshot()
        self.emit(
            ExecutionFinished(
                execution_id=self.id, pipeline=self.name, at=self.ended_at or _now(), status=status, execution=snap
            )
        )

    # stages --------------------------------------------------------------------------------

    def _next_attempt(self, stage: str) -> int:
        with self.lock:
            return 1 + max((r.attempt for r, _ in self.stages if r.name == stage), default=0)

    def _stage(self, stage: Stage, index: int) -> str:
        retry_mode = self.retry_mode if index == self.first_stage else None
        self.retry_mode = None
        if retry_mode is None and stage.before_entry is not None:
            verdict = self._conditions(stage, "BEFORE_ENTRY", stage.before_entry.conditions, Result.FAIL)
            if verdict is not None:
                attempt = self._next_attempt(stage.name)
                now = _now()
                if verdict is Result.SKIP:
                    self._stage_record(
                        StageRecord(
                            name=stage.name, status=StageStatus.SKIPPED, attempt=attempt, started_at=now, ended_at=now
                        ),
                        index,
                    )
                    self.queued.append(
                        StageFinished(
                            execution_id=self.id,
                            pipeline=self.name,
                            at=now,
                            stage=stage.name,
                            status=StageStatus.SKIPPED,
                            attempt=attempt,
                        )
                    )
                    self.flush()
                    return "skipped"
                entry_error = f"beforeEntry condition of stage {stage.name} failed"
                self._stage_record(
                    StageRecord(
                        name=stage.name,
                        status=StageStatus.FAILED,
                        attempt=attempt,
                        started_at=now,
                        ended_at=now,
                        error=entry_error,
                    ),
                    index,
                )
                self.summary = entry_error
                self.queued.append(
                    StageFinished(
                        execution_id=self.id,
                        pipeline=self.name,
                        at=now,
                        stage=stage.name,
                        status=StageStatus.FAILED,
                        attempt=attempt,
                    )
                )
                self.flush()
                return "failed"
        only: set[str] | None = None
        if retry_mode is RetryMode.FAILED_ACTIONS:
            only = self._not_succeeded(stage)
        while True:
            attempt = self._next_attempt(stage.name)
            started = _now()
            self._stage_record(
                StageRecord(name=stage.name, status=StageStatus.IN_PROGRESS, attempt=attempt, started_at=started), index
            )
            # Written (and announced) together with the first wave's action starts.
            self.queued.append(
                StageStarted(execution_id=self.id, pipeline=self.name, at=started, stage=stage.name, attempt=attempt)
            )
            ok, error = self._waves(stage, only)
            if self.stop_requested and not ok:
                status = StageStatus.STOPPED
            elif ok and stage.on_success is not None:
                verdict = self._conditions(stage, "ON_SUCCESS", stage.on_success.conditions, Result.FAIL)
                if verdict is not None:
                    ok, error = False, f"onSuccess condition of stage {stage.name} failed"
                    if verdict is Result.ROLLBACK:
                        self.rollback_stage = stage.name
                status = StageStatus.SUCCEEDED if ok else StageStatus.FAILED
            else:
                status = StageStatus.SUCCEEDED if ok else StageStatus.FAILED
            ended = _now()
            self._stage_record(
                StageRecord(
                    name=stage.name, status=status, attempt=attempt, started_at=started, ended_at=ended, error=error
                ),
                index,
            )
            self.queued.append(
                StageFinished(
                    execution_id=self.id, pipeline=self.name, at=ended, stage=stage.name, status=status, attempt=attempt
                )
            )
            if status is StageStatus.SUCCEEDED:
                return "succeeded"  # written by _drive, with the next stage's start if it can
            self.flush()
            if status is StageStatus.STOPPED:
                return "stopped"
            self.summary = error
            failure = stage.on_failure
            if failure is None or self.rollback_stage is not None:
                return "failed"
            if failure.result is Result.RETRY and stage.name not in self.auto_retried and not self.stop_requested:
                # Exactly one automatic retry per stage (reference §4.5).
                self.auto_retried.add(stage.name)
                mode = failure.retry_mode or RetryMode.FAILED_ACTIONS
                self.ops.append(
                    History.op_audit(self.id, "pipeweaver", "AutomatedStageRetry", stage=stage.name, summary=mode.value)
                )
                only = self._not_succeeded(stage) if mode is RetryMode.FAILED_ACTIONS else None
                continue
            if failure.result is Result.ROLLBACK:
                self.rollback_stage = stage.name
            elif failure.conditions:
                verdict = self._conditions(stage, "ON_FAILURE", failure.conditions, Result.ROLLBACK)
                if verdict is Result.ROLLBACK:
                    self.rollback_stage = stage.name
            return "failed"

    def _not_succeeded(self, stage: Stage) -> set[str]:
        with self.lock:
            return {
                a.name
                for a in stage.actions
                if (rec := self.latest.get((stage.name, a.name))) is None or rec.status is not ActionStatus.SUCCEEDED
            }

    # conditions ----------------------------------------------------------------------------

    def _conditions(self, stage: Stage, kind: str, conditions: Iterable[Any], default: Result) -> Result | None:
        """Evaluate conditions; return the result to apply when a rule fails, else ``None``."""
        now = _now()
        for condition in conditions:
            for rule in condition.rules:
                status, summary = self._rule(stage, kind, rule, now)
                record = RuleRecord(
                    stage=stage.name, condition=kind, name=rule.name, status=status, summary=summary, at=_now()
                )
                with self.lock:
                    self.rules.append(record)
                self.ops.append(History.op_rule(self.id, record))
                if status != "Succeeded":
                    self.flush()
                    return condition.result or default
        self.flush()
        return None

    def _rule(self, stage: Stage, kind: str, rule: Any, now: datetime) -> tuple[str, str]:
        handler = self.x.rule_handler(rule.rule_type.provider)
        if handler is None:
            return "Errored", f"no local handler for rule provider {rule.rule_type.provider}"
        cancel = threading.Event()
        try:
            config = {
                k: self.resolve(str(v) if isinstance(v, str) else _fail_expression(k))
                for k, v in rule.configuration.items()
            }
            directory = self.run_dir / stage.name / f"rule-{len(self.rules) + 1}-{kind}-{rule.name}"
            directory.mkdir(parents=True, exist_ok=True)
            inputs = {}
            for art in rule.inputs:
                ref = self.artifacts.get(art.name)
                if ref is None:
                    raise RuleFailed(f"input artifact {art.name!r} was not produced in this execution")
                path = directory / "in" / art.name
                self.x.store.get(ref, path)
                inputs[art.name] = path
            ctx = RuleContext(
                pipeline=self.pipeline,
                stage=stage,
                rule=rule,
                condition=kind,
                execution_id=self.id,
                configuration=config,
                workdir=directory,
                now=now,
                inputs=inputs,
                environment=self.x.base_environment(),
                cancel=cancel,
                log=lambda line: self.emit(
                    LogLine(
                        execution_id=self.id,
                        pipeline=self.name,
                        at=_now(),
                        stage=stage.name,
                        action=f"rule:{rule.name}",
                        line=self.x.masker(line),
                    )
                ),
            )
            # Rules run on the engine thread; a timer (or an abandon) tells long ones to stop.
            minutes = rule.timeout_in_minutes or (55 if rule.rule_type.provider == "Commands" else 60)
            timer = threading.Timer(self.x.timeouts.get(f"{stage.name}/rule:{rule.name}", minutes * 60.0), cancel.set)
            timer.daemon = True
            timer.start()
            self.rule_cancels.add(cancel)
            try:
                verdict = handler(ctx)
            finally:
                timer.cancel()
                self.rule_cancels.discard(cancel)
            if cancel.is_set():
                return "Failed", f"rule {rule.name} timed out or was stopped"
        except (RuleFailed, ActionFailed, ArtifactError) as exc:
            return "Failed", self.x.masker(str(exc))
        except Exception as exc:
            return "Errored", self.x.masker(f"{type(exc).__name__}: {exc}")
        if verdict is None or verdict is True:
            return "Succeeded", f"rule {rule.name} passed"
        return "Failed", self.x.masker(verdict if isinstance(verdict, str) else f"rule {rule.name} failed")

    # variables -------------------------------------------------------------------------------

    def resolve(self, text: str) -> str:
        """Replace every ``#{namespace.key}`` in *text* (``ActionFailed`` naming the unknown ones)."""
        if "#{" not in text:
            return text

        def one(match: Any) -> str:
            namespace, key = match.group(1), match.group(2)
            if namespace == "codepipeline":
                if key == "PipelineExecutionId":
                    return self.id
            elif namespace == "variables":
                if key in self.variables:
                    return self.variables[key]
            elif key in self.namespaces.get(namespace, {}):
                return self.namespaces[namespace][key]
            known = sorted(self.namespaces.get(namespace, {})) if namespace in self.namespaces else None
            hint = (
                f"namespace {namespace!r} has {known}"
                if known is not None
                else f"no action produced namespace {namespace!r} yet"
            )
            raise ActionFailed(
                f"variable #{{{namespace}.{key}}} cannot be resolved: {hint}",
                failure_type=FailureType.CONFIGURATION_ERROR,
            )

        return VARIABLE_REF.sub(one, text)

    # waves ---------------------------------------------------------------------------------

    def _waves(self, stage: Stage, only: set[str] | None) -> tuple[bool, str | None]:
        for wave in stage.waves():
            todo = [a for a in wave if only is None or a.name in only]
            if not todo:
                continue
            if self.stop_requested:
                return False, "stopped before all actions ran"
            failed = self._wave(stage, todo)
            if self.abandon:
                return False, "abandoned"
            if failed:
                return False, "; ".join(failed)
        return True, None

    def _wave(self, stage: Stage, actions: list[Action]) -> list[str]:
        jobs: list[_Job] = []
        now = _now()
        mono = time.monotonic()
        for action in actions:
            prev = self.latest.get((stage.name, action.name))
            attempt = prev.attempt + 1 if prev is not None else 1
            self.position += 1
            directory = self.run_dir.joinpath(stage.name, action.name, str(attempt))
            job = _Job(stage, action, attempt, self.position, directory, mono + self.x.timeout_for(stage, action))
            self._action_record(
                job,
                ActionRecord(
                    stage=stage.name, name=action.name, status=ActionStatus.IN_PROGRESS, attempt=attempt, started_at=now
                ),
            )
            jobs.append(job)
        self.queued.extend(
            ActionStarted(
                execution_id=self.id,
                pipeline=self.name,
                at=now,
                stage=stage.name,
                action=job.action.name,
                attempt=job.attempt,
            )
            for job in jobs
        )
        self.flush()
        for job in jobs:
            self.x._action_pool().submit(self._execute, job)
        pending = {id(j): j for j in jobs}
        failed: list[str] = []
        unflushed_since: float | None = None
        while pending:
            wait = min(j.deadline for j in pending.values()) - time.monotonic()
            if unflushed_since is not None:
                wait = min(wait, unflushed_since + _FLUSH_WINDOW - time.monotonic())
            try:
                item = self.completions.get(timeout=max(0.0, min(wait, _LEASE_SECONDS / 3)))
            except queue.Empty:
                item = None
            batch = [item] if item is not None else []
            while True:
                try:
                    more = self.completions.get_nowait()
                except queue.Empty:
                    break
                if more is not None:
                    batch.append(more)
            finished: list[_Job] = []
            for job in batch:
                if pending.pop(id(job), None) is not None:
                    finished.append(job)
            mono = time.monotonic()
            for job in list(pending.values()):
                if mono >= job.deadline:
                    # Timeouts are failures (reference §4.5); the handler is told to stop.
                    job.cancel.set()
                    job.status = ActionStatus.FAILED
                    job.error = (
                        f"timed out after {_duration(self.x.timeout_for(stage, job.action))} "
                        "(the action type's limit; change it with "
                        f"LocalExecutor(timeouts={{'{stage.name}/{job.action.name}': seconds}}))"
                    )
                    del pending[id(job)]
                    finished.append(job)
            if self.abandon:
                for job in list(pending.values()):
                    job.cancel.set()
                    job.status = ActionStatus.ABANDONED
                    job.error = "abandoned: the execution was stopped with abandon"
                    finished.append(job)
                pending.clear()
            ended = _now()
            for job in finished:
                self._record_finish(job, ended)
                if job.status is not ActionStatus.SUCCEEDED:
                    failed.append(f"{job.action.name}: {self.x.masker(job.error or '')}")
            for job in finished:
                assert job.record is not None
                self.queued.append(
                    ActionFinished(
                        execution_id=self.id,
                        pipeline=self.name,
                        at=ended,
                        stage=stage.name,
                        action=job.action.name,
                        status=job.status,
                        record=job.record,
                    )
                )
            if finished and unflushed_since is None:
                unflushed_since = time.monotonic()
            # One transaction per wave: results are written with the next wave's starts or the
            # stage's end (before either is acted on); a long wave writes finished actions at
            # most _FLUSH_WINDOW after they end.
            if pending and unflushed_since is not None and time.monotonic() - unflushed_since >= _FLUSH_WINDOW:
                self.flush()
                unflushed_since = None
        return failed

    def _record_finish(self, job: _Job, ended: datetime) -> None:
        result = job.result
        succeeded = job.status is ActionStatus.SUCCEEDED
        variables = dict(result.output_variables) if (result and succeeded) else {}
        if job.log_fh is not None:
            job.log_fh.close()
            job.log_fh = None
        record = ActionRecord(
            stage=job.stage.name,
            name=job.action.name,
            status=job.status,
            attempt=job.attempt,
            started_at=job.record.started_at if job.record else ended,
            ended_at=ended,
            resolved_configuration=self.x.masker.mapping(job.resolved),
            output_variables={k: self.x.masker(v) for k, v in variables.items()},
            summary=self.x.masker(result.summary) if (result and result.summary and succeeded) else None,
            error=self.x.masker(job.error) if job.error else None,
            log_file=str(job.log_path) if job.log_path is not None else None,
            external_execution_id=result.external_execution_id if result else None,
        )
        self._action_record(job, record)
        if succeeded:
            if job.action.namespace:
                self.namespaces[job.action.namespace] = variables
            for ref in job.refs:
                self.artifacts[ref.name] = ref
                self.ops.append(History.op_artifact(self.id, ref, job.stage.name, job.action.name))

    # one action, on a pool thread ------------------------------------------------------------

    def _log(self, job: _Job, line: str) -> None:
        line = self.x.masker(line)
        if job.log_fh is None:
            job.dir.mkdir(parents=True, exist_ok=True)
            job.log_path = job.dir / "log.txt"
            job.log_fh = job.log_path.open("a", encoding="utf-8", buffering=1)
        job.log_fh.write(line + "\n")
        self.emit(
            LogLine(
                execution_id=self.id,
                pipeline=self.name,
                at=_now(),
                stage=job.stage.name,
                action=job.action.name,
                line=line,
            )
        )

    def _execute(self, job: _Job) -> None:
        try:
            self._execute_inner(job)
        except ActionFailed as exc:
            job.status, job.error = ActionStatus.FAILED, exc.message
        except ArtifactError as exc:
            job.status, job.error = ActionStatus.FAILED, str(exc)
        except Exception as exc:
            job.status, job.error = ActionStatus.FAILED, f"{type(exc).__name__}: {exc}"
            with contextlib.suppress(Exception):
                self._log(job, "".join(traceback.format_exception(exc)).rstrip())
        except BaseException as exc:
            # SystemExit, KeyboardInterrupt and the like from a handler on this pool thread are
            # the handler's failure, not a request to stop the program: a real Ctrl-C reaches the
            # main thread, which stops the run. Left to the pool they would end the task without
            # a completion, and the action would wait for its timeout (24 h by default).
            detail = f": {exc}" if str(exc) else ""
            job.status = ActionStatus.FAILED
            job.error = f"the handler of {job.stage.name}/{job.action.name} raised {type(exc).__name__}{detail}"
            with contextlib.suppress(Exception):
                self._log(job, "".join(traceback.format_exception(exc)).rstrip())
        self.completions.put(job)

    def _execute_inner(self, job: _Job) -> None:
        action, stage = job.action, job.stage
        handler = self.x.handler_for(stage, action)
        for key, value in action.configuration.items():
            if isinstance(value, Expression):
                _fail_expression(key)
            job.resolved[key] = self.resolve(value)
        secrets = set()
        for key in SECRET_CONFIGURATION_KEYS & job.resolved.keys():
            secrets.add(job.resolved[key])
        environment: dict[str, str] = {}
        for env in action.environment_variables:
            if isinstance(env.value, Expression):
                _fail_expression(f"environmentVariables {env.name}")
            if env.type is EnvironmentVariableType.SECRETS_MANAGER:
                value = self.x.secret_value(env.value, where=f"environment variable {env.name}")
                secrets.add(value)
            else:
                value = self.resolve(env.value)
            environment[env.name] = value
        if secrets:
            self.x.masker.add(secrets)
        workdir = job.dir / "work"
        inputs: dict[str, Path] = {}
        for art in action.inputs:
            ref = self.artifacts.get(art.name)
            if ref is None:
                raise ActionFailed(f"input artifact {art.name!r} was not produced earlier in this execution")
            path = confine(job.dir / "in", art.name, what=f"input artifact {art.name!r}", fix=_ARTIFACT_FIX)
            self.x.store.get(ref, path)
            inputs[art.name] = path
        outputs: dict[str, Path] = {}
        if action.outputs:
            out = _make_dirs(self.run_dir, (stage.name, action.name, str(job.attempt), "out"))
            for art in action.outputs:
                confine(out, art.name, what=f"output artifact {art.name!r}", fix=_ARTIFACT_FIX)
                outputs[art.name] = _make_dirs(out, (art.name,))
        ctx = _LocalContext(
            pipeline=self.pipeline,
            stage=stage,
            action=action,
            execution_id=self.id,
            configuration=job.resolved,
            inputs=inputs,
            outputs=outputs,
            workdir=workdir,
            environment=environment,
            secrets=frozenset(self.x.masker.values),
            source_revision=self.source_revisions.get(
                f"{stage.name}/{action.name}", self.source_revisions.get(action.name)
            ),
            attempt=job.attempt,
            cancel=job.cancel,
            log=lambda line: self._log(job, line),
        )
        result: ActionResult | None = None
        carried: dict[str, str] = {}
        for calls in range(_MAX_CONTINUATIONS):
            result = handler(ctx) or ActionResult()
            if job.cancel.is_set():
                raise ActionFailed("stopped")
            if result.continuation_token is None:
                break
            # As the job worker does: the token must fit AWS's limit, and variables returned
            # with it are published with the final result.
            check_continuation_token(result.continuation_token)
            carried.update(result.output_variables)
            ctx.continuation_token = result.continuation_token
            # CodePipeline hands out the follow-up job some time later; back off the same way
            # so a handler that polls external work does not spin.
            if job.cancel.wait(min(0.05 * (calls + 1), 2.0)):
                raise ActionFailed("stopped")
        else:
            raise ActionFailed(f"handler asked to continue more than {_MAX_CONTINUATIONS} times")
        assert result is not None
        if carried:
            result = attrs.evolve(result, output_variables={**carried, **result.output_variables})
        size = sum(len(k.encode()) + len(str(v).encode()) for k, v in result.output_variables.items())
        if size > _OUTPUT_VARIABLES_LIMIT:
            raise ActionFailed(f"output variables total {size} bytes, above AWS's limit of {_OUTPUT_VARIABLES_LIMIT}")
        for name, path in outputs.items():
            job.refs.append(self.x.store.put(self.id, name, path))
        job.result = result
        job.status = ActionStatus.SUCCEEDED

    # approvals -----------------------------------------------------------------------------

    def await_approval(self, ctx: ActionContext) -> ActionResult:
        key = (ctx.stage.name, ctx.action.name)
        approval = _Approval(str(uuid.uuid4()))
        history = self.x._history
        history.request_approval(approval.token, self.id, key[0], key[1])
        self.approvals[key] = approval
        event = ApprovalRequested(
            execution_id=self.id,
            pipeline=self.name,
            at=_now(),
            stage=ctx.stage.name,
            action=ctx.action.name,
            token=approval.token,
            custom_data=self.x.masker(ctx.configuration["CustomData"]) if ctx.configuration.get("CustomData") else None,
            external_entity_link=ctx.configuration.get("ExternalEntityLink"),
        )
        self.emit(event)
        ctx.log(f"waiting for approval (token {approval.token})")
        try:
            self.x._apply_policy(self, event, approval)
            decision = None
            # Decisions land in SQLite (they may come from another process); a local decision
            # also sets the event so it is seen at once.
            while decision is None:
                approval.event.wait(0.5)
                decision = history.approval(approval.token)
                if decision is None and (ctx.cancel.is_set() or EXITING.is_set()):
                    history.close_approval(approval.token)
                    raise ActionFailed("the approval was not answered before it timed out or was stopped")
        finally:
            self.approvals.pop(key, None)
        status, summary, who = decision
        approved = status == "Approved"
        text = f"{status} by {who}" + (f": {summary}" if summary else "")
        history.write([History.op_audit(self.id, who, status, stage=key[0], action=key[1], summary=summary)])
        if not approved:
            raise ActionFailed(text)
        return ActionResult(summary=text)

    def decide(self, stage: str, action: str, approved: bool, summary: str, by: str) -> None:
        approval = self.approvals.get((stage, action))
        decided = approval is not None and self.x._history.decide_approval(
            approved=approved, summary=summary[:512], actor=by, token=approval.token
        )
        if approval is None or not decided:
            waiting = sorted(f"{s}/{a}" for s, a in self.approvals)
            raise ExecutionError(
                f"no approval is waiting at {stage}/{action} in execution {self.id} (waiting: {waiting or 'none'})"
            )
        approval.event.set()

    # stop ------------------------------------------------------------------------------------

    def request_stop(self, abandon: bool, reason: str, by: str) -> None:
        if self.status.is_terminal:
            raise ExecutionError(f"execution {self.id} already ended {self.status.value}; it cannot be stopped")
        if self.stop_requested and not abandon:
            raise ExecutionError(f"execution {self.id} is already stopping; use abandon=True to abandon its actions")
        self.stop_requested = True
        self.stop_reason = reason[:200]
        if abandon:
            self.abandon = True
            for cancel in list(self.rule_cancels):
                cancel.set()
        with self.lock:
            self.status = ExecutionStatus.STOPPING
        self.x._history.write(
            [
                History.op_status(self.id, ExecutionStatus.STOPPING, reason or None, None),
                History.op_audit(self.id, by, "StopAndAbandon" if abandon else "StopAndWait", summary=reason),
            ]
        )
        self.x._gate(self.pipeline).wake()
        self.completions.put(None)


def _make_dirs(base: Path, parts: tuple[str, ...]) -> Path:
    """Make ``base/parts...`` top-down, one ``mkdir`` per level (``Path.mkdir(parents=True)``
    first fails its way up and then back down, twice the system calls; each one lets another
    action thread take the GIL, which is what a wave of actions starting together pays for)."""
    path = os.fspath(base)
    for i, part in enumerate(parts):
        path = os.path.join(path, part)
        try:
            os.mkdir(path)
        except FileExistsError:
            if i == len(parts) - 1 and not os.path.isdir(path):
                raise
        except FileNotFoundError:
            if i:
                raise
            Path(path, *parts[1:]).mkdir(parents=True, exist_ok=True)
            break
    return Path(os.path.join(base, *parts))


def _parameter_hint(value: Expression) -> str:
    raw = value.raw
    if isinstance(raw, Mapping) and set(raw) == {"Ref"} and isinstance(raw["Ref"], str):
        name = raw["Ref"]
        return f"CLI: --parameter {name}=VALUE; Python: synth.resolve_parameters(pipeline, {{{name!r}: ...}})"
    return "CLI: --parameter NAME=VALUE for the names it uses; Python: synth.resolve_parameters"


def _fail_expression(where: str) -> NoReturn:
    raise ActionFailed(
        f"{where} is a CloudFormation expression; give it a value before running locally",
        failure_type=FailureType.CONFIGURATION_ERROR,
    )


# -- handle ----------------------------------------------------------------------------------


@final
class LocalExecutionHandle:
    """
    A running local execution: watch it, answer approvals, stop it, retry a stage.

    .. versionadded:: 0.1.0
    """

    def __init__(self, run: _Run) -> None:
        self._run = run

    @property
    def id(self) -> str:
        """The pipeline execution id."""
        return self._run.id

    def wait(self, timeout: float | None = None) -> Execution:
        """Block until the execution (and any rollback it started) ends, or *timeout* passes."""
        deadline = None if timeout is None else time.monotonic() + timeout
        run: _Run | None = self._run
        while run is not None:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not run.done.wait(left):
                break
            run = run.followup
        return self._run.snapshot()

    def snapshot(self) -> Execution:
        """The execution's record as it is now."""
        return self._run.snapshot()

    @property
    def rollback(self) -> LocalExecutionHandle | None:
        """The automatic rollback execution this one started, if any."""
        return LocalExecutionHandle(self._run.followup) if self._run.followup else None

    def waiting_at(self) -> str | None:
        """The stage this execution waits in front of (a locked stage or disabled transition)."""
        return self._run.waiting_at

    def pending_approvals(self) -> list[str]:
        """``Stage/Action`` of the manual approvals waiting for a decision."""
        return sorted(f"{s}/{a}" for (s, a), ap in list(self._run.approvals.items()) if not ap.event.is_set())

    def approve(self, stage: str, action: str, summary: str = "", *, by: str = "") -> None:
        """Approve a waiting manual approval."""
        self._run.decide(stage, action, True, summary, by or _user())

    def reject(self, stage: str, action: str, summary: str = "", *, by: str = "") -> None:
        """Reject a waiting manual approval (the action fails)."""
        self._run.decide(stage, action, False, summary, by or _user())

    def stop(self, *, abandon: bool = False, reason: str = "", by: str = "") -> None:
        """Stop: let running actions finish (``abandon=False``) or mark them ``Abandoned``."""
        self._run.request_stop(abandon, reason, by or _user())

    def retry(
        self, stage: str, mode: RetryMode | str = RetryMode.FAILED_ACTIONS, *, by: str = ""
    ) -> LocalExecutionHandle:
        """Retry a failed stage of this (ended) execution; see :meth:`LocalExecutor.retry`."""
        self.wait()
        handle = self._run.x.retry(self._run.id, stage, mode=mode, by=by)
        self._run = handle._run
        return self

    def events(self, timeout: float | None = None) -> Iterator[Event]:
        """Every event of this execution from its start, blocking until it finishes."""
        run = self._run
        i = 0
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with run.events_cond:
                while i >= len(run.events) and not run.done.is_set():
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        return
                    run.events_cond.wait(left)
                batch = list(run.events)[i:]
                finished = run.done.is_set()
            i += len(batch)
            yield from batch
            if finished and i >= len(run.events):
                return

    def __repr__(self) -> str:
        return f"<LocalExecutionHandle {self._run.name} {self._run.id} {self._run.status.value}>"


def _user() -> str:
    try:
        return os.getlogin()
    except OSError:
        return os.environ.get("USER", "unknown")


# -- the executor ----------------------------------------------------------------------------


@final
class LocalExecutor:
    """
    Runs pipelines in this process with CodePipeline's semantics (reference §4).

    Args:
        workdir: History (``history.sqlite3``), artifacts and action workspaces live here.
        handlers: Extra or overriding handlers: keys are an :class:`~pipeweaver.ActionType`,
            ``"Category/Owner/Provider/Version"`` (``*`` allowed) or ``"Stage/Action"``.
        approval: How manual approvals are answered: ``"approve"``, ``"reject"``, ``"wait"``
            (for :meth:`LocalExecutionHandle.approve`/``reject``), ``"prompt"`` or a callable.
        sources: Source action name (or ``"Stage/Action"``) -> a local git repository, a folder
            or zip (S3 sources), or an image digest (ECR sources).
        functions: Lambda function name -> Python callable ``(event)`` or ``(event, context)``.
        max_parallel: Size of the action thread pool shared by all executions.
        artifact_store: Where artifact zips go (default: a local store under *workdir*).
        observers: Callables receiving every :class:`~pipeweaver.execution.Event`.
        secrets: A mapping secret name -> value (for SECRETS_MANAGER variables) or an
            iterable of values to mask; every value is masked in logs and history.
        validate: Refuse pipelines :func:`pipeweaver.lint` finds errors in.
        buildspecs: CodeBuild project name -> buildspec (YAML text, a path or a dict).
        buckets: S3 bucket name -> local folder for S3 deploys (default ``workdir/s3/<bucket>``).
        rules: Rule provider -> local rule handler (adds to or replaces the built-ins).
        timeouts: ``"Stage/Action"`` -> seconds, overriding AWS's default timeout.
        env_passthrough: Host environment variables passed to commands, buildspecs and
            Commands rules besides ``PATH``, ``HOME``, ``LANG``, ``LC_*`` and ``TMPDIR``
            (nothing else of the host environment reaches an action).

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        workdir: Path | str = ".pipeweaver",
        *,
        handlers: Mapping[Any, ActionHandler] | None = None,
        approval: ApprovalPolicy = "wait",
        sources: Mapping[str, Any] | None = None,
        functions: Mapping[str, Callable[..., Any]] | None = None,
        max_parallel: int = 50,
        artifact_store: ArtifactStore | None = None,
        observers: Iterable[Observer] = (),
        secrets: Mapping[str, str] | Iterable[str] | None = None,
        validate: bool = True,
        buildspecs: Mapping[str, Any] | None = None,
        buckets: Mapping[str, Path | str] | None = None,
        rules: Mapping[str, RuleHandler] | None = None,
        timeouts: Mapping[str, float] | None = None,
        env_passthrough: Iterable[str] = (),
    ) -> None:
        if max_parallel < 1:
            raise ValueError(f"max_parallel={max_parallel} must be at least 1")
        if not (callable(approval) or approval in (None, "approve", "reject", "wait", "prompt")):
            raise ValueError(f"approval={approval!r} must be 'approve', 'reject', 'wait', 'prompt' or a callable")
        self.workdir = Path(workdir).resolve()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._history = History(self.workdir / "history.sqlite3")
        self.store: ArtifactStore = artifact_store or LocalArtifactStore(self.workdir / "artifacts")
        self.approval = approval
        self.sources = dict(sources or {})
        self.functions = dict(functions or {})
        self.max_parallel = max_parallel
        self.observers: list[Observer] = list(observers)
        if isinstance(secrets, Mapping):
            self.secret_store: dict[str, str] = dict(secrets)
            self.masker = Masker(self.secret_store.values())
        else:
            self.secret_store = {}
            self.masker = Masker(secrets or ())
        self.validate = validate
        self.buildspecs = dict(buildspecs or {})
        self.buckets = {k: Path(v) for k, v in (buckets or {}).items()}
        self.timeouts = dict(timeouts or {})
        self.env_passthrough = check_passthrough(env_passthrough)
        self.owner = f"{runner_id()}:{uuid.uuid4().hex[:8]}"
        self._registry = builtin_handlers(self).merged(HandlerRegistry(handlers))
        self._builtins = Builtins(self)
        self._rules: dict[str, RuleHandler] = {**builtin_rules(self), **dict(rules or {})}
        self._pool: _ActionPool | None = None
        self._pool_lock = threading.Lock()
        self._gates: dict[str, _Gate] = {}
        self._runs: dict[str, _Run] = {}
        self._lock = threading.Lock()
        self._prompt_lock = threading.Lock()
        self._closed = threading.Event()
        self._renewer: threading.Thread | None = None

    # plumbing used by runs and handlers ------------------------------------------------------

    def _action_pool(self) -> _ActionPool:
        """The shared action thread pool (created on first use; ``submit(fn, *args)``)."""
        if self._pool is None:
            with self._pool_lock:
                if self._pool is None:
                    self._pool = _ActionPool(self.max_parallel, "pipeweaver-action")
        return self._pool

    def close(self) -> None:
        """Wait for running actions, shut the pool down and close the history."""
        self._closed.set()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._renewer is not None:
            self._renewer.join()
        self._history.close()

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _gate(self, pipeline: Pipeline) -> _Gate:
        name = str(pipeline.name)
        with self._lock:
            gate = self._gates.get(name)
            if gate is None:
                shared = SharedStages(self.workdir, self._history, name, self.owner)
                gate = self._gates[name] = _Gate(pipeline.disabled_transitions, shared)
            return gate

    def _forget(self, run: _Run) -> None:
        with self._lock:
            if self._runs.get(run.id) is run:
                del self._runs[run.id]

    def handler_for(self, stage: Stage, action: Action) -> HandlerFn:
        """The handler that runs *action* (``HandlerNotFoundError`` if none)."""
        if action.category is ActionCategory.APPROVAL and action.provider == "Manual":
            found = self._registry.find(stage, action)
            return found if found is not None else self._approval_handler
        found = self._registry.find(stage, action)
        if found is None:
            raise HandlerNotFoundError(_missing_message([(stage, action)]))
        return found

    def _approval_handler(self, ctx: ActionContext) -> ActionResult:
        run = self._runs.get(ctx.execution_id)
        if run is None:
            raise ActionFailed(f"execution {ctx.execution_id} is not running in this executor")
        return run.await_approval(ctx)

    def rule_handler(self, provider: str) -> RuleHandler | None:
        """The local handler for a rule provider, if any."""
        return self._rules.get(provider)

    def timeout_for(self, stage: Stage, action: Action) -> float:
        """Seconds before *action* times out (``timeouts=`` override, else AWS's default)."""
        return self.timeouts.get(f"{stage.name}/{action.name}", default_timeout(action))

    def source_for(self, stage: str, action: str) -> Any:
        """The local source configured for a source action, or ``None``."""
        return self.sources.get(f"{stage}/{action}", self.sources.get(action))

    def function_for(self, name: str) -> Callable[..., Any]:
        """The Python callable standing in for Lambda function *name* (name or ARN)."""
        short = name.split(":function:")[-1].split(":")[0]
        for key in (name, short):
            if key in self.functions:
                return self.functions[key]
        raise ActionFailed(
            f"no local function {short!r}; pass LocalExecutor(functions={{{short!r}: my_callable}})",
            failure_type=FailureType.CONFIGURATION_ERROR,
        )

    def base_environment(self) -> dict[str, str]:
        """The host variables an action's processes start from (allow-list plus ``env_passthrough``)."""
        return base_environment(self.env_passthrough)

    def secret_value(self, ref: str, *, where: str) -> str:
        """Look a secret up in the local secret store (``name`` or ``name:json-key``)."""
        name, _, json_key = ref.partition(":")
        for key in (ref, name):
            if key in self.secret_store:
                value = self.secret_store[key]
                if json_key and key == name:
                    try:
                        value = str(json.loads(value)[json_key])
                    except (ValueError, KeyError, TypeError):
                        raise ActionFailed(f"{where}: secret {name!r} has no JSON key {json_key!r}") from None
                self.masker.add([value])
                return value
        raise ActionFailed(
            f"{where}: secret {name!r} is not in the local secret store; "
            f"pass LocalExecutor(secrets={{{name!r}: '...'}})",
            failure_type=FailureType.CONFIGURATION_ERROR,
        )

    def bucket_path(self, bucket: str, *, what: str = "BucketName") -> Path:
        """
        The local folder standing in for S3 bucket *bucket*.

        The folder mapped in ``buckets=``, else ``workdir/s3/<bucket>`` for a valid S3 bucket
        name that stays inside ``workdir/s3`` (the name may come from a variable).

        Raises:
            ActionFailed: naming *what* (the setting the name came from) and the fix.
        """
        mapped = self.buckets.get(bucket)
        if mapped is None:
            fix = (
                "use the bucket's S3 name, or map the name to a local folder with "
                f"LocalExecutor(buckets={{{bucket!r}: 'path/to/folder'}})"
            )
            problem = s3_bucket_problem(bucket)
            if problem is not None:
                raise ActionFailed(f"{what}: {bucket!r} {problem}; {fix}", failure_type=FailureType.CONFIGURATION_ERROR)
            mapped = confine(self.workdir / "s3", bucket, what=what, fix=fix, root_name="the local bucket folder")
        mapped.mkdir(parents=True, exist_ok=True)
        return mapped.resolve()

    def resolve_text(self, ctx: ActionContext, text: str) -> str:
        """Resolve variable references in *text* for the execution of *ctx*."""
        run = self._runs.get(ctx.execution_id)
        return run.resolve(text) if run is not None else text

    def record_simulation(self, ctx: ActionContext, detail: str) -> None:
        """Append a simulated deployment to ``workdir/simulated-deployments.jsonl``."""
        line = json.dumps(
            {
                "simulated": True,
                "at": _now().isoformat(),
                "execution_id": ctx.execution_id,
                "stage": ctx.stage.name,
                "action": ctx.action.name,
                "provider": ctx.action.provider,
                "detail": self.masker(detail),
            }
        )
        with self._lock, (self.workdir / "simulated-deployments.jsonl").open("a") as fh:
            fh.write(line + "\n")

    def _apply_policy(self, run: _Run, event: ApprovalRequested, approval: _Approval) -> None:
        policy = self.approval
        if policy is None or policy == "wait":
            return
        if policy in ("approve", "reject"):
            run.decide(event.stage, event.action, policy == "approve", f"approval policy {policy!r}", "policy")
            return
        if policy == "prompt":
            with self._prompt_lock:
                print(f"\nApproval needed: {event.pipeline} / {event.stage} / {event.action}", file=sys.stderr)
                if event.custom_data:
                    print(f"  {self.masker(event.custom_data)}", file=sys.stderr)
                try:
                    answer = input("Approve? [y/N] ").strip().lower()
                except EOFError:
                    raise ActionFailed(
                        "approval='prompt' needs a terminal but stdin is closed; use approval='approve', "
                        "'reject', 'wait' or a callable",
                        failure_type=FailureType.CONFIGURATION_ERROR,
                    ) from None
            run.decide(event.stage, event.action, answer in ("y", "yes"), "answered at the prompt", _user())
            return
        assert callable(policy)
        verdict = policy(event)
        if verdict is None:
            return
        summary = ""
        if isinstance(verdict, tuple):
            verdict, summary = verdict
        run.decide(event.stage, event.action, bool(verdict), summary or "approval callable", "policy")

    # starting ----------------------------------------------------------------------------------

    def _preflight(self, pipeline: Pipeline, variables: Mapping[str, str]) -> dict[str, str]:
        if self.validate:
            issues = lint(pipeline)
            errors = [i for i in issues if i.is_error]
            if errors:
                raise ValidationError(f"pipeline {pipeline.name!s} is not valid; nothing was run", issues)
        missing: list[tuple[Stage, Action]] = []
        problems: list[str] = []
        for stage, action in pipeline.actions():
            try:
                handler = self.handler_for(stage, action)
            except HandlerNotFoundError:
                missing.append((stage, action))
                continue
            owner = getattr(handler, "__self__", None)
            if isinstance(owner, Builtins):
                problems.extend(self._builtin_needs(stage, action, handler))
            for key, value in action.configuration.items():
                if isinstance(value, Expression):
                    problems.append(
                        f"{stage.name}/{action.name}: configuration {key} is the CloudFormation expression "
                        f"{value}; give it a value to run locally ({_parameter_hint(value)})"
                    )
        for stage in pipeline.stages:
            for kind, block in (
                ("beforeEntry", stage.before_entry),
                ("onSuccess", stage.on_success),
                ("onFailure", stage.on_failure),
            ):
                for condition in getattr(block, "conditions", ()) or ():
                    for rule in condition.rules:
                        provider = rule.rule_type.provider
                        if provider not in self._rules:
                            problems.append(
                                f"{stage.name} {kind} rule {rule.name}: no local handler for rule provider {provider}; "
                                f"pass LocalExecutor(rules={{{provider!r}: my_rule}})"
                            )
        if missing:
            raise HandlerNotFoundError(_missing_message(missing))
        declared = {v.name: v for v in pipeline.variables}
        unknown = sorted(set(variables) - set(declared))
        if unknown:
            problems.append(f"variables {unknown} are not declared by the pipeline (declared: {sorted(declared)})")
        values: dict[str, str] = {}
        for name, var in declared.items():
            if name in variables:
                values[name] = str(variables[name])
            elif isinstance(var.default_value, str):
                values[name] = var.default_value
            else:
                problems.append(f"variable {name!r} has no default value; pass variables={{{name!r}: '...'}}")
        if problems:
            raise ExecutionError("the pipeline cannot run locally:\n" + "\n".join(f"  - {p}" for p in problems))
        return values

    def _builtin_needs(self, stage: Stage, action: Action, handler: Any) -> list[str]:
        name = getattr(handler, "__name__", "")
        where = f"{stage.name}/{action.name}"
        if name in ("git_source", "s3_source", "ecr_source") and self.source_for(stage.name, action.name) is None:
            return [
                f"{where}: no local source; pass LocalExecutor(sources={{{action.name!r}: 'path/to/repo'}}) "
                f"(CLI: --source {action.name}=PATH)"
            ]
        if name == "lambda_invoke":
            fn = action.configuration.get("FunctionName")
            if isinstance(fn, str) and "#{" not in fn:
                try:
                    self.function_for(fn)
                except ActionFailed as exc:
                    return [f"{where}: {exc.message}"]
        return []

    def _begin(self, run: _Run, definition: Mapping[str, Any]) -> LocalExecutionHandle:
        ops = History.op_create(
            execution_id=run.id,
            pipeline=run.name,
            status=ExecutionStatus.IN_PROGRESS,
            trigger=run.trigger,
            started_at=run.started_at,
            definition=definition,
            source_revisions=run.source_revisions,
            variables=run.variables,
            execution_type=run.execution_type,
            rollback_target=run.rollback_target,
            owner=self.owner,
            lease_seconds=_LEASE_SECONDS,
        )
        run.seq = self._history.create(ops)
        return self._launch(run)

    def _renew_leases(self) -> None:
        # Runs renew their lease when they write; this keeps it fresh while they wait (a long
        # command, an approval, a locked stage), so other hosts never see a live run as dead.
        while not self._closed.wait(_LEASE_SECONDS / 3):
            with self._lock:
                runs = list(self._runs.values())
            if runs:
                with contextlib.suppress(Exception):  # a busy database is retried next round
                    self._history.write([History.op_renew(r.id, r.owner, _LEASE_SECONDS) for r in runs])

    def _launch(self, run: _Run) -> LocalExecutionHandle:
        with self._lock:
            self._runs[run.id] = run
        run.emit(ExecutionStarted(execution_id=run.id, pipeline=run.name, at=run.started_at, trigger=run.trigger))
        threading.Thread(target=run.main, name=f"pipeweaver-{run.id[:8]}", daemon=True).start()
        # While the engine prepares and writes the first wave, this thread starts the action
        # threads the widest wave needs, so that the wave does not wait for thread starts.
        stages = run.pipeline.stages[run.first_stage : run.last_stage + 1]
        self._action_pool().prestart(max((len(wave) for stage in stages for wave in stage.waves()), default=0))
        # The lease renewer first acts after _LEASE_SECONDS / 3; it starts after the engine, so
        # that the execution does not wait for another thread to come up (a thread start
        # costs up to a scheduler tick on a busy machine).
        with self._lock:
            if self._renewer is None:
                self._renewer = threading.Thread(target=self._renew_leases, name="pipeweaver-leases", daemon=True)
                self._renewer.start()
        return LocalExecutionHandle(run)

    def start(
        self,
        pipeline: Pipeline,
        *,
        variables: Mapping[str, str] | None = None,
        source_revisions: Mapping[str, str] | None = None,
        trigger: TriggerInfo | None = None,
    ) -> LocalExecutionHandle:
        """
        Check the pipeline and start an execution; return a handle to it.

        Raises:
            ValidationError: the pipeline breaks AWS's rules (every issue listed).
            HandlerNotFoundError: some actions have no handler (each named, with how to register one).
            ExecutionError: other reasons it cannot run locally (missing sources, functions, variables).
        """
        values = self._preflight(pipeline, variables or {})
        run = _Run(
            self,
            pipeline,
            execution_id=str(uuid.uuid4()),
            variables=values,
            source_revisions=source_revisions or {},
            trigger=trigger or TriggerInfo(trigger_type="StartPipelineExecution", detail=f"local run by {_user()}"),
        )
        return self._begin(run, _definition(pipeline))

    def run(
        self,
        pipeline: Pipeline,
        *,
        variables: Mapping[str, str] | None = None,
        source_revisions: Mapping[str, str] | None = None,
        trigger: TriggerInfo | None = None,
    ) -> Execution:
        """Start an execution and block until it (and any automatic rollback) ends."""
        return self.start(pipeline, variables=variables, source_revisions=source_revisions, trigger=trigger).wait()

    # history -----------------------------------------------------------------------------------

    def execution(self, execution_id: str) -> Execution:
        """The record of one execution: live if it runs here, else from the history."""
        run = self._runs.get(execution_id)
        if run is not None:
            return run.snapshot()
        return self._history.load(execution_id)

    def history(
        self,
        pipeline: Pipeline | str | None = None,
        *,
        status: ExecutionStatus | str | None = None,
        succeeded_in_stage: str | None = None,
        limit: int = 100,
    ) -> list[Execution]:
        """Past and running executions, newest first (like ``ListPipelineExecutions``)."""
        name = str(pipeline.name) if isinstance(pipeline, Pipeline) else pipeline
        ids = self._history.ids(name, status=status, succeeded_in_stage=succeeded_in_stage, limit=limit)
        return [self.execution(i) for i in ids]

    @property
    def history_store(self) -> History:
        """The SQLite history behind this executor."""
        return self._history

    def approve(self, execution_id: str, stage: str, action: str, summary: str = "", *, by: str = "") -> None:
        """Approve a waiting manual approval of an execution run by this or another process."""
        self._decide(execution_id, stage, action, True, summary, by)

    def reject(self, execution_id: str, stage: str, action: str, summary: str = "", *, by: str = "") -> None:
        """Reject a waiting manual approval of an execution run by this or another process."""
        self._decide(execution_id, stage, action, False, summary, by)

    def _decide(self, execution_id: str, stage: str, action: str, approved: bool, summary: str, by: str) -> None:
        run = self._runs.get(execution_id)
        if run is not None:
            run.decide(stage, action, approved, summary, by or _user())
            return
        if not self._history.decide_approval(
            approved=approved, summary=summary[:512], actor=by or _user(), where=(execution_id, stage, action)
        ):
            raise ExecutionError(f"no approval is waiting at {stage}/{action} in execution {execution_id}")

    def override(self, stage: str, action: str, handler: HandlerFn) -> None:
        """Run *handler* for action *stage*/*action* instead of its type's handler."""
        self._registry.register(f"{stage}/{action}", handler)

    def audit(self, execution_id: str) -> list[dict[str, Any]]:
        """Who approved, rejected, stopped, retried or rolled back the execution, and when."""
        return self._history.audit(execution_id)

    # transitions -------------------------------------------------------------------------------

    def disable_transition(self, pipeline: Pipeline, stage: str, reason: str = "disabled locally") -> None:
        """Disable the inbound transition of *stage*: executions wait in front of it."""
        pipeline.stage(stage)
        gate = self._gate(pipeline)
        with gate.cond:
            gate.disabled[stage] = reason
            gate.cond.notify_all()

    def enable_transition(self, pipeline: Pipeline, stage: str) -> None:
        """Enable the inbound transition of *stage*: the waiting execution enters."""
        pipeline.stage(stage)
        gate = self._gate(pipeline)
        with gate.cond:
            gate.disabled.pop(stage, None)
            gate.cond.notify_all()

    # retry, rollback, recovery ---------------------------------------------------------------------

    def _restore(self, run: _Run, source_id: str, *, records: bool) -> None:
        past = self._history.load(source_id)
        run.artifacts = dict(past.artifacts)
        run.namespaces = self._history.namespaces(source_id)
        if records:
            order = {s.name: i for i, s in enumerate(run.pipeline.stages)}
            run.stages = [(s, order.get(s.name, 0)) for s in past.stages]
            run.actions = list(past.actions)
            run.latest = {(a.stage, a.name): a for a in past.actions}
            run.rules = list(past.rules)
            run.started_at = past.started_at or run.started_at
            run.position = len(past.actions)
            run.seq = self._history.seq(source_id)

    @overload
    def retry(
        self,
        execution_id: str,
        stage: str,
        *,
        mode: RetryMode | str = ...,
        pipeline: Pipeline | None = ...,
        by: str = ...,
        wait: Literal[False] = ...,
    ) -> LocalExecutionHandle: ...

    @overload
    def retry(
        self,
        execution_id: str,
        stage: str,
        *,
        mode: RetryMode | str = ...,
        pipeline: Pipeline | None = ...,
        by: str = ...,
        wait: Literal[True],
    ) -> Execution: ...

    def retry(
        self,
        execution_id: str,
        stage: str,
        *,
        mode: RetryMode | str = RetryMode.FAILED_ACTIONS,
        pipeline: Pipeline | None = None,
        by: str = "",
        wait: bool = False,
    ) -> LocalExecutionHandle | Execution:
        """
        Retry a failed (or stopped) stage of an ended execution, then continue it.

        ``FAILED_ACTIONS`` re-runs the actions that did not succeed; ``ALL_ACTIONS`` the whole
        stage. The stored definition is used; a *pipeline* given here must be unchanged.
        Returns a handle, or with ``wait=True`` the execution record once it ends.

        Raises:
            ExecutionError: the stage did not fail, a newer execution entered it, the pipeline
                changed, or another runner holds the execution.
        """
        mode = RetryMode(mode)
        if execution_id in self._runs:
            raise ExecutionError(f"execution {execution_id} is still running; retry it after it ends")
        try:
            past = self._history.load(execution_id)
        except KeyError:
            raise ExecutionError(f"no execution {execution_id} in {self._history.path}") from None
        definition = self._history.definition(execution_id)
        if pipeline is not None and _definition(pipeline) != definition:
            raise ExecutionError(
                f"the pipeline changed since execution {execution_id} ran; AWS refuses retries after a structure change"
            )
        stored = pipeline or from_codepipeline(definition)
        try:
            index = [s.name for s in stored.stages].index(stage)
        except ValueError:
            raise ExecutionError(f"pipeline {stored.name!s} has no stage {stage!r}") from None
        if past.status in (ExecutionStatus.IN_PROGRESS, ExecutionStatus.STOPPING):
            raise ExecutionError(
                f"execution {execution_id} is recorded {past.status.value}; if its runner is gone, call "
                "LocalExecutor.mark_interrupted() first"
            )
        try:
            record = past.stage(stage)
        except KeyError:
            raise ExecutionError(f"stage {stage} never ran in execution {execution_id}; nothing to retry") from None
        if record.status not in (StageStatus.FAILED, StageStatus.STOPPED):
            raise ExecutionError(
                f"stage {stage} of execution {execution_id} is {record.status.value}; only failed stages can be retried"
            )
        latest = self._history.latest_in_stage(past.pipeline, stage)
        if latest != execution_id:
            raise ExecutionError(
                f"execution {latest} entered stage {stage} after {execution_id}; only the latest execution in a stage "
                "can be retried (NotLatestPipelineExecutionException)"
            )
        self._history.acquire_lease(execution_id, self.owner, _LEASE_SECONDS)
        # Checked again under the lease: another runner may have retried the execution between
        # the checks above and the lease (found by tests/crash: exactly one runner advances).
        now_past = self._history.load(execution_id)
        now_record = now_past.stage(stage)
        if (now_past.status, now_record.attempt, now_record.status) != (past.status, record.attempt, record.status):
            self._history.write([History.op_release(execution_id, self.owner)])
            raise ExecutionError(
                f"execution {execution_id} was advanced by another runner while this one prepared its retry "
                f"(now {now_past.status.value}, stage {stage} {now_record.status.value}); nothing was run"
            )
        run = _Run(
            self,
            stored,
            execution_id=execution_id,
            variables=past.variables,
            source_revisions=self._history.source_revisions(execution_id),
            trigger=past.trigger,
            execution_type=past.execution_type,
            rollback_target=past.rollback_target,
        )
        self._restore(run, execution_id, records=True)
        run.first_stage = index
        if past.execution_type == "ROLLBACK":
            run.last_stage = index
        run.retry_mode = mode
        self._history.write(
            [
                History.op_status(execution_id, ExecutionStatus.IN_PROGRESS, None, None),
                History.op_audit(execution_id, by or _user(), "ManualStageRetry", stage=stage, summary=mode.value),
            ]
        )
        handle = self._launch(run)
        return handle.wait() if wait else handle

    def rollback(
        self, pipeline: Pipeline, stage: str, target_execution_id: str, *, by: str = ""
    ) -> LocalExecutionHandle:
        """
        Roll *stage* back to *target_execution_id*: a new ROLLBACK execution re-runs the stage
        with the target's artifacts and variables.

        Raises:
            ExecutionError: the target is a rollback, did not succeed in the stage, ran another
                version of the pipeline, the stage is the source stage, or the mode is PARALLEL.
        """
        return self._rollback(
            pipeline,
            stage,
            target_execution_id,
            TriggerInfo(trigger_type="ManualRollback", detail=f"by {by or _user()}"),
            by or _user(),
        )

    def _rollback(
        self, pipeline: Pipeline, stage: str, target: str, trigger: TriggerInfo, by: str
    ) -> LocalExecutionHandle:
        index = [s.name for s in pipeline.stages].index(stage) if stage in [s.name for s in pipeline.stages] else -1
        if index < 0:
            raise ExecutionError(f"pipeline {pipeline.name!s} has no stage {stage!r}")
        if pipeline.effective_execution_mode is ExecutionMode.PARALLEL:
            raise ExecutionError("rollback is not available in PARALLEL execution mode")
        if any(a.category is ActionCategory.SOURCE for a in pipeline.stages[index].actions):
            raise ExecutionError(f"stage {stage} holds source actions; AWS does not roll back the source stage")
        try:
            past = self._history.load(target)
        except KeyError:
            raise ExecutionError(f"no execution {target} in {self._history.path}") from None
        if past.execution_type == "ROLLBACK":
            raise ExecutionError(f"execution {target} is itself a rollback; choose a STANDARD execution")
        try:
            ok = past.stage(stage).status is StageStatus.SUCCEEDED
        except KeyError:
            ok = False
        if not ok:
            raise ExecutionError(f"execution {target} did not succeed in stage {stage}; it cannot be a rollback target")
        if self._history.definition(target) != _definition(pipeline):
            raise ExecutionError(
                f"execution {target} ran another version of the pipeline (PipelineExecutionOutdatedException)"
            )
        run = _Run(
            self,
            pipeline,
            execution_id=str(uuid.uuid4()),
            variables=past.variables,
            source_revisions=self._history.source_revisions(target),
            trigger=trigger,
            execution_type="ROLLBACK",
            rollback_target=target,
        )
        self._restore(run, target, records=False)
        run.first_stage = run.last_stage = index
        handle = self._begin(run, _definition(pipeline))
        self._history.write(
            [History.op_audit(run.id, by, trigger.trigger_type, stage=stage, summary=f"target {target}")]
        )
        return handle

    def _auto_rollback(self, failed: _Run) -> _Run | None:
        stage = failed.rollback_stage
        assert stage is not None
        target = self._history.last_succeeded_in_stage(failed.name, stage, before=failed.seq)
        note: str
        result: _Run | None = None
        if target is None:
            note = f"; no earlier execution succeeded in stage {stage}, so there is nothing to roll back to"
        else:
            try:
                handle = self._rollback(
                    failed.pipeline,
                    stage,
                    target,
                    TriggerInfo(trigger_type="AutomatedRollback", detail=f"after {failed.id}"),
                    "pipeweaver",
                )
                result = handle._run
                note = f"; automatic rollback of stage {stage} started as execution {handle.id} (target {target})"
            except ExecutionError as exc:
                note = f"; automatic rollback not possible: {exc}"
        with failed.lock:
            failed.summary = (failed.summary or "") + note
        self._history.write([History.op_status(failed.id, failed.status, failed.summary, failed.ended_at)])
        return result

    def mark_interrupted(self) -> list[str]:
        """
        Mark executions whose runner died (dead pid or lapsed lease) as Failed, so they can be
        retried; return their ids.
        """
        marked = []
        for execution_id in self._history.interrupted():
            if execution_id in self._runs:
                continue
            now = _now()
            note = "interrupted: the process running this execution stopped before it finished"
            ops: list[Op] = []
            ops.append(
                (
                    "UPDATE actions SET status='Failed', ended_at=?, error=? "
                    "WHERE execution_id=? AND status='InProgress'",
                    (now.timestamp(), note, execution_id),
                )
            )
            ops.append(
                (
                    "UPDATE stages SET status='Failed', ended_at=?, error=? WHERE execution_id=? "
                    "AND status IN ('InProgress','Stopping')",
                    (now.timestamp(), note, execution_id),
                )
            )
            ops.extend(self._fail_due_stage(execution_id, note, now))
            ops.append(History.op_status(execution_id, ExecutionStatus.FAILED, note, now))
            ops.append(
                ("UPDATE approvals SET status='Expired' WHERE execution_id=? AND status='Waiting'", (execution_id,))
            )
            ops.append(("UPDATE executions SET lease_owner=NULL, lease_expires=NULL WHERE id=?", (execution_id,)))
            ops.append(History.op_audit(execution_id, "pipeweaver", "Interrupted", summary=note))
            self._history.write(ops)
            marked.append(execution_id)
        return marked

    def _fail_due_stage(self, execution_id: str, note: str, now: datetime) -> list[Op]:
        # A runner killed between two stages (or before the first) leaves no stage InProgress;
        # fail the stage that was due next so the execution can be retried from there, like any
        # failed stage (found by tests/crash: SIGKILL at random points).
        past = self._history.load(execution_id)
        if any(s.status in (StageStatus.IN_PROGRESS, StageStatus.STOPPING) for s in past.stages):
            return []
        done = {s.name for s in past.stages if s.status in (StageStatus.SUCCEEDED, StageStatus.SKIPPED)}
        stored = from_codepipeline(self._history.definition(execution_id))
        for position, stage in enumerate(stored.stages):
            if stage.name not in done:
                attempt = 1 + max((s.attempt for s in past.stages if s.name == stage.name), default=0)
                record = StageRecord(
                    name=stage.name,
                    status=StageStatus.FAILED,
                    attempt=attempt,
                    started_at=now,
                    ended_at=now,
                    error=note,
                )
                return [History.op_stage(execution_id, record, position)]
        return []


def _missing_message(missing: list[tuple[Stage, Action]]) -> str:
    lines = [f"{len(missing)} action(s) have no local handler; nothing was run:"]
    for stage, action in missing:
        t = action.action_type
        lines.append(
            f"  - {stage.name}/{action.name} ({t}): register one with "
            f"LocalExecutor(handlers={{ActionType(category={t.category.value!r}, owner={t.owner.value!r}, "
            f"provider={t.provider!r}, version={t.version!r}): my_handler}}) "
            f"or handlers={{'{stage.name}/{action.name}': my_handler}}"
        )
    return "\n".join(lines)
