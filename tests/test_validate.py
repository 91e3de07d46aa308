"""lint and validate as a whole: conformance files, valid twins, junk input, generated pipelines, parity."""

from __future__ import annotations

import copy
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pipeweaver as pw
from pipeweaver.synth import from_codepipeline, to_codepipeline

from .conftest import Case, cases
from .strategies import pipelines
from .test_validate_rules import CASES, ROLE, _target, action, add, base, commands_action, rule, t, trigger

# -- conformance files: the project's fixtures, and the corpus when it is present ---------------

#: Where each invalid API file is wrong: (code, path) that must be among its errors.
EXPECTED_API_ERRORS = {
    "api/invalid-template-placeholder-name.json": ("PW010", "name"),
    "api/invalid-placeholder-role-codedeploy-without-configuration.json": (
        "PW210",
        "stages[1].actions[0].configuration.ApplicationName",
    ),
    "api/invalid-placeholder-account-ecs-blue-green.json": ("PW010", "roleArn"),
    "api/invalid-artifact-stores-as-list.json": ("PW003", "artifactStores"),
    "api/invalid-trigger-filter-fragment.json": ("PW001", "triggers[0].provider"),
    "api/api-10-crossregion-artifactstores-docs.json": ("PW010", "roleArn"),
    "api/api-11-v2-trigger-queued-codedeploy.json": ("PW010", "roleArn"),
    "api/api-14-invalid-placeholder-name.json": ("PW010", "name"),
    "api/api-15-invalid-placeholder-role-codedeploy-noconfig.json": (
        "PW210",
        "stages[1].actions[0].configuration.ApplicationName",
    ),
    "api/api-17-invalid-placeholder-account-codedeploytoecs.json": ("PW010", "roleArn"),
    "api/api-18-invalid-artifactstores-list-shape.json": ("PW003", "artifactStores"),
    "api/api-19-invalid-docs-trigger-filter-fragment.json": ("PW001", "triggers[0].provider"),
}


@pytest.mark.parametrize("case", cases("api"))
def test_conformance_api(case: Case) -> None:
    """Valid definitions get no error; invalid ones get an error at the known place."""
    issues = pw.lint(case.json())
    errors = [(i.code, i.path) for i in issues if i.is_error]

    if case.valid:
        assert [] == errors
    else:
        assert EXPECTED_API_ERRORS[case.name] in errors


@pytest.mark.parametrize("case", cases("api", lambda c: c.valid))
def test_conformance_api_model_parity(case: Case) -> None:
    """A valid definition and the model loaded from it get the same issues."""
    data = case.json()

    assert pw.lint(data) == pw.lint(from_codepipeline(data))


#: Where each invalid CloudFormation file that loads is wrong, linted through its model (API paths).
EXPECTED_CFN_ERRORS = {
    "cfn/invalid-role-without-account.yaml": ("PW010", "roleArn"),
    "cfn/invalid-duplicate-stage-names.yaml": ("PW107", "stages[1].name"),
    "cfn/cfn-10-cfnlint-good-stage-actions.yaml": ("PW010", "roleArn"),
    "cfn/cfn-12-cfnlint-bad-stages-non-unique.yaml": ("PW107", "stages[1].name"),
}


@pytest.mark.parametrize("case", cases("cfn"))
def test_conformance_cfn_through_model(case: Case) -> None:
    """Valid templates' pipelines lint without errors; invalid ones fail to load or get the known error."""
    from pipeweaver.synth import from_cloudformation

    load_issues: tuple[pw.Issue, ...] = ()
    try:
        model = from_cloudformation(case.text())
    except pw.LoadError as exc:
        load_issues = exc.issues
    if load_issues:
        assert (False, True) == (case.valid, all(i.is_error for i in load_issues))
        return
    errors = [(i.code, i.path) for i in pw.lint(model) if i.is_error]

    if case.valid:
        assert [] == errors
    else:
        assert EXPECTED_CFN_ERRORS[case.name] in errors


# -- valid twins: no false alarms -------------------------------------------------------------


