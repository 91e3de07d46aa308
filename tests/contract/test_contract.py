"""One contract, two executors: each test drives the executor through its public API and reads
the same :class:`~pipeweaver.execution.Execution` whether the pipeline ran in this process
(LocalExecutor) or on CodePipeline (CodePipelineExecutor; moto and a Stubber stand in for AWS).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import pipeweaver as pw
from pipeweaver.execution import ActionStatus, Execution, ExecutionStatus, StageStatus

from .conftest import Backend, Outcome, make_backend, shape

ROLE = "arn:aws:iam::123456789012:role/PipelineRole"
SRC = pw.Artifact("SourceOutput")
BUILT = pw.Artifact("BuildOutput")


def _source() -> pw.Stage:
    return pw.Stage(
        name="Source",
        actions=[
            pw.Action(
                name="Fetch",
                action_type=pw.ActionType(category="Source", provider="S3"),
                configuration={"S3Bucket": "acme-sources", "S3ObjectKey": "web.zip", "PollForSourceChanges": "false"},
                outputs=[SRC],
                namespace="SourceVariables",
            )
        ],
    )


def _build() -> pw.Stage:
    return pw.Stage(
        name="Build",
        actions=[
            pw.Action(
                name="Compile",
                action_type=pw.ActionType(category="Build", provider="CodeBuild"),
                configuration={"ProjectName": "web-build"},
                inputs=[SRC],
                outputs=[BUILT],
                namespace="BuildVariables",
            )
        ],
    )


def _checks() -> pw.Stage:
    def check(name: str, order: int) -> pw.Action:
        return pw.Action(
            name=name,
            action_type=pw.ActionType(category="Test", provider="CodeBuild"),
            configuration={"ProjectName": f"web-{name.lower()}"},
            inputs=[BUILT],
            run_order=order,
        )

    return pw.Stage(name="Test", actions=[check("Unit", 1), check("Lint", 1), check("Smoke", 2)])


def _approval() -> pw.Stage:
    return pw.Stage(
        name="Approve",
        actions=[pw.Action(name="Release", action_type=pw.ActionType(category="Approval", provider="Manual"))],
    )


def _deploy() -> pw.Stage:
    return pw.Stage(
        name="Deploy",
        actions=[
            pw.Action(
                name="Upload",
                action_type=pw.ActionType(category="Deploy", provider="S3"),
                configuration={"BucketName": "acme-site", "Extract": "true"},
                inputs=[BUILT],
            )
        ],
    )


def _pipeline(*stages: pw.Stage, **extra: object) -> pw.Pipeline:
    return pw.Pipeline(
        name="contract",
        role_arn=ROLE,
        artifact_store=pw.ArtifactStore(location="acme-artifacts"),
        stages=[_source(), _build(), *stages],
        **extra,  # type: ignore[arg-type]
    )


def _run(backend: Backend, pipeline: pw.Pipeline, script: dict[str, Outcome], **variables: str) -> Execution:
    handle = backend.start(pipeline, script, variables or None)
    execution = handle.wait(30)
    assert execution.status.is_terminal, f"{backend.name}: still {execution.status} after 30 s"
    return execution


def test_a_successful_run(backend: Backend) -> None:
    """Every stage succeeds; the build's output variables and summary come back as recorded."""
    pipeline = _pipeline(_deploy())
    script = {"Build/Compile": Outcome(variables={"IMAGE_TAG": "1.4.2"}, summary="built 1.4.2")}

    execution = _run(backend, pipeline, script)

    assert execution.status is ExecutionStatus.SUCCEEDED
    assert [(s.name, s.status) for s in execution.stages] == [
        ("Source", StageStatus.SUCCEEDED),
        ("Build", StageStatus.SUCCEEDED),
        ("Deploy", StageStatus.SUCCEEDED),
    ]
    build = execution.action("Build", "Compile")
    assert (build.status, dict(build.output_variables), build.summary) == (
        ActionStatus.SUCCEEDED,
        {"IMAGE_TAG": "1.4.2"},
        "built 1.4.2",
    )
    assert shape(execution) == {
        "pipeline": "contract",
        "status": ExecutionStatus.SUCCEEDED,
        "execution_type": "STANDARD",
        "trigger": "StartPipelineExecution",
        "variables": {},
        "stages": [
            ("Source", StageStatus.SUCCEEDED, 1),
            ("Build", StageStatus.SUCCEEDED, 1),
            ("Deploy", StageStatus.SUCCEEDED, 1),
        ],
        "actions": [
            ("Source", "Fetch", ActionStatus.SUCCEEDED, 1, {}, "done", None),
            ("Build", "Compile", ActionStatus.SUCCEEDED, 1, {"IMAGE_TAG": "1.4.2"}, "built 1.4.2", None),
            ("Deploy", "Upload", ActionStatus.SUCCEEDED, 1, {}, "done", None),
        ],
    }


