"""``to_python``: Python source that rebuilds a pipeline with pipeweaver's own API.

Layer: synth. The output is what ``pipeweaver import`` prints: artifacts become variables
wired by object, every other value is written only when it differs from the model's default,
and the layout follows ``ruff format`` (calls and collections stay on one line when they fit,
otherwise one item per line with a trailing comma, so the formatter keeps them as written).
"""

from __future__ import annotations

import enum
import functools
import inspect
import keyword
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from .. import _names, actions
from .._loader import load_json
from .._model import Action, Artifact, Expression, Pipeline
from .._when import When

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


def _name_text(name: str | Expression) -> str:
    """Text to derive a variable name from: the name, or what an expression's name is built from."""
    if isinstance(name, str):
        return name
    raw = name.raw
    if isinstance(raw, dict) and len(raw) == 1:
        (function, argument), *_ = raw.items()
        if function == "Fn::Sub":
            text = argument[0] if isinstance(argument, list) and argument else argument
            if isinstance(text, str):
                return re.sub(r"\$\{!?([^}]*)\}", r"\1", text).replace("AWS::", "")
        if function == "Ref" and isinstance(argument, str):
            return argument.replace("AWS::", "")
    return "artifact"


def _identifier(name: str | Expression, taken: set[str]) -> str:
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", _name_text(name))
    snake = re.sub(r"[^0-9A-Za-z_]+", "_", snake).strip("_").lower() or "artifact"
    if snake[0].isdigit() or keyword.iskeyword(snake) or snake in _RESERVED:
        snake = f"artifact_{snake}"
    candidate, n = snake, 2
    while candidate in taken:
        candidate, n = f"{snake}_{n}", n + 1
    taken.add(candidate)
    return candidate


# -- typed action factories --------------------------------------------------------------------
#
# Each factory of pipeweaver.actions is probed once: called with marker values, one parameter at
# a time, to learn which configuration key each parameter writes and how (text as is, booleans
# as "true"/"false", numbers as text, lists comma-separated, (artifact, path) as "Name::path").
# An action is then written as a factory call only if calling the factory with the decoded
# arguments rebuilds an equal action; otherwise it stays a plain pw.Action(...).

#: Parameters that take an Action field unchanged.
_DIRECT = ("run_order", "namespace", "role_arn", "region", "timeout_in_minutes", "commands", "output_variables")
_MARK = "pwprobe"


class _Tuple:
    """A Python tuple to write as ``(a, b)`` (model tuples are written as lists)."""

    def __init__(self, *items: Any) -> None:
        self.items = items


def _kind(annotation: str) -> str | None:
    text = annotation.replace(" | None", "")
    if text.startswith("Sequence[CodeBuildEnvironmentVariable]"):
        return "json"
    if text.startswith("Text | ") or text.endswith(" | Text"):
        # Text or a richer form (a mapping, a list): the configuration text is always accepted.
        return "text"
    if text in ("Text", "str") or text in ("ActionMode", "OutputArtifactFormat") or text.startswith("Literal["):
        return "text"
    if text == "bool":
        return "bool"
    if text == "int":
        return "int"
    if text in ("Sequence[str]", "Sequence[Capability]"):
        return "csv"
    if text == "ArtifactFile":
        return "file"
    if text in ("ArtifactLike", "Sequence[ArtifactLike]", "ArtifactLike | Sequence[ArtifactLike]"):
        return "artifacts"
    return None


def _probe_value(kind: str, marker: str) -> Any:
    return {
        "text": marker,
        "bool": True,
        "int": 7,
        "csv": [marker, marker + "b"],
        "file": (Artifact(marker), "probe/path"),
        "artifacts": Artifact(marker),
        "named": Artifact(marker),
        "json": [{"name": marker, "value": "v", "type": "PLAINTEXT"}],
    }[kind]


