"""AWS execution semantics run locally: retry, rollback, execution modes, stop, transitions, timeouts, conditions."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import pipeweaver as pw
from pipeweaver.errors import ExecutionError
from pipeweaver.execution import (
    ActionContext,
    ActionFailed,
    ActionStatus,
    ExecutionStatus,
    LocalExecutor,
    StageStatus,
)
from pipeweaver.execution._rules import cron_matches

from .conftest import approval, commands, commit, custom, pipeline, source_action, wait_until

SRC = pw.Artifact("SourceOutput")
FAKE = "Build/Custom/Fake/1"


class Flaky:
    """Fails the first *failures* calls, then succeeds; counts calls per action."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: dict[str, int] = {}
        self.lock = threading.Lock()

    def __call__(self, ctx: ActionContext) -> None:
        with self.lock:
            n = self.calls[ctx.action.name] = self.calls.get(ctx.action.name, 0) + 1
        if ctx.action.name == "Flaky" and n <= self.failures:
            raise ActionFailed(f"failure {n}")


def _retry_pipeline(mode: str) -> pw.Pipeline:
    return pipeline(
        pw.Stage(
            name="Build",
            actions=[custom("Steady"), custom("Flaky")],
            on_failure=pw.FailureConditions(result="RETRY", retry_mode=mode),
        ),
        pw.Stage(name="After", actions=[custom("After")]),
    )


def test_automatic_retry_reruns_failed_actions_once(tmp_path: Path) -> None:
    """onFailure RETRY with FAILED_ACTIONS re-runs only the failed action, once, and the stage then succeeds."""
    flaky = Flaky(failures=1)
    e = LocalExecutor(tmp_path / "wd", handlers={FAKE: flaky}, validate=False).run(_retry_pipeline("FAILED_ACTIONS"))

    assert ExecutionStatus.SUCCEEDED == e.status
    assert {"Steady": 1, "Flaky": 2, "After": 1} == flaky.calls
    assert [(1, StageStatus.FAILED), (2, StageStatus.SUCCEEDED)] == [
        (s.attempt, s.status) for s in e.stages if s.name == "Build"
    ]
    assert [(1, ActionStatus.FAILED), (2, ActionStatus.SUCCEEDED)] == [
        (a.attempt, a.status) for a in e.actions if a.name == "Flaky"
    ]


def test_automatic_retry_happens_only_once(tmp_path: Path) -> None:
    """An action that keeps failing gets exactly one automatic retry; ALL_ACTIONS re-runs its sibling too."""
    flaky = Flaky(failures=10)
    x = LocalExecutor(tmp_path / "wd", handlers={FAKE: flaky}, validate=False)

    e = x.run(_retry_pipeline("ALL_ACTIONS"))

    assert ExecutionStatus.FAILED == e.status
    assert {"Steady": 2, "Flaky": 2} == flaky.calls
    assert ["AutomatedStageRetry"] == [a["event"] for a in x.audit(e.id)]


def test_manual_retry_of_failed_actions_continues_the_execution(tmp_path: Path) -> None:
    """retry(FAILED_ACTIONS) re-runs the failed action in the same execution and carries on to later stages."""
    flaky = Flaky(failures=1)
    p = pipeline(
        pw.Stage(name="Build", actions=[custom("Steady"), custom("Flaky")]),
        pw.Stage(name="After", actions=[custom("After")]),
    )
    x = LocalExecutor(tmp_path / "wd", handlers={FAKE: flaky}, validate=False)
    failed = x.run(p)

    with pytest.raises(ExecutionError, match="never ran"):
        x.retry(failed.id, "After")
    e = x.retry(failed.id, "Build", by="ops", wait=True)

    assert ExecutionStatus.FAILED == failed.status
    assert ExecutionStatus.SUCCEEDED == e.status
    assert failed.id == e.id
    assert {"Steady": 1, "Flaky": 2, "After": 1} == flaky.calls
    assert [("ops", "ManualStageRetry", "Build")] == [(a["actor"], a["event"], a["stage"]) for a in x.audit(e.id)]
    assert e == x.history_store.load(e.id)


