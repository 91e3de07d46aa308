"""The action pool's threads end: after close, on Ctrl-C inside the executor, at interpreter exit."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import pipeweaver as pw
from pipeweaver.execution import ActionContext, ActionStatus, ExecutionStatus, LocalExecutor
from pipeweaver.execution._pool import ActionPool

from .conftest import custom, pipeline

FAKE = "Build/Custom/Fake/1"


def _action_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("pipeweaver-action")]


def test_prestart_submit_and_shutdown() -> None:
    """Threads start ahead up to the size and are reused; a task's error stays with it; after
    shutdown queued work is dropped, new work refused and every thread gone."""
    pool = ActionPool(3, "test-pool")
    pool.prestart(5)
    assert 3 == len(pool.threads)
    done: list[int] = []
    gate = threading.Event()

    def boom() -> None:
        raise RuntimeError("the task's own failure")

    pool.submit(boom)
    for i in range(3):
        pool.submit(lambda i=i: (gate.wait(10), done.append(i)))
    pool.submit(done.append, 99)  # queued behind three busy threads: dropped by shutdown
    time.sleep(0.05)
    stopper = threading.Thread(target=pool.shutdown)
    stopper.start()
    time.sleep(0.05)
    gate.set()
    stopper.join(10)
    assert not stopper.is_alive()
    assert [0, 1, 2] == sorted(done)
    assert 3 == len(pool.threads)
    assert not any(t.is_alive() for t in pool.threads)
    with pytest.raises(RuntimeError, match="closed"):
        pool.submit(done.append, 1)


def test_no_action_thread_is_left_after_close(tmp_path: Path) -> None:
    """Leaving the executor's context joins its action threads."""
    p = pipeline(*(pw.Stage(name=f"S{i}", actions=[custom(f"A{j}") for j in range(4)]) for i in range(2)))
    before = set(_action_threads())
    with LocalExecutor(tmp_path / "wd", handlers={FAKE: lambda ctx: None}, validate=False) as x:
        assert x.run(p).succeeded
        assert set(_action_threads()) - before
    assert not set(_action_threads()) - before


def test_keyboard_interrupt_inside_the_executor_stops_the_run_and_leaves_no_thread(tmp_path: Path) -> None:
    """Ctrl-C while a run waits on a long action: close() stops it with abandon, and returns once
    the handler (told through ctx.cancel) has returned."""
    running = threading.Event()

    def handler(ctx: ActionContext) -> None:
        running.set()
        ctx.cancel.wait(60)

    p = pipeline(pw.Stage(name="S", actions=[custom("Long")]), pw.Stage(name="T", actions=[custom("Never")]))
    before = set(_action_threads())
    start = time.monotonic()
    x = LocalExecutor(tmp_path / "wd", handlers={FAKE: handler}, validate=False)

    def interrupted() -> None:
        with x:
            assert running.wait(10)
            raise KeyboardInterrupt

    handle = x.start(p)
    with pytest.raises(KeyboardInterrupt):
        interrupted()
    assert time.monotonic() - start < 30
    execution = handle.snapshot()
    assert ExecutionStatus.STOPPED is execution.status
    assert ActionStatus.ABANDONED is execution.action("S", "Long").status
    assert not execution.ran("T", "Never")
    assert not set(_action_threads()) - before


def test_a_stop_is_recorded_before_the_end_it_causes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A slow history write of STOPPING (a busy machine, seen in CI) does not let the abandoned
    run end first: the execution ends STOPPED in memory and in history, never STOPPING after it."""
    from pipeweaver.execution._history import History

    real_write = History.write

    def slow_stopping(self: History, ops: Any) -> None:
        ops = list(ops)
        if any(params[:1] == (ExecutionStatus.STOPPING.value,) for _sql, params in ops):
            # the run thread wakes (as its deadline polling does) and gets every chance to end meanwhile
            for run in list(x._engine.runs.values()):
                run.completions.put(None)
            time.sleep(0.3)
        real_write(self, ops)

    monkeypatch.setattr(History, "write", slow_stopping)
    running = threading.Event()

    def handler(ctx: ActionContext) -> None:
        running.set()
        ctx.cancel.wait(60)

    with LocalExecutor(tmp_path / "wd", handlers={FAKE: handler}, validate=False) as x:
        handle = x.start(pipeline(pw.Stage(name="S", actions=[custom("Long")])))
        assert running.wait(10)
        handle.stop(abandon=True, reason="enough")
        execution = handle.wait(timeout=30)
    assert ExecutionStatus.STOPPED is execution.status
    with LocalExecutor(tmp_path / "wd", validate=False) as y:
        [recorded] = y.history()
    assert ExecutionStatus.STOPPED is recorded.status


def test_ctrl_c_while_the_lease_renewer_starts_still_closes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A KeyboardInterrupt inside Thread.start() of the lease renewer (seen in CI on a busy
    machine) leaves a thread object that has not begun; close() still stops the run and returns
    without 'cannot join thread before it is started'."""
    real_start = threading.Thread.start

    def start(self: threading.Thread) -> None:
        if self.name == "pipeweaver-leases":
            raise KeyboardInterrupt
        real_start(self)

    monkeypatch.setattr(threading.Thread, "start", start)
    running = threading.Event()

    def handler(ctx: ActionContext) -> None:
        running.set()
        ctx.cancel.wait(60)

    p = pipeline(pw.Stage(name="S", actions=[custom("Long")]))
    before = set(_action_threads())
    with (
        pytest.raises(KeyboardInterrupt),
        LocalExecutor(tmp_path / "wd", handlers={FAKE: handler}, validate=False) as x,
    ):
        x.run(p)
    with LocalExecutor(tmp_path / "wd", validate=False) as y:
        [execution] = y.history()
    assert ExecutionStatus.STOPPED is execution.status
    assert not set(_action_threads()) - before


