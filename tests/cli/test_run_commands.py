"""run, history, retry, approve and reject, run as the real console script on real local executions."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import Cli, _script

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "examples" / "quickstart.py"

PIPELINE = """
import pipeweaver as pw

LOCAL_SOURCES = {"Source": "src"}

src = pw.Artifact("Src")
source = pw.Action(
    name="Source", namespace="SourceVariables", outputs=[src],
    action_type=pw.ActionType(category="Source", provider="S3"),
    configuration={"S3Bucket": "b-source", "S3ObjectKey": "s.zip", "PollForSourceChanges": "false"},
)
check = pw.Action(
    name="Check", inputs=[src],
    action_type=pw.ActionType(category="Compute", provider="Commands"),
    commands=["echo greeting=#{variables.greeting}", "test -f {marker}"],
)
gate = pw.Action(name="Gate", action_type=pw.ActionType(category="Approval", provider="Manual"))
ship = pw.Action(
    name="Ship", inputs=[src], run_order=2,
    action_type=pw.ActionType(category="Compute", provider="Commands"),
    commands=["echo shipped"],
)
pipeline = pw.Pipeline(
    name="cli-test", pipeline_type="V2", role_arn="arn:aws:iam::123456789012:role/PipelineRole",
    artifact_store=pw.ArtifactStore(location="cli-test-artifacts"),
    variables=[pw.Variable(name="greeting", default_value="hello")],
    stages=[
        pw.Stage(name="Source", actions=[source]),
        pw.Stage(name="Check", actions=[check]),
        pw.Stage(name="Release", actions=[gate, ship]),
    ],
)
"""


@pytest.fixture(name="project")
def _project(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "README").write_text("hello\n")
    (tmp_path / "release.py").write_text(PIPELINE.replace("{marker}", str(tmp_path / "fixed")))
    return tmp_path


def test_quickstart_runs_end_to_end_with_report(cli: Cli, tmp_path: Path) -> None:
    """`pipeweaver run examples/quickstart.py` succeeds, prints a summary and writes a self-contained report."""
    report = tmp_path / "report.html"
    result = cli("run", str(QUICKSTART), "--approve", "auto", "--report", str(report))
    html = report.read_text()

    assert 0 == result.returncode, result.stdout + result.stderr
    assert "Succeeded" in result.stdout.splitlines()[-8]
    assert "Test/UnitTests: Succeeded" in result.stdout
    assert "Ran 2 tests" in result.stdout
    assert "simulated" in result.stdout
    assert "greeting-release: Succeeded" in html
    assert "<script src" not in html


def test_failure_exit_1_then_retry_succeeds(cli: Cli, project: Path) -> None:
    """A failing action fails the run (exit 1, nothing after it runs); retry after the fix succeeds (exit 0)."""
    first = cli("run", "release.py", "--approve", "auto", "--var", "greeting=bonjour", cwd=project)
    listing = json.loads(cli("history", "--format", "json", cwd=project).stdout)
    execution_id = listing[0]["id"]

    assert 1 == first.returncode, first.stdout + first.stderr
    assert "Check/Check: Failed" in first.stdout
    assert "greeting=bonjour" in first.stdout
    assert "Release/" not in first.stdout
    assert "Failed" == listing[0]["status"]

    (project / "fixed").write_text("")
    again = cli("retry", execution_id, "Check", "--approve", "auto", cwd=project)
    detail = json.loads(cli("history", execution_id, "--format", "json", cwd=project).stdout)

    assert 0 == again.returncode, again.stdout + again.stderr
    assert "Succeeded" == detail["status"]
    assert [("Check", 1, "Failed"), ("Check", 2, "Succeeded")] == [
        (a["name"], a["attempt"], a["status"]) for a in detail["actions"] if a["name"] == "Check"
    ]

    not_failed = cli("retry", execution_id, "Check", "--all-actions", "--approve", "auto", cwd=project)

    assert 1 == not_failed.returncode
    assert "only failed stages can be retried" in not_failed.stderr


def test_rejected_approval_stops_the_release(cli: Cli, project: Path) -> None:
    """--approve reject fails the approval: exit 1 and the Ship action never runs."""
    (project / "fixed").write_text("")
    result = cli("run", "release.py", "--approve", "reject", cwd=project)

    assert 1 == result.returncode
    assert "Release/Gate: Failed" in result.stdout
    assert "Ship" not in result.stdout.split("execution ")[-1]


def test_approve_from_another_process(project: Path) -> None:
    """`run --approve wait` waits until `pipeweaver approve` in another process answers, then finishes."""
    (project / "fixed").write_text("")
    runner = subprocess.Popen(
        [*_script(), "run", "release.py", "--approve", "wait", "--plain"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        execution_id = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            listing = subprocess.run(
                [*_script(), "history", "--format", "json"], cwd=project, capture_output=True, text=True
            )
            rows = json.loads(listing.stdout) if listing.returncode == 0 and listing.stdout.strip() else []
            waiting = [
                r for r in rows if any(a["name"] == "Gate" and a["status"] == "InProgress" for a in r["actions"])
            ]
            if waiting:
                execution_id = waiting[0]["id"]
                break
            time.sleep(0.2)
        assert execution_id, "the execution never reached the approval"
        approved = subprocess.run(
            [*_script(), "approve", execution_id, "Release", "Gate", "--summary", "looks good"],
            cwd=project,
            capture_output=True,
            text=True,
        )
        out, err = runner.communicate(timeout=60)
    finally:
        if runner.poll() is None:
            runner.kill()

    assert 0 == approved.returncode, approved.stderr
    assert 0 == runner.returncode, out + err
    assert "Release/Ship: Succeeded" in out
    assert "Approved by" in out
    assert "looks good" in out


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["run", "release.py", "--source", "Source=nowhere"], 2, "--source Source=nowhere: no such file or folder"),
        (["history", "--workdir", "never"], 2, "no execution history here"),
        (
            ["run", "release.py", "--approve", "auto", "--report", "nodir/r.html"],
            2,
            "--report nodir/r.html: folder nodir does not exist; create it",
        ),
        (["history", "0000-not-an-id", "--report", "nodir/r.html"], 2, "--report nodir/r.html: folder nodir does not"),
        (["history", "0000-not-an-id"], 1, "no execution id starts with '0000-not-an-id'"),
        (["approve", "0000-not-an-id", "Release", "Gate"], 1, "no execution id starts with '0000-not-an-id'"),
        (["retry", "0000-not-an-id", "Check"], 1, "no execution id starts with '0000-not-an-id'"),
        (["run", "release.py", "--approve", "prompt"], 2, "--approve prompt needs a terminal"),
        (["run", "release.py"], 2, "the pipeline has manual approvals (Release/Gate) and stdin is not a terminal"),
    ],
)
def test_run_error_paths(cli: Cli, project: Path, args: list[str], code: int, needle: str) -> None:
    """Bad sources, missing history and unknown ids are one message with the right exit code."""
    (project / ".pipeweaver").mkdir()
    result = cli(*args, cwd=project, stdin="")

    assert code == result.returncode, result.stdout + result.stderr
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert "" == result.stdout  # refused before anything ran


def test_invalid_pipeline_is_refused_before_running(cli: Cli, tmp_path: Path) -> None:
    """run refuses a pipeline with validation errors, listing them, exit 1."""
    (tmp_path / "bad.py").write_text(
        "import pipeweaver as pw\n"
        "a = pw.Artifact('A')\n"
        "pipeline = pw.Pipeline(name='bad', role_arn='arn:aws:iam::123456789012:role/R',\n"
        "    artifact_store=pw.ArtifactStore(location='bucket-x'),\n"
        "    stages=[pw.Stage(name='Build', actions=[pw.Action(name='B', inputs=[a],\n"
        "        action_type=pw.ActionType(category='Build', provider='CodeBuild'), configuration={'ProjectName': 'p'})])])\n"
    )
    result = cli("run", "bad.py", "--approve", "auto")

    assert 1 == result.returncode
    assert "pipeline bad is not valid; nothing was run" in result.stderr
    assert "[PW208]" in result.stderr
    assert "Traceback" not in result.stderr


def test_python_m_pipeweaver_is_the_same_command() -> None:
    """`python -m pipeweaver --version` runs the same click group."""
    result = subprocess.run([sys.executable, "-m", "pipeweaver", "--version"], capture_output=True, text=True)

    assert 0 == result.returncode
    assert "pipeweaver, version" in result.stdout


def test_history_report_and_json_target(cli: Cli, project: Path) -> None:
    """An API JSON target runs with --source; history writes the report of a past execution."""
    (project / "fixed").write_text("")
    synthesized = cli("synth", "release.py", "-o", "release.json", cwd=project)
    ran = cli("run", "release.json", "--source", "Source=src", "--approve", "auto", cwd=project)
    execution_id = json.loads(cli("history", "--format", "json", cwd=project).stdout)[0]["id"]
    written = cli("history", execution_id, "--report", "past.html", cwd=project)
    text = cli("history", cwd=project)

    assert (0, 0) == (synthesized.returncode, ran.returncode), synthesized.stderr + ran.stdout + ran.stderr
    assert 0 == written.returncode, written.stderr
    assert f"execution {execution_id}" in (project / "past.html").read_text()
    assert execution_id in text.stdout
    assert "Succeeded" in text.stdout


SLOW = """
import pipeweaver as pw

