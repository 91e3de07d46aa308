"""`pipeweaver triggers`, `watch` and `serve` as a user runs them (real subprocesses for the servers)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
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


def _spawn_serve(tmp_path: Path, target: Path, *extra: str) -> tuple[subprocess.Popen[str], int]:
    """`pipeweaver serve` on a free port of 127.0.0.1 with stdout and stderr kept apart."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeweaver",
            "serve",
            str(target),
            "--port",
            "0",
            "--workdir",
            str(tmp_path / "w"),
            *extra,
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "PIPEWEAVER_WEBHOOK_SECRET": "cli-secret"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="backslashreplace",
    )
    assert proc.stdout is not None
    _, found = _read_until(proc.stdout, r"listening on http://127\.0\.0\.1:(\d+)/")
    return proc, int(found.group(1))


def _answer(sock: socket.socket, budget: float = 5) -> bytes:
    sock.settimeout(budget)
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data


def test_serve_exits_within_its_grace_on_sigterm_with_64_slow_clients(tmp_path: Path, target: Path) -> None:
    """64 clients sending a header byte every 0.25 s fill every slot; a 65th gets 503; SIGTERM still exits at once."""
    proc, port = _spawn_serve(
        tmp_path,
        target,
        *("--grace", "1", "--max-connections", "64", "--max-per-client", "100"),
        *("--request-timeout", "60"),  # still arriving at SIGTERM, even on a loaded machine
    )
    stop = threading.Event()
    clients: list[socket.socket] = []

    def keep_trickling() -> None:
        for _ in range(80):  # at most 20 s, normally ended by stop
            for sock in clients:
                with contextlib.suppress(OSError):
                    sock.sendall(b"a")
            if stop.wait(0.25):
                return

    try:
        for _ in range(64):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Pad: ")
            clients.append(sock)
        trickler = threading.Thread(target=keep_trickling, daemon=True)
        trickler.start()
        extra = socket.create_connection(("127.0.0.1", port), timeout=5)
        starved = _answer(extra, 3)
        extra.close()
        began = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        elapsed = time.monotonic() - began
    finally:
        stop.set()
        proc.kill()
        for sock in clients:
            sock.close()

    assert starved.startswith(b"HTTP/1.1 503 "), starved
    assert elapsed < 1 + 3, (elapsed, out, err)  # --grace 1 plus a margin for a loaded machine
    assert 0 == proc.returncode
    assert "stopped: 0 deliveries, 1 connection(s) refused (too many at once), 64 request(s) cut off" in out
    assert "Traceback" not in err


def test_serve_shows_hostile_requests_escaped_and_survives_disconnects_without_tracebacks(
    tmp_path: Path, target: Path
) -> None:
    """ESC sequences in headers never reach the terminal raw, 401s are not logged to disk, resets print nothing."""
    proc, port = _spawn_serve(tmp_path, target)
    try:
        hostile = socket.create_connection(("127.0.0.1", port), timeout=5)
        body = b"\x1b[2J\x1b]0;owned\x07" * 4
        hostile.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: \x1b[2J\x1b]0;owned\x07\r\n"
            b"X-GitHub-Delivery: \x1b[31mred\x9b1m\r\nX-Hub-Signature-256: sha256=00\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body) + body
        )
        refused = _answer(hostile)
        hostile.close()
        for opening in (
            b"POST / HTTP/1.1\r\nHost: x\r\nX-Pad: a",  # reset while the headers arrive
            b"POST / HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\nContent-Length: 100\r\n\r\n{}",  # ... the body
        ):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(opening)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()  # linger 0: the server sees a reset, not a clean end
        gone = socket.create_connection(("127.0.0.1", port), timeout=5)
        gone.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\nContent-Length: 2\r\n\r\n{}")
        gone.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        gone.close()  # before the answer: the server's write fails
        ping = b"{}"
        last = socket.create_connection(("127.0.0.1", port), timeout=5)
        last.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: ping\r\nX-GitHub-Delivery: last\r\n"
            b"X-Hub-Signature-256: %s\r\nContent-Length: 2\r\n\r\n%s" % (sign("cli-secret", ping).encode(), ping)
        )
        pong = _answer(last)
        last.close()
        assert proc.stdout is not None
        shown, _ = _read_until(proc.stdout, r"^200 ping last: pong")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    printed = shown + out
    log = (tmp_path / "w" / "webhooks" / "deliveries.jsonl").read_text().splitlines()

    assert refused.startswith(b"HTTP/1.1 401 ")
    assert pong.startswith(b"HTTP/1.1 200 ")
    assert [] == [c for c in "\x1b\x07\x9b" if c in printed]
    assert "401 \\x1b[2J\\x1b]0;owned\\x07 \\x1b[31mred\\x9b1m: X-Hub-Signature-256 does not match" in printed
    assert "owned" not in "".join(log)
    assert ["last"] == [json.loads(line)["delivery"] for line in log]
    assert "Traceback" not in err, err
    assert 0 == proc.returncode
