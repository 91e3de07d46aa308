"""`pipeweaver override`: OverrideStageCondition for a running local execution and for one its condition failed."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from .conftest import Cli, _script

PIPELINE = """
import pipeweaver as pw

LOCAL_SOURCES = {"Source": "src"}

src = pw.Artifact("Src")
source = pw.Action(
    name="Source", outputs=[src],
    action_type=pw.ActionType(category="Source", provider="S3"),
    configuration={"S3Bucket": "b-source", "S3ObjectKey": "s.zip", "PollForSourceChanges": "false"},
)
ship = pw.Action(
    name="Ship", inputs=[src],
    action_type=pw.ActionType(category="Compute", provider="Commands"),
    commands=["echo shipped"],
)
gate = pw.Rule(name="Gate", rule_type=pw.RuleType(provider="Commands"), commands=["{check}"])
pipeline = pw.Pipeline(
    name="override-test", pipeline_type="V2", role_arn="arn:aws:iam::123456789012:role/PipelineRole",
    artifact_store=pw.ArtifactStore(location="override-test-artifacts"),
    stages=[
        pw.Stage(name="Source", actions=[source]),
        pw.Stage(
            name="Deploy", actions=[ship],
            before_entry=pw.BeforeEntryConditions(conditions=pw.Condition(result="FAIL", rules=[gate])),
        ),
    ],
)
"""


def _project(tmp_path: Path, check: str) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "README").write_text("hello\n")
    (tmp_path / "release.py").write_text(PIPELINE.replace("{check}", check))
    return tmp_path


def test_override_continues_an_execution_its_entry_condition_failed(cli: Cli, tmp_path: Path) -> None:
    project = _project(tmp_path, "false")
    first = cli("run", "release.py", "--plain", cwd=project)
    execution_id = json.loads(cli("history", "--format", "json", cwd=project).stdout)[0]["id"]

    again = cli("override", execution_id[:8], "Deploy", "--plain", cwd=project)

    assert 1 == first.returncode
    assert "Deploy/Ship" not in first.stdout
    assert 0 == again.returncode, again.stdout + again.stderr
    assert "Deploy/Ship: Succeeded" in again.stdout


def test_override_reaches_the_running_process_while_the_condition_is_evaluated(cli: Cli, tmp_path: Path) -> None:
    project = _project(tmp_path, "sleep 60")
    running = subprocess.Popen(
        [*_script(), "run", "release.py", "--plain"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        listing: list[dict[str, str]] = []
        while time.monotonic() < deadline and not listing:
            time.sleep(0.2)
            found = cli("history", "--format", "json", cwd=project)
            listing = json.loads(found.stdout) if found.returncode == 0 and found.stdout.strip() else []
        asked = cli("override", listing[0]["id"], "Deploy", cwd=project)
        out, err = running.communicate(timeout=60)
    finally:
        running.kill()

    assert 0 == asked.returncode, asked.stdout + asked.stderr
    assert "the running `pipeweaver run` applies it" in asked.stdout
    assert 0 == running.returncode, out + err
    assert "overrode the BEFORE_ENTRY condition of stage Deploy" in err
    assert "Deploy/Ship: Succeeded" in out