LOCAL_SOURCES = {"Source": "src"}
src = pw.Artifact("Src")
pipeline = pw.Pipeline(
    name="slow", pipeline_type="V2", role_arn="arn:aws:iam::123456789012:role/PipelineRole",
    artifact_store=pw.ArtifactStore(location="slow-artifacts"),
    stages=[
        pw.Stage(name="Source", actions=[pw.Action(
            name="Source", outputs=[src], action_type=pw.ActionType(category="Source", provider="S3"),
            configuration={"S3Bucket": "b-src", "S3ObjectKey": "k.zip", "PollForSourceChanges": "false"})]),
        pw.Stage(name="Work", actions=[pw.Action(
            name="Slow", inputs=[src], action_type=pw.ActionType(category="Compute", provider="Commands"),
            commands=["echo token is hunter2", "echo started-slow", "sleep 60"])]),
    ],
)
"""


def test_ctrl_c_abandons_and_secrets_are_masked(project: Path) -> None:
    """SIGINT stops the execution (running action Abandoned, exit 1); --secret values never reach the output."""
    (project / "slow.py").write_text(SLOW)
    runner = subprocess.Popen(
        [*_script(), "run", "slow.py", "--plain", "--secret", "hunter2"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert runner.stdout is not None
        seen = ""
        while "started-slow" not in seen:
            line = runner.stdout.readline()
            assert line, seen
            seen += line
        runner.send_signal(signal.SIGINT)
        rest, _ = runner.communicate(timeout=60)
    finally:
        if runner.poll() is None:
            runner.kill()
    output = seen + rest

    assert 1 == runner.returncode, output
    assert "Work/Slow: Abandoned" in output
    assert "hunter2" not in output
    assert "token is ****" in output


TEMPLATE = """\
Resources:
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      Name: from-template
      RoleArn: !GetAtt PipelineRole.Arn
      ArtifactStore: {Type: S3, Location: template-artifacts}
      Stages:
        - Name: Source
          Actions:
            - Name: Fetch
              ActionTypeId: {Category: Source, Owner: AWS, Provider: S3, Version: '1'}
              Configuration: {S3Bucket: src-bucket, S3ObjectKey: app.zip, PollForSourceChanges: 'false'}
              OutputArtifacts: [{Name: Out}]
        - Name: Build
          Actions:
            - Name: Compile
              ActionTypeId: {Category: Build, Owner: AWS, Provider: CodeBuild, Version: '1'}
              Configuration: {ProjectName: web-build}
              InputArtifacts: [{Name: Out}]