def _same_stage_chain(d: dict[str, Any]) -> None:
    add(
        d,
        1,
        {
            "name": "Test",
            "actionTypeId": t("Test", "CodeBuild"),
            "runOrder": 2,
            "configuration": {
                "ProjectName": "t",
                "EnvironmentVariables": '[{"name":"V","value":"#{BuildVariables.V}"}]',
            },
            "inputArtifacts": [{"name": "BuildOutput"}],
        },
    )


def _parallel_sources(d: dict[str, Any]) -> None:
    add(
        d,
        0,
        {
            "name": "Assets",
            "actionTypeId": t("Source", "S3"),
            "configuration": {"S3Bucket": "assets", "S3ObjectKey": "a.zip", "PollForSourceChanges": "false"},
            "outputArtifacts": [{"name": "Assets"}],
        },
    )
    action(d, 1)["inputArtifacts"].append({"name": "Assets"})
    action(d, 1)["configuration"]["PrimarySource"] = "SourceOutput"


def _cross_region(d: dict[str, Any]) -> None:
    d.pop("artifactStore")
    d["artifactStores"] = {
        r: {
            "type": "S3",
            "location": f"bucket-{r}",
            "encryptionKey": {"id": f"arn:aws:kms:{r}:123456789012:key/k", "type": "KMS"},
        }
        for r in ("us-east-1", "eu-west-1")
    }
    action(d, 2)["region"] = "eu-west-1"


def _github_secret(d: dict[str, Any]) -> None:
    source = action(d, 0)
    source["actionTypeId"] = t("Source", "GitHub", "ThirdParty")
    source["configuration"] = {
        "Owner": "acme",
        "Repo": "web",
        "Branch": "main",
        "OAuthToken": "****",
        "PollForSourceChanges": "false",
    }


def _v2_everything(d: dict[str, Any]) -> None:
    d["executionMode"] = "QUEUED"
    d["variables"] = [{"name": "env", "defaultValue": "prod"}]
    d["triggers"] = [
        trigger(
            push=[
                {"branches": {"includes": ["main"]}, "filePaths": {"includes": ["src/**"]}},
                {"tags": {"includes": ["v*"]}},
            ],
            pullRequest=[{"events": ["OPEN"], "branches": {"includes": ["main"]}}],
        )
    ]
    action(d, 2)["configuration"]["DeploymentGroupName"] = "#{variables.env}-#{codepipeline.PipelineExecutionId}"
    d["stages"][2]["beforeEntry"] = {
        "conditions": [
            {
                "result": "SKIP",
                "rules": [
                    rule(
                        "VariableCheck",
                        configuration={"Variable": "#{SourceVariables.BranchName}", "Value": "main", "Operator": "NE"},
                    )
                ],
            }
        ]
    }
    d["stages"][2]["onSuccess"] = {
        "conditions": [
            {"result": "ROLLBACK", "rules": [rule("CloudWatchAlarm", configuration={"AlarmName": "errors"})]}
        ]
    }
    d["stages"][1]["onFailure"] = {"result": "RETRY", "retryConfiguration": {"retryMode": "FAILED_ACTIONS"}}
    add(
        d,
        1,
        commands_action(
            runOrder=2, commands=["make", "echo #{BuildVariables.VERSION}"], outputVariables=["OUT"], namespace="Cmd"
        ),
    )


def _cloudformation_modes(d: dict[str, Any]) -> None:
    common = {"StackName": "web", "ChangeSetName": "cs"}
    for i, mode in enumerate(("CHANGE_SET_REPLACE", "CHANGE_SET_EXECUTE")):
        config = dict(common, ActionMode=mode)
        if mode == "CHANGE_SET_REPLACE":
            config.update(
                RoleArn=ROLE, TemplatePath="BuildOutput::t.yaml", Capabilities="CAPABILITY_IAM,CAPABILITY_AUTO_EXPAND"
            )
        add(
            d,
            2,
            {
                "name": f"Stack{i}",
                "actionTypeId": t("Deploy", "CloudFormation"),
                "runOrder": i + 1,
                "configuration": config,
                "inputArtifacts": [{"name": "BuildOutput"}] if i == 0 else [],
            },
        )


