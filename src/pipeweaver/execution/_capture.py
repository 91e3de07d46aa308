"""What in-process handlers print goes to their action's log, masked.

A Lambda stand-in, a custom handler or a rule function runs on an action thread inside this
process; a bare ``print`` there would write straight to the terminal, unmasked and in no log.
While at least one such handler runs, ``sys.stdout`` and ``sys.stderr`` are replaced by a
:class:`_Router` that sends each complete line written by a thread registered with
:func:`routed` to that thread's log writer (which masks, files and announces it like any other
action output) and everything else (the main thread, the progress display, other threads)
to the stream it replaced, untouched.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TextIO

__all__ = ["routed", "unrouted"]


class _Sink:
    """The log writer of one registered thread and the partial line it has written so far."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write
        self.pending = ""
        # True while the writer itself runs: whatever it prints (an observer on this thread
        # writing the progress display) goes to the real stream, not back into the log.
        self.busy = False
        # False inside unrouted(): a terminal prompt on an action thread must reach the terminal.
        self.on = True


_sinks: dict[int, _Sink] = {}
_lock = threading.Lock()
_users = 0


class _Router:
    """Stands in for ``sys.stdout`` or ``sys.stderr``; see the module docstring."""

    def __init__(self, original: TextIO) -> None:
        self.original = original

    def _sink(self) -> _Sink | None:
        sink = _sinks.get(threading.get_ident())
        return sink if sink is not None and sink.on and not sink.busy else None

    def write(self, text: str) -> int:
        sink = self._sink()
        if sink is None:
            return self.original.write(text)
        # Whole lines only: a secret written in pieces is masked once its line is complete.
        *lines, sink.pending = (sink.pending + text).split("\n")
        _deliver(sink, lines)
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self._sink() is None:
            self.original.flush()

    def isatty(self) -> bool:
        # A handler that asks gets a log, not a terminal: no colours, no cursor movement.
        return False if self._sink() is not None else self.original.isatty()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.original, name)


def _deliver(sink: _Sink, lines: list[str]) -> None:
    sink.busy = True
    try:
        for line in lines:
            sink.write(line.rstrip("\r"))
    finally:
        sink.busy = False


def _install(count: int = 1) -> None:
    global _users
    with _lock:
        _users += count
        # Checked at every entry, not only the first: something else that swaps the streams
        # meanwhile (rich's live display stops and restarts around a prompt, putting back what
        # it saved) would otherwise leave the handlers still running unrouted.
        if _users and not isinstance(sys.stdout, _Router):
            sys.stdout = _Router(sys.stdout)
        if _users and not isinstance(sys.stderr, _Router):
            sys.stderr = _Router(sys.stderr)


def _uninstall() -> None:
    global _users
    with _lock:
        _users -= 1
        if _users == 0:
            # Take off our proxies; a stream someone put over them since stays.
            while isinstance(sys.stdout, _Router):
                sys.stdout = sys.stdout.original
            while isinstance(sys.stderr, _Router):
                sys.stderr = sys.stderr.original


@contextlib.contextmanager
def routed(write: Callable[[str], None]) -> Iterator[None]:
    """While the block runs, lines this thread writes to sys.stdout/sys.stderr go to *write*."""
    ident = threading.get_ident()
    outer = _sinks.get(ident)
    sink = _Sink(write)
    _install()
    _sinks[ident] = sink
    try:
        yield
    finally:
        try:
            if sink.pending:
                _deliver(sink, [sink.pending])
        finally:
            # a failing last write must not leave this thread routed or the streams swapped
            if outer is None:
                _sinks.pop(ident, None)
            else:
                _sinks[ident] = outer
            _uninstall()


@contextlib.contextmanager
def unrouted() -> Iterator[None]:
    """While the block runs, this thread writes to the real streams (a prompt at the terminal)."""
    sink = _sinks.get(threading.get_ident())
    if sink is None:
        yield
        return
    was, sink.on = sink.on, False
    try:
        yield
    finally:
        sink.on = was
        # A prompt is where a live display stops and restarts, swapping the streams under us.
        _install(0)
