"""to_codepipeline hands each expression to ``resolve=`` with the API path where it stands.

The renderer builds a path only for a value that is not a plain string; these tests pin the
paths it builds then, for every field that may hold an expression.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest

import pipeweaver as pw
from pipeweaver.synth import to_codepipeline


def _x(name: str) -> pw.Expression:
    return pw.Expression.of({"Ref": name})


def _pipeline() -> pw.Pipeline:
    source = pw.Action(
        name="Src",
        action_type=pw.ActionType(category="Source", provider="CodeStarSourceConnection"),
        configuration={"ConnectionArn": _x("Connection"), "FullRepositoryId": "o/r", "Branch Name": _x("Branch")},
        outputs=[pw.Artifact("Out")],
    )
    build = pw.Action(
        name=_x("BuildName"),
        action_type=pw.ActionType(category="Build", provider="CodeBuild"),
        configuration={"ProjectName": "p"},
        inputs=[pw.Artifact("Out")],
        role_arn=_x("ActionRole"),
        region=_x("ActionRegion"),
    )
    run = pw.Action(
        name="Run",
        action_type=pw.ActionType(category="Compute", provider="Commands"),
        commands=["make"],
        inputs=[pw.Artifact("Out")],
        run_order=2,
        environment_variables=[
            pw.EnvironmentVariable(name="A", value="plain"),
            pw.EnvironmentVariable(name="B", value=_x("EnvB")),
        ],
    )
    rule = pw.Rule(
        name="Check",
        rule_type=pw.RuleType(provider="VariableCheck"),
        configuration={"Variable": _x("RuleVar")},
        role_arn=_x("RuleRole"),
    )
    return pw.Pipeline(
        name=_x("PipelineName"),
        role_arn=_x("Role"),
        artifact_store=pw.ArtifactStore(location=_x("Bucket"), encryption_key=pw.EncryptionKey(id=_x("Key"))),
        pipeline_type="V2",
        variables=[pw.Variable(name="v", default_value=_x("VarDefault"))],
        stages=[
            pw.Stage(name="Source", actions=[source]),
            pw.Stage(
                name=_x("StageName"),
                actions=[build, run],
                on_success=pw.SuccessConditions(conditions=[pw.Condition(result="FAIL", rules=[rule])]),
            ),
        ],
    )


def test_every_expression_is_resolved_with_its_path() -> None:
    seen: list[tuple[str, str]] = []

    def resolve(expr: pw.Expression, path: str) -> Any:
        seen.append((expr.raw["Ref"], path))
        return f"resolved-{expr.raw['Ref']}"

    rendered = to_codepipeline(_pipeline(), resolve=resolve)

    assert [
        ("PipelineName", "name"),
        ("Role", "roleArn"),
        ("Bucket", "artifactStore.location"),
        ("Key", "artifactStore.encryptionKey.id"),
        ("Connection", "stages[0].actions[0].configuration.ConnectionArn"),
        ("Branch", 'stages[0].actions[0].configuration["Branch Name"]'),
        ("StageName", "stages[1].name"),
        ("BuildName", "stages[1].actions[0].name"),
        ("ActionRole", "stages[1].actions[0].roleArn"),
        ("ActionRegion", "stages[1].actions[0].region"),
        ("EnvB", "stages[1].actions[1].environmentVariables[1].value"),
        ("RuleVar", "stages[1].onSuccess.conditions[0].rules[0].configuration.Variable"),
        ("RuleRole", "stages[1].onSuccess.conditions[0].rules[0].roleArn"),
        ("VarDefault", "variables[0].defaultValue"),
    ] == seen
    build = rendered["stages"][1]["actions"][0]
    assert ("resolved-BuildName", "resolved-ActionRole") == (build["name"], build["roleArn"])
    assert {"ConnectionArn": "resolved-Connection", "FullRepositoryId": "o/r", "Branch Name": "resolved-Branch"} == (
        rendered["stages"][0]["actions"][0]["configuration"]
    )
    assert [{"name": "A", "value": "plain"}, {"name": "B", "value": "resolved-EnvB"}] == (
        rendered["stages"][1]["actions"][1]["environmentVariables"]
    )


def test_unresolved_expression_in_an_action_names_its_path() -> None:
    """With plain values before it, the first expression stands in the second stage's build action."""
    pipeline = attrs.evolve(
        _pipeline(),
        name="p",
        role_arn="arn:aws:iam::123456789012:role/R",
        artifact_store=pw.ArtifactStore(location="bucket"),
    )
    source = pipeline.stages[0].actions[0]
    plain_source = attrs.evolve(
        source, configuration={**source.configuration, "ConnectionArn": "arn", "Branch Name": "m"}
    )
    pipeline = attrs.evolve(
        pipeline,
        stages=[attrs.evolve(pipeline.stages[0], actions=[plain_source]), attrs.evolve(pipeline.stages[1], name="B")],
    )

    with pytest.raises(pw.SynthesisError) as raised:
        to_codepipeline(pipeline)

    assert "stages[1].actions[0].name" == raised.value.path


def test_default_resolver_refuses_naming_the_first_expression() -> None:
    with pytest.raises(pw.SynthesisError) as raised:
        to_codepipeline(_pipeline())

    assert "name" == raised.value.path
