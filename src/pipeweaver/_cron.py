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
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Final, final

import attrs

from ._public import publish
from .errors import DefinitionError, SynthesisError

__all__ = ["CronError", "CronSchedule", "DeploymentWindowCron", "aws_cron", "cron_matches"]


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
# AWS cron (Sunday = 1): the DeploymentWindow rule's Cron

_AWS_MONTHS = {name.upper(): i for i, name in enumerate(_MONTH_NAMES, start=1)}
_AWS_DAYS = {name: i for i, name in enumerate(_DAY_NAMES, start=1)}
_WINDOW_FIELDS: Final = ("seconds", "minutes", "hours", "day-of-month", "month", "day-of-week", "year")
_YEARS: Final = (1970, 2199)


class _Bad(ValueError):
    """One field's problem, turned into a :class:`CronError` naming the field."""


def _aws_one(text: str, names: Mapping[str, int]) -> int:
    upper = text.upper()
    if upper in names:
        return names[upper]
    if not text.isdigit():
        raise _Bad(f"{text!r} is not a number" + (" or name" if names else ""))
    return int(text)


def _aws_values(expr: str, lo: int, hi: int, names: Mapping[str, int], *, wraps: bool = False) -> frozenset[int]:
    """The values of a field made of ``*``, numbers or names, ``a-b`` ranges and ``/`` steps."""
    out: set[int] = set()
    for part in expr.split(","):
        if not part:
            raise _Bad("has an empty list item")
        body, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) < 1:
                raise _Bad(f"step {step_text!r} must be a positive number")
            step = int(step_text)
        if body == "*":
            start, end = lo, hi
        elif "-" in body:
            a, _, b = body.partition("-")
            start, end = _aws_one(a, names), _aws_one(b, names)
        else:
            start = _aws_one(body, names)
            end = hi if slash else start
        for value in (start, end):
            if not lo <= value <= hi:
                raise _Bad(f"{value} is outside {lo}-{hi}")
        if start <= end:
            out.update(range(start, end + 1, step))
        elif wraps:  # a range through the end of the week, such as FRI-MON
            around = [*range(start, hi + 1), *range(lo, end + 1)]
            out.update(around[::step])
        else:
            raise _Bad(f"range {body!r} runs backwards")
    return frozenset(out)


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _nearest_weekday(year: int, month: int, day: int) -> int:
    """The weekday nearest to *day* in its month (``W``): never crossing into another month."""
    last = _last_day(year, month)
    day = min(day, last)
    weekday = date(year, month, day).isoweekday()
    if weekday == 6:  # Saturday: the Friday before, or the Monday after on the 1st
        return day - 1 if day > 1 else day + 2
    if weekday == 7:  # Sunday: the Monday after, or the Friday before on the last day
        return day + 1 if day < last else day - 2
    return day


def _aws_dow(day: date) -> int:
    return (day.isoweekday() % 7) + 1  # SUN=1 .. SAT=7


def _dom_item(item: str) -> Callable[[date], bool]:
    """One item of the day-of-month field: ``L``, ``L-n``, ``LW``, ``nW`` or plain values."""
    if item == "L":
        return lambda d: d.day == _last_day(d.year, d.month)
    if item == "LW":
        return lambda d: d.day == _nearest_weekday(d.year, d.month, _last_day(d.year, d.month))
    if item.startswith("L-"):
        offset = item[2:]
        if not offset.isdigit() or not 0 <= int(offset) <= 30:
            raise _Bad("L-n counts back 0-30 days from the last day")
        back = int(offset)
        return lambda d: d.day == _last_day(d.year, d.month) - back
    if item.endswith("W"):
        target = item[:-1]
        if not target.isdigit() or not 1 <= int(target) <= 31:
            raise _Bad("nW needs a day 1-31")
        return lambda d: d.day == _nearest_weekday(d.year, d.month, int(target))
    days = _aws_values(item, 1, 31, {})
    return lambda d: d.day in days


def _dow_item(item: str) -> Callable[[date], bool]:
    """One item of the day-of-week field: ``L``, ``nL`` (last such day), ``n#k`` (k-th) or plain values."""
    if item == "L":
        return lambda d: _aws_dow(d) == 7
    if "#" in item:
        day_text, _, nth = item.partition("#")
        weekday = _aws_one(day_text, _AWS_DAYS)
        if not 1 <= weekday <= 7 or not nth.isdigit() or not 1 <= int(nth) <= 5:
            raise _Bad("n#k needs a day 1-7 (SUN-SAT) and k 1-5")
        k = int(nth)
        return lambda d: _aws_dow(d) == weekday and (d.day - 1) // 7 + 1 == k
    if item.endswith("L"):
        weekday = _aws_one(item[:-1], _AWS_DAYS)
        if not 1 <= weekday <= 7:
            raise _Bad("nL needs a day 1-7 (SUN-SAT)")
        return lambda d: _aws_dow(d) == weekday and d.day + 7 > _last_day(d.year, d.month)
    days = _aws_values(item, 1, 7, _AWS_DAYS, wraps=True)
    return lambda d: _aws_dow(d) in days


def _day_field(text: str, item: Callable[[str], Callable[[date], bool]]) -> Callable[[date], bool] | None:
    if text == "?":
        return None
    tests = [item(part) for part in text.split(",")] if text != "*" else [lambda d: True]
    return lambda d: any(test(d) for test in tests)


