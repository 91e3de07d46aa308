"""The history survives damage and races: real SQLite files, damaged on disk; real processes racing."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import pipeweaver as pw
from pipeweaver.errors import HistoryError, PipeweaverError
from pipeweaver.execution import ExecutionStatus, LocalExecutor

from .conftest import custom, pipeline

FAKE = "Build/Custom/Fake/1"


def _two_stages(**kw: object) -> pw.Pipeline:
    return pipeline(
        pw.Stage(name="Build", actions=[custom("Build")]),
        pw.Stage(name="Deploy", actions=[custom("Deploy")]),
        **kw,
    )


def _recorded(workdir: Path, runs: int = 3) -> list[str]:
    """Run the two-stage pipeline *runs* times in *workdir*; the ids, oldest first. The history is closed."""
    with LocalExecutor(workdir, handlers={FAKE: lambda ctx: None}, validate=False) as x:
        return [x.run(_two_stages()).id for _ in range(runs)]


def _cut_to_half(db: Path) -> None:
    os.truncate(db, db.stat().st_size // 2)


def _garbage_header(db: Path) -> None:
    with db.open("r+b") as handle:
        handle.write(b"\x13\x37 not sqlite any more " * 5)


def _not_a_database(db: Path) -> None:
    db.write_text("id,status\n1,Succeeded\n")


def _garbage_pages(db: Path) -> None:
    # The header stays intact (the file looks fine from outside); the b-tree pages behind it do not.
    page = int.from_bytes(db.read_bytes()[16:18], "big")
    with db.open("r+b") as handle:
        handle.seek(page)
        handle.write(b"\xa5" * (db.stat().st_size - page))


DAMAGE: dict[str, Callable[[Path], None]] = {
    "cut-to-half": _cut_to_half,
    "garbage-header": _garbage_header,
    "not-a-database": _not_a_database,
    "garbage-pages": _garbage_pages,
}


def _mv_command(message: str) -> str:
    found = re.search(r"(mv \S+ \S+(?: && mv \S+ \S+)*)$", message)
    assert found, message
    return found.group(1)


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_history_is_a_history_error_naming_the_file_and_the_mv_that_recovers(
    tmp_path: Path, damage: str
) -> None:
    """Each kind of damage is a HistoryError naming the file and an exact mv; running that mv recovers."""
    workdir = tmp_path / "wd"
    _recorded(workdir)
    db = workdir / "history.sqlite3"
    DAMAGE[damage](db)

    with pytest.raises(HistoryError) as raised, LocalExecutor(workdir, validate=False) as x:
        x.history()
    message = str(raised.value)
    mv = _mv_command(message)
    subprocess.run(mv, shell=True, check=True)  # the command exactly as a user pastes it
    with LocalExecutor(workdir, handlers={FAKE: lambda ctx: None}, validate=False) as x:
        fresh = x.run(_two_stages())

    assert message.startswith(f"{db}: the execution history is damaged (")
    assert "\n" not in message
    assert str(db) == raised.value.path
    assert raised.value.execution_id is None
    assert isinstance(raised.value, PipeweaverError)
    assert (workdir / "history.sqlite3.broken").exists()
    assert ExecutionStatus.SUCCEEDED == fresh.status


def test_zero_length_history_is_a_new_empty_history(tmp_path: Path) -> None:
    """A zero-length file is what SQLite creates before its first page: it opens as an empty history."""
    workdir = tmp_path / "wd"
    workdir.mkdir()
    (workdir / "history.sqlite3").touch()

    with LocalExecutor(workdir, handlers={FAKE: lambda ctx: None}, validate=False) as x:
        before = x.history()
        done = x.run(_two_stages())

    assert [] == before
    assert ExecutionStatus.SUCCEEDED == done.status


def test_a_history_caught_mid_checkpoint_opens_once_its_pages_land(tmp_path: Path) -> None:
    """A checkpoint grows the file with zeros before it writes the header: that is not damage.

    This is the moment another process closing a new history shows to one opening it (CI saw
    "not an SQLite database" there); the pages land 150 ms later and the history opens whole.
    """
    workdir = tmp_path / "wd"
    (done,) = _recorded(workdir, runs=1)
    db = workdir / "history.sqlite3"
    pages = db.read_bytes()
    db.write_bytes(b"\0" * len(pages))

    def land() -> None:
        time.sleep(0.15)
        with db.open("r+b") as handle:
            handle.write(pages)

    writer = threading.Thread(target=land)
    writer.start()
    try:
        with LocalExecutor(workdir, validate=False) as x:
            found = [e.id for e in x.history()]
    finally:
        writer.join()

    assert [done] == found


@pytest.mark.parametrize(
    ("sql", "part"),
    [
        ("UPDATE executions SET status='Exploded' WHERE id=?", "its execution row"),
        ("UPDATE actions SET output_variables='{not json' WHERE execution_id=?", "its action rows"),
        ("UPDATE stages SET status='Melted' WHERE execution_id=?", "its stage rows"),
        ("UPDATE executions SET definition='[1' WHERE id=?", "its pipeline definition"),
    ],
)
def test_an_undecodable_row_names_its_execution_and_leaves_the_others_readable(
    tmp_path: Path, sql: str, part: str
) -> None:
    """A row with an unknown status or broken JSON is a HistoryError for that execution only."""
    workdir = tmp_path / "wd"
    first, bad, last = _recorded(workdir)
    with sqlite3.connect(workdir / "history.sqlite3") as con:
        con.execute(sql, (bad,))
    con.close()

    with LocalExecutor(workdir, validate=False) as x:
        with pytest.raises(HistoryError) as raised:
            _read_all(x, bad)
        others = [x.execution(first), x.execution(last)]

    assert bad == raised.value.execution_id
    assert f"execution {bad}: {part} cannot be decoded" in str(raised.value)
    assert [ExecutionStatus.SUCCEEDED] * 2 == [e.status for e in others]


def _read_all(x: LocalExecutor, execution_id: str) -> None:
    x.execution(execution_id)
    x.history_store.definition(execution_id)


RACER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import pipeweaver as pw
    from pipeweaver.execution import LocalExecutor

    base = Path(sys.argv[1])
    fake = pw.ActionType(category="Build", owner="Custom", provider="Fake")
    p = pw.Pipeline(
        name="race", role_arn="arn:aws:iam::123456789012:role/pipeline", pipeline_type="V2",
        artifact_store=pw.ArtifactStore(location="artifact-bucket"), execution_mode="PARALLEL",
        stages=[pw.Stage(name=n, actions=[pw.Action(name=n, action_type=fake)]) for n in ("Build", "Deploy")],
    )
    print("ready", flush=True)
    for line in iter(sys.stdin.readline, ""):
        try:
            with LocalExecutor(base / line.strip(), handlers={fake: lambda ctx: None}, validate=False) as x:
                print(x.run(p).status.value, flush=True)
        except Exception as exc:
            print(f"{type(exc).__name__}: {exc}".replace("\\n", " "), flush=True)
    """
)


