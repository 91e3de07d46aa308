"""The handle of a running local execution.

Layer: execution.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Protocol, final

from .._model import RetryMode, RetryModeName
from ..errors import ExecutionError
from ._approvals import user
from ._base import Event, Execution
from ._run import Run

__all__ = ["LocalExecutionHandle"]


class Retry(Protocol):
    """:meth:`LocalExecutor.retry` as the handle calls it."""

    def __call__(
        self, execution_id: str, stage: str, *, mode: RetryMode | RetryModeName = ..., by: str = ...
    ) -> LocalExecutionHandle: ...


class Override(Protocol):
    """:meth:`LocalExecutor.override_stage_condition` as the handle calls it."""

    def __call__(
        self, execution_id: str, stage: str, condition_type: str, *, by: str = ...
    ) -> LocalExecutionHandle: ...


@final
class LocalExecutionHandle:
    """
    A running local execution: watch it, answer approvals, stop it, retry a stage, override a
    stage condition.

    .. versionadded:: 0.1.0
    """

    def __init__(self, run: Run, retry: Retry, override: Override | None = None) -> None:
        self._run = run
        self._retry = retry
        self._override = override

    @property
    def id(self) -> str:
        """The pipeline execution id."""
        return self._run.identity.id

    def wait(self, timeout: float | None = None) -> Execution:
        """Block until the execution (and any rollback it started) ends, or *timeout* passes."""
        deadline = None if timeout is None else time.monotonic() + timeout
        run: Run | None = self._run
        while run is not None:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not run.feed.wait_closed(left):
                break
            run = run.followup
        return self._run.snapshot()

    def snapshot(self) -> Execution:
        """The execution's record as it is now."""
        return self._run.snapshot()

    @property
    def rollback(self) -> LocalExecutionHandle | None:
        """The automatic rollback execution this one started, if any."""
        followup = self._run.followup
        return LocalExecutionHandle(followup, self._retry, self._override) if followup else None

    def waiting_at(self) -> str | None:
        """The stage this execution waits in front of (a locked stage or disabled transition)."""
        return self._run.control.waiting_at

    def pending_approvals(self) -> list[str]:
        """``Stage/Action`` of the manual approvals waiting for a decision."""
        return self._run.approvals.pending()

    def approve(self, stage: str, action: str, summary: str = "", *, by: str = "") -> None:
        """Approve a waiting manual approval."""
        self._run.decide(stage, action, True, summary, by or user())

    def reject(self, stage: str, action: str, summary: str = "", *, by: str = "") -> None:
        """Reject a waiting manual approval (the action fails)."""
        self._run.decide(stage, action, False, summary, by or user())

    def stop(self, *, abandon: bool = False, reason: str = "", by: str = "") -> None:
        """Stop: let running actions finish (``abandon=False``) or mark them ``Abandoned``."""
        self._run.request_stop(abandon, reason, by or user())

    def retry(
        self, stage: str, mode: RetryMode | RetryModeName = RetryMode.FAILED_ACTIONS, *, by: str = ""
    ) -> LocalExecutionHandle:
        """Retry a failed stage of this (ended) execution; see :meth:`LocalExecutor.retry`."""
        self.wait()
        handle = self._retry(self._run.identity.id, stage, mode=mode, by=by)
        self._run = handle._run
        return self

    def override_stage_condition(self, stage: str, condition_type: str, *, by: str = "") -> LocalExecutionHandle:
        """OverrideStageCondition of *stage* in this execution; see :meth:`LocalExecutor.override_stage_condition`."""
        if self._override is None:
            raise ExecutionError(
                "this handle was made without its executor; call LocalExecutor.override_stage_condition"
            )
        handle = self._override(self._run.identity.id, stage, condition_type, by=by)
        self._run = handle._run
        return self

    def events(self, timeout: float | None = None) -> Iterator[Event]:
        """Every event of this execution from its start, blocking until it finishes."""
        run = self._run
        i = 0
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            batch, finished = run.feed.since(i, deadline)
            if not batch and not finished:
                return  # timed out
            i += len(batch)
            yield from batch
            if finished and i >= len(run.feed):
                return

    def __repr__(self) -> str:
        identity = self._run.identity
        return f"<LocalExecutionHandle {identity.name} {identity.id} {self._run.progress.status.value}>"
