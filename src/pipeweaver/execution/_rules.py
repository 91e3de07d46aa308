"""Stage-condition rules evaluated locally: VariableCheck, DeploymentWindow, LambdaInvoke, Commands.

Layer: execution. A rule handler gets a :class:`RuleContext` and returns ``True``/``None``
(the rule passes), ``False`` or a string (it fails, the string says why), or raises
:class:`RuleFailed`. Other rule providers (CloudWatchAlarm, CodeBuild) need AWS; register a
local stand-in with ``LocalExecutor(rules={"CloudWatchAlarm": my_rule})``.
"""

from __future__ import annotations

import calendar
import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, Protocol, final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from .._model import Pipeline, Rule, Stage
from ._shell import Phase, run_phases

__all__ = ["RuleContext", "RuleFailed", "RuleHandler", "builtin_rules", "cron_matches"]


class RuleFailed(Exception):
    """Raised by a rule handler: the rule's check failed, for the reason given.

    .. versionadded:: 0.1.0
    """


@final
@attrs.define(kw_only=True)
class RuleContext:
    """
    What a rule handler sees.

    Attributes:
        condition: ``BEFORE_ENTRY``, ``ON_SUCCESS`` or ``ON_FAILURE``.
        configuration: The rule's configuration with variables resolved.
        now: The evaluation time (UTC), fixed for the whole condition.

    .. versionadded:: 0.1.0
    """

    pipeline: Pipeline
    stage: Stage
    rule: Rule
    condition: str
    execution_id: str
    configuration: Mapping[str, str]
    workdir: Path
    now: datetime
    inputs: Mapping[str, Path] = attrs.field(factory=dict)
    environment: Mapping[str, str] = attrs.field(factory=dict)
    cancel: threading.Event = attrs.field(factory=threading.Event)
    log: Callable[[str], None] = attrs.field(default=lambda line: None)


#: A local rule implementation.
RuleHandler = Callable[[RuleContext], "bool | str | None"]


def _need(ctx: RuleContext, *keys: str) -> list[str]:
    missing = [k for k in keys if k not in ctx.configuration]
    if missing:
        raise RuleFailed(f"rule {ctx.rule.name!r} lacks configuration {missing}")
    return [ctx.configuration[k] for k in keys]


def variable_check(ctx: RuleContext) -> bool | str:
    """``VariableCheck``: compare a resolved variable with a value (EQ, NE, CONTAINS, MATCHES)."""
    variable, value, operator = _need(ctx, "Variable", "Value", "Operator")
    if operator == "EQ":
        ok = variable == value
    elif operator == "NE":
        ok = variable != value
    elif operator == "CONTAINS":
        ok = value in variable
    elif operator == "MATCHES":
        # Java's String.matches is a whole-string match.
        try:
            ok = re.fullmatch(value, variable) is not None
        except re.error as exc:
            raise RuleFailed(f"Value {value!r} is not a valid regular expression: {exc}") from None
    else:
        raise RuleFailed(f"Operator {operator!r} is not one of EQ, NE, CONTAINS, MATCHES")
    return True if ok else f"{variable!r} {operator} {value!r} is false"


_MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}


def _values(expr: str, lo: int, hi: int, names: Mapping[str, int]) -> set[int]:
    out: set[int] = set()
    for part in expr.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
            if step < 1:
                raise ValueError(f"step {step_text!r} must be at least 1")
        if part in ("*", "?"):
            start, end = lo, hi
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = _one(a, names), _one(b, names)
        else:
            start = _one(part, names)
            end = hi if step != 1 else start
        if not (lo <= start <= hi and lo <= end <= hi):
            raise ValueError(f"{part!r} is outside {lo}-{hi}")
        if start <= end:
            out.update(range(start, end + 1, step))
        else:  # wrapping range such as FRI-MON
            out.update(v for i, v in enumerate(list(range(start, hi + 1)) + list(range(lo, end + 1))) if i % step == 0)
    return out


def _one(text: str, names: Mapping[str, int]) -> int:
    upper = text.upper()
    return names[upper] if upper in names else int(text)


def _quartz_dow(moment: datetime) -> int:
    return (moment.isoweekday() % 7) + 1  # SUN=1 .. SAT=7


def _dom_matches(expr: str, moment: datetime) -> bool:
    last = calendar.monthrange(moment.year, moment.month)[1]
    if expr == "L":
        return moment.day == last
    if expr == "LW":
        day = last
        while datetime(moment.year, moment.month, day).isoweekday() > 5:
            day -= 1
        return moment.day == day
    if expr.endswith("W"):
        target = min(int(expr[:-1]), last)
        wd = datetime(moment.year, moment.month, target).isoweekday()
        if wd == 6:
            target = target - 1 if target > 1 else target + 2
        elif wd == 7:
            target = target + 1 if target < last else target - 2
        return moment.day == target
    return moment.day in _values(expr, 1, 31, {})


