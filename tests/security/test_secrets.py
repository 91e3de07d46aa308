"""Secret canaries: never in logs, history, reports, reprs, events or CLI output, raw or encoded.

A run uses every kind of secret the local executor knows: SECRETS_MANAGER environment
variables (plain and ``name:json-key``), a secret configuration property (GitHub's
``OAuthToken``) and secrets a handler sees and echoes, logs, returns and raises. Each canary
contains characters that JSON, HTML and URL encoding change, plus a unique core; every
artifact of the run is searched for the raw value, its encoded forms and the bare core.
"""

from __future__ import annotations

import base64
import hmac
import html
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from hashlib import sha256
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

import pipeweaver as pw
from pipeweaver.execution import ActionContext, ActionFailed, ActionResult, Event, ExecutionStatus, LocalExecutor
from pipeweaver.report import render_html

CANARIES = {
    "sm": "sm-\"<&>'/+ \u00e9-CANARYsm7f3a",
    "json": 'js-CANARYjs91\\n"x"',
    "token": 'gho_CANARYtok55"&<>',
    "handler": "hd-CANARYhd42 &amp; %20",
    # a key logged line by line: each base64 line is masked on its own (see pipeweaver._masking)
    "pem": "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7x9Zq3Lk2s8Xy0Wv1\n"
    "Ut2Rs3Qp4On5Ml6Kj7CANARYpem58Ih8Gf9EdAb3xYcZ0dW1eV2fU3gT4hS5iR6jQ7kP8\n"
    "lO9mN0==\n"
    "-----END PRIVATE KEY-----\n",
}

#: Tokens in the environment of the process running pipeweaver: no action may see them.
HOST_CANARIES = {
    "AWS_SECRET_ACCESS_KEY": "aws-CANARYaws31",
    "GITHUB_TOKEN": "ghp_CANARYgh77",
    "PIPEWEAVER_WEBHOOK_SECRET": "wh-CANARYwh19",
}


def encodings(value: str) -> dict[str, str]:
    """The forms a leaked value could take once something encodes it."""
    # the unique alphanumeric run around CANARY: survives any escaping of the characters around it
    [core] = re.findall(r"[A-Za-z0-9]*CANARY[A-Za-z0-9]*", value)
    raw = value.encode()
    lines = {
        f"line{i}": line.strip()
        for i, line in enumerate(value.splitlines())
        if len(line.strip()) >= 8 and not any(c.isspace() for c in line.strip())
    }
    return {
        **(lines if len(value.splitlines()) > 1 else {}),
        "raw": value,
        "core": core,
        "json": json.dumps(value)[1:-1],
        "json-ascii": json.dumps(value, ensure_ascii=True)[1:-1],
        "html": html.escape(value),
        "url": quote(value),
        "url-plus": quote_plus(value),
        "base64": base64.b64encode(raw).decode(),
        "base64-url": base64.urlsafe_b64encode(raw).decode(),
    }


def hits(where: str, text: str, canaries: dict[str, str] | None = None) -> list[str]:
    return [
        f"{where}: {name}/{form}"
        for name, value in (CANARIES if canaries is None else canaries).items()
        for form, enc in encodings(value).items()
        if enc in text
    ]


def own_sources() -> dict[str, str]:
    """PYTHONPATH, so that a `python -m pipeweaver` child runs the sources under test."""
    return {"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}


def scan_tree(root: Path, canaries: dict[str, str] | None = None) -> list[str]:
    out = []
    for path in sorted(root.rglob("*")):
        if path.is_file():
            out += hits(str(path.relative_to(root)), path.read_bytes().decode("utf-8", errors="replace"), canaries)
    return out


def scan_history(db: Path, canaries: dict[str, str] | None = None) -> list[str]:
    con = sqlite3.connect(db)
    try:
        return hits("history rows", "\n".join(con.iterdump()), canaries)
    finally:
        con.close()


@pytest.fixture(name="repo")
def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {"GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@x", "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@x"}
    env |= {"PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": "/tmp"}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "init"]):
        if args[0] == "add":
            (repo / "app.txt").write_text("app\n")
        subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)
    return repo


