"""Fuzzing the API JSON loaders: only LoadError escapes, and every issue points into the input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pipeweaver as pw
from pipeweaver.synth import from_codepipeline, loads, to_codepipeline

from ._hostile import FUZZ, assert_issues_point_into, assert_no_internal_error, deep, inputs, json_values


def _load(data: object) -> pw.Pipeline | pw.LoadError:
    try:
        return from_codepipeline(data)
    except pw.LoadError as exc:
        return exc


@FUZZ
@given(inputs)
def test_from_codepipeline_raises_only_load_error_with_paths(data: Any) -> None:
    """from_codepipeline returns a Pipeline or raises LoadError whose issues all point into the input."""
    outcome = _load(data)

    if isinstance(outcome, pw.LoadError):
        assert outcome.issues, "a LoadError must carry at least one issue"
        assert_issues_point_into(data, outcome.issues)
    else:
        assert isinstance(outcome, pw.Pipeline)


@FUZZ
@given(inputs)
def test_loaded_pipelines_render_and_lint(data: Any) -> None:
    """Whatever from_codepipeline accepts renders back to JSON and lints without raising."""
    outcome = _load(data)
    if isinstance(outcome, pw.LoadError):
        return

    rendered = to_codepipeline(outcome)
    issues = pw.lint(outcome)

    assert isinstance(rendered, dict)
    assert all(isinstance(i, pw.Issue) for i in issues)
    assert_no_internal_error(issues)
    assert_issues_point_into(rendered, issues)


def _json_text(value: object) -> str:
    try:
        return json.dumps(value)
    except ValueError:  # an integer too long for Python to print: write such a number out
        return "[" + "1" * 5000 + "]"


@FUZZ
@given(st.one_of(json_values.map(_json_text), st.text(max_size=200), st.binary(max_size=200)))
def test_loads_text_raises_only_load_error(text: str | bytes) -> None:
    """loads() on arbitrary text or bytes raises nothing but LoadError."""
    try:
        outcome: object = loads(text)
    except pw.LoadError as exc:
        outcome = exc

    assert isinstance(outcome, pw.Pipeline) or (isinstance(outcome, pw.LoadError) and outcome.issues)


@pytest.mark.parametrize("depth", [100, 5_000, 200_000])
def test_loads_deeply_nested_json_is_a_load_error(depth: int) -> None:
    """JSON nested far deeper than the recursion limit is one readable LoadError, not a RecursionError."""
    text = "[" * depth + "]" * depth

    with pytest.raises(pw.LoadError) as info:
        loads(text)

    assert [""] == [i.path for i in info.value.issues] or all(i.code == "PW003" for i in info.value.issues)


@pytest.mark.parametrize("kind", ["list", "dict"])
def test_from_codepipeline_deep_python_value_is_too_deep(kind: str) -> None:
    """A Python value nested 50,000 levels deep inside a stage is reported (PW004), never recursed through."""
    data = {
        "name": "p",
        "roleArn": "arn:aws:iam::123456789012:role/R",
        "stages": [{"name": "S", "actions": [deep(50_000, kind=kind)]}],
    }

    with pytest.raises(pw.LoadError) as info:
        from_codepipeline(data)

    assert_issues_point_into(data, info.value.issues)
