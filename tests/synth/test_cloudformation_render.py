"""CloudFormation properties are the API declaration in CloudFormation's spelling.

``to_cloudformation`` and ``to_codepipeline`` share one walk over the model
(:class:`pipeweaver._codec.Renderer`). The definition it must meet is stated here in two steps:
the API declaration (expressions as their intrinsic functions), keys renamed by walking the
shapes table, and AWS's implicit defaults left out; parameters are the names every ``Ref``
and ``Fn::Sub`` of the finished template refers to. Both must give the same document, key
order included, and the same parameters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pipeweaver as pw
from pipeweaver import _cfn, _names
from pipeweaver._codec import is_intrinsic
from pipeweaver._shapes import SHAPES
from pipeweaver.errors import SynthesisError
from pipeweaver.synth import (
    EventWiring,
    from_cloudformation,
    from_codepipeline,
    pipeline_properties,
    to_cloudformation,
    to_codepipeline,
)
from pipeweaver.synth._cloudformation import CFN_ON_FAILURE_RESULTS, _referenced, _region

from ..conftest import Case, cases
from ..strategies import pipelines
from ._strategies import expressions, pipelines_with_expressions

# -- the oracle: the two-step rendering ---------------------------------------------------------


def _raw(value: Any) -> Any:
    if isinstance(value, pw.Expression):
        return value.raw
    if isinstance(value, Mapping):
        return {k: _raw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_raw(v) for v in value]
    return value


def _pascal(value: Any, shape_name: str) -> Any:
    if is_intrinsic(value):
        return value
    shape = SHAPES[shape_name]
    if shape["type"] == "structure" and isinstance(value, Mapping):
        members = shape["members"]
        return {_cfn.cfn_key(k): _pascal(v, members[k]) if k in members else v for k, v in value.items()}
    if shape["type"] == "list" and isinstance(value, list):
        return [_pascal(v, shape["member"]) for v in value]
    return value


def _check_limits(declaration: Mapping[str, Any]) -> None:
    for i, stage in enumerate(declaration.get("stages", [])):
        failure = stage.get("onFailure")
        if failure and failure.get("result") is not None and failure["result"] not in CFN_ON_FAILURE_RESULTS:
            raise SynthesisError("result", path=f"stages[{i}].onFailure.result")
        for where in ("onFailure", "onSuccess", "beforeEntry"):
            for c, condition in enumerate((stage.get(where) or {}).get("conditions") or ()):
                for r, rule in enumerate(condition.get("rules") or ()):
                    if "timeoutInMinutes" in rule:
                        raise SynthesisError(
                            "timeout", path=f"stages[{i}].{where}.conditions[{c}].rules[{r}].timeoutInMinutes"
                        )


def oracle_properties(pipeline: pw.Pipeline) -> dict[str, Any]:
    declaration = _raw(to_codepipeline(pipeline, resolve=lambda expr, _path: expr.raw))
    _check_limits(declaration)
    stores = declaration.pop("artifactStores", None)
    props: dict[str, Any] = _pascal(declaration, "PipelineDeclaration")
    if props.get("Name") == _cfn.NO_NAME:
        del props["Name"]
    for action in (a for s in props["Stages"] for a in s["Actions"]):
        for key in ("Configuration", "InputArtifacts", "OutputArtifacts"):
            if not action.get(key):
                action.pop(key, None)
    if stores is not None:
        props["ArtifactStores"] = [
            {"Region": _region(region), "ArtifactStore": _pascal(store, "ArtifactStore")}
            for region, store in stores.items()
        ]
    if pipeline.disabled_transitions:
        props["DisableInboundStageTransitions"] = [
            {"StageName": stage, "Reason": _raw(reason)} for stage, reason in pipeline.disabled_transitions.items()
        ]
    if pipeline.restart_execution_on_update is not None:
        props["RestartExecutionOnUpdate"] = pipeline.restart_execution_on_update
    if pipeline.tags:
        props["Tags"] = [{"Key": k, "Value": _raw(v)} for k, v in pipeline.tags.items()]
    return props


def _declared(template: Mapping[str, Any]) -> list[str]:
    """The parameters ``to_cloudformation`` declared for names the template refers to, in order."""
    return [
        name
        for name, spec in template.get("Parameters", {}).items()
        if spec == {"Type": "String", "Description": f"Value of {name} (referenced by the pipeline)"}
    ]


def oracle_parameters(template: Mapping[str, Any]) -> list[str]:
    """The parameters a walk of every node of the finished ``Resources`` declares, in order."""
    found: set[str] = set()
    _referenced(template["Resources"], found)
    others = set(template.get("Parameters", {})) - set(_declared(template))
    known = set(template["Resources"]) | others
    return sorted(n for n in found - known if not n.startswith("AWS::"))


def _text(value: Any) -> str:
    return json.dumps(value)


def assert_renders_like_the_oracle(pipeline: pw.Pipeline, **options: Any) -> None:
    refused: SynthesisError | None = None
    try:
        expected = oracle_properties(pipeline)
    except SynthesisError as exc:
        refused = exc
    if refused is not None:
        with pytest.raises(SynthesisError) as raised:
            pipeline_properties(pipeline)
        assert refused.path == raised.value.path
        return
    assert _text(expected) == _text(pipeline_properties(pipeline))
    template = to_cloudformation(pipeline, **options)
    assert oracle_parameters(template) == _declared(template)


# -- generated and real pipelines -------------------------------------------------------------

_WIRING = EventWiring(schedule="0 12 * * *", detect_changes=True, notifications=True)


@settings(max_examples=150)
@given(st.one_of(pipelines(), pipelines_with_expressions()), st.booleans())
def test_generated_pipelines_render_like_the_oracle(pipeline: pw.Pipeline, extras: bool) -> None:
    single = pipeline.artifact_store is not None
    options: dict[str, Any] = (
        {"artifact_bucket": single, "kms_key": single, "pipeline_role": True, "events": _WIRING} if extras else {}
    )
    assert_renders_like_the_oracle(pipeline, **options)


@pytest.mark.parametrize("case", cases("cfn", lambda c: c.valid))
def test_imported_templates_render_like_the_oracle(case: Case) -> None:
    pipeline = from_cloudformation(case.text())
    assert_renders_like_the_oracle(pipeline)
    assert_renders_like_the_oracle(pipeline, pipeline_role=True, events=_WIRING, parameters={"Given": {}})


@pytest.mark.parametrize("case", cases("api", lambda c: c.valid))
def test_api_definitions_render_like_the_oracle(case: Case) -> None:
    pipeline = from_codepipeline(case.json())
    assert_renders_like_the_oracle(pipeline)
    assert_renders_like_the_oracle(pipeline, pipeline_role=True, events=_WIRING)


# -- expressions where only a template import puts them -----------------------------------------


def _x(name: str) -> pw.Expression:
    return pw.Expression.of({"Ref": name})


def _sub(name: str) -> pw.Expression:
    return pw.Expression.of({"Fn::Sub": f"pre-${{{name}}}-${{AWS::Region}}"})


def _everywhere() -> pw.Pipeline:
    """Expressions in every string field (as an imported template may hold), built unchecked."""
    with _names.unchecked():
        out = pw.Artifact(_x("OutName"), files=[_x("FileParam")])
        rule = pw.Rule(
            name=_x("RuleName"),
            rule_type=pw.RuleType(provider=_x("RuleProvider"), category="Rule", version=_x("RuleVersion")),
            configuration={"Variable": _sub("RuleVar"), "Value": "x"},
            commands=[_x("RuleCommand")],
            inputs=[out],
            role_arn=_x("RuleRole"),
            region=_x("RuleRegion"),
        )
        condition = pw.Condition(result="ROLLBACK", rules=[rule])
        return pw.Pipeline(
            name=_cfn.NO_NAME and pw.Expression.of(_cfn.NO_NAME),
            role_arn=_sub("RoleParam"),
            artifact_stores={
                "us-east-1": pw.ArtifactStore(
                    location=_x("Bucket"), encryption_key=pw.EncryptionKey(id=_x("KeyParam"))
                ),
                json.dumps({"Ref": "OtherRegion"}): pw.ArtifactStore(location="other-bucket"),
            },
            pipeline_type="V2",
            variables=[pw.Variable(name="v", default_value=_x("VarDefault"), description="d")],
            tags={"team": _x("TeamParam")},
            disabled_transitions={"Build": _x("ReasonParam")},
            restart_execution_on_update=False,
            stages=[
                pw.Stage(
                    name="Source",
                    blockers=[pw.Blocker(name=_x("BlockerName"))],
                    actions=[
                        pw.Action(
                            name="Src",
                            action_type=pw.ActionType(category="Source", provider="CodeCommit", version=_x("Ver")),
                            configuration={"RepositoryName": _x("Repo"), "PollForSourceChanges": _x("Poll")},
                            outputs=[out],
                            namespace=_x("Namespace"),
                        ),
                        pw.Action(
                            name="Only",
                            action_type=pw.ActionType(category="Source", provider=_x("Provider")),
                            configuration={"Ref": "OneKeyConfig"},
                            outputs=[pw.Artifact("Other")],
                        ),
                        pw.Action(
                            name="SubKey",
                            action_type=pw.ActionType(category="Source", provider="S3"),
                            configuration={"Fn::Sub": "${SubKeyConfig}"},
                            outputs=[pw.Artifact("Third")],
                        ),
                    ],
                ),
                pw.Stage(
                    name="Build",
                    on_failure=pw.FailureConditions(result="ROLLBACK", conditions=[condition]),
                    on_success=pw.SuccessConditions(conditions=[condition]),
                    before_entry=pw.BeforeEntryConditions(conditions=[condition]),
                    actions=[
                        pw.Action(
                            name="Run",
                            action_type=pw.ActionType(category="Compute", provider="Commands"),
                            run_order=2,
                            commands=["make", _sub("CommandParam")],
                            inputs=[out],
                            output_variables=[_x("OutVar")],
                            role_arn=_x("ActionRole"),
                            region=_x("ActionRegion"),
                            timeout_in_minutes=60,
                            environment_variables=[
                                pw.EnvironmentVariable(name=_x("EnvName"), value=_sub("EnvValue"), type="PLAINTEXT")
                            ],
                        )
                    ],
                ),
                pw.Stage(
                    name=_x("DeployStage"),
                    actions=[
                        pw.Action(
                            name=_x("DeployName"),
                            action_type=pw.ActionType(category="Deploy", provider="S3"),
                            configuration={"BucketName": _x("DeployBucket"), "Extract": "true"},
                            inputs=[out],
                        )
                    ],
                ),
            ],
        )


@pytest.mark.parametrize(
    "options",
    [{}, {"pipeline_role": True, "events": _WIRING}, {"parameters": {"Repo": {"Type": "String"}}}],
    ids=["bare", "role-events", "given-parameter"],
)
def test_expressions_in_every_string_field_render_like_the_oracle(options: dict[str, Any]) -> None:
    pipeline = _everywhere()
    assert_renders_like_the_oracle(pipeline, **options)
    declared = set(to_cloudformation(pipeline, **options)["Parameters"])
    # A few of them, spelled out: stage-level expressions, the one-key configurations that read
    # as intrinsic functions, and values outside the stages.
    assert {"DeployStage", "DeployName", "RuleVar", "FileParam", "EnvValue", "OneKeyConfig", "TeamParam"} <= declared


def test_a_value_event_wiring_overwrites_declares_no_parameter() -> None:
    """``PollForSourceChanges: !Ref Poll`` replaced by event wiring's "false" refers to nothing."""
    pipeline = _everywhere()
    with_events = to_cloudformation(pipeline, events=_WIRING)
    without = to_cloudformation(pipeline)

    assert "Poll" in without["Parameters"]
    assert "Poll" not in with_events["Parameters"]
    assert_renders_like_the_oracle(pipeline, events=_WIRING)