def test_processes_starting_on_a_new_workdir_together_all_start(tmp_path: Path) -> None:
    """Four processes open one new workdir at the same moment, 100 times over: every run starts.

    On the old code about one round in twenty lost a process to "database is locked".
    """
    rounds, racers = 100, 4
    children = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(tmp_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(racers)
    ]
    outcomes: list[str] = []
    try:
        for child in children:
            assert child.stdout is not None
            assert "ready\n" == child.stdout.readline()
        for r in range(rounds):
            # Every child blocks reading its stdin; one line each releases them together.
            for child in children:
                assert child.stdin is not None
                child.stdin.write(f"wd{r}\n")
                child.stdin.flush()
            for child in children:
                assert child.stdout is not None
                outcomes.append(child.stdout.readline().strip())
    finally:
        for child in children:
            assert child.stdin is not None
            child.stdin.close()
        for child in children:
            child.wait(30)
            assert child.stdout is not None
            child.stdout.close()

    assert ["Succeeded"] * (rounds * racers) == outcomes
    assert 0 == sum(child.returncode for child in children)


STAGE_CHILD = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    import pipeweaver as pw
    from pipeweaver.execution import ActionFailed, LocalExecutor

    workdir, tag, hold, mode = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    marks = workdir.parent
    fake = pw.ActionType(category="Build", owner="Custom", provider="Fake")
    probe = pw.ActionType(category="Deploy", owner="Custom", provider="Probe")

    def deploy(ctx):
        # The marker is created exclusively: a second execution inside Deploy finds it.
        try:
            os.close(os.open(marks / "in-deploy", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            (marks / f"overlap-{tag}").touch()
            raise ActionFailed(f"{tag} entered Deploy while another execution was in it")
        with open(marks / "deploy.log", "a") as log:
            log.write(f"{tag} enter {time.time()}\\n")
        (marks / f"{tag}-in-deploy").touch()
        while hold and not (marks / hold).exists():
            time.sleep(0.005)
        with open(marks / "deploy.log", "a") as log:
            log.write(f"{tag} leave {time.time()}\\n")
        os.unlink(marks / "in-deploy")

    p = pw.Pipeline(
        name="shared", role_arn="arn:aws:iam::123456789012:role/pipeline", pipeline_type="V2",
        artifact_store=pw.ArtifactStore(location="artifact-bucket"), execution_mode=mode,
        stages=[
            pw.Stage(name="Build", actions=[pw.Action(name="Build", action_type=fake)]),
            pw.Stage(name="Deploy", actions=[pw.Action(name="Deploy", action_type=probe)]),
        ],
    )
    with LocalExecutor(workdir, handlers={fake: lambda ctx: None, probe: deploy}, validate=False) as x:
        e = x.run(p)
    print(json.dumps({"id": e.id, "status": e.status.value, "summary": e.status_summary}), flush=True)
    """
)


def _stage_runner(tmp_path: Path, tag: str, hold: str = "", mode: str = "SUPERSEDED") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", STAGE_CHILD, str(tmp_path / "wd"), tag, hold, mode], stdout=subprocess.PIPE, text=True
    )


def _outcome(child: subprocess.Popen[str]) -> dict[str, str]:
    out, _ = child.communicate(timeout=60)
    assert 0 == child.returncode
    result: dict[str, str] = json.loads(out)
    return result


def _poll(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll another process's traces (test code only) until *predicate* holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


def _waiting_for_deploy(tmp_path: Path) -> int:
    """How many executions wait in the shared line for Deploy (0 while the table does not exist)."""
    with contextlib.closing(sqlite3.connect(tmp_path / "wd" / "history.sqlite3", timeout=5)) as con:
        try:
            rows = con.execute("SELECT COUNT(*) FROM stage_waits WHERE stage='Deploy' AND superseded_by IS NULL")
            return int(rows.fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def _deploy_intervals(tmp_path: Path, *, complete: bool = True) -> dict[str, tuple[float, float]]:
    """(enter, leave) of each execution's Deploy action; with *complete* false a missing leave is infinity."""
    times: dict[str, dict[str, float]] = {}
    for line in (tmp_path / "deploy.log").read_text().splitlines():
        tag, what, at = line.split()
        times.setdefault(tag, {})[what] = float(at)
    if complete:
        return {tag: (t["enter"], t["leave"]) for tag, t in times.items()}
    return {tag: (t["enter"], t.get("leave", float("inf"))) for tag, t in times.items()}


def test_two_processes_are_never_in_a_superseded_pipelines_stage_at_once(tmp_path: Path) -> None:
    """A second process's execution waits in front of Deploy while the first process's is in it."""
    first = _stage_runner(tmp_path, "A", hold="release-A")
    _poll(lambda: (tmp_path / "A-in-deploy").exists())
    second = _stage_runner(tmp_path, "B")
    # B either waits in the shared line (fixed) or walks into Deploy next to A (the old engine).
    _poll(lambda: _waiting_for_deploy(tmp_path) == 1 or (tmp_path / "overlap-B").exists())
    (tmp_path / "release-A").touch()
    a, b = _outcome(first), _outcome(second)
    spans = _deploy_intervals(tmp_path)

    assert not (tmp_path / "overlap-B").exists()
    assert ["Succeeded", "Succeeded"] == [a["status"], b["status"]]
    assert spans["A"][1] <= spans["B"][0]
    assert 0 == _waiting_for_deploy(tmp_path)


def test_a_later_execution_in_another_process_supersedes_the_waiting_one(tmp_path: Path) -> None:
    """A holds Deploy (process 1), B waits (process 2), C arrives (process 3): B is superseded by C; A, C succeed."""
    first = _stage_runner(tmp_path, "A", hold="release-A")
    _poll(lambda: (tmp_path / "A-in-deploy").exists())
    second = _stage_runner(tmp_path, "B")
    _poll(lambda: _waiting_for_deploy(tmp_path) == 1 or (tmp_path / "overlap-B").exists())
    third = _stage_runner(tmp_path, "C")
    b = _outcome(second)
    (tmp_path / "release-A").touch()
    a, c = _outcome(first), _outcome(third)
    spans = _deploy_intervals(tmp_path)

    assert "Superseded" == b["status"]
    assert f"Superseded by execution {c['id']}" == b["summary"]
    assert ["Succeeded", "Succeeded"] == [a["status"], c["status"]]
    assert ["A", "C"] == sorted(spans)
    assert spans["A"][1] <= spans["C"][0]


def test_a_stage_held_by_a_killed_process_comes_free(tmp_path: Path) -> None:
    """SIGKILL the process inside Deploy: the kernel drops its lock and the waiting execution goes on."""
    first = _stage_runner(tmp_path, "A", hold="never")
    _poll(lambda: (tmp_path / "A-in-deploy").exists())
    second = _stage_runner(tmp_path, "B")
    _poll(lambda: _waiting_for_deploy(tmp_path) == 1 or (tmp_path / "overlap-B").exists())
    (tmp_path / "in-deploy").unlink()  # A's marker: A never gets to remove it
    first.kill()
    first.communicate(timeout=30)
    b = _outcome(second)

    assert "Succeeded" == b["status"]
    assert ["A", "B"] == sorted(_deploy_intervals(tmp_path, complete=False))


def test_queued_executions_of_three_processes_enter_a_stage_one_by_one_in_arrival_order(tmp_path: Path) -> None:
    """QUEUED across processes: A holds Deploy, B then C wait; nothing is superseded and B goes before C."""
    first = _stage_runner(tmp_path, "A", hold="release-A", mode="QUEUED")
    _poll(lambda: (tmp_path / "A-in-deploy").exists())
    second = _stage_runner(tmp_path, "B", mode="QUEUED")
    _poll(lambda: _waiting_for_deploy(tmp_path) == 1 or (tmp_path / "overlap-B").exists())
    third = _stage_runner(tmp_path, "C", mode="QUEUED")
    _poll(lambda: _waiting_for_deploy(tmp_path) == 2 or (tmp_path / "overlap-C").exists())
    (tmp_path / "release-A").touch()
    outcomes = [_outcome(child)["status"] for child in (first, second, third)]
    spans = _deploy_intervals(tmp_path)

    assert ["Succeeded"] * 3 == outcomes
    assert spans["A"][1] <= spans["B"][0]
    assert spans["B"][1] <= spans["C"][0]
