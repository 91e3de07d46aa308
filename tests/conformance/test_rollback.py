"""Stage rollback as CodePipeline documents it, including a rollback that itself fails."""

from __future__ import annotations

from pathlib import Path

import pipeweaver as pw
from pipeweaver.execution import ActionContext, ActionFailed, ExecutionStatus, LocalExecutor

from .conftest import SRC, source_then

ROLLBACK = "https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback.html"
RETRY = "https://docs.aws.amazon.com/codepipeline/latest/userguide/actions-retry.html"


class Ship:
    """A deploy that fails on a release holding BAD, and on the releases listed in ``broken``."""

    def __init__(self) -> None:
        self.broken: set[str] = set()
        self.shipped: list[str] = []

    def __call__(self, ctx: ActionContext) -> None:
        release = ctx.inputs["Src"]
        version = (release / "version.txt").read_text()
        if version in self.broken or (release / "BAD").exists():
            raise ActionFailed(f"deploy of {version} failed")
        self.shipped.append(version)


def _pipeline() -> pw.Pipeline:
    ship = pw.Action(
        name="Ship",
        action_type=pw.ActionType(category="Deploy", owner="Custom", provider="Ship"),
        inputs=[SRC],
    )
    deploy = pw.Stage(name="Deploy", actions=[ship], on_failure=pw.FailureConditions(result="ROLLBACK"))
    return source_then(deploy, pipeline_type="V2")


def test_a_failed_automatic_rollback_is_reported_and_can_be_retried(tmp_path: Path) -> None:
    """Configure stage rollback (ROLLBACK) and Retry a failed stage (RETRY).

    The rollback execution redeploys the last good release with that execution's artifacts;
    when it fails, the failed execution's summary says the rollback failed, and retrying the
    rollback's stage runs it again with the same artifacts (the target's), as its first attempt
    had them.
    """
    src = tmp_path / "src"
    src.mkdir()
    ship = Ship()
    x = LocalExecutor(tmp_path / "wd", sources={"Source": src}, handlers={"Deploy/Ship": ship}, validate=False)
    p = _pipeline()
    (src / "version.txt").write_text("v1")
    good = x.run(p)
    (src / "version.txt").write_text("v2")
    (src / "BAD").write_text("yes")
    ship.broken = {"v1"}  # the rollback's redeploy of v1 fails too

    handle = x.start(p)
    handle.wait(60)
    rollback = handle.rollback
    assert rollback is not None
    failed_rollback = rollback.wait(60)
    bad = x.execution(handle.id)

    assert good.succeeded
    assert ("ROLLBACK", ExecutionStatus.FAILED) == (failed_rollback.execution_type, failed_rollback.status)
    assert (
        f"automatic rollback of stage Deploy started as execution {failed_rollback.id} (target {good.id}); "
        f"the rollback failed: {failed_rollback.status_summary}"
    ) in (bad.status_summary or "")

    ship.broken = set()
    retried = x.retry(failed_rollback.id, "Deploy", wait=True)

    assert ExecutionStatus.SUCCEEDED == retried.status, retried.status_summary
    assert ["v1", "v1"] == ship.shipped  # the good run, then the retried rollback
    assert good.artifacts["Src"] == retried.artifacts["Src"]
    assert "the rollback succeeded when retried" in (x.execution(handle.id).status_summary or "")
