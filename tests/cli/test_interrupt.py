"""Ctrl-C of `pipeweaver run` (SIGINT to the real console script) still stops the run, and ends its processes."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import _script

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to see processes")

SLOW = """
import pipeweaver as pw

LOCAL_SOURCES = {"Source": "src"}
src = pw.Artifact("Src")
pipeline = pw.Pipeline(
    name="slow", pipeline_type="V2", role_arn="arn:aws:iam::123456789012:role/PipelineRole",
    artifact_store=pw.ArtifactStore(location="slow-artifacts"),
    stages=[
        pw.Stage(name="Source", actions=[pw.Action(
            name="Source", outputs=[src], action_type=pw.ActionType(category="Source", provider="S3"),
            configuration={"S3Bucket": "b-src", "S3ObjectKey": "k.zip", "PollForSourceChanges": "false"})]),
        pw.Stage(name="Work", actions=[pw.Action(
            name="Slow", inputs=[src], action_type=pw.ActionType(category="Compute", provider="Commands"),
            commands=[
                "sleep 120 >/dev/null 2>&1 & echo background=$!",
                "setsid sleep 120 >/dev/null 2>&1 & echo escaped=$!",
                "echo started-slow",
                "sleep 60",
            ])]),
    ],
)
"""


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2 :].split()[0] not in (b"Z", b"X")


def test_ctrl_c_stops_the_run_and_ends_every_process_of_the_running_action(tmp_path: Path) -> None:
    """SIGINT in the main thread abandons the running action; its children, escaped ones included, are gone at exit."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "README").write_text("hello\n")
    (tmp_path / "slow.py").write_text(SLOW)
    runner = subprocess.Popen(
        [*_script(), "run", "slow.py", "--plain"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    pids: dict[str, int] = {}
    try:
        assert runner.stdout is not None
        seen = ""
        while "started-slow" not in seen:
            line = runner.stdout.readline()
            assert line, seen
            seen += line
            for name in ("background", "escaped"):
                if f"{name}=" in line:
                    pids[name] = int(line.rsplit("=", 1)[1])
        runner.send_signal(signal.SIGINT)
        rest, _ = runner.communicate(timeout=60)
    finally:
        if runner.poll() is None:
            runner.kill()
        leftovers = {name: pid for name, pid in pids.items() if alive(pid)}
        for pid in leftovers.values():
            subprocess.run(["kill", "-9", str(pid)], check=False)

    assert 1 == runner.returncode, seen + rest
    assert "Work/Slow: Abandoned" in seen + rest
    assert {"background", "escaped"} == set(pids)
    assert {} == leftovers
