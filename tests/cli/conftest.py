"""Run the real ``pipeweaver`` console script in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest


def _script() -> list[str]:
    beside = Path(sys.executable).parent / "pipeweaver"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("pipeweaver")
    return [found] if found else [sys.executable, "-m", "pipeweaver"]


Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(name="cli")
def _cli(tmp_path: Path) -> Cli:
    def run(
        *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
        full_env.pop("PIPEWEAVER_DEBUG", None)
        return subprocess.run(
            [*_script(), *args],
            capture_output=True,
            text=True,
            cwd=cwd or tmp_path,
            env=full_env,
            input=stdin,
            timeout=120,
        )

    return run