HANDLER = pw.ActionType(category="Build", owner="Custom", provider="Leaky", version="1")
FAILING = pw.ActionType(category="Test", owner="Custom", provider="LeakyFail", version="1")


def secret_pipeline() -> pw.Pipeline:
    compute = pw.ActionType(category="Compute", provider="Commands")
    source = pw.Action(
        name="Source",
        action_type=pw.ActionType(category="Source", owner="ThirdParty", provider="GitHub", version="1"),
        configuration={
            "Owner": "acme",
            "Repo": "web",
            "Branch": "main",
            "OAuthToken": CANARIES["token"],
            "PollForSourceChanges": "false",
        },
        outputs=[pw.Artifact("Code")],
        namespace="SourceVariables",
    )
    commands = pw.Action(
        name="UseSecrets",
        action_type=compute,
        inputs=[source.outputs[0]],
        environment_variables=[
            pw.EnvironmentVariable(name="DB_PASS", value="prod/db", type="SECRETS_MANAGER"),
            pw.EnvironmentVariable(name="DB_JSON", value="prod/json:password", type="SECRETS_MANAGER"),
            pw.EnvironmentVariable(name="KEY", value="prod/pem", type="SECRETS_MANAGER"),
        ],
        commands=[
            'echo "pass=$DB_PASS"',
            'echo "json=$DB_JSON" >&2',
            'printf "%s\\n%s\\n" "$DB_PASS" "$DB_JSON"',
            'printf "%s" "$KEY"',  # the PEM reaches the log one line at a time
            'printf "%s" "$DB_PASS" | base64 -w0; echo',
            "printf '%s' \"$DB_JSON\" | base64 -w0 | tr '+/' '-_' | tr -d '='; echo",
            "printf 'user:%s' \"$DB_PASS\" | base64 -w0; echo",
            "env",  # the host's tokens are not in it (HOST_CANARIES)
            'export LEAK="$DB_PASS"',
        ],
        output_variables=["LEAK"],
        namespace="Used",
    )
    leaky = pw.Action(name="Leaky", action_type=HANDLER, inputs=[source.outputs[0]], namespace="LeakyVars")
    failing = pw.Action(name="LeakyFail", action_type=FAILING, run_order=2)
    return pw.Pipeline(
        name="secrets",
        role_arn="arn:aws:iam::123456789012:role/pipeline",
        artifact_store=pw.ArtifactStore(location="artifact-bucket"),
        pipeline_type="V2",
        stages=[
            pw.Stage(name="Source", actions=[source]),
            pw.Stage(name="Build", actions=[commands, leaky, failing]),
        ],
    )


