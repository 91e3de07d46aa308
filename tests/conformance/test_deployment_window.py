"""The DeploymentWindow rule as its rule reference documents it: a closed window is waited for,
and its Cron is AWS's dialect (seconds first, ``?``, ``L``, ``L-n``, ``W``, ``#``)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import pipeweaver as pw
from pipeweaver._cron import CronError, DeploymentWindowCron
from pipeweaver.execution import EngineSettings, LocalExecutor, StageStatus, SystemClock

from .conftest import SRC, source_then

WINDOW = "https://docs.aws.amazon.com/codepipeline/latest/userguide/rule-reference-DeploymentWindow.html"

#: Friday 27 November 2026, 18:00:00 UTC: outside working hours.
FRIDAY_EVENING = datetime(2026, 11, 27, 18, 0, 0, tzinfo=UTC)


class SteppingClock:
    """A clock whose waits pass at once and move its time on by what was waited (no test sleeps)."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment
        self.waits: list[float] = []
        self._real = SystemClock()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self.moment

    def monotonic(self) -> float:
        return self._real.monotonic()

    def wait(self, event: threading.Event, seconds: float) -> bool:
        if event.is_set():
            return True
        with self._lock:
            self.waits.append(seconds)
            self.moment += timedelta(seconds=seconds)
        return False


def _pipeline(cron: str, **configuration: str) -> pw.Pipeline:
    deploy = pw.Action(
        name="Deploy",
        action_type=pw.ActionType(category="Compute", provider="Commands"),
        commands=["echo deployed"],
        inputs=[SRC],
    )
    window = pw.Rule(
        name="Window",
        rule_type=pw.RuleType(provider="DeploymentWindow"),
        configuration={"Cron": cron, **configuration},
    )
    entry = pw.BeforeEntryConditions(conditions=pw.Condition(result="FAIL", rules=[window]))
    return source_then(pw.Stage(name="Prod", actions=[deploy], before_entry=entry), pipeline_type="V2")


def test_a_closed_window_is_waited_for_and_the_stage_enters_when_it_opens(tmp_path: Path) -> None:
    """Rule reference: DeploymentWindow (WINDOW): the deployment is allowed when the window opens; the stage waits for it.

    Outside working hours on a Friday evening the rule waits until Monday 09:00 (on the
    engine's clock; the test's clock moves on instead of sleeping), then passes and the stage runs.
    """
    clock = SteppingClock(FRIDAY_EVENING)
    (tmp_path / "src").mkdir()
    x = LocalExecutor(tmp_path / "wd", settings=EngineSettings(clock=clock), sources={"Source": tmp_path / "src"})

    e = x.run(_pipeline("* * 9-17 ? * MON-FRI"))

    assert e.succeeded, e.status_summary
    assert [("Window", "Succeeded")] == [(r.name, r.status) for r in e.rules]
    assert StageStatus.SUCCEEDED == e.stage("Prod").status
    assert datetime(2026, 11, 30, 9, 0, 0, tzinfo=UTC) <= clock.now() < datetime(2026, 11, 30, 9, 1, tzinfo=UTC)
    assert [(datetime(2026, 11, 30, 9, 0, tzinfo=UTC) - FRIDAY_EVENING).total_seconds()] == clock.waits


def test_the_window_is_read_in_its_time_zone(tmp_path: Path) -> None:
    """Rule reference: DeploymentWindow (WINDOW): TimeZone says where the window's hours are."""
    clock = SteppingClock(datetime(2026, 11, 30, 8, 30, tzinfo=UTC))  # 09:30 in Berlin
    (tmp_path / "src").mkdir()
    x = LocalExecutor(tmp_path / "wd", settings=EngineSettings(clock=clock), sources={"Source": tmp_path / "src"})

    e = x.run(_pipeline("* * 9-17 ? * MON-FRI", TimeZone="Europe/Berlin"))

    assert e.succeeded, e.status_summary
    assert [] == clock.waits


def test_a_window_that_never_opens_again_fails_the_stage(tmp_path: Path) -> None:
    """Rule reference: DeploymentWindow (WINDOW): a window whose only year is past never allows the deployment.

    Local: refused: the rule fails at once saying the window does not open again (on AWS it
    would wait until the rule's timeout).
    """
    clock = SteppingClock(FRIDAY_EVENING)
    (tmp_path / "src").mkdir()
    x = LocalExecutor(tmp_path / "wd", settings=EngineSettings(clock=clock), sources={"Source": tmp_path / "src"})

    e = x.run(_pipeline("* * * * * ? 2025"))

    assert StageStatus.FAILED == e.stage("Prod").status
    assert (e.rules[0].summary or "").endswith(
        "is outside the deployment window '* * * * * ? 2025', which does not open again"
    )


@pytest.mark.parametrize(
    ("cron", "moment", "inside"),
    [
        ("* * * L-3 * ?", datetime(2026, 2, 25, 12, tzinfo=UTC), True),  # 28 - 3
        ("* * * L-3 * ?", datetime(2026, 2, 26, 12, tzinfo=UTC), False),
        ("* * * L-0 * ?", datetime(2024, 2, 29, 12, tzinfo=UTC), True),
        ("* * * LW * ?", datetime(2026, 5, 29, 12, tzinfo=UTC), True),  # 31 May 2026 is a Sunday
        ("* * * 1W * ?", datetime(2026, 8, 3, 12, tzinfo=UTC), True),  # 1 Aug 2026 is a Saturday
        ("* * * ? * 6L", datetime(2026, 11, 27, 12, tzinfo=UTC), True),  # last Friday
        ("* * * ? * 2#1", datetime(2026, 11, 2, 12, tzinfo=UTC), True),  # first Monday
        ("* * * ? * FRI-MON", datetime(2026, 11, 29, 12, tzinfo=UTC), True),  # Sunday, wrapping range
        ("0/15 * * ? * *", datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC), True),
        ("0/15 * * ? * *", datetime(2026, 1, 1, 0, 0, 31, tzinfo=UTC), False),
    ],
)
def test_cron_dialect_special_characters(cron: str, moment: datetime, inside: bool) -> None:
    """Rule reference: DeploymentWindow (WINDOW): the Cron field table: seconds first, ? in a day field, L, L-n, W, LW, nL and #.

    ``L-3`` (the third-to-last day of the month) is accepted; it was refused when the rule ran.
    """
    assert inside == DeploymentWindowCron.parse(cron).matches(moment)


@pytest.mark.parametrize(
    ("cron", "problem"),
    [
        ("0 9 ? * MON-FRI *", "hours field '?'"),
        ("cron(0 9 ? * MON-FRI *)", "is written as an EventBridge cron(...)"),
        ("0 9 * * 1", "has 5 fields"),
        ("* * * L-31 * ?", "L-n counts back 0-30 days"),
        ("* * * ? * 6#6", "n#k needs a day 1-7 (SUN-SAT) and k 1-5"),
    ],
)
def test_lint_refuses_crons_outside_the_dialect(cron: str, problem: str) -> None:
    """Rule reference: DeploymentWindow (WINDOW): Cron has 6 required fields and an optional year, each with its own special characters.

    Lint reports PW512 for an expression outside the dialect (an EventBridge or classic cron
    included) before anything runs, with what differs.

    Local: refused: PW512 names the field and the difference.
    """
    with pytest.raises(CronError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        DeploymentWindowCron.parse(cron)
    issues = pw.lint(_pipeline(cron))

    assert ["PW512"] == [i.code for i in issues if i.is_error]
