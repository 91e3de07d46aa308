"""Secret canaries: never in logs, history, reports, reprs, events or CLI output, raw or encoded.

A run uses every kind of secret the local executor knows: SECRETS_MANAGER environment
variables (plain and ``name:json-key``), a secret configuration property (GitHub's
``OAuthToken``) and secrets a handler sees and echoes, logs, returns and raises. Each canary
contains characters that JSON, HTML and URL encoding change, plus a unique core; every
artifact of the run is searched for the raw value, its encoded forms and the bare core.
"""

from __future__ import annotations

import base64
import html
import json
import re
import sqlite3
import subprocess
import sys
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
}


def encodings(value: str) -> dict[str, str]:
    """The forms a leaked value could take once something encodes it."""
    # the unique alphanumeric run around CANARY: survives any escaping of the characters around it
    [core] = re.findall(r"[A-Za-z0-9]*CANARY[A-Za-z0-9]*", value)
    raw = value.encode()
    return {
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


def hits(where: str, text: str) -> list[str]:
    return [
        f"{where}: {name}/{form}"
        for name, value in CANARIES.items()
        for form, enc in encodings(value).items()
        if enc in text
    ]


def scan_tree(root: Path) -> list[str]:
    out = []
    for path in sorted(root.rglob("*")):
        if path.is_file():
            out += hits(str(path.relative_to(root)), path.read_bytes().decode("utf-8", errors="replace"))
    return out


def scan_history(db: Path) -> list[str]:
    con = sqlite3.connect(db)
    try:
        return hits("history rows", "\n".join(con.iterdump()))
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
        ],
        commands=[
            'echo "pass=$DB_PASS"',
            'echo "json=$DB_JSON" >&2',
            'printf "%s\\n%s\\n" "$DB_PASS" "$DB_JSON"',
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


def test_secret_canaries_never_leak(tmp_path: Path, repo: Path) -> None:
    """Every canary is absent, raw and encoded, from logs, history, report, reprs, events and CLI output."""
    reprs: list[str] = []
    events: list[Event] = []

    def leaky(ctx: ActionContext) -> ActionResult:
        secret = ctx.environment.get("X") or CANARIES["handler"]
        reprs.extend([repr(ctx), str(ctx), repr(ctx.configuration), repr(ctx.environment)])
        ctx.log(f"handler sees {secret} and {CANARIES['sm']}")
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
    for args in (["history"], ["history", "--format", "json"], ["history", execution.id]):
        proc = subprocess.run(
            [sys.executable, "-m", "pipeweaver", *args, "--workdir", str(workdir)], capture_output=True, text=True
        )
        cli.append(proc.stdout + proc.stderr)

    found = scan_tree(workdir) + scan_history(workdir / "history.sqlite3") + hits("report", report)
    found += hits("reprs and events", "\n".join(reprs)) + hits("CLI output", "\n".join(cli))

    assert ExecutionStatus.FAILED == execution.status  # LeakyFail fails on purpose
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
    env = {"PWX_TOKEN": secret, "PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "pipeweaver", "run", f"{target}:pipeline", "--plain", "--source", f"S={folder}"),
            *("--secret", secret, "--report", str(report), "--workdir", str(workdir)),
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
