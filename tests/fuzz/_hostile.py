"""Hostile inputs for the fuzz suites: junk JSON, mutated declarations, paths checked against the input.

Mutations start from a *valid* declaration (``tests.strategies.pipelines`` rendered to API JSON)
so the fuzzer spends its time near the interesting edge: mostly right, one or more things wrong.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import pipeweaver as pw
from pipeweaver.synth import to_codepipeline

from ..strategies import pipelines

#: Examples per suite: 1,000 in the normal run, 100,000 under ``nox -s fuzz``.
EXAMPLES = int(os.environ.get("PIPEWEAVER_FUZZ_EXAMPLES", "1000"))

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

# Unicode that breaks naive code: RTL marks, zero-width joiners, combining marks, astral
# characters, NUL, lone surrogates (legal in a Python str, illegal in UTF-8 output).
TRICKY_TEXT = [
    "",
    " ",
    "\x00",
    "\u202e\u0627\u0644",
    "e\u0301",
    "\u200d\ufeff",
    "\U0001f680" * 3,
    "\ud800",
    "..",
    "../../etc/passwd",
    "a" * 101,
    "#{",
    "#{ns.",
    "#{codepipeline.PipelineExecutionId}",
    "$(touch /tmp/pwned)",
    "\n\r\t",
    '"\\',
    "{}",
    "[]",
    '{"Ref":"X"}',
    '{"Fn::Sub":"${AWS::Region}"}',
]

#: CloudFormation intrinsics, which the CodePipeline API refuses wherever they stand.
INTRINSICS: list[object] = [
    {"Ref": "X"},
    {"Fn::Sub": "${AWS::StackName}-x"},
    {"Fn::GetAtt": ["Role", "Arn"]},
    {"Fn::Join": ["", ["a", {"Ref": "B"}]]},
    {"Fn::If": ["Prod", "a", {"Ref": "AWS::NoValue"}]},
    {"Fn::ImportValue": "Exported"},
]

#: Integers past Python's 4,300-digit text conversion limit (printing one raises ValueError;
#: drawn through a map so Hypothesis never needs to print one to describe the strategy).
huge_integers = st.integers(4_300, 5_100).map(lambda digits: 10**digits) | st.just(0).map(lambda _: -(10**5001))


def nested_json_text(depth: int, kind: str = "list") -> str:
    """JSON *text* nested *depth* levels: parsing it with plain json.loads recurses that deep."""
    if kind == "list":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(TRICKY_TEXT),
    huge_integers,
    # A copy each time: mutate() edits what it is given in place, and an edited shared dict
    # would make a replayed example differ from the first run (FlakyStrategyDefinition).
    st.sampled_from(INTRINSICS).map(copy.deepcopy),
)

#: Mapping keys, including the non-string keys a parsed YAML document or a Python dict may hold.
keys = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["name", "stages", "actions", "Ref", "Fn::Sub"]),
    st.integers(-3, 3),
    st.none(),
    st.booleans(),
)

json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(keys, children, max_size=4),
    ),
    max_leaves=20,
)


def deep(depth: int, leaf: object = "x", *, kind: str = "list") -> object:
    """A value nested *depth* levels deep (built iteratively: the builder must not recurse)."""
    value: object = leaf
    for _ in range(depth):
        value = [value] if kind == "list" else {"k": value}
    return value


hostile_values = st.one_of(
    json_values,
    st.integers(1, 3000).map(lambda n: deep(n)),
    st.integers(1, 3000).map(lambda n: deep(n, kind="dict")),
    st.integers(1_000, 300_000).map(lambda n: "A" * n),
    st.builds(nested_json_text, st.integers(60, 6_000), st.sampled_from(["list", "dict"])),
    st.integers(4_290, 5_100).map(lambda n: "1" * n),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=64),
)


def _containers(root: object) -> Iterator[tuple[tuple[Any, ...], object]]:
    # Iterative and depth-capped: earlier mutations may have nested a value thousands deep.
    stack: list[tuple[tuple[Any, ...], object]] = [((), root)]
    while stack:
        trail, node = stack.pop()
        yield trail, node
        if len(trail) >= 12:
            continue
        if isinstance(node, dict):
            stack.extend(((*trail, key), child) for key, child in node.items())
        elif isinstance(node, list):
            stack.extend(((*trail, index), child) for index, child in enumerate(node))


def _get(root: object, trail: tuple[Any, ...]) -> Any:
    for step in trail:
        root = root[step]  # type: ignore[index]
    return root


def mutate(draw: st.DrawFn, data: Any) -> Any:
    """Apply 1-4 random mutations to *data*: drop, replace, add, retype, deepen, huge, unicode, null."""
    for _ in range(draw(st.integers(1, 4))):
        nodes = list(_containers(data))
        # an index, not sampled_from(nodes): Hypothesis may print what it samples, and a huge integer cannot be printed
        trail, node = nodes[draw(st.integers(0, len(nodes) - 1))]
        op = draw(st.sampled_from(["drop", "replace", "add", "stringify", "wrap", "huge", "unicode", "null"]))
        if op == "add" and isinstance(node, dict):
            node[draw(st.one_of(st.text(max_size=20), st.sampled_from(TRICKY_TEXT), keys))] = draw(json_values)
            continue
        if op == "add" and isinstance(node, list):
            node.append(draw(json_values))
            continue
        if not trail:
            if op == "replace":
                data = draw(hostile_values)
            continue
        parent = _get(data, trail[:-1])
        key = trail[-1]
        if op == "drop":
            del parent[key]
        elif op == "replace":
            parent[key] = draw(hostile_values)
        elif op == "stringify":
            try:
                parent[key] = str(node)
            except (RecursionError, ValueError):  # nested thousands deep by a "wrap", or a huge integer
                parent[key] = "[[[...]]]"
        elif op == "wrap":
            parent[key] = deep(draw(st.integers(1, 200)), node)
        elif op == "huge":
            parent[key] = "Z" * draw(st.integers(10_000, 200_000))
        elif op == "unicode":
            parent[key] = draw(st.sampled_from(TRICKY_TEXT))
        else:
            parent[key] = None
    return data


@st.composite
def mutated_declarations(draw: st.DrawFn) -> object:
    """A valid declaration with 1-4 random mutations, sometimes inside a get-pipeline envelope."""
    data: Any = mutate(draw, copy.deepcopy(to_codepipeline(draw(pipelines()))))
    if draw(st.booleans()):
        data = {"pipeline": data}
        if draw(st.booleans()):
            data["metadata"] = draw(json_values)
        if draw(st.booleans()):
            data["tags"] = draw(
                st.one_of(json_values, st.builds(lambda: [{"key": "k", "value": "v"}, {"key": {"x": 1}}]))
            )
    return data


inputs = st.one_of(mutated_declarations(), hostile_values, st.builds(lambda p: to_codepipeline(p), pipelines()))

_TOKEN = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]')


def split_path(path: str) -> list[str | int]:
    """Parse ``stages[1].actions[0]["a b"]`` into ``["stages", 1, "actions", 0, "a b"]``."""
    steps: list[str | int] = []
    pos = 0
    while pos < len(path):
        match = _TOKEN.match(path, pos)
        if match is None or match.end() == pos:
            raise AssertionError(f"unparseable issue path {path!r} at offset {pos}")
        ident, index, quoted = match.groups()
        if ident is not None:
            steps.append(ident)
        elif index is not None:
            steps.append(int(index))
        else:
            steps.append(re.sub(r"\\(.)", r"\1", quoted))
        pos = match.end()
    return steps


def _step(node: object, step: str | int) -> tuple[bool, object]:
    if isinstance(step, int) and isinstance(node, list | tuple) and step < len(node):
        return True, node[step]
    if isinstance(node, dict):
        for key, child in node.items():
            if str(key) == str(step):
                return True, child
    return False, None


def path_points_into(data: object, path: str) -> bool:
    """
    Whether *path* names a node of *data*, or missing members below a node that exists.

    A missing member may be nested (``configuration.ProjectName`` when ``configuration`` itself
    is absent), but a list index must always exist: pointing at element 3 of a two-element
    list is a wrong path.
    """
    steps = split_path(path)
    node = data
    for i, step in enumerate(steps):
        found, child = _step(node, step)
        if not found:
            return all(isinstance(rest, str) for rest in steps[i:])
        node = child
    return True


def declaration_of(data: object) -> object:
    """The declaration the paths are relative to (inside a ``{"pipeline": ...}`` envelope)."""
    if isinstance(data, dict) and "pipeline" in data and set(data) <= {"pipeline", "metadata", "tags"}:
        return data["pipeline"]
    return data


def assert_issues_point_into(data: object, issues: tuple[pw.Issue, ...] | list[pw.Issue]) -> None:
    """Every issue is well-formed and its path names a place in *data*."""
    target = declaration_of(data)
    bad = [
        (i.code, i.path, i.message)
        for i in issues
        if not (isinstance(i.path, str) and i.code and i.message and path_points_into(target, i.path))
    ]

    # this module is not assertion-rewritten by pytest, so the message carries the details
    assert [] == bad, f"issues whose path does not point into the input: {bad}"


def assert_no_internal_error(issues: tuple[pw.Issue, ...] | list[pw.Issue]) -> None:
    """No issue is PW099 (a rule or loader that crashed, caught by lint)."""
    crashed = [i.message for i in issues if i.code == "PW099"]
    assert [] == crashed, f"internal errors: {crashed}"
