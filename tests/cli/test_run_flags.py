"""Every message naming a LocalExecutor parameter also names the `pipeweaver run` flag that gives it.

Each flag is run end to end through the real console script: first without it (the message
names the flag and the ``LOCAL = LocalEmulation(...)`` setting), then with it (the run passes).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Cli

HEAD = """
import pipeweaver as pw

LOCAL_SOURCES = {"Source": "src"}

src = pw.Artifact("Src")
source = pw.Action(
    name="Source", outputs=[src],
    action_type=pw.ActionType(category="Source", provider="S3"),
    configuration={"S3Bucket": "b-source", "S3ObjectKey": "s.zip", "PollForSourceChanges": "false"},
)
"""

TAIL = """
pipeline = pw.Pipeline(
    name="flags", pipeline_type="V2", role_arn="arn:aws:iam::123456789012:role/PipelineRole",
    artifact_store=pw.ArtifactStore(location="flags-artifacts"),
    stages=[pw.Stage(name="Source", actions=[source]), STAGE],
)
"""

STAGES = {
    "build": """
build = pw.Action(
    name="Compile", inputs=[src], action_type=pw.ActionType(category="Build", provider="CodeBuild"),
    configuration={"ProjectName": "web-build"},
)
STAGE = pw.Stage(name="Build", actions=[build])
""",
    "slow": """
slow = pw.Action(
    name="Slow", inputs=[src], action_type=pw.ActionType(category="Compute", provider="Commands"),
    commands=["sleep 30"],
)
STAGE = pw.Stage(name="Wait", actions=[slow])
""",
    "publish": """
publish = pw.Action(
    name="Publish", inputs=[src], action_type=pw.ActionType(category="Deploy", provider="S3"),
    configuration={"BucketName": "legacy_Bucket", "Extract": "true"},
)
STAGE = pw.Stage(name="Ship", actions=[publish])
""",
    "rule": """
say = pw.Action(
    name="Say", inputs=[src], action_type=pw.ActionType(category="Compute", provider="Commands"),
    commands=["echo shipped"],
)
scan = pw.Rule(name="Scan", rule_type=pw.RuleType(provider="CodeBuild"), configuration={"ProjectName": "scan"})
STAGE = pw.Stage(
    name="Ship", actions=[say],
    before_entry=pw.BeforeEntryConditions(conditions=pw.Condition(result="FAIL", rules=[scan])),
)
""",
}

SECRET_BUILDSPEC = """\
version: 0.2
env:
  secrets-manager:
    TOKEN: db-token
phases:
  build:
    commands:
      - echo token=$TOKEN
