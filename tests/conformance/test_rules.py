"""The VariableCheck, Commands and CodeBuild rules, as their rule references document them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import pipeweaver as pw
from pipeweaver.errors import ExecutionError
from pipeweaver.execution import LocalExecutor

from .conftest import SRC, source_then

VARIABLE_CHECK = "https://docs.aws.amazon.com/codepipeline/latest/userguide/rule-reference-VariableCheck.html"
COMMANDS_RULE = "https://docs.aws.amazon.com/codepipeline/latest/userguide/rule-reference-Commands.html"
RULES = "https://docs.aws.amazon.com/codepipeline/latest/userguide/rule-reference.html"


def _pipeline(rule: pw.Rule, result: str = "FAIL") -> pw.Pipeline:
    ship = pw.Action(
        name="Ship",
        action_type=pw.ActionType(category="Compute", provider="Commands"),
        commands=["echo shipped"],
        inputs=[SRC],
    )
    entry = pw.BeforeEntryConditions(conditions=pw.Condition(result=result, rules=[rule]))
    return source_then(
        pw.Stage(name="Deploy", actions=[ship], before_entry=entry),
        pipeline_type="V2",
        variables=[pw.Variable(name="env", default_value="prod-eu")],
    )


def _run(tmp_path: Path, pipeline: pw.Pipeline, **kw: Any) -> pw.execution.Execution:
    (tmp_path / "src").mkdir(parents=True, exist_ok=True)
    (tmp_path / "src" / "ready").write_text("yes")
    with LocalExecutor(tmp_path / "wd", sources={"Source": tmp_path / "src"}, **kw) as x:
        return x.run(pipeline)


def _check(operator: str, value: str) -> pw.Rule:
    return pw.Rule(
        name="Check",
        rule_type=pw.RuleType(provider="VariableCheck"),
        configuration={"Variable": "#{variables.env}", "Value": value, "Operator": operator},
    )


@pytest.mark.parametrize(
    ("operator", "value", "passes"),
    [
        ("EQ", "prod-eu", True),
        ("EQ", "prod", False),
        ("NE", "dev", True),
        ("NE", "prod-eu", False),
        ("CONTAINS", "prod", True),
        ("CONTAINS", "dev", False),
        ("MATCHES", "prod-.*", True),
        ("MATCHES", "prod", False),
    ],
)
def test_variable_check_compares_the_resolved_variable_with_the_value(
    tmp_path: Path, operator: str, value: str, passes: bool
) -> None:
    """Rule reference: VariableCheck (VARIABLE_CHECK): the rule compares the resolved Variable with Value by
    Operator (EQ, NE, CONTAINS, MATCHES a regular expression), passing when the comparison holds."""
    e = _run(tmp_path, _pipeline(_check(operator, value)))

    (rule,) = e.rules
    assert ("Succeeded" if passes else "Failed") == rule.status
    assert passes == e.ran("Deploy", "Ship")


def test_a_skip_condition_skips_the_stage_when_its_variable_check_fails(tmp_path: Path) -> None:
    """Rule reference: VariableCheck (VARIABLE_CHECK): an entry condition with result SKIP skips the stage when
    its rule fails, and the execution goes on."""
    e = _run(tmp_path, _pipeline(_check("EQ", "dev"), result="SKIP"))

    assert e.succeeded, e.status_summary
    assert "Skipped" == e.stage("Deploy").status
    assert not e.ran("Deploy", "Ship")


@pytest.mark.parametrize(("command", "passes"), [("test -f ready", True), ("test -f missing", False)])
def test_a_commands_rule_passes_when_its_commands_succeed(tmp_path: Path, command: str, passes: bool) -> None:
    """Rule reference: Commands (COMMANDS_RULE): the rule runs its commands on the input artifact; it passes
    when they succeed and fails when one fails.

    Local: simulated: the commands run on your machine in the input artifact, not in CodeBuild's
    image.
    """
    rule = pw.Rule(name="Probe", rule_type=pw.RuleType(provider="Commands"), commands=[command], inputs=[SRC])

    e = _run(tmp_path, _pipeline(rule))

    (verdict,) = e.rules
    assert ("Succeeded" if passes else "Failed") == verdict.status
    assert passes == e.ran("Deploy", "Ship")


def test_a_codebuild_rule_is_refused_before_the_run(tmp_path: Path) -> None:
    """CodePipeline rule reference (RULES): a CodeBuild rule runs a CodeBuild project in AWS.

    Local: refused: without a rule handler the pipeline is refused before its execution starts,
    saying how to give one (``--rule CodeBuild=...``, ``LocalEmulation(rules={'CodeBuild': ...})``).
    """
    rule = pw.Rule(name="Scan", rule_type=pw.RuleType(provider="CodeBuild"), configuration={"ProjectName": "scan"})

    with pytest.raises(
        ExecutionError,
        match=r"no local handler for rule provider CodeBuild; give one with --rule CodeBuild=module:callable",
    ):
        _run(tmp_path, _pipeline(rule))
