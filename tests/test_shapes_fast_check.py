"""A shape's one check decides as it reports, and as a plain reference predicate.

``check_shape`` compiles each shape into one check that either decides (stopping at the first
problem) or reports every problem; a check that decided "valid" where it would report issues
would hide them. The oracle here is a plain predicate without compiled per-shape caches.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeweaver._codec import is_intrinsic, to_codepipeline
from pipeweaver._shapes import MAX_DEPTH, SHAPES, _checker, _has_bare_dot, _pattern, _string_checker

from .fuzz._hostile import TRICKY_TEXT, _containers, hostile_values, json_values, mutated_declarations
from .strategies import pipelines
from .synth._strategies import pipelines_with_expressions

Check = Callable[[object, int], bool]


def _validator(shape: str, constraints: bool, skip: Callable[[object], bool] | None) -> Check:
    """The shape's check deciding only (no issues)."""
    check = _checker(shape, constraints, skip)
    return lambda value, depth: check(value, depth, None, "")


@cache
def oracle(shape_name: str, constraints: bool, skip: Callable[[object], bool] | None) -> Check:
    shape = SHAPES[shape_name]
    kind = shape["type"]
    lo, hi = shape.get("min"), shape.get("max")
    if kind == "structure":
        members: dict[str, str] = shape["members"]
        required = tuple(shape["required"])

        def check_structure(value: object, depth: int) -> bool:
            if depth > MAX_DEPTH or not isinstance(value, Mapping):
                return False
            for req in required:
                if value.get(req) is None:
                    return False
            for key, item in value.items():
                member = members.get(key) if isinstance(key, str) else None
                if member is None:
                    return False
                if item is None:
                    continue
                if not oracle(member, constraints, skip)(item, depth + 1):
                    return False
            return True

        return check_structure
    if kind == "list":

        def check_list(value: object, depth: int) -> bool:
            if depth > MAX_DEPTH or not isinstance(value, list | tuple):
                return False
            if constraints and ((lo is not None and len(value) < lo) or (hi is not None and len(value) > hi)):
                return False
            item_check = oracle(shape["member"], constraints, skip)
            return all(item_check(item, depth + 1) for item in value)

        return check_list
    if kind == "map":

        def check_map(value: object, depth: int) -> bool:
            if depth > MAX_DEPTH or not isinstance(value, Mapping):
                return False
            if constraints and ((lo is not None and len(value) < lo) or (hi is not None and len(value) > hi)):
                return False
            key_check = oracle(shape["key"], constraints, None)
            value_check = oracle(shape["value"], constraints, skip)
            for key, item in value.items():
                if not isinstance(key, str) or not key_check(key, depth + 1) or not value_check(item, depth + 1):
                    return False
            return True

        return check_map
    if kind == "string":
        enum = frozenset(shape["enum"]) if "enum" in shape else None
        pattern = _pattern(shape["pattern"]) if "pattern" in shape and constraints else None
        lo_len = lo if constraints and lo is not None else 0
        hi_len = hi if constraints and hi is not None else None

        def check_string(value: object, depth: int) -> bool:
            if not isinstance(value, str):
                return skip is not None and skip(value)
            if enum is not None:
                return value in enum
            if len(value) < lo_len or (hi_len is not None and len(value) > hi_len):
                return False
            return pattern is None or not value or pattern.fullmatch(value) is not None

        return check_string
    if kind in ("integer", "long"):

        def check_int(value: object, depth: int) -> bool:
            if not isinstance(value, int) or isinstance(value, bool):
                return skip is not None and skip(value)  # a Ref to a Number parameter
            if not constraints:
                return True
            return not ((lo is not None and value < lo) or (hi is not None and value > hi))

        return check_int
    if kind == "boolean":
        return lambda value, depth: isinstance(value, bool)
    return lambda value, depth: True


def _rendered(pipeline: Any) -> Any:
    return to_codepipeline(pipeline, resolve=lambda expr, _path: expr.raw)


@st.composite
def one_string_changed(draw: st.DrawFn) -> Any:
    """A valid declaration with one string replaced: most such values break only a pattern,
    a length or an enum, the checks a predicate could get wrong without failing anything else."""
    value = copy.deepcopy(_rendered(draw(st.one_of(pipelines(), pipelines_with_expressions()))))
    spots = [(trail, node) for trail, node in _containers(value) if trail and isinstance(node, str)]
    trail, node = draw(st.sampled_from(spots))
    parent = value
    for step in trail[:-1]:
        parent = parent[step]
    parent[trail[-1]] = draw(
        st.one_of(
            st.sampled_from(["", " ", "a b", "x" * 101, "x" * 1001, node + "!", node.lower(), node.upper(), "1"]),
            st.sampled_from(TRICKY_TEXT),
            st.text(max_size=12),
        )
    )
    return value


values = st.one_of(
    one_string_changed(),
    mutated_declarations(),
    st.builds(_rendered, pipelines()),
    st.builds(_rendered, pipelines_with_expressions()),
    hostile_values,
)
MODES = [(True, is_intrinsic), (True, None), (False, is_intrinsic), (False, None)]


def _same_answers(value: object) -> None:
    for constraints, skip in MODES:
        expected = oracle("PipelineDeclaration", constraints, skip)(value, 0)
        assert expected == _validator("PipelineDeclaration", constraints, skip)(value, 0)
        issues: list[Any] = []
        assert expected == _checker("PipelineDeclaration", constraints, skip)(value, 0, issues, "")
        assert expected == (not issues)


@settings(max_examples=400)
@given(one_string_changed())
def test_declarations_with_one_string_changed_get_the_oracle_answer(value: object) -> None:
    _same_answers(value)


