"""The YAML half of :mod:`pipeweaver._loader`: bounded, iterative composition and a total, safe constructor.

Layer: names (imports nothing of pipeweaver outside :mod:`pipeweaver._loader`). Imported by
:func:`pipeweaver._loader.load_yaml` and :func:`pipeweaver._loader.compose` on first use, so
that reading JSON (``pipeweaver validate pipeline.json``) does not load PyYAML.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import yaml
import yaml.constructor
import yaml.cyaml
import yaml.resolver

from ._bounds import MAX_DEPTH, MAX_DIGITS, MAX_NODES, MAX_TEXT, LoadFailure

__all__ = ["SHORT_FORMS", "TemplateConstructor", "compose", "load_yaml"]


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


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