def _dow_matches(expr: str, moment: datetime) -> bool:
    dow = _quartz_dow(moment)
    if "#" in expr:
        day, nth = expr.split("#", 1)
        return dow == _one(day, _DAYS) and (moment.day - 1) // 7 + 1 == int(nth)
    if expr.endswith("L") and expr != "L":
        last = calendar.monthrange(moment.year, moment.month)[1]
        return dow == _one(expr[:-1], _DAYS) and moment.day + 7 > last
    if expr == "L":
        return dow == 7
    return dow in _values(expr, 1, 7, _DAYS)


def cron_matches(expression: str, moment: datetime) -> bool:
    """
    Whether *moment* falls in the cron window (6 or 7 fields: sec min hour day-of-month month
    day-of-week [year]; ``* , - / ?`` plus ``L``, ``W`` and ``#``; days ``SUN``=1..``SAT``=7).

    Raises:
        ValueError: for a malformed expression, naming the field.
    """
    fields = expression.split()
    if len(fields) not in (6, 7):
        raise ValueError(
            f"cron {expression!r} has {len(fields)} fields; expected 6 or 7 (sec min hour dom month dow [year])"
        )
    names = ("second", "minute", "hour", "day-of-month", "month", "day-of-week", "year")
    try:
        checks = [
            moment.second in _values(fields[0], 0, 59, {}),
            moment.minute in _values(fields[1], 0, 59, {}),
            moment.hour in _values(fields[2], 0, 23, {}),
            moment.month in _values(fields[4], 1, 12, _MONTHS),
        ]
        if len(fields) == 7:
            checks.append(moment.year in _values(fields[6], 1970, 2199, {}))
        dom, dow = fields[3], fields[5]
        if dom != "?":
            checks.append(_dom_matches(dom, moment))
        if dow != "?":
            checks.append(_dow_matches(dow, moment))
    except (ValueError, KeyError) as exc:
        bad = next((n for n, f in zip(names, fields, strict=False) if str(exc).find(f) >= 0), "a field")
        raise ValueError(f"cron {expression!r}: {bad} is malformed ({exc})") from None
    return all(checks)


def _zone(name: str) -> tzinfo:
    if name in ("UTC", "GMT", "Z"):
        return UTC
    m = re.fullmatch(r"(?:UTC|GMT)([+-])(\d{1,2}):?(\d{2})?", name)
    if m:
        delta = timedelta(hours=int(m.group(2)), minutes=int(m.group(3) or 0))
        return timezone(delta if m.group(1) == "+" else -delta)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RuleFailed(f"TimeZone {name!r} is not a known zone (use Region/City, UTC+HH:MM or UTC)") from None


def deployment_window(ctx: RuleContext) -> bool | str:
    """``DeploymentWindow``: passes when now (in ``TimeZone``) matches ``Cron``."""
    (cron,) = _need(ctx, "Cron")
    zone = _zone(ctx.configuration.get("TimeZone", "UTC"))
    local = ctx.now.astimezone(zone)
    try:
        inside = cron_matches(cron, local)
    except ValueError as exc:
        raise RuleFailed(str(exc)) from None
    return True if inside else f"{local.isoformat()} is outside the deployment window {cron!r}"


def commands_rule(ctx: RuleContext) -> bool | str:
    """``Commands`` rule: passes when every command succeeds."""
    if not ctx.rule.commands:
        raise RuleFailed("Commands rule has no commands")
    cwd = next(iter(ctx.inputs.values()), ctx.workdir)
    env = dict(ctx.environment)
    result = run_phases([Phase("build", ctx.rule.commands)], cwd=cwd, env=env, log=ctx.log, cancel=ctx.cancel)
    return True if result.returncode == 0 else result.failure()


class FunctionLookup(Protocol):
    """**Protocol:** where LambdaInvoke rules find the callable standing in for a function (the executor)."""

    def function_for(self, name: str) -> Callable[..., Any]:
        """The Python callable standing in for Lambda function *name*."""
        ...


def builtin_rules(executor: FunctionLookup) -> dict[str, RuleHandler]:
    """Rule provider -> local handler, bound to *executor* (LambdaInvoke uses its functions)."""
    from ._handlers import call_function

    def lambda_invoke(ctx: RuleContext) -> bool | str:
        (name,) = _need(ctx, "FunctionName")
        function = executor.function_for(name)
        event: dict[str, Any] = {
            "CodePipeline.job": {
                "id": ctx.execution_id,
                "accountId": "000000000000",
                "data": {"actionConfiguration": {"configuration": dict(ctx.configuration)}},
            }
        }
        try:
            value = call_function(function, event)
        except Exception as exc:
            return f"function {name} failed: {type(exc).__name__}: {exc}"
        return value is not False

    return {
        "VariableCheck": variable_check,
        "DeploymentWindow": deployment_window,
        "LambdaInvoke": lambda_invoke,
        "Commands": commands_rule,
    }
