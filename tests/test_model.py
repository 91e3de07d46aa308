"""The model: construction checks one field at a time, with the field, value and rule named."""

from __future__ import annotations

import enum

import pytest

import pipeweaver as pw
from pipeweaver._model import _to_enum


def build(**kwargs: object) -> pw.Action:
    base: dict[str, object] = {"name": "Build", "action_type": pw.ActionType(category="Build", provider="CodeBuild")}
    base.update(kwargs)
    return pw.Action(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "field", "rule"),
    [
        ({"name": "has space"}, "name", "must match"),
        ({"run_order": 0}, "run_order", "1..999"),
        ({"run_order": 1000}, "run_order", "1..999"),
        ({"namespace": "has.dot"}, "namespace", "must match"),
        ({"timeout_in_minutes": 4}, "timeout_in_minutes", "5..86400"),
        ({"configuration": {"ProjectName": ""}}, "configuration['ProjectName']", "1..1000"),
        ({"configuration": {"Flag": True}}, "configuration['Flag']", "strings"),
        ({"commands": []}, "commands", ""),
    ],
)
def test_bad_field_values_name_field_value_and_rule(kwargs: dict[str, object], field: str, rule: str) -> None:
    """A bad value fails at construction with a message naming the field and the rule."""
    if kwargs == {"commands": []}:
        assert () == build(**kwargs).commands  # an empty list means "no commands"
        return
    with pytest.raises(pw.DefinitionError) as info:
        build(**kwargs)

    assert field == info.value.field
    assert rule in info.value.rule
    assert field in str(info.value)


def test_unknown_enum_value_lists_the_choices() -> None:
    """An unknown category is refused with AWS's exact choices."""
    with pytest.raises(pw.DefinitionError, match="Source, Build, Deploy, Test, Invoke, Approval, Compute"):
        pw.ActionType(category="Buld", provider="CodeBuild")


@pytest.mark.parametrize("cls", [pw.ActionCategory, pw.ActionOwner, pw.Result, pw.RetryMode, pw.ExecutionMode])
def test_to_enum_takes_the_member_or_aws_word_and_refuses_anything_else(cls: type[enum.Enum]) -> None:
    """The one conversion every enum-like field uses: members and AWS's words in, the same member out."""
    for member in cls:
        assert _to_enum(cls, "field", member) is member
        assert _to_enum(cls, "field", member.value) is member
    for bad in ("ROLLBAK", "", None, 1, member.value.lower() + "x"):
        with pytest.raises(pw.DefinitionError, match="must be one of"):
            _to_enum(cls, "field", bad)


def test_enums_hold_aws_exact_strings() -> None:
    """Enums accept and render AWS's exact spelling."""
    assert "ThirdParty" == pw.ActionType(category="Source", owner="ThirdParty", provider="GitHub").owner
    assert pw.ActionCategory.COMPUTE == pw.ActionCategory("Compute")


def test_artifact_name_is_required_and_checked() -> None:
    """Artifacts are named when created; names with '.' are refused (unlike action names)."""
    with pytest.raises(pw.DefinitionError, match="ArtifactName"):
        pw.Artifact("build.out")
    with pytest.raises(TypeError):
        pw.Artifact()  # type: ignore[call-arg]


def test_variable_reference_needs_a_namespace() -> None:
    """action.variable() gives #{ns.key}, and fails clearly without a namespace."""
    assert "#{BuildVars.IMAGE}" == build(namespace="BuildVars").variable("IMAGE")
    with pytest.raises(pw.DefinitionError, match="has no namespace"):
        build().variable("IMAGE")


def test_models_are_frozen_and_hashable(sample: pw.Pipeline) -> None:
    """Models are immutable values; equal definitions are equal and hash alike."""
    with pytest.raises(AttributeError):
        sample.name = "other"  # type: ignore[misc]

    assert hash(sample.stages[0]) == hash(sample.stages[0])
    assert {sample.stages[1].actions[0]}


def test_navigation_helpers(sample: pw.Pipeline) -> None:
    """Stages and actions can be found by name, with the choices named on a miss."""
    assert "Build" == sample.stage("Build").action("Build").name
    assert ("Deploy", "Deploy") == tuple(x.name for x in sample.find_action("Deploy/Deploy"))
    with pytest.raises(KeyError, match="Source"):
        sample.stage("Nope")


def test_trigger_accepts_the_source_action_and_pattern_lists() -> None:
    """Triggers take the source action object, and plain lists mean `includes`."""
    source = pw.Action(name="Src", action_type=pw.ActionType(category="Source", provider="CodeStarSourceConnection"))

    trigger = pw.Trigger(source_action_name=source, push=pw.GitPushFilter(branches=["main"]))

    assert "Src" == trigger.source_action_name
    assert ("main",) == trigger.push[0].branches.includes  # type: ignore[union-attr]
