"""Fuzzing the one bounded YAML loader: any text is data or one LoadFailure, in both schemas, within bounds."""

from __future__ import annotations

import yaml
from hypothesis import given
from hypothesis import strategies as st

from pipeweaver._loader import MAX_DEPTH, LoadFailure, load_json, load_yaml

from ._hostile import FUZZ, TRICKY_TEXT
from .test_fuzz_cloudformation import TAGS

_lines = st.lists(
    st.one_of(st.sampled_from(TAGS), st.sampled_from(TRICKY_TEXT), st.text(max_size=40)),
    min_size=1,
    max_size=6,
)


def _depth(value: object) -> int:
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return deepest


@FUZZ
@given(_lines, st.booleans(), st.booleans())
def test_yaml_text_is_data_or_one_load_failure(chunks: list[str], nested: bool, cloudformation: bool) -> None:
    """Buildspec-like or template-like YAML text with any tag or scalar loads, or raises LoadFailure only."""
    indent = "    " if nested else ""
    text = ("phases:\n  build:\n" if nested else "") + "".join(f"{indent}k{i}: {c}\n" for i, c in enumerate(chunks))

    outcome: object
    try:
        outcome = load_yaml(text, cloudformation=cloudformation)
    except LoadFailure as exc:
        outcome = exc

    if isinstance(outcome, LoadFailure):
        assert str(outcome)
    else:
        assert _depth(outcome) <= MAX_DEPTH + 1


@FUZZ
@given(st.one_of(st.text(max_size=200), st.binary(max_size=200).map(lambda b: b.decode("latin-1"))))
def test_arbitrary_text_through_both_loaders(text: str) -> None:
    """Any text through the YAML loader (both schemas) and the JSON loader: data or LoadFailure."""
    failures = []
    for load in (load_yaml, lambda t: load_yaml(t, cloudformation=True), load_json):
        try:
            load(text)
        except LoadFailure as exc:
            failures.append(str(exc))

    assert all(failures)


@FUZZ
@given(
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10)),
        lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(st.text(max_size=5), c, max_size=3)),
        max_leaves=15,
    )
)
def test_what_pyyaml_writes_the_loader_reads_back(data: object) -> None:
    """For any document PyYAML's safe dumper writes (string keys), the default schema reads the same data."""
    text = yaml.safe_dump(data)

    assert data == load_yaml(text)
