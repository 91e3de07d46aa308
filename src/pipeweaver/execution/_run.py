"""The engine of one execution: the stage and wave loop, on its own thread.

Layer: execution. One engine thread per execution walks the stages; actions run on the
executor's shared thread pool (:mod:`._attempt`). Every state change is queued as SQLite
statements and written (one transaction per batch) before the engine acts on it: action starts
before the wave is submitted, results before the next wave starts. Completions wake the engine
through a queue, so a wave starts the moment the previous one ends (no polling sleeps).
Stages are entered and left through the pipeline's gate (:mod:`._gate`).
"""

from __future__ import annotations

import functools
import queue
import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from .._model import Action, Result, RetryMode, Stage
from ..errors import ExecutionError
from ._approvals import Approvals
from ._attempt import Attempts, Job
from ._base import (
    ActionContext,
    ActionFinished,
    ActionRecord,
    ActionResult,
    ActionStarted,
    ActionStatus,
    Event,
    Execution,
    ExecutionFinished,
    ExecutionStatus,
    RuleRecord,
    StageFinished,
    StageRecord,
    StageStarted,
    StageStatus,
)
from ._conditions import Overrides, RuleOutcome, overridden, run_rule
from ._core import (
    Recovery,
    WaveClock,
    after_conditions,
    after_failure,
    execution_status,
    not_succeeded,
    plan_wave,
    stage_status,
    waves,
)
from ._engine import LEASE_SECONDS, Engine
from ._history import History
from ._outbox import Feed, Outbox
from ._pool import run_each
from ._state import Control, Identity, Progress, Scope
from ._variables import resolve

__all__ = ["Run"]

_FLUSH_WINDOW = 0.05


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:g} s"
    if seconds < 7200:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:g} h"


