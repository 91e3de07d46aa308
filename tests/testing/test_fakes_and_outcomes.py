"""Fakes publish their provider's variables; run_with_fakes in the fixture's executor; rollback and stage assertions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import pipeweaver as pw
from pipeweaver.execution import ActionContext, ActionFailed, LocalExecutor
from pipeweaver.testing import (
    assert_rolled_back,
    assert_stage_outcome,
    assert_succeeded,
    fake,
    recording,
    run_with_fakes,
)


def test_a_fake_source_publishes_the_variables_its_provider_documents(release: pw.Pipeline, tmp_path: Path) -> None:
    """An S3 source fake publishes BucketName, ETag, ObjectKey and VersionId, as the S3 source action does."""
    execution = run_with_fakes(release, workdir=tmp_path)

    published = execution.action("Source", "Source").output_variables
    assert {"BucketName", "ETag", "ObjectKey", "VersionId"} <= set(published)
    assert re.fullmatch(r"[0-9a-f]{32}", published["ETag"])


def test_a_fake_publishes_what_the_pipeline_reads_from_its_namespace(release: pw.Pipeline, tmp_path: Path) -> None:
    """CodeBuild's variables depend on its buildspec; the fake publishes those the pipeline reads, so consumers resolve."""
    deploy = recording()

    execution = run_with_fakes(release, {"Deploy": deploy}, workdir=tmp_path)

    assert_succeeded(execution)
    assert "app-fake-Version" == deploy.last.configuration["StackName"]


def test_given_variables_override_the_stand_ins(release: pw.Pipeline, tmp_path: Path) -> None:
    deploy = recording()

    run_with_fakes(release, {"Build": fake(variables={"Version": "1.4.2"}), "Deploy": deploy}, workdir=tmp_path)

    assert "app-1.4.2" == deploy.last.configuration["StackName"]


def test_run_with_fakes_runs_in_the_fixtures_executor(release: pw.Pipeline, pipeweaver_executor: LocalExecutor) -> None:
    """The pipeweaver_executor fixture and run_with_fakes work together: the run lands in the fixture's history."""
    deploy = recording()

    execution = run_with_fakes(release, {"Deploy": deploy}, executor=pipeweaver_executor)

    assert_succeeded(execution)
    assert deploy.called
    assert [execution.id] == [e.id for e in pipeweaver_executor.history()]


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"workdir": "x", "executor": "y"}],
    ids=["neither", "both"],
)
def test_run_with_fakes_needs_one_place_to_run(release: pw.Pipeline, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"pass workdir= .* or executor="):
        run_with_fakes(release, **kwargs)  # type: ignore[arg-type]


def test_assert_stage_outcome_names_every_stage_when_it_fails(release: pw.Pipeline, tmp_path: Path) -> None:
    execution = run_with_fakes(release, {"UnitTest": fake(fail="2 tests failed")}, workdir=tmp_path)

    assert_stage_outcome(execution, "Test", "Failed")
    assert_stage_outcome(execution, "Build", pw.execution.StageStatus.SUCCEEDED)
    with pytest.raises(AssertionError, match=r"stage Test ended Failed, not Succeeded; stages: Source=Succeeded, "):
        assert_stage_outcome(execution, "Test", "Succeeded")
    with pytest.raises(AssertionError, match="stage Release never ran"):
        assert_stage_outcome(execution, "Release", "Succeeded")


def _rollback_pipeline() -> pw.Pipeline:
    src = pw.Artifact("Src")
    return pw.Pipeline(
        name="site",
        pipeline_type="V2",
        role_arn="arn:aws:iam::123456789012:role/p",
        artifact_store=pw.ArtifactStore(location="bucket"),
        stages=[
            pw.Stage(
                name="Source",
                actions=[
                    pw.Action(
                        name="Source",
                        action_type=pw.ActionType(category="Source", provider="S3"),
                        configuration={"S3Bucket": "b", "S3ObjectKey": "site.zip", "PollForSourceChanges": "false"},
                        outputs=[src],
                    )
                ],
            ),
            pw.Stage(
                name="Deploy",
                actions=[
                    pw.Action(
                        name="Publish",
                        action_type=pw.ActionType(category="Deploy", provider="S3"),
                        configuration={"BucketName": "www", "Extract": "true"},
                        inputs=[src],
                    )
                ],
                on_failure=pw.FailureConditions(result="ROLLBACK"),
            ),
        ],
    )


def _publish(ctx: ActionContext) -> None:
    """Deploys anything but version 2, which fails its smoke test."""
    if (ctx.inputs["Src"] / "version.txt").read_text() == "2":
        raise ActionFailed("smoke test failed on version 2")


def test_assert_rolled_back_finds_the_rollback_that_restored_the_stage(tmp_path: Path) -> None:
    site = _rollback_pipeline()
    good = run_with_fakes(
        site, {"Source": fake(outputs={"Src": {"version.txt": "1"}}), "Publish": _publish}, workdir=tmp_path
    )
    bad = run_with_fakes(
        site, {"Source": fake(outputs={"Src": {"version.txt": "2"}}), "Publish": _publish}, workdir=tmp_path
    )

    rollback = assert_rolled_back(bad, "Deploy", workdir=tmp_path)

    assert_succeeded(good)
    assert (good.id, "ROLLBACK") == (rollback.rollback_target, rollback.execution_type)
    with pytest.raises(AssertionError, match=f"no automatic rollback followed execution {good.id}"):
        assert_rolled_back(good, "Deploy", workdir=tmp_path)
