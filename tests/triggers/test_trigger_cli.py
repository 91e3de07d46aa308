"""`pipeweaver triggers`, `watch` and `serve` as a user runs them (real subprocesses for the servers)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO

import pytest
from click.testing import CliRunner

from pipeweaver.cli import main
from pipeweaver.execution._webhook import sign

from .test_trigger_serve import push_payload
from .test_trigger_watch import commit, git

PIPELINE = """
import pipeweaver as pw

src = pw.Artifact("SourceOutput")
pipeline = pw.Pipeline(
    name="cli-triggers",
    role_arn="arn:aws:iam::123456789012:role/PipelineRole",
    artifact_store=pw.ArtifactStore(location="my-artifact-bucket"),
    pipeline_type="V2",
    execution_mode="QUEUED",
    stages=[
        pw.Stage(name="Source", actions=[pw.Action(
            name="ApplicationSource",
            action_type=pw.ActionType(category="Source", provider="CodeStarSourceConnection"),
            configuration={
                "ConnectionArn": "arn:aws:codeconnections:us-east-1:123456789012:connection/abc",
                "FullRepositoryId": "acme/monorepo-example",
                "BranchName": "mainline",
            },
            outputs=[src],
        )]),
        pw.Stage(name="Build", actions=[pw.Action(
            name="Build",
            action_type=pw.ActionType(category="Compute", provider="Commands"),
            commands=["test -f services/api/app.py"],
            inputs=[src],
        )]),
    ],
    triggers=[pw.Trigger(
        source_action_name="ApplicationSource",
        push=[pw.GitPushFilter(branches=["mainline", "release/**"], file_paths=["services/api/**"])],
    )],
)
"""


@pytest.fixture(name="target")
def _target(tmp_path: Path) -> Path:
    path = tmp_path / "pipeline.py"
    path.write_text(PIPELINE)
    return path


@pytest.fixture(name="repo")
def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "mainline")
    git(repo, "config", "user.email", "d@example.com")
    git(repo, "config", "user.name", "D")
    commit(repo, {"README.md": "x\n"})
    return repo


def test_triggers_command_answers_the_monorepo_question(target: Path) -> None:
    """`triggers` says a push to release/1.2 touching services/api starts, and a docs change does not."""
    runner = CliRunner()
    yes = runner.invoke(main, ["triggers", str(target), "--branch", "release/1.2", "--file", "services/api/app.py"])
    no = runner.invoke(
        main, ["triggers", str(target), "--branch", "release/1.2", "--file", "docs/x.md", "--format", "json"]
    )

    assert 0 == yes.exit_code
    assert yes.output.startswith("STARTS: push[0] of 'ApplicationSource' matched")
    assert 1 == no.exit_code
    assert False is json.loads(no.output)["starts"]


def test_triggers_command_needs_one_event(target: Path) -> None:
    """Giving both a branch and a tag is a usage error, not a traceback."""
    result = CliRunner().invoke(main, ["triggers", str(target), "--branch", "a", "--tag", "b"])

    assert 2 == result.exit_code
    assert "exactly one of --branch, --tag or --pull-request" in result.output


def _spawn(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeweaver", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _read_until(stream: IO[str], pattern: str, timeout: float = 30) -> tuple[str, re.Match[str]]:
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        seen += line
        found = re.search(pattern, line)
        if found:
            return seen, found
    raise AssertionError(f"no line matching {pattern!r}; output so far:\n{seen}")


def test_serve_starts_a_signed_push_and_stops_gracefully_on_sigterm(tmp_path: Path, target: Path, repo: Path) -> None:
    """`serve` on 127.0.0.1: a signed matching push starts a run that finishes; SIGTERM exits 0."""
    sha = commit(repo, {"services/api/app.py": "print(1)\n"})
    proc = _spawn(
        [
            "serve",
            str(target),
            "--port",
            "0",
            "--source",
            f"ApplicationSource={repo}",
            "--workdir",
            str(tmp_path / "w"),
        ],
        tmp_path,
        {"PIPEWEAVER_WEBHOOK_SECRET": "cli-secret"},
    )
    try:
        assert proc.stdout is not None
        _, found = _read_until(proc.stdout, r"listening on (http://127\.0\.0\.1:\d+/)")
        body = json.dumps(push_payload(["services/api/app.py"], after=sha)).encode()
        request = urllib.request.Request(
            found.group(1),
            data=body,
            headers={
                "X-GitHub-Event": "push",
                "X-Hub-Signature-256": sign("cli-secret", body),
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            status = response.status
        _read_until(proc.stdout, r"^202 push")
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()

    assert 202 == status
    assert 0 == proc.returncode
    assert "1 execution(s) started; finished: Succeeded: 1; still running: 0" in out


def test_serve_refuses_to_start_without_a_secret(tmp_path: Path, target: Path) -> None:
    """Without the secret variable and without --allow-unsigned, serve exits with a usage error."""
    env = {k: v for k, v in os.environ.items() if k != "PIPEWEAVER_WEBHOOK_SECRET"}
    result = CliRunner(env=env).invoke(main, ["serve", str(target), "--workdir", str(tmp_path)])

    assert 2 == result.exit_code
    assert "PIPEWEAVER_WEBHOOK_SECRET" in result.output


def test_watch_starts_on_a_new_commit_and_stops_on_sigterm(tmp_path: Path, target: Path, repo: Path) -> None:
    """`watch` polls the repository, starts one run for a matching commit, and exits 0 on SIGTERM."""
    proc = _spawn(
        [
            "watch",
            str(target),
            "--source",
            f"ApplicationSource={repo}",
            "--interval",
            "0.2",
            "--workdir",
            str(tmp_path / "w"),
        ],
        tmp_path,
        {},
    )
    try:
        assert proc.stdout is not None
        _read_until(proc.stdout, r"^watching ")
        time.sleep(1.0)  # let the first poll record the baseline
        sha = commit(repo, {"services/api/app.py": "print(2)\n"})
        _, found = _read_until(proc.stdout, r"^start ApplicationSource at (\w+)")
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()

    assert sha == found.group(1)
    assert 0 == proc.returncode
    assert "1 execution(s) started; finished: Succeeded: 1; still running: 0" in out


def test_watch_rejects_a_bad_schedule_readably(tmp_path: Path, target: Path) -> None:
    """A malformed cron expression is one readable error line, not a traceback."""
    result = CliRunner().invoke(main, ["watch", str(target), "--schedule", "61 * * * *", "--workdir", str(tmp_path)])

    assert 0 != result.exit_code
    assert "minute 61 is outside 0-59" in result.output
    assert "Traceback" not in result.output
