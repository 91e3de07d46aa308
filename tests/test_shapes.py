"""The frozen copy of the API's shape constraints equals the installed botocore model."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pipeweaver as pw
from pipeweaver._shapes import SHAPES, check_shape, join_key

ROLE = "arn:aws:iam::123456789012:role/pipeline"

ROOT = Path(__file__).resolve().parent.parent


def test_frozen_shapes_match_botocore() -> None:
    """src/pipeweaver/_shapes_data.py is what tools/gen_shapes.py produces from botocore now."""
    spec = importlib.util.spec_from_file_location("gen_shapes", ROOT / "tools" / "gen_shapes.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    assert module.collect() == SHAPES


def test_paths_quote_keys_that_are_not_identifiers() -> None:
    """Map keys such as regions are quoted so a path can be read back unambiguously."""
    assert 'artifactStores["us-east-1"]' == join_key("artifactStores", "us-east-1")
    assert "stages" == join_key("", "stages")


def test_patterns_and_lengths_are_applied_where_botocore_skips_them() -> None:
    """Pattern, max length and enum are checked (botocore's ParamValidator skips them)."""
    issues = check_shape({"name": "bad name", "roleArn": "x" * 1025, "stages": [], "executionMode": "FAST"})

    assert {("PW010", "name"), ("PW011", "roleArn"), ("PW010", "roleArn"), ("PW012", "executionMode")} <= {
        (i.code, i.path) for i in issues
    }


def test_hostile_nesting_is_bounded() -> None:
    """Deeply nested input is reported, never recursed into without bound."""
    deep: object = "x"
    for _ in range(10_000):
        deep = {"name": deep}
    issues = check_shape({"name": "p", "roleArn": "r", "stages": [{"name": "s", "actions": [deep]}]})

    assert [("PW003", "stages[0].actions[0].name")] == [(i.code, i.path) for i in issues if i.code == "PW003"]


def test_length_hint_says_which_way() -> None:
    """A value under the minimum length is told to grow, one over the maximum to shrink."""
    short, long = (
        pw.lint({"name": "p", "roleArn": ROLE, "artifactStore": {"type": "S3", "location": loc}, "stages": []})
        for loc in ("b", "b" * 64)
    )
    (too_short,) = [i for i in short if i.path == "artifactStore.location"]
    (too_long,) = [i for i in long if i.path == "artifactStore.location"]

    assert "it needs at least 3 characters" == too_short.hint
    assert "shorten it to at most 63 characters" == too_long.hint
