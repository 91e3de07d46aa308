"""The stack outputs a simulated CloudFormation deploy publishes as its variables.

Layer: execution (the CloudFormation deploy's home, beside :mod:`._deploy`). On AWS a
CloudFormation action's variables are its stack's ``Outputs`` (AWS CloudFormation deploy action
reference, "Output variables"). Locally no stack exists, so each output is worked out from the
template with the run's parameters: the template's defaults, then the ``TemplateConfiguration``
file's ``Parameters``, then ``ParameterOverrides`` (which override the file, as CloudFormation's
"parameter override functions" page says; ``Fn::GetParam`` and ``Fn::GetArtifactAtt`` included),
and the pseudo parameters a local run knows. ``Ref``, ``Fn::Sub``, ``Fn::Join``, ``Fn::Select``,
``Fn::Split``, ``Fn::FindInMap`` and ``Fn::Base64`` are evaluated; what only a real stack knows
(a resource's ``Ref`` or ``Fn::GetAtt``, ``Fn::ImportValue``, ``Fn::GetAZs``, a condition) is
:class:`Unknown`, with the reason, so a later reference to that output fails naming the override
to give (``LocalEmulation(stack_outputs=...)``) instead of reading an empty or made-up value.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from typing import Any, Final

import attrs

from .._base import ActionContext, ActionFailed, FailureType
from ._common import _artifact_file, _load_structured

__all__ = ["Unknown", "stack_outputs", "template_parameters"]

#: The modes whose action publishes the stack's outputs (AWS CloudFormation deploy action reference).
OUTPUT_MODES: Final = frozenset({"CHANGE_SET_EXECUTE", "CHANGE_SET_REPLACE", "CREATE_UPDATE", "REPLACE_ON_FAILURE"})

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


@attrs.frozen
class Unknown:
    """A value only the deployed stack knows: *why* says which function or name it comes from."""

    why: str


Value = str | list[Any] | Unknown


def template_parameters(
    ctx: ActionContext, template: Mapping[str, Any], *, bucket: str | None
) -> dict[str, str | list[str] | Unknown]:
    """The stack's parameter values: defaults < TemplateConfiguration < ParameterOverrides.

    Raises:
        ActionFailed: as CloudFormation refuses the stack: a parameter without a value, or one
            given that the template does not declare.
    """
    declared = template.get("Parameters") or {}
    given: dict[str, Any] = {}
    config = ctx.configuration.get("TemplateConfiguration")
    if config:
        data = _load_structured(_artifact_file(ctx, config, "TemplateConfiguration"))
        params = data.get("Parameters", {}) if isinstance(data, dict) else {}
        if not isinstance(params, dict):
            raise ActionFailed(
                f"TemplateConfiguration {config}: Parameters must be an object of name: value",
                failure_type=FailureType.CONFIGURATION_ERROR,
            )
        given.update(params)
    overrides = ctx.configuration.get("ParameterOverrides")
    if overrides:
        given.update(json.loads(overrides))
    extra = sorted(set(given) - set(declared))
    if extra:
        raise ActionFailed(f"Parameters: {extra} do not exist in the template", failure_type=FailureType.JOB_FAILED)
    out: dict[str, str | list[str] | Unknown] = {}
    missing = []
    for name, spec in declared.items():
        spec = spec if isinstance(spec, dict) else {}
        if name in given:
            raw = _override_value(ctx, given[name], bucket=bucket)
        elif "Default" in spec:
            raw = _text(spec["Default"])
        else:
            missing.append(name)
            continue
        kind = str(spec.get("Type", "String"))
        if isinstance(raw, Unknown):
            out[name] = raw
        elif kind.startswith("AWS::SSM::Parameter::Value"):
            out[name] = Unknown(f"parameter {name} is read from SSM parameter {raw!r} when the stack deploys")
        elif kind == "CommaDelimitedList" or kind.startswith("List<"):
            out[name] = [item.strip() for item in raw.split(",")] if raw else []
        else:
            out[name] = raw
    if missing:
        raise ActionFailed(
            f"Parameters: {missing} must have values (give them in ParameterOverrides or TemplateConfiguration)",
            failure_type=FailureType.JOB_FAILED,
        )
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    return str(value)


def _override_value(ctx: ActionContext, value: Any, *, bucket: str | None) -> str | Unknown:
    """A ParameterOverrides value: text, ``Fn::GetParam`` or ``Fn::GetArtifactAtt``."""
    if isinstance(value, dict) and len(value) == 1:
        (function, argument), *_ = value.items()
        if function == "Fn::GetParam" and isinstance(argument, list) and len(argument) == 3:
            artifact, path, key = (str(a) for a in argument)
            data = _load_structured(_artifact_file(ctx, f"{artifact}::{path}", "ParameterOverrides Fn::GetParam"))
            if not isinstance(data, dict) or key not in data:
                raise ActionFailed(f"Fn::GetParam: {path} in artifact {artifact!r} has no key {key!r}")
            return _text(data[key])
        if function == "Fn::GetArtifactAtt" and isinstance(argument, list) and len(argument) == 2:
            artifact, attribute = (str(a) for a in argument)
            if attribute == "BucketName" and bucket:
                return bucket
            return Unknown(f"Fn::GetArtifactAtt [{artifact}, {attribute}] (where CodePipeline stores the artifact)")
    return _text(value)


@attrs.frozen(kw_only=True)
class _Scope:
    parameters: Mapping[str, Value]
    pseudo: Mapping[str, Value]
    resources: frozenset[str]
    mappings: Mapping[str, Any]


def stack_outputs(
    template: Mapping[str, Any], *, parameters: Mapping[str, Value], pseudo: Mapping[str, Value]
) -> dict[str, str | Unknown]:
    """Each of the template's ``Outputs``: its value, or :class:`Unknown` with the reason."""
    scope = _Scope(
        parameters=parameters,
        pseudo=pseudo,
        resources=frozenset(template.get("Resources") or ()),
        mappings=template.get("Mappings") or {},
    )
    out: dict[str, str | Unknown] = {}
    for name, spec in (template.get("Outputs") or {}).items():
        if not isinstance(spec, dict) or "Value" not in spec:
            raise ActionFailed(f"template Outputs.{name} has no Value", failure_type=FailureType.JOB_FAILED)
        if "Condition" in spec:
            out[name] = Unknown(f"output {name} exists only under condition {spec['Condition']!r}")
            continue
        value = _evaluate(spec["Value"], scope)
        if isinstance(value, list):
            raise ActionFailed(
                f"template Outputs.{name}.Value is a list; an output's value must be a string",
                failure_type=FailureType.JOB_FAILED,
            )
        out[name] = value
    return out


