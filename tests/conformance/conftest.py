"""Shared builders for the conformance tests: an S3 source stage, then the stage under test;
real git repositories and CodeBuild actions."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pipeweaver as pw

SRC = pw.Artifact("Src")


def source_then(*stages: pw.Stage, **pipeline: Any) -> pw.Pipeline:
    """A pipeline whose first stage is an S3 source producing ``Src``, then *stages*."""
    source = pw.Action(
        name="Source",
        action_type=pw.ActionType(category="Source", provider="S3"),
        configuration={"S3Bucket": "b", "S3ObjectKey": "k.zip", "PollForSourceChanges": "false"},
        outputs=[SRC],
    )
    return pw.Pipeline(
        name=pipeline.pop("name", "p"),
        role_arn="arn:aws:iam::123456789012:role/p",
        artifact_store=pw.ArtifactStore(location="bucket"),
        stages=[pw.Stage(name="Source", actions=[source]), *stages],
        **pipeline,
    )


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


def git_repo(path: Path, files: Mapping[str, str], message: str = "initial commit") -> str:
    """Make (or add to) the repository at *path* on branch main; commit *files*; return the commit id."""
    if not (path / ".git").exists():
        path.mkdir(parents=True, exist_ok=True)
        git(path, "init", "-q", "-b", "main")
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    git(path, "add", "-A")
    # From a file: a long message does not fit in one command-line argument.
    message_file = path / ".git" / "PW_MESSAGE"
    message_file.write_text(message)
    git(path, "commit", "-q", "-F", str(message_file))
    return git(path, "rev-parse", "HEAD")


def git_source(name: str = "Source", out: pw.Artifact = SRC, **configuration: str) -> pw.Action:
    """A CodeStarSourceConnection source action on branch main (namespace ``<name>Vars``)."""
    return pw.Action(
        name=name,
        action_type=pw.ActionType(category="Source", provider="CodeStarSourceConnection"),
        configuration={
            "ConnectionArn": "arn:aws:codeconnections:us-east-1:123456789012:connection/abc",
            "FullRepositoryId": "acme/web",
            "BranchName": "main",
            **configuration,
        },
        outputs=[out],
        namespace=f"{name}Vars",
    )


def pipeline_of(*stages: pw.Stage, **pipeline: Any) -> pw.Pipeline:
    """A pipeline of *stages* (the first holds the sources)."""
    return pw.Pipeline(
        name=pipeline.pop("name", "p"),
        role_arn="arn:aws:iam::123456789012:role/p",
        artifact_store=pipeline.pop("artifact_store", pw.ArtifactStore(location="bucket")),
        stages=list(stages),
        **pipeline,
    )


def codebuild(
    name: str = "Build", *, inputs: list[pw.Artifact], outputs: tuple[pw.Artifact, ...] = (), **kw: Any
) -> pw.Action:
    """A CodeBuild build action of project ``app`` (namespace ``BuildVars``)."""
    return pw.Action(
        name=name,
        action_type=pw.ActionType(category="Build", provider="CodeBuild"),
        configuration={"ProjectName": "app", **kw.pop("configuration", {})},
        inputs=inputs,
        outputs=list(outputs),
        namespace=kw.pop("namespace", "BuildVars"),
        **kw,
    )


def log_of(record: Any) -> list[str]:
    """The lines of an action's log."""
    return Path(record.log_file or "").read_text().splitlines() if record.log_file else []