def test_secret_canaries_never_leak(tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every canary is absent, raw, encoded or line by line, from logs, history, report, reprs, events and CLI output."""
    reprs: list[str] = []
    events: list[Event] = []
    for name, value in HOST_CANARIES.items():
        monkeypatch.setenv(name, value)

    def leaky(ctx: ActionContext) -> ActionResult:
        secret = ctx.environment.get("X") or CANARIES["handler"]
        reprs.extend([repr(ctx), str(ctx), repr(ctx.configuration), repr(ctx.environment)])
        ctx.log(f"handler sees {secret} and {CANARIES['sm']}")
        for line in CANARIES["pem"].splitlines():
            ctx.log(line)
        ctx.log(json.dumps({"token": CANARIES["handler"], "key": CANARIES["pem"]}))
        ctx.log(f"https://example.com/?t={quote(CANARIES['sm'])}&u={quote_plus(CANARIES['handler'])}")
        ctx.log(base64.urlsafe_b64encode(CANARIES["sm"].encode()).decode().rstrip("="))
        return ActionResult(output_variables={"TOKEN": secret}, summary=f"used {secret}")

    def failing(ctx: ActionContext) -> None:
        raise ActionFailed(f"could not log in with {CANARIES['handler']} / {CANARIES['sm']}")

    workdir = tmp_path / "wd"
    pipeline = secret_pipeline()
    x = LocalExecutor(
        workdir,
        sources={"Source": repo},
        handlers={HANDLER: leaky, FAILING: failing},
        secrets={
            "prod/db": CANARIES["sm"],
            "prod/json": json.dumps({"password": CANARIES["json"]}),
            "handler": CANARIES["handler"],
            "prod/pem": CANARIES["pem"],
        },
        observers=[events.append],
    )
    try:
        execution = x.run(pipeline)
        reprs += [repr(execution), str(execution), repr(x), repr(x.execution(execution.id))]
        reprs += [repr(pipeline), str(pipeline), repr(pipeline.stages[0].actions[0])]
        reprs += [repr(e) for e in events]
        reprs += [str(a) for a in x.audit(execution.id)]
    finally:
        x.close()
    report = render_html(execution, pipeline, workdir=workdir)
    cli = []
    saved = tmp_path / "saved.html"
    for args in (["history"], ["history", "--format", "json"], ["history", execution.id, "--report", str(saved)]):
        proc = subprocess.run(
            [sys.executable, "-m", "pipeweaver", *args, "--workdir", str(workdir)], capture_output=True, text=True
        )
        cli.append(proc.stdout + proc.stderr)

    everything = {**CANARIES, **HOST_CANARIES}
    found = scan_tree(workdir, everything) + scan_history(workdir / "history.sqlite3", everything)
    found += hits("report", report, everything) + hits("saved report", saved.read_text(), everything)
    found += hits("reprs and events", "\n".join(reprs), everything) + hits("CLI output", "\n".join(cli), everything)

    assert ExecutionStatus.FAILED == execution.status  # LeakyFail fails on purpose
    log = (workdir / next(p for p in workdir.rglob("log.txt") if "UseSecrets" in str(p))).read_text()
    assert "-----BEGIN PRIVATE KEY-----\n****\n****\n" in log  # armour kept, key material masked
    assert "****" in execution.action("Build", "UseSecrets").output_variables["LEAK"]
    assert [] == found, "\n".join(found)


def test_model_reprs_mask_secret_configuration_but_keep_the_value() -> None:
    """A pipeline's repr masks OAuthToken like get-pipeline does; the value itself is untouched."""
    pipeline = secret_pipeline()
    source = pipeline.stages[0].actions[0]
    assert [] == hits("model repr", repr(pipeline) + str(source))
    assert "'OAuthToken': '****'" in repr(source)
    assert CANARIES["token"] == source.configuration["OAuthToken"]
    assert "'Owner': 'acme'" in repr(source)


def test_cli_run_masks_secret_from_the_environment(tmp_path: Path) -> None:
    """`pipeweaver run --secret` masks a value a command prints, in its output, logs, history and report."""
    secret = CANARIES["sm"]
    target = tmp_path / "pipe.py"
    target.write_text(
        "import pipeweaver as pw\n"
        "compute = pw.ActionType(category='Compute', provider='Commands')\n"
        "src = pw.ActionType(category='Source', owner='Custom', provider='Empty', version='1')\n"
        "pipeline = pw.Pipeline(name='cli', role_arn='arn:aws:iam::123456789012:role/p',\n"
        "    artifact_store=pw.ArtifactStore(location='bucket-x'), pipeline_type='V2',\n"
        "    stages=[pw.Stage(name='Source', actions=[pw.Action(name='S', action_type=pw.ActionType(\n"
        "        category='Source', provider='S3'), configuration={'S3Bucket': 'b', 'S3ObjectKey': 'k.zip',\n"
        "        'PollForSourceChanges': 'false'}, outputs=[pw.Artifact('Code')])]),\n"
        "        pw.Stage(name='Build', actions=[pw.Action(name='Echo', action_type=compute, inputs=[pw.Artifact('Code')],\n"
        '        commands=[\'echo "value=$PWX_TOKEN"\', \'printf "%s" "$PWX_TOKEN" >&2\'])])])\n'
    )
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "f.txt").write_text("x")
    workdir = tmp_path / "wd"
    report = tmp_path / "report.html"
    env = {"PWX_TOKEN": secret, "PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(tmp_path), **own_sources()}
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "pipeweaver", "run", f"{target}:pipeline", "--plain", "--source", f"S={folder}"),
            *("--secret", secret, "--pass-env", "PWX_TOKEN", "--report", str(report), "--workdir", str(workdir)),
        ],
        capture_output=True,
        text=True,
        env=env,
    )

    found = hits("CLI run output", proc.stdout + proc.stderr) + scan_tree(workdir)
    found += scan_history(workdir / "history.sqlite3") + hits("report", report.read_text())

    assert 0 == proc.returncode, proc.stdout + proc.stderr
    assert "****" in proc.stdout + "".join(p.read_text() for p in workdir.rglob("log.txt"))
    assert [] == found, "\n".join(found)


