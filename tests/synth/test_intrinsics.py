"""Intrinsic functions wherever free text goes, and dynamic references (issue 14, items 3 and 4).

One fixture, tests/fixtures/intrinsics/free-text.yaml, writes every free-text field of a V2
pipeline as text. Each row of ``FIELDS`` puts ``!Sub '<the same text>${Suffix}'`` in one field
(or in the places that must agree: an artifact's output and its inputs, a stage and the
transition that names it) and takes the result through import -> lint -> model ->
CloudFormation -> model, -> Python -> model, and, with ``Suffix`` given as empty text, ->
CodePipeline JSON, which must then be the base pipeline's JSON exactly.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import attrs
import pytest

import pipeweaver as pw
from pipeweaver import _cfn
from pipeweaver.synth import (
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

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "intrinsics"
BASE = FIXTURES / "free-text.yaml"
#: Values of the base template's parameters.
VALUES = {
    "RoleArn": "arn:aws:iam::111111111111:role/pipeline",
    "ArtifactBucket": "artifacts-111111111111",
    "ConnectionArn": "arn:aws:codeconnections:us-east-1:111111111111:connection/abc",
}
#: ...and the one the rows add: empty, so that each function resolves to the base's own text.
RESOLVED = {**VALUES, "Suffix": ""}

S0, S1, S2 = ("Stages", 0), ("Stages", 1), ("Stages", 2)
CHECKOUT, COMPILE, PUBLISH = (*S0, "Actions", 0), (*S1, "Actions", 0), (*S2, "Actions", 0)
RULE = (*S2, "BeforeEntry", "Conditions", 0, "Rules", 0)
GIT = ("Triggers", 0, "GitConfiguration")

#: (id, template paths given the same function, the API path to_codepipeline names first, or
#: None for what lives beside the declaration)
FIELDS: list[tuple[str, list[tuple[Any, ...]], str | None]] = [
    ("pipeline-name", [("Name",)], "name"),
    ("stage-name", [(*S0, "Name")], "stages[0].name"),
    ("action-and-trigger-source", [(*CHECKOUT, "Name"), (*GIT, "SourceActionName")], "stages[0].actions[0].name"),
    ("trigger-source-only", [(*GIT, "SourceActionName")], "triggers[0].gitConfiguration.sourceActionName"),
    (
        "artifact-output-and-input",
        [(*CHECKOUT, "OutputArtifacts", 0, "Name"), (*COMPILE, "InputArtifacts", 0, "Name")],
        "stages[0].actions[0].outputArtifacts[0].name",
    ),
    (
        "artifact-read-by-a-rule",
        [
            (*COMPILE, "OutputArtifacts", 0, "Name"),
            (*RULE, "InputArtifacts", 0, "Name"),
            (*PUBLISH, "InputArtifacts", 0, "Name"),
        ],
        "stages[1].actions[0].outputArtifacts[0].name",
    ),
    ("artifact-input-only", [(*PUBLISH, "InputArtifacts", 0, "Name")], "stages[2].actions[0].inputArtifacts[0].name"),
    (
        "artifact-output-only",
        [(*CHECKOUT, "OutputArtifacts", 0, "Name")],
        "stages[0].actions[0].outputArtifacts[0].name",
    ),
    (
        "output-files",
        [(*COMPILE, "OutputArtifacts", 0, "Files", 0)],
        "stages[1].actions[0].outputArtifacts[0].files[0]",
    ),
    ("command", [(*COMPILE, "Commands", 0)], "stages[1].actions[0].commands[0]"),
    ("output-variable", [(*COMPILE, "OutputVariables", 0)], "stages[1].actions[0].outputVariables[0]"),
    (
        "environment-variable-name",
        [(*COMPILE, "EnvironmentVariables", 0, "Name")],
        "stages[1].actions[0].environmentVariables[0].name",
    ),
    (
        "environment-variable-value",
        [(*COMPILE, "EnvironmentVariables", 0, "Value")],
        "stages[1].actions[0].environmentVariables[0].value",
    ),
    ("action-role", [(*COMPILE, "RoleArn")], "stages[1].actions[0].roleArn"),
    ("namespace", [(*CHECKOUT, "Namespace")], "stages[0].actions[0].namespace"),
    ("action-type-version", [(*COMPILE, "ActionTypeId", "Version")], "stages[1].actions[0].actionTypeId.version"),
    ("configuration-value", [(*CHECKOUT, "Configuration", "FullRepositoryId")], None),
    ("rule-name", [(*RULE, "Name")], "stages[2].beforeEntry.conditions[0].rules[0].name"),
    ("rule-command", [(*RULE, "Commands", 0)], "stages[2].beforeEntry.conditions[0].rules[0].commands[0]"),
    ("rule-role", [(*RULE, "RoleArn")], "stages[2].beforeEntry.conditions[0].rules[0].roleArn"),
    ("store-key", [("ArtifactStore", "EncryptionKey", "Id")], "artifactStore.encryptionKey.id"),
    ("variable-name", [("Variables", 0, "Name")], "variables[0].name"),
    ("variable-default", [("Variables", 0, "DefaultValue")], "variables[0].defaultValue"),
    ("variable-description", [("Variables", 0, "Description")], "variables[0].description"),
    (
        "push-branch-include",
        [(*GIT, "Push", 0, "Branches", "Includes", 0)],
        "triggers[0].gitConfiguration.push[0].branches.includes[0]",
    ),
    (
        "push-branch-exclude",
        [(*GIT, "Push", 0, "Branches", "Excludes", 0)],
        "triggers[0].gitConfiguration.push[0].branches.excludes[0]",
    ),
    (
        "push-file-path",
        [(*GIT, "Push", 0, "FilePaths", "Includes", 0)],
        "triggers[0].gitConfiguration.push[0].filePaths.includes[0]",
    ),
    ("push-tag", [(*GIT, "Push", 1, "Tags", "Includes", 0)], "triggers[0].gitConfiguration.push[1].tags.includes[0]"),
    (
        "pull-request-branch",
        [(*GIT, "PullRequest", 0, "Branches", "Includes", 0)],
        "triggers[0].gitConfiguration.pullRequest[0].branches.includes[0]",
    ),
    ("tag-value", [("Tags", 0, "Value")], None),
    ("tag-key", [("Tags", 0, "Key")], None),
    ("transition-reason", [("DisableInboundStageTransitions", 0, "Reason")], None),
    ("transition-and-stage", [("DisableInboundStageTransitions", 0, "StageName"), (*S2, "Name")], "stages[2].name"),
]


def _base() -> dict[str, Any]:
    return _cfn.load_template(BASE.read_text())


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        node = node[key]
    return node


def _with_functions(paths: list[tuple[Any, ...]]) -> dict[str, Any]:
    """The base template with each of *paths* given as ``!Sub '<its text>${Suffix}'``."""
    template = _base()
    template["Parameters"]["Suffix"] = {"Type": "String", "Default": ""}
    properties = template["Resources"]["Pipeline"]["Properties"]
    for path in paths:
        parent = _get(properties, path[:-1])
        parent[path[-1]] = {"Fn::Sub": parent[path[-1]] + "${Suffix}"}
    return template


def _properties(template: dict[str, Any]) -> dict[str, Any]:
    """The pipeline's Properties as to_cloudformation writes them back (RunOrder 1 spelt out)."""
    properties: dict[str, Any] = copy.deepcopy(template["Resources"]["Pipeline"]["Properties"])
    for stage in properties["Stages"]:
        for action in stage["Actions"]:
            action.setdefault("RunOrder", 1)
    return properties