class Run:
    """The engine of one execution (or one retry/rollback of it)."""

    def __init__(
        self,
        engine: Engine,
        identity: Identity,
        *,
        on_failure: Callable[[Run], Run | None] | None = None,
    ) -> None:
        self.engine = engine
        self.clock = engine.clock
        self.on_failure = on_failure
        self.identity = identity
        self.seq = 0
        # The state (see _state): what the run is (identity), what it walks, what it has done,
        # what others ask of it.
        self.scope = Scope(0, len(identity.pipeline.stages) - 1)
        self.progress = Progress(started_at=self.clock.now())
        self.control = Control()
        self.completions: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self.feed = Feed()
        self.followup: Run | None = None
        self.rule_cancels: set[threading.Event] = set()
        # Held while a stop is recorded and while the execution's end is: without it, a stop's
        # STOPPING could land after the STOPPED of the end it caused, in memory and in history.
        self._ending = threading.Lock()
        self.overrides = Overrides()
        self.run_dir = engine.workdir / "runs" / identity.id
        self.outbox = Outbox(engine.history, identity.id, identity.owner, self.emit)
        self.approvals = Approvals(
            history=engine.history,
            execution_id=identity.id,
            pipeline=identity.name,
            masker=engine.masker,
            emit=self.emit,
            policy=engine.approval_policy,
            now=self.clock.now,
        )
        services = engine.services
        self.attempts = Attempts(
            pipeline=identity.pipeline,
            execution_id=identity.id,
            run_dir=self.run_dir,
            masker=engine.masker,
            store=engine.store,
            handler_for=services.handler_for,
            secret_value=services.secret_value,
            resolve=self.resolve,
            artifact=lambda name: self.progress.artifacts.get(name),
            source_revisions=identity.source_revisions,
            emit=self.emit,
            clock=self.clock,
            completions=self.completions,
        )

    # events and writes ---------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        self.feed.append(event)
        for observer in self.engine.observers:
            try:
                observer(event)
            except Exception as exc:  # an observer must never break the run
                warnings.warn(f"pipeweaver observer {observer!r} raised {exc!r}", RuntimeWarning, stacklevel=2)

    def _stage_record(self, record: StageRecord, position: int) -> None:
        self.progress.put_stage(record, position)
        self.outbox.write(History.op_stage(self.identity.id, record, position))

    def _stage_ended(
        self,
        stage: Stage,
        index: int,
        attempt: int,
        started: datetime,
        ended: datetime,
        status: StageStatus,
        error: str | None,
    ) -> None:
        """Record how attempt *attempt* of *stage* ended and announce it (both go out with the next flush)."""
        self._stage_record(
            StageRecord(
                name=stage.name, status=status, attempt=attempt, started_at=started, ended_at=ended, error=error
            ),
            index,
        )
        self.outbox.announce(
            StageFinished(
                execution_id=self.identity.id,
                pipeline=self.identity.name,
                at=ended,
                stage=stage.name,
                status=status,
                attempt=attempt,
            )
        )

    def _action_record(self, job: Job, record: ActionRecord) -> None:
        job.position = self.progress.put_action(record, job.record, job.position)
        job.record = record
        self.outbox.write(History.op_action(self.identity.id, record, job.index, job.action.namespace))

    @property
    def started_at(self) -> datetime:
        return self.progress.started_at

    def snapshot(self) -> Execution:
        return self.progress.snapshot(self.identity)

    # the main loop -------------------------------------------------------------------------

    def main(self) -> None:
        try:
            self._drive()
        except BaseException as exc:  # an engine bug still ends the execution readably
            self.outbox.discard()
            self._finish(ExecutionStatus.FAILED, f"internal error in the local executor: {exc!r}")
            traceback.print_exc(file=sys.stderr)
        finally:
            try:
                self.engine.history.write([History.op_release(self.identity.id, self.identity.owner)])
                # A failing rollback never starts another rollback (it would target the same
                # execution again and loop).
                if (
                    self.on_failure is not None
                    and self.progress.rollback_stage is not None
                    and self.progress.status is ExecutionStatus.FAILED
                    and self.identity.execution_type == "STANDARD"
                ):
                    # Started before the feed is closed, so wait() follows it without a race.
                    self.followup = self.on_failure(self)
            finally:
                self.engine.forget(self)
                self.feed.close()

    def _drive(self) -> None:
        gate = self.engine.gate(self.identity.pipeline)
        stages = self.identity.pipeline.stages
        index = self.scope.first
        # A stage that succeeded leaves its end queued, not written, and stays held. When the
        # next stage can be entered at once, the end, the next stage's start and its first
        # wave's starts go out in one transaction, and the ended stage is left once that is on
        # disk; otherwise the end is written and the stage left before waiting at the next.
        held: str | None = None
        try:
            while index <= self.scope.last:
                stage = stages[index]
                if held is not None:
                    previous = held
                    if (
                        not self.control.stop_requested
                        and stage.before_entry is None
                        and gate.try_enter(self, stage.name)
                    ):
                        held = stage.name
                        self.outbox.after(functools.partial(gate.leave, self, previous))
                    else:
                        self.outbox.flush()
                        held = None
                        gate.leave(self, previous)
                if held is None:
                    if self.control.stop_requested:
                        self._finish(ExecutionStatus.STOPPED, self._stopped_summary())
                        return
                    if not gate.enter(self, stage.name):
                        superseded_by = self.control.superseded_by
                        if superseded_by is not None:
                            self._finish(ExecutionStatus.SUPERSEDED, f"Superseded by execution {superseded_by}")
                        else:
                            self._finish(ExecutionStatus.STOPPED, self._stopped_summary())
                        return
                    held = stage.name
                outcome = self._stage(stage, index)
                index += 1
                if outcome is StageStatus.SUCCEEDED:
                    continue
                held = None
                gate.leave(self, stage.name)
                status = execution_status(outcome)
                if status is ExecutionStatus.STOPPED:
                    self._finish(status, self._stopped_summary())
                    return
                if status is ExecutionStatus.FAILED:
                    self._finish(status, self.progress.summary or f"stage {stage.name} failed")
                    return
            self._finish(ExecutionStatus.SUCCEEDED, None)
        finally:
            # Normally empty by now (a flush ran them); after an engine error the stages are
            # still left, so that other executions do not wait for them forever.
            self.outbox.run_hooks()
            if held is not None:
                gate.leave(self, held)

    def _stopped_summary(self) -> str:
        control = self.control
        how = "stop and abandon" if control.abandon else "stop and wait"
        return f"Stopped ({how}){': ' + control.stop_reason if control.stop_reason else ''}"

    def _finish(self, status: ExecutionStatus, summary: str | None) -> None:
        summary = self.engine.masker(summary) if summary else summary
        ended = self.clock.now()
        with self._ending:
            self.progress.end(status, summary, ended)
            self.outbox.write(History.op_status(self.identity.id, status, summary, ended))
        # Flushed outside the lock: it emits events, and an observer may call stop() (which then
        # finds the run ended); the status is queued before any later stop could be written.
        self.outbox.flush()
        snap = self.snapshot()
        self.emit(
            ExecutionFinished(
                execution_id=self.identity.id,
                pipeline=self.identity.name,
                at=ended,
                status=status,
                execution=snap,
            )
        )

    # stages --------------------------------------------------------------------------------

    def _stage(self, stage: Stage, index: int) -> StageStatus:
        """Run *stage*; its outcome is SUCCEEDED (its end not yet written), SKIPPED, STOPPED or FAILED."""
        retry_mode = self.scope.retry_mode if index == self.scope.first else None
        if retry_mode is None and stage.before_entry is not None:
            verdict = self._conditions(stage, "BEFORE_ENTRY", stage.before_entry.conditions, Result.FAIL)
            if verdict is not None:
                attempt = self.progress.next_attempt(stage.name)
                now = self.clock.now()
                if verdict is Result.SKIP:
                    return self._settled_at_entry(stage, index, attempt, now, StageStatus.SKIPPED)
                entry_error = f"beforeEntry condition of stage {stage.name} failed"
                self.progress.note(entry_error)
                return self._settled_at_entry(stage, index, attempt, now, StageStatus.FAILED, entry_error)
        only: set[str] | None = None
        if retry_mode is RetryMode.FAILED_ACTIONS:
            only = self._not_succeeded(stage)
        while True:
            attempt = self.progress.next_attempt(stage.name)
            started = self.clock.now()
            self._stage_record(
                StageRecord(name=stage.name, status=StageStatus.IN_PROGRESS, attempt=attempt, started_at=started), index
            )
            # Written (and announced) together with the first wave's action starts.
            self.outbox.announce(
                StageStarted(
                    execution_id=self.identity.id,
                    pipeline=self.identity.name,
                    at=started,
                    stage=stage.name,
                    attempt=attempt,
                )
            )
            ok, error = self._waves(stage, only)
            status = stage_status(ok=ok, stop_requested=self.control.stop_requested)
            if status is StageStatus.SUCCEEDED and stage.on_success is not None:
                verdict = self._conditions(stage, "ON_SUCCESS", stage.on_success.conditions, Result.FAIL)
                if verdict is not None:
                    status, error = StageStatus.FAILED, f"onSuccess condition of stage {stage.name} failed"
                    self.progress.apply(after_conditions(stage.name, verdict))
            self._stage_ended(stage, index, attempt, started, self.clock.now(), status, error)
            if status is StageStatus.SUCCEEDED:
                return status  # written by _drive, with the next stage's start if it can
            self.outbox.flush()
            if status is StageStatus.STOPPED:
                return status
            self.progress.note(error)
            step = after_failure(
                stage,
                auto_retried=self.progress.auto_retried,
                stop_requested=self.control.stop_requested,
                rolling_back=self.progress.rollback_stage is not None,
            )
            if step.recovery is Recovery.CONDITIONS:
                assert stage.on_failure is not None
                verdict = self._conditions(stage, "ON_FAILURE", stage.on_failure.conditions, Result.ROLLBACK)
                step = after_conditions(stage.name, verdict)
            self.progress.apply(step)
            if step.recovery is Recovery.RETRY:
                assert step.retry_mode is not None
                self.outbox.write(
                    History.op_audit(
                        self.identity.id,
                        "pipeweaver",
                        "AutomatedStageRetry",
                        stage=stage.name,
                        summary=step.retry_mode.value,
                    )
                )
                only = self._not_succeeded(stage) if step.retry_mode is RetryMode.FAILED_ACTIONS else None
                continue
            return StageStatus.FAILED

    def _not_succeeded(self, stage: Stage) -> set[str]:
        with self.progress.lock:
            return not_succeeded(stage, self.progress.latest)

    # conditions ----------------------------------------------------------------------------

    def _settled_at_entry(
        self,
        stage: Stage,
        index: int,
        attempt: int,
        now: datetime,
        status: StageStatus,
        error: str | None = None,
    ) -> StageStatus:
        """Record a stage that its beforeEntry conditions ended (skipped or failed) before it began."""
        self._stage_ended(stage, index, attempt, now, now, status, error)
        self.outbox.flush()
        return status

    def _conditions(self, stage: Stage, kind: str, conditions: Iterable[Any], default: Result) -> Result | None:
        """Evaluate conditions; return the result to apply when a rule fails, else ``None``.

        The rules of one condition are evaluated together, as on AWS: each runs (on a thread of
        its own) and is recorded, and the condition fails when any of them did not succeed.
        """
        with self.overrides.evaluating(stage.name, kind):
            return self._rule_conditions(stage, kind, conditions, default)

    def _rule_conditions(self, stage: Stage, kind: str, conditions: Iterable[Any], default: Result) -> Result | None:
        now = self.clock.now()
        for condition in conditions:
            rules = list(condition.rules)
            first = len(self.progress.rules) + 1

            def evaluate(numbered: tuple[int, Any]) -> tuple[RuleOutcome, str]:
                index, rule = numbered
                return run_rule(
                    handler=self.engine.services.rule_handler(rule.rule_type.provider),
                    pipeline=self.identity.pipeline,
                    stage=stage,
                    kind=kind,
                    rule=rule,
                    now=now,
                    execution_id=self.identity.id,
                    directory=self.run_dir / stage.name / f"rule-{index}-{kind}-{rule.name}",
                    resolve=self.resolve,
                    artifact=lambda name: self.progress.artifacts.get(name),
                    store=self.engine.store,
                    environment=self.engine.services.base_environment(),
                    emit=self.emit,
                    clock_now=self.clock.now,
                    masker=self.engine.masker,
                    timeout=self.engine.timeouts.get(f"{stage.name}/rule:{rule.name}"),
                    cancels=self.rule_cancels,
                )

            # Not on this (daemon) thread even when alone: interpreter exit joins the rule
            # threads, so a rule's shell command is ended rather than left running.
            outcomes = run_each(evaluate, list(enumerate(rules, start=first)), "pipeweaver-rule")
            by = self.overrides.by(stage.name, kind)
            failed = False
            for rule, (status, summary) in zip(rules, outcomes, strict=True):
                shown, summary = overridden(status, summary, by)
                record = RuleRecord(
                    stage=stage.name,
                    condition=kind,
                    name=rule.name,
                    status=shown,
                    summary=summary,
                    at=self.clock.now(),
                )
                self.progress.add_rule(record)
                self.outbox.write(History.op_rule(self.identity.id, record))
                failed = failed or status is not RuleOutcome.SUCCEEDED
            if by is not None:
                break
            if failed:
                self.outbox.flush()
                return condition.result or default
        self.outbox.flush()
        return None

    # variables -------------------------------------------------------------------------------

    def resolve(self, text: str) -> str:
        """Replace every ``#{namespace.key}`` in *text* (``ActionFailed`` naming the unknown ones)."""
        return resolve(
            text,
            execution_id=self.identity.id,
            variables=self.identity.variables,
            namespaces=self.progress.namespaces,
            unknown=self.progress.unknown,
        )

    # waves ---------------------------------------------------------------------------------

    def _waves(self, stage: Stage, only: set[str] | None) -> tuple[bool, str | None]:
        for todo in waves(stage, only):
            if self.control.stop_requested:
                return False, "stopped before all actions ran"
            failed = self._wave(stage, todo)
            if self.control.abandon:
                return False, "abandoned"
            if failed:
                return False, "; ".join(failed)
        return True, None

    def _wave(self, stage: Stage, actions: list[Action]) -> list[str]:
        jobs: list[Job] = []
        now = self.clock.now()
        planned = plan_wave(
            stage,
            actions,
            latest=self.progress.latest,
            position=self.progress.position,
            start=self.clock.monotonic(),
            timeout_for=self.engine.timeout_for,
        )
        if planned:
            self.progress.number(planned[-1].position)
        for plan in planned:
            action, attempt = plan.action, plan.attempt
            directory = self.run_dir.joinpath(stage.name, action.name, str(attempt))
            job = Job(stage, action, attempt, plan.position, directory, plan.deadline)
            self._action_record(
                job,
                ActionRecord(
                    stage=stage.name, name=action.name, status=ActionStatus.IN_PROGRESS, attempt=attempt, started_at=now
                ),
            )
            jobs.append(job)
        self.outbox.announce_all(
            ActionStarted(
                execution_id=self.identity.id,
                pipeline=self.identity.name,
                at=now,
                stage=stage.name,
                action=job.action.name,
                attempt=job.attempt,
            )
            for job in jobs
        )
        self.outbox.flush()
        for job in jobs:
            self.engine.pool().submit(self.attempts.execute, job)
        by_key = {id(j): j for j in jobs}
        deadlines = WaveClock({id(j): j.deadline for j in jobs})
        failed: list[str] = []
        unflushed_since: float | None = None
        while deadlines.pending:
            flush_by = None if unflushed_since is None else unflushed_since + _FLUSH_WINDOW
            wait = deadlines.wait(self.clock.monotonic(), flush_by=flush_by, cap=LEASE_SECONDS / 3)
            try:
                item = self.completions.get(timeout=wait)
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
            finished = [job for job in batch if deadlines.ended(id(job))]
            for key in deadlines.expired(self.clock.monotonic()):
                # Timeouts are failures (reference §4.5); the handler is told to stop.
                job = by_key[key]
                job.cancel.set()
                job.status = ActionStatus.FAILED
                job.error = (
                    f"timed out after {_duration(self.engine.timeout_for(stage, job.action))} "
                    f"({self.engine.timeout_origin(stage, job.action)}; change it with "
                    f"--timeout {stage.name}/{job.action.name}=SECONDS (pipeweaver run) or "
                    f"LocalExecutor(timeouts={{'{stage.name}/{job.action.name}': seconds}}))"
                )
                finished.append(job)
            if self.control.abandon:
                for key in deadlines.abandon():
                    job = by_key[key]
                    job.cancel.set()
                    job.status = ActionStatus.ABANDONED
                    job.error = "abandoned: the execution was stopped with abandon"
                    finished.append(job)
            ended = self.clock.now()
            for job in finished:
                self._record_finish(job, ended)
                if job.status is not ActionStatus.SUCCEEDED:
                    failed.append(f"{job.action.name}: {self.engine.masker(job.error or '')}")
            for job in finished:
                assert job.record is not None
                self.outbox.announce(
                    ActionFinished(
                        execution_id=self.identity.id,
                        pipeline=self.identity.name,
                        at=ended,
                        stage=stage.name,
                        action=job.action.name,
                        status=job.status,
                        record=job.record,
                    )
                )
            if finished and unflushed_since is None:
                unflushed_since = self.clock.monotonic()
            # One transaction per wave: results are written with the next wave's starts or the
            # stage's end (before either is acted on); a long wave writes finished actions at
            # most _FLUSH_WINDOW after they end.
            if (
                deadlines.pending
                and unflushed_since is not None
                and self.clock.monotonic() - unflushed_since >= _FLUSH_WINDOW
            ):
                self.outbox.flush()
                unflushed_since = None
        return failed

    def _record_finish(self, job: Job, ended: datetime) -> None:
        result = job.result
        succeeded = job.status is ActionStatus.SUCCEEDED
        variables = dict(result.output_variables) if (result and succeeded) else {}
        with job.log_lock:
            job.over = True
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
            resolved_configuration=self.engine.masker.mapping(job.resolved),
            output_variables={k: self.engine.masker(v) for k, v in variables.items()},
            summary=self.engine.masker(result.summary) if (result and result.summary and succeeded) else None,
            error=self.engine.masker(job.error) if job.error else None,
            log_file=str(job.log_path) if job.log_path is not None else None,
            external_execution_id=result.external_execution_id if result else None,
        )
        self._action_record(job, record)
        if succeeded:
            unknown = result.unknown_variables if result else None
            self.progress.publish(job.action.namespace, variables, job.refs, unknown)
            for ref in job.refs:
                self.outbox.write(History.op_artifact(self.identity.id, ref, job.stage.name, job.action.name))

    # approvals -----------------------------------------------------------------------------

    # approvals -------------------------------------------------------------------------------

    def await_approval(self, ctx: ActionContext) -> ActionResult:
        """Wait for a decision on the manual approval of *ctx* (on the action's thread)."""
        return self.approvals.wait_for(ctx)

    def decide(self, stage: str, action: str, approved: bool, summary: str, by: str) -> None:
        """Answer the approval waiting at *stage*/*action*."""
        self.approvals.decide(stage, action, approved, summary, by)

    # stop ------------------------------------------------------------------------------------

    def join(self) -> None:
        """Wait until this execution has ended (its engine thread is done)."""
        self.feed.wait_closed()

    def request_stop(self, abandon: bool, reason: str, by: str) -> None:
        with self._ending:
            status = self.progress.status
            if status.is_terminal:
                raise ExecutionError(f"execution {self.identity.id} already ended {status.value}; it cannot be stopped")
            control = self.control
            if control.stop_requested and not abandon:
                raise ExecutionError(
                    f"execution {self.identity.id} is already stopping; use abandon=True to abandon its actions"
                )
            control.stop_reason = reason[:200]
            # STOPPING is recorded (history first: a failed write changes nothing) before the
            # flags that let the run end are set
            self.engine.history.write(
                [
                    History.op_status(self.identity.id, ExecutionStatus.STOPPING, reason or None, None),
                    History.op_audit(
                        self.identity.id, by, "StopAndAbandon" if abandon else "StopAndWait", summary=reason
                    ),
                ]
            )
            self.progress.stopping()
            control.stop_requested = True
            if abandon:
                control.abandon = True
                for cancel in list(self.rule_cancels):
                    cancel.set()
        self.engine.gate(self.identity.pipeline).wake()
        self.completions.put(None)
