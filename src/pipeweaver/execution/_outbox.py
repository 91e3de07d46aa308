"""What a run has decided but not yet written or announced, and the write that makes it so.

Layer: execution. The engine thread of a run (:mod:`._run`) is the only one to touch its
:class:`Outbox`. A state change is queued as history statements (:meth:`Outbox.write`), the
events that report it (:meth:`Outbox.announce`) and what waits for it (:meth:`Outbox.after`);
:meth:`Outbox.flush` writes the statements in one transaction, then emits the events, then runs
the hooks: nothing acts on a change and no observer hears of it before it is on disk.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from ._base import Event
from ._engine import LEASE_SECONDS
from ._history import History, Op

__all__ = ["Outbox"]


class Outbox:
    """The statements, events and hooks of one run waiting for its next write."""

    def __init__(self, history: History, execution_id: str, owner: str, emit: Callable[[Event], None]) -> None:
        self._history = history
        self._id = execution_id
        self._owner = owner
        self._emit = emit
        self._ops: list[Op] = []
        self._events: list[Event] = []
        self._hooks: list[Callable[[], None]] = []
        # Leases are a promise to other processes, so they run on real time whatever the clock.
        self._lease_renewed = time.monotonic()

    def write(self, op: Op) -> None:
        """Queue a history statement."""
        self._ops.append(op)

    def announce(self, event: Event) -> None:
        """Queue an event, emitted once the statements queued with it are written."""
        self._events.append(event)

    def announce_all(self, events: Iterable[Event]) -> None:
        """Queue several events (see :meth:`announce`)."""
        self._events.extend(events)

    def after(self, hook: Callable[[], None]) -> None:
        """Run *hook* once the statements queued with it are written (and their events emitted)."""
        self._hooks.append(hook)

    def discard(self) -> None:
        """Drop the queued statements (an engine error: they may be what failed)."""
        self._ops.clear()

    def run_hooks(self) -> None:
        """Run the hooks still waiting, without writing (after an engine error, so that the
        stages they leave do not stay held)."""
        hooks, self._hooks = self._hooks, []
        for hook in hooks:
            hook()

    def flush(self) -> None:
        """Write the queued statements (and the run's lease, when a third of it has passed),
        then emit the queued events, then run the hooks."""
        now = time.monotonic()
        if now - self._lease_renewed > LEASE_SECONDS / 3:
            self._ops.append(History.op_renew(self._id, self._owner, LEASE_SECONDS))
        self._lease_renewed = now
        if self._ops:
            ops, self._ops = self._ops, []
            self._history.write(ops)
        if self._events:
            events, self._events = self._events, []
            for event in events:
                self._emit(event)
        self.run_hooks()