def test_only_the_latest_execution_in_a_stage_can_be_retried(tmp_path: Path) -> None:
    """A newer execution that entered the failed stage blocks retrying the older one."""
    flaky = Flaky(failures=2)
    p = pipeline(pw.Stage(name="Build", actions=[custom("Flaky")]), pw.Stage(name="After", actions=[custom("After")]))
    x = LocalExecutor(tmp_path / "wd", handlers={FAKE: flaky}, validate=False)
    older = x.run(p)
    x.run(p)

    with pytest.raises(ExecutionError, match="NotLatestPipelineExecution"):
        x.retry(older.id, "Build")


def _deploy_pipeline() -> pw.Pipeline:
    return pipeline(
        pw.Stage(name="Source", actions=[source_action()]),
        pw.Stage(
            name="Deploy",
            actions=[
                pw.Action(
                    name="Site",
                    action_type=pw.ActionType(category="Deploy", provider="S3"),
                    configuration={"BucketName": "www", "Extract": "true"},
                    inputs=[SRC],
                ),
                commands("Smoke", ["test ! -f BAD"], inputs=[SRC], run_order=2),
            ],
            on_failure=pw.FailureConditions(result="ROLLBACK"),
        ),
    )


def test_rollback_restores_the_last_good_deployment(tmp_path: Path, repo: Path) -> None:
    """A failed deploy stage with onFailure ROLLBACK redeploys the last execution that succeeded there."""
    bucket = tmp_path / "bucket"
    x = LocalExecutor(tmp_path / "wd", sources={"Source": repo}, buckets={"www": bucket})
    p = _deploy_pipeline()
    commit(repo, {"version.txt": "v1"}, "v1")
    good = x.run(p)
    commit(repo, {"version.txt": "v2", "BAD": "yes"}, "v2")

    handle = x.start(p)
    bad = handle.wait(60)
    rollback = handle.rollback

    assert good.succeeded
    assert ExecutionStatus.FAILED == bad.status
    assert rollback is not None
    rolled = rollback.wait(60)
    assert "automatic rollback of stage Deploy started" in (bad.status_summary or "")
    assert ("ROLLBACK", good.id, "AutomatedRollback") == (
        rolled.execution_type,
        rolled.rollback_target,
        rolled.trigger.trigger_type,
    )
    assert ExecutionStatus.SUCCEEDED == rolled.status
    assert "v1" == (bucket / "version.txt").read_text()
    assert good.artifacts["SourceOutput"] == rolled.artifacts["SourceOutput"]
    assert ["Deploy"] == [s.name for s in rolled.stages]


def test_manual_rollback_and_its_refusals(tmp_path: Path, repo: Path) -> None:
    """rollback() re-runs a stage with a target's artifacts; it refuses the source stage and non-succeeded targets."""
    bucket = tmp_path / "bucket"
    x = LocalExecutor(tmp_path / "wd", sources={"Source": repo}, buckets={"www": bucket})
    p = _deploy_pipeline()
    commit(repo, {"version.txt": "v1"}, "v1")
    first = x.run(p)
    commit(repo, {"version.txt": "v2"}, "v2")
    x.run(p)

    with pytest.raises(ExecutionError, match="source stage"):
        x.rollback(p, "Source", first.id)
    rolled = x.rollback(p, "Deploy", first.id, by="ops").wait(60)

    assert ExecutionStatus.SUCCEEDED == rolled.status
    assert "v1" == (bucket / "version.txt").read_text()
    assert "ManualRollback" == rolled.trigger.trigger_type
    with pytest.raises(ExecutionError, match="itself a rollback"):
        x.rollback(p, "Deploy", rolled.id)


def _gate_pipeline(mode: str) -> pw.Pipeline:
    return pipeline(
        pw.Stage(name="Start", actions=[custom("Start")]),
        pw.Stage(name="Gate", actions=[approval()]),
        execution_mode=mode,
    )


def _pending(handle: object) -> bool:
    return handle.pending_approvals() == ["Gate/Approve"]  # type: ignore[attr-defined]


