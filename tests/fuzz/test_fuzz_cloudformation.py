"""Fuzzing the CloudFormation loader: only LoadError escapes, paths point into the template, bombs stay cheap."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import pipeweaver as pw
from pipeweaver.synth import from_cloudformation, to_cloudformation

from ..strategies import pipelines
from ._hostile import (
    FUZZ,
    TRICKY_TEXT,
    assert_issues_point_into,
    assert_no_internal_error,
    hostile_values,
    json_values,
    mutate,
)


@st.composite
def mutated_templates(draw: st.DrawFn) -> Any:
    """A synthesized template with 1-4 random mutations anywhere in it."""
    return mutate(draw, copy.deepcopy(to_cloudformation(draw(pipelines()))))


templates = st.one_of(
    mutated_templates(),
    st.builds(lambda p: to_cloudformation(p), pipelines()),
    st.dictionaries(st.sampled_from(["Resources", "AWSTemplateFormatVersion", "Parameters"]), json_values),
    st.builds(lambda r: {"Resources": r}, st.dictionaries(st.text(max_size=8), json_values, max_size=3)),
    st.builds(
        lambda props: {"Resources": {"P": {"Type": "AWS::CodePipeline::Pipeline", "Properties": props}}},
        json_values,
    ),
    hostile_values,
)

TAGS = [
    "!Ref X",
    "!Sub 'a-${B}'",
    "!GetAtt A.Arn",
    "!!python/object/apply:os.system ['touch /tmp/pw-pwned']",
    "!Bogus x",
    "!!int abc",
    "!!float abc",
    "!!bool maybe",
    "!!map [1]",
    "!!set [a]",
    "!!timestamp [1]",
    "!!binary '%%%'",
    "!!omap [1]",
    "!!pairs {a: 1}",
    "!!str [a]",
    "!!null {a: 1}",
    "!!seq {a: 1}",
    "!!int ''",
    "!!float ''",
    "!!int 0x",
    "1" * 5000,
    "-" + "9" * 4301,
    "'" + '{"Ref":"X"}' + "'",
    "'" + "[" * 3000 + "]" * 3000 + "'",
    "{1: a, 2: b}",
    "{? [a]: b}",
    "&a [*a]",
    "*nowhere",
]


def _outcome(template: Any) -> pw.Pipeline | pw.LoadError:
    try:
        return from_cloudformation(template)
    except pw.LoadError as exc:
        return exc


@FUZZ
@given(templates)
def test_from_cloudformation_raises_only_load_error_with_paths(template: Any) -> None:
    """from_cloudformation on a mutated or junk template returns a Pipeline or a LoadError pointing into it."""
    outcome = _outcome(template)

    if isinstance(outcome, pw.LoadError):
        assert outcome.issues
        assert_issues_point_into(template, outcome.issues)
    else:
        assert isinstance(outcome, pw.Pipeline)


@FUZZ
@given(mutated_templates(), st.sampled_from(["yaml", "json"]))
def test_template_text_raises_only_load_error(template: Any, form: str) -> None:
    """The same templates as YAML or JSON text load or raise LoadError, with paths into the parsed text."""
    try:
        text = json.dumps(template)
        if form == "yaml" and len(text) < 20_000:
            # PyYAML's pure-Python scanner needs ~1 s for a 200 KB scalar; huge values go as JSON
            text = yaml.dump(template, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper))
        else:
            form = "json"
    except (ValueError, yaml.YAMLError, RecursionError):
        return  # not representable as text (lone surrogates, nesting beyond the dumper's reach)

    outcome = _outcome(text)

    if isinstance(outcome, pw.LoadError):
        assert outcome.issues
        # keys as the text holds them: JSON and CloudFormation's YAML both read `1:`/`null:` as text
        assert_issues_point_into(json.loads(json.dumps(template)), outcome.issues)
    else:
        assert isinstance(outcome, pw.Pipeline)


@FUZZ
@given(
    st.lists(
        st.one_of(st.sampled_from(TAGS), st.sampled_from(TRICKY_TEXT), st.text(max_size=40)),
        min_size=1,
        max_size=6,
    )
)
def test_arbitrary_yaml_text_raises_only_load_error(chunks: list[str]) -> None:
    """Arbitrary YAML-ish text (tags, unicode, junk) never escapes as anything but LoadError."""
    text = "Resources:\n  P:\n    Type: AWS::CodePipeline::Pipeline\n    Properties:\n" + "".join(
        f"      K{i}: {c}\n" for i, c in enumerate(chunks)
    )

    outcome = _outcome(text)

    assert isinstance(outcome, pw.Pipeline | pw.LoadError)
    assert_no_internal_error(pw.lint(text))


def _laughs(levels: int = 9, width: int = 9) -> str:
    lines = ["a0: &a0 [" + ",".join(['"lol"'] * width) + "]"]
    for n in range(1, levels):
        lines.append(f"a{n}: &a{n} [" + ",".join([f"*a{n - 1}"] * width) + "]")
    return "Resources:\n  Bomb:\n    Type: AWS::CodePipeline::Pipeline\n    Properties:\n" + "".join(
        f"      {line}\n" for line in lines
    )


def _wide_pipeline(width: int = 1000) -> str:
    """A shape-valid pipeline where aliases make 1,000 stages of 1,000 actions from 10 KB of text."""
    action = (
        "x-action: &act\n  Name: A\n  ActionTypeId: {Category: Build, Owner: AWS, Provider: CodeBuild, Version: '1'}\n"
        "  Configuration: {ProjectName: p}\n  InputArtifacts: [{Name: src}]\n"
    )
    stage = "x-stage: &st\n  Name: S\n  Actions: [" + ",".join(["*act"] * width) + "]\n"
    props = "RoleArn: arn:aws:iam::123456789012:role/R\nArtifactStore: {Type: S3, Location: b}\n"
    props += "Stages: [" + ",".join(["*st"] * width) + "]\n"
    body = "".join(f"      {line}\n" for line in (action + stage + props).splitlines())
    return "Resources:\n  P:\n    Type: AWS::CodePipeline::Pipeline\n    Properties:\n" + body


@pytest.mark.parametrize(
    "text", [_laughs(), _laughs(levels=12, width=6), _wide_pipeline()], ids=["laughs", "laughs-deep", "wide"]
)
def test_yaml_alias_bomb_is_refused_quickly(text: str) -> None:
    """A YAML alias bomb in template text is one LoadError within a second, not a hang."""
    # CPU time, not wall time: a bound on the work an input causes, whatever else the machine runs.
    start = time.process_time()

    with pytest.raises(pw.LoadError) as info:
        from_cloudformation(text)

    assert time.process_time() - start < 5
    assert "alias" in str(info.value)


def test_alias_shared_mapping_is_checked_in_linear_time() -> None:
    """A parsed template whose sub-objects are shared 9^9 times over is checked without walking every copy."""
    data: Any = ["lol"] * 9
    for _ in range(9):
        data = [data] * 9
    template = {"Resources": {"P": {"Type": "AWS::CodePipeline::Pipeline", "Properties": {"Stages": data}}}}
    # CPU time, not wall time: a bound on the work an input causes, whatever else the machine runs.
    start = time.process_time()

    with pytest.raises(pw.LoadError):
        from_cloudformation(template)

    assert time.process_time() - start < 5


def test_self_referential_mapping_is_too_deep() -> None:
    """A mapping that contains itself is reported as too deep, never recursed forever."""
    props: dict[str, Any] = {"Name": "p"}
    props["Stages"] = [props]
    template = {"Resources": {"P": {"Type": "AWS::CodePipeline::Pipeline", "Properties": props}}}

    with pytest.raises(pw.LoadError) as info:
        from_cloudformation(template)

    assert "deeper" in str(info.value)


def test_python_tags_never_execute(tmp_path: Any) -> None:
    """A !!python tag in a template is refused; the command it names never runs."""
    canary = tmp_path / "pwned"
    text = f"Resources:\n  P: !!python/object/apply:os.system ['touch {canary}']\n"

    with pytest.raises(pw.LoadError):
        from_cloudformation(text)

    assert not canary.exists()
