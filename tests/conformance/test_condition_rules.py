"""The CloudWatchAlarm rule, run locally on alarm states the user gives, with AWS's rule semantics."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest

import pipeweaver as pw
from pipeweaver.errors import ExecutionError
from pipeweaver.execution import EngineSettings, ExecutionStatus, LocalEmulation, LocalExecutor

from .conftest import SRC, source_then

ALARM = "https://docs.aws.amazon.com/codepipeline/latest/userguide/rule-reference-CloudWatchAlarm.html"
CONDITIONS = "https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-conditions.html"


def _pipeline(**configuration: str) -> pw.Pipeline:
    rule = pw.Rule(
        name="Errors",
        rule_type=pw.RuleType(provider="CloudWatchAlarm"),
        configuration={"AlarmName": "errors", **configuration},
    )
    ship = pw.Action(
        name="Ship",
        action_type=pw.ActionType(category="Compute", provider="Commands"),
        commands=["echo shipped"],
        inputs=[SRC],
    )
    entry = pw.BeforeEntryConditions(conditions=pw.Condition(result="FAIL", rules=[rule]))
    return source_then(pw.Stage(name="Deploy", actions=[ship], before_entry=entry), pipeline_type="V2")


def _run(tmp_path: Path, pipeline: pw.Pipeline, **kwargs: Any) -> pw.execution.Execution:
    (tmp_path / "src").mkdir(parents=True, exist_ok=True)
    with LocalExecutor(tmp_path / "wd", sources={"Source": tmp_path / "src"}, **kwargs) as x:
        return x.run(pipeline)


def _verdict(e: pw.execution.Execution) -> tuple[str, str | None]:
    (rule,) = e.rules
    return rule.status, rule.summary


@pytest.mark.parametrize(
    ("state", "status"), [("OK", "Succeeded"), ("INSUFFICIENT_DATA", "Succeeded"), ("ALARM", "Failed")]
)
def test_the_rule_fails_while_the_alarm_is_in_alarm(tmp_path: Path, state: str, status: str) -> None:
    """Rule reference: CloudWatchAlarm (ALARM): without AlarmStates the rule monitors ALARM; OK and
    INSUFFICIENT_DATA pass.

    Local: simulated: the alarm's state is the one given to the executor (``alarm_states=``).
    """
    e = _run(tmp_path, _pipeline(), alarm_states={"errors": state})

    assert status == _verdict(e)[0]
    assert (status == "Succeeded") == e.ran("Deploy", "Ship")
    if status == "Failed":
        assert "alarm errors is ALARM, one of the monitored states ['ALARM']" == _verdict(e)[1]
        assert ExecutionStatus.FAILED == e.status


def test_alarm_states_choose_the_states_the_rule_fails_in(tmp_path: Path) -> None:
    """Rule reference: CloudWatchAlarm (ALARM): AlarmStates are the states the rule monitors."""
    missing_data = _run(
        tmp_path / "a", _pipeline(AlarmStates="ALARM,INSUFFICIENT_DATA"), alarm_states={"errors": "INSUFFICIENT_DATA"}
    )
    ok_watched = _run(tmp_path / "b", _pipeline(AlarmStates="OK"), alarm_states={"errors": "OK"})

    assert "Failed" == _verdict(missing_data)[0]
    assert "Failed" == _verdict(ok_watched)[0]


def test_wait_time_waits_for_the_alarm_to_leave_the_monitored_state(tmp_path: Path) -> None:
    """Rule reference: CloudWatchAlarm (ALARM): WaitTime is the time allowed for a state change before
    the rule's result applies. A state given as a callable is read again while the rule waits."""
    reads: list[str] = []

    def recovering() -> str:
        reads.append("read")
        return "ALARM" if len(reads) < 3 else "OK"

    e = _run(tmp_path, _pipeline(WaitTime="20"), alarm_states={"errors": recovering})

    assert ("Succeeded", 3) == (_verdict(e)[0], len(reads))
    assert e.ran("Deploy", "Ship")


