"""CodePipeline API JSON both ways: lossless round trips, botocore conformance, clear errors."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator
from hypothesis import given, settings

import pipeweaver as pw
from pipeweaver.synth import dumps, from_codepipeline, loads, to_codepipeline

from .conftest import Case, cases
from .strategies import pipelines

MODEL = botocore.session.get_session().get_service_model("codepipeline")


def botocore_errors(declaration: dict[str, Any]) -> str:
    """botocore's own client-side validation of a CreatePipeline request."""
    shape = MODEL.operation_model("CreatePipeline").input_shape
    report = ParamValidator().validate({"pipeline": declaration}, shape)
    return report.generate_report() if report.has_errors() else ""


def strict_errors(value: Any, shape: Any, path: str = "") -> list[str]:
    """A walk of botocore's model that also applies pattern, max length and enum."""
    errors: list[str] = []
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        assert isinstance(value, dict), path
        for key in value:
            if key not in shape.members:
                errors.append(f"{path}.{key}: unknown")
        for req in shape.required_members:
            if req not in value:
                errors.append(f"{path}.{req}: missing")
        for key, item in value.items():
            if key in shape.members:
                errors += strict_errors(item, shape.members[key], f"{path}.{key}")
    elif kind == "list":
        assert isinstance(value, list), path
        if not meta.get("min", 0) <= len(value) <= meta.get("max", 10**9):
            errors.append(f"{path}: {len(value)} items")
        for i, item in enumerate(value):
            errors += strict_errors(item, shape.member, f"{path}[{i}]")
    elif kind == "map":
        assert isinstance(value, dict), path
        for key, item in value.items():
            errors += strict_errors(key, shape.key, f"{path}<key>")
            errors += strict_errors(item, shape.value, f"{path}[{key}]")
    elif kind == "string":
        assert isinstance(value, str), path
        if not meta.get("min", 0) <= len(value) <= meta.get("max", 10**9):
            errors.append(f"{path}: length {len(value)}")
        if "pattern" in meta and not re.fullmatch(meta["pattern"], value, re.DOTALL):
            errors.append(f"{path}: pattern")
        if "enum" in meta and value not in meta["enum"]:
            errors.append(f"{path}: enum")
    elif kind == "integer":
        assert isinstance(value, int), path
        if not meta.get("min", -(10**9)) <= value <= meta.get("max", 10**9):
            errors.append(f"{path}: range")
    return errors


def aws_defaults(declaration: dict[str, Any]) -> dict[str, Any]:
    """*declaration* with AWS's own defaults made explicit and server-assigned fields dropped."""
    d = copy.deepcopy(declaration)
    d.pop("version", None)
    for stage in d["stages"]:
        for action in stage["actions"]:
            action.setdefault("runOrder", 1)
            action.setdefault("configuration", {})
            action.setdefault("inputArtifacts", [])
            action.setdefault("outputArtifacts", [])
    return d


@pytest.mark.parametrize("case", cases("api", lambda c: c.valid))
def test_valid_definitions_round_trip_exactly(case: Case) -> None:
    """Every valid API definition survives JSON -> model -> JSON unchanged."""
    data = case.json()
    declaration = data.get("pipeline", data)

    out = to_codepipeline(from_codepipeline(data))

    assert aws_defaults(declaration) == out
    assert "" == botocore_errors(out)
    assert [] == strict_errors(out, MODEL.shape_for("PipelineDeclaration"))


#: Files whose structure is wrong, and a path the loader must name.
STRUCTURALLY_BROKEN = {
    "api/invalid-artifact-stores-as-list.json": "artifactStores",
    "api/invalid-trigger-filter-fragment.json": "roleArn",
    "api/api-18-invalid-artifactstores-list-shape.json": "artifactStores",
    "api/api-19-invalid-docs-trigger-filter-fragment.json": "roleArn",
}


@pytest.mark.parametrize("case", cases("api", lambda c: c.name not in STRUCTURALLY_BROKEN))
def test_structurally_well_formed_definitions_load(case: Case) -> None:
    """Files whose only problems are values (patterns, placeholders) still load and round-trip."""
    data = case.json()

    out = to_codepipeline(from_codepipeline(data))

    assert aws_defaults(data.get("pipeline", data)) == out


@pytest.mark.parametrize("case", cases("api", lambda c: c.name in STRUCTURALLY_BROKEN))
def test_structurally_broken_definitions_name_the_path(case: Case) -> None:
    """A malformed file is refused with every problem, each with a path."""
    with pytest.raises(pw.LoadError) as info:
        from_codepipeline(case.json())

    assert STRUCTURALLY_BROKEN[case.name] in [i.path for i in info.value.issues]
    assert all(i.path for i in info.value.issues)