_PIPELINE = """
import sys, threading
from pathlib import Path
import pipeweaver as pw
from pipeweaver.execution import ApprovalRequested, LocalExecutor

workdir = Path(sys.argv[1])
def build(name):
    return pw.Action(name=name, action_type=pw.ActionType(category="Build", owner="Custom", provider="Fake", version="1"))
def pipeline(*stages):
    return pw.Pipeline(name="demo", role_arn="arn:aws:iam::123456789012:role/p",
                       artifact_store=pw.ArtifactStore(location="artifact-bucket"), pipeline_type="V2", stages=stages)
"""


def _child(tmp_path: Path, body: str) -> subprocess.Popen[str]:
    script = tmp_path / "child.py"
    script.write_text(_PIPELINE + textwrap.dedent(body))
    return subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "wd")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_real_ctrl_c_during_run_stops_the_execution_and_exits(tmp_path: Path) -> None:
    """SIGINT to a process blocked in ``run()`` inside ``with LocalExecutor``: it exits promptly,
    the execution recorded as stopped, no action thread left."""
    child = _child(
        tmp_path,
        """
        def handler(ctx):
            # sys.stdout on an action thread is the action's log; the parent reads the real one
            print("running", file=sys.__stdout__, flush=True)
            ctx.cancel.wait(60)
        p = pipeline(pw.Stage(name="S", actions=[build("Long")]))
        try:
            with LocalExecutor(workdir, handlers={"Build/Custom/Fake/1": handler}, validate=False) as x:
                x.run(p)
        except KeyboardInterrupt:
            left = [t.name for t in threading.enumerate() if t.name.startswith("pipeweaver-action")]
            with LocalExecutor(workdir, validate=False) as y:
                [e] = y.history()
                print("after", e.status.value, e.action("S", "Long").status.value, left, flush=True)
        """,
    )
    try:
        assert child.stdout is not None
        assert "running" == child.stdout.readline().strip()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
    finally:
        child.kill()
    assert 0 == child.returncode, err
    assert "after Stopped Abandoned []" == out.strip()


def test_interpreter_exit_with_a_waiting_approval_does_not_hang(tmp_path: Path) -> None:
    """The main thread ends while an approval waits and a run holds the pool: the process exits
    (the approval gives up on EXITING, the pool's threads are joined by the atexit handler)."""
    child = _child(
        tmp_path,
        """
        asked = threading.Event()
        def observe(event):
            if isinstance(event, ApprovalRequested):
                asked.set()
        gate = pw.Action(name="Approve", action_type=pw.ActionType(category="Approval", provider="Manual"))
        x = LocalExecutor(workdir, observers=[observe], validate=False)
        x.start(pipeline(pw.Stage(name="Gate", actions=[gate])))
        assert asked.wait(20)
        print("waiting", flush=True)
        """,
    )
    try:
        out, err = child.communicate(timeout=30)
    finally:
        child.kill()
    assert 0 == child.returncode, err
    assert "waiting" == out.strip()


def test_interpreter_exit_lets_a_running_action_finish(tmp_path: Path) -> None:
    """As with ThreadPoolExecutor's exit hook: an action running when the main thread ends runs to its end."""
    mark = tmp_path / "finished"
    child = _child(
        tmp_path,
        f"""
        import time
        started = threading.Event()
        def handler(ctx):
            started.set()
            time.sleep(0.5)
            Path({str(mark)!r}).write_text("done")
        x = LocalExecutor(workdir, handlers={{"Build/Custom/Fake/1": handler}}, validate=False)
        x.start(pipeline(pw.Stage(name="S", actions=[build("Slow")])))
        assert started.wait(20)
        """,
    )
    try:
        _out, err = child.communicate(timeout=30)
    finally:
        child.kill()
    assert 0 == child.returncode, err
    assert "done" == mark.read_text()


def _running(pid: int) -> bool:
    """Whether *pid* is a live process (a zombie waiting to be reaped is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] not in "ZX"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="reads /proc to find the rule's process")
@pytest.mark.parametrize("rules", [1, 2])
def test_interpreter_exit_while_a_condition_rule_runs_does_not_hang_or_leave_a_process(
    tmp_path: Path, rules: int
) -> None:
    """The main thread ends while a beforeEntry condition's Commands rules run ``sleep``: the
    process exits at once (the rules' shells give up on EXITING and are joined by the atexit
    handler), and no process of the rules is left."""
    pids = [tmp_path / f"rule-{i}.pid" for i in range(rules)]
    child = _child(
        tmp_path,
        f"""
        import time
        pids = [Path(p) for p in {[str(p) for p in pids]!r}]
        rules = [
            pw.Rule(name=f"Sleep{{i}}", rule_type=pw.RuleType(provider="Commands"),
                    commands=[f"sleep 60 & echo $! > {{p}}; wait"])
            for i, p in enumerate(pids)
        ]
        entry = pw.BeforeEntryConditions(conditions=[pw.Condition(rules=rules)])
        x = LocalExecutor(workdir, handlers={{"Build/Custom/Fake/1": lambda ctx: None}}, validate=False)
        x.start(pipeline(pw.Stage(name="S", actions=[build("A")], before_entry=entry)))
        deadline = time.monotonic() + 20
        while not all(p.exists() and p.read_text().strip() for p in pids):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        print("waiting", flush=True)
        """,
    )
    try:
        out, err = child.communicate(timeout=30)
    finally:
        child.kill()
    assert 0 == child.returncode, err
    assert "waiting" == out.strip()
    sleepers = [int(p.read_text()) for p in pids]
    deadline = time.monotonic() + 5
    while any(_running(pid) for pid in sleepers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in sleepers if _running(pid)]
