"""Rules of stage conditions (P12-P15).

The results each condition kind allows, rollback, and each rule's type, configuration and
references.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .. import _catalog
from .._cron import CronError, DeploymentWindowCron
from .._shapes import join_key
from ._actions import _consume
from ._context import _artifact_key, _Context, _dict, _did_you_mean, _is_literal, _list, _str
from ._registry import _UG, reports, rule_info
from ._variables import _references

#: A position a consumer cannot see past: (stage index, runOrder); producers must be strictly lower.
_AFTER_STAGE: Final = 10**6


# ---------------------------------------------------------------------------------------------
# stage conditions (P12-P15)

_ALLOWED_RESULTS: Final = {
    "beforeEntry": ("FAIL", "SKIP"),
    "onSuccess": ("ROLLBACK", "FAIL"),
    "onFailure": ("ROLLBACK",),
}


@reports(
    rule_info(
        "PW501",
        "error",
        "Result not allowed for this condition",
        "beforeEntry: FAIL or SKIP; onSuccess: ROLLBACK or FAIL; onFailure: ROLLBACK (or RETRY without conditions).",
        '"beforeEntry": {"conditions": [{"result": "ROLLBACK", ...}]}',
        _UG + "stage-conditions.html",
    ),
    rule_info(
        "PW503",
        "error",
        "Automatic retry together with onFailure conditions",
        "P13: onFailure result RETRY cannot be combined with onFailure conditions.",
        '"onFailure": {"result": "RETRY", "conditions": [...]}',
        _UG + "stage-retry.html",
    ),
    rule_info(
        "PW505",
        "error",
        "Condition without rules",
        "P15: each condition has 1-5 rules.",
        '"onSuccess": {"conditions": [{"result": "FAIL"}]}',
        _UG + "stage-conditions.html",
    ),
)
def _condition_rules(ctx: _Context) -> None:
    parallel = ctx.decl.get("executionMode") == "PARALLEL"
    for si, spath, stage, sname in ctx.stages:
        failure = stage.get("onFailure")
        if isinstance(failure, Mapping):
            result = failure.get("result")
            fpath = f"{spath}.onFailure"
            if isinstance(result, str) and result not in ("ROLLBACK", "RETRY"):
                ctx.add(
                    "PW501",
                    f"{fpath}.result",
                    f"onFailure result {result!r} is not allowed; use ROLLBACK or RETRY",
                    "leave result out to let the stage simply fail",
                )
            if result == "RETRY" and _list(failure.get("conditions")):
                ctx.add(
                    "PW503",
                    f"{fpath}.conditions",
                    "automatic retry (result RETRY) cannot be combined with onFailure conditions",
                    "remove the conditions or use result ROLLBACK",
                )
            if result == "ROLLBACK":
                _rollback(ctx, f"{fpath}.result", si, parallel)
        for kind in ("onFailure", "onSuccess", "beforeEntry"):
            block = stage.get(kind)
            if not isinstance(block, Mapping):
                continue
            for ci, cond in enumerate(_list(block.get("conditions"))):
                cond = _dict(cond)
                cpath = f"{spath}.{kind}.conditions[{ci}]"
                result = cond.get("result")
                if isinstance(result, str) and result not in _ALLOWED_RESULTS[kind]:
                    ctx.add(
                        "PW501",
                        f"{cpath}.result",
                        f"{kind} condition result {result!r} is not allowed; use {' or '.join(_ALLOWED_RESULTS[kind])}",
                        None,
                    )
                if result == "ROLLBACK":
                    _rollback(ctx, f"{cpath}.result", si, parallel)
                rules = cond.get("rules")
                if rules is None:
                    ctx.add(
                        "PW505",
                        f"{cpath}.rules",
                        f"the {kind} condition of stage {sname!r} has no rules",
                        "add 1-5 rules",
                    )
                # beforeEntry rules run before any action of the stage; the others after them
                position = (si, 0) if kind == "beforeEntry" else (si, _AFTER_STAGE)
                for ri, rule in enumerate(_list(rules)):
                    _rule(ctx, _dict(rule), f"{cpath}.rules[{ri}]", kind, result, position)


@reports(
    rule_info(
        "PW502",
        "error",
        "Rollback in a PARALLEL pipeline",
        "P12: PARALLEL execution mode does not support rollback.",
        '{"executionMode": "PARALLEL", ... "onFailure": {"result": "ROLLBACK"}}',
        _UG + "execution-modes.html",
    ),
    rule_info(
        "PW506",
        "error",
        "Rollback on the first stage",
        "The source stage cannot be rolled back.",
        'stages[0]: {"onFailure": {"result": "ROLLBACK"}}',
        _UG + "stage-rollback.html",
    ),
)
def _rollback(ctx: _Context, path: str, stage: int, parallel: bool) -> None:
    if parallel:
        ctx.add(
            "PW502",
            path,
            "rollback is not available in PARALLEL execution mode",
            "use executionMode QUEUED or SUPERSEDED, or result FAIL",
        )
    if stage == 0:
        ctx.add("PW506", path, "the first (source) stage cannot be rolled back", "remove the rollback")


@reports(
    rule_info(
        "PW504",
        "error",
        "SKIP with a rule that cannot skip",
        "P14: a beforeEntry SKIP condition may only use LambdaInvoke or VariableCheck rules.",
        '"beforeEntry": {"conditions": [{"result": "SKIP", "rules": [{"ruleTypeId": {"provider": '
        '"CloudWatchAlarm"}}]}]}',
        _UG + "stage-conditions.html",
    ),
    rule_info(
        "PW508",
        "error",
        "Unknown rule type",
        "Rule providers are CloudWatchAlarm, DeploymentWindow, LambdaInvoke, VariableCheck, Commands, CodeBuild.",
        '"ruleTypeId": {"category": "Rule", "provider": "VariableChek"}',
        _UG + "rule-reference.html",
    ),
    rule_info(
        "PW509",
        "error",
        "Rule configuration key missing",
        "Each rule type has required settings.",
        '{"ruleTypeId": {"provider": "CloudWatchAlarm"}, "configuration": {}}',
        _UG + "rule-reference.html",
    ),
    rule_info(
        "PW510",
        "error",
        "Unknown rule configuration key",
        "Rule types accept only their documented settings.",
        '{"ruleTypeId": {"provider": "DeploymentWindow"}, "configuration": {"Cron": "...", "Zone": "UTC"}}',
        _UG + "rule-reference.html",
    ),
    rule_info(
        "PW511",
        "error",
        "Rule commands misused",
        "The Commands rule needs commands; other rule types take none.",
        '{"ruleTypeId": {"provider": "Commands"}}',
        _UG + "rule-reference-Commands.html",
    ),
    rule_info(
        "PW512",
        "error",
        "DeploymentWindow cron malformed",
        "Cron is AWS's dialect: 6 or 7 fields starting with seconds; ? only in a day field; L, W, # as documented.",
        '{"ruleTypeId": {"provider": "DeploymentWindow"}, "configuration": {"Cron": "0 9 ? * MON-FRI *"}}',
        _UG + "rule-reference-DeploymentWindow.html",
    ),
)
def _rule(
    ctx: _Context,
    rule: Mapping[str, Any],
    path: str,
    kind: str,
    result: Any,
    position: tuple[int, int],
) -> None:
    provider = _str(_dict(rule.get("ruleTypeId")).get("provider"))
    config = _dict(rule.get("configuration"))
    spec = _catalog.lookup_rule(provider) if provider is not None else None
    if provider is not None and spec is None:
        ctx.add(
            "PW508",
            f"{path}.ruleTypeId.provider",
            f"there is no rule type {provider!r}",
            _did_you_mean(provider, _catalog.RULE_TYPES, f"rule types: {', '.join(_catalog.RULE_TYPES)}"),
        )
    if spec is not None:
        if kind == "beforeEntry" and result == "SKIP" and not spec.can_skip:
            ctx.add(
                "PW504",
                f"{path}.ruleTypeId.provider",
                f"a SKIP condition cannot use a {provider} rule; only LambdaInvoke and VariableCheck rules can skip",
                "use result FAIL, or a VariableCheck/LambdaInvoke rule",
            )
        for key in spec.required:
            if key not in config:
                ctx.add(
                    "PW509", join_key(f"{path}.configuration", key), f"{provider} rule needs {key!r}", f"add {key!r}"
                )
        if not spec.open_configuration:
            for key in config:
                if isinstance(key, str) and key not in spec.keys:
                    ctx.add(
                        "PW510",
                        join_key(f"{path}.configuration", key),
                        f"{provider} rule has unknown configuration {key!r}",
                        _did_you_mean(key, spec.keys, f"allowed keys: {', '.join(sorted(spec.keys)) or '(none)'}"),
                    )
        for key, allowed in spec.allowed.items():
            value = config.get(key)
            if _is_literal(value) and value not in allowed:
                ctx.add(
                    "PW213",
                    join_key(f"{path}.configuration", key),
                    f"{key} is {value!r}; allowed values are {', '.join(allowed)}",
                    _did_you_mean(str(value), allowed, None),
                )
        for key in spec.cron_keys:
            cron = config.get(key)
            if not (isinstance(cron, str) and _is_literal(cron)):
                continue
            try:
                DeploymentWindowCron.parse(cron)
            except CronError as exc:
                ctx.add(
                    "PW512",
                    join_key(f"{path}.configuration", key),
                    str(exc),
                    "write 'seconds minutes hours day-of-month month day-of-week [year]', "
                    "e.g. '* * 9-17 ? * MON-FRI' for working hours",
                )
        has_commands = rule.get("commands") is not None
        if spec.needs_commands and not has_commands:
            ctx.add("PW511", f"{path}.commands", "the Commands rule needs a commands list", 'add "commands": [...]')
        elif has_commands and not spec.needs_commands:
            ctx.add("PW511", f"{path}.commands", f"a {provider} rule takes no commands", "remove commands")
    for ii, item in enumerate(_list(rule.get("inputArtifacts"))):
        name = _artifact_key(_dict(item).get("name"))
        if name is not None:
            _consume(ctx, name, f"{path}.inputArtifacts[{ii}].name", position[0], position[1], "this rule")
    for key, value in config.items():
        if isinstance(value, str) and isinstance(key, str) and "#{" in value:
            _references(ctx, join_key(f"{path}.configuration", key), value, False, *position, None)
    for i, command in enumerate(_list(rule.get("commands"))):
        if isinstance(command, str) and "#{" in command:
            _references(ctx, f"{path}.commands[{i}]", command, True, *position, None)
