"""The history survives damage and races: real SQLite files, damaged on disk; real processes racing."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import textwrap
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
