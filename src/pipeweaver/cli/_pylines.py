"""Map issue paths to lines of the Python file that built the pipeline, by name.

Nothing is recorded while the model is built (construction stays as cheap as it is); instead,
when a Python TARGET has issues, its source is parsed once and each issue's path is followed
through the named objects it passes (the pipeline, a stage, an action) to the call that created
them: ``pw.Action(name="Build", ...)`` or ``actions.codebuild("Build", ...)``. Inside that call
the rest of the path is followed through keyword arguments (``run_order=``, ``configuration=``)
and dict keys (``"ProjectName": ...``) as far as the source spells it out.

A typed factory spells configuration keys as keywords of its own (``environment_variables=``
for ``EnvironmentVariables``), so a configuration key is looked up on the factory call itself.

Names computed at run time (f-strings, loops) cannot be found in the source; the issue then
points at the nearest enclosing object that can, or carries no line. A pipeline whose name is
computed is the file's one ``Pipeline(...)`` call without a literal name, when there is one.
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
    called = _called(call)
    if called in ("Pipeline", "Stage"):
        return called
    return "other" if called in ("Artifact", "Variable", "Rule", "Condition", "Trigger") else "Action"


def _called(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _inside(inner: ast.expr, outer: ast.expr) -> bool:
    return (inner.lineno, inner.col_offset) >= (outer.lineno, outer.col_offset) and (
        inner.end_lineno or inner.lineno,
        inner.end_col_offset or 0,
    ) <= (outer.end_lineno or outer.lineno, outer.end_col_offset or 0)


def _is_factory(node: ast.expr) -> bool:
    """Whether *node* is a call that builds an action other than ``pw.Action(...)`` itself."""
    return isinstance(node, ast.Call) and _kind_of(node) == "Action" and _called(node) != "Action"


class PythonLineMap:
    """Line numbers (1-based) for issue paths of one pipeline built by one Python file."""

    def __init__(self, source: str, pipeline: Pipeline) -> None:
        self._pipeline = pipeline
        self._calls: dict[str, list[ast.Call]] = {}
        #: Every ``Pipeline(...)`` call whose name is not a literal (f-string, variable, none).
        self._unnamed_pipelines: list[ast.Call] = []
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            return  # the file ran, so this is rare (an encoding quirk): no lines then
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = _name_of(node)
                if name is not None:
                    self._calls.setdefault(name, []).append(node)
                elif _kind_of(node) == "Pipeline":
                    self._unnamed_pipelines.append(node)

    def _call(self, name: object, kind: str, within: ast.Call | None) -> ast.Call | None:
        # The enclosing call is never its own child: a stage named like its action would
        # otherwise be found again when the action is looked up inside it.
        found = [call for call in self._calls.get(name, []) if call is not within] if isinstance(name, str) else []
        if kind == "Pipeline":
            found = [call for call in found if _kind_of(call) == "Pipeline"]
            if not found and len(self._unnamed_pipelines) == 1:
                # A computed name (f"{app}-release") is not in the source, but the one
                # Pipeline(...) call whose name is not spelled out is the one that built it.
                return self._unnamed_pipelines[0]
        # An artifact or variable may share an action's name: prefer the call that builds the
        # kind of object wanted (pw.Stage for a stage; for an action, anything but the others),
        # then one inside the enclosing call over one elsewhere (an action built beforehand).
        ranked = sorted(
            found,
            key=lambda call: (_kind_of(call) != kind, within is not None and not _inside(call, within)),
        )
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
            if child is None and part == "configuration" and _is_factory(node):
                # A typed factory spells each configuration key as a keyword of its own
                # (ProjectName -> project_name): look the next part up on the call itself.
                continue
            if child is None:
                break
            node = child
        return node.lineno

    @staticmethod
    def _member(node: ast.expr, part: str | int) -> ast.expr | None:
        if isinstance(node, ast.Call) and isinstance(part, str):
            names = {part, _snake(part)}
            if _is_factory(node):
                # The factories take one artifact as input= / output= where the model has lists.
                names |= {name.removesuffix("s") for name in names if name in ("inputs", "outputs")}
            for keyword in node.keywords:
                if keyword.arg in names:
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