def test_one_key_configuration_that_event_wiring_extends_is_no_longer_an_intrinsic() -> None:
    """``{"Ref": "X"}`` as a whole configuration reads as a Ref only while it is the only key."""
    with _names.unchecked():
        pipeline = pw.Pipeline(
            name="p",
            role_arn="arn:aws:iam::123456789012:role/R",
            artifact_store=pw.ArtifactStore(location="bucket"),
            stages=[
                pw.Stage(
                    name="Source",
                    actions=[
                        pw.Action(
                            name="Src",
                            action_type=pw.ActionType(category="Source", provider="CodeCommit"),
                            configuration={"Ref": "Whole"},
                            outputs=[pw.Artifact("Out")],
                        )
                    ],
                ),
                pw.Stage(
                    name="Build",
                    actions=[
                        pw.Action(
                            name="B",
                            action_type=pw.ActionType(category="Build", provider="CodeBuild"),
                            configuration={"ProjectName": "p"},
                            inputs=[pw.Artifact("Out")],
                        )
                    ],
                ),
            ],
        )

    assert "Whole" in to_cloudformation(pipeline)["Parameters"]
    assert "Parameters" not in to_cloudformation(pipeline, events=_WIRING)
    assert_renders_like_the_oracle(pipeline)
    assert_renders_like_the_oracle(pipeline, events=_WIRING)