def _ecs_blue_green(d: dict[str, Any]) -> None:
    action(d, 2)["actionTypeId"] = t("Deploy", "CodeDeployToECS")
    action(d, 2)["configuration"] = {
        "ApplicationName": "web",
        "DeploymentGroupName": "prod",
        "TaskDefinitionTemplateArtifact": "BuildOutput",
        "AppSpecTemplateArtifact": "BuildOutput",
        "Image1ArtifactName": "BuildOutput",
        "Image1ContainerName": "IMAGE1_NAME",
    }


def _custom_action(d: dict[str, Any]) -> None:
    add(
        d,
        2,
        {
            "name": "Scan",
            "actionTypeId": t("Test", "AcmeScanner", "Custom"),
            "configuration": {"Anything": "goes"},
            "inputArtifacts": [{"name": "BuildOutput"}],
        },
    )


def _same_region_everywhere(d: dict[str, Any]) -> None:
    # get-pipeline output writes the pipeline region on every action, sources included
    for stage in d["stages"]:
        for item in stage["actions"]:
            item["region"] = "us-east-1"


TWINS = {
    "same-stage runOrder chain": _same_stage_chain,
    "parallel sources": _parallel_sources,
    "cross-region stores": _cross_region,
    "secret **** in an export": _github_secret,
    "V2 variables, triggers, conditions, Commands": _v2_everything,
    "CloudFormation change set modes": _cloudformation_modes,
    "ECS blue/green artifacts": _ecs_blue_green,
    "custom action type": _custom_action,
    "every action in one region": _same_region_everywhere,
}


@pytest.mark.parametrize("name", list(TWINS))
def test_valid_twin(name: str) -> None:
    """Valid variations of the base pipeline raise no issue at all (no false alarms)."""
    d = base()
    TWINS[name](d)

    assert [] == [str(i) for i in pw.lint(d)]


def test_cross_region_with_known_region() -> None:
    """With the pipeline region given, a correct cross-region pipeline is still clean."""
    d = base()
    _cross_region(d)

    assert [] == pw.lint(d, region="us-east-1")


# -- model and JSON give the same answer --------------------------------------------------------


#: Cases whose JSON a model cannot represent exactly, and why.
PARITY_EXCEPTIONS = {"PW013": "a model holds an empty push list as no push filters, and renders none"}


@pytest.mark.parametrize(("code", "path", "mutate", "region"), CASES)
def test_model_and_json_agree(code: str, path: str, mutate: Any, region: str | None) -> None:
    """A bad definition loaded as a model reports the same issues, at the same paths, as its JSON."""
    if code in PARITY_EXCEPTIONS:
        pytest.skip(PARITY_EXCEPTIONS[code])
    target = _target(mutate)
    if not isinstance(target, dict) or "pipeline" in target:
        pytest.skip("case is a model or an envelope already")
    try:
        model = from_codepipeline(target)
    except pw.LoadError:
        pytest.skip("structurally broken JSON cannot become a model")

    assert pw.lint(target, region=region) == pw.lint(model, region=region)


def test_model_expressions_are_kept() -> None:
    """CloudFormation expressions in a model are linted as values, not rejected as types."""
    p = from_codepipeline(base())
    p = attrs.evolve(p, role_arn=pw.Expression.of({"Fn::GetAtt": ["Role", "Arn"]}))

    assert [] == pw.lint(p)


# -- validate -----------------------------------------------------------------------------------


def test_validate_raises_with_every_issue() -> None:
    """Pipeline.validate raises a ValidationError (a ValueError) carrying all issues found."""
    d = base()
    action(d, 2)["inputArtifacts"] = [{"name": "Nope"}]
    action(d, 1)["configuration"]["Bogus"] = "1"
    p = from_codepipeline(d)

    with pytest.raises(ValueError) as info:
        p.validate()

    assert isinstance(info.value, pw.ValidationError)
    assert {"PW208", "PW212"} == {i.code for i in info.value.issues}