def test_a_failed_action_fails_its_stage_and_stops_the_pipeline(backend: Backend) -> None:
    """The failed build's message is the action's error; the deploy never starts."""
    pipeline = _pipeline(_deploy())

    execution = _run(backend, pipeline, {"Build/Compile": Outcome(fail="2 tests failed")})

    assert execution.status is ExecutionStatus.FAILED
    assert [(s.name, s.status) for s in execution.stages] == [
        ("Source", StageStatus.SUCCEEDED),
        ("Build", StageStatus.FAILED),
    ]
    assert (execution.action("Build", "Compile").status, execution.action("Build", "Compile").error) == (
        ActionStatus.FAILED,
        "2 tests failed",
    )
    assert not execution.ran("Deploy", "Upload")
    assert "2 tests failed" in (execution.stage("Build").error or "")


def test_run_order_inside_a_stage(backend: Backend) -> None:
    """Actions of one run order all run; a failure among them keeps the next run order from starting."""
    pipeline = _pipeline(_checks(), _deploy())

    execution = _run(backend, pipeline, {"Test/Unit": Outcome(fail="1 failure")})

    assert execution.status is ExecutionStatus.FAILED
    assert sorted((a.name, a.status) for a in execution.actions if a.stage == "Test") == [
        ("Lint", ActionStatus.SUCCEEDED),
        ("Unit", ActionStatus.FAILED),
    ]
    assert not execution.ran("Test", "Smoke")
    assert execution.stage("Test").status is StageStatus.FAILED


def test_pipeline_variables_given_and_defaulted(backend: Backend) -> None:
    """A V2 pipeline's variables: the value given at start, and the default of the one not given."""
    pipeline = _pipeline(
        _deploy(),
        pipeline_type="V2",
        variables=[pw.Variable(name="Env", default_value="dev"), pw.Variable(name="Region", default_value="eu")],
    )

    execution = _run(backend, pipeline, {}, Env="prod")

    assert execution.succeeded
    assert dict(execution.variables) == {"Env": "prod", "Region": "eu"}


def test_a_manual_approval_answered_by_the_policy(backend: Backend) -> None:
    """With an approving policy the approval succeeds and the pipeline carries on."""
    pipeline = _pipeline(_approval(), _deploy())

    execution = _run(backend, pipeline, {})

    assert execution.succeeded
    assert execution.action("Approve", "Release").status is ActionStatus.SUCCEEDED
    assert execution.action("Approve", "Release").summary
    assert [s.name for s in execution.stages] == ["Source", "Build", "Approve", "Deploy"]


def test_the_executor_reads_the_execution_back(backend: Backend) -> None:
    """Executor.execution(id) and Executor.history(pipeline) return the record the handle ended with."""
    pipeline = _pipeline(_deploy())
    finished = _run(backend, pipeline, {"Build/Compile": Outcome(variables={"V": "1"})})

    again = backend.executor.execution(finished.id)
    listed = backend.executor.history(pipeline, limit=10)

    assert shape(again) == shape(finished)
    assert [e.id for e in listed] == [finished.id]
    assert shape(listed[0]) == shape(finished)