@settings(max_examples=400)
@given(values)
def test_declarations_get_the_oracle_answer(value: object) -> None:
    _same_answers(value)


@settings(max_examples=200)
@given(st.lists(st.tuples(st.sampled_from(sorted(SHAPES)), json_values), min_size=1, max_size=20))
def test_every_shape_gets_the_oracle_answer_on_any_json(cases: list[tuple[str, Any]]) -> None:
    for shape, value in cases:
        for constraints, skip in MODES:
            assert oracle(shape, constraints, skip)(value, 0) == _validator(shape, constraints, skip)(value, 0)


@settings(max_examples=100)
@given(st.one_of(st.builds(_rendered, pipelines()), st.builds(_rendered, pipelines_with_expressions())))
def test_every_part_of_a_valid_declaration_gets_the_oracle_answer_for_every_shape(value: object) -> None:
    parts = [node for _trail, node in _containers(value)][:40]
    for node in parts:
        for shape in SHAPES:
            for constraints, skip in MODES:
                assert oracle(shape, constraints, skip)(node, 0) == _validator(shape, constraints, skip)(node, 0)


def _with_configuration(config: Any) -> dict[str, Any]:
    action = {
        "name": "B",
        "actionTypeId": {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"},
        "configuration": config,
    }
    return {
        "name": "p",
        "roleArn": "arn:aws:iam::123456789012:role/R",
        "artifactStore": {"type": "S3", "location": "bucket"},
        "stages": [{"name": "S", "actions": [action]}],
    }


_CONFIGURATIONS = [
    {"ProjectName": "p"},
    {"": "p"},
    {"K" * 50: "p"},
    {"K" * 51: "p"},
    {"ProjectName": ""},
    {"ProjectName": "x" * 1000},
    {"ProjectName": "x" * 1001},
    {"ProjectName": None},
    {"ProjectName": {"Ref": "P"}},
    {"ProjectName": {"Ref": "P", "Extra": 1}},
    {1: "p"},
    {"a\nb": "p"},
    {f"K{i}": "v" for i in range(201)},
]


class _OddKey(str):
    """A str subclass key (a loader may hand over any Mapping)."""


@pytest.mark.parametrize(
    "value",
    [
        {"name": "p", "roleArn": "arn:aws:iam::123456789012:role/R", "stages": [], 1: "x"},
        {"name": "p", "roleArn": "arn:aws:iam::123456789012:role/R", "stages": [], _OddKey("version"): 1},
        {"name": "p", "roleArn": None, "stages": []},
        {"name": "p", "roleArn": "arn:aws:iam::123456789012:role/R", "stages": [{"name": "S", "actions": [None]}]},
        {"name": "", "roleArn": "arn:aws:iam::123456789012:role/R", "stages": ()},
        {"name": {"Ref": "N"}, "roleArn": "arn:aws:iam::123456789012:role/R", "stages": [], "pipelineType": None},
        *(_with_configuration(config) for config in _CONFIGURATIONS),
    ],
)
def test_odd_values_get_the_oracle_answer(value: object) -> None:
    _same_answers(value)


# -- patterns ------------------------------------------------------------------------------------

PATTERNS = sorted({shape["pattern"] for shape in SHAPES.values() if "pattern" in shape})


@settings(max_examples=300)
@given(st.sampled_from(PATTERNS), st.text(alphabet="aZ09.-_@:/\n\r[]\\ ", max_size=12))
def test_patterns_match_as_compiled_before(pattern: str, text: str) -> None:
    """A pattern without a bare "." may share the DOTALL compilation: it matches the same values."""
    before = re.compile(pattern, re.DOTALL if pattern == ".*" else 0)
    assert (before.fullmatch(text) is None) == (_pattern(pattern).fullmatch(text) is None)


def test_every_pattern_is_compiled_at_import() -> None:
    """No check compiles a pattern on its first use: each one is already in the cache."""
    before = _pattern.cache_info()
    compiled = [_pattern(pattern) for pattern in PATTERNS]
    after = _pattern.cache_info()
    assert after.misses == before.misses
    assert after.hits == before.hits + len(PATTERNS)
    assert all(p.pattern == text for p, text in zip(compiled, PATTERNS, strict=True))


@pytest.mark.parametrize(
    ("text", "bare"),
    [
        (".*", True),
        ("[A-Za-z0-9.@\\-_]+", False),
        ("arn:aws(-[\\w]+)*:iam::[0-9]{12}:role/.*", True),
        ("a\\.b", False),
        ("[.]", False),
        ("[]]x.", True),
        ("[^]].", True),
        ("[a\\].]", False),
        ("\\[.", True),
        ("[.", True),
    ],
)
def test_bare_dots_are_found(text: str, bare: bool) -> None:
    assert bare == _has_bare_dot(text)


@pytest.mark.parametrize("constraints", [True, False])
@pytest.mark.parametrize("shape", sorted(name for name, s in SHAPES.items() if s["type"] == "string"))
def test_each_string_shape_compiles_into_one_check_that_decides_as_it_reports(shape: str, constraints: bool) -> None:
    """A string shape's check, specialised to its constraints, agrees with itself and the oracle."""
    check = _string_checker(shape, constraints, is_intrinsic)
    values: list[object] = ["", "a", "A" * 2000, "Build", "arn:aws:iam::123456789012:role/R", "has space", "é\n"]
    values += [{"Ref": "X"}, {"x": 1}, 3, None, True, *SHAPES[shape].get("enum", ())]
    for value in values:
        issues: list[Any] = []
        valid = check(value, 0, None, "")
        assert valid == check(value, 0, issues, "p")
        assert valid == (not issues), (value, issues)
        assert valid == oracle(shape, constraints, is_intrinsic)(value, 0), value
