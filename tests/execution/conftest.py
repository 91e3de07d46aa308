"""Helpers for executor tests: real git repositories in tmp folders and small pipelines."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

import pipeweaver as pw

ROLE = "arn:aws:iam::123456789012:role/pipeline"
CONNECTION = "arn:aws:codeconnections:us-east-1:123456789012:connection/abc"

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ada",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
    "PATH": "/usr/bin:/bin:/usr/local/bin",
    "HOME": "/tmp",
}


def git(repo: Path, *args: str) -> str:
    """Run git in *repo* and return its stdout."""
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=GIT_ENV
    ).stdout.strip()


def commit(repo: Path, files: Mapping[str, str], message: str) -> str:
    """Write *files* into *repo*, commit them, return the commit id."""
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture(name="repo")
def _repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    commit(path, {"app.py": "print('hello')\n", "README.md": "demo\n"}, "initial commit")
    return path


def source_action(name: str = "Source", namespace: str = "SourceVariables", out: str = "SourceOutput") -> pw.Action:
    """A CodeStarSourceConnection source action on branch main."""
    return pw.Action(
        name=name,
        action_type=pw.ActionType(category="Source", provider="CodeStarSourceConnection"),
        configuration={"ConnectionArn": CONNECTION, "FullRepositoryId": "acme/web", "BranchName": "main"},
        outputs=[pw.Artifact(out)],
        namespace=namespace,
    )


def commands(name: str, cmds: list[str], *, inputs: list[pw.Artifact], run_order: int = 1, **kw: object) -> pw.Action:
    """A Commands (Compute) action."""
    return pw.Action(
        name=name,
        action_type=pw.ActionType(category="Compute", provider="Commands"),
        commands=cmds,
        inputs=inputs,
        run_order=run_order,
        **kw,  # type: ignore[arg-type]
    )


def custom(name: str, provider: str = "Fake", *, run_order: int = 1, **kw: object) -> pw.Action:
    """A Custom-owner Build action (run by a handler registered in the test)."""
    return pw.Action(
        name=name,
        action_type=pw.ActionType(category="Build", owner="Custom", provider=provider),
        run_order=run_order,
        **kw,  # type: ignore[arg-type]
    )


def approval(name: str = "Approve", **kw: object) -> pw.Action:
    """A manual approval action."""
    return pw.Action(name=name, action_type=pw.ActionType(category="Approval", provider="Manual"), **kw)  # type: ignore[arg-type]


def pipeline(*stages: pw.Stage, name: str = "demo", **kw: object) -> pw.Pipeline:
    """A V2 pipeline with an artifact bucket."""
    return pw.Pipeline(
        name=name,
        role_arn=ROLE,
        artifact_store=pw.ArtifactStore(location="artifact-bucket"),
        pipeline_type="V2",
        stages=stages,
        **kw,  # type: ignore[arg-type]
    )


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll *predicate* (test code only) until it holds or fail after *timeout* seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)