@final
@attrs.frozen
class DeploymentWindowCron:
    """
    A ``DeploymentWindow`` rule's ``Cron``, parsed: ``seconds minutes hours day-of-month month
    day-of-week [year]`` in AWS's dialect ("Rule reference: DeploymentWindow").

    Each field takes what that page allows it: ``, - * /`` everywhere, ``?`` only in the two day
    fields, ``L`` (``L-n``, ``LW``) and ``W`` in day-of-month, ``L`` (``nL``) and ``#`` in
    day-of-week, names ``JAN``-``DEC`` and ``SUN``(1)-``SAT``(7); the year is 1970-2199.
    An EventBridge ``cron(...)`` (no seconds field) or a classic five-field cron is refused
    with a message saying how this dialect differs.

    .. versionadded:: 0.1.0
    """

    expression: str
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    years: frozenset[int]
    day_of_month: Callable[[date], bool] | None = attrs.field(eq=False)
    day_of_week: Callable[[date], bool] | None = attrs.field(eq=False)

    @classmethod
    def parse(cls, expression: str) -> DeploymentWindowCron:
        """
        Parse *expression*.

        Raises:
            CronError: naming the field and what is wrong with it (``field`` is ``"Cron"``).
        """
        text = expression.strip()
        if text.startswith("cron(") and text.endswith(")"):
            raise _window_error(
                expression,
                "is written as an EventBridge cron(...); the DeploymentWindow rule takes the bare fields, "
                "starting with seconds: 'seconds minutes hours day-of-month month day-of-week [year]'",
            )
        fields = text.split()
        if len(fields) not in (6, 7):
            hint = (
                " (a classic five-field cron has no seconds field; put '0' or '*' in front)" if len(fields) == 5 else ""
            )
            raise _window_error(
                expression, f"has {len(fields)} fields; expected 6 or 7 (sec min hour dom month dow [year]){hint}"
            )
        field = ""
        try:
            for field, value in zip(_WINDOW_FIELDS, fields, strict=False):
                if "?" in value and (field not in ("day-of-month", "day-of-week") or value != "?"):
                    hint = (
                        " (this dialect starts with a seconds field, which EventBridge's cron does not have)"
                        if field in ("hours", "month")
                        else ""
                    )
                    raise _Bad(f"'?' stands alone, and only in day-of-month or day-of-week{hint}")
            field = "seconds"
            seconds = _aws_values(fields[0], 0, 59, {})
            field = "minutes"
            minutes = _aws_values(fields[1], 0, 59, {})
            field = "hours"
            hours = _aws_values(fields[2], 0, 23, {})
            field = "month"
            months = _aws_values(fields[4], 1, 12, _AWS_MONTHS)
            field = "year"
            years = (
                _aws_values(fields[6], *_YEARS, {}) if len(fields) == 7 else frozenset(range(_YEARS[0], _YEARS[1] + 1))
            )
            field = "day-of-month"
            dom = _day_field(fields[3], _dom_item)
            field = "day-of-week"
            dow = _day_field(fields[5], _dow_item)
        except (_Bad, KeyError) as exc:
            value = fields[_WINDOW_FIELDS.index(field)]
            raise _window_error(expression, f"{field} field {value!r}: {exc}") from None
        return cls(
            expression=expression,
            seconds=seconds,
            minutes=minutes,
            hours=hours,
            months=months,
            years=years,
            day_of_month=dom,
            day_of_week=dow,
        )

    def day_matches(self, day: date) -> bool:
        """Whether the window is open at some time of *day*."""
        return (
            day.year in self.years
            and day.month in self.months
            and (self.day_of_month is None or self.day_of_month(day))
            and (self.day_of_week is None or self.day_of_week(day))
        )

    def matches(self, moment: datetime) -> bool:
        """Whether *moment* (in the rule's time zone) is inside the window."""
        return (
            moment.second in self.seconds
            and moment.minute in self.minutes
            and moment.hour in self.hours
            and self.day_matches(moment.date())
        )

    def next_open(self, moment: datetime) -> datetime | None:
        """The first second at or after *moment* inside the window (same zone), or ``None`` if
        the window never opens again (its last year is past)."""
        start = moment.replace(microsecond=0)
        if start < moment:
            start += timedelta(seconds=1)
        day = start.date()
        hours, minutes, seconds = sorted(self.hours), sorted(self.minutes), sorted(self.seconds)
        last_year = max(self.years)
        while day.year <= last_year:
            if day.year not in self.years:
                day = date(day.year + 1, 1, 1)
                continue
            if day.month not in self.months:
                day = date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)
                continue
            if self.day_matches(day):
                after = start.time() if day == start.date() else None
                found = _first_time(hours, minutes, seconds, after)
                if found is not None:
                    return datetime.combine(day, found, tzinfo=moment.tzinfo)
            day += timedelta(days=1)
        return None


def _first_time(hours: list[int], minutes: list[int], seconds: list[int], after: time | None) -> time | None:
    """The first time of day made of the given values that is not before *after*."""
    for hour in hours:
        if after is not None and hour < after.hour:
            continue
        for minute in minutes:
            if after is not None and (hour, minute) < (after.hour, after.minute):
                continue
            for second in seconds:
                if after is None or (hour, minute, second) >= (after.hour, after.minute, after.second):
                    return time(hour, minute, second)
    return None


def _window_error(expression: str, problem: str) -> CronError:
    return CronError("Cron", expression, problem, message=f"cron {expression!r} {problem}")


def cron_matches(expression: str, moment: datetime) -> bool:
    """
    Whether *moment* falls in the ``DeploymentWindow`` cron window (see :class:`DeploymentWindowCron`).

    Raises:
        CronError: for a malformed expression, naming the field.
    """
    return DeploymentWindowCron.parse(expression).matches(moment)


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
