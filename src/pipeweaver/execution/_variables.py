"""Variable resolution: ``#{namespace.key}`` references in action and rule configuration.

Layer: execution. Pure: the values come in as plain mappings, so the rule (what resolves, what
the error says when something does not) is testable without an execution.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .._graph import VARIABLE_REF
from ._base import ActionFailed, FailureType

__all__ = ["resolve"]


def resolve(
    text: str,
    *,
    execution_id: str,
    variables: Mapping[str, str],
    namespaces: Mapping[str, Mapping[str, str]],
    unknown: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """Replace every ``#{namespace.key}`` in *text* (``ActionFailed`` naming the unknown ones).

    ``codepipeline.PipelineExecutionId`` is *execution_id*, ``variables.X`` a pipeline
    variable, any other namespace the output variables of the action that declared it.
    *unknown* holds, per namespace, the variables its action could not work out locally and
    why (:attr:`ActionResult.unknown_variables`, ``*`` for any name): a reference to one fails
    with that reason.
    """
    if "#{" not in text:
        return text

    def one(match: re.Match[str]) -> str:
        namespace, key = match.group(1), match.group(2)
        if namespace == "codepipeline":
            if key == "PipelineExecutionId":
                return execution_id
        elif namespace == "variables":
            if key in variables:
                return variables[key]
        elif key in namespaces.get(namespace, {}):
            return namespaces[namespace][key]
        unknown_here = (unknown or {}).get(namespace, {})
        why = unknown_here.get(key, unknown_here.get("*"))
        if why is not None:
            raise ActionFailed(
                f"variable #{{{namespace}.{key}}} cannot be resolved: {why}",
                failure_type=FailureType.CONFIGURATION_ERROR,
            )
        known = sorted(namespaces.get(namespace, {})) if namespace in namespaces else None
        hint = (
            f"namespace {namespace!r} has {known}"
            if known is not None
            else f"no action produced namespace {namespace!r} yet"
        )
        raise ActionFailed(
            f"variable #{{{namespace}.{key}}} cannot be resolved: {hint}",
            failure_type=FailureType.CONFIGURATION_ERROR,
        )

    return VARIABLE_REF.sub(one, text)