def _evaluate(value: Any, scope: _Scope) -> Value:
    if isinstance(value, dict):
        if len(value) == 1:
            ((function, argument),) = value.items()
            if function == "Ref":
                return _ref(str(argument), scope)
            if function == "Condition" or function.startswith("Fn::"):
                return _function(function, argument, scope)
        return Unknown("an object where a string is expected")
    if isinstance(value, list):
        items = [_evaluate(v, scope) for v in value]
        unknown = next((i for i in items if isinstance(i, Unknown)), None)
        return unknown if unknown is not None else items
    return _text(value)


def _ref(name: str, scope: _Scope) -> Value:
    if name in scope.parameters:
        return scope.parameters[name]
    if name in scope.pseudo:
        return scope.pseudo[name]
    if name in scope.resources:
        return Unknown(f"Ref {name} (the physical id of resource {name})")
    return Unknown(f"Ref {name} (not declared in the template)")


def _function(function: str, argument: Any, scope: _Scope) -> Value:
    if function == "Fn::Sub":
        return _sub(argument, scope)
    if function == "Fn::GetAtt":
        target = ".".join(argument) if isinstance(argument, list) else str(argument)
        return Unknown(f"Fn::GetAtt {target} (an attribute of a deployed resource)")
    if function in ("Fn::Join", "Fn::Select", "Fn::Split", "Fn::FindInMap", "Fn::Base64"):
        evaluated = _evaluate(argument, scope)
        if isinstance(evaluated, Unknown):
            return evaluated
        try:
            return _apply(function, evaluated, scope)
        except (TypeError, ValueError, IndexError, KeyError, AttributeError):
            return Unknown(f"{function} {json.dumps(argument)} (its arguments do not evaluate locally)")
    if function == "Fn::If" or function == "Condition":
        return Unknown(f"{function} {json.dumps(argument)} (conditions are not evaluated for simulated outputs)")
    return Unknown(f"{function} (known only when the stack deploys)")


def _apply(function: str, argument: Any, scope: _Scope) -> Value:
    if function == "Fn::Join":
        delimiter, items = argument
        return str(delimiter).join(str(i) for i in items)
    if function == "Fn::Select":
        index, items = argument
        return items[int(index)]  # type: ignore[no-any-return]
    if function == "Fn::Split":
        delimiter, text = argument
        return str(text).split(str(delimiter))
    if function == "Fn::FindInMap":
        top, second, third = argument[:3]
        return _text(scope.mappings[top][second][third])
    return base64.b64encode(str(argument).encode()).decode()


def _sub(argument: Any, scope: _Scope) -> Value:
    text, names = (argument[0], argument[1]) if isinstance(argument, list) and len(argument) == 2 else (argument, {})
    local = {k: _evaluate(v, scope) for k, v in (names or {}).items()}
    unknown: list[Unknown] = []

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in local:
            value = local[name]
        elif "." in name and name.split(".")[0] in scope.resources:
            value = Unknown(f"Fn::Sub ${{{name}}} (an attribute of a deployed resource)")
        else:
            value = _ref(name, scope)
        if isinstance(value, Unknown):
            unknown.append(value)
            return ""
        return _text(value)

    result = _SUB_VARIABLE.sub(one, str(text))
    return unknown[0] if unknown else result
