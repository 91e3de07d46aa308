"""Stage conditions as AWS documents them: the rules of a condition are evaluated together."""

from __future__ import annotations

import threading
from pathlib import Path

import pipeweaver as pw
from pipeweaver.execution import ExecutionStatus, LocalExecutor, RuleContext, StageStatus

from .conftest import SRC, source_then

CONDITIONS = "https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-conditions.html"


def _pipeline(rules: list[pw.Rule]) -> pw.Pipeline:
    say = pw.Action(
        name="Say",
        action_type=pw.ActionType(category="Compute", provider="Commands"),
        commands=["echo deployed"],
        inputs=[SRC],
    )
    entry = pw.BeforeEntryConditions(conditions=pw.Condition(result="FAIL", rules=rules))
    return source_then(pw.Stage(name="Deploy", actions=[say], before_entry=entry), pipeline_type="V2")


def _rule(name: str) -> pw.Rule:
    return pw.Rule(name=name, rule_type=pw.RuleType(provider="Commands"), commands=["true"])


def test_every_rule_of_a_condition_is_evaluated_even_after_one_fails(tmp_path: Path) -> None:
    """Stage conditions (CONDITIONS): a condition's rules are evaluated together; one failing rule fails it.

    The first rule fails and the second passes: both are evaluated and recorded, and the
    condition's result (FAIL) applies. Each rule waits until the other has started, which only
    rules evaluated together can do.
    """
    started = threading.Barrier(2, timeout=10)

    def verdict(passes: bool) -> object:
        def rule(ctx: RuleContext) -> bool:
            started.wait()
            return passes

        return rule

    verdicts = {"Gate": verdict(False), "Audit": verdict(True)}
    (tmp_path / "src").mkdir()
    x = LocalExecutor(
        tmp_path / "wd",
        sources={"Source": tmp_path / "src"},
        rules={"Commands": lambda ctx: verdicts[ctx.rule.name](ctx)},  # type: ignore[operator]
    )

    e = x.run(_pipeline([_rule("Gate"), _rule("Audit")]))

    assert ExecutionStatus.FAILED == e.status
    assert StageStatus.FAILED == e.stage("Deploy").status
    assert [("Gate", "Failed"), ("Audit", "Succeeded")] == [(r.name, r.status) for r in e.rules]
    assert not e.ran("Deploy", "Say")