def test_superseded_mode_replaces_the_older_waiting_execution(tmp_path: Path) -> None:
    """SUPERSEDED: while A holds the stage, B waits, then C arrives and supersedes B; A and C succeed."""
    x = LocalExecutor(tmp_path / "wd", handlers={FAKE: lambda ctx: None}, validate=False)
    p = _gate_pipeline("SUPERSEDED")
    a = x.start(p)
    wait_until(lambda: _pending(a))
    b = x.start(p)
    wait_until(lambda: b.waiting_at() == "Gate")
    c = x.start(p)

    eb = b.wait(20)
    wait_until(lambda: c.waiting_at() == "Gate")
    a.approve("Gate", "Approve", by="t")
    wait_until(lambda: _pending(c))
    c.approve("Gate", "Approve", by="t")

    assert ExecutionStatus.SUPERSEDED == eb.status
    assert f"Superseded by execution {c.id}" == eb.status_summary
    assert ExecutionStatus.SUCCEEDED == a.wait(20).status
    assert ExecutionStatus.SUCCEEDED == c.wait(20).status


def test_queued_mode_runs_waiting_executions_in_order(tmp_path: Path) -> None:
    """QUEUED: nothing is superseded; waiting executions enter the stage one by one, oldest first."""
    x = LocalExecutor(tmp_path / "wd", handlers={FAKE: lambda ctx: None}, validate=False)
    p = _gate_pipeline("QUEUED")
    handles = [x.start(p)]
    wait_until(lambda: _pending(handles[0]))
    for _ in range(2):
        handles.append(x.start(p))
        wait_until(lambda: handles[-1].waiting_at() == "Gate")

    order = []
    for _ in range(3):
        wait_until(lambda: any(_pending(h) for h in handles if h.id not in order))
        current = next(h for h in handles if _pending(h))
        assert [current] == [h for h in handles if _pending(h)]
        order.append(current.id)
        current.approve("Gate", "Approve", by="t")
        current.wait(20)

    assert [h.id for h in handles] == order
    assert [ExecutionStatus.SUCCEEDED] * 3 == [h.wait(20).status for h in handles]


def test_parallel_mode_runs_executions_side_by_side(tmp_path: Path) -> None:
    """PARALLEL: several executions are inside the same stage at once; none waits or is superseded."""
    x = LocalExecutor(tmp_path / "wd", handlers={FAKE: lambda ctx: None}, validate=False)
    p = _gate_pipeline("PARALLEL")
    handles = [x.start(p) for _ in range(3)]

    wait_until(lambda: all(_pending(h) for h in handles))
    for h in reversed(handles):
        h.approve("Gate", "Approve", by="t")

    assert [ExecutionStatus.SUCCEEDED] * 3 == [h.wait(20).status for h in handles]


def test_stop_and_abandon_marks_running_actions_abandoned(tmp_path: Path) -> None:
    """Stop with abandon marks the running command Abandoned at once, kills it, and the execution ends Stopped."""
    p = pipeline(
        pw.Stage(name="Work", actions=[commands("Sleep", ["echo started", "sleep 30"], inputs=[])]),
        pw.Stage(name="After", actions=[custom("After")]),
    )
    x = LocalExecutor(tmp_path / "wd", handlers={FAKE: lambda ctx: None}, validate=False)
    handle = x.start(p)
    wait_until(
        lambda: (
            "started" in Path(tmp_path / "wd").joinpath("runs", handle.id, "Work", "Sleep", "1", "log.txt").read_text()
            if Path(tmp_path / "wd").joinpath("runs", handle.id, "Work", "Sleep", "1", "log.txt").exists()
            else False
        )
    )
    began = time.monotonic()

    handle.stop(abandon=True, reason="wrong branch", by="ops")
    e = handle.wait(10)

    assert time.monotonic() - began < 5
    assert ExecutionStatus.STOPPED == e.status
    assert ActionStatus.ABANDONED == e.action("Work", "Sleep").status
    assert StageStatus.STOPPED == e.stage("Work").status
    assert not e.ran("After", "After")
    assert ActionStatus.ABANDONED == x.history_store.load(e.id).action("Work", "Sleep").status
    assert [("ops", "StopAndAbandon")] == [(a["actor"], a["event"]) for a in x.audit(e.id)]
    with pytest.raises(ExecutionError, match="cannot be stopped"):
        handle.stop()


