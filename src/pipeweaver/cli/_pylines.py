"""Map issue paths to lines of the Python file that built the pipeline, by name.

Nothing is recorded while the model is built (construction stays as cheap as it is); instead,
when a Python TARGET has issues, its source is parsed once and each issue's path is followed
through the named objects it passes (the pipeline, a stage, an action) to the call that created
them: ``pw.Action(name="Build", ...)`` or ``actions.codebuild("Build", ...)``. Inside that call
the rest of the path is followed through keyword arguments (``run_order=``, ``configuration=``)
and dict keys (``"ProjectName": ...``) as far as the source spells it out.

Names computed at run time (f-strings, loops) cannot be found in the source; the issue then
points at the nearest enclosing object that can, or carries no line.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Final

from .. import Pipeline
from ._lines import split_path

__all__ = ["PythonLineMap"]

#: API member names whose model attribute is spelt differently (the rest is camelCase -> snake_case).
_ATTRIBUTE: Final = {
    "inputArtifacts": "inputs",
    "outputArtifacts": "outputs",
    "actionTypeId": "action_type",
    "roleArn": "role_arn",
    "artifactStore": "artifact_store",
    "artifactStores": "artifact_stores",
}
_CAMEL: Final = re.compile(r"(?<!^)(?=[A-Z])")


def _snake(member: str) -> str:
    return _ATTRIBUTE.get(member, _CAMEL.sub("_", member).lower())


def _name_of(call: ast.Call) -> str | None:
    """The literal name a constructor or factory call gives its object, if it spells one out."""
    for keyword in call.keywords:
        if keyword.arg == "name":
            value = keyword.value
            return value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else None
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return None


def _kind_of(call: ast.Call) -> str:
    """``Pipeline``, ``Stage``, ``Action`` (any other call that names something) or ``other``."""
    func = call.func
    called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if called in ("Pipeline", "Stage"):
        return called
    return "other" if called in ("Artifact", "Variable", "Rule", "Condition", "Trigger") else "Action"


def _inside(inner: ast.expr, outer: ast.expr) -> bool:
    return (inner.lineno, inner.col_offset) >= (outer.lineno, outer.col_offset) and (
        inner.end_lineno or inner.lineno,
        inner.end_col_offset or 0,
    ) <= (outer.end_lineno or outer.lineno, outer.end_col_offset or 0)


class PythonLineMap:
    """Line numbers (1-based) for issue paths of one pipeline built by one Python file."""

    def __init__(self, source: str, pipeline: Pipeline) -> None:
        self._pipeline = pipeline
        self._calls: dict[str, list[ast.Call]] = {}
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            return  # the file ran, so this is rare (an encoding quirk): no lines then
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = _name_of(node)
                if name is not None:
                    self._calls.setdefault(name, []).append(node)

    def _call(self, name: object, kind: str, within: ast.Call | None) -> ast.Call | None:
        found = self._calls.get(name, []) if isinstance(name, str) else []
        if within is not None:
            found = [call for call in found if _inside(call, within)] or found
        # An artifact or variable may share an action's name: prefer the call that builds the
        # kind of object wanted (pw.Stage for a stage; for an action, anything but the others).
        ranked = sorted(found, key=lambda call: _kind_of(call) != kind)
        return ranked[0] if ranked else None

    def _objects(self, parts: list[str | int]) -> Iterator[tuple[object, str, int]]:
        """(name, kind, how many path parts it covers) of each named object along *parts*."""
        yield self._pipeline.name, "Pipeline", 0
        stage_at = parts[1] if len(parts) >= 2 and parts[0] == "stages" else None
        if not isinstance(stage_at, int) or stage_at >= len(self._pipeline.stages):
            return
        stage = self._pipeline.stages[stage_at]
        yield stage.name, "Stage", 2
        action_at = parts[3] if len(parts) >= 4 and parts[2] == "actions" else None
        if isinstance(action_at, int) and action_at < len(stage.actions):
            yield stage.actions[action_at].name, "Action", 4

    def line_of(self, path: str) -> int | None:
        """The line that built the object at *path* (or the nearest enclosing one found)."""
        parts = split_path(path)
        call: ast.Call | None = None
        used = 0
        for name, kind, covers in self._objects(parts):
            found = self._call(name, kind, call)
            if found is None:
                break
            call, used = found, covers
        if call is None:
            return None
        node: ast.expr = call
        for part in parts[used:]:
            child = self._member(node, part)
            if child is None:
                break
            node = child
        return node.lineno

    @staticmethod
    def _member(node: ast.expr, part: str | int) -> ast.expr | None:
        if isinstance(node, ast.Call) and isinstance(part, str):
            for keyword in node.keywords:
                if keyword.arg in (part, _snake(part)):
                    return keyword.value
            return None
        if isinstance(node, ast.Dict) and isinstance(part, str):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == part:
                    return value
            return None
        if isinstance(node, ast.List | ast.Tuple) and isinstance(part, int) and part < len(node.elts):
            return node.elts[part]
        return None
