"""Processes end with their action: real shells whose background children must not outlive it."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import pipeweaver as pw
from pipeweaver.execution import ActionContext, ActionStatus, ExecutionStatus, LocalExecutor, _shell
from pipeweaver.execution._shell import Phase, run_phases

from .conftest import commands, custom, pipeline, wait_until

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to see processes")

FAKE = "Build/Custom/Fake/1"


def alive(pid: int) -> bool:
    """Whether *pid* runs (a zombie waiting for its reaper has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2 :].split()[0] not in (b"Z", b"X")


def group_alive(pgid: int) -> bool:
    """Whether any running process is in group *pgid* (os.killpg(pgid, 0), zombies set aside)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    for name in os.listdir("/proc"):
        if name.isdigit() and alive(int(name)):
            try:
                stat = Path(f"/proc/{name}/stat").read_bytes()
            except OSError:
                continue
            if int(stat[stat.rfind(b")") + 2 :].split()[2]) == pgid:
                return True
    return False


class Spawned:
    """Shell commands that leave children behind and write their pids (and the shell's group) to files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def commands(self, *, hold_stdout: bool = False) -> list[str]:
        quiet = "" if hold_stdout else " >/dev/null 2>&1"
        d = self.folder
        return [
            f"echo $$ > {d}/pgid",
            f"sleep 120{quiet} & echo $! > {d}/background",
            f"nohup sleep 120{quiet} & echo $! > {d}/nohup",
            # Leaves the group: setsid in a background job (not a group leader) does not fork.
            f"setsid sleep 120{quiet} & echo $! > {d}/setsid",
            # Ignores SIGTERM (so only the SIGKILL after the grace ends it) once it says so.
            f"bash -c 'trap \"\" TERM; touch {d}.trapped; sleep 120'{quiet} & echo $! > {d}/ignores-term",
            f"while [ ! -e {d}.trapped ]; do sleep 0.01; done",
            # Daemonized: a subshell that exits at once leaves a new session's child to init.
            f"( setsid sleep 120{quiet} & echo $! > {d}/daemon )",
            "echo children-started",
        ]

    def pids(self) -> dict[str, int]:
        return {p.name: int(p.read_text()) for p in self.folder.iterdir() if p.read_text().strip()}

    def leftovers(self) -> dict[str, int]:
        pids = self.pids()
        found = {name: pid for name, pid in pids.items() if name != "pgid" and alive(pid)}
        if group_alive(pids["pgid"]):
            found["group"] = pids["pgid"]
        return found

    def cleanup(self) -> None:
        if not self.folder.exists():
            return
        for pid in self.pids().values():
            for kill in (os.kill, os.killpg):
                with contextlib.suppress(OSError):
                    kill(pid, signal.SIGKILL)


@pytest.fixture(name="spawned")
def _spawned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Spawned]:
    # The TERM-ignoring child needs the SIGKILL that follows the grace; keep the tests fast.
    monkeypatch.setattr(_shell, "KILL_GRACE", 0.3, raising=False)
    spawned = Spawned(tmp_path / "pids")
    yield spawned
    spawned.cleanup()


def started(handle: object, wd: Path, stage: str, action: str) -> bool:
    log = wd / "runs" / handle.id / stage / action / "1" / "log.txt"  # type: ignore[attr-defined]
    return log.exists() and "children-started" in log.read_text()


@pytest.mark.parametrize("last", ["true", "false"])
def test_a_finished_commands_action_leaves_no_process(tmp_path: Path, spawned: Spawned, last: str) -> None:
    """Success or failure: background, nohup, setsid and TERM-ignoring children are all gone when the action ends."""
    p = pipeline(pw.Stage(name="A", actions=[commands("Cmd", [*spawned.commands(), last], inputs=[])]))

    e = LocalExecutor(tmp_path / "wd", validate=False).run(p)

    assert (ActionStatus.SUCCEEDED if last == "true" else ActionStatus.FAILED) == e.action("A", "Cmd").status
    assert {} == spawned.leftovers()


def test_a_finished_buildspec_leaves_no_process(tmp_path: Path, spawned: Spawned) -> None:
    """A CodeBuild action's phases end the same way: nothing its buildspec started survives it."""
    buildspec = {"version": 0.2, "phases": {"build": {"commands": spawned.commands()}}}
    build = pw.Action(
        name="Build",
        action_type=pw.ActionType(category="Build", provider="CodeBuild"),
        configuration={"ProjectName": "web"},
    )

    x = LocalExecutor(tmp_path / "wd", buildspecs={"web": buildspec}, validate=False)
    e = x.run(pipeline(pw.Stage(name="A", actions=[build])))

    assert e.succeeded, e.action("A", "Build").error
    assert {} == spawned.leftovers()


