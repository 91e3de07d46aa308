"""The team's release policy, as unit tests of the pipeline's logic (run with pytest).

    python3 -m pytest examples/test_release_policy.py

Each test runs the real pipeline locally with fakes standing in for the actions that need AWS
(the source, CodeBuild, CloudFormation): the executor's ordering, failure, approval, artifact
and variable semantics are the real ones. Fixtures and helpers come from ``pipeweaver.testing``
and its pytest plugin (installed with pipeweaver).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import pipeweaver as pw
from pipeweaver import actions
from pipeweaver.testing import (
    FakeHandler,
    assert_artifact_contains,
    assert_never_ran,
    assert_ran_before,
    assert_succeeded,
    fake,
    recording,
    run_with_fakes,
)

DEPLOY_ROLE = "arn:aws:iam::123456789012:role/CloudFormationDeployRole"


def release_pipeline() -> pw.Pipeline:
    """Source -> Build -> Test -> Staging -> approval -> Production."""
    source = actions.connection_source(
        "Source",
        connection_arn="arn:aws:codeconnections:us-east-1:123456789012:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
        repository="acme/shop",
        branch="main",
        namespace="SourceVariables",
    )
    build = actions.codebuild(
        "Build", project_name="shop-build", input=source.output(), outputs=["App"], namespace="BuildVariables"
    )
    test = actions.codebuild_test("IntegrationTests", project_name="shop-test", input=build.output())

    def deploy(name: str, stack: str, run_order: int = 1) -> pw.Action:
        return actions.cloudformation_create_update(
            name,
            stack_name=stack,
            template=(build.output(), "template.yaml"),
            deployment_role_arn=DEPLOY_ROLE,
            parameter_overrides={"Version": build.variable("Version"), "Commit": source.variable("CommitId")},
            run_order=run_order,
        )

    return pw.Pipeline(
        name="shop-release",
        pipeline_type="V2",
        role_arn="arn:aws:iam::123456789012:role/PipelineRole",
        artifact_store=pw.ArtifactStore(location="shop-release-artifacts"),
        stages=[
            pw.Stage(name="Source", actions=[source]),
            pw.Stage(name="Build", actions=[build]),
            pw.Stage(name="Test", actions=[test]),
            pw.Stage(name="Staging", actions=[deploy("DeployStaging", "shop-staging")]),
            pw.Stage(
                name="Production",
                actions=[actions.manual_approval("Approve"), deploy("DeployProduction", "shop-production", 2)],
            ),
        ],
    )


@pytest.fixture(name="pipeline")
def _pipeline() -> pw.Pipeline:
    return release_pipeline()


def built(version: str) -> FakeHandler:
    """A build that produces the app and its template, stamped with *version*."""
    return fake(
        outputs={"App": {"template.yaml": "Resources: {}\n", "VERSION": version}},
        variables={"Version": version},
    )


SOURCE = fake(variables={"CommitId": "9f8e7d6c5b4a"})


def test_pipeline_is_valid(pipeline: pw.Pipeline) -> None:
    """AWS would accept the definition: no lint errors."""
    assert [] == [i for i in pw.lint(pipeline) if i.is_error]


def test_production_never_deploys_when_tests_fail(pipeline: pw.Pipeline, tmp_path: Path) -> None:
    """A failing integration test stops the release before staging and production."""
    production = recording()
    execution = run_with_fakes(
        pipeline,
        {
            "Source": SOURCE,
            "Build": built("1.2.0"),
            "IntegrationTests": fake(fail="checkout flow: 2 tests failed"),
            "DeployProduction": production,
        },
        workdir=tmp_path,
    )

    assert "Failed" == execution.status
    assert_never_ran(execution, "DeployStaging")
    assert_never_ran(execution, "DeployProduction")
    assert [] == production.calls


def test_production_uses_the_artifact_built_in_this_execution(pipeline: pw.Pipeline, tmp_path: Path) -> None:
    """Production deploys exactly the bytes the build of this execution produced, after staging."""
    production = recording()
    execution = run_with_fakes(
        pipeline,
        {"Source": SOURCE, "Build": built("1.3.0"), "DeployProduction": production},
        workdir=tmp_path,
    )

    assert_succeeded(execution)
    assert_ran_before(execution, "DeployStaging", "DeployProduction")
    assert_artifact_contains(execution, "App", "VERSION", "1.3.0")
    assert b"1.3.0" == production.last.inputs["App"]["VERSION"]


def test_a_rejected_approval_stops_the_release(pipeline: pw.Pipeline, tmp_path: Path) -> None:
    """Staging is deployed, the approval is rejected, production is not touched."""
    execution = run_with_fakes(
        pipeline, {"Source": SOURCE, "Build": built("1.4.0")}, workdir=tmp_path, approval="reject"
    )

    assert "Failed" == execution.status
    assert "Succeeded" == execution.action("Staging", "DeployStaging").status
    assert "Failed" == execution.action("Production", "Approve").status
    assert_never_ran(execution, "DeployProduction")


def test_version_and_commit_reach_the_production_deploy(pipeline: pw.Pipeline, tmp_path: Path) -> None:
    """The build's Version and the source's CommitId are resolved into the deploy's parameters."""
    production = recording()
    run_with_fakes(
        pipeline,
        {"Source": SOURCE, "Build": built("2.0.0"), "DeployProduction": production},
        workdir=tmp_path,
    )

    assert '{"Version":"2.0.0","Commit":"9f8e7d6c5b4a"}' == production.last.configuration["ParameterOverrides"]