"""


def _project(tmp_path: Path, stage: str, *, buildspec_in_source: str | None = None) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "README").write_text("hello\n")
    if buildspec_in_source is not None:
        (tmp_path / "src" / "buildspec.yml").write_text(buildspec_in_source)
    (tmp_path / "p.py").write_text(HEAD + STAGES[stage] + TAIL)
    return tmp_path


def _run(cli: Cli, project: Path, *args: str) -> tuple[int, str]:
    result = cli("run", "p.py", "--plain", *args, cwd=project, stdin="")
    assert "Traceback" not in result.stdout + result.stderr
    return result.returncode, result.stdout + result.stderr


def test_buildspec_message_names_the_flag_and_the_flag_works(cli: Cli, tmp_path: Path) -> None:
    """No buildspec: the failure names --buildspec and LOCAL; --buildspec PROJECT=FILE supplies it."""
    project = _project(tmp_path, "build")
    (project / "bs.yml").write_text("version: 0.2\nphases:\n  build:\n    commands:\n      - cat README\n")

    code, out = _run(cli, project)
    assert 1 == code
    assert "--buildspec web-build=FILE (pipeweaver run)" in out
    assert "LOCAL = LocalEmulation(buildspecs={'web-build': " in out

    code, out = _run(cli, project, "--buildspec", "web-build=bs.yml")
    assert 0 == code, out
    assert "Build/Compile | hello" in out


def test_secret_message_names_the_secret_file_and_it_serves_and_masks(cli: Cli, tmp_path: Path) -> None:
    """A secret not given names --secret-file (never a flag taking the value); the file serves it, masked."""
    project = _project(tmp_path, "build", buildspec_in_source=SECRET_BUILDSPEC)
    (project / "secrets.env").write_text("db-token=s3cr3t-value\n")

    code, out = _run(cli, project)
    assert 1 == code
    assert "--secret-file FILE holding a line db-token=VALUE (pipeweaver run)" in out
    assert "LOCAL = LocalEmulation(secrets={'db-token': ...}) in the pipeline file" in out

    code, out = _run(cli, project, "--secret-file", "secrets.env")
    assert 0 == code, out
    assert "token=****" in out
    assert "s3cr3t-value" not in out


def test_bucket_message_names_the_flag_and_the_flag_maps_the_folder(cli: Cli, tmp_path: Path) -> None:
    """A bucket name S3 would refuse names --bucket and LOCAL; --bucket NAME=FOLDER deploys into FOLDER."""
    project = _project(tmp_path, "publish")

    code, out = _run(cli, project)
    assert 1 == code
    assert "--bucket legacy_Bucket=FOLDER (pipeweaver run)" in out
    assert "LOCAL = LocalEmulation(buckets={'legacy_Bucket': " in out

    code, out = _run(cli, project, "--bucket", "legacy_Bucket=out")
    assert 0 == code, out
    assert "hello\n" == (project / "out" / "README").read_text()


def test_timeout_message_names_the_flag_and_the_flag_sets_the_limit(cli: Cli, tmp_path: Path) -> None:
    """--timeout STAGE/ACTION=SECONDS limits the action, and the timeout message names the flag."""
    project = _project(tmp_path, "slow")

    code, out = _run(cli, project, "--timeout", "Wait/Slow=0.5")
    assert 1 == code
    assert "timed out after 0.5 s (the limit set for Wait/Slow by --timeout or timeouts=; change it with" in out
    assert "the action type's limit" not in out
    assert "--timeout Wait/Slow=SECONDS (pipeweaver run)" in out


def test_a_missing_buildspec_file_says_which_file_and_how_to_fix(cli: Cli, tmp_path: Path) -> None:
    """LOCAL's path is the pipeline file's neighbour, --buildspec's the current folder's: both name the file."""
    project = _project(tmp_path, "build")
    elsewhere = project / "elsewhere"
    elsewhere.mkdir()
    (project / "p.py").write_text(
        (project / "p.py").read_text()
        + "from pipeweaver.execution import LocalEmulation\n"
        + "LOCAL = LocalEmulation(buildspecs={'web-build': 'missing.yml'})\n"
    )

    local = cli("run", str(project / "p.py"), "--plain", cwd=elsewhere, stdin="")
    flag = cli("run", str(project / "p.py"), "--plain", "--buildspec", "web-build=nope.yml", cwd=elsewhere)

    assert 1 == local.returncode, local.stdout + local.stderr
    assert (
        f"the buildspec file for project 'web-build' does not exist: {project / 'missing.yml'} "
        "(a relative path in --buildspec is taken from the current folder, in LOCAL = "
        "LocalEmulation(buildspecs=...) from the pipeline file's folder); fix the path in "
        "--buildspec web-build=FILE (pipeweaver run)"
    ) in local.stdout
    assert "YAML mapping" not in local.stdout + local.stderr
    assert 2 == flag.returncode
    assert (
        f"--buildspec web-build=nope.yml: no such file ({elsewhere / 'nope.yml'}: a relative path is taken "
        "from the current folder); give the path of project web-build's buildspec file"
    ) in flag.stderr


def test_a_timed_out_build_leaves_nothing_after_the_summary(cli: Cli, tmp_path: Path) -> None:
    """The shell killed at a timeout finds its scratch folder until it is gone; nothing it says
    while it dies is printed after the run's summary, and the scratch folder is removed."""
    project = _project(tmp_path, "build")
    (project / "bs.yml").write_text(
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo started\n"
        "      - trap 'echo dying after the timeout' TERM; sleep 30\n"
    )
    scratch = tmp_path / "tmp"
    scratch.mkdir()

    result = cli(
        *("run", "p.py", "--plain", "--buildspec", "web-build=bs.yml", "--timeout", "Build/Compile=1"),
        *("--workdir", str(project / "wd")),
        cwd=project,
        env={"TMPDIR": str(scratch)},
    )
    out = result.stdout + result.stderr

    assert 1 == result.returncode, out
    assert "Build/Compile | started" in out
    assert "No such file or directory" not in out
    assert "pw-shell" not in out
    # the summary's last line (the failed action) is the last thing printed
    assert result.stdout.rstrip().splitlines()[-1].startswith("  Compile: timed out after 1 s"), out
    assert "" == result.stderr
    assert [] == sorted(p.name for p in scratch.iterdir())
    assert "dying after the timeout" not in out
    # what the shell said while it was ended stays in the action's log file
    [log] = (project / "wd" / "runs").rglob("Compile/1/log.txt")
    assert "dying after the timeout" in log.read_text()


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("Wait/Nope=1", "--timeout Wait/Nope=1: the pipeline has no action (or rule) Wait/Nope"),
        ("Wait/Slow=soon", "--timeout Wait/Slow=soon: give a number of seconds above 0"),
        ("Wait/Slow=0", "--timeout Wait/Slow=0: give a number of seconds above 0"),
        ("Wait/Slow", "--timeout 'Wait/Slow': expected STAGE/ACTION=SECONDS"),
    ],
)
def test_bad_timeouts_are_usage_errors(cli: Cli, tmp_path: Path, value: str, needle: str) -> None:
    """A misspelt action or a non-number is refused before anything runs (exit 2), naming the value."""
    project = _project(tmp_path, "slow")

    code, out = _run(cli, project, "--timeout", value)
    assert 2 == code
    assert needle in out


