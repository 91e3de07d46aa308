"""What the local executor checks before it runs anything, and the definition it stores.

Layer: execution. A pipeline that cannot run locally is refused as a whole, every problem named
with its fix (a missing handler, source, function, rule handler, variable, or an unresolved
CloudFormation expression), before any history is written.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Mapping
from typing import Any

from .._codec import choose_branches, to_codepipeline
from .._masking import MASK, SECRET_CONFIGURATION_KEYS, is_secret
from .._model import Action, Expression, Pipeline, Stage
from .._shapes import shape_limits
from .._validate import lint
from ..errors import ExecutionError, HandlerNotFoundError, SynthesisError, ValidationError
from ._base import ActionFailed
from ._handlers import Builtins, HandlerFn

__all__ = ["definition", "deployed", "missing_message", "preflight"]


def _keep(expr: Expression, _path: str) -> Any:
    return expr.raw


def deployed(pipeline: Pipeline) -> Pipeline:
    """
    *pipeline* with the conditional elements of an imported template chosen by its parameter
    defaults (``pipeweaver run --parameter`` and ``synth.resolve_parameters`` choose them by the
    values given, before this).

    Raises:
        ExecutionError: naming the condition and the parameter without a value.
    """
    try:
        return choose_branches(
            pipeline, way_out="CLI: --parameter NAME=VALUE; Python: synth.resolve_parameters(pipeline, {...}) first"
        )
    except SynthesisError as exc:
        raise ExecutionError(f"the pipeline cannot run locally: {exc}") from None


def definition(pipeline: Pipeline) -> dict[str, Any]:
    """The pipeline as the history stores it (and compares it on retry and rollback)."""
    data = to_codepipeline(pipeline, resolve=_keep)
    # Stored in the history: secret configuration values become ****, as GetPipeline shows
    # them (no local handler reads them; found by tests/security/test_secrets.py), and so do
    # dynamic references to secrets.
    for stage in data["stages"]:
        for action in stage["actions"]:
            configuration = action.get("configuration") or {}
            for key, value in configuration.items():
                if key in SECRET_CONFIGURATION_KEYS or is_secret(key, value):
                    configuration[key] = MASK
    return data


def preflight(
    pipeline: Pipeline,
    variables: Mapping[str, str],
    *,
    validate: bool,
    handler_for: Callable[[Stage, Action], HandlerFn],
    rule_providers: Collection[str],
    source_for: Callable[[str, str], Any],
    function_for: Callable[[str], Any],
    alarm_state_for: Callable[[str], Any] = lambda name: None,
    own_rules: Collection[str] = (),
) -> dict[str, str]:
    """Refuse *pipeline* if it cannot run locally; return the values of its variables.

    *own_rules* are the rule providers the user gave handlers for: the built-in rules' needs
    (a ``LambdaInvoke`` rule's function, a ``CloudWatchAlarm`` rule's alarm state) are checked
    only for the others.
    """
    if validate:
        issues = lint(pipeline)
        errors = [i for i in issues if i.is_error]
        if errors:
            raise ValidationError(f"pipeline {pipeline.name!s} is not valid; nothing was run", issues)
    missing: list[tuple[Stage, Action]] = []
    problems: list[str] = []
    for stage, action in pipeline.actions():
        try:
            handler = handler_for(stage, action)
        except HandlerNotFoundError:
            missing.append((stage, action))
            continue
        owner = getattr(handler, "__self__", None)
        if isinstance(owner, Builtins):
            problems.extend(_builtin_needs(stage, action, handler, source_for, function_for))
        for key, value in action.configuration.items():
            if isinstance(value, Expression):
                problems.append(
                    f"{stage.name}/{action.name}: configuration {key} is the CloudFormation expression "
                    f"{value}; give it a value to run locally ({_parameter_hint(value)})"
                )
    for stage in pipeline.stages:
        for kind, block in (
            ("beforeEntry", stage.before_entry),
            ("onSuccess", stage.on_success),
            ("onFailure", stage.on_failure),
        ):
            for condition in getattr(block, "conditions", ()) or ():
                for rule in condition.rules:
                    provider = rule.rule_type.provider
                    if provider not in rule_providers:
                        problems.append(
                            f"{stage.name} {kind} rule {rule.name}: no local handler for rule provider {provider}; "
                            f"give one with --rule {provider}=module:callable (pipeweaver run), "
                            f"LOCAL = LocalEmulation(rules={{{provider!r}: my_rule}}) in the pipeline "
                            f"file, or LocalExecutor(rules={{{provider!r}: my_rule}})"
                        )
                    elif provider not in own_rules:
                        where = f"{stage.name} {kind} rule {rule.name}"
                        problems.extend(_rule_needs(where, provider, rule.configuration, function_for, alarm_state_for))
    if missing:
        raise HandlerNotFoundError(missing_message(missing))
    declared = {v.name: v for v in pipeline.variables}
    unknown = sorted(set(variables) - set(declared))
    if unknown:
        near = [m for name in unknown for m in difflib.get_close_matches(name, sorted(declared), n=1)]
        hint = f"; did you mean {', '.join(repr(m) for m in near)}?" if near else ""
        problems.append(f"variables {unknown} are not declared by the pipeline (declared: {sorted(declared)}){hint}")
    values: dict[str, str] = {}
    bounds = shape_limits("PipelineVariableValue")
    low, high = int(bounds.get("min", 1)), int(bounds.get("max", 1000))
    for name, var in declared.items():
        if name in variables:
            values[name] = str(variables[name])
            if not low <= len(values[name]) <= high:
                # StartPipelineExecution refuses it with a ValidationException before anything runs.
                problems.append(
                    f"variable {name!r} is {len(values[name])} characters long; AWS takes {low}-{high} "
                    f"(PipelineVariableValue), so StartPipelineExecution would refuse it"
                )
        elif isinstance(var.default_value, str):
            values[name] = var.default_value
        else:
            problems.append(
                f"variable {name!r} has no default value; give one with --var {name}=VALUE (pipeweaver run) "
                f"or variables={{{name!r}: '...'}}"
            )
    if problems:
        raise ExecutionError("the pipeline cannot run locally:\n" + "\n".join(f"  - {p}" for p in problems))
    return values


def _builtin_needs(
    stage: Stage,
    action: Action,
    handler: Any,
    source_for: Callable[[str, str], Any],
    function_for: Callable[[str], Any],
) -> list[str]:
    name = getattr(handler, "__name__", "")
    where = f"{stage.name}/{action.name}"
    if name in ("git_source", "s3_source", "ecr_source") and source_for(stage.name, action.name) is None:
        return [
            f"{where}: no local source; give one with --source {action.name}=PATH (pipeweaver run), "
            f"LOCAL = LocalEmulation(sources={{{action.name!r}: 'path/to/repo'}}) in the pipeline file, "
            f"or LocalExecutor(sources={{{action.name!r}: 'path/to/repo'}})"
        ]
    if name == "lambda_invoke":
        fn = action.configuration.get("FunctionName")
        if isinstance(fn, str) and "#{" not in fn:
            try:
                function_for(fn)
            except ActionFailed as exc:
                return [f"{where}: {exc.message}"]
    return []


def _rule_needs(
    where: str,
    provider: str,
    configuration: Mapping[str, Any],
    function_for: Callable[[str], Any],
    alarm_state_for: Callable[[str], Any],
) -> list[str]:
    """What a built-in rule needs from the emulation and was not given (a name holding a
    variable is known only when the rule runs, so it is checked then)."""
    if provider == "LambdaInvoke":
        fn = configuration.get("FunctionName")
        if isinstance(fn, str) and "#{" not in fn:
            try:
                function_for(fn)
            except ActionFailed as exc:
                return [f"{where}: {exc.message}"]
    if provider == "CloudWatchAlarm":
        alarm = configuration.get("AlarmName")
        if isinstance(alarm, str) and "#{" not in alarm and alarm_state_for(alarm) is None:
            return [
                f"{where}: no state given for CloudWatch alarm {alarm!r}, which a local run cannot read; give it "
                f"with LocalExecutor(alarm_states={{{alarm!r}: 'OK'}}), LocalEmulation(alarm_states=...) or "
                f"pipeweaver run --alarm {alarm}=OK"
            ]
    return []


def _parameter_hint(value: Expression) -> str:
    raw = value.raw
    if isinstance(raw, Mapping) and set(raw) == {"Ref"} and isinstance(raw["Ref"], str):
        name = raw["Ref"]
        return f"CLI: --parameter {name}=VALUE; Python: synth.resolve_parameters(pipeline, {{{name!r}: ...}})"
    return "CLI: --parameter NAME=VALUE for the names it uses; Python: synth.resolve_parameters"


def missing_message(missing: list[tuple[Stage, Action]]) -> str:
    """Name each action without a handler, with how to register one."""
    lines = [f"{len(missing)} action(s) have no local handler; nothing was run:"]
    for stage, action in missing:
        t = action.action_type
        key = f"{t.category.value}/{t.owner.value}/{t.provider}/{t.version}"
        lines.append(
            f"  - {stage.name}/{action.name} ({t}): give one with --handler {key}=module:callable "
            f"(pipeweaver run), LOCAL = LocalEmulation(handlers={{{key!r}: my_handler}}) in the pipeline file, "
            f"or LocalExecutor(handlers={{{key!r}: my_handler}}); "
            f"'{stage.name}/{action.name}' as the key covers this action only"
        )
    return "\n".join(lines)
