"""Conditional elements kept in the model: a template imported without parameter values.

A stage, action, input or output artifact, trigger, variable or tag written as an ``Fn::If``
list item (``!If [C, X, !Ref AWS::NoValue]``, ``!If [C, !Ref AWS::NoValue, X]``, ``!If [C, A,
B]``) imports as the element with a ``when`` (:class:`pipeweaver.When`). Every fixture of
tests/fixtures/conditions/ that imports without parameters goes through CloudFormation (the
same Properties back), Python (an equal model), CodePipeline JSON for each parameter value
(the same as importing with that value, and valid for the service model), cfn-lint, lint on
the model (every branch) and a local run.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import attrs
import pytest

import pipeweaver as pw
from pipeweaver import _branches, _cfn, _cfn_conditions
from pipeweaver.synth import (
    EventWiring,
    from_cloudformation,
    parameter_resolver,
    resolve_parameters,
    to_cloudformation,
    to_codepipeline,
    to_dot,
    to_mermaid,
    to_python,
)

from ..test_codec import botocore_errors
from ._lint import cfn_lint

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "conditions"
#: Fn::If around a whole property (not a list item): these import only with parameter values.
WHOLE_PROPERTY: set[str] = set()
KEPT = sorted(p.name for p in FIXTURES.glob("*.yaml") if p.name not in WHOLE_PROPERTY)
BROKEN = "input-missing-when-dev.yaml"
VALUES = {"RoleArn": "arn:aws:iam::111111111111:role/pipeline", "ArtifactBucket": "artifacts-111111111111"}


def _text(name: str) -> str:
    return (FIXTURES / name).read_text()


def _envs(name: str) -> list[str]:
    return ["dev", "staging", "prod"] if name == "combinations.yaml" else ["dev", "prod"]


def _resolver(env: str) -> Any:
    return parameter_resolver({**VALUES, "Order": "2", "Env": env, "PipelineName": "delivery", "HeldStage": "Build"})


def _with_run_orders(properties: dict[str, Any]) -> dict[str, Any]:
    """*properties* with AWS's default RunOrder written out, as to_cloudformation writes it."""
    out = copy.deepcopy(properties)

    def fill(node: Any) -> None:
        if isinstance(node, dict):
            if "ActionTypeId" in node:
                node.setdefault("RunOrder", 1)
            for value in node.values():
                fill(value)
        elif isinstance(node, list):
            for value in node:
                fill(value)

    fill(out)
    return out


@pytest.mark.parametrize("name", KEPT)
def test_cloudformation_gives_back_the_same_properties(name: str) -> None:
    template = _cfn.load_template(_text(name))
    model = from_cloudformation(template)

    back = to_cloudformation(model)

    assert (
        _with_run_orders(template["Resources"]["Pipeline"]["Properties"]) == back["Resources"]["Pipeline"]["Properties"]
    )
    assert template.get("Conditions", {}) == back.get("Conditions", {})
    assert model == from_cloudformation(back)


@pytest.mark.parametrize("name", KEPT)
def test_python_rebuilds_the_same_model(name: str) -> None:
    model = from_cloudformation(_text(name))
    namespace: dict[str, Any] = {}

    exec(compile(to_python(model), "<generated>", "exec"), namespace)

    assert model == namespace["pipeline"]


@pytest.mark.parametrize("name", KEPT)
def test_codepipeline_json_is_what_the_parameter_values_deploy(name: str) -> None:
    model = from_cloudformation(_text(name))
    for env in _envs(name):
        chosen = from_cloudformation(_text(name), parameters={"Env": env})

        declaration = to_codepipeline(model, resolve=_resolver(env))

        assert to_codepipeline(chosen, resolve=_resolver(env)) == declaration
        assert resolve_parameters(model, {"Env": env}) == resolve_parameters(chosen, {"Env": env})
        if not (name == BROKEN and env == "dev"):
            assert "" == botocore_errors(declaration)


@pytest.mark.parametrize("name", KEPT)
def test_what_to_cloudformation_emits_is_cfn_lint_clean(name: str) -> None:
    """The conditions and the parameters they read come along, so cfn-lint sees a whole template."""
    found = cfn_lint(to_cloudformation(from_cloudformation(_text(name))))

    # BROKEN's true error (no input artifact when IsProd is false) is cfn-lint's too
    assert [] == [f for f in found if not (name == BROKEN and f.startswith("E3702"))]


@pytest.mark.parametrize("name", KEPT)
def test_lint_on_the_model_checks_every_branch_as_on_the_template(name: str) -> None:
    model = from_cloudformation(_text(name))

    issues = pw.lint(model)

    if name == BROKEN:
        assert [("PW205", "stages[1].actions[0].inputArtifacts")] == [(i.code, i.path) for i in issues]
        assert issues[0].message.startswith("when IsProd is false: ")
    else:
        assert [] == [str(i) for i in issues]


