"""Buildspecs and the templates a local CloudFormation action reads go through the one bounded YAML loader."""

from __future__ import annotations

import time
from pathlib import Path

import pipeweaver as pw
from pipeweaver.execution import ActionRecord, ExecutionStatus, LocalExecutor

from .conftest import commit, pipeline, source_action

SRC = pw.Artifact("SourceOutput")


def _laughs(levels: int = 9, width: int = 9) -> str:
    """A "billion laughs": 9 lines whose aliases stand for 9**9 (387 million) strings."""
    lines = ["x-a0: &a0 [" + ",".join(['"lol"'] * width) + "]"]
    lines += [f"x-a{n}: &a{n} [" + ",".join([f"*a{n - 1}"] * width) + "]" for n in range(1, levels)]
    return "\n".join(lines) + "\n"


def _build(tmp_path: Path, repo: Path, spec: object, override: str | None = None) -> ActionRecord:
    configuration = {"ProjectName": "proj"} | ({"BuildspecOverride": override} if override is not None else {})
    p = pipeline(
        pw.Stage(name="Source", actions=[source_action()]),
        pw.Stage(
            name="Build",
            actions=[
                pw.Action(
                    name="B",
                    action_type=pw.ActionType(category="Build", provider="CodeBuild"),
                    configuration=configuration,
                    inputs=[SRC],
                )
            ],
        ),
    )
    buildspecs = {"proj": spec} if spec is not None else {}
    execution = LocalExecutor(tmp_path / "wd", sources={"Source": repo}, buildspecs=buildspecs).run(p)
    return execution.action("Build", "B")


def test_billion_laughs_buildspec_is_refused_quickly(tmp_path: Path, repo: Path) -> None:
    """A buildspec whose aliases stand for 387 million values fails its action at once, naming the aliases."""
    spec = "version: 0.2\n" + _laughs() + "phases:\n  build:\n    commands:\n      - echo built\n"
    start = time.perf_counter()

    action = _build(tmp_path, repo, spec)

    assert ExecutionStatus.FAILED == action.status
    assert "buildspec is not readable YAML" in (action.error or "")
    assert "aliases" in (action.error or "")
    assert time.perf_counter() - start < 30


def test_duplicate_buildspec_key_is_an_error_naming_key_and_line(tmp_path: Path, repo: Path) -> None:
    """A phase written twice fails the action naming the key and its line, instead of running the last copy."""
    spec = "version: 0.2\nphases:\n  build:\n    commands: [echo first]\n  build:\n    commands: [echo second]\n"

    action = _build(tmp_path, repo, spec)

    assert ExecutionStatus.FAILED == action.status
    assert "duplicate key 'build' at line 5" in (action.error or "")


def test_buildspec_dates_stay_text_and_tags_stay_refused(tmp_path: Path, repo: Path) -> None:
    """A date-like value reaches the command as written; a CloudFormation tag in a buildspec is refused as before."""
    spec = (
        "version: 0.2\nenv:\n  variables:\n    RELEASE: 2024-01-31\nphases:\n  build:\n    commands: [echo $RELEASE]\n"
    )
    ok = _build(tmp_path / "ok", repo, spec)
    tagged = _build(tmp_path / "tagged", repo, spec.replace("2024-01-31", "!Ref Release"))

    assert ExecutionStatus.SUCCEEDED == ok.status
    assert "2024-01-31" in Path(ok.log_file or "").read_text().splitlines()
    assert ExecutionStatus.FAILED == tagged.status
    assert "could not determine a constructor for the tag '!Ref'" in (tagged.error or "")


def test_a_missing_buildspec_file_is_named_not_parsed_as_yaml(tmp_path: Path, repo: Path) -> None:
    """A path to no file says so (which file, relative to what, how to fix), never "must be a YAML mapping"."""
    commit(repo, {"ci/real.yml": "version: 0.2\nphases:\n  build:\n    commands: [echo from-file]\n"}, "spec")
    inline = "{version: 0.2, phases: {build: {commands: [echo inline-one-liner]}}}"

    override = _build(tmp_path / "override", repo, None, override="ci/buildspec.yml")
    mapped = _build(tmp_path / "mapped", repo, str(tmp_path / "missing.yml"))
    typed = _build(tmp_path / "typed", repo, tmp_path / "missing.yml")
    found = _build(tmp_path / "found", repo, None, override="ci/real.yml")
    one_line = _build(tmp_path / "inline", repo, None, override=inline)

    assert ExecutionStatus.FAILED == override.status
    assert (override.error or "").startswith(
        "BuildspecOverride 'ci/buildspec.yml' names no file: ci/buildspec.yml does not exist in the primary "
        "source (input artifact SourceOutput; action Build/B, stages[1].actions[0].configuration.BuildspecOverride); "
        "add the file to the source, fix the path"
    ), override.error
    for record in (mapped, typed):
        assert ExecutionStatus.FAILED == record.status
        assert (record.error or "").startswith(
            f"the buildspec file for project 'proj' does not exist: {tmp_path / 'missing.yml'} "
        ), record.error
        assert "LocalExecutor(buildspecs={'proj': ...})" in (record.error or "")
        assert "YAML mapping" not in (record.error or "")
    assert ExecutionStatus.SUCCEEDED == found.status, found.error
    assert "from-file" in Path(found.log_file or "").read_text().splitlines()
    assert ExecutionStatus.SUCCEEDED == one_line.status, one_line.error
    assert "inline-one-liner" in Path(one_line.log_file or "").read_text().splitlines()


def _deploy(tmp_path: Path, repo: Path, template: str) -> ActionRecord:
    commit(repo, {"template.yaml": template}, "template")
    p = pipeline(
        pw.Stage(name="Source", actions=[source_action()]),
        pw.Stage(
            name="Deploy",
            actions=[
                pw.Action(
                    name="Stack",
                    action_type=pw.ActionType(category="Deploy", provider="CloudFormation"),
                    configuration={
                        "ActionMode": "CREATE_UPDATE",
                        "StackName": "s",
                        "TemplatePath": "SourceOutput::template.yaml",
                        "RoleArn": "arn:aws:iam::123456789012:role/cfn",
                    },
                    inputs=[SRC],
                )
            ],
        ),
    )
    return LocalExecutor(tmp_path / "wd", sources={"Source": repo}).run(p).action("Deploy", "Stack")


def test_local_cloudformation_action_reads_templates_through_the_bounded_loader(tmp_path: Path, repo: Path) -> None:
    """The simulated CloudFormation deploy reads short-form tags, and refuses an alias bomb in its template."""
    good = "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Sub '${AWS::StackName}-b'\n"

    ok = _deploy(tmp_path / "ok", repo, good)
    bomb = _deploy(tmp_path / "bomb", repo, good + _laughs())

    assert ExecutionStatus.SUCCEEDED == ok.status, ok.error
    assert "(1 resources)" in (ok.summary or "")
    assert ExecutionStatus.FAILED == bomb.status
    assert "aliases" in (bomb.error or "")