@given(pipelines())
@settings(max_examples=500)
def test_model_json_model_is_equal(pipeline: pw.Pipeline) -> None:
    """model -> JSON -> model gives an equal model, and the JSON is valid for botocore."""
    data = to_codepipeline(pipeline)

    assert pipeline == from_codepipeline(data)
    assert "" == botocore_errors(data)
    assert [] == strict_errors(data, MODEL.shape_for("PipelineDeclaration"))
    assert data == to_codepipeline(from_codepipeline(json.loads(json.dumps(data))))


def test_unknown_key_is_an_error_naming_its_path(sample: pw.Pipeline) -> None:
    """Unknown keys are never dropped silently."""
    data = to_codepipeline(sample)
    data["stages"][1]["actions"][0]["runorder"] = 2

    with pytest.raises(pw.LoadError) as info:
        from_codepipeline(data)

    (issue,) = info.value.issues
    assert ("PW001", "stages[1].actions[0].runorder") == (issue.code, issue.path)
    assert "runOrder" in (issue.hint or "")


def test_every_structural_problem_is_reported_at_once(sample: pw.Pipeline) -> None:
    """Wrong types and missing fields anywhere are collected, not first-error-only."""
    data = to_codepipeline(sample)
    data["stages"][0]["actions"][0]["outputArtifacts"] = {"name": "x"}
    del data["stages"][2]["actions"][0]["actionTypeId"]["provider"]
    data["executionMode"] = "FAST"

    with pytest.raises(pw.LoadError) as info:
        from_codepipeline(data)

    assert {
        ("PW003", "stages[0].actions[0].outputArtifacts"),
        ("PW002", "stages[2].actions[0].actionTypeId.provider"),
        ("PW012", "executionMode"),
    } == {(i.code, i.path) for i in info.value.issues}


def test_get_pipeline_envelope_is_accepted(sample: pw.Pipeline) -> None:
    """The {"pipeline", "metadata"} that get-pipeline prints loads like the bare declaration."""
    data = {"pipeline": {**to_codepipeline(sample), "version": 3}, "metadata": {"pipelineArn": "arn"}}

    assert sample == from_codepipeline(data)


def test_text_helpers_are_stable(sample: pw.Pipeline) -> None:
    """dumps() is deterministic and loads() inverts it."""
    text = dumps(sample)

    assert text == dumps(loads(text))
    assert sample == loads(text)
    assert list(json.loads(text)) == ["name", "roleArn", "artifactStore", "stages"]


def test_loads_reports_bad_json_with_position() -> None:
    """Text that is not JSON gives one readable error with line and column."""
    with pytest.raises(pw.LoadError, match="line 1, column"):
        loads('{"name": ')


def test_expression_needs_a_value_to_render(sample: pw.Pipeline) -> None:
    """A CloudFormation expression cannot be rendered as API JSON without a value."""
    import attrs

    with_expr = attrs.evolve(sample, role_arn=pw.Expression.of({"Fn::GetAtt": ["Role", "Arn"]}))

    with pytest.raises(pw.SynthesisError, match=r"^roleArn: "):
        to_codepipeline(with_expr)
    rendered = to_codepipeline(with_expr, resolve=lambda e, p: "arn:aws:iam::123456789012:role/R")
    assert "arn:aws:iam::123456789012:role/R" == rendered["roleArn"]


def test_inputs_link_to_the_producing_artifact() -> None:
    """A loaded input artifact is the same value as the output that produces it (files included)."""
    data = {
        "name": "p",
        "roleArn": "arn:aws:iam::123456789012:role/R",
        "artifactStore": {"type": "S3", "location": "bucket"},
        "pipelineType": "V2",
        "stages": [
            {
                "name": "S",
                "actions": [
                    {
                        "name": "A",
                        "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
                        "outputArtifacts": [{"name": "src"}],
                        "configuration": {"S3Bucket": "b", "S3ObjectKey": "k"},
                    }
                ],
            },
            {
                "name": "B",
                "actions": [
                    {
                        "name": "C",
                        "actionTypeId": {"category": "Compute", "owner": "AWS", "provider": "Commands", "version": "1"},
                        "commands": ["make"],
                        "inputArtifacts": [{"name": "src"}],
                        "outputArtifacts": [{"name": "out", "files": ["dist/*"]}],
                    },
                    {
                        "name": "D",
                        "runOrder": 2,
                        "actionTypeId": {"category": "Deploy", "owner": "AWS", "provider": "S3", "version": "1"},
                        "inputArtifacts": [{"name": "out"}],
                        "configuration": {"BucketName": "b", "Extract": "true"},
                    },
                ],
            },
        ],
    }

    p = from_codepipeline(data)

    assert p.stages[1].actions[0].outputs[0] is p.stages[1].actions[1].inputs[0]
    assert ("dist/*",) == p.stages[1].actions[1].inputs[0].files
