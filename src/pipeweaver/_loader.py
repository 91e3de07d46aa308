"""The one bounded loader for the YAML and JSON text pipeweaver reads.

Layer: names (imports nothing of pipeweaver), so the model's template reader
(:mod:`pipeweaver._cfn`), the execution engine's buildspec and template readers and the
CLI's line maps all read YAML through :func:`load_yaml` / :func:`compose`, and JSON that
is nested inside a value (``Configuration`` given as a JSON string, ``EnvironmentVariables``)
through :func:`load_json`.

Bounded means: text longer than :data:`MAX_TEXT`, nesting deeper than :data:`MAX_DEPTH`,
documents whose YAML aliases stand for more than :data:`MAX_NODES` values (a "billion
laughs"), integers longer than :data:`MAX_DIGITS` digits and duplicate mapping keys are each
one :class:`LoadFailure` naming the line, never a hang, a 50 MB document or a
``RecursionError``. Composition is iterative (from parser events), so no input recurses.

Two schemas are offered. The default is YAML's safe core schema (what ``yaml.safe_load``
reads, minus timestamps, which stay text). ``cloudformation=True`` adds CloudFormation's
short-form intrinsic tags (``!Ref``, ``!Sub``, ``!GetAtt``, ...) and reads every plain
mapping key as its text, as CloudFormation does (``123456789012:`` is the key
``"123456789012"``, not a number). Any other tag is refused; ``!!python/...`` never runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Final

import yaml
import yaml.constructor
import yaml.cyaml
import yaml.resolver

__all__ = [
    "MAX_DEPTH",
    "MAX_DIGITS",
    "MAX_NODES",
    "MAX_TEXT",
    "LoadFailure",
    "compose",
    "json_depth",
    "load_json",
    "load_yaml",
]

#: Largest text accepted, in characters: CloudFormation's own limit for a template body
#: (1 MB, read from S3), which also bounds the pure-Python YAML parse to seconds.
MAX_TEXT: Final = 1_048_576
#: Deepest nesting of mappings and lists accepted.
MAX_DEPTH: Final = 64
#: Most nodes a document may stand for once YAML aliases are followed (a 1 MB document of
#: ordinary YAML has far fewer; a "billion laughs" document far more).
MAX_NODES: Final = 1_000_000
#: Longest integer accepted, in digits: Python's own limit for converting text to an integer
#: (``sys.get_int_max_str_digits()``), below which every integer also prints back as text.
MAX_DIGITS: Final = 4300


class LoadFailure(ValueError):
    """
    Text that the bounded loader refuses: what is wrong, where (1-based line and column) and a fix.

    Attributes:
        problem: What is wrong, without the position.
        line: 1-based line, or ``None`` when the position is not known.
        column: 1-based column, or ``None``.
        hint: How to fix it, or ``None``.
        unsafe: Whether a bound was hit (nesting, alias expansion, size) rather than a syntax error.
    """

    def __init__(
        self,
        problem: str,
        *,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
        unsafe: bool = False,
    ) -> None:
        self.problem = problem
        self.line = line
        self.column = column
        self.hint = hint
        self.unsafe = unsafe
        super().__init__(str(self))

    @classmethod
    def at(cls, problem: str, mark: Any, *, hint: str | None = None, unsafe: bool = False) -> LoadFailure:
        """A failure at a PyYAML mark (which counts lines and columns from 0)."""
        if mark is None:
            return cls(problem, hint=hint, unsafe=unsafe)
        return cls(problem, line=mark.line + 1, column=mark.column + 1, hint=hint, unsafe=unsafe)

    def __str__(self) -> str:
        if self.line is None:
            return self.problem
        where = f"line {self.line}" + (f", column {self.column}" if self.column is not None else "")
        return f"{self.problem} at {where}"


# ---------------------------------------------------------------------------------------------
# JSON


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]')


def json_depth(text: str, limit: int = MAX_DEPTH) -> int:
    """
    How deeply the arrays and objects of JSON *text* nest, counting no further than *limit* + 1.

    One linear scan that skips strings; it does not check the syntax (``json.loads`` does).
    """
    depth = deepest = 0
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        elif token in ("]", "}"):
            depth -= 1
    return deepest


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _bounded_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_DIGITS:
        raise LoadFailure(
            f"an integer of {digits} digits ({text[:12]}...); at most {MAX_DIGITS} are read",
            hint="quote it to keep it as text, or use a smaller number",
        )
    return int(text)


def load_json(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """
    Parse JSON text, refusing nesting deeper than *max_depth* and integers past :data:`MAX_DIGITS`.

    Raises:
        LoadFailure: for text that is not JSON (with line and column), nests too deeply or
            holds an integer too long to read.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if json_depth(text, max_depth) > max_depth:
        raise LoadFailure(
            f"nesting deeper than {max_depth} levels",
            hint="flatten the document; no pipeline definition nests this deeply",
            unsafe=True,
        )
    try:
        return json.loads(text, parse_int=_bounded_int)
    except json.JSONDecodeError as exc:
        raise LoadFailure(exc.msg, line=exc.lineno, column=exc.colno) from None
    except RecursionError:  # unreachable after the depth scan; kept so no input can crash
        raise LoadFailure(f"nesting deeper than {max_depth} levels", unsafe=True) from None


