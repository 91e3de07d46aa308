"""The output variables of the simulated deploy providers: each publishes the variables its action
reference documents (and its catalog entry lists), so a later action that reads them runs."""

from __future__ import annotations

from pathlib import Path

import pytest

import pipeweaver as pw
from pipeweaver import _catalog
from pipeweaver.execution import Execution, LocalExecutor

from .conftest import SRC, log_of, source_then

STACKSETS = "https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-StackSets.html"
EKS = "https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-EKS.html"
LAMBDA_DEPLOY = "https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-LambdaDeploy.html"

ROLE = "arn:aws:iam::123456789012:role/p"


def _run(tmp_path: Path, provider: str, configuration: dict[str, str], inputs: list[pw.Artifact]) -> Execution:
    (spec,) = (s for s in _catalog.iter_specs() if (s.category, s.provider) == ("Deploy", provider))
    assert spec.output_variables
    deploy = pw.Action(
        name="Deploy",
        action_type=pw.ActionType(category="Deploy", provider=provider),
        configuration=configuration,
        inputs=inputs,
        namespace="DeployVars",
    )
    read = pw.Action(
        name="Read",
        action_type=pw.ActionType(category="Compute", provider="Commands"),
        commands=[f"echo {name}=#{{DeployVars.{name}}}" for name in spec.output_variables],
        inputs=[SRC],
    )
    src = tmp_path / "src"
    src.mkdir(parents=True, exist_ok=True)
    (src / "template.yml").write_text("Resources: {}\n")
    (src / "manifest.yml").write_text("kind: Deployment\n")
    stages = (pw.Stage(name="Deploy", actions=[deploy]), pw.Stage(name="Read", actions=[read]))
    with LocalExecutor(tmp_path / "wd", sources={"Source": src}) as x:
        e = x.run(source_then(*stages, pipeline_type="V2"))
    assert e.succeeded, e.status_summary
    assert set(spec.output_variables) == set(e.action("Deploy", "Deploy").output_variables)
    return e


@pytest.mark.parametrize(
    ("provider", "configuration", "inputs"),
    [
        ("CloudFormationStackSet", {"StackSetName": "web", "TemplatePath": "Src::template.yml"}, [SRC]),
        ("CloudFormationStackInstances", {"StackSetName": "web", "Regions": "us-east-1"}, []),
    ],
)
def test_a_stack_set_action_publishes_its_stack_set_and_operation_ids(
    tmp_path: Path, provider: str, configuration: dict[str, str], inputs: list[pw.Artifact]
) -> None:
    """AWS CloudFormation StackSets deploy action reference (STACKSETS): the actions produce StackSetId (the
    stack set's ID) and OperationId (the stack set operation's ID).

    Local: simulated: nothing is deployed, so the IDs are stand-ins of AWS's shape (the stack set
    name and a UUID, kept for one name; a new UUID per operation), and the action's log says so.
    """
    e = _run(tmp_path, provider, configuration, inputs)

    variables = e.action("Deploy", "Deploy").output_variables
    assert variables["StackSetId"].startswith("web:")
    assert 36 == len(variables["OperationId"])
    assert any(
        "stand-in variables ['StackSetId', 'OperationId']" in line for line in log_of(e.action("Deploy", "Deploy"))
    )


def test_an_eks_action_publishes_its_cluster_name(tmp_path: Path) -> None:
    """Amazon Elastic Kubernetes Service deploy action reference (EKS): the action produces EKSClusterName,
    the cluster it deployed to."""
    e = _run(tmp_path, "EKS", {"ClusterName": "prod", "ManifestFiles": "manifest.yml"}, [SRC])

    assert {"EKSClusterName": "prod"} == dict(e.action("Deploy", "Deploy").output_variables)


def test_a_lambda_deploy_publishes_the_function_version(tmp_path: Path) -> None:
    """AWS Lambda deploy action reference (LAMBDA_DEPLOY): the action produces FunctionVersion, the version it
    deployed; without an input artifact that is PublishedTargetVersion.

    Local: simulated: a version the action would publish from its input artifact is unknown to a
    local run; it is the stand-in ``1``, and the action's log says so.
    """
    published = _run(
        tmp_path / "a", "Lambda", {"FunctionName": "api", "PublishedTargetVersion": "7", "FunctionAlias": "live"}, []
    )
    built = _run(tmp_path / "b", "Lambda", {"FunctionName": "api"}, [SRC])

    assert {"FunctionVersion": "7"} == dict(published.action("Deploy", "Deploy").output_variables)
    assert {"FunctionVersion": "1"} == dict(built.action("Deploy", "Deploy").output_variables)
    assert any("stand-in variables ['FunctionVersion']" in line for line in log_of(built.action("Deploy", "Deploy")))