def test_rule_message_names_the_flag_and_the_flag_registers_the_handler(cli: Cli, tmp_path: Path) -> None:
    """A rule provider without a local handler names --rule; --rule PROVIDER=MODULE:CALLABLE gives one."""
    project = _project(tmp_path, "rule")
    (project / "rules.py").write_text("def passing(ctx):\n    return True\n")

    code, out = _run(cli, project)
    assert 1 == code
    assert "--rule CodeBuild=module:callable (pipeweaver run)" in out

    code, out = _run(cli, project, "--rule", "CodeBuild=rules:passing")
    assert 0 == code, out
    assert "Ship/Say | shipped" in out


TWO_PIPELINES = """\
Resources:
  First:
    Type: AWS::CodePipeline::Pipeline
    Properties: &props
      Name: first
      RoleArn: arn:aws:iam::123456789012:role/PipelineRole
      ArtifactStore: {Type: S3, Location: template-artifacts}
      Stages:
        - Name: Source
          Actions:
            - Name: Fetch
              ActionTypeId: {Category: Source, Owner: AWS, Provider: S3, Version: '1'}
              Configuration: {S3Bucket: src-bucket, S3ObjectKey: app.zip}
              OutputArtifacts: [{Name: Out}]
        - Name: Check
          Actions:
            - Name: Look
              ActionTypeId: {Category: Compute, Owner: AWS, Provider: Commands, Version: '1'}
              Commands: [cat README]
              InputArtifacts: [{Name: Out}]
  Second:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      <<: *props
      Name: second
"""


@pytest.mark.parametrize(
    "command",
    [
        ["run", "--plain", "--source", "Fetch=src"],
        ["graph"],
        ["synth"],
        ["triggers", "--branch", "main"],
        ["diff"],
        ["deploy"],
    ],
)
def test_logical_id_chooses_among_several_pipelines(cli: Cli, tmp_path: Path, command: list[str]) -> None:
    """A template with two pipelines is refused naming --logical-id, on every command taking such a TARGET."""
    project = _project(tmp_path, "build")
    (project / "two.yaml").write_text(TWO_PIPELINES)

    refused = cli(command[0], "two.yaml", *command[1:], cwd=project, stdin="")
    assert 0 != refused.returncode
    assert "say which one with --logical-id ID" in refused.stderr
    assert "pass --logical-id First or logical_id='First'" in refused.stderr
    assert "Traceback" not in refused.stderr

    if command[0] in ("diff", "deploy"):
        return  # past the choice they need AWS; the refusal above is what --logical-id changes
    chosen = cli(command[0], "two.yaml", *command[1:], "--logical-id", "Second", cwd=project, stdin="")
    assert "--logical-id" not in chosen.stderr, chosen.stderr
    if command[0] == "run":
        assert 0 == chosen.returncode, chosen.stdout + chosen.stderr
        assert "of second: Succeeded" in chosen.stdout


def test_logical_id_on_a_python_target_is_refused(cli: Cli, tmp_path: Path) -> None:
    """--logical-id on a target that is not a template is a usage error, not silently ignored."""
    project = _project(tmp_path, "build")

    result = cli("graph", "p.py", "--logical-id", "First", cwd=project)
    assert 2 == result.returncode
    assert "--logical-id First chooses a pipeline of a CloudFormation template" in result.stderr
