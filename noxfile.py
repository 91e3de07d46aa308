"""nox is the single entry point for tests, linting, typing, docs, examples and benchmarks."""

from __future__ import annotations

import nox

nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_external_run = True
nox.options.sessions = ["tests", "lint", "typecheck", "docs", "examples"]


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (pass extra pytest arguments after `--`)."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("-e", ".[lint]")
    session.run("ruff", "check", "src", "tests", "examples", "bench", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "examples", "bench", "noxfile.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package and the noxfile."""
    session.install("-e", ".[typing]")
    session.run("mypy")
    session.run("mypy", "--strict", "noxfile.py")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the docs with warnings as errors."""
    session.install("-e", ".[docs]")
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html")


@nox.session
def report(session: nox.Session) -> None:
    """Render an execution report in headless Chromium (installs Debian's chromium when run as root)."""
    import os
    import shutil

    if shutil.which("chromium") is None and hasattr(os, "geteuid") and os.geteuid() == 0:
        session.run("apt-get", "update", external=True)
        session.run("apt-get", "install", "-y", "chromium", external=True)
    if shutil.which("chromium") is None:
        session.error("chromium is not installed: run `apt-get install -y chromium` as root, then retry")
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", "tests/test_report.py", *session.posargs)


@nox.session
def examples(session: nox.Session) -> None:
    """Run every example script (the test suite runs them too)."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", "tests/test_examples.py")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks: a fresh process per sample, contenders interleaved (options after `--`)."""
    session.install("-e", ".[bench]")
    session.run("python", "bench/run.py", *session.posargs)


@nox.session
def fuzz(session: nox.Session) -> None:
    """The fuzz suites at 100,000 examples each (the test session runs 1,000)."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", "tests/fuzz", *session.posargs, env={"PIPEWEAVER_FUZZ_EXAMPLES": "100000"})
