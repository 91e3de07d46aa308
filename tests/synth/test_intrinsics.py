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

import pytest

import pipeweaver as pw
from pipeweaver import _cfn
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


def test_every_field_at_once_is_cfn_lint_clean_and_round_trips() -> None:
    """All rows together: what to_cloudformation writes passes cfn-lint, and the Properties come back unchanged."""
    every = {path: None for _, paths, _ in FIELDS for path in paths}  # once each, in order
    template = _with_functions(list(every))
    model = from_cloudformation(template)

    emitted = to_cloudformation(model)
    assert _properties(template) == emitted["Resources"]["Pipeline"]["Properties"]
    assert [] == cfn_lint(emitted)
    assert [] == [str(i) for i in pw.lint(model)]