def _has_expression(value: Any) -> bool:
    return "Expression" in repr(value)


@pytest.mark.parametrize(("paths", "api_path"), [pytest.param(p, a, id=i) for i, p, a in FIELDS])
def test_a_function_in_a_free_text_field_goes_everywhere(paths: list[tuple[Any, ...]], api_path: str | None) -> None:
    """import -> lint -> model -> CloudFormation -> model, -> Python -> model, -> CodePipeline JSON."""
    template = _with_functions(paths)
    base = from_cloudformation(_base())

    assert [] == [str(i) for i in pw.lint(copy.deepcopy(template))]
    model = from_cloudformation(template)
    assert [] == [str(i) for i in pw.lint(model)]

    back = to_cloudformation(model)
    assert _properties(template) == back["Resources"]["Pipeline"]["Properties"]
    assert model == from_cloudformation(back)
    namespace: dict[str, Any] = {}
    exec(compile(to_python(model), "<generated>", "exec"), namespace)
    assert model == namespace["pipeline"]

    if api_path is not None:
        with pytest.raises(pw.SynthesisError) as caught:
            to_codepipeline(model, resolve=parameter_resolver(VALUES))
        assert api_path == caught.value.path
        assert "Suffix" in str(caught.value)
    declaration = to_codepipeline(model, resolve=parameter_resolver(RESOLVED))
    assert to_codepipeline(base, resolve=parameter_resolver(RESOLVED)) == json.loads(json.dumps(declaration))
    assert "" == botocore_errors(declaration)

    resolved = resolve_parameters(model, {"Suffix": ""})
    assert resolve_parameters(base, {}) == resolved
    assert not _has_expression(resolve_parameters(model, RESOLVED))
    # the views that read names: the action graph, the plan and the diagrams
    assert len(base.graph()) == len(model.graph())
    assert model.plan().describe()
    assert to_mermaid(model)
    assert to_dot(model)