# -- environment-borne canaries: the host's tokens never reach a command --------------------

BUILDSPEC = "version: 0.2\nphases:\n  build:\n    commands:\n      - env\n"


def env_pipeline() -> pw.Pipeline:
    code = pw.Artifact("Code")
    source = pw.Action(
        name="Source",
        action_type=pw.ActionType(category="Source", provider="CodeStarSourceConnection"),
        configuration={
            "ConnectionArn": "arn:aws:codeconnections:us-east-1:123456789012:connection/abc",
            "FullRepositoryId": "acme/web",
            "BranchName": "main",
        },
        outputs=[code],
    )
    commands = pw.Action(
        name="Env",
        action_type=pw.ActionType(category="Compute", provider="Commands"),
        inputs=[code],
        environment_variables=[pw.EnvironmentVariable(name="DECLARED", value="declared-value")],
        commands=["env"],
    )
    build = pw.Action(
        name="BuildEnv",
        action_type=pw.ActionType(category="Build", provider="CodeBuild"),
        configuration={"ProjectName": "envproj"},
        inputs=[code],
    )
    rule = pw.Rule(name="EnvRule", rule_type=pw.RuleType(provider="Commands"), commands=["env"])
    return pw.Pipeline(
        name="envcheck",
        role_arn="arn:aws:iam::123456789012:role/pipeline",
        artifact_store=pw.ArtifactStore(location="artifact-bucket"),
        pipeline_type="V2",
        stages=[
            pw.Stage(name="Source", actions=[source]),
            pw.Stage(
                name="Build",
                actions=[commands, build],
                on_success=pw.SuccessConditions(conditions=pw.Condition(result="FAIL", rules=[rule])),
            ),
        ],
    )


