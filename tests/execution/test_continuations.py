"""Continuation tokens in the local executor keep the job worker's contract: bounded tokens, variables kept."""

from __future__ import annotations

from pathlib import Path

import pipeweaver as pw
from pipeweaver.execution import ActionContext, ActionResult, ExecutionStatus, LocalExecutor

from .conftest import custom, pipeline

FAKE = "Build/Custom/Fake/1"


def test_variables_returned_with_a_continuation_token_are_published_with_the_final_result(tmp_path: Path) -> None:
    """Variables from every call are kept (later values win), as the job worker carries them on AWS."""
    steps = {
        None: ActionResult(continuation_token="1", output_variables={"DeploymentId": "d-1", "Phase": "one"}),
        "1": ActionResult(continuation_token="2", output_variables={"Phase": "two"}),
        "2": ActionResult(output_variables={"Result": "done"}),
    }

    def handler(ctx: ActionContext) -> ActionResult:
        return steps[ctx.continuation_token]

    p = pipeline(pw.Stage(name="A", actions=[custom("Long", namespace="L")]))
    e = LocalExecutor(tmp_path / "wd", handlers={FAKE: handler}, validate=False).run(p)

    assert e.succeeded
    assert {"DeploymentId": "d-1", "Phase": "two", "Result": "done"} == dict(e.action("A", "Long").output_variables)


def test_an_overlong_continuation_token_fails_the_action_locally_too(tmp_path: Path) -> None:
    """A token past CodePipeline's 2,048 characters fails the action here, as it fails the job on AWS."""

    def handler(ctx: ActionContext) -> ActionResult:
        return ActionResult(continuation_token="x" * 2049)

    p = pipeline(pw.Stage(name="A", actions=[custom("Long")]))
    # The timeout only bounds the old behaviour (the token was accepted and the handler called again).
    x = LocalExecutor(tmp_path / "wd", handlers={FAKE: handler}, timeouts={"A/Long": 5}, validate=False)
    e = x.run(p)

    assert ExecutionStatus.FAILED == e.status
    assert "continuation token is 2049 characters, above CodePipeline's limit of 2048" in (
        e.action("A", "Long").error or ""
    )
