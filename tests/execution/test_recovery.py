"""Durability: a runner killed mid-run leaves a readable history that can be marked and retried; leases."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

import pipeweaver as pw
from pipeweaver.errors import ExecutionError
from pipeweaver.execution import ActionContext, ActionStatus, ExecutionStatus, LocalExecutor, StageStatus

from .conftest import custom, pipeline, wait_until

CHILD = textwrap.dedent(
    """
    import sys
    import pipeweaver as pw
    from pipeweaver.execution import LocalExecutor

    workdir, mark, pidfile = sys.argv[1:4]
    env = [pw.EnvironmentVariable(name="MARK", value=mark), pw.EnvironmentVariable(name="PIDFILE", value=pidfile)]
    compute = pw.ActionType(category="Compute", provider="Commands")
    p = pw.Pipeline(
        name="durable",
        role_arn="arn:aws:iam::123456789012:role/pipeline",
        artifact_store=pw.ArtifactStore(location="artifact-bucket"),
        pipeline_type="V2",
        stages=[
            pw.Stage(name="Prep", actions=[pw.Action(name="Prep", action_type=compute, commands=["echo prep"])]),
            pw.Stage(name="Work", actions=[pw.Action(
                name="Long", action_type=compute, environment_variables=env,
                commands=['if [ -f "$MARK" ]; then echo resumed; else echo $$ > "$PIDFILE" && exec sleep 60; fi'],
            )]),
        ],
    )
    LocalExecutor(workdir, validate=False).run(p)
    """
)


def _history_shows_long_running(workdir: Path) -> bool:
    if not (workdir / "history.sqlite3").exists():
        return False
    x = LocalExecutor(workdir)
    try:
        return any(
            e.ran("Work", "Long") and e.action("Work", "Long").status is ActionStatus.IN_PROGRESS for e in x.history()
        )
    finally:
        x.close()


def test_a_killed_runner_leaves_a_readable_history_that_can_be_retried(tmp_path: Path) -> None:
    """SIGKILL mid-action: the history still reads InProgress; mark_interrupted fails it; retry finishes it."""
    workdir, mark, pidfile = tmp_path / "wd", tmp_path / "mark", tmp_path / "sleep.pid"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    child = subprocess.Popen([sys.executable, str(script), str(workdir), str(mark), str(pidfile)])
    try:
        wait_until(
            lambda: pidfile.exists() and pidfile.read_text().strip() != "" and _history_shows_long_running(workdir), 60
        )
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        if pidfile.exists() and pidfile.read_text().strip():
            # The command's own process (the sleep) outlives its runner; end it by its id.
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)

    x = LocalExecutor(workdir)
    [left] = x.history("durable")

    assert ExecutionStatus.IN_PROGRESS == left.status
    assert ActionStatus.SUCCEEDED == left.action("Prep", "Prep").status
    assert ActionStatus.IN_PROGRESS == left.action("Work", "Long").status
    with pytest.raises(ExecutionError, match="mark_interrupted"):
        x.retry(left.id, "Work")

    assert [left.id] == x.mark_interrupted()
    marked = x.execution(left.id)
    assert ExecutionStatus.FAILED == marked.status
    assert StageStatus.FAILED == marked.stage("Work").status
    assert "interrupted" in (marked.action("Work", "Long").error or "")
    assert [] == x.mark_interrupted()

    mark.write_text("go")
    done = x.retry(left.id, "Work", wait=True)

    assert ExecutionStatus.SUCCEEDED == done.status
    assert [(1, ActionStatus.FAILED), (2, ActionStatus.SUCCEEDED)] == [
        (a.attempt, a.status) for a in done.actions if a.name == "Long"
    ]
    assert "resumed" in Path(done.action("Work", "Long").log_file or "").read_text()


def test_two_runners_cannot_advance_one_execution(tmp_path: Path) -> None:
    """While one runner holds an execution's lease, another runner can neither retry it nor mark it interrupted."""
    release = threading.Event()
    calls = {"n": 0}

    def blocking(ctx: ActionContext) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("first attempt fails")
        release.wait(20)

    p = pipeline(pw.Stage(name="A", actions=[custom("Job")]), pw.Stage(name="B", actions=[custom("Done")]))
    first = LocalExecutor(tmp_path / "wd", handlers={"Build/Custom/Fake/1": blocking}, validate=False)
    second = LocalExecutor(tmp_path / "wd", handlers={"Build/Custom/Fake/1": blocking}, validate=False)
    failed = first.run(p)
    handle = first.retry(failed.id, "A")
    wait_until(lambda: calls["n"] == 2)

    with pytest.raises(ExecutionError):
        second.retry(failed.id, "A")
    with pytest.raises(ExecutionError, match="another runner"):
        second.history_store.acquire_lease(failed.id, second.owner, 30)
    assert [] == second.mark_interrupted()

    release.set()
    assert ExecutionStatus.SUCCEEDED == handle.wait(20).status
    second.history_store.acquire_lease(failed.id, second.owner, 30)
