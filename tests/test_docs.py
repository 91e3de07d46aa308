"""The documentation builds without warnings, its examples run, and the CLI page names every command."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipeweaver.cli import main

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _python_blocks(page: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), re.S)


@pytest.mark.skipif(
    importlib.util.find_spec("sphinx") is None or importlib.util.find_spec("myst_parser") is None,
    reason="needs the docs extra: pip install -e '.[docs]'",
)
def test_docs_build_with_warnings_as_errors(tmp_path: Path) -> None:
    """`sphinx-build -W --keep-going` succeeds on docs/ (the same command as `nox -s docs`)."""
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(DOCS), str(tmp_path / "html")],
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert 0 == result.returncode, result.stdout + result.stderr
    assert (tmp_path / "html" / "tutorial.html").exists()


def test_index_example_builds_a_valid_pipeline() -> None:
    """The 20-line example on the front page runs and validates."""
    (code,) = _python_blocks("index.md")
    namespace: dict[str, object] = {}
    exec(compile(code, "docs/index.md", "exec"), namespace)

    assert 20 >= len(code.strip().splitlines())
    assert "web" == getattr(namespace["pipeline"], "name", None)


def test_tutorial_runs_as_written(tmp_path: Path) -> None:
    """The tutorial's pipeline validates and runs, and its test passes, as the page tells the reader to do."""
    pipeline_code, test_code = _python_blocks("tutorial.md")[:2]
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "index.html").write_text("<h1>hi</h1>\n")
    (tmp_path / "release.py").write_text(pipeline_code)
    (tmp_path / "test_release.py").write_text(test_code)
    script = [sys.executable, "-m", "pipeweaver"]

    validated = subprocess.run([*script, "validate", "release.py"], cwd=tmp_path, capture_output=True, text=True)
    ran = subprocess.run(
        [*script, "run", "release.py", "--approve", "auto"], cwd=tmp_path, capture_output=True, text=True
    )
    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_release.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )

    assert (0, "0 error(s)") == (validated.returncode, validated.stdout.splitlines()[-1][:10])
    assert 0 == ran.returncode, ran.stdout + ran.stderr
    assert 0 == tested.returncode, tested.stdout


def test_cli_page_names_every_command() -> None:
    """docs/cli.md mentions every registered subcommand, so the page cannot silently fall behind."""
    page = (DOCS / "cli.md").read_text()
    missing = [name for name in main.commands if f"`{name}" not in page]

    assert [] == missing