def test_stop_and_wait_lets_running_actions_finish(tmp_path: Path) -> None:
    """Stop without abandon lets the running action succeed, starts nothing new and ends Stopped."""
    running = threading.Event()

    def slow(ctx: ActionContext) -> None:
        running.set()
        time.sleep(0.4)

    p = pipeline(pw.Stage(name="One", actions=[custom("Slow")]), pw.Stage(name="Two", actions=[custom("Next")]))
    x = LocalExecutor(tmp_path / "wd", handlers={FAKE: slow}, validate=False)
    handle = x.start(p)
    running.wait(10)

    handle.stop(reason="pause")
    e = handle.wait(10)

    assert ExecutionStatus.STOPPED == e.status
    assert ActionStatus.SUCCEEDED == e.action("One", "Slow").status
    assert not e.ran("Two", "Next")


def test_disabled_transition_holds_executions_until_enabled(tmp_path: Path) -> None:
    """An execution waits in front of a stage whose inbound transition is disabled, and enters when it is enabled."""
    p = pipeline(
        pw.Stage(name="Build", actions=[custom("Build")]),
        pw.Stage(name="Prod", actions=[custom("Deploy")]),
        disabled_transitions={"Prod": "change freeze"},
    )
    x = LocalExecutor(tmp_path / "wd", handlers={FAKE: lambda ctx: None}, validate=False)
    handle = x.start(p)
    wait_until(lambda: handle.waiting_at() == "Prod")

    held = handle.snapshot()
    x.enable_transition(p, "Prod")
    e = handle.wait(20)

    assert not held.ran("Prod", "Deploy")
    assert e.succeeded
    x.disable_transition(p, "Prod", "again")
    second = x.start(p)
    wait_until(lambda: second.waiting_at() == "Prod")
    second.stop()
    assert ExecutionStatus.STOPPED == second.wait(20).status


def test_action_timeouts_fail_the_action(tmp_path: Path) -> None:
    """An action running past its timeout fails with a timeout message and its handler is told to stop."""
    told: list[bool] = []

    def hang(ctx: ActionContext) -> None:
        told.append(ctx.cancel.wait(10))

    p = pipeline(pw.Stage(name="A", actions=[custom("Hang")]), pw.Stage(name="B", actions=[custom("Next")]))
    e = LocalExecutor(tmp_path / "wd", handlers={FAKE: hang}, timeouts={"A/Hang": 0.3}, validate=False).run(p)

    assert ExecutionStatus.FAILED == e.status
    assert (e.action("A", "Hang").error or "").startswith(
        "timed out after 0.3 s (the limit set for A/Hang by --timeout or timeouts=; change it with --timeout A/Hang="
    )
    wait_until(lambda: told == [True])


def test_the_timeout_message_names_where_the_limit_came_from(tmp_path: Path) -> None:
    """--timeout/timeouts=, an approval's timeoutInMinutes, or else the action type's own limit."""
    given, own = custom("Given"), custom("Own")
    gate = approval(timeout_in_minutes=5)
    p = pipeline(pw.Stage(name="A", actions=[given, own, gate]))
    x = LocalExecutor(tmp_path / "wd", handlers={FAKE: lambda ctx: None}, timeouts={"A/Given": 9}, validate=False)
    [stage] = p.stages

    origins = [x._engine.timeout_origin(stage, action) for action in (given, own, gate)]

    assert [
        "the limit set for A/Given by --timeout or timeouts=",
        "the action type's limit",
        "the action's timeoutInMinutes",
    ] == origins


