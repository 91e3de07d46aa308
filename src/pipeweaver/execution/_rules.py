"""Stage-condition rules evaluated locally: VariableCheck, DeploymentWindow, LambdaInvoke, Commands
and CloudWatchAlarm (on alarm states the user gives).

Layer: execution. A rule handler gets a :class:`RuleContext` and returns ``True``/``None``
(the rule passes), ``False`` or a string (it fails, the string says why), or raises
:class:`RuleFailed`. CodeBuild rules need AWS; register a local stand-in with
``LocalExecutor(rules={"CodeBuild": my_rule})``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from .._cron import DeploymentWindowCron, cron_matches
from .._model import Pipeline, Rule, Stage
from ._clock import Clock, SystemClock
from ._shell import Phase, run_phases

if TYPE_CHECKING:
    from ._handlers import InputOrigin

__all__ = ["ALARM_STATES", "AlarmState", "RuleContext", "RuleFailed", "RuleHandler", "builtin_rules", "cron_matches"]


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


def deployment_window(ctx: RuleContext, clock: Clock | None = None) -> bool | str:
    """``DeploymentWindow``: passes once now (in ``TimeZone``) is inside the ``Cron`` window.

    Outside the window the rule waits for it to open, reading and waiting on the engine's
    *clock* ("Rule reference: DeploymentWindow": the deployment is allowed at the times the
    expression defines). A window that never opens again (its last year is past) fails at once.
    """
    (cron,) = _need(ctx, "Cron")
    zone = _zone(ctx.configuration.get("TimeZone", "UTC"))
    try:
        window = DeploymentWindowCron.parse(cron)
    except ValueError as exc:
        raise RuleFailed(str(exc)) from None
    now = ctx.now
    while True:
        local = now.astimezone(zone)
        if window.matches(local):
            return True
        opens = window.next_open(local)
        if opens is None:
            return f"{local.isoformat()} is outside the deployment window {cron!r}, which does not open again"
        if clock is None:
            return f"{local.isoformat()} is outside the deployment window {cron!r} (it opens at {opens.isoformat()})"
        ctx.log(f"outside the deployment window {cron!r} at {local.isoformat()}; waiting until {opens.isoformat()}")
        if clock.wait(ctx.cancel, max((opens - local).total_seconds(), 0.001)):
            return f"stopped while waiting for the deployment window {cron!r} to open at {opens.isoformat()}"
        now = clock.now()


def commands_rule(ctx: RuleContext) -> bool | str:
    """``Commands`` rule: passes when every command succeeds."""
    if not ctx.rule.commands:
        raise RuleFailed("Commands rule has no commands")
    cwd = next(iter(ctx.inputs.values()), ctx.workdir)
    env = dict(ctx.environment)
    result = run_phases([Phase("build", ctx.rule.commands)], cwd=cwd, env=env, log=ctx.log, cancel=ctx.cancel)
    return True if result.returncode == 0 else result.failure()


#: CloudWatch alarm states ("Rule reference: CloudWatchAlarm", AlarmStates).
ALARM_STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")

#: A CloudWatch alarm's state as the user gives it: one state, or a callable read each time.
AlarmState = str | Callable[[], str]

#: How often a rule waiting out its WaitTime reads a changing alarm state again (seconds).
ALARM_POLL_SECONDS = 0.5


def _alarm_state(name: str, read: Callable[[], str]) -> str:
    state = read()
    if state not in ALARM_STATES:
        raise RuleFailed(f"the state given for alarm {name!r} is {state!r}, not one of {', '.join(ALARM_STATES)}")
    return state


def cloudwatch_alarm(ctx: RuleContext, given: AlarmState | None, clock: Clock | None = None) -> bool | str:
    """``CloudWatchAlarm``: fails while the alarm is in one of ``AlarmStates`` (``ALARM`` when not
    set), after waiting up to ``WaitTime`` minutes for it to leave them ("Rule reference:
    CloudWatchAlarm").

    A local run cannot read CloudWatch: the state is the one *given* to the executor
    (``alarm_states``), and the rule's log says it was simulated. A callable state is read again
    while the rule waits (on the engine's *clock*); a fixed one cannot change, so it decides at once.
    """
    (name,) = _need(ctx, "AlarmName")
    monitored = [s.strip() for s in ctx.configuration.get("AlarmStates", "ALARM").split(",") if s.strip()]
    unknown = [s for s in monitored if s not in ALARM_STATES]
    if unknown or not monitored:
        raise RuleFailed(f"AlarmStates {unknown or monitored} must be among {', '.join(ALARM_STATES)}")
    try:
        wait = float(ctx.configuration.get("WaitTime", "0") or 0)
    except ValueError:
        raise RuleFailed(f"WaitTime {ctx.configuration['WaitTime']!r} is not a number of minutes") from None
    if given is None:
        raise RuleFailed(
            f"no state given for CloudWatch alarm {name!r}, which a local run cannot read; give it with "
            f"LocalExecutor(alarm_states={{{name!r}: 'OK'}}), LocalEmulation(alarm_states=...) or "
            f"pipeweaver run --alarm {name}=OK"
        )
    read: Callable[[], str] = given if callable(given) else (lambda: given)
    state = _alarm_state(name, read)
    ctx.log(f"SIMULATED: alarm {name} is {state} (given in alarm_states); the rule fails in {monitored}")
    if state not in monitored:
        return True
    if wait > 0 and callable(given):
        clock = clock or SystemClock()
        deadline = clock.monotonic() + wait * 60
        while (left := deadline - clock.monotonic()) > 0:
            if clock.wait(ctx.cancel, min(ALARM_POLL_SECONDS, left)):
                return f"stopped while waiting for alarm {name} to leave {state}"
            state = _alarm_state(name, read)
            if state not in monitored:
                ctx.log(f"SIMULATED: alarm {name} changed to {state} within WaitTime")
                return True
        return f"alarm {name} is {state}, one of the monitored states {monitored}, after waiting {wait:g} minutes"
    fixed = " (a fixed state given in alarm_states cannot change within WaitTime)" if wait > 0 else ""
    return f"alarm {name} is {state}, one of the monitored states {monitored}{fixed}"


class FunctionLookup(Protocol):
    """**Protocol:** where rules find their local stand-ins (the ``Emulator``): Lambda functions, alarm states."""

    def function_for(self, name: str) -> Callable[..., Any]:
        """The Python callable standing in for Lambda function *name*."""
        ...

    def alarm_state_for(self, name: str) -> AlarmState | None:
        """The state given for CloudWatch alarm *name*, if any."""
        ...

    def input_origin(self, ctx: RuleContext, artifact: str) -> InputOrigin:
        """Where input artifact *artifact* of the rule came from (its source revision)."""
        ...


def lambda_invoke_rule(ctx: RuleContext, executor: FunctionLookup) -> bool | str:
    """``LambdaInvoke``: the function's job result decides the rule ("Rule reference: LambdaInvoke").

    The function gets the job event a Lambda invoke action's function gets (the rule's
    ``FunctionName`` and ``UserParameters``, its input artifacts with their source revisions)
    and reports through CodePipeline's job API: ``PutJobSuccessResult`` passes the rule,
    ``PutJobFailureResult`` fails it with its message, and a function that reports nothing fails
    it as the timeout it would meet on AWS. Its return value decides nothing.
    """
    from ._base import ActionFailed
    from ._handlers._invoke import JobInputs, run_job

    (name,) = _need(ctx, "FunctionName")
    try:
        function = executor.function_for(name)
        what = JobInputs(
            pipeline=ctx.pipeline,
            region=ctx.rule.region,
            configuration=ctx.configuration,
            inputs=ctx.inputs,
            revisions={artifact: executor.input_origin(ctx, artifact).revision for artifact in ctx.inputs},
        )
        report = run_job(function, name, what, scratch=ctx.workdir / "job", log=ctx.log, waiter="rule")
    except ActionFailed as exc:
        return exc.message
    if not report.succeeded:
        return report.message or f"function {name} put a failure result"
    if report.continuation_token is not None:
        # The rule reference documents no continuation for rules: one invocation decides.
        return (
            f"function {name} put a continuationToken, which a LambdaInvoke rule does not take; "
            "report the rule's result (PutJobSuccessResult without a token, or PutJobFailureResult) in one invocation"
        )
    if report.output_variables:
        ctx.log(f"function {name} put outputVariables {sorted(report.output_variables)}; a rule publishes no variables")
    return True


def builtin_rules(executor: FunctionLookup, clock: Clock | None = None) -> dict[str, RuleHandler]:
    """Rule provider -> local handler, bound to *executor* (LambdaInvoke uses its functions,
    CloudWatchAlarm its alarm states) and the engine's *clock* (a rule that waits waits on it)."""

    def lambda_invoke(ctx: RuleContext) -> bool | str:
        return lambda_invoke_rule(ctx, executor)

    return {
        "VariableCheck": variable_check,
        "DeploymentWindow": lambda ctx: deployment_window(ctx, clock),
        "LambdaInvoke": lambda_invoke,
        "Commands": commands_rule,
        "CloudWatchAlarm": lambda ctx: cloudwatch_alarm(
            ctx, executor.alarm_state_for(ctx.configuration.get("AlarmName", "")), clock
        ),
    }