def test_every_field_at_once_is_cfn_lint_clean_and_round_trips() -> None:
    """All rows together: what to_cloudformation writes passes cfn-lint, and the Properties come back unchanged."""
    every = {path: None for _, paths, _ in FIELDS for path in paths}  # once each, in order
    template = _with_functions(list(every))
    model = from_cloudformation(template)

    emitted = to_cloudformation(model)
    assert _properties(template) == emitted["Resources"]["Pipeline"]["Properties"]
    assert [] == cfn_lint(emitted)
    assert [] == [str(i) for i in pw.lint(model)]


# -- one fixture per pattern found in real templates -------------------------------------------------

#: The fixtures of one real-world pattern each, and the parameter values their functions take.
PATTERNS = {
    "artifact-names.yaml": {**VALUES, "App": "shop", "AWS::StackName": "shop-pipeline"},
    "trigger-source-action.yaml": {**VALUES, "SourceActionName": "ApplicationSource", "BranchName": "main"},
    "tag-values.yaml": {**VALUES, "Env": "prod", "Team": "delivery"},
    "dynamic-references.yaml": VALUES,
}


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_each_pattern_goes_through_every_conversion(name: str) -> None:
    """import -> lint -> model -> CloudFormation (cfn-lint clean) -> model, -> Python -> model, -> CodePipeline JSON."""
    text = (FIXTURES / name).read_text()
    template = _cfn.load_template(text)

    assert [] == [str(i) for i in pw.lint(text) if i.is_error]
    model = from_cloudformation(text)
    assert [] == [str(i) for i in pw.lint(model) if i.is_error]
    assert [i.code for i in pw.lint(text)] == [i.code for i in pw.lint(model)]

    emitted = to_cloudformation(model)
    assert _properties(template) == emitted["Resources"]["Pipeline"]["Properties"]
    assert model == from_cloudformation(emitted)
    assert [] == cfn_lint(emitted)
    namespace: dict[str, Any] = {}
    exec(compile(to_python(model), "<generated>", "exec"), namespace)
    assert model == namespace["pipeline"]

    declaration = to_codepipeline(model, resolve=parameter_resolver(PATTERNS[name]))
    assert "" == botocore_errors(json.loads(json.dumps(declaration)))
    resolved = resolve_parameters(model, PATTERNS[name])
    assert not _has_expression(resolved)
    assert declaration == to_codepipeline(resolved)


def test_artifacts_named_by_the_same_function_are_one_artifact() -> None:
    """The consumer of `!Sub '${App}-source'` reads the producer's artifact; a real mistake is still found."""
    model = from_cloudformation((FIXTURES / "artifact-names.yaml").read_text())
    fetch, package = model.find_action("Fetch")[1], model.find_action("Package")[1]
    assert fetch.outputs[0] is package.inputs[0]

    late = to_cloudformation(model)
    stages = late["Resources"]["Pipeline"]["Properties"]["Stages"]
    stages[1]["Actions"][0]["OutputArtifacts"] = stages[0]["Actions"][0]["OutputArtifacts"]  # produced twice
    issues = pw.lint(from_cloudformation(late))
    assert [("PW207", "stages[1].actions[0].outputArtifacts[0].name")] == [(i.code, i.path) for i in issues]


