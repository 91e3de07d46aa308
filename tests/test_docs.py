"""The documentation builds without warnings, its examples run, and the CLI page names every command."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
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


_BLOCK = re.compile(r"^```(\{code-block\} )?(\S*)\n(?::caption: (\S+)\n\n)?(.*?)^```$", re.S | re.M)


def _steps(page: str) -> list[tuple[str, str, str]]:
    """The page's files to write and console sessions to run, in order: (kind, name, text)."""
    steps: list[tuple[str, str, str]] = []
    for directive, language, caption, body in _BLOCK.findall((DOCS / page).read_text()):
        if directive and caption:
            steps.append(("file", caption, body))
        elif language == "console":
            steps.append(("console", "", body))
    return steps


def _expected(lines: list[str]) -> re.Pattern[str]:
    """A pattern for a command's output: ``...`` in a line is any text; a line that is only ``...`` any lines."""
    parts = [
        r"(?:[^\n]*\n)*?" if line == "..." else re.escape(line).replace(re.escape("..."), "[^\n]*") + r"\n"
        for line in lines
    ]
    return re.compile("".join(parts))


def _sessions(console: str) -> list[tuple[str, list[str]]]:
    sessions: list[tuple[str, list[str]]] = []
    for line in console.splitlines():
        if line.startswith("$ "):
            sessions.append((line[2:], []))
        else:
            sessions[-1][1].append(line)
    return sessions


def test_first_hour_page_runs_as_written(tmp_path: Path) -> None:
    """docs/first-hour.md: every file written and every command run in an empty folder prints what the page shows."""
    steps = _steps("first-hour.md")
    bin_dir = Path(sys.executable).parent
    # The page's `python3`, `pipeweaver` and pytest are this interpreter's; AWS sees no profile or region.
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "NO_COLOR": "1",
        "COLUMNS": "80",
        "LANG": "C.UTF-8",
        **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}),
    }
    project = tmp_path / "project"
    project.mkdir()
    ran: list[str] = []
    for kind, name, text in steps:
        if kind == "file":
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            (project / name).write_text(text)
            continue
        for command, lines in _sessions(text):
            done = subprocess.run(
                ["bash", "-c", command], cwd=project, env=env, capture_output=True, text=True, timeout=300
            )
            printed = "".join(f"{line.rstrip()}\n" for line in (done.stdout + done.stderr).splitlines())
            assert _expected(lines).fullmatch(printed), (
                f"$ {command}\n--- the page shows:\n" + "\n".join(lines) + f"\n--- it printed:\n{printed}"
            )
            ran.append(command)

    # The page keeps walking the whole first hour: each of these steps is on it, and ran.
    assert {"validate", "graph", "run", "history", "synth", "diff"} == {
        c.split()[1] for c in ran if c.startswith("pipeweaver ")
    }
    assert any(c.startswith("python3 -m pytest") for c in ran)


def test_rollback_pattern_runs_as_written(tmp_path: Path) -> None:
    """The unit-test how-to's rollback test passes under pytest, as a reader would run it."""
    (code,) = [block for block in _python_blocks("howto/unit-test.md") if "assert_rolled_back(" in block]
    (tmp_path / "test_rollback.py").write_text(code)
    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", "test_rollback.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert 0 == tested.returncode, tested.stdout + tested.stderr
    assert "1 passed" in tested.stdout


@pytest.mark.parametrize("page", ["first-hour.md", "tutorial.md"])
def test_install_step_installs_what_the_page_runs(page: str) -> None:
    """A page that runs pytest installs it in its install step (a fresh venv has pipeweaver's dependencies only)."""
    text = (DOCS / page).read_text()
    install = next(line for line in text.splitlines() if "pip install" in line)

    assert "python3 -m pytest" in text
    assert "pytest" in install.split("#")[0].split()


def test_readme_commands_run_as_written(tmp_path: Path) -> None:
    """README's command-line block is true: from a copy of the clone each command works (deploy, without AWS, says
    what to set)."""
    root = DOCS.parent
    block = re.search(r"## The command line\n.*?```console\n(.*?)```", (root / "README.md").read_text(), re.S)
    assert block is not None
    shutil.copytree(root / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    bin_dir = Path(sys.executable).parent
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "NO_COLOR": "1",
        **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}),
    }
    commands = [line[2:] for line in block.group(1).splitlines() if line.startswith("$ ")]
    assert 7 == len(commands)
    for command in commands:
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=300,
        )
        if command.startswith("pipeweaver deploy"):
            assert (1, True) == (done.returncode, "no AWS region is configured" in done.stderr), done.stderr
        else:
            assert 0 == done.returncode, f"$ {command}\n{done.stdout}{done.stderr}"
    for written in ("release.svg", "report.html", "template.json", "release.py"):
        assert (tmp_path / written).stat().st_size > 0, written


def test_cli_page_names_every_command() -> None:
    """docs/cli.md mentions every registered subcommand, so the page cannot silently fall behind."""
    page = (DOCS / "cli.md").read_text()
    names = main.list_commands(click.Context(main))
    missing = [name for name in names if f"`{name}" not in page]

    assert [] == missing
