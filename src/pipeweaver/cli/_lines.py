"""Map issue paths (``stages[1].actions[0].name``) to line numbers in the JSON or YAML file.

The file is *composed* by the project's bounded YAML loader (:func:`pipeweaver._loader.compose`:
nodes carry their marks, nothing is constructed, so tags are inert, and nesting, size and alias
expansion are bounded). JSON is read the same way: it is a subset of YAML flow syntax in
every file AWS tools print. When a path cannot be followed to the end, the deepest node
reached is used, which still points the reader at the right block.
"""

from __future__ import annotations

import re
from typing import Final

import yaml

from .._loader import LoadFailure, compose

__all__ = ["LineMap", "split_path"]

_SEGMENT: Final = re.compile(r"""\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]""")


def split_path(path: str) -> list[str | int]:
    """``a.b[2]["x y"]`` -> ``["a", "b", 2, "x y"]``; unknown syntax ends the walk."""
    parts: list[str | int] = []
    pos = 0
    while pos < len(path):
        m = _SEGMENT.match(path, pos)
        if not m:
            break
        if m.group(1) is not None:
            parts.append(m.group(1))
        elif m.group(2) is not None:
            parts.append(int(m.group(2)))
        else:
            parts.append(m.group(3).replace('\\"', '"').replace("\\\\", "\\"))
        pos = m.end()
    return parts


class LineMap:
    """Line numbers (1-based) of the nodes of one document."""

    def __init__(self, text: str, *, is_json: bool = False) -> None:
        self._root: yaml.Node | None
        if is_json:
            # A raw tab can only be whitespace in valid JSON (tabs in strings are escaped), but
            # YAML refuses tabs as indentation; spaces keep every line number as it was.
            text = text.replace("\t", " ")
        try:
            self._root = compose(text)
        except LoadFailure:
            # Tabs or exotic escapes in JSON can trip the YAML reader, and hostile text breaks a
            # bound: no line numbers then (the loader reports the problem itself).
            self._root = None

    def line_of(self, path: str, prefix: str = "") -> int | None:
        """The line of the node at *prefix* + *path*, or of the deepest node on the way."""
        node = self._root
        if node is None:
            return None
        full = f"{prefix}.{path}" if prefix and path and not path.startswith("[") else prefix + path
        for part in split_path(full):
            child = self._child(node, part)
            if child is None:
                break
            node = child
        return node.start_mark.line + 1

    @staticmethod
    def _child(node: yaml.Node, part: str | int) -> yaml.Node | None:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            # Templates spell API fields in PascalCase (`stages` -> `Stages`): try both.
            for wanted in (part, part[:1].upper() + part[1:]):
                for key, value in node.value:
                    if isinstance(key, yaml.ScalarNode) and key.value == wanted:
                        # Point at the key's line: for `"name": "x"` both are on one line anyway.
                        return value if not isinstance(value, yaml.ScalarNode) else _Keyed(key, value)
            return None
        if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            child: yaml.Node = node.value[part]
            return child
        return None


class _Keyed(yaml.ScalarNode):
    """A scalar value reported at its key's line (values of long strings may start later)."""

    def __init__(self, key: yaml.Node, value: yaml.ScalarNode) -> None:
        super().__init__(value.tag, value.value, key.start_mark, value.end_mark, value.style)
