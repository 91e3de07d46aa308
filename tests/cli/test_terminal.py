"""`pipeweaver run` in a real pseudo-terminal: the live table and the approval prompt."""

from __future__ import annotations

import os
import re
import select
import sys
import time
from pathlib import Path

import pytest

from .conftest import _script

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart.py"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


def _run_in_pty(args: list[str], cwd: Path, answer: bytes) -> tuple[int, str]:
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: become the console script
        os.chdir(cwd)
        os.environ["COLUMNS"] = "160"
        command = [*_script(), *args]
        os.execv(command[0], command)
    output, answered = b"", False
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
        if not answered and b"approve Approve/ReleaseApproval?" in output:
            os.write(fd, answer)
            answered = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), ANSI.sub("", output.decode(errors="replace"))


def test_live_table_and_prompt_approve(tmp_path: Path) -> None:
    """In a terminal the run shows the live table and log tail, asks at the approval, and 'y' releases."""
    code, screen = _run_in_pty(["run", str(QUICKSTART)], tmp_path, b"y\n")

    assert 0 == code, screen[-2000:]
    assert re.search(r"Test\s+UnitTests\s+Succeeded\s+\d+\.\ds", screen)
    assert "Deploy/DeployStack log" in screen
    assert "SIMULATED (nothing was deployed)" in screen
    assert "Release greeting 1.4.0?" in screen
    # The person who answered is the approver (not "policy"), and no hint to run `pipeweaver approve`
    # is printed onto the prompt's line.
    assert re.search(r"Approved by \S+: answered at the terminal", screen), screen[-2000:]
    assert "by policy" not in screen
    assert "is waiting: run" not in screen
    assert "Deploy/DeployStack: Succeeded" in screen


def test_prompt_answer_no_rejects(tmp_path: Path) -> None:
    """Answering 'n' rejects the approval: the deploy never runs and the exit code is 1."""
    code, screen = _run_in_pty(["run", str(QUICKSTART)], tmp_path, b"n\n")

    assert 1 == code
    assert "Approve/ReleaseApproval: Failed" in screen
    assert "Deploy/DeployStack:" not in screen
