"""A reader that goes away (``pipeweaver history | head -1``) ends the command quietly, as SIGPIPE would."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .conftest import _script

EXAMPLES = sorted(str(p) for p in (Path(__file__).parents[2] / "examples").glob("*.py"))


@pytest.mark.parametrize("args", [["history"], ["validate", *EXAMPLES]], ids=["history", "validate"])
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