# ---------------------------------------------------------------------------------------------
# YAML: composition


def compose(text: str, *, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> yaml.Node | None:
    """
    Build the node graph of a single-document YAML stream, iteratively, from parser events.

    Nodes keep their marks (for line numbers) and nothing is constructed, so tags are inert.
    libyaml's parser (when PyYAML has it) or PyYAML's own, both iterative, supply the events;
    composing them here rather than in PyYAML's recursive composer stops nesting at
    *max_depth* at once. Aliases are followed to count the values they stand for.

    Raises:
        LoadFailure: for text that is not YAML, holds several documents, nests deeper than
            *max_depth*, is longer than :data:`MAX_TEXT` or stands for more than *max_nodes*
            values once aliases are followed.
    """
    if len(text) > MAX_TEXT:
        raise LoadFailure(
            f"the text is {len(text)} characters long; at most {MAX_TEXT} are read",
            hint="split the document",
            unsafe=True,
        )
    try:
        root = _compose(text, max_depth)
    except UnicodeEncodeError as exc:
        raise LoadFailure(
            f"the text holds characters that are not valid Unicode ({exc.reason} at position {exc.start})"
        ) from None
    except yaml.MarkedYAMLError as exc:
        problem = exc.problem or exc.context or "invalid YAML"
        raise LoadFailure.at(problem, exc.problem_mark or exc.context_mark) from None
    except yaml.YAMLError as exc:  # reader errors (control characters) carry a position too
        position = getattr(exc, "position", None)
        line, column = _line_col(text, position) if isinstance(position, int) else (None, None)
        raise LoadFailure(f"invalid YAML: {exc}".split("\n")[0], line=line, column=column) from None
    if root is not None:
        _expanded_size(root, max_nodes)
    return root


def _compose(text: str, max_depth: int) -> yaml.Node | None:
    parser: Any = yaml.cyaml.CParser(text) if yaml.__with_libyaml__ else yaml.SafeLoader(text)  # type: ignore[attr-defined]
    resolver: Any = yaml.resolver.Resolver()
    anchors: dict[str, yaml.Node] = {}
    stack: list[yaml.Node] = []
    keys: list[yaml.Node | None] = []
    root: yaml.Node | None = None
    documents = 0

    def attach(node: yaml.Node) -> None:
        nonlocal root
        if not stack:
            root = node
        elif isinstance(stack[-1], yaml.SequenceNode):
            stack[-1].value.append(node)
        elif keys[-1] is None:
            keys[-1] = node
        else:
            stack[-1].value.append((keys[-1], node))
            keys[-1] = None

    def anchor(event: Any, node: yaml.Node) -> None:
        if event.anchor is not None:
            if event.anchor in anchors:
                raise LoadFailure.at(f"found duplicate anchor {event.anchor!r}", event.start_mark)
            anchors[event.anchor] = node

    try:
        while parser.check_event():
            event: Any = parser.get_event()
            mark: Any = event.start_mark
            end: Any = event.end_mark
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise LoadFailure.at("expected a single document, but found another document", mark)
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in anchors:
                    raise LoadFailure.at(f"found undefined alias {event.anchor!r}", mark)
                attach(anchors[event.anchor])
            elif isinstance(event, yaml.ScalarEvent):
                tag = event.tag
                if tag is None or tag == "!":
                    tag = resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
                node: yaml.Node = yaml.ScalarNode(tag, event.value, mark, end, style=event.style)
                anchor(event, node)
                attach(node)
            elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
                if len(stack) >= max_depth:
                    raise LoadFailure.at(f"nesting deeper than {max_depth} levels", mark, unsafe=True)
                kind = yaml.SequenceNode if isinstance(event, yaml.SequenceStartEvent) else yaml.MappingNode
                tag = event.tag
                if tag is None or tag == "!":
                    tag = resolver.resolve(kind, None, event.implicit)
                node = kind(tag, [], mark, None, flow_style=event.flow_style)
                anchor(event, node)
                attach(node)
                stack.append(node)
                keys.append(None)
            elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
                stack.pop().end_mark = end
                keys.pop()
    finally:
        dispose = getattr(parser, "dispose", None)
        if dispose is not None:
            dispose()
    return root


def _expanded_size(root: yaml.Node, max_nodes: int) -> int:
    """How many nodes *root* stands for once aliases are expanded (memoised, iterative)."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        if done:
            open_.discard(id(node))
            total = 1 + sum(sizes[id(c)] for c in children)
            if total > max_nodes:
                raise LoadFailure.at(
                    f"the document stands for more than {max_nodes} values once YAML aliases are followed "
                    "(a 'billion laughs' document?)",
                    node.start_mark,
                    hint="write the repeated parts out, or reuse them fewer times",
                    unsafe=True,
                )
            sizes[id(node)] = total
            continue
        if id(node) in open_:
            continue
        open_.add(id(node))
        stack.append((node, True))
        for child in children:
            if id(child) in open_:
                raise LoadFailure.at("a YAML alias refers to a node that contains it", child.start_mark, unsafe=True)
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)]


# ---------------------------------------------------------------------------------------------
# YAML: construction


class _Constructor(yaml.SafeLoader):
    """SafeLoader's constructor, made total: every malformed value is a LoadFailure naming its line."""

    #: Read plain mapping keys as their text (CloudFormation's reading).
    keys_as_text = False

    def _refuse(self, node: yaml.Node, problem: str, hint: str | None = None) -> LoadFailure:
        return LoadFailure.at(problem, node.start_mark, hint=hint)

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, yaml.MappingNode):
            found = "sequence" if isinstance(node, yaml.SequenceNode) else "scalar"
            raise self._refuse(node, f"expected a mapping for tag {node.tag!r}, found a {found}")
        seen: set[tuple[str, str]] = set()
        for key_node, _value in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                spelled = ("" if self.keys_as_text else key_node.tag, key_node.value)
                if spelled in seen and key_node.value != "<<":
                    raise self._refuse(
                        key_node,
                        f"duplicate key {key_node.value!r}",
                        "a key may appear once in a mapping (YAML would silently keep the last); keep one",
                    )
                seen.add(spelled)
        self.flatten_mapping(node)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if (
                self.keys_as_text
                and isinstance(key_node, yaml.ScalarNode)
                and key_node.tag.startswith("tag:yaml.org,2002:")
            ):
                key: Any = key_node.value
            else:
                key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                raise self._refuse(key_node, "found a list or mapping used as a mapping key", "keys are text") from None
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        text = str(self.construct_scalar(node)).replace("_", "")
        digits = len(text.lstrip("+-"))
        if digits > MAX_DIGITS:
            raise self._refuse(
                node,
                f"an integer of {digits} digits; at most {MAX_DIGITS} are read",
                "quote it to keep it as text, or use a smaller number",
            )
        try:
            value: int = super().construct_yaml_int(node)
        except (ValueError, IndexError):
            raise self._refuse(
                node, f"{text[:40]!r} is not an integer (tag !!int)", "remove the tag or fix the value"
            ) from None
        return value

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float:
        try:
            value: float = super().construct_yaml_float(node)
        except (ValueError, IndexError):
            raise self._refuse(
                node, f"{str(node.value)[:40]!r} is not a number (tag !!float)", "remove the tag or fix the value"
            ) from None
        return value

    def construct_yaml_bool(self, node: yaml.ScalarNode) -> bool:
        text = str(self.construct_scalar(node)).lower()
        if text not in self.bool_values:
            raise self._refuse(
                node, f"{text[:40]!r} is not a boolean (tag !!bool)", "write true or false, or remove the tag"
            )
        return bool(self.bool_values[text])

    def construct_timestamp_text(self, node: yaml.ScalarNode) -> Any:
        # CloudFormation and CodeBuild read `2010-09-09` as text; a datetime would not survive JSON.
        return self.construct_scalar(node)

    def construct_undefined(self, node: yaml.Node) -> Any:
        raise self._refuse(node, f"could not determine a constructor for the tag {node.tag!r}", self.tag_hint)

    tag_hint = "remove the tag; only YAML's standard tags (!!str, !!int, ...) are read"