def test_the_forms_of_fn_if_import_as_when() -> None:
    """!If [C, X, NoValue] is X when C; !If [C, NoValue, X] is X when not C; !If [C, A, B] is both."""
    either = from_cloudformation(_text("either.yaml"))
    first = from_cloudformation(_text("novalue-first.yaml"))
    tags = from_cloudformation(_text("tags.yaml"))

    assert [("Release", pw.When("IsProd")), ("Debug", pw.When("IsProd", False))] == [
        (a.name, a.when) for a in either.stage("Build").actions
    ]
    assert [None, None, pw.When("IsProd"), ~pw.When("IsProd"), None] == [s.when for s in either.stages]
    assert [pw.When("IsProd"), pw.When("IsProd", False)] == [
        a.when for a in either.stage("Configure").actions[0].inputs
    ]
    assert ~pw.When("IsProd") == first.stage("Preview").when
    assert {"tier": pw.When("IsProd")} == dict(tags.tags_when)
    assert (
        pw.TemplateConditions(
            conditions={"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
            parameters={"Env": {"Type": "String", "AllowedValues": ["dev", "prod"], "Default": "dev"}},
        )
        == first.template_conditions
    )


def test_each_kind_of_element_is_chosen_by_the_parameters() -> None:
    def deployed(name: str, env: str) -> pw.Pipeline:
        return resolve_parameters(from_cloudformation(_text(name)), {"Env": env})

    assert ["Compile", "Scan"] == [a.name for a in deployed("action.yaml", "prod").stage("Build").actions]
    assert ["Binary"] == [a.name for a in deployed("artifact.yaml", "dev").find_action("Compile")[1].outputs]
    assert 1 == len(deployed("trigger.yaml", "prod").triggers)
    assert () == deployed("trigger.yaml", "dev").triggers
    assert ["Target", "Approver"] == [v.name for v in deployed("variable.yaml", "prod").variables]
    assert {"team": "delivery"} == dict(deployed("tags.yaml", "dev").tags)
    assert ["Source", "Build", "Preview"] == [s.name for s in deployed("novalue-first.yaml", "dev").stages]


def test_a_condition_without_a_value_is_refused_naming_it_and_its_parameter() -> None:
    model = from_cloudformation(
        _text("stage.yaml").replace("AllowedValues: [dev, prod], Default: dev", "AllowedValues: [dev, prod]")
    )

    with pytest.raises(pw.SynthesisError) as caught:
        to_codepipeline(model, resolve=parameter_resolver(VALUES | {"PipelineName": "p"}))
    with pytest.raises(pw.ExecutionError) as local:
        pw.LocalExecutor(validate=False).run(model)

    assert "stages[2]" == caught.value.path
    assert "condition IsProd" in str(caught.value)
    assert "parameter Env has no value" in str(caught.value)
    assert "condition IsProd" in str(local.value)
    assert "--parameter" in str(local.value)


def test_without_a_value_the_parameter_default_decides() -> None:
    """As CloudFormation: Env defaults to dev, so the prod-only stage is left out."""
    model = from_cloudformation(_text("stage.yaml"))

    declaration = to_codepipeline(model, resolve=parameter_resolver(VALUES | {"PipelineName": "p"}))

    assert ["Source", "Build"] == [s["name"] for s in declaration["stages"]]


def test_lint_on_a_model_does_not_take_a_conditional_producer_for_an_unconditional_one() -> None:
    """An artifact produced only when IsProd, consumed by an action outside that condition: an error when IsProd is false."""
    model = from_cloudformation(_text("artifact.yaml"))
    compile_ = model.find_action("Compile")[1]
    consumer = pw.Action(
        name="Package",
        action_type=compile_.action_type,
        configuration={"ProjectName": "package"},
        inputs=[pw.Artifact("Report")],
        run_order=3,
    )
    build = model.stage("Build")
    broken = pw.Pipeline(
        name=model.name,
        role_arn=model.role_arn,
        artifact_store=model.artifact_store,
        stages=[model.stages[0], pw.Stage(name="Build", actions=[*build.actions, consumer])],
        template_conditions=model.template_conditions,
    )

    issues = [i for i in pw.lint(broken) if i.is_error]

    assert ["stages[1].actions[2].inputArtifacts[0].name"] == [i.path for i in issues]
    assert issues[0].message.startswith("when IsProd is false: ")


def test_a_local_run_of_the_generated_python_takes_its_parameters(tmp_path: Path) -> None:
    """`pipeweaver run pipeline.py --parameter Env=prod` runs the stage only prod has."""
    from click.testing import CliRunner

    from pipeweaver.cli import main

    script = tmp_path / "pipeline.py"
    script.write_text(to_python(from_cloudformation(_text("stage.yaml"))))
    runner = CliRunner()

    prod = runner.invoke(main, ["run", str(script), "--parameter", "Env=prod", "--parameter", "ArtifactBucket=b"])
    dev = runner.invoke(main, ["run", str(script), "--parameter", "ArtifactBucket=b"])

    assert "Approve/Release" in prod.output
    assert "Approve" not in dev.output


def test_event_wiring_reaches_a_source_inside_a_conditional_stage() -> None:
    """The S3 source of a stage present only when IsProd still gets its rule and PollForSourceChanges."""
    text = _text("novalue-first.yaml").replace(
        "          - Name: Preview\n            Actions:\n",
        "          - Name: Preview\n            Actions:\n"
        "              - Name: Assets\n"
        '                ActionTypeId: {Category: Source, Owner: AWS, Provider: S3, Version: "1"}\n'
        "                Configuration: {S3Bucket: assets, S3ObjectKey: assets.zip}\n"
        "                OutputArtifacts: [{Name: Assets}]\n",
    )
    model = from_cloudformation(text)

    template = to_cloudformation(model, events=EventWiring(source_rules=True))

    preview = template["Resources"]["Pipeline"]["Properties"]["Stages"][2]["Fn::If"][2]
    assert "false" == preview["Actions"][0]["Configuration"]["PollForSourceChanges"]


def test_lift_and_wrap_are_inverse_and_choose_maps_paths_back() -> None:
    """The three Fn::If forms lift to items with their condition values and wrap back as written."""
    no = _cfn_conditions.NO_VALUE
    stages = [{"Name": "S"}, {"Fn::If": ["C", {"Name": "A"}, {"Name": "B"}]}, {"Fn::If": ["D", no, {"Name": "E"}]}]

    lifted, places = _cfn_conditions.lift({"Stages": stages})

    assert ["S", "A", "B", "E"] == [s["Name"] for s in lifted["Stages"]]
    assert {("Stages", 1): (("C", True),), ("Stages", 2): (("C", False),), ("Stages", 3): (("D", False),)} == places
    assert stages == _cfn_conditions.wrap(lifted["Stages"], [None, *places.values()])

    model = from_cloudformation(_text("either.yaml"))
    chosen, moved = _branches.choose(model, {"IsProd": False})
    assert ["Source", "Build", "DeployDev", "Configure"] == [s.name for s in chosen.stages]
    assert "stages[3].actions[0].name" == _cfn_conditions.relocate("stages[2].actions[0].name", moved)
    assert "stages[1].actions[1]" == _cfn_conditions.relocate("stages[1].actions[0]", moved)


def test_diagrams_draw_every_branch_and_say_when() -> None:
    model = from_cloudformation(_text("either.yaml"))

    mermaid, dot = to_mermaid(model), to_dot(model)

    assert '"DeployDev (when IsProd is false)"' in mermaid
    assert "Build: CodeBuild (when IsProd is true)" in mermaid
    assert 'label="DeployProd (when IsProd is true)"' in dot


def test_a_condition_for_a_tag_the_pipeline_does_not_set_is_refused() -> None:
    with pytest.raises(pw.DefinitionError, match="tags_when"):
        pw.Pipeline(
            name="p",
            role_arn="arn:aws:iam::111111111111:role/r",
            stages=[],
            tags={"team": "a"},
            tags_when={"tier": pw.When("IsProd")},
        )


def test_a_property_chosen_by_fn_if_imports_as_the_element_once_per_branch() -> None:
    """Configuration, an artifact list, a trigger filter: two alternatives, each saying where the Fn::If was."""
    config = from_cloudformation(_text("configuration.yaml"))
    props = from_cloudformation(_text("properties.yaml"))
    trigger = from_cloudformation(_text("trigger-filter.yaml"))

    assert [
        ({"ProjectName": "compile-release"}, pw.When("IsProd", inside="Configuration")),
        ({"ProjectName": "compile-debug"}, pw.When("IsProd", False, inside="Configuration")),
    ] == [(dict(a.configuration), a.when) for a in config.stage("Build").actions]
    assert [(["Code", "Assets"], True), (["Code"], False)] == [
        ([i.name for i in a.inputs], a.when.value if a.when else None) for a in props.stage("Build").actions[:2]
    ]
    assert {} == dict(props.stage("Build").actions[3].configuration)
    includes = "GitConfiguration.Push[0].Branches.Includes"
    assert [pw.When("IsProd", inside=includes), pw.When("IsProd", False, inside=includes)] == [
        t.when for t in trigger.triggers
    ]


def test_fn_if_inside_fn_if_needs_both_conditions() -> None:
    model = from_cloudformation(_text("nested.yaml"))

    def deployed(env: str) -> list[str]:
        chosen = resolve_parameters(model, {"Env": env})
        return [f"{s.name}/{a.name}" for s, a in chosen.actions()]

    assert pw.When("IsProd", under=pw.When("NotDev")) == model.stage("Approve").when
    assert "NotDev is true and IsProd is false" == str(model.stage("Smoke").when)
    assert ["Source/Fetch", "Build/Compile"] == deployed("dev")
    assert ["Source/Fetch", "Build/Compile", "Smoke/Check"] == deployed("staging")
    assert ["Source/Fetch", "Build/Compile", "Build/Scan", "Approve/Release"] == deployed("prod")


def test_pipeline_type_and_transitions_chosen_by_conditions() -> None:
    typed = from_cloudformation(_text("pipeline-type.yaml"))
    held = from_cloudformation(_text("transitions-when.yaml"))

    assert pw.Expression.of({"Fn::If": ["IsProd", "V2", "V1"]}) == typed.pipeline_type
    assert "V2" == to_codepipeline(typed, resolve=_resolver("prod"))["pipelineType"]
    assert "V1" == to_codepipeline(typed, resolve=_resolver("dev"))["pipelineType"]
    assert {"Release": "not in dev"} == dict(resolve_parameters(held, {"Env": "dev"}).disabled_transitions)
    assert {"Build": "held in prod"} == dict(
        resolve_parameters(held, {"Env": "prod", "HeldStage": "Build"}).disabled_transitions
    )
    assert {"Release": ~pw.When("IsProd")} == {
        str(k): w for k, w in held.disabled_transitions_when.items() if k == "Release"
    }


def test_a_true_error_in_one_branch_of_a_property_names_the_condition() -> None:
    """Configuration without ProjectName when IsProd is false: one error, on the template and on the model."""
    text = _text("configuration.yaml").replace("{ProjectName: compile-debug}", "{Unknown: x}")

    on_template = [(i.code, i.message) for i in pw.lint(text) if i.is_error]
    on_model = [(i.code, i.path, i.message) for i in pw.lint(from_cloudformation(text)) if i.is_error]

    assert on_template
    assert all(m.startswith("when IsProd is false: ") for _, m in on_template)
    assert on_model
    assert all(m.startswith("when IsProd is false: ") for _, _, m in on_model)
    assert all(p.startswith("stages[1].actions[1]") for _, p, _ in on_model)
    assert sorted(c for c, _ in on_template) == sorted(c for c, _, _ in on_model)


def test_a_condition_chosen_property_without_a_value_is_refused_naming_the_condition() -> None:
    text = _text("configuration.yaml").replace("AllowedValues: [dev, prod], Default: dev", "AllowedValues: [dev, prod]")
    typed = _text("pipeline-type.yaml").replace(
        "AllowedValues: [dev, prod], Default: dev", "AllowedValues: [dev, prod]"
    )

    for model, path in (
        (from_cloudformation(text), "stages[1].actions[0]"),
        (from_cloudformation(typed), "pipelineType"),
    ):
        with pytest.raises(pw.SynthesisError) as caught:
            to_codepipeline(model, resolve=parameter_resolver(VALUES | {"PipelineName": "p"}))
        assert path == caught.value.path
        assert "condition IsProd" in str(caught.value)


def test_alternatives_that_differ_elsewhere_are_written_around_the_element() -> None:
    """Edited so that the two branches differ in more than the property: the Fn::If goes back around the action."""
    model = from_cloudformation(_text("configuration.yaml"))
    build = model.stage("Build")
    edited = attrs.evolve(
        model,
        stages=[
            model.stages[0],
            attrs.evolve(build, actions=[build.actions[0], attrs.evolve(build.actions[1], run_order=2)]),
        ],
    )

    actions = to_cloudformation(edited)["Resources"]["Pipeline"]["Properties"]["Stages"][1]["Actions"]

    assert 1 == len(actions)
    assert ["IsProd", 1, 2] == [actions[0]["Fn::If"][0], *(b["RunOrder"] for b in actions[0]["Fn::If"][1:])]


def test_a_configuration_value_chosen_by_fn_if_is_linted_and_resolved_per_branch() -> None:
    """PrimarySource: !If [IsProd, Code, !Ref AWS::NoValue] leaves the key out when IsProd is false."""
    model = from_cloudformation(_text("configuration-values.yaml"))

    dev = to_codepipeline(model, resolve=_resolver("dev"))["stages"][1]["actions"][0]["configuration"]
    prod = to_codepipeline(model, resolve=_resolver("prod"))["stages"][1]["actions"][0]["configuration"]

    assert {"ProjectName": "compile", "BatchEnabled": "false"} == dev
    assert {"ProjectName": "compile", "PrimarySource": "Code", "BatchEnabled": "true"} == prod
    assert ["IsProd"] == _branches.condition_names(model)
    assert [] == pw.lint(model)