def test_before_entry_skip_and_fail(tmp_path: Path) -> None:
    """beforeEntry: a failing VariableCheck with SKIP skips the stage; a DeploymentWindow that never opens again
    (its only year is past) with FAIL fails it (a window that opens later is waited for: tests/conformance)."""
    skip = pw.BeforeEntryConditions(
        conditions=pw.Condition(
            result="SKIP",
            rules=[
                pw.Rule(
                    name="OnlyProd",
                    rule_type=pw.RuleType(provider="VariableCheck"),
                    configuration={"Variable": "#{variables.env}", "Value": "prod", "Operator": "EQ"},
                )
            ],
        )
    )
    window = pw.BeforeEntryConditions(
        conditions=pw.Condition(
            result="FAIL",
            rules=[
                pw.Rule(
                    name="Window",
                    rule_type=pw.RuleType(provider="DeploymentWindow"),
                    configuration={"Cron": "* * * * * ? 2020"},
                )
            ],
        )
    )
    p = pipeline(
        pw.Stage(name="A", actions=[custom("A")]),
        pw.Stage(name="ProdOnly", actions=[custom("P")], before_entry=skip),
        pw.Stage(name="Windowed", actions=[custom("W")], before_entry=window),
        variables=[pw.Variable(name="env", default_value="dev")],
    )
    x = LocalExecutor(tmp_path / "wd", handlers={FAKE: lambda ctx: None}, validate=False)

    e = x.run(p)

    assert StageStatus.SKIPPED == e.stage("ProdOnly").status
    assert not e.ran("ProdOnly", "P")
    assert StageStatus.FAILED == e.stage("Windowed").status
    assert ExecutionStatus.FAILED == e.status
    assert [("ProdOnly", "OnlyProd", "Failed"), ("Windowed", "Window", "Failed")] == [
        (r.stage, r.name, r.status) for r in e.rules
    ]
    assert e.rules == x.history_store.load(e.id).rules
    assert x.run(p, variables={"env": "prod"}).stage("ProdOnly").status is StageStatus.SUCCEEDED


def test_on_success_lambda_rule_and_commands_rule(tmp_path: Path) -> None:
    """onSuccess conditions run LambdaInvoke (via functions) and Commands rules; a failing rule fails the stage.

    The rule's function reports through the job API, as an invoke action's does."""
    import boto3

    client = boto3.client("codepipeline", region_name="us-east-1")

    def yes(event: dict[str, Any]) -> None:
        client.put_job_success_result(jobId=event["CodePipeline.job"]["id"])

    def no(event: dict[str, Any]) -> None:
        client.put_job_failure_result(
            jobId=event["CodePipeline.job"]["id"], failureDetails={"type": "JobFailed", "message": "no"}
        )

    def rule(verdict: bool) -> pw.SuccessConditions:
        return pw.SuccessConditions(
            conditions=pw.Condition(
                result="FAIL",
                rules=[
                    pw.Rule(name="Shell", rule_type=pw.RuleType(provider="Commands"), commands=["test 1 = 1"]),
                    pw.Rule(
                        name="Check",
                        rule_type=pw.RuleType(provider="LambdaInvoke"),
                        configuration={"FunctionName": "yes" if verdict else "no"},
                    ),
                ],
            )
        )

    p = pipeline(
        pw.Stage(name="A", actions=[custom("A")], on_success=rule(True)),
        pw.Stage(name="B", actions=[custom("B")], on_success=rule(False)),
    )
    x = LocalExecutor(
        tmp_path / "wd",
        handlers={FAKE: lambda ctx: None},
        functions={"yes": yes, "no": no},
        validate=False,
    )

    e = x.run(p)

    assert StageStatus.SUCCEEDED == e.stage("A").status
    assert StageStatus.FAILED == e.stage("B").status
    assert [
        ("A", "Shell", "Succeeded"),
        ("A", "Check", "Succeeded"),
        ("B", "Shell", "Succeeded"),
        ("B", "Check", "Failed"),
    ] == [(r.stage, r.name, r.status) for r in e.rules]


@pytest.mark.parametrize(
    ("cron", "moment", "expected"),
    [
        ("* * 9-17 ? * MON-FRI", datetime(2026, 11, 26, 10, 30, tzinfo=UTC), True),  # Thursday
        ("* * 9-17 ? * MON-FRI", datetime(2026, 11, 28, 10, 30, tzinfo=UTC), False),  # Saturday
        ("0 0/15 * * * ?", datetime(2026, 1, 1, 3, 45, 0, tzinfo=UTC), True),
        ("0 0/15 * * * ?", datetime(2026, 1, 1, 3, 44, 0, tzinfo=UTC), False),
        ("* * * L * ?", datetime(2026, 2, 28, tzinfo=UTC), True),
        ("* * * ? * 6#4", datetime(2026, 11, 27, tzinfo=UTC), True),  # fourth Friday
        ("* * * ? * 6L", datetime(2026, 11, 20, tzinfo=UTC), False),
        ("* * * * JAN-MAR ? 2026", datetime(2026, 2, 1, tzinfo=UTC), True),
    ],
)
def test_cron_windows(cron: str, moment: datetime, expected: bool) -> None:
    """DeploymentWindow cron expressions (6/7 fields, names, steps, L and #) match the right moments."""
    assert expected == cron_matches(cron, moment)


