"""Manual approvals of the local engine: asking for a decision and waiting for it.

Layer: execution. Decisions land in the SQLite history (they may come from another process,
``pipeweaver approve``); a decision made in this process also wakes the waiting action at once.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable
from datetime import datetime

from .._masking import Masker
from ..errors import ExecutionError
from ._base import ActionContext, ActionFailed, ActionResult, ApprovalRequested, Event
from ._history import History
from ._shell import EXITING

__all__ = ["Approvals", "Decide", "user"]

#: ``decide(approved, summary, by)`` for the approval an event asked for.
Decide = Callable[[bool, str, str], None]


def user() -> str:
    """Who is at the keyboard: the default actor of approvals, stops and retries."""
    try:
        return os.getlogin()
    except OSError:
        return os.environ.get("USER", "unknown")


class _Approval:
    def __init__(self, token: str) -> None:
        self.token = token
        self.event = threading.Event()


class Approvals:
    """The manual approvals one execution waits for."""

    def __init__(
        self,
        *,
        history: History,
        execution_id: str,
        pipeline: str,
        masker: Masker,
        emit: Callable[[Event], None],
        policy: Callable[[ApprovalRequested, Decide], None],
        now: Callable[[], datetime],
    ) -> None:
        self._history = history
        self._id = execution_id
        self._pipeline = pipeline
        self._masker = masker
        self._emit = emit
        self._policy = policy
        self._now = now
        self.waiting: dict[tuple[str, str], _Approval] = {}

    def pending(self) -> list[str]:
        """``Stage/Action`` of the approvals waiting for a decision."""
        return sorted(f"{s}/{a}" for (s, a), ap in list(self.waiting.items()) if not ap.event.is_set())

    def wait_for(self, ctx: ActionContext) -> ActionResult:
        """Ask for a decision on the approval action of *ctx* and wait for it (the action's run)."""
        key = (ctx.stage.name, ctx.action.name)
        approval = _Approval(str(uuid.uuid4()))
        history = self._history
        history.request_approval(approval.token, self._id, key[0], key[1])
        self.waiting[key] = approval
        event = ApprovalRequested(
            execution_id=self._id,
            pipeline=self._pipeline,
            at=self._now(),
            stage=ctx.stage.name,
            action=ctx.action.name,
            token=approval.token,
            custom_data=self._masker(ctx.configuration["CustomData"]) if ctx.configuration.get("CustomData") else None,
            external_entity_link=ctx.configuration.get("ExternalEntityLink"),
        )
        self._emit(event)
        ctx.log(f"waiting for approval (token {approval.token})")
        try:
            self._policy(event, lambda approved, summary, by: self.decide(key[0], key[1], approved, summary, by))
            decision = None
            # Decisions land in SQLite (they may come from another process); a local decision
            # also sets the event so it is seen at once.
            while decision is None:
                approval.event.wait(0.5)
                decision = history.approval(approval.token)
                if decision is None and (ctx.cancel.is_set() or EXITING.is_set()):
                    history.close_approval(approval.token)
                    raise ActionFailed("the approval was not answered before it timed out or was stopped")
        finally:
            self.waiting.pop(key, None)
        status, summary, who = decision
        approved = status == "Approved"
        text = f"{status} by {who}" + (f": {summary}" if summary else "")
        history.write([History.op_audit(self._id, who, status, stage=key[0], action=key[1], summary=summary)])
        if not approved:
            raise ActionFailed(text)
        return ActionResult(summary=text)

    def decide(self, stage: str, action: str, approved: bool, summary: str, by: str) -> None:
        """Answer the approval waiting at *stage*/*action* (``ExecutionError`` if none waits)."""
        approval = self.waiting.get((stage, action))
        decided = approval is not None and self._history.decide_approval(
            approved=approved, summary=summary[:512], actor=by, token=approval.token
        )
        if approval is None or not decided:
            waiting = sorted(f"{s}/{a}" for s, a in self.waiting)
            raise ExecutionError(
                f"no approval is waiting at {stage}/{action} in execution {self._id} (waiting: {waiting or 'none'})"
            )
        approval.event.set()
