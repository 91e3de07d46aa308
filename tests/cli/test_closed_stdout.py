"""A reader that goes away (``pipeweaver history | head -1``) ends the command quietly, as SIGPIPE would."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .conftest import _script

EXAMPLES = sorted(str(p) for p in (Path(__file__).parents[2] / "examples").glob("*.py"))
QUICKSTART = str(Path(__file__).parents[2] / "examples" / "quickstart.py")


@pytest.mark.parametrize(
    "args",
    [["history"], ["validate", *EXAMPLES], ["run", QUICKSTART, "--approve", "auto", "--plain"]],
    ids=["history", "validate", "run"],
)
def test_a_closed_stdout_stops_quietly_with_the_sigpipe_status(tmp_path: Path, args: list[str]) -> None:
    """Its stdout is a real pipe whose reading end is closed before the command writes anything."""
    (tmp_path / ".pipeweaver").mkdir()
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line: every write meets a broken pipe
    try:
        env = {**os.environ, "NO_COLOR": "1"}
        env.pop("PIPEWEAVER_DEBUG", None)
        result = subprocess.run(
            [*_script(), *args], stdout=write_end, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env, timeout=120
        )
    finally:
        os.close(write_end)
    assert "" == result.stderr
    assert 141 == result.returncode


def test_a_run_whose_reader_went_away_still_runs_to_its_end(tmp_path: Path) -> None:
    """Progress lines from the engine's threads stop quietly; the execution is not abandoned."""
    test_a_closed_stdout_stops_quietly_with_the_sigpipe_status(tmp_path, ["run", QUICKSTART, "--approve", "auto"])
    listing = subprocess.run([*_script(), "history"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert "Succeeded" in listing.stdout, listing.stdout + listing.stderr
