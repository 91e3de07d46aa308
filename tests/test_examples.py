"""Every example in examples/ runs, as a real subprocess, and exits 0."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.name)
def test_example_runs(path: Path, tmp_path: Path) -> None:
    """The example script exits 0 and prints something."""
    if path.name.startswith("test_"):
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=300,
        )
    else:
        result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, cwd=tmp_path, timeout=300)

    assert 0 == result.returncode, result.stdout + result.stderr
    assert result.stdout.strip()


def test_every_pipeline_example_validates_from_the_cli(tmp_path: Path) -> None:
    """`pipeweaver validate examples/*.py` checks each pipeline example (none skipped) and finds no error."""
    scripts = sorted(EXAMPLES.glob("*.py"))
    result = subprocess.run(
        [sys.executable, "-m", "pipeweaver", "validate", *map(str, scripts)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    skipped = {
        line.split(":")[0] for line in result.stdout.splitlines() if line.endswith("skipped, defines no pipeline")
    }

    assert 0 == result.returncode, result.stdout + result.stderr
    # Only the test files and the worker (which serves jobs, not a pipeline) hold no pipeline.
    assert {
        str(EXAMPLES / n) for n in ("custom_action_worker.py", "test_custom_action.py", "test_release_policy.py")
    } == skipped