"""


def test_template_target_runs_with_buildspec_option(cli: Cli, project: Path) -> None:
    """A CloudFormation template runs locally; --buildspec supplies the buildspec its source lacks."""
    (project / "pipeline.yaml").write_text(TEMPLATE)
    (project / "buildspec.yml").write_text("version: 0.2\nphases:\n  build:\n    commands:\n      - cat README\n")
    without = cli("run", "pipeline.yaml", "--source", "Fetch=src", "--approve", "auto", cwd=project)
    with_spec = cli(
        "run", "pipeline.yaml", "--source", "Fetch=src", "--buildspec", "web-build=buildspec.yml", cwd=project
    )

    assert 1 == without.returncode
    assert "no buildspec for project 'web-build'" in without.stdout
    assert 0 == with_spec.returncode, with_spec.stdout + with_spec.stderr
    assert "Build/Compile | hello" in with_spec.stdout


PARAMETER_TEMPLATE = """\
Parameters:
  SourceBucket: {Type: String, Default: src-bucket}
  Project: {Type: String}
Resources:
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      Name: parameterised
      RoleArn: !GetAtt PipelineRole.Arn
      ArtifactStore: {Type: S3, Location: template-artifacts}
      Stages:
        - Name: Source
          Actions:
            - Name: Fetch
              ActionTypeId: {Category: Source, Owner: AWS, Provider: S3, Version: '1'}
              Configuration: {S3Bucket: !Ref SourceBucket, S3ObjectKey: !Sub '${Project}/app.zip'}
              OutputArtifacts: [{Name: Out}]
        - Name: Build
          Actions:
            - Name: Compile
              ActionTypeId: {Category: Build, Owner: AWS, Provider: CodeBuild, Version: '1'}
              Configuration: {ProjectName: !Ref Project}
              InputArtifacts: [{Name: Out}]