class _Factory:
    def __init__(self, name: str, function: Callable[..., Action]) -> None:
        self.name = name
        self.function = function
        self.params = list(inspect.signature(function).parameters.values())[1:]
        self.kinds = {p.name: _kind(str(p.annotation)) for p in self.params}
        self.keys: dict[str, str] = {}  # parameter -> configuration key it writes
        self.type_key: tuple[str, str, str] | None = None

    def base(self) -> dict[str, Any] | None:
        kwargs: dict[str, Any] = {}
        for p in self.params:
            if p.default is not inspect.Parameter.empty:
                continue
            kind = self.kinds[p.name]
            if kind is None:
                return None
            kwargs[p.name] = _probe_value(kind, f"{_MARK}{p.name}")
        return kwargs

    def probe(self) -> bool:
        base = self.base()
        if base is None:
            return False
        try:
            action = self.function("Probe", **base)
        except Exception:  # a factory that refuses marker values cannot be matched
            return False
        self.type_key = (action.category.value, action.owner.value, action.provider)
        for p in self.params:
            kind = self.kinds[p.name]
            named_artifact = kind == "artifacts" and p.name not in ("input", "inputs", "output", "outputs")
            if kind is None or p.name in (*_DIRECT, "category"):
                continue
            if kind not in ("text", "bool", "int", "csv", "file", "json") and not named_artifact:
                continue
            if named_artifact:
                self.kinds[p.name] = kind = "named"
            marker = f"{_MARK}{p.name}"
            try:
                probed = self.function("Probe", **{**base, p.name: _probe_value(kind, marker)})
            except Exception:  # this parameter just stays unmapped
                continue
            for key, value in probed.configuration.items():
                if isinstance(value, str) and (
                    value == marker
                    or (kind == "bool" and action.configuration.get(key) != value and value == "true")
                    or (kind == "int" and value == "7" and action.configuration.get(key) != "7")
                    or (kind == "csv" and value == f"{marker},{marker}b")
                    or (kind == "file" and value == f"{marker}::probe/path")
                    or (kind == "json" and f'"{marker}"' in value)
                ):
                    self.keys[p.name] = key
                    break
        return True

    def arguments(self, action: Action) -> dict[str, Any] | None:
        """Arguments that should rebuild *action*, or None when a value cannot be decoded."""
        kwargs: dict[str, Any] = {}
        by_key = {key: param for param, key in self.keys.items()}
        inputs = {a.name: a for a in action.inputs}
        for key, value in action.configuration.items():
            param = by_key.get(key)
            if param is None:
                continue
            kind = self.kinds[param]
            if isinstance(value, Expression):
                if kind != "text":
                    return None
                kwargs[param] = value
            elif kind == "text":
                kwargs[param] = value
            elif kind == "bool":
                if value not in ("true", "false"):
                    return None
                kwargs[param] = value == "true"
            elif kind == "int":
                if not re.fullmatch(r"-?[1-9][0-9]*|0", value):
                    return None
                kwargs[param] = int(value)
            elif kind == "csv":
                kwargs[param] = value.split(",")
            elif kind == "file":
                artifact, sep, path = value.partition("::")
                if not sep or artifact not in inputs:
                    return None
                kwargs[param] = _Tuple(inputs[artifact], path)
            elif kind == "named":
                if value not in inputs:
                    return None
                kwargs[param] = inputs[value]
            elif kind == "json":
                try:
                    items = load_json(value)
                except ValueError:
                    return None
                if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                    return None
                kwargs[param] = items
        for p in self.params:
            if p.name in _DIRECT:
                value = getattr(action, p.name)
                kwargs[p.name] = list(value) if isinstance(value, tuple) else value
            elif p.name == "category":
                kwargs[p.name] = action.category.value
            elif p.name == "environment_variables" and action.environment_variables:
                kwargs[p.name] = list(action.environment_variables)
            elif p.name == "output_files" and len(action.outputs) == 1:
                kwargs[p.name] = list(action.outputs[0].files)
            elif self.kinds[p.name] == "artifacts" and p.name in ("input", "inputs", "output", "outputs"):
                items = action.inputs if p.name.startswith("input") else action.outputs
                if p.name.endswith("s") or len(items) != 1:
                    kwargs[p.name] = list(items)
                else:
                    kwargs[p.name] = items[0]
        return kwargs

    def call(self, action: Action, kwargs: Mapping[str, Any], *, checked: bool) -> bool:
        """Whether the factory, run as the generated code will run it, rebuilds *action*."""
        real = {k: v.items if isinstance(v, _Tuple) else v for k, v in kwargs.items()}
        try:
            if checked:
                rebuilt = self.function(action.name, **real)
            else:
                with _names.unchecked():
                    rebuilt = self.function(action.name, **real)
        except Exception:  # a combination the factory refuses: not this factory
            return False
        return bool(rebuilt == action)


