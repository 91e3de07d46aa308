"""What the executions of one local executor share: history, pool, gates, leases, services.

Layer: execution. The facade (:class:`~pipeweaver.execution.LocalExecutor`) owns one
:class:`Engine`; every execution (:mod:`._run`) reaches the executor only through it, and the
executor's user-facing services (handlers, rules, secrets) only through :class:`Services`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

from .._masking import Masker
from .._model import Action, ActionCategory, Pipeline, Stage
from ..errors import ExecutionError
from ._base import ActionContext, ActionResult, ApprovalRequested, ArtifactStore, Execution, Observer
from ._clock import Clock, SystemClock
from ._gate import Gate
from ._handlers import HandlerFn, default_timeout
from ._history import History
from ._pool import ActionPool
from ._rules import RuleHandler
from ._stagelock import SharedStages
from ._state import Identity

__all__ = ["LEASE_SECONDS", "Engine", "LiveRun", "Services"]

LEASE_SECONDS = 30.0


class Services(Protocol):
    """The executor's services an execution uses to run actions and rules."""

    def handler_for(self, stage: Stage, action: Action) -> HandlerFn: ...
    def rule_handler(self, provider: str) -> RuleHandler | None: ...
    def base_environment(self) -> dict[str, str]: ...
    def secret_value(self, ref: str, *, where: str) -> str: ...


class LiveRun(Protocol):
    """What the executor asks of an execution running in this process."""

    @property
    def identity(self) -> Identity: ...
    def snapshot(self) -> Execution: ...
    def resolve(self, text: str) -> str: ...
    def await_approval(self, ctx: ActionContext) -> ActionResult: ...
    def decide(self, stage: str, action: str, approved: bool, summary: str, by: str) -> None: ...
    def request_stop(self, abandon: bool, reason: str, by: str) -> None: ...
    def join(self) -> None: ...


class Engine:
    """The machinery shared by one executor's executions."""

    def __init__(
        self,
        *,
        workdir: Path,
        history: History,
        store: ArtifactStore,
        masker: Masker,
        observers: list[Observer],
        timeouts: Mapping[str, float],
        max_parallel: int,
        owner: str,
        services: Services,
        approval_policy: Callable[[ApprovalRequested, Callable[[bool, str, str], None]], None],
        clock: Clock | None = None,
    ) -> None:
        self.workdir = workdir
        self.history = history
        self.store = store
        self.masker = masker
        self.observers = observers
        self.timeouts = timeouts
        self.max_parallel = max_parallel
        self.owner = owner
        self.services = services
        self.approval_policy = approval_policy
        self.clock: Clock = clock or SystemClock()
        self.runs: dict[str, LiveRun] = {}
        self.lock = threading.Lock()
        self._pool: ActionPool | None = None
        self._pool_lock = threading.Lock()
        self._gates: dict[str, Gate] = {}
        self._closed = threading.Event()
        self._renewer: threading.Thread | None = None

    def pool(self) -> ActionPool:
        """The shared action thread pool (created on first use; see :mod:`._pool` for how its
        threads end at :meth:`close` and at interpreter exit)."""
        if self._pool is None:
            with self._pool_lock:
                if self._pool is None:
                    self._pool = ActionPool(self.max_parallel, "pipeweaver-action")
        return self._pool

    def gate(self, pipeline: Pipeline) -> Gate:
        """The gate of *pipeline* (one per pipeline name)."""
        name = str(pipeline.name)
        with self.lock:
            gate = self._gates.get(name)
            if gate is None:
                shared = SharedStages(self.workdir, self.history, name, self.owner)
                gate = self._gates[name] = Gate(pipeline.disabled_transitions, shared)
            return gate

    def timeout_for(self, stage: Stage, action: Action) -> float:
        """Seconds before *action* times out (``timeouts=`` override, else AWS's default)."""
        return self.timeouts.get(f"{stage.name}/{action.name}", default_timeout(action))

    def timeout_origin(self, stage: Stage, action: Action) -> str:
        """Where :meth:`timeout_for` took *action*'s limit from, for the timeout message."""
        key = f"{stage.name}/{action.name}"
        if key in self.timeouts:
            return f"the limit set for {key} by --timeout or timeouts="
        if action.category is ActionCategory.APPROVAL and action.timeout_in_minutes:
            return "the action's timeoutInMinutes"
        return "the action type's limit"

    def register(self, run: LiveRun) -> None:
        """*run* runs here from now on (and has its lease kept fresh)."""
        with self.lock:
            self.runs[run.identity.id] = run

    def forget(self, run: LiveRun) -> None:
        """*run* ended."""
        with self.lock:
            if self.runs.get(run.identity.id) is run:
                del self.runs[run.identity.id]

    def keep_leases(self) -> None:
        """Start the lease renewer, once."""
        # The lease renewer first acts after LEASE_SECONDS / 3; it starts after the engine, so
        # that the execution does not wait for another thread to come up (a thread start
        # costs up to a scheduler tick on a busy machine).
        with self.lock:
            if self._renewer is None:
                self._renewer = threading.Thread(target=self._renew_leases, name="pipeweaver-leases", daemon=True)
                self._renewer.start()

    def _renew_leases(self) -> None:
        # Runs renew their lease when they write; this keeps it fresh while they wait (a long
        # command, an approval, a locked stage), so other hosts never see a live run as dead.
        while not self._closed.wait(LEASE_SECONDS / 3):
            with self.lock:
                runs = list(self.runs.values())
            if runs:
                with contextlib.suppress(Exception):  # a busy database is retried next round
                    self.history.write([History.op_renew(r.identity.id, r.identity.owner, LEASE_SECONDS) for r in runs])

    def close(self) -> None:
        """Stop the executions still running here, wait for their actions, shut the pool down
        and close the history.

        An execution still running (the caller was interrupted, say by Ctrl-C inside
        ``with LocalExecutor(...)``) is stopped with abandon, so that it ends readably as
        STOPPED instead of finding its pool gone.
        """
        while True:
            with self.lock:
                live = list(self.runs.values())
            if not live:
                break
            for run in live:
                with contextlib.suppress(ExecutionError):  # it ended (or is abandoning) already
                    run.request_stop(True, "the executor was closed", "pipeweaver")
            for run in live:
                run.join()
                self.forget(run)
        self._closed.set()
        if self._pool is not None:
            self._pool.shutdown()
        # A Ctrl-C can land inside Thread.start() (which waits for the new thread to run): the
        # thread may then not have begun, and join() would raise. Once it begins it sees
        # _closed set and returns at once.
        if self._renewer is not None and self._renewer.ident is not None:
            self._renewer.join()
        self.history.close()