def test_validate_passes_with_warnings_only() -> None:
    """Warnings alone do not make validate raise."""
    d = base()
    action(d, 1)["timeoutInMinutes"] = 30
    p = from_codepipeline(d)

    p.validate()

    assert ["PW708"] == [i.code for i in pw.lint(p)]


def test_sample_fixture_is_clean(sample: pw.Pipeline) -> None:
    """The shared sample pipeline is valid."""
    assert [] == [i for i in pw.lint(sample) if i.is_error]


# -- best effort on broken input ----------------------------------------------------------------


def test_structural_and_rule_problems_in_one_pass() -> None:
    """A definition with broken structure still gets its whole-pipeline rules checked elsewhere."""
    d = base()
    d["stages"][1]["actions"][0]["actionTypeId"] = "CodeBuild"  # structurally wrong
    action(d, 2)["inputArtifacts"] = [{"name": "BuildOutpt"}]  # a rule problem elsewhere
    d["stages"][2]["name"] = "Build"

    found = {(i.code, i.path) for i in pw.lint(d)}

    assert {
        ("PW003", "stages[1].actions[0].actionTypeId"),
        ("PW208", "stages[2].actions[0].inputArtifacts[0].name"),
        ("PW107", "stages[2].name"),
    } <= found


JUNK: list[Any] = [
    None,
    [],
    [1, 2],
    "pipeline",
    42,
    3.5,
    True,
    {},
    {"pipeline": None},
    {"pipeline": []},
    {"stages": "x"},
    {"stages": [None, 1, "x", [], {"actions": None}, {"actions": [None, 5, {"actionTypeId": []}]}]},
    {"stages": [{"actions": [{"actionTypeId": {"category": 1, "owner": None, "provider": ["x"]}}]}]},
    {"triggers": [None, {"gitConfiguration": None}, {"gitConfiguration": {"push": [None, 1]}}]},
    {"artifactStores": {1: None, "x": []}, "artifactStore": "bucket"},
    {"stages": [{"onFailure": {"conditions": [None, {"rules": [None, {"ruleTypeId": 5}]}]}}]},
    {"stages": [{"actions": [{"configuration": {1: 2, "#{x": None}, "runOrder": True}]}]},
]


def _deep(n: int) -> Any:
    value: Any = {}
    for _ in range(n):
        value = {"stages": [value]}
    return value


@pytest.mark.parametrize("junk", [*JUNK, _deep(500)], ids=[f"junk{i}" for i in range(len(JUNK) + 1)])
def test_junk_never_raises(junk: Any) -> None:
    """Arbitrary non-pipeline input comes back as errors, never as an exception or an internal error."""
    issues = pw.lint(junk)

    assert [] == [i for i in issues if i.code == "PW099"]
    assert any(i.is_error for i in issues)


def test_huge_input_is_linear_enough() -> None:
    """A pipeline far beyond the quotas (5000 actions) is linted and reported, not choked on."""
    d = base()
    d["stages"][2]["actions"] = [{**copy.deepcopy(action(d, 2)), "name": f"D{i}"} for i in range(5000)]

    codes = {i.code for i in pw.lint(d)}

    assert {"PW602", "PW603"} <= codes


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)
_KEYS = [
    "name",
    "stages",
    "actions",
    "actionTypeId",
    "category",
    "owner",
    "provider",
    "configuration",
    "inputArtifacts",
    "outputArtifacts",
    "runOrder",
    "namespace",
    "region",
    "triggers",
    "gitConfiguration",
    "onFailure",
    "conditions",
    "rules",
    "ruleTypeId",
    "artifactStores",
    "variables",
    "push",
    "commands",
]
shaped = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 1001) | st.sampled_from(["Source", "AWS", "S3", "#{a.b}", "x"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(_KEYS), inner, max_size=5),
    max_leaves=40,
)


