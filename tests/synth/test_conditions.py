"""Templates with Conditions and Fn::If: lint checks every branch, import chooses one.

The fixtures under tests/fixtures/conditions/ are written for these tests, one pattern each
(a conditional stage, action, Configuration, artifact list or item, RunOrder from a Number
parameter, PipelineType, tag, disabled transition, trigger filter, conditions built from each
other). Every one goes through import -> lint -> model -> CloudFormation -> model -> Python ->
model -> CodePipeline JSON, for each value of the parameter its conditions read.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

import pipeweaver as pw
from pipeweaver import _cfn, _cfn_conditions
from pipeweaver.synth import (
    from_cloudformation,
    parameter_resolver,
    resolve_parameters,
    to_cloudformation,
    to_codepipeline,
    to_python,
)

from ..test_codec import botocore_errors
from ._lint import cfn_lint

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "conditions"
ALL = sorted(p.name for p in FIXTURES.glob("*.yaml"))
#: Fixtures whose Fn::If functions stand only where text may (they import without parameters).
TEXT_ONLY = ["run-order.yaml", "transitions.yaml"]
#: The one fixture with a true error, in one branch.
BROKEN = "input-missing-when-dev.yaml"
#: Parameter values the fixtures' Refs take, for CodePipeline JSON.
VALUES = {"RoleArn": "arn:aws:iam::111111111111:role/pipeline", "ArtifactBucket": "artifacts-111111111111"}


def _text(name: str) -> str:
    return (FIXTURES / name).read_text()


def _envs(name: str) -> list[str]:
    return ["dev", "staging", "prod"] if name == "combinations.yaml" else ["dev", "prod"]


@pytest.mark.parametrize("name", ALL)
def test_lint_reports_no_false_errors_in_any_branch(name: str) -> None:
    """Every fixture but one is valid in every combination of its conditions: no issue at all."""
    issues = pw.lint(_text(name))

    if name == BROKEN:
        assert [("PW205", "Resources.Pipeline.Properties.Stages[1].Actions[0].InputArtifacts")] == [
            (i.code, i.path) for i in issues
        ]
        assert issues[0].message.startswith("when IsProd is false: Action Compile declares 0 input artifacts")
    else:
        assert [] == [str(i) for i in issues]


@pytest.mark.parametrize("name", ALL)
def test_each_branch_round_trips_and_synthesizes(name: str) -> None:
    """import(parameters) -> lint -> CloudFormation -> model -> Python -> model -> CodePipeline JSON."""
    for env in _envs(name):
        model = from_cloudformation(_text(name), parameters={"Env": env})
        errors = [i for i in pw.lint(model) if i.is_error]
        assert [] == [str(i) for i in errors if not (name == BROKEN and env == "dev")]

        template = to_cloudformation(model)
        assert model == from_cloudformation(template)
        namespace: dict[str, Any] = {}
        exec(compile(to_python(model), "<generated>", "exec"), namespace)
        assert model == namespace["pipeline"]

        declaration = to_codepipeline(
            model, resolve=parameter_resolver({**VALUES, "Order": "2", "Env": env, "PipelineName": "delivery"})
        )
        if not (name == BROKEN and env == "dev"):
            assert "" == botocore_errors(declaration)


def test_branches_are_the_ones_the_parameters_choose() -> None:
    """The stage, action, configuration, artifacts, type and tag that each parameter value deploys."""
    stage = {env: from_cloudformation(_text("stage.yaml"), parameters={"Env": env}) for env in ("dev", "prod")}
    assert (["Source", "Build"], ["Source", "Build", "Approve"]) == tuple(
        [s.name for s in stage[env].stages] for env in ("dev", "prod")
    )
    action = from_cloudformation(_text("action.yaml"), parameters={"Env": "prod"})
    assert ["Compile", "Scan"] == [a.name for a in action.stage("Build").actions]
    config = from_cloudformation(_text("configuration.yaml"), parameters={"Env": "dev"})
    assert {"ProjectName": "compile-debug"} == dict(config.find_action("Compile")[1].configuration)
    artifacts = from_cloudformation(_text("artifacts.yaml"), parameters={"Env": "dev"})
    assert () == artifacts.find_action("Compile")[1].outputs
    typed = from_cloudformation(_text("pipeline-type.yaml"), parameters={"Env": "prod"})
    assert pw.PipelineType.V2 == typed.pipeline_type
    tags = from_cloudformation(_text("tags.yaml"), parameters={"Env": "prod"})
    assert {"team": "delivery", "tier": "gold"} == dict(tags.tags)
    trigger = from_cloudformation(_text("trigger-filter.yaml"), parameters={"Env": "dev"})
    branches = trigger.triggers[0].push[0].branches
    assert branches is not None
    assert ("main", "feature/*") == branches.includes


def test_parameter_defaults_fill_in_and_combined_conditions_evaluate() -> None:
    """Given nothing, each parameter takes its Default; And/Or/Not/Condition combine as CloudFormation does."""
    default = from_cloudformation(_text("combinations.yaml"), parameters={})
    prod = from_cloudformation(_text("combinations.yaml"), parameters={"Env": "prod", "Approvals": "no"})

    assert ["Source", "Test"] == [s.name for s in default.stages]
    assert ["Source", "Package", "Release"] == [s.name for s in prod.stages]
    assert ["Publish"] == [a.name for a in prod.stage("Release").actions]
    assert {"ProjectName": "bundle"} == dict(prod.find_action("Bundle")[1].configuration)


def test_a_condition_without_a_value_is_refused_naming_it() -> None:
    """A parameter with no Default and no value given: the condition it decides is named."""
    text = _text("stage.yaml").replace("AllowedValues: [dev, prod], Default: dev", "AllowedValues: [dev, prod]")

    with pytest.raises(pw.LoadError) as caught:
        from_cloudformation(text, parameters={})

    assert "condition IsProd" in str(caught.value)
    assert ["Conditions.IsProd"] == [i.path for i in caught.value.issues]
    assert "Env" in caught.value.issues[0].message


def test_without_parameters_a_conditional_object_is_refused_once_with_the_way_out() -> None:
    """An Fn::If for a whole property (not a list item): one issue at it, naming its condition and parameters=."""
    text = _text("pipeline-type.yaml").replace(
        "PipelineType: !If [IsProd, V2, V1]", "PipelineType: V2\n      ExecutionMode: !If [IsProd, QUEUED, SUPERSEDED]"
    )
    with pytest.raises(pw.LoadError) as caught:
        from_cloudformation(text)

    assert [("PW003", "Resources.Pipeline.Properties.ExecutionMode")] == [(i.code, i.path) for i in caught.value.issues]
    assert "Fn::If on condition IsProd" in caught.value.issues[0].message
    assert "parameters=" in (caught.value.issues[0].hint or "")


@pytest.mark.parametrize("name", TEXT_ONLY)
def test_intrinsics_where_text_or_numbers_go_round_trip_unchanged(name: str) -> None:
    """RunOrder from a Number parameter and a transition named by functions: Properties come back unchanged."""
    template = _cfn.load_template(_text(name))
    model = from_cloudformation(template)

    back = to_cloudformation(model)["Resources"]["Pipeline"]["Properties"]
    original = copy.deepcopy(template["Resources"]["Pipeline"]["Properties"])
    for stage in original["Stages"]:
        for action in stage["Actions"]:
            action.setdefault("RunOrder", 1)
    assert original == back
    assert model == from_cloudformation(to_cloudformation(model))


def test_run_order_parameter_resolves_to_a_number() -> None:
    """The text CloudFormation passes for a Number parameter becomes the integer runOrder."""
    model = from_cloudformation(_text("run-order.yaml"))

    assert pw.Expression.of({"Ref": "Order"}) == model.find_action("Compile")[1].run_order
    assert 2 == resolve_parameters(model, {"Order": "2"}).find_action("Compile")[1].run_order
    declaration = to_codepipeline(model, resolve=parameter_resolver({**VALUES, "Order": "2", "PipelineName": "p"}))
    assert 2 == declaration["stages"][1]["actions"][0]["runOrder"]
    assert [] == pw.lint(model)


@pytest.mark.parametrize("name", ALL)
def test_what_to_cloudformation_emits_is_cfn_lint_clean(name: str) -> None:
    """cfn-lint finds no error or warning in the template written for the prod branch."""
    # prod: the branch with the most in it (for BROKEN, dev holds the true error, which cfn-lint finds too)
    template = to_cloudformation(from_cloudformation(_text(name), parameters={"Env": "prod"}))
    assert [] == cfn_lint(template)


# -- the condition machinery itself -----------------------------------------------------------------


def _template(conditions: dict[str, Any], parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"Parameters": parameters or {}, "Conditions": conditions, "Resources": {}}


def test_evaluate_follows_condition_references_and_reports_cycles() -> None:
    template = _template(
        {
            "A": {"Fn::Equals": [{"Ref": "P"}, "x"]},
            "B": {"Fn::Not": [{"Condition": "A"}]},
            "C": {"Fn::Or": [{"Condition": "B"}, {"Fn::Equals": ["1", 1]}]},
            "Loop": {"Fn::Not": [{"Condition": "Loop"}]},
        },
        {"P": {"Type": "String", "Default": "x"}},
    )

    assert {"A": True, "B": False, "C": True} == _cfn_conditions.evaluate(template, ["A", "B", "C"])
    assert {"A": False} == _cfn_conditions.evaluate(template, ["A"], {"P": "y"})
    with pytest.raises(_cfn_conditions.ConditionUnknown, match="refers to itself"):
        _cfn_conditions.evaluate(template, ["Loop"])
    with pytest.raises(_cfn_conditions.ConditionUnknown, match="do not declare"):
        _cfn_conditions.evaluate(template, ["Missing"])


def test_combinations_are_only_the_reachable_ones() -> None:
    """IsProd and its negation are never both true; a free Fn::Equals is either."""
    template = _template(
        {
            "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
            "East": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]},
        },
        {"Env": {"Type": "String", "AllowedValues": ["dev", "prod"]}},
    )

    found = _cfn_conditions.combinations(template, ["IsProd", "NotProd", "East"])

    assert 4 == len(found)
    assert all(c["IsProd"] != c["NotProd"] for c in found)


def test_many_free_conditions_fall_back_to_one_check_per_value() -> None:
    """Seven free conditions (128 combinations) are checked one value at a time, not all at once."""
    names = [f"C{i}" for i in range(7)]
    template = _template({n: {"Fn::Equals": [{"Ref": f"P{n}"}, "on"]} for n in names})

    found = _cfn_conditions.combinations(template, names)

    assert len(found) <= _cfn_conditions.MAX_COMBINATIONS
    assert all({True, False} == {c[n] for c in found} for n in names)


def test_describe_names_one_condition_value_or_spells_out_the_combinations() -> None:
    every = [{"A": a, "B": b} for a in (False, True) for b in (False, True)]

    assert "A is false" == _cfn_conditions.describe([every[0], every[1]], every)
    assert "A is true and B is true" == _cfn_conditions.describe([every[3]], every)
    assert "A is false and B is false, or A is true and B is true" == _cfn_conditions.describe(
        [every[0], every[3]], every
    )


def test_select_maps_paths_back_to_the_template() -> None:
    """A chosen branch and an item after a removed one are found at their template paths."""
    no = _cfn_conditions.NO_VALUE
    value = {"Stages": [{"Fn::If": ["C", {"Name": "A"}, no]}, {"Name": "B"}, {"Fn::If": ["C", no, {"Name": "D"}]}]}

    chosen, moved = _cfn_conditions.select(value, {"C": False})

    assert {"Stages": [{"Name": "B"}, {"Name": "D"}]} == chosen
    assert "Stages[1].Name" == _cfn_conditions.relocate("Stages[0].Name", moved)
    assert 'Stages[2]["Fn::If"][2].Name' == _cfn_conditions.relocate("Stages[1].Name", moved)


def test_pipeweaver_run_imports_the_branches_its_parameters_choose(tmp_path: Path) -> None:
    """`run --parameter Env=prod` gets the conditional approval stage; no value for Env names IsProd."""
    from click.testing import CliRunner

    from pipeweaver.cli import main

    no_default = tmp_path / "no-default.yaml"
    no_default.write_text(_text("stage.yaml").replace(", Default: dev}", "}"))
    runner = CliRunner()

    prod = runner.invoke(main, ["run", str(FIXTURES / "stage.yaml"), "--parameter", "Env=prod"])
    missing = runner.invoke(main, ["run", str(no_default)])

    assert "Approve/Release" in prod.output
    assert "condition IsProd" in missing.output
    assert "Env" in missing.output


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        ("        - Name: Build\n", "        - !ImportValue SharedStage\n        - Name: Build\n", "Stages[1]"),
        ("Configuration: {ProjectName: compile}", "Configuration: !ImportValue BuildSettings", "Configuration"),
        (
            "              RunOrder: !Ref Order\n",
            "              RunOrder: !Ref Order\n              OutputArtifacts: !Ref Order\n",
            "OutputArtifacts",
        ),
    ],
)
def test_an_intrinsic_for_an_object_or_list_is_one_issue_without_a_cascade(old: str, new: str, path: str) -> None:
    """No PW001 'unknown field', PW002 'required field missing' or PW210/PW212 at or inside the function."""
    issues = pw.lint(_text("run-order.yaml").replace(old, new))

    assert ["PW003"] == [i.code for i in issues]
    assert issues[0].path.endswith(path)


def test_a_long_chain_of_condition_references_is_refused_not_a_crash() -> None:
    conditions: dict[str, Any] = {f"C{i}": {"Condition": f"C{i + 1}"} for i in range(500)}
    conditions["C500"] = {"Fn::Equals": ["a", "a"]}

    with pytest.raises(_cfn_conditions.ConditionUnknown, match="deep"):
        _cfn_conditions.evaluate(_template(conditions), ["C0"])
    assert _cfn_conditions.combinations(_template(conditions), ["C0"])
