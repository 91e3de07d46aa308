"""What a run has decided but not yet written or announced, and what it has announced.

Layer: execution. The engine thread of a run (:mod:`._run`) is the only one to touch its
:class:`Outbox`. A state change is queued as history statements (:meth:`Outbox.write`), the
events that report it (:meth:`Outbox.announce`) and what waits for it (:meth:`Outbox.after`);
:meth:`Outbox.flush` writes the statements in one transaction, then emits the events, then runs
the hooks: nothing acts on a change and no observer hears of it before it is on disk.

Emitted events land in the run's :class:`Feed`, which its handles read from any thread; the
run closes it when it has ended.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from ._base import Event
from ._engine import LEASE_SECONDS
from ._history import History, Op

__all__ = ["Feed", "Outbox"]


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


class Feed:
    """The events of one run in order, for its watchers; closed once the run has ended.

    The run's threads append; any thread reads.
    """

    def __init__(self) -> None:
        self._events: list[Event] = []
        self._cond = threading.Condition()
        self._closed = threading.Event()

    def __len__(self) -> int:
        with self._cond:
            return len(self._events)

    def append(self, event: Event) -> None:
        """Add *event* and wake the readers."""
        with self._cond:
            self._events.append(event)
            self._cond.notify_all()

    def close(self) -> None:
        """The run has ended: wake the readers and waiters for good."""
        self._closed.set()
        with self._cond:
            self._cond.notify_all()

    def wait_closed(self, timeout: float | None = None) -> bool:
        """Wait until the run has ended; ``False`` if *timeout* passed first."""
        return self._closed.wait(timeout)

    def since(self, start: int, deadline: float | None) -> tuple[list[Event], bool]:
        """The events from position *start* on, waiting for one until *deadline* (monotonic
        time) unless the feed is closed; and whether it is closed."""
        with self._cond:
            while start >= len(self._events) and not self._closed.is_set():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._cond.wait(left)
            return self._events[start:], self._closed.is_set()
