"""history, run and retry on a damaged or partly unreadable history.sqlite3, run as the real console script."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

import pipeweaver as pw
from pipeweaver.execution import LocalExecutor

from .conftest import Cli

PIPELINE = """
import pipeweaver as pw

step = pw.Action(name="Step", action_type=pw.ActionType(category="Compute", provider="Commands"), commands=["true"])
pipeline = pw.Pipeline(
    name="damaged", pipeline_type="V2", role_arn="arn:aws:iam::123456789012:role/PipelineRole",
    artifact_store=pw.ArtifactStore(location="damaged-artifacts"),
    stages=[pw.Stage(name="One", actions=[step]), pw.Stage(name="Two", actions=[step])],
)
"""
FAKE = pw.ActionType(category="Build", owner="Custom", provider="Fake")


def _history(workdir: Path, runs: int = 3) -> list[str]:
    """Record *runs* executions (the second fails in stage Two), oldest first."""
    calls = iter(range(100))

    def handler(ctx: object) -> None:
        if next(calls) == 3:
            raise pw.ActionFailed("second run fails in Two")

    p = pw.Pipeline(
        name="damaged",
        role_arn="arn:aws:iam::123456789012:role/PipelineRole",
        artifact_store=pw.ArtifactStore(location="damaged-artifacts"),
        pipeline_type="V2",
        stages=[pw.Stage(name=n, actions=[pw.Action(name="Step", action_type=FAKE)]) for n in ("One", "Two")],
    )
    with LocalExecutor(workdir, handlers={FAKE: handler}, validate=False) as x:
        return [x.run(p).id for _ in range(runs)]


@pytest.fixture(name="project")
def _project(tmp_path: Path) -> Path:
    (tmp_path / "release.py").write_text(PIPELINE)
    return tmp_path


def _one_line_error(result: object, db: Path) -> str:
    stderr: str = result.stderr  # type: ignore[attr-defined]
    assert 1 == result.returncode, stderr  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    assert [f"Error: {db}: the execution history is damaged"] == [
        line[: len(f"Error: {db}: the execution history is damaged")] for line in stderr.splitlines()
    ]
    assert f"mv {db} {db}.broken" in stderr
    return stderr


@pytest.mark.parametrize("damage", ["cut-to-half", "not-a-database"])
def test_history_run_and_retry_on_a_damaged_history_say_how_to_recover(cli: Cli, project: Path, damage: str) -> None:
    """Each command ends in one line naming the file and the mv that moves it aside; exit 1, no traceback."""
    workdir = project / ".pipeweaver"
    failed = _history(workdir)[1]
    db = workdir / "history.sqlite3"
    if damage == "cut-to-half":
        os.truncate(db, db.stat().st_size // 2)
    else:
        db.write_bytes(b"PK\x03\x04 this is a zip, not a database" * 40)

    for args in (["history"], ["history", failed], ["run", "release.py", "--plain"], ["retry", failed, "Two"]):
        _one_line_error(cli(*args, cwd=project), db)


def test_history_lists_every_execution_when_one_row_is_unreadable(cli: Cli, project: Path) -> None:
    """An unknown status in one row shows that execution as unreadable (with its id); the rest list normally."""
    workdir = project / ".pipeweaver"
    first, bad, last = _history(workdir)
    with sqlite3.connect(workdir / "history.sqlite3") as con:
        con.execute("UPDATE executions SET status='Exploded' WHERE id=?", (bad,))
    con.close()

    text = cli("history", cwd=project)
    listing = json.loads(cli("history", "--format", "json", cwd=project).stdout)
    detail = cli("history", bad, cwd=project)

    assert 0 == text.returncode, text.stderr
    lines = text.stdout.splitlines()
    assert [last, bad, first] == [line.split()[0] for line in lines]
    assert "Succeeded" in lines[0]
    assert (
        f"{bad}  unreadable: its execution row cannot be decoded: 'Exploded' is not a valid ExecutionStatus"
        == (lines[1])
    )
    assert "Succeeded" in lines[2]
    assert [last, bad, first] == [e["id"] for e in listing]
    assert "unreadable" in listing[1]
    assert ["Succeeded", "Succeeded"] == [listing[0]["status"], listing[2]["status"]]
    assert 1 == detail.returncode
    assert "Traceback" not in detail.stderr
    assert f"execution {bad}: its execution row cannot be decoded" in detail.stderr