@settings(max_examples=50)
@given(expressions, expressions)
def test_generated_expressions_in_stage_names_and_commands(name: pw.Expression, command: pw.Expression) -> None:
    base = _everywhere()
    with _names.unchecked():
        stages = list(base.stages)
        stages[1] = pw.Stage(
            name=name,
            actions=[pw.Action(name="Run", action_type=stages[1].actions[0].action_type, commands=[command])],
        )
        pipeline = pw.Pipeline(
            name="p", role_arn=base.role_arn, artifact_store=pw.ArtifactStore(location="b"), stages=stages
        )
    assert_renders_like_the_oracle(pipeline)


@pytest.mark.parametrize("result", ["FAIL", "SKIP"])
def test_refused_settings_name_the_same_path(sample: pw.Pipeline, result: str) -> None:
    stages = list(sample.stages)
    stages[-1] = pw.Stage(
        name=stages[-1].name, actions=stages[-1].actions, on_failure=pw.FailureConditions(result=result)
    )
    pipeline = pw.Pipeline(
        name=sample.name,
        role_arn=sample.role_arn,
        artifact_store=sample.artifact_store,
        pipeline_type="V2",
        stages=stages,
    )
    assert_renders_like_the_oracle(pipeline)
    with pytest.raises(SynthesisError) as raised:
        to_cloudformation(pipeline)
    assert raised.value.path == f"stages[{len(stages) - 1}].onFailure.result"


def test_rule_timeout_in_before_entry_names_its_path(sample: pw.Pipeline) -> None:
    rule = pw.Rule(name="Check", rule_type=pw.RuleType(provider="VariableCheck"), timeout_in_minutes=10)
    stages = list(sample.stages)
    stages[-1] = pw.Stage(
        name=stages[-1].name,
        actions=stages[-1].actions,
        on_success=pw.SuccessConditions(conditions=[pw.Condition(result="FAIL", rules=[rule])]),
        before_entry=pw.BeforeEntryConditions(conditions=[pw.Condition(rules=[rule, rule])]),
    )
    pipeline = pw.Pipeline(
        name=sample.name,
        role_arn=sample.role_arn,
        artifact_store=sample.artifact_store,
        pipeline_type="V2",
        stages=stages,
    )
    with pytest.raises(SynthesisError) as raised:
        to_cloudformation(pipeline)
    assert raised.value.path == f"stages[{len(stages) - 1}].onSuccess.conditions[0].rules[0].timeoutInMinutes"
    assert_renders_like_the_oracle(pipeline)
