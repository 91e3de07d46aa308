"""The clock the local engine reads: timestamps, deadlines and back-off waits.

Layer: execution. The engine never calls :func:`time.monotonic` or :func:`datetime.now`
itself; it asks its :class:`Clock`, so that a test (or a simulation) can give it another
time: a deployment window that is open, a timeout that has passed.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol, final

import attrs

__all__ = ["Clock", "SystemClock"]


class Clock(Protocol):
    """What the engine asks of time.

    .. versionadded:: 0.1.0
    """

    def now(self) -> datetime:
        """The wall-clock time, timezone-aware (timestamps, deployment windows)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (deadlines, timeouts)."""
        ...

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Wait until *event* is set or *seconds* pass; return whether it is set (back-offs)."""
        ...


@final
@attrs.frozen
class SystemClock:
    """The real clock (the default).

    .. versionadded:: 0.1.0
    """

    def now(self) -> datetime:
        """``datetime.now(UTC)``."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """:func:`time.monotonic`."""
        return time.monotonic()

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """``event.wait(seconds)``."""
        return event.wait(seconds)
