"""The engine's pure core, step by step: no threads, no SQLite, no sleeps (a number is the clock)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import pipeweaver as pw
from pipeweaver.execution import ActionRecord, ActionStatus, ExecutionStatus, StageStatus
from pipeweaver.execution._core import (
    FailureStep,
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
from pipeweaver.execution._state import Progress

from .conftest import custom

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def record(stage: str, name: str, status: ActionStatus, attempt: int = 1) -> ActionRecord:
    return ActionRecord(stage=stage, name=name, status=status, attempt=attempt, started_at=T0, ended_at=T0)


def build_stage(**kw: object) -> pw.Stage:
    return pw.Stage(
        name="Build",
        actions=[custom("Lint"), custom("Unit"), custom("Package", run_order=2), custom("Publish", run_order=3)],
        **kw,  # type: ignore[arg-type]
    )


def test_a_stage_runs_its_waves_in_run_order() -> None:
    assert [[a.name for a in wave] for wave in waves(build_stage())] == [["Lint", "Unit"], ["Package"], ["Publish"]]


def test_a_wave_numbers_attempts_after_the_latest_and_sets_deadlines_from_the_start() -> None:
    stage = build_stage()
    first = waves(stage)[0]
    timeouts = {"Lint": 60.0, "Unit": 3600.0}
    planned = plan_wave(stage, first, latest={}, position=0, start=100.0, timeout_for=lambda _s, a: timeouts[a.name])
    assert [(p.action.name, p.attempt, p.position, p.deadline) for p in planned] == [
        ("Lint", 1, 1, 160.0),
        ("Unit", 1, 2, 3700.0),
    ]
    latest = {("Build", "Unit"): record("Build", "Unit", ActionStatus.FAILED, attempt=2)}
    again = plan_wave(stage, first, latest=latest, position=7, start=0.0, timeout_for=lambda _s, _a: 1.0)
    assert [(p.attempt, p.position) for p in again] == [(1, 8), (3, 9)]


def test_failure_in_a_wave_a_timeout_and_a_late_completion() -> None:
    """Lint ends, Unit passes its deadline, a completion arriving after the timeout is ignored."""
    wave = WaveClock({"Lint": 160.0, "Unit": 200.0})
    assert wave.wait(100.0, flush_by=None, cap=10.0) == 10.0  # capped (the lease renewal)
    assert wave.wait(155.0, flush_by=None, cap=10.0) == 5.0  # until Lint's deadline
    assert wave.wait(100.0, flush_by=100.05, cap=10.0) == pytest.approx(0.05)  # a flush is due first
    assert wave.ended("Lint") is True
    assert wave.expired(199.9) == []
    assert wave.pending
    assert wave.expired(200.0) == ["Unit"]
    assert not wave.pending
    assert wave.ended("Unit") is False  # it had timed out: its late result does not count


def test_abandon_ends_every_pending_attempt() -> None:
    wave = WaveClock({"A": 10.0, "B": 20.0, "C": 30.0})
    assert wave.ended("B")
    assert wave.abandon() == ["A", "C"]
    assert not wave.pending
    assert wave.abandon() == []


def test_how_a_stage_ends() -> None:
    assert stage_status(ok=True, stop_requested=False) is StageStatus.SUCCEEDED
    assert stage_status(ok=False, stop_requested=False) is StageStatus.FAILED
    assert stage_status(ok=False, stop_requested=True) is StageStatus.STOPPED
    assert stage_status(ok=True, stop_requested=True) is StageStatus.SUCCEEDED  # it finished before the stop
    assert execution_status(StageStatus.SUCCEEDED) is None
    assert execution_status(StageStatus.SKIPPED) is None
    assert execution_status(StageStatus.FAILED) is ExecutionStatus.FAILED
    assert execution_status(StageStatus.STOPPED) is ExecutionStatus.STOPPED


def test_retry_once_then_fail_re_running_only_the_failed_actions() -> None:
    stage = build_stage(on_failure=pw.FailureConditions(result="RETRY"))
    retried: set[str] = set()
    step = after_failure(stage, auto_retried=retried, stop_requested=False, rolling_back=False)
    assert step == FailureStep(Recovery.RETRY, "Build", retry_mode=pw.RetryMode.FAILED_ACTIONS)
    latest = {
        ("Build", "Lint"): record("Build", "Lint", ActionStatus.SUCCEEDED),
        ("Build", "Unit"): record("Build", "Unit", ActionStatus.FAILED),
    }
    only = not_succeeded(stage, latest)
    assert only == {"Unit", "Package", "Publish"}
    assert [[a.name for a in wave] for wave in waves(stage, only)] == [["Unit"], ["Package"], ["Publish"]]
    retried.add("Build")
    assert after_failure(stage, auto_retried=retried, stop_requested=False, rolling_back=False) == FailureStep(
        Recovery.FAIL, "Build"
    )


def test_no_automatic_retry_while_stopping_or_rolling_back() -> None:
    stage = build_stage(on_failure=pw.FailureConditions(result="RETRY", retry_mode="ALL_ACTIONS"))
    assert after_failure(stage, auto_retried=set(), stop_requested=False, rolling_back=False).retry_mode is (
        pw.RetryMode.ALL_ACTIONS
    )
    assert after_failure(stage, auto_retried=set(), stop_requested=True, rolling_back=False).recovery is Recovery.FAIL
    assert after_failure(stage, auto_retried=set(), stop_requested=False, rolling_back=True).recovery is Recovery.FAIL


def test_rollback_decisions() -> None:
    rollback = build_stage(on_failure=pw.FailureConditions(result="ROLLBACK"))
    assert after_failure(rollback, auto_retried=set(), stop_requested=False, rolling_back=False) == FailureStep(
        Recovery.ROLL_BACK, "Build"
    )
    # A rollback already decided (an onSuccess rule asked for it) is not decided twice.
    assert after_failure(rollback, auto_retried=set(), stop_requested=False, rolling_back=True).recovery is (
        Recovery.FAIL
    )
    conditional = build_stage(
        on_failure=pw.FailureConditions(
            conditions=pw.Condition(
                result="ROLLBACK",
                rules=[pw.Rule(name="Check", rule_type=pw.RuleType(provider="VariableCheck"), configuration={})],
            )
        )
    )
    step = after_failure(conditional, auto_retried=set(), stop_requested=False, rolling_back=False)
    assert step == FailureStep(Recovery.CONDITIONS, "Build")  # the rules decide
    assert after_conditions("Build", pw.Result.ROLLBACK) == FailureStep(Recovery.ROLL_BACK, "Build")
    assert after_conditions("Build", pw.Result.FAIL) == FailureStep(Recovery.FAIL, "Build")
    assert after_conditions("Build", None) == FailureStep(Recovery.FAIL, "Build")  # every rule passed
    assert after_failure(build_stage(), auto_retried=set(), stop_requested=False, rolling_back=False) == FailureStep(
        Recovery.FAIL, "Build"
    )


def test_a_stage_walked_to_its_retry_with_a_number_for_a_clock() -> None:
    """Wave 1: Lint succeeds, Unit times out; the stage fails, retries Unit once, and succeeds."""
    stage = build_stage(on_failure=pw.FailureConditions(result="RETRY"))
    latest: dict[tuple[str, str], ActionRecord] = {}
    retried: set[str] = set()
    position, now = 0, 0.0
    only: set[str] | None = None
    outcomes = {("Lint", 1): "ok", ("Unit", 1): "hangs"}  # what each attempt does; later ones succeed
    for _attempt_of_stage in range(2):
        ok = True
        for wave in waves(stage, only):
            planned = plan_wave(
                stage, wave, latest=latest, position=position, start=now, timeout_for=lambda _s, _a: 60.0
            )
            position = planned[-1].position
            clock = WaveClock({p.action.name: p.deadline for p in planned})
            for p in planned:
                if outcomes.get((p.action.name, p.attempt), "ok") == "ok":
                    assert clock.ended(p.action.name)
                    latest[("Build", p.action.name)] = record("Build", p.action.name, ActionStatus.SUCCEEDED, p.attempt)
            if clock.pending:
                now += clock.wait(now, flush_by=None, cap=3600.0)
            for name in clock.expired(now):
                attempt = next(p.attempt for p in planned if p.action.name == name)
                latest[("Build", name)] = record("Build", name, ActionStatus.FAILED, attempt)
                ok = False
            if not ok:
                break
        status = stage_status(ok=ok, stop_requested=False)
        if status is StageStatus.SUCCEEDED:
            break
        step = after_failure(stage, auto_retried=retried, stop_requested=False, rolling_back=False)
        assert step.recovery is Recovery.RETRY
        retried.add(stage.name)
        only = not_succeeded(stage, latest)
    assert status is StageStatus.SUCCEEDED
    assert now == 60.0  # one timeout waited for, on the test's clock
    assert {k[1]: (r.status, r.attempt) for k, r in latest.items()} == {
        "Lint": (ActionStatus.SUCCEEDED, 1),
        "Unit": (ActionStatus.SUCCEEDED, 2),
        "Package": (ActionStatus.SUCCEEDED, 1),
        "Publish": (ActionStatus.SUCCEEDED, 1),
    }


def test_failures_decided_and_applied_to_the_progress_one_step_at_a_time() -> None:
    """A stage that retries once and whose onFailure rule asks for a rollback: the first failure
    retries it, the second evaluates the rule and rolls it back, a later failure only fails; each
    decision is applied to a plain Progress, and the next one reads it."""
    check = pw.Rule(name="Check", rule_type=pw.RuleType(provider="VariableCheck"), configuration={})
    stage = build_stage(
        on_failure=pw.FailureConditions(result="RETRY", conditions=pw.Condition(result="ROLLBACK", rules=[check]))
    )

    def fails(progress: Progress, verdict: pw.Result | None = None) -> FailureStep:
        step = after_failure(
            stage,
            auto_retried=progress.auto_retried,
            stop_requested=False,
            rolling_back=progress.rollback_stage is not None,
        )
        if step.recovery is Recovery.CONDITIONS:
            step = after_conditions(stage.name, verdict)  # the driver ran the rules: their verdict
        progress.apply(step)
        return step

    progress = Progress(started_at=T0)
    assert fails(progress) == FailureStep(Recovery.RETRY, "Build", retry_mode=pw.RetryMode.FAILED_ACTIONS)
    assert ({"Build"}, None) == (progress.auto_retried, progress.rollback_stage)
    assert fails(progress, pw.Result.ROLLBACK) == FailureStep(Recovery.ROLL_BACK, "Build")
    assert ({"Build"}, "Build") == (progress.auto_retried, progress.rollback_stage)
    assert fails(progress, pw.Result.ROLLBACK) == FailureStep(Recovery.FAIL, "Build")  # rolling back already
    assert ({"Build"}, "Build") == (progress.auto_retried, progress.rollback_stage)
    # Rules that all passed leave the failure after the retry a plain one.
    passed = Progress(started_at=T0)
    assert fails(passed).recovery is Recovery.RETRY
    assert fails(passed, None) == FailureStep(Recovery.FAIL, "Build")
    assert passed.rollback_stage is None