def test_trigger_and_action_named_by_one_parameter_resolve_together() -> None:
    """resolve_parameters gives the trigger's SourceActionName the value it gives the action's name."""
    model = from_cloudformation((FIXTURES / "trigger-source-action.yaml").read_text())
    resolved = resolve_parameters(model, {"SourceActionName": "Checkout", "BranchName": "main"})

    assert "Checkout" == resolved.stages[0].actions[0].name == resolved.triggers[0].source_action_name
    with pytest.raises(pw.SynthesisError) as caught:
        to_codepipeline(resolve_parameters(model, {"SourceActionName": "Checkout"}), resolve=parameter_resolver(VALUES))
    assert "stages[0].actions[0].configuration.BranchName" == caught.value.path


def test_a_dynamic_reference_is_kept_and_not_judged_as_text() -> None:
    """Kept as written everywhere; the pipeline name gets the one warning (PW715), never a pattern error."""
    text = (FIXTURES / "dynamic-references.yaml").read_text()
    model = from_cloudformation(text)

    assert "{{resolve:ssm:/ci/pipeline-name}}" == model.name
    assert [("PW715", "warning", "Resources.Pipeline.Properties.Name")] == [
        (i.code, i.severity, i.path) for i in pw.lint(text)
    ]
    assert [("PW715", "name")] == [(i.code, i.path) for i in pw.lint(model)]
    declaration = to_codepipeline(model, resolve=parameter_resolver(VALUES))
    assert "{{resolve:ssm:/ci/project}}" == declaration["stages"][1]["actions"][0]["configuration"]["ProjectName"]
    assert model == resolve_parameters(model, {"Anything": "x"})
    built = pw.Pipeline(
        name="{{resolve:ssm:/ci/pipeline-name}}",
        role_arn=VALUES["RoleArn"],
        artifact_store=model.artifact_store,
        stages=model.stages,
    )
    assert ["PW715"] == [i.code for i in pw.lint(built)]


SECRETS = ("{{resolve:secretsmanager:ci/github:SecretString:token}}", "{{resolve:secretsmanager:ci/chat-webhook}}")


def test_a_secret_dynamic_reference_is_never_shown() -> None:
    """ssm-secure and secretsmanager references are masked in reprs, the run history and diff records."""
    from pipeweaver.aws._deploy import compare
    from pipeweaver.execution._preflight import definition

    model = from_cloudformation((FIXTURES / "dynamic-references.yaml").read_text())
    notify = model.find_action("Notify")[1]
    assert SECRETS[1] == notify.configuration["UserParameters"]  # the model keeps it

    shown = repr(model) + str(notify)
    assert [] == [s for s in SECRETS if s in shown]
    assert "'UserParameters': '****'" in shown
    assert "{{resolve:ssm:/ci/project}}" in shown  # a plain ssm reference names no secret
    assert [] == [s for s in SECRETS if s in json.dumps(definition(model))]
    ssm_secure = attrs.evolve(
        notify, configuration={"FunctionName": "f", "UserParameters": "{{resolve:ssm-secure:/p}}"}
    )
    assert "ssm-secure" not in repr(ssm_secure)

    local = to_codepipeline(model, resolve=parameter_resolver(VALUES))
    live = copy.deepcopy(local)
    for action in live["stages"][1]["actions"]:
        action["configuration"]["UserParameters"] = "{{resolve:ssm-secure:/ci/old-webhook}}"  # ssm-secure too
    del live["stages"][0]["actions"][0]["configuration"]["OAuthToken"]
    changes = compare(local, live)
    records = repr(changes) + json.dumps([[c.path, c.before, c.after] for c in changes])
    assert {"stages[0].actions[0].configuration.OAuthToken", "stages[1].actions[1].configuration.UserParameters"} <= {
        c.path for c in changes
    }
    assert [] == [s for s in (*SECRETS, "old-webhook") if s in records]


