"""deploy, diff, fetch and worker as real subprocesses, against moto's server on 127.0.0.1 (no AWS account)."""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import Cli

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "examples" / "quickstart.py"
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_MAX_ATTEMPTS": "1",
}

needs_moto_server = pytest.mark.skipif(
    importlib.util.find_spec("flask") is None or importlib.util.find_spec("moto") is None,
    reason="needs moto's server mode (pip install 'moto[server]')",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(name="endpoint")
def _endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        for key, value in FAKE_AWS.items():
            monkeypatch.setenv(key, value)
        import boto3

        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "codepipeline.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
        boto3.client("iam", endpoint_url=url).create_role(
            RoleName="PipelineRole", AssumeRolePolicyDocument=json.dumps(trust)
        )
        yield url
    finally:
        server.terminate()
        server.wait(10)


@needs_moto_server
def test_deploy_is_idempotent_and_diff_names_the_change(cli: Cli, endpoint: str, tmp_path: Path) -> None:
    """deploy creates, a second deploy sends nothing, diff exits 1 naming the changed path, deploy updates."""
    target = tmp_path / "release.py"
    target.write_text(QUICKSTART.read_text())
    (tmp_path / "app").mkdir()
    env = FAKE_AWS
    created = cli("deploy", str(target), "--endpoint-url", endpoint, env=env)
    again = cli("deploy", str(target), "--endpoint-url", endpoint, env=env)
    same = cli("diff", str(target), "--endpoint-url", endpoint, env=env)
    target.write_text(target.read_text().replace('stack_name="greeting"', 'stack_name="greeting-v2"'))
    changed = cli("diff", str(target), "--endpoint-url", endpoint, env=env)
    updated = cli("deploy", str(target), "--endpoint-url", endpoint, env=env)

    assert (0, "created pipeline greeting-release (version 1)") == (created.returncode, created.stdout.strip())
    assert "is up to date (version 1); nothing sent" in again.stdout
    assert 0 == same.returncode
    assert 1 == changed.returncode
    assert "stages[3].actions[0].configuration.StackName" in changed.stdout
    assert (0, True) == (updated.returncode, "updated pipeline greeting-release to version 2" in updated.stdout)


@needs_moto_server
def test_fetch_as_json_and_python(cli: Cli, endpoint: str, tmp_path: Path) -> None:
    """fetch writes the live pipeline as get-pipeline JSON or as Python that rebuilds it."""
    cli("deploy", str(QUICKSTART), "--endpoint-url", endpoint, env=FAKE_AWS)
    as_json = cli("fetch", "greeting-release", "--endpoint-url", endpoint, "-o", str(tmp_path / "p.json"), env=FAKE_AWS)
    as_python = cli("fetch", "greeting-release", "--format", "python", "--endpoint-url", endpoint, env=FAKE_AWS)
    missing = cli("fetch", "nope", "--endpoint-url", endpoint, env=FAKE_AWS)

    assert 0 == as_json.returncode, as_json.stderr
    assert "greeting-release" == json.loads((tmp_path / "p.json").read_text())["pipeline"]["name"]
    assert 0 == as_python.returncode, as_python.stderr
    assert "pw.Pipeline(" in as_python.stdout
    assert 1 == missing.returncode
    assert "PipelineNotFoundException" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_deploy_refuses_an_invalid_pipeline_before_calling_aws(cli: Cli, tmp_path: Path) -> None:
    """An invalid pipeline is refused with its issues; no endpoint is contacted (the URL is unroutable)."""
    (tmp_path / "bad.json").write_text(
        json.dumps(
            {
                "name": "bad",
                "roleArn": "arn:aws:iam::123456789012:role/R",
                "artifactStore": {"type": "S3", "location": "bucket-x"},
                "stages": [{"name": "Only", "actions": []}],
            }
        )
    )
    result = cli("deploy", str(tmp_path / "bad.json"), "--endpoint-url", "http://127.0.0.1:9", env=FAKE_AWS)

    assert 1 == result.returncode
    assert "pipeline bad was not deployed: it has 2 error(s)" in result.stderr
    assert "[PW106]" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_endpoint_is_one_message(cli: Cli) -> None:
    """A connection failure is reported as one AWS error line, exit 1."""
    result = cli("fetch", "web", "--endpoint-url", "http://127.0.0.1:9", env=FAKE_AWS)

    assert 1 == result.returncode
    assert result.stderr.startswith("Error: AWS: GetPipeline failed")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("ref", "needle"),
    [
        ("no_colon", "expected MODULE:HANDLER"),
        ("handlers.py:run", "give a module name"),
        ("no_such_module_xyz:run", "cannot import module 'no_such_module_xyz'"),
        ("json:no_such_handler", "module 'json' has no callable 'no_such_handler'"),
    ],
)
def test_worker_reference_errors(cli: Cli, tmp_path: Path, ref: str, needle: str) -> None:
    """worker explains a bad MODULE:HANDLER with exit 2 before touching AWS."""
    (tmp_path / "handlers.py").write_text("def run(context):\n    return None\n")
    result = cli("worker", ref, "--provider", "Scan", env=FAKE_AWS)

    assert 2 == result.returncode, result.stderr
    assert needle in result.stderr


@pytest.mark.parametrize("command", ["diff", "deploy", "fetch", "worker", "worker --once"])
def test_missing_region_is_one_clean_line(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """With no region anywhere boto3 looks, the AWS commands say how to set one (not 'internal error')."""
    for key in ("AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    # botocore does not read AWS_REGION: with it set there is still no region, so it is not named.
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    (tmp_path / "handlers.py").write_text("def run(context):\n    return None\n")
    if command.startswith("worker"):
        # Without a region the worker used to poll (and fail) for ever: it must end at once.
        args = [*command.split(), "handlers:run", "--provider", "Scan", "--poll-interval", "0.1"]
    else:
        args = [command, "web" if command == "fetch" else str(QUICKSTART)]
    result = cli(*args)
    assert 1 == result.returncode, result.stderr
    assert "internal error" not in result.stderr
    assert "Traceback" not in result.stderr
    assert "no AWS region is configured" in result.stderr
    assert "--region" in result.stderr
    assert "set AWS_DEFAULT_REGION, or set a region in your AWS profile" in result.stderr
    assert "AWS_REGION" not in result.stderr
    assert 1 == len(result.stderr.strip().splitlines()), result.stderr