class Skipping:
    """A clock whose waits pass at once (twenty minutes of WaitTime in no time)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return self.seconds

    def wait(self, event: threading.Event, seconds: float) -> bool:
        self.seconds += seconds
        return event.is_set()


def test_an_alarm_that_stays_in_alarm_through_wait_time_fails_the_rule(tmp_path: Path) -> None:
    """Rule reference: CloudWatchAlarm (ALARM): after WaitTime the rule's result applies; a fixed state
    cannot change, so it decides at once."""
    clock = Skipping()
    waited = _run(
        tmp_path / "a",
        _pipeline(WaitTime="20"),
        alarm_states={"errors": lambda: "ALARM"},
        settings=EngineSettings(clock=clock),
    )
    fixed = _run(tmp_path / "b", _pipeline(WaitTime="20"), alarm_states={"errors": "ALARM"})

    assert ("Failed", "alarm errors is ALARM, one of the monitored states ['ALARM'], after waiting 20 minutes") == (
        _verdict(waited)
    )
    assert clock.seconds >= 20 * 60
    assert (
        "Failed",
        "alarm errors is ALARM, one of the monitored states ['ALARM'] (a fixed state given in alarm_states "
        "cannot change within WaitTime)",
    ) == _verdict(fixed)


def test_an_alarm_without_a_given_state_is_refused_before_the_run_naming_the_setting(tmp_path: Path) -> None:
    """Rule reference: CloudWatchAlarm (ALARM): the rule reads the alarm's state from CloudWatch.

    Local: refused: a local run cannot read CloudWatch, so a pipeline whose alarm has no given
    state is refused before its execution starts (as a missing function or source is), naming
    the setting that gives it; the state is never taken as OK.
    """
    with pytest.raises(ExecutionError) as refused:
        _run(tmp_path, _pipeline())

    assert (
        "the pipeline cannot run locally:\n  - Deploy beforeEntry rule Errors: no state given for CloudWatch "
        "alarm 'errors', which a local run cannot read; give it with LocalExecutor(alarm_states={'errors': 'OK'}), "
        "LocalEmulation(alarm_states=...) or pipeweaver run --alarm errors=OK"
    ) == str(refused.value)
    with LocalExecutor(tmp_path / "wd") as x:
        assert [] == x.history()


def test_an_alarm_named_by_a_variable_without_a_state_fails_the_rule(tmp_path: Path) -> None:
    """Rule reference: CloudWatchAlarm (ALARM): the rule reads the state of the alarm AlarmName names.

    Local: refused: an AlarmName holding a variable is known only when the rule runs; without a
    given state for it the rule fails there, naming the setting; it is never taken as OK.
    """
    pipeline = _pipeline(AlarmName="#{variables.alarm}")
    pipeline = attrs.evolve(pipeline, variables=[pw.Variable(name="alarm", default_value="errors")])

    e = _run(tmp_path, pipeline)

    assert (
        "Failed",
        "no state given for CloudWatch alarm 'errors', which a local run cannot read; give it with "
        "LocalExecutor(alarm_states={'errors': 'OK'}), LocalEmulation(alarm_states=...) or "
        "pipeweaver run --alarm errors=OK",
    ) == _verdict(e)


def test_the_rule_log_says_the_state_was_simulated(tmp_path: Path) -> None:
    """Stage conditions (CONDITIONS): a rule's run output is shown with the condition.

    Local: simulated: the output says the alarm state came from the user, not from CloudWatch.
    """
    lines: list[str] = []
    e = _run(
        tmp_path,
        _pipeline(),
        alarm_states={"errors": "OK"},
        observers=[lambda event: lines.append(getattr(event, "line", ""))],
    )

    assert e.succeeded
    assert "SIMULATED: alarm errors is OK (given in alarm_states); the rule fails in ['ALARM']" in lines


def test_a_state_that_is_not_a_cloudwatch_state_is_refused() -> None:
    """Rule reference: CloudWatchAlarm (ALARM): an alarm is in OK, ALARM or INSUFFICIENT_DATA.

    Local: refused: a given state that is none of them is refused when the emulation is made.
    """
    with pytest.raises(ValueError, match=r"alarm_states\['errors'\] is 'RED'"):
        LocalEmulation(alarm_states={"errors": "RED"})