@functools.cache
def _factories() -> dict[tuple[str, str, str], tuple[_Factory, ...]]:
    found: dict[tuple[str, str, str], list[_Factory]] = {}
    for name in actions.__all__:
        function = getattr(actions, name)
        if not inspect.isfunction(function) or name == "custom" or function.__name__ != name:
            continue
        factory = _Factory(name, function)
        if factory.probe() and factory.type_key is not None:
            found.setdefault(factory.type_key, []).append(factory)
    return {k: tuple(v) for k, v in found.items()}


def _factory_call(action: Action, *, checked: bool) -> tuple[_Factory, dict[str, Any]] | None:
    """The typed factory call (fewest arguments wins) that rebuilds *action* exactly, if any."""
    key = (action.category.value, action.owner.value, action.provider)
    best: tuple[_Factory, dict[str, Any]] | None = None
    for factory in _factories().get(key, ()):
        kwargs = factory.arguments(action)
        if kwargs is None:
            continue
        # Arguments equal to the parameter's default are left out, as a person would.
        defaults = {p.name: p.default for p in factory.params}
        trimmed = {
            k: v
            for k, v in kwargs.items()
            if not (
                defaults.get(k) is not inspect.Parameter.empty
                and not isinstance(v, _Tuple)
                and _same(v, defaults.get(k))
            )
        }
        if factory.call(action, trimmed, checked=checked) and (best is None or len(trimmed) < len(best[1])):
            best = (factory, trimmed)
    return best


def _same(value: Any, default: Any) -> bool:
    if isinstance(value, list) and isinstance(default, tuple):
        return value == list(default)
    return type(value) is type(default) and bool(value == default)


class _Writer:
    def __init__(self, *, use_factories: bool, checked: bool) -> None:
        self.artifacts: dict[Artifact, str] = {}
        self.taken: set[str] = set()
        self.use_factories = use_factories
        self.checked = checked
        self.used_factories = False

    def artifact(self, artifact: Artifact) -> str:
        if artifact not in self.artifacts:
            self.artifacts[artifact] = _identifier(artifact.name, self.taken)
        return self.artifacts[artifact]

    def value(self, value: Any) -> _Node:
        if isinstance(value, Artifact):
            return _Atom(self.artifact(value))
        if isinstance(value, Expression):
            return _Group("pw.Expression.of(", [("", self.value(value.raw))], ")")
        if isinstance(value, _Tuple):
            return _Group("(", [("", self.value(v)) for v in value.items], ")")
        if isinstance(value, Action) and self.use_factories:
            match = _factory_call(value, checked=self.checked)
            if match is not None:
                factory, kwargs = match
                self.used_factories = True
                items = [("", self.value(value.name))] + [(f"{k}=", self.value(v)) for k, v in kwargs.items()]
                return _Group(f"actions.{factory.name}(", items, ")")
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
            # pw.Artifact("Code"), pw.When("IsProd", False, inside="Configuration")
            if (cls is Artifact and field.name == "name") or (cls is When and field.name in ("condition", "value")):
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


def to_python(pipeline: Pipeline, *, variable: str = "pipeline", line_length: int = 88, factories: bool = True) -> str:
    """
    Python source that rebuilds *pipeline*; running it binds an equal pipeline to *variable*.

    Actions are written with the typed factories of :mod:`pipeweaver.actions` where one
    rebuilds the action exactly (checked by calling it), else as ``pw.Action(...)``.
    Artifacts become variables (named after the artifact, in snake case) passed by object;
    fields left at their defaults are left out; expressions from imported templates are
    written as ``pw.Expression.of({...})``. A pipeline holding values pipeweaver's
    construction checks reject (one imported as AWS would refuse it) is rebuilt inside
    ``with unchecked():`` so that it still round-trips; :func:`pipeweaver.lint` lists them.

    Args:
        pipeline: The model.
        variable: Name bound to the rebuilt pipeline.
        line_length: Line length the layout aims at (ruff's default is 88).
        factories: Write actions as calls of the typed factories in :mod:`pipeweaver.actions`
            (``actions.codebuild(...)``) wherever one rebuilds the action exactly; the others,
            and all actions when false, are written as ``pw.Action(...)``.

    .. versionadded:: 0.1.0
    """
    checked = _field_checks_pass(pipeline)
    writer = _Writer(use_factories=factories, checked=checked)
    body = writer.call(pipeline)
    indent = 0 if checked else 4
    lines = [f'"""Pipeline {_title(pipeline)}, as Python (generated by pipeweaver)."""', "", "import pipeweaver as pw"]
    if writer.used_factories:
        lines.append("from pipeweaver import actions")
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