@settings(max_examples=300)
@given(st.one_of(json_values, shaped))
def test_fuzz_never_raises(data: Any) -> None:
    """Random JSON, including keys from the declaration, never makes lint raise or crash a rule."""
    assert [] == [i for i in pw.lint(data) if i.code == "PW099"]


@settings(max_examples=300)
@given(st.data())
def test_mutated_base_never_raises(data: st.DataObject) -> None:
    """Replacing any one value of a valid definition with junk never crashes a rule."""
    d = base()
    containers: list[Any] = [d]
    spots: list[tuple[Any, Any]] = []
    while containers:
        c = containers.pop()
        for k in range(len(c)) if isinstance(c, list) else list(c):
            spots.append((c, k))
            if isinstance(c[k], dict | list):
                containers.append(c[k])
    container, key = data.draw(st.sampled_from(spots))
    container[key] = data.draw(json_values)

    assert [] == [i for i in pw.lint(d) if i.code == "PW099"]


# -- generated valid pipelines ------------------------------------------------------------------


@settings(max_examples=250)
@given(pipelines())
def test_generated_pipelines_have_no_errors(p: pw.Pipeline) -> None:
    """Pipelines from the valid-pipeline strategy lint without errors (as models and as JSON)."""
    issues = pw.lint(p)

    assert [] == [str(i) for i in issues if i.is_error]
    assert issues == pw.lint(to_codepipeline(p))


@settings(max_examples=100)
@given(pipelines(), st.data())
def test_mutations_give_exactly_their_error(p: pw.Pipeline, data: st.DataObject) -> None:
    """Breaking one rule of a valid generated pipeline yields exactly that rule's error code."""
    d = to_codepipeline(p)
    consumers = [a for s in d["stages"] for a in s["actions"] if a.get("inputArtifacts")]
    choices = ["duplicate-stage", "run-order"] + (["drop-producer"] if consumers else [])
    mutation = data.draw(st.sampled_from(choices))
    if mutation == "duplicate-stage":
        d["stages"][-1]["name"] = d["stages"][0]["name"]
        expected = "PW107"
    elif mutation == "run-order":
        d["stages"][-1]["actions"][-1]["runOrder"] = 1000
        expected = "PW014"
    else:
        # the last input is never a CodeBuild PrimarySource (the strategy names the first)
        data.draw(st.sampled_from(consumers))["inputArtifacts"][-1]["name"] = "NoSuchArtifact"
        expected = "PW208"

    assert {expected} == {i.code for i in pw.lint(d) if i.is_error}


@pytest.mark.parametrize(
    ("where", "says"),
    [
        ("environment", "into the JSON text of CodeBuild's environment variables"),
        ("buildspec", "into the buildspec text before CodeBuild reads it"),
    ],
)
def test_injection_warning_names_what_the_text_becomes(where: str, says: str) -> None:
    """PW701 on a CodeBuild action says whether the value lands in JSON or a buildspec, not 'shell text'."""
    source = pw.actions.codecommit_source("Source", repository_name="web", branch="main", namespace="SourceVariables")
    message = source.variable("CommitMessage")
    build = pw.actions.codebuild(
        "Build",
        project_name="web",
        input=source.output(),
        environment_variables={"MSG": message} if where == "environment" else None,
        buildspec_override=f"version: 0.2\nphases:\n  build:\n    commands: [echo {message}]"
        if where == "buildspec"
        else None,
    )
    pipeline = pw.Pipeline(
        name="p",
        role_arn=ROLE,
        artifact_store=pw.ArtifactStore(location="bucket"),
        stages=[pw.Stage(name="Source", actions=[source]), pw.Stage(name="Build", actions=[build])],
    )
    found = [i for i in pw.lint(pipeline) if i.code == "PW701"]
    key = "EnvironmentVariables" if where == "environment" else "BuildspecOverride"
    assert [f"stages[1].actions[0].configuration.{key}"] == [i.path for i in found]
    assert says in found[0].message
    assert "shell text" not in found[0].message