SCENARIOS = {
    "success": (_pipeline(_checks(), _deploy()), {"Build/Compile": Outcome(variables={"TAG": "7"}, summary="ok")}),
    "build fails": (_pipeline(_deploy()), {"Build/Compile": Outcome(fail="compile error")}),
    "check fails": (_pipeline(_checks(), _deploy()), {"Test/Lint": Outcome(fail="3 warnings")}),
    "approval": (_pipeline(_approval(), _deploy()), {"Deploy/Upload": Outcome(summary="uploaded 12 files")}),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_both_executors_read_the_same_execution(scenario: str, tmp_path: Path) -> None:
    """The same scenario, run by each executor, reads back as the same record (ids and clocks aside)."""
    pipeline, script = SCENARIOS[scenario]
    shapes = {}
    errors = {}
    for name in ("local", "codepipeline"):
        with make_backend(name, tmp_path / name) as backend:
            execution = _run(backend, pipeline, script)
        shapes[name] = shape(execution)
        # parallel actions of one run order start in either order
        shapes[name]["actions"].sort(key=lambda a: (a[0], a[1], a[3]))
        errors[name] = [
            (s.name, [a.error for a in execution.actions if a.stage == s.name and a.error], s.error)
            for s in execution.stages
            if s.status is StageStatus.FAILED
        ]

    assert shapes["local"] == shapes["codepipeline"]
    for name, failed in errors.items():
        # each failed stage's error carries its failed actions' messages, in either executor's words
        assert all(all(m in (error or "") for m in messages) for _stage, messages, error in failed), name
    assert [(s, m) for s, m, _ in errors["local"]] == [(s, m) for s, m, _ in errors["codepipeline"]]


def test_a_failed_stage_retried_through_the_executor(backend: Backend) -> None:
    """Executor.retry re-runs the failed action (attempt 2) and the execution carries on to the end."""
    pipeline = _pipeline(_deploy())
    first = _run(backend, pipeline, {"Build/Compile": Outcome(fail="flaky test", fail_attempts=1)})
    assert first.status is ExecutionStatus.FAILED

    again = backend.retry(first.id, "Build").wait(30)

    assert again.id == first.id
    assert again.status is ExecutionStatus.SUCCEEDED
    assert [(a.attempt, a.status) for a in again.actions if a.name == "Compile"] == [
        (1, ActionStatus.FAILED),
        (2, ActionStatus.SUCCEEDED),
    ]
    assert (again.stage("Build").attempt, again.stage("Build").status) == (2, StageStatus.SUCCEEDED)
    assert again.action("Deploy", "Upload").status is ActionStatus.SUCCEEDED
    assert shape(backend.executor.execution(first.id)) == shape(again)


def test_a_waiting_approval_answered_through_the_executor(backend: Backend) -> None:
    """The handle lists the waiting approval; Executor.approve answers it by execution id."""
    pipeline = _pipeline(_approval(), _deploy())
    handle = backend.start(pipeline, {}, approvals="wait")
    deadline = time.monotonic() + 30
    while handle.pending_approvals() != ["Approve/Release"]:
        assert time.monotonic() < deadline, "the approval never waited"
        time.sleep(0.02)

    backend.approve(handle.id, "Approve", "Release", "ship it", "alice")
    execution = handle.wait(30)

    assert execution.succeeded
    assert execution.action("Approve", "Release").status is ActionStatus.SUCCEEDED
    assert "ship it" in (execution.action("Approve", "Release").summary or "")
    assert execution.ran("Deploy", "Upload")


def test_an_execution_stopped_through_the_executor(backend: Backend) -> None:
    """Executor.stop with abandon: the waiting approval is abandoned and the execution ends Stopped."""
    pipeline = _pipeline(_approval(), _deploy())
    handle = backend.start(pipeline, {}, approvals="wait")
    deadline = time.monotonic() + 30
    while handle.pending_approvals() != ["Approve/Release"]:
        assert time.monotonic() < deadline, "the approval never waited"
        time.sleep(0.02)

    backend.stop(handle.id, "not today")
    execution = handle.wait(30)

    assert execution.status is ExecutionStatus.STOPPED
    assert execution.action("Approve", "Release").status is ActionStatus.ABANDONED
    assert execution.stage("Approve").status is StageStatus.STOPPED
    assert not execution.ran("Deploy", "Upload")