_Constructor.add_constructor("tag:yaml.org,2002:int", _Constructor.construct_yaml_int)
_Constructor.add_constructor("tag:yaml.org,2002:float", _Constructor.construct_yaml_float)
_Constructor.add_constructor("tag:yaml.org,2002:bool", _Constructor.construct_yaml_bool)
_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor.construct_timestamp_text)
_Constructor.add_constructor(None, _Constructor.construct_undefined)


class TemplateConstructor(_Constructor):
    """The constructor for CloudFormation templates: short-form intrinsics, keys read as text."""

    keys_as_text = True
    tag_hint = "only CloudFormation's short-form intrinsics (!Ref, !Sub, !GetAtt, ...) are allowed as tags"


#: CloudFormation's short forms and the long names they stand for.
SHORT_FORMS: Final = {
    "Ref": "Ref",
    "Condition": "Condition",
    **{
        name: f"Fn::{name}"
        for name in (
            "Base64",
            "Cidr",
            "FindInMap",
            "GetAtt",
            "GetAZs",
            "If",
            "ImportValue",
            "Join",
            "Length",
            "Select",
            "Split",
            "Sub",
            "ToJsonString",
            "Transform",
            "And",
            "Equals",
            "Not",
            "Or",
        )
    },
}


def _construct_short(function: str) -> Callable[[TemplateConstructor, yaml.Node], Any]:
    def construct(loader: TemplateConstructor, node: yaml.Node) -> Any:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if function == "Fn::GetAtt" and isinstance(value, str):
                resource, _, attribute = value.partition(".")
                value = [resource, attribute]
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {function: value}

    return construct


for _short, _long in SHORT_FORMS.items():
    TemplateConstructor.add_constructor(f"!{_short}", _construct_short(_long))


def load_yaml(text: str, *, cloudformation: bool = False) -> Any:
    """
    Parse one YAML document within the bounds of :func:`compose`, with the schema the module names.

    Args:
        text: The document.
        cloudformation: Read CloudFormation's short-form tags and plain keys as text.

    Raises:
        LoadFailure: for text that is not YAML, breaks a bound, repeats a mapping key, uses
            a tag the schema does not know, or holds a value its tag does not allow
            (``!!int abc``, ``!!map [1]``, a 5,000-digit integer, ...).
    """
    node = compose(text)
    if node is None:
        return None
    # The loader is used for its constructor only (the node graph is already composed).
    constructor = (TemplateConstructor if cloudformation else _Constructor)("")
    try:
        return constructor.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        problem = exc.problem or exc.context or "invalid YAML"
        raise LoadFailure.at(problem, exc.problem_mark or exc.context_mark) from None
    finally:
        constructor.dispose()
