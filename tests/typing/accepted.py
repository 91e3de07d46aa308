"""Typed uses of the public API that mypy --strict must accept (checked by test_typing.py, never run)."""

from __future__ import annotations

from typing import assert_type

import pipeweaver as pw
from pipeweaver.aws import CodePipelineExecutor
from pipeweaver.execution import (
    ActionContext,
    ActionResult,
    Execution,
    ExecutionHandle,
    Executor,
    LocalExecutor,
    Watcher,
    WebhookReceiver,
)
from pipeweaver.testing import fake, run_with_fakes


def enum_or_aws_word(pipeline: pw.Pipeline) -> None:
    """Each enum-like parameter takes its enum or AWS's exact word."""
    assert_type(pw.FailureConditions(result="ROLLBACK").result, pw.Result | None)
    pw.FailureConditions(result=pw.Result.RETRY, retry_mode="ALL_ACTIONS")
    pw.FailureConditions(result="RETRY", retry_mode=pw.RetryMode.FAILED_ACTIONS)
    pw.ActionType(category="Build", owner="AWS", provider="CodeBuild")
    pw.ActionType(category=pw.ActionCategory.DEPLOY, owner=pw.ActionOwner.THIRD_PARTY, provider="X")
    pw.EnvironmentVariable(name="TOKEN", value="arn:secret", type="SECRETS_MANAGER")
    pw.GitPullRequestFilter(events=["OPEN", pw.PullRequestEvent.CLOSED])
    pw.GitPullRequest(event="UPDATED", source_branch="feature", destination_branch="main")
    pw.Pipeline(name="p", role_arn="arn:aws:iam::123456789012:role/r", stages=pipeline.stages, execution_mode="QUEUED")
    pw.Pipeline(
        name="p", role_arn="arn:aws:iam::123456789012:role/r", stages=pipeline.stages, pipeline_type=pw.PipelineType.V2
    )


def handlers() -> None:
    """A handler is any callable taking the context and returning a result or None."""

    def build(context: ActionContext) -> ActionResult:
        return ActionResult(output_variables={"x": "1"})

    def quiet(ctx: ActionContext) -> None:
        ctx.log("done")

    LocalExecutor(handlers={"Build/Compile": build, "Test/Unit": quiet, "Deploy/Ship": lambda c: None})


def both_executors_are_executors(pipeline: pw.Pipeline) -> None:
    """LocalExecutor and CodePipelineExecutor satisfy the Executor protocol, and so do their handles."""
    local: Executor = LocalExecutor(".pipeweaver")
    remote: Executor = CodePipelineExecutor(deploy=False)
    for executor in (local, remote):
        handle: ExecutionHandle = executor.start(pipeline, variables={"env": "prod"})
        assert_type(handle.wait(1.0), Execution)
        assert_type(handle.pending_approvals(), list[str])
        assert_type(executor.execution(handle.id), Execution)
        assert_type(executor.history(pipeline, limit=5), list[Execution])
        executor.approve(handle.id, "Approve", "Manual", "looks good", by="me")
        executor.reject(handle.id, "Approve", "Manual")
        executor.stop(handle.id, abandon=True, reason="enough")
        executor.retry(handle.id, "Build", mode="ALL_ACTIONS")
        executor.retry(handle.id, "Build", mode=pw.RetryMode.FAILED_ACTIONS)
        Watcher(pipeline, executor, sources={"Source": "."})
        WebhookReceiver(pipeline, executor, allow_unsigned=True)


def testing_toolkit(pipeline: pw.Pipeline) -> None:
    """run_with_fakes returns the same Execution record."""
    assert_type(run_with_fakes(pipeline, {"Build": fake(variables={"v": "1"})}, workdir="."), Execution)
    LocalExecutor().history(pipeline, status="Succeeded")


def single_value_aws_words() -> None:
    """Fields AWS allows one word for take exactly it (and may be left out)."""
    pw.ArtifactStore(location="bucket", type="S3", encryption_key=pw.EncryptionKey(id="alias/k", type="KMS"))
    pw.Blocker(name="b", type="Schedule")
    pw.RuleType(provider="Commands", category="Rule", owner="AWS")
    pw.RuleType(provider="Commands", owner=None)
    pw.Trigger(source_action_name="Source", provider_type="CodeStarSourceConnection")
