"""OverrideStageCondition run locally: a condition in progress passes at once; one that failed the
stage lets the execution go on, as the API's counterpart on AWS does."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import pipeweaver as pw
from pipeweaver.errors import ExecutionError
from pipeweaver.execution import ExecutionStatus, LocalExecutor, RuleContext

from .conftest import SRC, source_then

OVERRIDE = "https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_OverrideStageCondition.html"
CONDITIONS = "https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-conditions.html"


def _say(name: str, text: str) -> pw.Action:
    return pw.Action(
        name=name,
        action_type=pw.ActionType(category="Compute", provider="Commands"),
        commands=[f"echo {text}"],
        inputs=[SRC],
    )


def _rule(name: str = "Gate") -> pw.Rule:
    return pw.Rule(name=name, rule_type=pw.RuleType(provider="Commands"), commands=["true"])


def _pipeline(*, entry: str | None = None, success: bool = False) -> pw.Pipeline:
    deploy = pw.Stage(
        name="Deploy",
        actions=[_say("Ship", "shipped")],
        before_entry=pw.BeforeEntryConditions(conditions=pw.Condition(result=entry, rules=[_rule()]))
        if entry
        else None,
        on_success=pw.SuccessConditions(conditions=pw.Condition(result="FAIL", rules=[_rule()])) if success else None,
    )
    return source_then(deploy, pw.Stage(name="After", actions=[_say("Done", "done")]), pipeline_type="V2")


def _executor(tmp_path: Path, rule: object) -> LocalExecutor:
    (tmp_path / "src").mkdir(parents=True, exist_ok=True)
    return LocalExecutor(
        tmp_path / "wd", sources={"Source": tmp_path / "src"}, rules={"Commands": rule}, validate=False
    )


def test_an_entry_condition_in_progress_passes_when_overridden(tmp_path: Path) -> None:
    """OverrideStageCondition (OVERRIDE), BEFORE_ENTRY: the condition being evaluated passes; its rule is abandoned."""
    started = threading.Event()

    def waits(ctx: RuleContext) -> bool:
        started.set()
        ctx.cancel.wait(30)
        return False

    with _executor(tmp_path, waits) as x:
        handle = x.start(_pipeline(entry="FAIL"))
        assert started.wait(10)
        x.override_stage_condition(handle.id, "Deploy", "BEFORE_ENTRY", by="ops")
        e = handle.wait(30)
        audit = x.audit(e.id)

    assert ExecutionStatus.SUCCEEDED == e.status, e.status_summary
    assert e.ran("Deploy", "Ship")
    ((name, status, summary),) = [(r.name, r.status, r.summary) for r in e.rules]
    assert ("Gate", "Abandoned") == (name, status)
    assert "(the condition was overridden by ops)" in (summary or "")
    assert [("ops", "OverrideStageCondition", "Deploy")] == [
        (a["actor"], a["event"], a["stage"]) for a in audit if a["event"] == "OverrideStageCondition"
    ]


def test_a_failed_entry_condition_overridden_lets_the_execution_enter_the_stage(tmp_path: Path) -> None:
    """OverrideStageCondition (OVERRIDE): an execution its entry condition failed enters the stage and goes on."""
    with _executor(tmp_path, lambda ctx: False) as x:
        failed = x.run(_pipeline(entry="FAIL"))
        handle = x.override_stage_condition(failed.id, "Deploy", "BEFORE_ENTRY")
        e = handle.wait(30)

    assert ExecutionStatus.FAILED == failed.status
    assert not failed.ran("Deploy", "Ship")
    assert ExecutionStatus.SUCCEEDED == e.status, e.status_summary
    assert (e.ran("Deploy", "Ship"), e.ran("After", "Done")) == (True, True)


def test_a_failed_success_condition_overridden_counts_the_stage_succeeded(tmp_path: Path) -> None:
    """OverrideStageCondition (OVERRIDE), ON_SUCCESS: the stage counts as succeeded; its actions do not run again."""
    with _executor(tmp_path, lambda ctx: "the alarm fired") as x:
        failed = x.run(_pipeline(success=True))
        e = x.override_stage_condition(failed.id, "Deploy", "ON_SUCCESS").wait(30)

    assert ExecutionStatus.FAILED == failed.status
    assert ExecutionStatus.SUCCEEDED == e.status, e.status_summary
    assert [1] == [a.attempt for a in e.actions if a.name == "Ship"]
    assert e.ran("After", "Done")
    assert "Succeeded" == e.stage("Deploy").status


def test_conditions_that_cannot_be_overridden_are_refused(tmp_path: Path) -> None:
    """Stage conditions (CONDITIONS): SKIP conditions cannot be overridden; neither can a condition that is
    not in progress nor the one that failed the stage (ConditionNotOverridableException)."""
    started = threading.Event()

    def waits(ctx: RuleContext) -> bool:
        started.set()
        ctx.cancel.wait(30)
        return True

    with _executor(tmp_path, waits) as x:
        handle = x.start(_pipeline(entry="SKIP"))
        assert started.wait(10)
        with pytest.raises(ExecutionError, match="result SKIP, which cannot be overridden"):
            x.override_stage_condition(handle.id, "Deploy", "BEFORE_ENTRY")
        with pytest.raises(ExecutionError, match="ON_SUCCESS condition of stage Deploy is not in progress"):
            x.override_stage_condition(handle.id, "Deploy", "ON_SUCCESS")
        handle.stop(abandon=True)
        handle.wait(30)

    with _executor(tmp_path / "b", lambda ctx: True) as x:
        passed = x.run(_pipeline(success=True))
        with pytest.raises(ExecutionError, match="only failed stages"):
            x.override_stage_condition(passed.id, "Deploy", "ON_SUCCESS")
