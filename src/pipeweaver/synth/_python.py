"""``to_python``: Python source that rebuilds a pipeline with pipeweaver's own API.

Layer: synth. The output is what ``pipeweaver import`` prints: artifacts become variables
wired by object, every other value is written only when it differs from the model's default,
and the layout follows ``ruff format`` (calls and collections stay on one line when they fit,
otherwise one item per line with a trailing comma, so the formatter keeps them as written).
"""

from __future__ import annotations

import enum
import keyword
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

import attrs

from .. import _names
from .._model import Artifact, Expression, Pipeline

__all__ = ["to_python"]

_RESERVED = {"pw", "pipeline", "unchecked"}


class _Node:
    """A piece of code that can be laid out flat or exploded."""

    def flat(self) -> str:
        raise NotImplementedError

    def lines(self, indent: int, prefix: str, suffix: str, width: int) -> list[str]:
        raise NotImplementedError


class _Atom(_Node):
    def __init__(self, text: str) -> None:
        self.text = text

    def flat(self) -> str:
        return self.text

    def lines(self, indent: int, prefix: str, suffix: str, width: int) -> list[str]:
        return [" " * indent + prefix + self.text + suffix]


class _Group(_Node):
    """``open item, item close`` for calls, lists and dicts; items are ``(prefix, node)``."""

    def __init__(self, open_: str, items: list[tuple[str, _Node]], close: str) -> None:
        self.open, self.items, self.close = open_, items, close

    def flat(self) -> str:
        return self.open + ", ".join(p + n.flat() for p, n in self.items) + self.close

    def lines(self, indent: int, prefix: str, suffix: str, width: int) -> list[str]:
        one = " " * indent + prefix + self.flat() + suffix
        if _width(one) <= width or not self.items:
            return [one]
        out = [" " * indent + prefix + self.open]
        for item_prefix, node in self.items:
            out.extend(node.lines(indent + 4, item_prefix, ",", width))
        out.append(" " * indent + self.close + suffix)
        return out


def _width(line: str) -> int:
    # ruff measures East Asian wide and full-width characters as two columns.
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in line)


def _string(value: str) -> str:
    """A double-quoted literal, unless single quotes avoid escaping (as ruff prefers)."""
    quote = "'" if '"' in value and "'" not in value else '"'
    out = [quote]
    for char in value:
        if char == "\\":
            out.append("\\\\")
        elif char == quote:
            out.append("\\" + quote)
        elif char in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[char])
        elif not char.isprintable():
            out.append(repr(char)[1:-1])
        else:
            out.append(char)
    out.append(quote)
    return "".join(out)


def _identifier(name: str, taken: set[str]) -> str:
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    snake = re.sub(r"[^0-9A-Za-z_]+", "_", snake).strip("_").lower() or "artifact"
    if snake[0].isdigit() or keyword.iskeyword(snake) or snake in _RESERVED:
        snake = f"artifact_{snake}"
    candidate, n = snake, 2
    while candidate in taken:
        candidate, n = f"{snake}_{n}", n + 1
    taken.add(candidate)
    return candidate


class _Writer:
    def __init__(self) -> None:
        self.artifacts: dict[Artifact, str] = {}
        self.taken: set[str] = set()

    def artifact(self, artifact: Artifact) -> str:
        if artifact not in self.artifacts:
            self.artifacts[artifact] = _identifier(artifact.name, self.taken)
        return self.artifacts[artifact]

    def value(self, value: Any) -> _Node:
        if isinstance(value, Artifact):
            return _Atom(self.artifact(value))
        if isinstance(value, Expression):
            return _Group("pw.Expression.of(", [("", self.value(value.raw))], ")")
        if isinstance(value, enum.Enum):
            return self.value(value.value)
        if isinstance(value, bool) or value is None:
            return _Atom(repr(value))
        if isinstance(value, str):
            return _Atom(_string(value))
        if isinstance(value, int | float):
            return _Atom(repr(value))
        if attrs.has(type(value)):
            return self.call(value)
        if isinstance(value, Mapping):
            return _Group("{", [(self.value(k).flat() + ": ", self.value(v)) for k, v in value.items()], "}")
        if isinstance(value, list | tuple):
            return _Group("[", [("", self.value(v)) for v in value], "]")
        raise TypeError(f"cannot write {type(value).__name__} as Python")

    def call(self, obj: Any) -> _Node:
        cls = type(obj)
        items: list[tuple[str, _Node]] = []
        for field in attrs.fields(cls):
            value = getattr(obj, field.name)
            if _is_default(field, value):
                continue
            if cls is Artifact and field.name == "name":
                items.append(("", self.value(value)))
            else:
                items.append((f"{field.name}=", self.value(value)))
        return _Group(f"pw.{cls.__name__}(", items, ")")


def _is_default(field: attrs.Attribute[Any], value: Any) -> bool:
    default: Any = field.default
    if default is attrs.NOTHING:
        return False
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        default = default.factory()
    if isinstance(value, Mapping) and isinstance(default, Mapping):
        return dict(value) == dict(default)
    return bool(value == default) and type(value) is type(default)


def _field_checks_pass(pipeline: Pipeline) -> bool:
    """Whether every object would pass pipeweaver's construction checks (generated code runs them)."""
    seen: set[int] = set()

    def walk(value: Any) -> None:
        if id(value) in seen:
            return
        seen.add(id(value))
        if attrs.has(type(value)):
            attrs.validate(value)
            for field in attrs.fields(type(value)):
                walk(getattr(value, field.name))
        elif isinstance(value, Mapping):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    if not _names.is_checking():
        return True
    try:
        walk(pipeline)
    except ValueError:
        return False
    return True


def to_python(pipeline: Pipeline, *, variable: str = "pipeline", line_length: int = 88) -> str:
    """
    Python source that rebuilds *pipeline*; running it binds an equal pipeline to *variable*.

    Artifacts become variables (named after the artifact, in snake case) passed by object;
    fields left at their defaults are left out; expressions from imported templates are
    written as ``pw.Expression.of({...})``. A pipeline holding values pipeweaver's
    construction checks reject (one imported as AWS would refuse it) is rebuilt inside
    ``with unchecked():`` so that it still round-trips; :func:`pipeweaver.lint` lists them.

    Args:
        pipeline: The model.
        variable: Name bound to the rebuilt pipeline.
        line_length: Line length the layout aims at (ruff's default is 88).

    .. versionadded:: 0.1.0
    """
    writer = _Writer()
    body = writer.call(pipeline)
    checked = _field_checks_pass(pipeline)
    indent = 0 if checked else 4
    lines = [f'"""Pipeline {_title(pipeline)}, as Python (generated by pipeweaver)."""', "", "import pipeweaver as pw"]
    if not checked:
        lines.append("from pipeweaver._names import unchecked")
    lines.append("")
    if not checked:
        lines.append("# Some values break AWS's rules, as imported; pw.lint(pipeline) lists them.")
        lines.append("with unchecked():")
    for artifact, name in writer.artifacts.items():
        lines.extend(writer.call(artifact).lines(indent, f"{name} = ", "", line_length))
    if writer.artifacts:
        lines.append("")
    lines.extend(body.lines(indent, f"{variable} = ", "", line_length))
    return "\n".join(lines) + "\n"


def _title(pipeline: Pipeline) -> str:
    name = pipeline.name if isinstance(pipeline.name, str) else pipeline.name.raw_json
    if isinstance(pipeline.name, Expression) and pipeline.name.raw == {"Ref": "AWS::NoValue"}:
        name = "(named by CloudFormation)"
    return name.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