def test_a_secret_dynamic_reference_is_not_a_literal_secret() -> None:
    """The GitHub webhook's secret may be the dynamic reference itself (the secret is never written)."""
    from pipeweaver.synth import EventWiring

    model = from_cloudformation((FIXTURES / "dynamic-references.yaml").read_text())
    reference = "{{resolve:secretsmanager:ci/github-webhook:SecretString:token}}"
    template = to_cloudformation(model, events=EventWiring(github_webhooks=True, github_secret=reference))

    hook = next(r for r in template["Resources"].values() if r["Type"] == "AWS::CodePipeline::Webhook")
    assert reference == hook["Properties"]["AuthenticationConfiguration"]["SecretToken"]
    with pytest.raises(pw.DefinitionError):
        EventWiring(github_webhooks=True, github_secret="ghp_literal-token")


def test_a_tag_given_by_a_function_is_refused_where_tags_go_to_the_api() -> None:
    """dumps(envelope=True) names the tag rather than failing in json.dumps; with values it writes them."""
    from pipeweaver.synth import dumps

    model = resolve_parameters(from_cloudformation((FIXTURES / "tag-values.yaml").read_text()), VALUES)
    with pytest.raises(pw.SynthesisError) as caught:
        dumps(model, envelope=True)
    assert str(caught.value.path).startswith("tags")

    resolved = resolve_parameters(model, {"Env": "prod", "Team": "web"})
    assert [{"key": "env", "value": "prod"}, {"key": "web-owner", "value": "web@example.com"}] == json.loads(
        dumps(resolved, envelope=True)
    )["tags"]


def test_references_to_names_given_by_functions_are_not_judged() -> None:
    """#{ns.key} and #{variables.x} may name a namespace, variable or output variable a function gives."""
    template = _base()
    properties = template["Resources"]["Pipeline"]["Properties"]
    compile_, publish = properties["Stages"][1]["Actions"][0], properties["Stages"][2]["Actions"][0]
    compile_["EnvironmentVariables"] += [
        {"Name": "COMMIT", "Value": "#{SourceVariables.CommitId}"},
        {"Name": "TARGET", "Value": "#{variables.Target}"},
    ]
    publish["Configuration"]["ObjectKey"] = "app-#{BuildVariables.VERSION}.zip"
    assert [] == pw.lint(copy.deepcopy(template))

    typo = copy.deepcopy(template)
    typo["Resources"]["Pipeline"]["Properties"]["Stages"][2]["Actions"][0]["Configuration"]["ObjectKey"] = "#{Build.V}"
    assert ["PW301"] == [i.code for i in pw.lint(typo)]  # without functions, a wrong namespace is found

    for path in [(*CHECKOUT, "Namespace"), ("Variables", 0, "Name"), (*COMPILE, "OutputVariables", 0)]:
        parent = _get(properties, path[:-1])
        parent[path[-1]] = {"Fn::Sub": "x${Suffix}"}  # none of them spells the name referred to
    template["Parameters"]["Suffix"] = {"Type": "String", "Default": ""}
    assert [] == [str(i) for i in pw.lint(copy.deepcopy(template))]
    assert [] == [str(i) for i in pw.lint(from_cloudformation(template))]


@pytest.mark.parametrize(
    ("paths", "code"),
    [
        pytest.param([(*CHECKOUT, "Name")], "PW401", id="trigger-names-an-action-named-by-a-function"),
        pytest.param([(*S2, "Name")], "PW112", id="transition-names-a-stage-named-by-a-function"),
    ],
)
def test_a_literal_reference_to_a_name_given_by_a_function_is_not_an_error(
    paths: list[tuple[Any, ...]], code: str
) -> None:
    """The trigger's `Checkout` or the transition's `Release` may be what the function gives: no issue."""
    template = _with_functions(paths)
    assert [] == [str(i) for i in pw.lint(copy.deepcopy(template))]
    assert [] == [str(i) for i in pw.lint(from_cloudformation(template))]

    literal = _base()
    _get(literal["Resources"]["Pipeline"]["Properties"], paths[0][:-1])[paths[0][-1]] = "Renamed"
    assert [code] == [i.code for i in pw.lint(literal)]  # written as text, the mismatch is found
