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
    "invoke": """
notify = pw.Action(
    name="Notify", action_type=pw.ActionType(category="Invoke", provider="Lambda"),
    configuration={"FunctionName": "notify"},
)
STAGE = pw.Stage(name="Tell", actions=[notify])
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
    # the summary (its actions, then its artifacts) is the last thing printed
    summary = result.stdout.rstrip().split(" of flags: Failed\n", 1)[1].splitlines()
    assert summary[1].startswith("  Build/Compile: Failed in "), out
    assert ["  artifact Src"] == [line.split(":")[0] for line in summary[2:]], out
    assert "" == result.stderr
    assert [] == sorted(p.name for p in scratch.iterdir())
    assert "dying after the timeout" not in out
    # what the shell said while it was ended stays in the action's log file
    [log] = (project / "wd" / "runs").rglob("Compile/1/log.txt")
    assert "dying after the timeout" in log.read_text()


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        (
            "Wait/Nope=1",
            "--timeout Wait/Nope=1: the pipeline has no action (or rule) 'Wait/Nope' "
            "(--timeout takes STAGE/ACTION or STAGE/rule:RULE); did you mean Wait/Slow? "
            "the pipeline's: Source/Source, Wait/Slow",
        ),
        (
            "Wait/Slwo=1",
            "--timeout Wait/Slwo=1: the pipeline has no action (or rule) 'Wait/Slwo' "
            "(--timeout takes STAGE/ACTION or STAGE/rule:RULE); did you mean Wait/Slow? "
            "the pipeline's: Source/Source, Wait/Slow",
        ),
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
    if command[0] == "triggers":
        # the chosen pipeline was judged: an S3-sourced pipeline starts on no git event
        assert (1, "DOES NOT START: the pipeline has no git source action\n") == (chosen.returncode, chosen.stdout)
        return
    assert 0 == chosen.returncode, chosen.stdout + chosen.stderr
    if command[0] == "run":
        assert "of second: Succeeded" in chosen.stdout
    if command[0] == "synth":
        assert '"name": "second"' in chosen.stdout


def test_logical_id_on_a_python_target_is_refused(cli: Cli, tmp_path: Path) -> None:
    """--logical-id on a target that is not a template is a usage error, not silently ignored."""
    project = _project(tmp_path, "build")

    result = cli("graph", "p.py", "--logical-id", "First", cwd=project)
    assert 2 == result.returncode
    assert "--logical-id First chooses a pipeline of a CloudFormation template" in result.stderr


@pytest.mark.parametrize(
    ("stage", "flag", "value", "needle"),
    [
        (
            "build",
            "--source",
            "Nope=src",
            "--source Nope=src: the pipeline has no source action 'Nope' (--source takes STAGE/ACTION or ACTION); "
            "the pipeline's: Source, Source/Source",
        ),
        (
            "build",
            "--source",
            "Sorce=src",
            "--source Sorce=src: the pipeline has no source action 'Sorce' (--source takes STAGE/ACTION or "
            "ACTION); did you mean Source? the pipeline's: Source, Source/Source",
        ),
        (
            "build",
            "--buildspec",
            "web-bild=bs.yml",
            "--buildspec web-bild=bs.yml: the pipeline has no CodeBuild project 'web-bild' (--buildspec takes its "
            "ProjectName); did you mean web-build? the pipeline's: web-build",
        ),
        (
            "publish",
            "--bucket",
            "legacy_Bukcet=out",
            "--bucket legacy_Bukcet=out: the pipeline has no S3 bucket 'legacy_Bukcet' (--bucket takes its "
            "BucketName or S3Bucket); did you mean legacy_Bucket? the pipeline's: b-source, legacy_Bucket",
        ),
        (
            "invoke",
            "--function",
            "notfy=hooks:notify",
            "--function notfy=hooks:notify: the pipeline has no Lambda function 'notfy' (--function takes its "
            "FunctionName); did you mean notify? the pipeline's: notify",
        ),
        (
            "slow",
            "--buildspec",
            "web-build=bs.yml",
            "--buildspec web-build=bs.yml: the pipeline has no CodeBuild project 'web-build' (--buildspec takes "
            "its ProjectName); it has no CodeBuild project",
        ),
    ],
)
def test_stand_in_flags_for_names_the_pipeline_lacks_are_usage_errors(
    cli: Cli, tmp_path: Path, stage: str, flag: str, value: str, needle: str
) -> None:
    """A misspelt name in --source/--buildspec/--bucket/--function is refused before anything runs (exit 2).

    The executor looks stand-ins up by name, so the misspelt flag used to be ignored silently.
    """
    project = _project(tmp_path, stage)
    (project / "bs.yml").write_text("version: 0.2\nphases:\n  build:\n    commands:\n      - true\n")
    (project / "hooks.py").write_text("def notify(event):\n    return None\n")

    code, out = _run(cli, project, flag, value)
    assert 2 == code, out
    assert needle in out
    assert "Source/Source:" not in out  # nothing ran


def test_function_flag_for_a_name_the_pipeline_has_runs(cli: Cli, tmp_path: Path) -> None:
    """The check lets through a FunctionName the pipeline has."""
    project = _project(tmp_path, "invoke")
    (project / "hooks.py").write_text(
        "import boto3\n\n"
        "def notify(event):\n"
        "    job = event['CodePipeline.job']['id']\n"
        "    boto3.client('codepipeline', region_name='us-east-1').put_job_success_result(jobId=job)\n"
    )

    code, out = _run(cli, project, "--function", "notify=hooks:notify")
    assert 0 == code, out


@pytest.mark.parametrize(
    ("setting", "needle"),
    [
        ('LOCAL_SOURCES = {"Source": "ap"}', "LOCAL_SOURCES['Source'] in p.py: no such file or folder "),
        (
            'from pipeweaver.execution import LocalEmulation\nLOCAL = LocalEmulation(sources={"Source": "ap"})',
            "LOCAL = LocalEmulation(sources={'Source': 'ap'}) in p.py: no such file or folder ",
        ),
    ],
)
def test_a_missing_source_folder_in_the_file_names_the_setting(
    cli: Cli, tmp_path: Path, setting: str, needle: str
) -> None:
    """A bad path from the pipeline file names the setting and the file, not a --source never typed."""
    project = _project(tmp_path, "build")
    text = (project / "p.py").read_text().replace('LOCAL_SOURCES = {"Source": "src"}', setting)
    (project / "p.py").write_text(text)

    code, out = _run(cli, project)
    assert 1 == code, out
    assert needle in out
    assert "give one with --source Source=PATH" in out
    assert "--source Source=" + str(project) not in out
    assert "Source/Source:" not in out  # nothing ran

    # --source replaces the file's entry, so the bad path does not matter then.
    code, out = _run(cli, project, "--source", "Source=src", "--buildspec", "web-build=bs.yml")
    assert "no such file or folder" not in out


def test_a_misspelt_var_is_a_usage_error_with_a_near_name(cli: Cli, tmp_path: Path) -> None:
    """--var for a variable the pipeline does not declare is the flag's mistake: exit 2, naming --var."""
    project = _project(tmp_path, "slow")
    text = (
        (project / "p.py")
        .read_text()
        .replace(
            'pipeline_type="V2",',
            'pipeline_type="V2", variables=[pw.Variable(name="environment", default_value="dev")],',
        )
    )
    (project / "p.py").write_text(text)

    code, out = _run(cli, project, "--var", "enviroment=prod")
    assert 2 == code, out
    assert (
        "--var enviroment=prod: the pipeline has no variable 'enviroment' (--var takes a variable the pipeline "
        "declares); did you mean environment? the pipeline's: environment"
    ) in out
    assert "cannot run locally" not in out


def test_a_failure_message_is_printed_once_in_the_summary(cli: Cli, tmp_path: Path) -> None:
    """The failed action's line carries its error; the execution's summary does not repeat it."""
    project = _project(tmp_path, "slow")
    text = (project / "p.py").read_text().replace('commands=["sleep 30"]', 'commands=["exit 3"]')
    (project / "p.py").write_text(text)

    code, out = _run(cli, project)
    assert 1 == code, out
    summary = out.split(" of flags: Failed\n", 1)[1]
    line = next(x for x in summary.splitlines() if x.startswith("  Wait/Slow: Failed in "))
    error = line.split(" - ", 1)[1]
    assert error
    assert 1 == summary.count(error), summary
