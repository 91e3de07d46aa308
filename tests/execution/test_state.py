"""An execution's state records (_state) and its outbox: each change through one method, no threads or SQLite."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import attrs
import pytest

import pipeweaver as pw
from pipeweaver.execution import (
    ActionRecord,
    ActionStatus,
    ArtifactRef,
    Execution,
    ExecutionStatus,
    StageRecord,
    StageStarted,
    StageStatus,
    TriggerInfo,
)
from pipeweaver.execution._core import FailureStep, Recovery
from pipeweaver.execution._engine import LEASE_SECONDS
from pipeweaver.execution._history import History, Op
from pipeweaver.execution._outbox import Feed, Outbox
from pipeweaver.execution._state import Identity, Progress, Scope

from .conftest import custom

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def action(name: str, status: ActionStatus, attempt: int = 1) -> ActionRecord:
    return ActionRecord(stage="Build", name=name, status=status, attempt=attempt, started_at=T0)


PIPELINE = pw.Pipeline(
    name="demo",
    role_arn="arn:aws:iam::123456789012:role/p",
    artifact_store=pw.ArtifactStore(location="artifact-bucket"),
    stages=[pw.Stage(name="Build", actions=[custom("Unit")])],
)
IDENTITY = Identity(id="e1", pipeline=PIPELINE, trigger=TriggerInfo(), owner="host:1", variables={"Env": "prod"})


def snapshot(progress: Progress) -> Execution:
    return progress.snapshot(IDENTITY)


def test_an_action_update_replaces_its_attempt_in_place_and_becomes_the_latest() -> None:
    progress = Progress(started_at=T0)
    first = action("Unit", ActionStatus.IN_PROGRESS)
    slot = progress.put_action(first, None, None)
    other = progress.put_action(action("Lint", ActionStatus.IN_PROGRESS), None, None)
    done = attrs.evolve(first, status=ActionStatus.SUCCEEDED)
    assert slot == progress.put_action(done, first, slot)
    # A stale slot is found again by identity.
    again = attrs.evolve(done, summary="again")
    assert slot == progress.put_action(again, done, other)
    assert [again, progress.actions[other]] == progress.actions
    assert again is progress.latest[("Build", "Unit")]


def test_stage_attempts_are_numbered_and_updated_by_attempt() -> None:
    progress = Progress(started_at=T0)
    assert 1 == progress.next_attempt("Build")
    progress.put_stage(StageRecord(name="Build", status=StageStatus.IN_PROGRESS, attempt=1), 1)
    progress.put_stage(StageRecord(name="Build", status=StageStatus.FAILED, attempt=1), 1)
    assert 2 == progress.next_attempt("Build")
    progress.put_stage(StageRecord(name="Build", status=StageStatus.IN_PROGRESS, attempt=2), 1)
    assert [StageStatus.FAILED, StageStatus.IN_PROGRESS] == [s.status for s in snapshot(progress).stages]


def test_the_snapshot_is_a_copy_of_the_record() -> None:
    progress = Progress(started_at=T0)
    progress.publish("BuildVariables", {"Tag": "v1"}, [ArtifactRef(name="Out", uri="file:///out.zip", sha256="0" * 64)])
    progress.note("stage Build failed")
    before = snapshot(progress)
    progress.end(ExecutionStatus.FAILED, "stage Build failed", T0 + timedelta(seconds=3))
    progress.append_summary("; no rollback")
    after = snapshot(progress)
    assert (ExecutionStatus.IN_PROGRESS, "stage Build failed", None) == (
        before.status,
        before.status_summary,
        before.ended_at,
    )
    assert (ExecutionStatus.FAILED, "stage Build failed; no rollback") == (after.status, after.status_summary)
    assert {"Out"} == set(after.artifacts)
    assert {"Env": "prod"} == after.variables
    assert {"Tag": "v1"} == progress.namespaces["BuildVariables"]


def test_a_retry_resumes_the_records_and_a_rollback_carries_only_artifacts_and_namespaces() -> None:
    past = Execution(
        id="e0",
        pipeline="demo",
        status=ExecutionStatus.FAILED,
        started_at=T0,
        stages=(StageRecord(name="Build", status=StageStatus.FAILED),),
        actions=(action("Unit", ActionStatus.FAILED), action("Lint", ActionStatus.SUCCEEDED)),
        artifacts={"Src": ArtifactRef(name="Src", uri="file:///src.zip", sha256="0" * 64)},
    )
    later = T0 + timedelta(hours=1)
    resumed = Progress.resumed(past, {"SourceVariables": {"CommitId": "abc"}}, {"Build": 1}, started_at=later)
    assert (T0, 2, 2) == (resumed.started_at, resumed.position, resumed.next_attempt("Build"))
    assert [(StageRecord(name="Build", status=StageStatus.FAILED), 1)] == resumed.stages
    assert ActionStatus.FAILED is resumed.latest[("Build", "Unit")].status
    carried = Progress.carried(past, {"SourceVariables": {"CommitId": "abc"}}, started_at=later)
    assert (later, [], 0, {"Src"}) == (carried.started_at, carried.actions, carried.position, set(carried.artifacts))


def test_the_failure_decisions_state_and_the_scope() -> None:
    progress = Progress(started_at=T0)
    progress.apply(FailureStep(Recovery.RETRY, "Build", retry_mode=pw.RetryMode.ALL_ACTIONS))
    progress.apply(FailureStep(Recovery.CONDITIONS, "Test"))  # the rules decide: no change yet
    progress.apply(FailureStep(Recovery.FAIL, "Test"))
    progress.apply(FailureStep(Recovery.ROLL_BACK, "Deploy"))
    assert ({"Build"}, "Deploy") == (progress.auto_retried, progress.rollback_stage)
    scope = Scope(2, 2)
    assert scope.retry_mode is None
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        scope.first = 0  # type: ignore[misc]


def test_the_outbox_writes_then_announces_then_runs_hooks_and_renews_the_lease_on_real_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log: list[str] = []

    class FakeHistory:
        def write(self, ops: list[Op]) -> None:
            log.append(f"write {len(ops)}")

    now = [100.0]
    monkeypatch.setattr("pipeweaver.execution._outbox.time.monotonic", lambda: now[0])
    outbox = Outbox(FakeHistory(), "e1", "host:1", lambda event: log.append(f"emit {type(event).__name__}"))  # type: ignore[arg-type]
    outbox.after(lambda: log.append("hook"))
    outbox.write(History.op_release("e1", "host:1"))
    outbox.announce(StageStarted(execution_id="e1", pipeline="demo", at=T0, stage="Build", attempt=1))
    outbox.flush()
    assert ["write 1", "emit StageStarted", "hook"] == log
    log.clear()
    outbox.flush()  # nothing queued, lease fresh: nothing written
    now[0] += LEASE_SECONDS / 3 + 1
    outbox.flush()  # a third of the lease passed: the renewal alone is written
    assert ["write 1"] == log


def test_the_identity_is_fixed_and_names_the_pipeline_and_its_mode() -> None:
    given = {"Env": "prod"}
    identity = Identity(id="e1", pipeline=PIPELINE, trigger=TriggerInfo(), owner="host:1", variables=given)
    given["Env"] = "dev"  # a copy was kept
    assert ("demo", pw.ExecutionMode.SUPERSEDED, {"Env": "prod"}) == (
        identity.name,
        identity.mode,
        identity.variables,
    )
    assert ("STANDARD", None) == (identity.execution_type, identity.rollback_target)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        identity.owner = "elsewhere"  # type: ignore[misc]
    snap = snapshot(Progress(started_at=T0))
    assert ("e1", "demo", {"Env": "prod"}, "STANDARD") == (snap.id, snap.pipeline, snap.variables, snap.execution_type)


def test_the_feed_hands_out_events_in_order_and_ends_when_closed() -> None:
    feed = Feed()
    started = StageStarted(execution_id="e1", pipeline="demo", at=T0, stage="Build", attempt=1)
    assert ([], False) == feed.since(0, time.monotonic() + 0.01)  # nothing yet: the wait times out
    feed.append(started)
    assert ([started], False) == feed.since(0, None)
    closer = threading.Timer(0.05, feed.close)
    closer.start()
    assert ([], True) == feed.since(1, None)  # woken by the close
    assert feed.wait_closed(0)
    closer.join()
