"""LambdaInvoke rules run locally as the invoke action's functions do: the job API decides the rule.

The rule reference gives the rule a ``FunctionName`` and ``UserParameters`` provided as input to
the function; CodePipeline invokes the function with its job event, and the function reports
through ``PutJobSuccessResult`` / ``PutJobFailureResult`` (the way a function reports to
CodePipeline, AWS Lambda invoke action reference). The functions here are written that way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

import pipeweaver as pw
from pipeweaver.errors import ExecutionError
from pipeweaver.execution import LocalExecutor

from .conftest import SRC, source_then

RULE = "https://docs.aws.amazon.com/codepipeline/latest/userguide/rule-reference-LambdaInvoke.html"
LAMBDA = "https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-Lambda.html"
LAMBDA_EVENT = "https://docs.aws.amazon.com/lambda/latest/dg/services-codepipeline.html"


@pytest.fixture(name="client")
def _client(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return boto3.client("codepipeline", region_name="us-east-1")


def _pipeline(**configuration: str) -> pw.Pipeline:
    rule = pw.Rule(
        name="Gate",
        rule_type=pw.RuleType(provider="LambdaInvoke"),
        configuration={"FunctionName": "gate", **configuration},
        inputs=[SRC],
    )
    ship = pw.Action(
        name="Ship",
        action_type=pw.ActionType(category="Compute", provider="Commands"),
        commands=["echo shipped"],
        inputs=[SRC],
    )
    entry = pw.BeforeEntryConditions(conditions=pw.Condition(result="FAIL", rules=[rule]))
    return source_then(pw.Stage(name="Deploy", actions=[ship], before_entry=entry), pipeline_type="V2")


def _run(tmp_path: Path, gate: Any, pipeline: pw.Pipeline | None = None) -> pw.execution.Execution:
    (tmp_path / "src").mkdir(parents=True, exist_ok=True)
    (tmp_path / "src" / "app.txt").write_text("app")
    with LocalExecutor(tmp_path / "wd", sources={"Source": tmp_path / "src"}, functions={"gate": gate}) as x:
        return x.run(pipeline or _pipeline())


def _verdict(e: pw.execution.Execution) -> tuple[str, str | None]:
    (rule,) = e.rules
    return rule.status, rule.summary


def test_put_job_success_result_passes_the_rule(tmp_path: Path, client: Any) -> None:
    """Rule reference: LambdaInvoke (RULE): the rule runs the function FunctionName names, with UserParameters
    as its input; the function reports as CodePipeline's Lambda functions do, and PutJobSuccessResult
    passes the rule, so the stage is entered."""

    def gate(event: dict[str, Any], context: object) -> bool:
        client.put_job_success_result(jobId=event["CodePipeline.job"]["id"])
        return False  # a return value decides nothing

    e = _run(tmp_path, gate)

    assert "Succeeded" == _verdict(e)[0]
    assert e.ran("Deploy", "Ship")


def test_put_job_failure_result_fails_the_rule_though_the_function_returns_true(tmp_path: Path, client: Any) -> None:
    """Rule reference: LambdaInvoke (RULE): a function reporting PutJobFailureResult fails the rule with
    failureDetails.message, and the condition's result (FAIL) applies; the return value decides nothing."""

    def gate(event: dict[str, Any], context: object) -> bool:
        client.put_job_failure_result(
            jobId=event["CodePipeline.job"]["id"], failureDetails={"type": "JobFailed", "message": "error budget spent"}
        )
        return True

    e = _run(tmp_path, gate)

    assert ("Failed", "error budget spent") == _verdict(e)
    assert not e.ran("Deploy", "Ship")


def test_a_function_that_reports_nothing_fails_the_rule_as_a_timeout(tmp_path: Path) -> None:
    """AWS Lambda invoke action reference (LAMBDA): without PutJobSuccessResult or PutJobFailureResult,
    CodePipeline waits for a result until it times out.

    Local: refused: the rule fails at once, saying the function returned without reporting and
    would time out on AWS, instead of waiting out the rule's timeout.
    """
    e = _run(tmp_path, lambda event: True)

    assert (
        "Failed",
        "timed out: function gate returned without calling PutJobSuccessResult or PutJobFailureResult "
        "(on AWS the rule waits for one until it times out); it returned True, and a return value reports nothing",
    ) == _verdict(e)


def test_the_function_gets_the_job_event_with_the_rules_configuration(tmp_path: Path, client: Any) -> None:
    """Using AWS Lambda with AWS CodePipeline (LAMBDA_EVENT): the function gets a CodePipeline.job event: a job
    id of its own, the account, the rule's FunctionName and UserParameters, and its input artifacts
    with their source revision."""
    events: list[dict[str, Any]] = []

    def gate(event: dict[str, Any], context: object) -> None:
        events.append(event)
        client.put_job_success_result(jobId=event["CodePipeline.job"]["id"])

    e = _run(tmp_path, gate, _pipeline(UserParameters='{"budget": 5}'))

    assert e.succeeded, e.status_summary
    (event,) = events
    job = event["CodePipeline.job"]
    assert job["id"] != e.id
    assert "123456789012" == job["accountId"]
    assert {"FunctionName": "gate", "UserParameters": '{"budget": 5}'} == job["data"]["actionConfiguration"][
        "configuration"
    ]
    (source,) = job["data"]["inputArtifacts"]
    assert ("Src", e.action("Source", "Source").output_variables["VersionId"]) == (source["name"], source["revision"])
    assert [] == job["data"]["outputArtifacts"]


def test_a_continuation_token_is_refused_for_a_rule(tmp_path: Path, client: Any) -> None:
    """Rule reference: LambdaInvoke (RULE): the rule documents no continuation; one invocation decides it.

    Local: refused: a function that puts a continuationToken fails the rule, saying to report the
    result in one invocation.
    """

    def gate(event: dict[str, Any]) -> None:
        client.put_job_success_result(jobId=event["CodePipeline.job"]["id"], continuationToken="later")

    e = _run(tmp_path, gate)

    assert (
        "Failed",
        "function gate put a continuationToken, which a LambdaInvoke rule does not take; report the rule's result "
        "(PutJobSuccessResult without a token, or PutJobFailureResult) in one invocation",
    ) == _verdict(e)


def test_a_rule_whose_function_is_not_given_is_refused_before_the_run(tmp_path: Path) -> None:
    """Rule reference: LambdaInvoke (RULE): you must have already created the function in Lambda.

    Local: refused: a rule whose function has no local stand-in is refused before the execution
    starts, naming the setting that gives it.
    """
    (tmp_path / "src").mkdir()
    with LocalExecutor(tmp_path / "wd", sources={"Source": tmp_path / "src"}) as x:
        with pytest.raises(ExecutionError, match=r"Deploy beforeEntry rule Gate: no local function 'gate'; give one"):
            x.run(_pipeline())
        assert [] == x.history()