def test_a_background_child_holding_stdout_does_not_hold_a_successful_action(tmp_path: Path, spawned: Spawned) -> None:
    """Children that keep the output pipe open neither delay the action nor survive it."""
    p = pipeline(pw.Stage(name="A", actions=[commands("Cmd", spawned.commands(hold_stdout=True), inputs=[])]))
    handle = LocalExecutor(tmp_path / "wd", validate=False).start(p)
    began = time.monotonic()

    e = handle.wait(15)

    assert e.succeeded, e.status
    assert time.monotonic() - began < 5
    assert {} == spawned.leftovers()


def test_a_timed_out_action_leaves_no_process(tmp_path: Path, spawned: Spawned) -> None:
    """A timeout fails the action and ends its processes, the escaped ones included."""
    p = pipeline(pw.Stage(name="A", actions=[commands("Cmd", [*spawned.commands(), "sleep 120"], inputs=[])]))

    e = LocalExecutor(tmp_path / "wd", timeouts={"A/Cmd": 1.0}, validate=False).run(p)

    assert ExecutionStatus.FAILED == e.status
    assert "timed out" in (e.action("A", "Cmd").error or "")
    assert {"pgid", "background", "nohup", "setsid", "ignores-term", "daemon"} == set(spawned.pids())
    wait_until(lambda: not spawned.leftovers(), timeout=5)


def test_a_stopped_action_leaves_no_process(tmp_path: Path, spawned: Spawned) -> None:
    """Stop-and-abandon ends every process of the running command, the escaped ones included."""
    wd = tmp_path / "wd"
    p = pipeline(pw.Stage(name="A", actions=[commands("Cmd", [*spawned.commands(), "sleep 120"], inputs=[])]))
    handle = LocalExecutor(wd, validate=False).start(p)
    wait_until(lambda: started(handle, wd, "A", "Cmd"))

    handle.stop(abandon=True, reason="test")

    assert ActionStatus.ABANDONED == handle.wait(10).action("A", "Cmd").status
    wait_until(lambda: not spawned.leftovers(), timeout=5)


def test_run_phases_returns_at_once_when_only_a_stray_child_holds_the_pipe(tmp_path: Path, spawned: Spawned) -> None:
    """run_phases itself: the shell's exit, not the pipe's EOF, ends the wait; the stray child is ended."""
    cancel = threading.Event()
    out: list[str] = []
    began = time.monotonic()

    result = run_phases(
        [Phase("build", tuple(spawned.commands(hold_stdout=True)))],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"]},
        log=out.append,
        cancel=cancel,
    )

    assert (0, False) == (result.returncode, result.cancelled)
    assert time.monotonic() - began < 3
    assert "children-started" in out
    assert {} == spawned.leftovers()


def test_a_script_that_closes_its_output_still_runs_to_its_end(tmp_path: Path) -> None:
    """EOF on the pipe before the shell exits is not the end: the script's later commands still run."""
    done = tmp_path / "done"
    result = run_phases(
        [Phase("build", ("exec >/dev/null 2>&1", "sleep 0.2", f"touch {done}"))],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"]},
        log=lambda line: None,
        cancel=threading.Event(),
    )

    assert 0 == result.returncode
    assert done.exists()


@pytest.mark.parametrize(
    "error",
    [SystemExit(3), KeyboardInterrupt(), GeneratorExit("closed"), type("Custom", (BaseException,), {})("odd")],
    ids=["SystemExit", "KeyboardInterrupt", "GeneratorExit", "BaseException"],
)
def test_a_handler_raising_a_base_exception_fails_its_action_at_once(tmp_path: Path, error: BaseException) -> None:
    """SystemExit, KeyboardInterrupt or any BaseException from a handler fails the action, naming it and the exception."""

    def raising(ctx: ActionContext) -> None:
        raise error

    p = pipeline(pw.Stage(name="A", actions=[custom("Boom")]), pw.Stage(name="B", actions=[custom("Next")]))
    x = LocalExecutor(tmp_path / "wd", handlers={FAKE: raising}, timeouts={"A/Boom": 10}, validate=False)
    began = time.monotonic()

    e = x.run(p)

    assert time.monotonic() - began < 5
    assert ExecutionStatus.FAILED == e.status
    message = e.action("A", "Boom").error or ""
    assert "A/Boom" in message
    assert type(error).__name__ in message
    assert not e.ran("B", "Next")
    # The executor keeps working: the next execution runs its handlers.
    assert LocalExecutor(tmp_path / "wd", handlers={FAKE: lambda ctx: None}, validate=False).run(p).succeeded
