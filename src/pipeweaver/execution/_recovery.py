"""Retry, rollback and recovery of local executions: the checks AWS makes, and the new runs.

Layer: execution. Each function checks what AWS checks (a failed stage, the latest execution in
it, an unchanged pipeline, a succeeded rollback target) and prepares the run that continues or
rolls back the execution; the executor launches it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs

from .._codec import from_codepipeline
from .._model import ActionCategory, ExecutionMode, Pipeline, RetryMode, Stage
from ..errors import ExecutionError
from ._base import Execution, ExecutionStatus, StageRecord, StageStatus, TriggerInfo
from ._engine import LEASE_SECONDS, Engine
from ._history import History, Op
from ._preflight import definition
from ._run import Run
from ._state import Identity, Progress, Scope

__all__ = [
    "automated_rollback",
    "fail_interrupted",
    "override_running",
    "prepare_retry",
    "prepare_rollback",
    "rollback_outcome",
]

#: Makes a run of an execution on the executor's engine.
NewRun = Callable[[Identity], Run]


def _restore(history: History, run: Run, source_id: str, *, records: bool) -> None:
    past = history.load(source_id)
    namespaces = history.namespaces(source_id)
    if records:
        order = {s.name: i for i, s in enumerate(run.identity.pipeline.stages)}
        run.progress = Progress.resumed(past, namespaces, order, started_at=run.started_at)
        run.seq = history.seq(source_id)
        if past.execution_type == "ROLLBACK" and past.rollback_target:
            # A rollback runs on its target's artifacts and variables, which its own history
            # does not hold (nothing produced them in it): a retry starts from them again, as
            # the rollback's first attempt did, with what the rollback itself produced on top.
            target = history.load(past.rollback_target)
            progress = run.progress
            progress.artifacts = {**target.artifacts, **progress.artifacts}
            progress.namespaces = {**history.namespaces(past.rollback_target), **progress.namespaces}
    else:
        run.progress = Progress.carried(past, namespaces, started_at=run.started_at)


def prepare_retry(
    engine: Engine,
    new_run: NewRun,
    execution_id: str,
    stage: str,
    *,
    mode: RetryMode,
    pipeline: Pipeline | None,
    by: str,
    override: str | None = None,
) -> Run:
    """Check that *stage* of *execution_id* can be retried, take its lease, and return the run.

    With *override* (``BEFORE_ENTRY`` or ``ON_SUCCESS``) the run is OverrideStageCondition of a
    stage that condition failed: the stage is entered without it (its actions all run), or,
    for ``ON_SUCCESS``, counts as succeeded and the execution goes on from the next stage.
    """
    history = engine.history
    if execution_id in engine.runs:
        raise ExecutionError(f"execution {execution_id} is still running; retry it after it ends")
    try:
        past = history.load(execution_id)
    except KeyError:
        raise ExecutionError(f"no execution {execution_id} in {history.path}") from None
    stored_definition = history.definition(execution_id)
    if pipeline is not None and definition(pipeline) != stored_definition:
        raise ExecutionError(
            f"the pipeline changed since execution {execution_id} ran; AWS refuses retries after a structure change"
        )
    stored = pipeline or from_codepipeline(stored_definition)
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
    if override is not None:
        _check_overridable(stored.stages[index], record, override)
    latest = history.latest_in_stage(past.pipeline, stage)
    if latest != execution_id:
        raise ExecutionError(
            f"execution {latest} entered stage {stage} after {execution_id}; only the latest execution in a stage "
            "can be retried (NotLatestPipelineExecutionException)"
        )
    history.acquire_lease(execution_id, engine.owner, LEASE_SECONDS)
    # Checked again under the lease: another runner may have retried the execution between
    # the checks above and the lease (found by tests/crash: exactly one runner advances).
    now_past = history.load(execution_id)
    now_record = now_past.stage(stage)
    if (now_past.status, now_record.attempt, now_record.status) != (past.status, record.attempt, record.status):
        history.write([History.op_release(execution_id, engine.owner)])
        raise ExecutionError(
            f"execution {execution_id} was advanced by another runner while this one prepared its retry "
            f"(now {now_past.status.value}, stage {stage} {now_record.status.value}); nothing was run"
        )
    run = new_run(
        Identity(
            id=execution_id,
            pipeline=stored,
            trigger=past.trigger,
            owner=engine.owner,
            variables=past.variables,
            source_revisions=history.source_revisions(execution_id),
            execution_type=past.execution_type,
            rollback_target=past.rollback_target,
        )
    )
    ops: list[Op] = [History.op_status(execution_id, ExecutionStatus.IN_PROGRESS, None, None)]
    if override == "ON_SUCCESS":
        passed = attrs.evolve(record, status=StageStatus.SUCCEEDED, error=None)
        history.write([History.op_stage(execution_id, passed, index)])
    _restore(history, run, execution_id, records=True)
    if override == "ON_SUCCESS":
        first, retry_mode = index + 1, None
    else:
        # A retry, or entering a stage whose entry condition is overridden, skips beforeEntry.
        first, retry_mode = index, RetryMode.ALL_ACTIONS if override else mode
    # A rollback's retry stays in the one stage it rolls back.
    run.scope = Scope(first, index if past.execution_type == "ROLLBACK" else run.scope.last, retry_mode)
    event = "OverrideStageCondition" if override else "ManualStageRetry"
    ops.append(History.op_audit(execution_id, by, event, stage=stage, summary=override or mode.value))
    history.write(ops)
    return run


def override_running(run: Run, stage: str, kind: str, by: str) -> None:
    """OverrideStageCondition of the condition *run* is evaluating (see ``_conditions.Overrides``).

    Raises:
        ExecutionError: a SKIP entry condition, or the condition is not being evaluated.
    """
    found = [s for s in run.identity.pipeline.stages if s.name == stage]
    entry = found[0].before_entry if found and kind == "BEFORE_ENTRY" else None
    if entry is not None and any(str(c.result) == "SKIP" for c in entry.conditions):
        raise ExecutionError(
            f"the BEFORE_ENTRY condition of stage {stage} has result SKIP, which cannot be overridden "
            "(ConditionNotOverridableException)"
        )
    execution_id = run.identity.id
    run.overrides.request(stage, kind, by, execution_id=execution_id, cancels=run.rule_cancels)
    run.engine.history.write([History.op_audit(execution_id, by, "OverrideStageCondition", stage=stage, summary=kind)])


#: How a stage that its own condition failed is recorded (see Run._stage): kind -> error.
_FAILED_BY = {
    "BEFORE_ENTRY": "beforeEntry condition of stage {stage} failed",
    "ON_SUCCESS": "onSuccess condition of stage {stage} failed",
}


def _check_overridable(stage: Stage, record: StageRecord, kind: str) -> None:
    """OverrideStageCondition of an ended execution: the stage failed by that condition, whose result is FAIL."""
    if kind not in _FAILED_BY:
        raise ExecutionError(f"condition type {kind!r} is not BEFORE_ENTRY or ON_SUCCESS")
    conditions = stage.before_entry if kind == "BEFORE_ENTRY" else stage.on_success
    if conditions is None:
        raise ExecutionError(f"stage {stage.name} has no {kind} condition (ConditionNotOverridableException)")
    results = {str(c.result or "FAIL") for c in conditions.conditions}
    if results != {"FAIL"}:
        raise ExecutionError(
            f"the {kind} condition of stage {stage.name} has result {sorted(results)}; only a FAIL result can be "
            "overridden after it failed (ConditionNotOverridableException)"
        )
    if record.error != _FAILED_BY[kind].format(stage=stage.name):
        raise ExecutionError(
            f"stage {stage.name} did not fail by its {kind} condition ({record.error or 'no error'}); "
            "retry it instead (ConditionNotOverridableException)"
        )


def prepare_rollback(
    engine: Engine, new_run: NewRun, pipeline: Pipeline, stage: str, target: str, trigger: TriggerInfo, run_id: str
) -> tuple[Run, dict[str, Any]]:
    """Check that *stage* can be rolled back to *target*; return the ROLLBACK run and its definition."""
    history = engine.history
    index = [s.name for s in pipeline.stages].index(stage) if stage in [s.name for s in pipeline.stages] else -1
    if index < 0:
        raise ExecutionError(f"pipeline {pipeline.name!s} has no stage {stage!r}")
    if pipeline.effective_execution_mode is ExecutionMode.PARALLEL:
        raise ExecutionError("rollback is not available in PARALLEL execution mode")
    if any(a.category is ActionCategory.SOURCE for a in pipeline.stages[index].actions):
        raise ExecutionError(f"stage {stage} holds source actions; AWS does not roll back the source stage")
    try:
        past = history.load(target)
    except KeyError:
        raise ExecutionError(f"no execution {target} in {history.path}") from None
    if past.execution_type == "ROLLBACK":
        raise ExecutionError(f"execution {target} is itself a rollback; choose a STANDARD execution")
    try:
        ok = past.stage(stage).status is StageStatus.SUCCEEDED
    except KeyError:
        ok = False
    if not ok:
        raise ExecutionError(f"execution {target} did not succeed in stage {stage}; it cannot be a rollback target")
    stored = definition(pipeline)
    if history.definition(target) != stored:
        raise ExecutionError(
            f"execution {target} ran another version of the pipeline (PipelineExecutionOutdatedException)"
        )
    run = new_run(
        Identity(
            id=run_id,
            pipeline=pipeline,
            trigger=trigger,
            owner=engine.owner,
            variables=past.variables,
            source_revisions=history.source_revisions(target),
            execution_type="ROLLBACK",
            rollback_target=target,
        )
    )
    _restore(history, run, target, records=False)
    run.scope = Scope(index, index)
    return run, stored


def fail_interrupted(history: History, execution_id: str, now: datetime) -> None:
    """Mark *execution_id*, whose runner died, Failed (at *now*) so that it can be retried."""
    note = "interrupted: the process running this execution stopped before it finished"
    ops: list[Op] = []
    ops.append(
        (
            "UPDATE actions SET status='Failed', ended_at=?, error=? WHERE execution_id=? AND status='InProgress'",
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
    ops.extend(_fail_due_stage(history, execution_id, note, now))
    ops.append(History.op_status(execution_id, ExecutionStatus.FAILED, note, now))
    ops.append(("UPDATE approvals SET status='Expired' WHERE execution_id=? AND status='Waiting'", (execution_id,)))
    ops.append(("UPDATE executions SET lease_owner=NULL, lease_expires=NULL WHERE id=?", (execution_id,)))
    ops.append(History.op_audit(execution_id, "pipeweaver", "Interrupted", summary=note))
    history.write(ops)


def _fail_due_stage(history: History, execution_id: str, note: str, now: datetime) -> list[Op]:
    # A runner killed between two stages (or before the first) leaves no stage InProgress;
    # fail the stage that was due next so the execution can be retried from there, like any
    # failed stage (found by tests/crash: SIGKILL at random points).
    past = history.load(execution_id)
    if any(s.status in (StageStatus.IN_PROGRESS, StageStatus.STOPPING) for s in past.stages):
        return []
    done = {s.name for s in past.stages if s.status in (StageStatus.SUCCEEDED, StageStatus.SKIPPED)}
    stored = from_codepipeline(history.definition(execution_id))
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


def automated_rollback(failed_id: str) -> TriggerInfo:
    """The trigger of the automatic rollback started after execution *failed_id* failed."""
    return TriggerInfo(trigger_type="AutomatedRollback", detail=f"after {failed_id}")


def rollback_outcome(history: History, rollback: Execution) -> list[Op]:
    """What an automatic rollback's end adds to the summary of the execution it rolled back for.

    A rollback that fails is named there (``the rollback failed: ...``), so the failed
    execution does not read as rolled back; a retry of it that succeeds says so in turn.
    """
    if rollback.execution_type != "ROLLBACK" or rollback.trigger.trigger_type != "AutomatedRollback":
        return []
    found = re.fullmatch(r"after (\S+)", rollback.trigger.detail or "")
    if found is None:
        return []
    try:
        original = history.load(found.group(1))
    except KeyError:
        return []
    summary = original.status_summary or ""
    if rollback.status is ExecutionStatus.FAILED:
        note = f"; the rollback failed: {rollback.status_summary or 'see execution ' + rollback.id}"
    elif rollback.status is ExecutionStatus.SUCCEEDED and "; the rollback failed: " in summary:
        note = "; the rollback succeeded when retried"
    else:
        return []
    return [History.op_status(original.id, original.status, summary + note, original.ended_at)]
