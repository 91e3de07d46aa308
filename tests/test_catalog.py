"""The provider catalog: lookups, timeouts and the documented facts it encodes."""

from __future__ import annotations

import pytest

import pipeweaver as pw
from pipeweaver import _catalog


def test_lookup_by_action_type_and_by_parts() -> None:
    """An ActionType and its parts find the same entry; unknown types find none."""
    by_type = _catalog.lookup(pw.ActionType(category="Build", provider="CodeBuild"))
    by_parts = _catalog.lookup(category="Build", owner="AWS", provider="CodeBuild")

    assert by_type is by_parts
    assert by_type is not None
    assert "ProjectName" in by_type.required
    assert None is _catalog.lookup(category="Build", provider="CodeBiuld")


def test_same_provider_in_several_categories() -> None:
    """S3 and Lambda are different action types per category; providers_named finds them all."""
    s3 = {s.category for s in _catalog.providers_named("S3")}
    lambda_ = {(s.category, s.v2_only) for s in _catalog.providers_named("Lambda")}

    assert {"Source", "Deploy"} == s3
    assert {("Invoke", False), ("Deploy", True)} == lambda_


@pytest.mark.parametrize(
    ("category", "owner", "provider", "minutes"),
    [
        ("Deploy", "AWS", "CloudFormation", 3 * 24 * 60),
        ("Deploy", "AWS", "CodeDeploy", 5 * 24 * 60),
        ("Deploy", "AWS", "CodeDeployToECS", 5 * 24 * 60),
        ("Invoke", "AWS", "Lambda", 24 * 60),
        ("Deploy", "AWS", "S3", 90),
        ("Approval", "AWS", "Manual", 7 * 24 * 60),
        ("Deploy", "AWS", "ECS", 60),
        ("Build", "AWS", "CodeBuild", 8 * 60),
        ("Invoke", "AWS", "StepFunctions", 7 * 24 * 60),
        ("Compute", "AWS", "Commands", 55),
        ("Deploy", "AWS", "ElasticBeanstalk", 60),
        ("Test", "Custom", "SomethingElse", 24 * 60),
        ("Test", "ThirdParty", "Unknown", 60),
    ],
)
def test_default_timeouts(category: str, owner: str, provider: str, minutes: int) -> None:
    """Action timeouts follow the AWS quota table (reference §4.6)."""
    action_type = pw.ActionType(category=category, owner=owner, provider=provider)

    assert minutes == _catalog.default_timeout(action_type)


def test_v2_only_providers() -> None:
    """Exactly the documented V2-only action types are flagged (reference §1.9)."""
    flagged = {(s.category, s.provider) for s in _catalog.iter_specs() if s.v2_only}

    assert {
        ("Compute", "Commands"),
        ("Build", "ECRBuildAndPublish"),
        ("Deploy", "EC2"),
        ("Deploy", "EKS"),
        ("Deploy", "Lambda"),
        ("Invoke", "CodePipeline"),
    } == flagged


@pytest.mark.parametrize("spec", list(_catalog.iter_specs()), ids=str)
def test_entries_are_consistent(spec: _catalog.ProviderSpec) -> None:
    """Each entry cites an AWS page, has sane artifact bounds and only known keys in its rules."""
    keys = spec.keys

    assert spec.source.startswith("https://docs.aws.amazon.com/codepipeline/")
    assert 0 <= spec.inputs[0] <= spec.inputs[1] <= 10
    assert 0 <= spec.outputs[0] <= spec.outputs[1] <= 5
    assert set(spec.allowed) <= keys
    assert set(spec.json_keys) <= keys
    assert {k for k in spec.artifact_keys if spec.knows_key(k)} == set(spec.artifact_keys)
    assert set(spec.artifact_path_keys) <= keys
    assert set(spec.required).isdisjoint(spec.optional)


def test_dynamic_keys() -> None:
    """CodeDeployToECS accepts Image1..Image4 keys and nothing beyond."""
    spec = _catalog.lookup(category="Deploy", provider="CodeDeployToECS")
    assert spec is not None

    assert (True, True, False) == (
        spec.knows_key("Image1ArtifactName"),
        spec.knows_key("Image4ContainerName"),
        spec.knows_key("Image5ArtifactName"),
    )


def test_output_variables() -> None:
    """Fixed output variables are listed; action-defined ones are None."""
    connection = _catalog.lookup(category="Source", provider="CodeStarSourceConnection")
    build = _catalog.lookup(category="Build", provider="CodeBuild")
    assert connection is not None
    assert build is not None

    assert "CommitMessage" in (connection.output_variables or ())
    assert None is build.output_variables


def test_rule_types() -> None:
    """Rule types of reference §3.3; only LambdaInvoke and VariableCheck may SKIP."""
    skippers = {p for p, r in _catalog.RULE_TYPES.items() if r.can_skip}

    assert {"CloudWatchAlarm", "DeploymentWindow", "LambdaInvoke", "VariableCheck", "Commands", "CodeBuild"} == set(
        _catalog.RULE_TYPES
    )
    assert {"LambdaInvoke", "VariableCheck"} == skippers
    assert None is _catalog.lookup_rule("Nope")
