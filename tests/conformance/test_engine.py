"""CodePipeline's execution semantics, run locally: runOrder waves, a failure in a wave, manual and
automatic retry, the three execution modes, disabled transitions, stop, approvals and variables.

The actions are ``Commands`` actions whose commands leave marks in a folder outside the run, so
each test sees what ran, in which order, and how often.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pipeweaver as pw
from pipeweaver.execution import ActionStatus, ExecutionStatus, LocalExecutionHandle, LocalExecutor, StageStatus

from .conftest import SRC, source_then

STRUCTURE = "https://docs.aws.amazon.com/codepipeline/latest/userguide/reference-pipeline-structure.html"
HOW_IT_WORKS = "https://docs.aws.amazon.com/codepipeline/latest/userguide/concepts-how-it-works.html"
RETRY = "https://docs.aws.amazon.com/codepipeline/latest/userguide/actions-retry.html"
AUTO_RETRY = "https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-retry.html"
MODES = "https://docs.aws.amazon.com/codepipeline/latest/userguide/execution-modes.html"
TRANSITIONS = "https://docs.aws.amazon.com/codepipeline/latest/userguide/transitions.html"
STOP = "https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-stop.html"
APPROVALS = "https://docs.aws.amazon.com/codepipeline/latest/userguide/approvals.html"
VARIABLES = "https://docs.aws.amazon.com/codepipeline/latest/userguide/reference-variables.html"


def _until(check: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def _step(name: str, *commands: str, run_order: int = 1, **kw: Any) -> pw.Action:
    return pw.Action(
        name=name,
        action_type=pw.ActionType(category="Compute", provider="Commands"),
        commands=list(commands) or [f"echo {name} >> $MARKS/log"],
        inputs=[SRC],
        run_order=run_order,
        **kw,
    )


def _approval(name: str = "Approve") -> pw.Action:
    return pw.Action(name=name, action_type=pw.ActionType(category="Approval", owner="AWS", provider="Manual"))


def _executor(tmp_path: Path, **kw: Any) -> LocalExecutor:
    (tmp_path / "src").mkdir(parents=True, exist_ok=True)
    (tmp_path / "marks").mkdir(parents=True, exist_ok=True)
    return LocalExecutor(
        tmp_path / "wd",
        sources={"Source": tmp_path / "src"},
        env_passthrough=["MARKS"],
        **kw,
    )


def _marks(tmp_path: Path) -> list[str]:
    log = tmp_path / "marks" / "log"
    return log.read_text().split() if log.exists() else []


def test_actions_run_in_run_order_waves(tmp_path: Path, monkeypatch: Any) -> None:
    """CodePipeline pipeline structure reference (STRUCTURE): actions with the same runOrder run in parallel,
    and a higher runOrder runs only after every action of the lower one succeeded."""
    monkeypatch.setenv("MARKS", str(tmp_path / "marks"))
    # A and B meet: each waits until the other has started, which only a parallel wave allows.
    meet = "touch $MARKS/{me}; for i in $(seq 200); do test -f $MARKS/{other} && break; sleep 0.05; done; test -f $MARKS/{other}"
    stage = pw.Stage(
        name="Work",
        actions=[
            _step("A", meet.format(me="a", other="b"), "echo A >> $MARKS/log"),
            _step("B", meet.format(me="b", other="a"), "echo B >> $MARKS/log"),
            _step("C", "test -f $MARKS/a -a -f $MARKS/b", "echo C >> $MARKS/log", run_order=2),
        ],
    )
    with _executor(tmp_path) as x:
        e = x.run(source_then(stage))

    assert e.succeeded, e.status_summary
    assert "C" == _marks(tmp_path)[-1]


def test_a_failure_in_a_wave_lets_its_siblings_finish_and_stops_the_stage(tmp_path: Path, monkeypatch: Any) -> None:
    """How CodePipeline works (HOW_IT_WORKS): when an action fails, the actions running beside it finish, no
    later action of the stage starts, and the execution stops there (later stages do not run)."""
    monkeypatch.setenv("MARKS", str(tmp_path / "marks"))
    work = pw.Stage(
        name="Work",
        actions=[
            _step("Fails", "exit 1"),
            _step("Sibling", "sleep 0.3", "echo Sibling >> $MARKS/log"),
            _step("Later", run_order=2),
        ],
    )
    after = pw.Stage(name="After", actions=[_step("After")])
    with _executor(tmp_path) as x:
        e = x.run(source_then(work, after))

    assert ExecutionStatus.FAILED == e.status
    assert StageStatus.FAILED == e.stage("Work").status
    assert ActionStatus.SUCCEEDED == e.action("Work", "Sibling").status
    assert ["Sibling"] == _marks(tmp_path)


def test_a_manual_retry_reruns_the_failed_actions_and_continues_the_execution(tmp_path: Path, monkeypatch: Any) -> None:
    """Retry a failed stage (RETRY): retrying failed actions re-runs only them in the same execution, which
    then continues with the next stages."""
    monkeypatch.setenv("MARKS", str(tmp_path / "marks"))
    work = pw.Stage(
        name="Work",
        actions=[_step("Steady"), _step("Flaky", "echo Flaky >> $MARKS/log", "test -f $MARKS/fixed")],
    )
    with _executor(tmp_path) as x:
        failed = x.run(source_then(work, pw.Stage(name="After", actions=[_step("After")])))
        (tmp_path / "marks" / "fixed").touch()
        e = x.retry(failed.id, "Work", mode="FAILED_ACTIONS", wait=True)

    assert (ExecutionStatus.FAILED, ExecutionStatus.SUCCEEDED) == (failed.status, e.status)
    assert failed.id == e.id
    assert (["Flaky", "Flaky", "Steady"], "After") == (sorted(_marks(tmp_path)[:3]), _marks(tmp_path)[3])


def test_automatic_retry_reruns_a_failed_stage_once(tmp_path: Path, monkeypatch: Any) -> None:
    """Configure a stage for automatic retry on failure (AUTO_RETRY): a stage with onFailure RETRY is retried
    automatically once; FAILED_ACTIONS re-runs only the failed actions."""
    monkeypatch.setenv("MARKS", str(tmp_path / "marks"))
    work = pw.Stage(
        name="Work",
        actions=[_step("Steady"), _step("Flaky", "echo Flaky >> $MARKS/log", "exit 1")],
        on_failure=pw.FailureConditions(result="RETRY", retry_mode="FAILED_ACTIONS"),
    )
    with _executor(tmp_path) as x:
        e = x.run(source_then(work, pipeline_type="V2"))

    assert ExecutionStatus.FAILED == e.status
    assert ["Flaky", "Flaky", "Steady"] == sorted(_marks(tmp_path))


def _gated(mode: str) -> pw.Pipeline:
    return source_then(pw.Stage(name="Gate", actions=[_approval()]), pipeline_type="V2", execution_mode=mode)


def _pending(handle: LocalExecutionHandle) -> bool:
    return ["Gate/Approve"] == handle.pending_approvals()


def test_superseded_mode_replaces_the_waiting_execution_with_a_newer_one(tmp_path: Path) -> None:
    """Set or change the pipeline execution mode (MODES): in SUPERSEDED mode a newer execution replaces an
    older one waiting to enter a stage, which ends Superseded."""
    with _executor(tmp_path) as x:
        p = _gated("SUPERSEDED")
        first = x.start(p)
        _until(lambda: _pending(first))
        waiting = x.start(p)
        _until(lambda: waiting.waiting_at() == "Gate")
        newer = x.start(p)
        replaced = waiting.wait(20)
        first.approve("Gate", "Approve")
        _until(lambda: _pending(newer))
        newer.approve("Gate", "Approve")

        assert ExecutionStatus.SUPERSEDED == replaced.status
        assert [ExecutionStatus.SUCCEEDED] * 2 == [first.wait(20).status, newer.wait(20).status]


def test_queued_mode_runs_waiting_executions_in_arrival_order(tmp_path: Path) -> None:
    """Set or change the pipeline execution mode (MODES): in QUEUED mode executions wait for the stage and
    enter it one at a time, in the order they arrived; none is superseded."""
    with _executor(tmp_path) as x:
        p = _gated("QUEUED")
        handles = [x.start(p)]
        _until(lambda: _pending(handles[0]))
        for _ in range(2):
            handles.append(x.start(p))
            _until(lambda: handles[-1].waiting_at() == "Gate")
        for handle in handles:
            _until(lambda: _pending(handle))  # noqa: B023 - awaited before the loop moves on
            assert [handle] == [h for h in handles if _pending(h)]
            handle.approve("Gate", "Approve")
            handle.wait(20)

        assert [ExecutionStatus.SUCCEEDED] * 3 == [h.wait(20).status for h in handles]


def test_parallel_mode_runs_executions_side_by_side(tmp_path: Path) -> None:
    """Set or change the pipeline execution mode (MODES): in PARALLEL mode executions run independently,
    several inside one stage at once."""
    with _executor(tmp_path) as x:
        p = _gated("PARALLEL")
        handles = [x.start(p) for _ in range(3)]
        _until(lambda: all(_pending(h) for h in handles))
        for handle in reversed(handles):
            handle.approve("Gate", "Approve")

        assert [ExecutionStatus.SUCCEEDED] * 3 == [h.wait(20).status for h in handles]


def test_a_disabled_transition_holds_the_execution_until_it_is_enabled(tmp_path: Path, monkeypatch: Any) -> None:
    """Disable or enable transitions (TRANSITIONS): an execution waits in front of a stage whose inbound
    transition is disabled, and enters it once the transition is enabled."""
    monkeypatch.setenv("MARKS", str(tmp_path / "marks"))
    p = source_then(pw.Stage(name="Prod", actions=[_step("Deploy")]), disabled_transitions={"Prod": "freeze"})
    with _executor(tmp_path) as x:
        handle = x.start(p)
        _until(lambda: handle.waiting_at() == "Prod")
        held = _marks(tmp_path)
        x.enable_transition(p, "Prod")
        e = handle.wait(20)

    assert [] == held
    assert e.succeeded, e.status_summary
    assert ["Deploy"] == _marks(tmp_path)


def test_stop_and_abandon_ends_the_running_action_and_starts_nothing_more(tmp_path: Path, monkeypatch: Any) -> None:
    """Stop a pipeline execution (STOP): Stop and abandon abandons the in-progress actions and the execution
    ends Stopped; no later action starts."""
    monkeypatch.setenv("MARKS", str(tmp_path / "marks"))
    work = pw.Stage(name="Work", actions=[_step("Sleep", "echo Sleep >> $MARKS/log", "sleep 30")])
    after = pw.Stage(name="After", actions=[_step("After")])
    with _executor(tmp_path) as x:
        handle = x.start(source_then(work, after))
        _until(lambda: ["Sleep"] == _marks(tmp_path))
        handle.stop(abandon=True, reason="wrong branch")
        e = handle.wait(20)

    assert ExecutionStatus.STOPPED == e.status
    assert ActionStatus.ABANDONED == e.action("Work", "Sleep").status
    assert ["Sleep"] == _marks(tmp_path)


def test_an_approval_holds_the_stage_until_approved_and_a_rejection_fails_it(tmp_path: Path) -> None:
    """Add a manual approval action (APPROVALS): the execution stops at the approval until it is approved
    (then it continues) or rejected (then the action fails, as a failed action does)."""
    p = source_then(pw.Stage(name="Gate", actions=[_approval()]), pipeline_type="V2")
    with _executor(tmp_path) as x:
        approved, rejected = x.start(p), x.start(p)
        _until(lambda: _pending(approved))
        approved.approve("Gate", "Approve", summary="looks good")
        ok = approved.wait(20)
        _until(lambda: _pending(rejected))
        rejected.reject("Gate", "Approve", summary="not today")
        no = rejected.wait(20)

    assert ExecutionStatus.SUCCEEDED == ok.status
    assert (ExecutionStatus.FAILED, ActionStatus.FAILED) == (no.status, no.action("Gate", "Approve").status)


def test_variables_resolve_before_the_action_runs(tmp_path: Path, monkeypatch: Any) -> None:
    """Variables reference (VARIABLES): #{codepipeline.PipelineExecutionId}, pipeline-level #{variables.name}
    (overridden when the execution starts) and an earlier action's #{Namespace.Key} resolve just
    before the consuming action starts."""
    monkeypatch.setenv("MARKS", str(tmp_path / "marks"))
    produce = _step("Produce", "export COLOR=blue", namespace="Made", output_variables=["COLOR"])
    consume = _step(
        "Consume",
        "echo #{codepipeline.PipelineExecutionId} #{variables.env} #{Made.COLOR} >> $MARKS/log",
    )
    p = source_then(
        pw.Stage(name="Make", actions=[produce]),
        pw.Stage(name="Use", actions=[consume]),
        pipeline_type="V2",
        variables=[pw.Variable(name="env", default_value="dev")],
    )
    with _executor(tmp_path) as x:
        e = x.run(p, variables={"env": "prod"})

    assert e.succeeded, e.status_summary
    assert [e.id, "prod", "blue"] == _marks(tmp_path)