def names_in(lines: list[str]) -> set[str]:
    return {line.split("=", 1)[0] for line in lines if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", line)}


def test_commands_buildspecs_and_rules_see_only_the_allow_list(
    tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`env` in a Commands action, a buildspec and a Commands rule shows no host token, only the allow-list."""
    for name, value in HOST_CANARIES.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LC_ALL", "C")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setenv("PW_PASSED", "passed-through")
    monkeypatch.setenv("PW_NOT_PASSED", "kept-out")
    # A host GIT_DIR broke the engine's own git reads of the local source too.
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "not-a-repo"))
    events: list[Event] = []
    workdir = tmp_path / "wd"
    with LocalExecutor(
        workdir,
        sources={"Source": repo},
        buildspecs={"envproj": BUILDSPEC},
        env_passthrough=["PW_PASSED"],
        observers=[events.append],
    ) as x:
        execution = x.run(env_pipeline())
    logs = {p.parent.parent.name: p.read_text().splitlines() for p in workdir.rglob("log.txt")}
    rule_lines = [e.line for e in events if getattr(e, "action", "") == "rule:EnvRule"]

    assert ExecutionStatus.SUCCEEDED == execution.status, execution.status_summary
    seen = {"Env": names_in(logs["Env"]), "BuildEnv": names_in(logs["BuildEnv"]), "rule": names_in(rule_lines)}
    for where, names in seen.items():
        assert {"PATH", "HOME", "LC_ALL", "TMPDIR", "PW_PASSED"} <= names, where
        assert not names & {*HOST_CANARIES, "PW_NOT_PASSED", "GIT_DIR"}, where
    assert {"DECLARED", "CODEBUILD_SRC_DIR"} <= seen["Env"]
    assert "CODEBUILD_BUILD_ID" in seen["BuildEnv"]
    found = scan_tree(workdir, HOST_CANARIES) + hits("events", "\n".join(repr(e) for e in events), HOST_CANARIES)
    assert [] == found, "\n".join(found)


def test_env_passthrough_names_are_checked(tmp_path: Path) -> None:
    """A malformed pass-through name is refused at construction with a readable message."""
    with pytest.raises(ValueError, match=r"env_passthrough: 'A B' is not an environment variable name"):
        LocalExecutor(tmp_path, env_passthrough=["A B"])


# -- secrets from a file and the environment; retry keeps them ------------------------------

RETRY_PIPELINE = """
import pipeweaver as pw
code = pw.Artifact("Code")
pipeline = pw.Pipeline(name="retry", role_arn="arn:aws:iam::123456789012:role/p",
    artifact_store=pw.ArtifactStore(location="bucket-x"), pipeline_type="V2",
    stages=[pw.Stage(name="Source", actions=[pw.Action(name="S", action_type=pw.ActionType(
        category="Source", provider="S3"), configuration={"S3Bucket": "b", "S3ObjectKey": "k.zip",
        "PollForSourceChanges": "false"}, outputs=[code])]),
        pw.Stage(name="Build", actions=[pw.Action(name="Echo",
            action_type=pw.ActionType(category="Compute", provider="Commands"), inputs=[code],
            environment_variables=[pw.EnvironmentVariable(name="FROM_FILE", value="deploy/token",
                type="SECRETS_MANAGER")],
            commands=['echo "file=$FROM_FILE env=$PWX_ENV argv=$PWX_ARGV"',
                      'test -f "$HOME/second" || { touch "$HOME/second"; exit 1; }'])])])
"""

RETRY_CANARIES = {"file": "tok-CANARYfile61", "env": "env-CANARYenv62", "argv": "arg-CANARYarg63"}


def test_retry_rereads_secret_sources_and_masks_what_the_first_attempt_masked(tmp_path: Path) -> None:
    """`run --secret-file/--secret-env/--secret` masks all three; `retry` re-reads file and env, needs --secret again."""
    target = tmp_path / "pipe.py"
    target.write_text(RETRY_PIPELINE)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "f.txt").write_text("x")
    (tmp_path / "home").mkdir()
    secret_file = tmp_path / "secrets.env"
    secret_file.write_text(f"# deploy secrets\ndeploy/token={RETRY_CANARIES['file']}\n")
    workdir = tmp_path / "wd"
    env = {
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "HOME": str(tmp_path / "home"),
        "PWX_ENV": RETRY_CANARIES["env"],
        "PWX_ARGV": RETRY_CANARIES["argv"],
        **own_sources(),
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "pipeweaver", *args, "--plain", "--workdir", str(workdir)]
        return subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path)

    misspelt = cli(
        *("run", f"{target}:pipeline", "--source", f"S={tmp_path / 'src'}", "--secret-file", str(secret_file)),
        *("--secret-env", "PWX_ENV", "--secret", RETRY_CANARIES["argv"], "--pass-env", "PWX_ENV,PWX_ARGV"),
    )
    first = cli(
        *("run", f"{target}:pipeline", "--source", f"S={tmp_path / 'src'}", "--secret-file", str(secret_file)),
        *("--secret-env", "PWX_ENV", "--secret", RETRY_CANARIES["argv"], "--pass-env", "PWX_ENV"),
        *("--pass-env", "PWX_ARGV"),
    )
    [execution_id] = re.findall(r"execution (\S+) of retry", first.stdout)[:1]
    refused = cli("retry", execution_id, "Build", "--pass-env", "PWX_ENV", "--pass-env", "PWX_ARGV")
    second = cli(
        *("retry", execution_id, "Build", "--secret", RETRY_CANARIES["argv"]),
        *("--pass-env", "PWX_ENV", "--pass-env", "PWX_ARGV"),
    )
    logs = sorted(workdir.rglob("log.txt"))
    record = workdir / "secrets" / f"{execution_id}.json"

    assert 2 == misspelt.returncode
    assert "'PWX_ENV,PWX_ARGV' is not an environment variable name" in misspelt.stderr
    assert 1 == first.returncode, first.stdout + first.stderr
    assert 2 == refused.returncode
    assert "was run with 1 --secret value(s), which pipeweaver never stores" in refused.stderr
    assert 0 == second.returncode, second.stdout + second.stderr
    echoed = [line for p in logs for line in p.read_text().splitlines() if line.startswith("file=")]
    assert ["file=**** env=**** argv=****"] * 2 == echoed
    assert 0o600 == record.stat().st_mode & 0o777
    found = hits("CLI", first.stdout + first.stderr + second.stdout + second.stderr, RETRY_CANARIES)
    found += scan_tree(workdir, RETRY_CANARIES) + scan_history(workdir / "history.sqlite3", RETRY_CANARIES)
    assert [] == found, "\n".join(found)


# -- pipeweaver serve: the webhook secret ---------------------------------------------------

SERVE_PIPELINE = """
import pipeweaver as pw
code = pw.Artifact("Code")
pipeline = pw.Pipeline(name="served", role_arn="arn:aws:iam::123456789012:role/p",
    artifact_store=pw.ArtifactStore(location="bucket-x"), pipeline_type="V2",
    stages=[pw.Stage(name="Source", actions=[pw.Action(name="Source",
        action_type=pw.ActionType(category="Source", provider="CodeStarSourceConnection"),
        configuration={"ConnectionArn": "arn:aws:codeconnections:us-east-1:123456789012:connection/abc",
                       "FullRepositoryId": "acme/web", "BranchName": "main"}, outputs=[code])]),
        pw.Stage(name="Build", actions=[pw.Action(name="Env",
            action_type=pw.ActionType(category="Compute", provider="Commands"), inputs=[code],
            commands=['echo "secret=$PIPEWEAVER_WEBHOOK_SECRET"', "env"])])],
    triggers=[pw.Trigger(source_action_name="Source", push=[pw.GitPushFilter(branches=["main"])])])
"""


def test_serve_masks_its_webhook_secret_even_when_passed_to_a_command(tmp_path: Path, repo: Path) -> None:
    """A run started by `serve` that prints the webhook secret (passed on purpose) shows `****` everywhere."""
    secret = HOST_CANARIES["PIPEWEAVER_WEBHOOK_SECRET"]
    target = tmp_path / "served.py"
    target.write_text(SERVE_PIPELINE)
    workdir = tmp_path / "wd"
    sha = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "pipeweaver", "serve", str(target), "--port", "0"),
            *("--source", f"Source={repo}", "--pass-env", "PIPEWEAVER_WEBHOOK_SECRET", "--workdir", str(workdir)),
        ],
        env={**os.environ, "PYTHONUNBUFFERED": "1", "PIPEWEAVER_WEBHOOK_SECRET": secret},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        found = re.search(r"listening on (http://127\.0\.0\.1:\d+/)", first)
        assert found, first
        payload = {
            "ref": "refs/heads/main",
            "before": "0" * 40,
            "after": sha,
            "repository": {"full_name": "acme/web"},
            "commits": [{"id": sha, "added": ["app.txt"], "removed": [], "modified": []}],
        }
        body = json.dumps(payload).encode()
        signature = "sha256=" + hmac.new(secret.encode(), body, sha256).hexdigest()
        headers = {"X-GitHub-Event": "push", "X-Hub-Signature-256": signature, "Content-Type": "application/json"}
        request = urllib.request.Request(found.group(1), data=body, headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            assert 202 == response.status
        deadline = time.monotonic() + 30
        out = first
        while "202 push" not in out and time.monotonic() < deadline:
            out += proc.stdout.readline()
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=60)
        out += rest
    finally:
        proc.kill()

    logs = "".join(p.read_text() for p in workdir.rglob("log.txt"))
    assert "Succeeded: 1" in out, out
    assert "secret=****" in logs
    leaks = hits("serve output", out, HOST_CANARIES) + scan_tree(workdir, HOST_CANARIES)
    leaks += scan_history(workdir / "history.sqlite3", HOST_CANARIES)
    assert [] == leaks, "\n".join(leaks)


# -- diff and deploy output ------------------------------------------------------------------

DIFF_PIPELINE = """
import pipeweaver as pw
src = pw.Artifact("Src")
pipeline = pw.Pipeline(name="gh", role_arn="arn:aws:iam::123456789012:role/PipelineRole",
    artifact_store=pw.ArtifactStore(location="my-artifact-bucket"),
    stages=[pw.Stage(name="Source", actions=[pw.Action(name="GitHub",
        action_type=pw.ActionType(category="Source", owner="ThirdParty", provider="GitHub"),
        configuration={"Owner": "acme", "Repo": "web", "Branch": "main", "PollForSourceChanges": "false",
                       "OAuthToken": TOKEN}, outputs=[src])]),
        pw.Stage(name="Deploy", actions=[pw.Action(name="Push",
            action_type=pw.ActionType(category="Deploy", owner="Custom", provider="Vault"),
            configuration={"Target": "prod", "ApiKey": KEY}, inputs=[src])])])
"""


def test_diff_and_deploy_output_never_shows_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`pipeweaver diff/deploy` adding an OAuthToken and changing a secret custom property print only `****`."""
    boto3 = pytest.importorskip("boto3")
    from click.testing import CliRunner
    from moto import mock_aws

    from pipeweaver.cli import main

    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }.items():
        monkeypatch.setenv(key, value)
    canaries = {"token": CANARIES["token"], "key": "vault-CANARYkey88"}
    old = tmp_path / "old.py"
    old.write_text(f"TOKEN = 'unused'\nKEY = 'old-key-value'\n{DIFF_PIPELINE}")
    new = tmp_path / "new.py"
    new.write_text(f"TOKEN = {canaries['token']!r}\nKEY = {canaries['key']!r}\n{DIFF_PIPELINE}")
    runner = CliRunner()
    with mock_aws():
        from pipeweaver.cli._target import load_target, to_pipeline
        from pipeweaver.synth import to_codepipeline

        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "codepipeline.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
        boto3.client("iam").create_role(RoleName="PipelineRole", AssumeRolePolicyDocument=json.dumps(trust))
        boto3.client("s3").create_bucket(Bucket="my-artifact-bucket")
        live = to_codepipeline(to_pipeline(load_target(str(old))))
        del live["stages"][0]["actions"][0]["configuration"]["OAuthToken"]  # the live action has none yet
        boto3.client("codepipeline").create_pipeline(pipeline=live)
        outputs = [
            runner.invoke(main, ["diff", str(new), "--secret-property", "ApiKey"]),
            runner.invoke(main, ["deploy", str(new), "--dry-run", "--secret-property", "ApiKey"]),
            runner.invoke(main, ["deploy", str(new), "--secret-property", "ApiKey"]),
        ]

    text = "\n".join(o.output for o in outputs)
    assert [1, 0, 0] == [o.exit_code for o in outputs], text
    assert "+ stages[0].actions[0].configuration.OAuthToken: '****'" in text
    assert "~ stages[1].actions[0].configuration.ApiKey: '****' -> '****'" in text
    assert [] == hits("diff and deploy output", text, canaries), text


def test_watch_and_serve_read_git_with_the_allow_listed_environment(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The trigger side's git reads (watch polling, serve's pull-request diffs) ignore the host's GIT_* and tokens."""
    from pipeweaver.execution._watch import read_refs

    monkeypatch.setenv("GIT_DIR", str(tmp_path / "not-a-repo"))

    assert ["refs/heads/main"] == sorted(read_refs(repo))


# -- in-process handlers: what a Lambda stand-in or a custom handler prints -----------------

PRINTING_PIPELINE = """
import pipeweaver as pw
from pipeweaver import actions
pipeline = pw.Pipeline(name="printing", role_arn="arn:aws:iam::123456789012:role/p",
    artifact_store=pw.ArtifactStore(location="bucket-x"),
    stages=[pw.Stage(name="Source", actions=[actions.s3_source("Source", bucket="b", object_key="k.zip")]),
        pw.Stage(name="Build", actions=[
            pw.Action(name="Custom", action_type=pw.ActionType(category="Build", owner="Custom", provider="Shout"),
                inputs=[pw.Artifact("SourceOutput")], configuration={"ProjectName": "app"}),
            actions.lambda_invoke("Notify", function_name="notify",
                user_parameters="{{resolve:secretsmanager:deploy/token}}", run_order=2)])])
"""

PRINTING_HOOKS = """
import sys
import boto3

code_pipeline = boto3.client("codepipeline", region_name="us-east-1")


def shout(ctx):
    print("custom handler sees", ctx.secrets and sorted(ctx.secrets)[0])


def notify(event, context=None):
    params = event["CodePipeline.job"]["data"]["actionConfiguration"]["configuration"]["UserParameters"]
    print("notify called with", params)
    # written in two pieces: masked once the line is whole
    sys.stderr.write("stderr half " + params[:6])
    sys.stderr.write(params[6:] + " end\\n")
    code_pipeline.put_job_success_result(jobId=event["CodePipeline.job"]["id"])
"""


def test_a_function_stand_in_that_prints_a_secret_never_shows_it(tmp_path: Path) -> None:
    """A stand-in's print goes to its action's log (prefixed, masked), never raw to the terminal."""
    secret = CANARIES["handler"]
    target = tmp_path / "pipe.py"
    target.write_text(PRINTING_PIPELINE)
    (tmp_path / "hooks.py").write_text(PRINTING_HOOKS)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "f.txt").write_text("x")
    secret_file = tmp_path / "secrets.env"
    secret_file.write_text(f"deploy/token={secret}\n")
    workdir = tmp_path / "wd"
    report = tmp_path / "report.html"
    env = {"PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(tmp_path), **own_sources()}
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "pipeweaver", "run", f"{target}:pipeline", "--plain", "--source", "Source=app"),
            *("--function", "notify=hooks:notify", "--handler", "Build/Custom/Shout/1=hooks:shout"),
            *("--secret-file", str(secret_file), "--report", str(report), "--workdir", str(workdir)),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )

    found = hits("CLI run output", proc.stdout + proc.stderr, {"handler": secret}) + scan_tree(workdir)
    found += scan_history(workdir / "history.sqlite3") + hits("report", report.read_text())
    logs = {p.parent.parent.name: p.read_text() for p in (workdir / "runs").rglob("log.txt")}

    assert 0 == proc.returncode, proc.stdout + proc.stderr
    assert [] == found, "\n".join(found)
    assert "notify called with ****\nstderr half **** end\n" == logs.get("Notify")
    assert "custom handler sees ****\n" == logs.get("Custom")
    assert "Build/Notify | notify called with ****" in proc.stdout
    assert "Build/Notify | stderr half **** end" in proc.stdout
    assert "" == proc.stderr
