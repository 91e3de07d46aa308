"""pipeweaver.testing: fakes, the runner and the assertions, on real local executions."""

from __future__ import annotations

from pathlib import Path

import pytest

import pipeweaver as pw
from pipeweaver.testing import (
    assert_artifact_contains,
    assert_never_ran,
    assert_ran,
    assert_ran_before,
    assert_succeeded,
    fake,
    read_artifact,
    recording,
    run_with_fakes,
)

TEMPLATE = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"


def test_unfaked_actions_get_succeeding_fakes(release: pw.Pipeline, tmp_path: Path) -> None:
    """Actions without a fake run a succeeding one and the approval is auto-approved."""
    execution = run_with_fakes(release, {"Build": fake(variables={"Version": "7"})}, workdir=tmp_path)

    assert_succeeded(execution)
    assert ["Source", "Build", "UnitTest", "Approve", "Deploy"] == [a.name for a in execution.actions]


def test_fake_outputs_reach_the_artifact_store(release: pw.Pipeline, tmp_path: Path) -> None:
    """Files a fake writes are zipped into its output artifact, readable with the helpers."""
    build = fake(outputs={"BuildOutput": {"template.yaml": TEMPLATE, "bin/app": b"\x7fELF"}})
    execution = run_with_fakes(release, {"Build": build}, workdir=tmp_path)

    assert TEMPLATE.encode() == assert_artifact_contains(execution, "BuildOutput", "template.yaml", TEMPLATE)
    assert {"template.yaml", "bin/app"} == set(read_artifact(execution, "BuildOutput"))


def test_failing_fake_blocks_everything_after_it(release: pw.Pipeline, tmp_path: Path) -> None:
    """fake(fail=...) fails its action with the message; later stages never run."""
    execution = run_with_fakes(release, {"UnitTest": fake(fail="3 tests failed")}, workdir=tmp_path)

    assert "Failed" == execution.status
    assert "3 tests failed" in (assert_ran(execution, "Test/UnitTest").error or "")
    assert_never_ran(execution, "Deploy")
    assert_never_ran(execution, "Release/Approve")


def test_recording_handler_sees_resolved_variables_and_inputs(release: pw.Pipeline, tmp_path: Path) -> None:
    """A recording handler captures the configuration with upstream variables resolved and the input files."""
    deploy = recording()
    build = fake(variables={"Version": "42"}, outputs={"BuildOutput": {"template.yaml": TEMPLATE}})
    run_with_fakes(release, {"Build": build, "Deploy": deploy}, workdir=tmp_path)

    assert 1 == len(deploy.calls)
    assert "app-42" == deploy.last.configuration["StackName"]
    assert {"template.yaml": TEMPLATE.encode()} == deploy.last.inputs["BuildOutput"]


def test_assert_ran_before_checks_order(release: pw.Pipeline, tmp_path: Path) -> None:
    """assert_ran_before passes for the real order and explains a reversed one."""
    execution = run_with_fakes(release, {"Build": fake(variables={"Version": "7"})}, workdir=tmp_path)

    assert_ran_before(execution, "Build", "Deploy")
    with pytest.raises(AssertionError, match=r"started at .* before Deploy ended"):
        assert_ran_before(execution, "Deploy", "Build")


def test_assertions_explain_what_ran(release: pw.Pipeline, tmp_path: Path) -> None:
    """Failed assertions name the action and list what ran."""
    execution = run_with_fakes(release, {"Build": fake(fail="compile error")}, workdir=tmp_path)

    with pytest.raises(AssertionError, match=r"Deploy never ran .* ran: Source/Source=Succeeded, Build/Build=Failed"):
        assert_ran(execution, "Deploy")
    with pytest.raises(AssertionError, match=r"Build ran \(Failed\) but should not have"):
        assert_never_ran(execution, "Build")
    with pytest.raises(AssertionError, match="ended Failed: Build/Build: compile error"):
        assert_succeeded(execution)
    with pytest.raises(AssertionError, match="stored no artifact 'BuildOutput'"):
        read_artifact(execution, "BuildOutput")


def test_rejected_approval_stops_the_release(release: pw.Pipeline, tmp_path: Path) -> None:
    """approval='reject' fails the approval action and the deploy never runs."""
    execution = run_with_fakes(release, workdir=tmp_path, approval="reject")

    assert "Failed" == assert_ran(execution, "Approve").status
    assert_never_ran(execution, "Deploy")


def test_missing_variable_fails_the_consumer(release: pw.Pipeline, tmp_path: Path) -> None:
    """A variable the producer never set fails the action that references it, as on AWS."""
    execution = run_with_fakes(release, {"Build": fake(documented_variables=False)}, workdir=tmp_path)

    assert "#{BuildVariables.Version} cannot be resolved" in (assert_ran(execution, "Deploy").error or "")


def test_fake_writing_an_undeclared_artifact_fails_clearly(release: pw.Pipeline, tmp_path: Path) -> None:
    """A fake that writes an artifact its action does not declare fails, naming the declared outputs."""
    execution = run_with_fakes(release, {"Build": fake(outputs={"Typo": {"a": "b"}})}, workdir=tmp_path)

    assert "writes artifacts ['Typo'] the action does not declare; its outputs are ['BuildOutput']" in (
        assert_ran(execution, "Build").error or ""
    )


def test_unknown_fake_key_is_a_key_error(release: pw.Pipeline, tmp_path: Path) -> None:
    """A fake for an action the pipeline does not have is refused before anything runs."""
    with pytest.raises(KeyError, match=r"the pipeline has no action 'Deploi'; did you mean 'Deploy'\?"):
        run_with_fakes(release, {"Deploi": fake()}, workdir=tmp_path)
    with pytest.raises(KeyError, match="'Nothing/Like/It' names 0 actions; use 'Stage/Action' with one of"):
        run_with_fakes(release, {"Nothing/Like/It": fake()}, workdir=tmp_path)


def test_builtin_mode_runs_real_handlers_for_unfaked_actions(tmp_path: Path) -> None:
    """others='builtin' runs the executor's own handlers (here a real Commands action) beside a fake source."""
    src = pw.Artifact("Src")
    pipeline = pw.Pipeline(
        name="mixed",
        role_arn="arn:aws:iam::123456789012:role/PipelineRole",
        artifact_store=pw.ArtifactStore(location="mixed-artifacts"),
        stages=[
            pw.Stage(
                name="Source",
                actions=[
                    pw.Action(
                        name="Source",
                        outputs=[src],
                        action_type=pw.ActionType(category="Source", provider="S3"),
                        configuration={"S3Bucket": "b-src", "S3ObjectKey": "k.zip", "PollForSourceChanges": "false"},
                    )
                ],
            ),
            pw.Stage(
                name="Check",
                actions=[
                    pw.Action(
                        name="Lint",
                        inputs=[src],
                        action_type=pw.ActionType(category="Compute", provider="Commands"),
                        commands=["grep -q 'print' main.py"],
                    )
                ],
            ),
        ],
    )
    source = fake(outputs={"Src": {"main.py": "print('hi')\n"}})
    execution = run_with_fakes(pipeline, {"Source": source}, workdir=tmp_path, others="builtin")

    assert_succeeded(execution)
    assert "1 command(s) succeeded" == assert_ran(execution, "Lint").summary