"""


def test_template_parameters_from_defaults_and_the_command_line(cli: Cli, project: Path) -> None:
    """A template's parameters take their Default or --parameter; one without a value is named with the flag."""
    (project / "pipeline.yaml").write_text(PARAMETER_TEMPLATE)
    (project / "buildspec.yml").write_text("version: 0.2\nphases:\n  build:\n    commands:\n      - cat README\n")
    common = ["run", "pipeline.yaml", "--source", "Fetch=src", "--buildspec", "web-build=buildspec.yml"]
    missing = cli(*common, cwd=project)
    given = cli(*common, "--parameter", "Project=web-build", cwd=project)
    misplaced = cli("run", "pipeline.yaml", "--parameter", "Project", cwd=project)

    assert 1 == missing.returncode
    assert "ProjectName is the CloudFormation expression" in missing.stdout + missing.stderr
    assert "--parameter Project=VALUE" in missing.stdout + missing.stderr
    assert "SourceBucket" not in missing.stdout + missing.stderr  # its Default was used
    assert 0 == given.returncode, given.stdout + given.stderr
    assert "Build/Compile | hello" in given.stdout
    assert 2 == misplaced.returncode
    assert "--parameter 'Project': expected NAME=VALUE" in misplaced.stderr


def test_execution_ids_may_be_shortened_git_style(cli: Cli, project: Path) -> None:
    """history and retry take any unique beginning of an id; a shared or unknown one is one clear line."""
    (project / "fixed").write_text("")
    for _ in range(2):
        assert 0 == cli("run", "release.py", "--approve", "auto", cwd=project).returncode
    first, second = (e["id"] for e in json.loads(cli("history", "--format", "json", cwd=project).stdout))
    common = next((first[:i] for i in range(len(first)) if first[i] != second[i]), first)
    short = first[: len(common) + 1]

    shown = cli("history", short, "--format", "json", cwd=project)
    retried = cli("retry", short, "NoSuchStage", cwd=project)
    shared = cli("history", common, cwd=project)
    unknown = cli("history", "zzzz", cwd=project)

    assert 0 == shown.returncode, shown.stderr
    assert first == json.loads(shown.stdout)["id"]
    # The short id reached the stage check, so it named the execution.
    assert "has no stage 'NoSuchStage'" in retried.stderr
    assert 1 == shared.returncode
    assert f"{common!r} is the beginning of several execution ids" in shared.stderr
    assert first in shared.stderr
    assert second in shared.stderr
    assert 1 == unknown.returncode
    assert "no execution id starts with 'zzzz'" in unknown.stderr
    assert 1 == unknown.stderr.count("zzzz")


NAMELESS = """\
Resources:
  Pipe:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      RoleArn: arn:aws:iam::123456789012:role/p
      PipelineType: V2
      ArtifactStore: {Type: S3, Location: bucket-x}
      Stages:
        - Name: Source
          Actions:
            - Name: Source
              ActionTypeId: {Category: Source, Owner: AWS, Provider: S3, Version: "1"}
              Configuration: {S3Bucket: b, S3ObjectKey: k.zip, PollForSourceChanges: "false"}
              OutputArtifacts: [{Name: Src}]
        - Name: Build
          Actions:
            - Name: Say
              ActionTypeId: {Category: Compute, Owner: AWS, Provider: Commands, Version: "1"}
              Commands: [echo hi]
              InputArtifacts: [{Name: Src}]
"""


def test_a_template_pipeline_without_name_is_shown_by_its_logical_id(cli: Cli, tmp_path: Path) -> None:
    """Run and history output name it Pipe, not {"Ref":"AWS::NoValue"}; the synthesized template still has no Name."""
    (tmp_path / "t.yaml").write_text(NAMELESS)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "f.txt").write_text("x")

    run = cli("run", "t.yaml", "--plain", "--source", "Source=src", "--workdir", "wd", cwd=tmp_path)
    history = cli("history", "--workdir", "wd", cwd=tmp_path)
    synth = cli("synth", "t.yaml", "--format", "cloudformation", cwd=tmp_path)

    assert 0 == run.returncode, run.stdout + run.stderr
    assert re.search(r"execution \S+ of Pipe: Succeeded", run.stdout), run.stdout
    assert re.search(r"\S+\s+Pipe\s+Succeeded", history.stdout), history.stdout
    assert "NoValue" not in run.stdout + run.stderr + history.stdout + history.stderr
    assert 0 == synth.returncode, synth.stderr
    [resource] = json.loads(synth.stdout)["Resources"].values()
    assert "Name" not in resource["Properties"]