def test_malformed_cron_is_reported() -> None:
    """A cron with the wrong number of fields raises ValueError saying what is expected."""
    with pytest.raises(ValueError, match="expected 6 or 7"):
        cron_matches("* * * * *", datetime(2026, 1, 1, tzinfo=UTC))


def test_on_failure_condition_asks_for_a_rollback(tmp_path: Path) -> None:
    """A failed stage evaluates its onFailure condition; a failing rule applies ROLLBACK (none possible without history)."""
    on_failure = pw.FailureConditions(
        conditions=pw.Condition(
            result="ROLLBACK",
            rules=[
                pw.Rule(
                    name="IsMain",
                    rule_type=pw.RuleType(provider="VariableCheck"),
                    configuration={"Variable": "#{variables.branch}", "Value": "release/.*", "Operator": "MATCHES"},
                )
            ],
        )
    )
    p = pipeline(
        pw.Stage(name="A", actions=[custom("A")]),
        pw.Stage(name="B", actions=[custom("Breaks", "Breaks")], on_failure=on_failure),
        variables=[pw.Variable(name="branch", default_value="main")],
    )
    breaks = pw.ActionType(category="Build", owner="Custom", provider="Breaks")

    def fail(ctx: ActionContext) -> None:
        raise ActionFailed("broken")

    e = LocalExecutor(tmp_path / "wd", handlers={FAKE: lambda ctx: None, breaks: fail}, validate=False).run(p)

    assert ExecutionStatus.FAILED == e.status
    assert [("B", "ON_FAILURE", "IsMain", "Failed")] == [(r.stage, r.condition, r.name, r.status) for r in e.rules]
    assert "no earlier execution succeeded in stage B, so there is nothing to roll back to" in (e.status_summary or "")


def test_a_failing_rollback_does_not_roll_back_again(tmp_path: Path, repo: Path) -> None:
    """When the rollback execution itself fails, no further rollback starts (no loop)."""
    marker = tmp_path / "broken-environment"
    p = pipeline(
        pw.Stage(name="Source", actions=[source_action()]),
        pw.Stage(
            name="Deploy",
            actions=[commands("Smoke", [f"test ! -f {marker}"], inputs=[SRC])],
            on_failure=pw.FailureConditions(result="ROLLBACK"),
        ),
    )
    x = LocalExecutor(tmp_path / "wd", sources={"Source": repo})
    good = x.run(p)
    marker.write_text("x")

    handle = x.start(p)
    handle.wait(60)
    rollback = handle.rollback

    assert good.succeeded
    assert rollback is not None
    assert ExecutionStatus.FAILED == rollback.wait(60).status
    assert rollback.rollback is None
    assert 3 == len(x.history("demo"))


def test_rule_timeouts_fail_the_condition(tmp_path: Path) -> None:
    """A Commands rule running past its timeout is stopped and fails its condition."""
    slow = pw.BeforeEntryConditions(
        conditions=pw.Condition(
            result="FAIL",
            rules=[pw.Rule(name="Slow", rule_type=pw.RuleType(provider="Commands"), commands=["sleep 30"])],
        )
    )
    p = pipeline(
        pw.Stage(name="A", actions=[custom("A")], before_entry=slow), pw.Stage(name="B", actions=[custom("B")])
    )
    began = time.monotonic()

    e = LocalExecutor(
        tmp_path / "wd", handlers={FAKE: lambda ctx: None}, timeouts={"A/rule:Slow": 0.3}, validate=False
    ).run(p)

    assert time.monotonic() - began < 10
    assert StageStatus.FAILED == e.stage("A").status
    assert [("Slow", "Failed", "rule Slow timed out or was stopped")] == [
        (r.name, r.status, r.summary) for r in e.rules
    ]
