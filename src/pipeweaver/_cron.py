"""Cron: the two dialects pipeweaver reads, the conversion between them, and their one error.

Layer: names (imports :mod:`pipeweaver.errors` only), so the trigger logic, the local engine's
``DeploymentWindow`` rule and the event wiring of :mod:`pipeweaver.synth` share it.

**Classic cron** (:class:`CronSchedule`) is what people write for ``watch --schedule`` and
``EventWiring(schedule=...)``: five fields, ``minute hour day-of-month month day-of-week``,
with ``*``, lists, ranges, steps and month/day names (any case); a range must not run
backwards. Days of the week are numbered as in Vixie cron: **Sunday is 0 (or 7)**, Monday 1,
..., Saturday 6. When both day fields are restricted a day matches either.

**AWS cron** is the dialect of AWS's own ``cron(...)`` expressions: EventBridge Scheduler's
six fields (``minute hour day-of-month month day-of-week year``) and the ``DeploymentWindow``
stage-condition rule's ``Cron`` (``second minute hour day-of-month month day-of-week
[year]``; reference §3.3). Days of the week are numbered as in Quartz: **Sunday is 1**,
Monday 2, ..., Saturday 7 (``SUN``-``SAT``); ``?`` means "no value" in a day field and ``L``,
``W`` and ``#`` pick the last day, the nearest weekday and the nth weekday of a month.
:func:`cron_matches` evaluates a ``DeploymentWindow`` expression; :func:`aws_cron` writes a
classic expression as EventBridge Scheduler's ``cron(...)``.

Every malformed expression raises :class:`CronError`, whichever dialect it is in; its
``field`` names the setting that held it (``"schedule"`` or ``"Cron"``).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Final, final

import attrs

from ._public import publish
from .errors import DefinitionError, SynthesisError

__all__ = ["CronError", "CronSchedule", "aws_cron", "cron_matches"]


class CronError(DefinitionError):
    """
    A cron expression its dialect does not accept (or, for a schedule, one that never fires).

    A :class:`~pipeweaver.errors.DefinitionError` (so a ``ValueError``): ``field`` is
    ``"schedule"`` for classic cron and ``"Cron"`` for a ``DeploymentWindow`` rule, ``value``
    the expression and ``rule`` what is wrong with it.

    .. versionadded:: 0.1.0
    """

    def __init__(self, field: str, expression: str, rule: str, *, message: str | None = None) -> None:
        super().__init__(field, expression, rule)
        if message is not None:
            # The DeploymentWindow rule's failure reads as a sentence about the cron, which is
            # what the execution record shows.
            self.args = (message,)


_MONTH_NAMES: Final = tuple(name for name in calendar.month_abbr if name)
_DAY_NAMES: Final = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


# ---------------------------------------------------------------------------------------------
# classic cron (Sunday = 0 or 7)

_MONTHS = {name.lower(): i for i, name in enumerate(_MONTH_NAMES, start=1)}
_DAYS = {name.lower(): i for i, name in enumerate(_DAY_NAMES)}
_FieldSpec = tuple[str, int, int, Mapping[str, int]]
_FIELDS: tuple[_FieldSpec, ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
)
_DOW: _FieldSpec = ("day of week", 0, 7, _DAYS)


def _cron_error(expression: str, problem: str) -> CronError:
    return CronError(
        "schedule",
        expression,
        f"{problem}; expected five fields 'minute hour day-of-month month day-of-week', e.g. '*/15 9-17 * * MON-FRI'",
    )


def _cron_field(expression: str, text: str, spec: _FieldSpec) -> frozenset[int]:
    name, low, high, names = spec

    def number(token: str) -> int:
        value = names.get(token.lower()) if names else None
        if value is None:
            if not token.isdigit():
                raise _cron_error(expression, f"{name} field has {token!r}, which is not a number or name")
            value = int(token)
        if not low <= value <= high:
            raise _cron_error(expression, f"{name} {value} is outside {low}-{high}")
        return value

    values: set[int] = set()
    for part in text.split(","):
        if not part:
            raise _cron_error(expression, f"{name} field has an empty list item")
        body, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise _cron_error(expression, f"{name} step {step_text!r} must be a positive number")
            step = int(step_text)
        if body == "*":
            start, end = low, high
        elif "-" in body:
            a, _, b = body.partition("-")
            start, end = number(a), number(b)
            if start > end:
                raise _cron_error(expression, f"{name} range {body!r} runs backwards")
        else:
            start = number(body)
            end = high if step_text else start
        values.update(range(start, end + 1, step))
    return frozenset(values)


@final
@attrs.frozen
class CronSchedule:
    """
    A classic five-field cron schedule (UTC unless the datetimes given carry another zone).

    .. versionadded:: 0.1.0
    """

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    #: Days of the week, Sunday = 0 (a 7 in the expression is stored as 0).
    weekdays: frozenset[int]
    days_restricted: bool
    weekdays_restricted: bool

    @classmethod
    def parse(cls, expression: str) -> CronSchedule:
        """
        Parse ``minute hour day-of-month month day-of-week``.

        Raises:
            CronError: naming the field and what is wrong with it.
        """
        fields = expression.split()
        if len(fields) != 5:
            raise _cron_error(expression, f"found {len(fields)} field(s)")
        minute, hour, dom, month = (_cron_field(expression, f, s) for f, s in zip(fields[:4], _FIELDS, strict=True))
        # 7 is Sunday too.
        dow = frozenset(d % 7 for d in _cron_field(expression, fields[4], _DOW))
        return cls(
            expression=expression,
            minutes=minute,
            hours=hour,
            days=dom,
            months=month,
            weekdays=dow,
            days_restricted=not fields[2].startswith("*"),
            weekdays_restricted=not fields[4].startswith("*"),
        )

    def _day_matches(self, moment: datetime) -> bool:
        dom = moment.day in self.days
        dow = (moment.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return dom or dow
        return dom and dow

    def matches(self, moment: datetime) -> bool:
        """Whether the schedule fires in the minute containing *moment*."""
        return (
            moment.minute in self.minutes
            and moment.hour in self.hours
            and moment.month in self.months
            and self._day_matches(moment)
        )

    def next_after(self, moment: datetime) -> datetime:
        """
        The first firing minute strictly after *moment*.

        Raises:
            CronError: when the schedule never fires (e.g. ``0 0 31 2 *``).
        """
        t = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = t + timedelta(days=366 * 5)
        while t < limit:
            if t.month not in self.months:
                year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
                t = t.replace(year=year, month=month, day=1, hour=0, minute=0)
                continue
            if not self._day_matches(t):
                t = t.replace(hour=0, minute=0) + timedelta(days=1)
                continue
            if t.hour not in self.hours:
                t = t.replace(minute=0) + timedelta(hours=1)
                continue
            if t.minute not in self.minutes:
                t += timedelta(minutes=1)
                continue
            return t
        raise _cron_error(self.expression, "the schedule never fires")


# ---------------------------------------------------------------------------------------------
# AWS cron (Sunday = 1)

_AWS_MONTHS = {name.upper(): i for i, name in enumerate(_MONTH_NAMES, start=1)}
_AWS_DAYS = {name: i for i, name in enumerate(_DAY_NAMES, start=1)}


def _aws_values(expr: str, lo: int, hi: int, names: Mapping[str, int]) -> set[int]:
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
            start, end = _aws_one(a, names), _aws_one(b, names)
        else:
            start = _aws_one(part, names)
            end = hi if step != 1 else start
        if not (lo <= start <= hi and lo <= end <= hi):
            raise ValueError(f"{part!r} is outside {lo}-{hi}")
        if start <= end:
            out.update(range(start, end + 1, step))
        else:  # wrapping range such as FRI-MON
            out.update(v for i, v in enumerate(list(range(start, hi + 1)) + list(range(lo, end + 1))) if i % step == 0)
    return out


def _aws_one(text: str, names: Mapping[str, int]) -> int:
    upper = text.upper()
    return names[upper] if upper in names else int(text)


def _aws_dow(moment: datetime) -> int:
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
    return moment.day in _aws_values(expr, 1, 31, {})


def _dow_matches(expr: str, moment: datetime) -> bool:
    dow = _aws_dow(moment)
    if "#" in expr:
        day, nth = expr.split("#", 1)
        return dow == _aws_one(day, _AWS_DAYS) and (moment.day - 1) // 7 + 1 == int(nth)
    if expr.endswith("L") and expr != "L":
        last = calendar.monthrange(moment.year, moment.month)[1]
        return dow == _aws_one(expr[:-1], _AWS_DAYS) and moment.day + 7 > last
    if expr == "L":
        return dow == 7
    return dow in _aws_values(expr, 1, 7, _AWS_DAYS)


def cron_matches(expression: str, moment: datetime) -> bool:
    """
    Whether *moment* falls in the ``DeploymentWindow`` cron window (6 or 7 fields: sec min hour
    day-of-month month day-of-week [year]; ``* , - / ?`` plus ``L``, ``W`` and ``#``; days
    ``SUN``=1..``SAT``=7).

    Raises:
        CronError: for a malformed expression, naming the field.
    """
    fields = expression.split()
    if len(fields) not in (6, 7):
        problem = f"has {len(fields)} fields; expected 6 or 7 (sec min hour dom month dow [year])"
        raise CronError("Cron", expression, problem, message=f"cron {expression!r} {problem}")
    names = ("second", "minute", "hour", "day-of-month", "month", "day-of-week", "year")
    try:
        checks = [
            moment.second in _aws_values(fields[0], 0, 59, {}),
            moment.minute in _aws_values(fields[1], 0, 59, {}),
            moment.hour in _aws_values(fields[2], 0, 23, {}),
            moment.month in _aws_values(fields[4], 1, 12, _AWS_MONTHS),
        ]
        if len(fields) == 7:
            checks.append(moment.year in _aws_values(fields[6], 1970, 2199, {}))
        dom, dow = fields[3], fields[5]
        if dom != "?":
            checks.append(_dom_matches(dom, moment))
        if dow != "?":
            checks.append(_dow_matches(dow, moment))
    except (ValueError, KeyError) as exc:
        bad = next((n for n, f in zip(names, fields, strict=False) if str(exc).find(f) >= 0), "a field")
        problem = f"{bad} is malformed ({exc})"
        raise CronError("Cron", expression, problem, message=f"cron {expression!r}: {problem}") from None
    return all(checks)


# ---------------------------------------------------------------------------------------------
# classic -> AWS


def aws_cron(expression: str) -> str:
    """
    Convert classic cron into EventBridge Scheduler's ``cron(...)`` (six fields, ``?`` for
    the unused day field, days of week renumbered from Sunday = 0 to Sunday = 1).

    Raises:
        CronError: for a malformed expression.
        SynthesisError: for a valid classic expression AWS cron cannot express (both day
            fields restricted, a step in the day-of-week field, a day range ending on 7).

    .. versionadded:: 0.1.0
    """
    CronSchedule.parse(expression)
    minute, hour, dom, month, dow = expression.split()
    if dom != "*" and dow != "*":
        raise SynthesisError(
            f"cron {expression!r} restricts both day of month and day of week; AWS cron needs one of them to be '*'",
            path="schedule",
        )
    if dow == "*":
        dow = "?"
    else:
        dom = "?"
        if "/" in dow:
            raise SynthesisError(
                f"cron {expression!r}: steps in the day-of-week field are not converted", path="schedule"
            )
        dow = re.sub(r"\d+", lambda m: str(int(m.group()) % 7 + 1), dow)
        for start, end in re.findall(r"(\d)-(\d)", dow):
            if start > end:
                raise SynthesisError(
                    f"cron {expression!r}: a day-of-week range ending on Sunday (7) does not convert; use names",
                    path="schedule",
                )
    # AWS writes increments from an explicit start ('0/5'), not from '*'.
    minute, hour = (re.sub(r"^\*/", "0/", f) for f in (minute, hour))
    dom, month = (re.sub(r"^\*/", "1/", f) for f in (dom, month))
    return f"cron({minute} {hour} {dom} {month} {dow} *)"


# Documented as pipeweaver.triggers.CronSchedule (the schedules of `watch --schedule`).
publish(globals(), ["CronSchedule"], "pipeweaver.triggers")
