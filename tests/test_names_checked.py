"""Field validators: ``checked`` applies exactly the rule of its API shape, and nothing else.

``checked`` is the one implementation of the per-field rule (a string or an integer validator
per shape). The rule is stated here from the shape record itself: a ``str`` (or subclass) must
have an allowed length and match the pattern, an ``int`` (not a bool) must be in range, every
other value passes, and nothing is checked inside ``unchecked()``; the error names the field,
the value and the rule.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pipeweaver as pw
from pipeweaver import _names
from pipeweaver._names import checked, checked_count
from pipeweaver._shapes import SHAPES
from pipeweaver.errors import DefinitionError


def rule(shape_name: str, *, optional: bool = False) -> Any:
    shape = SHAPES[shape_name]
    kind = shape["type"]
    lo, hi = shape.get("min"), shape.get("max")
    pattern = re.compile(shape["pattern"], re.DOTALL) if "pattern" in shape else None

    def validate(_instance: Any, attribute: Any, value: Any) -> None:
        if value is None and optional:
            return
        if not _names.is_checking() or not isinstance(value, str | int) or isinstance(value, bool):
            return
        field = attribute.name
        if kind == "string" and isinstance(value, str):
            if (lo is not None and len(value) < lo) or (hi is not None and len(value) > hi):
                raise DefinitionError(
                    field, value, f"length must be {lo or 0}..{hi or 'any'} characters ({shape_name})"
                )
            if pattern is not None and not pattern.fullmatch(value):
                raise DefinitionError(field, value, f"must match {shape['pattern']} ({shape_name})")
        elif (
            kind == "integer"
            and isinstance(value, int)
            and ((lo is not None and value < lo) or (hi is not None and value > hi))
        ):
            raise DefinitionError(field, value, f"must be in {lo}..{hi} ({shape_name})")

    return validate


class _Attribute:
    name = "field_name"


class _Text(str):
    pass


class _Number(int):
    pass


def _outcome(validator: Any, value: Any) -> tuple[str, ...] | None:
    try:
        validator(None, _Attribute(), value)
    except DefinitionError as exc:
        return (exc.field, repr(exc.value), exc.rule, str(exc))
    return None


SHAPE_NAMES = sorted(name for name, shape in SHAPES.items() if shape["type"] in ("string", "integer", "list"))
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 100_000),
    st.text(max_size=20),
    st.sampled_from(["", "a", "a b", "x" * 101, "x" * 1025, "arn:aws:iam::123456789012:role/R", "1", "Build"]),
    st.text(max_size=5).map(_Text),
    st.integers(-1, 1000).map(_Number),
    st.just(pw.Expression.of({"Ref": "X"})),
    st.floats(),
)


@settings(max_examples=300)
@given(st.sampled_from(SHAPE_NAMES), values, st.booleans(), st.booleans())
def test_checked_applies_the_rule_of_its_shape(shape: str, value: Any, optional: bool, checking: bool) -> None:
    if SHAPES[shape]["type"] == "list":
        return
    new, old = checked(shape, optional=optional), rule(shape, optional=optional)
    if checking:
        assert _outcome(old, value) == _outcome(new, value)
    else:
        with _names.unchecked():
            assert _outcome(old, value) == _outcome(new, value) is None


@pytest.mark.parametrize(
    ("shape", "value"),
    [
        ("ActionName", ""),
        ("ActionName", "a b"),
        ("ActionName", "x" * 101),
        ("ActionRunOrder", 0),
        ("ActionRunOrder", 1000),
        ("RoleArn", "x" * 1025),
        ("ArtifactName", _Text("a.b")),
        ("ActionTimeout", _Number(1)),
    ],
)
def test_bad_values_raise_the_same_error(shape: str, value: Any) -> None:
    outcome = _outcome(checked(shape), value)

    assert outcome is not None
    assert _outcome(rule(shape), value) == outcome


@pytest.mark.parametrize("value", [(), ("a",) * 51])
def test_checked_count_empty_means_absent_and_too_many_raises(value: tuple[str, ...]) -> None:
    validate = checked_count("CommandList")
    if value:
        with pytest.raises(DefinitionError, match=r"must hold 1\.\.50 items"):
            validate(None, _Attribute(), value)
    else:
        assert validate(None, _Attribute(), value) is None
        with _names.unchecked():
            assert validate(None, _Attribute(), ("a",) * 51) is None


def test_model_fields_still_refuse_bad_values() -> None:
    """The validators as the model uses them: merged tuple checks, enums, optional fields."""
    build = pw.ActionType(category="Build", provider="CodeBuild")
    with pytest.raises(DefinitionError, match="commands"):
        pw.Action(name="A", action_type=build, commands=["x"] * 51)
    with pytest.raises(DefinitionError, match="commands"):
        pw.Action(name="A", action_type=build, commands=[""])
    with pytest.raises(DefinitionError, match="output_variables"):
        pw.Action(name="A", action_type=build, output_variables=["v"] * 16)
    with pytest.raises(DefinitionError, match="files"):
        pw.Artifact("A", files=["f"] * 11)
    with pytest.raises(DefinitionError, match="category"):
        pw.ActionType(category="build", provider="CodeBuild")
    with pytest.raises(DefinitionError, match="owner"):
        pw.ActionType(category="Build", owner=["AWS"], provider="CodeBuild")  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match="region"):
        pw.Action(name="A", action_type=build, region="")
    assert pw.ActionCategory.BUILD is pw.ActionType(category=_Text("Build"), provider="CodeBuild").category
    with _names.unchecked():
        assert ("x",) * 51 == pw.Action(name="A", action_type=build, commands=["x"] * 51).commands


def test_checked_refuses_shapes_it_cannot_apply() -> None:
    """A model field is a string or an integer; asking for another kind of shape is a mistake."""
    with pytest.raises(ValueError, match="string and integer shapes"):
        checked("StageDeclaration")
