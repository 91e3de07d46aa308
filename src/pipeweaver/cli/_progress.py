"""Live progress of an execution: a rich table in a terminal, plain lines otherwise.

Both are observers (``Observer`` of :mod:`pipeweaver.execution`): the executor calls them
from its worker threads, so every update takes a lock. The rich view redraws a few times a
second from the state collected here; the plain view prints one line per event, which is
what CI logs want.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import IO, Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from .. import Pipeline
from ..execution import (
    ActionFinished,
    ActionStarted,
    ApprovalRequested,
    Event,
    ExecutionFinished,
    ExecutionStarted,
    LogLine,
    StageFinished,
    StageStarted,
)

__all__ = ["LiveProgress", "PlainProgress", "STATUS_STYLE"]

STATUS_STYLE = {
    "Succeeded": "green",
    "Failed": "bold red",
    "InProgress": "cyan",
    "Abandoned": "yellow",
    "Stopped": "yellow",
    "Stopping": "yellow",
    "Superseded": "dim",
    "Cancelled": "dim",
    "Skipped": "dim",
    "Waiting": "magenta",
    "-": "dim",
}


class _State:
    def __init__(self, pipeline: Pipeline) -> None:
        self.lock = threading.Lock()
        self.pipeline = pipeline
        self.stage_status: dict[str, str] = {}
        self.action_status: dict[tuple[str, str], str] = {}
        self.started: dict[tuple[str, str], float] = {}
        self.ended: dict[tuple[str, str], float] = {}
        self.tails: dict[tuple[str, str], collections.deque[str]] = {}
        self.last_running: tuple[str, str] | None = None
        self.t0 = time.monotonic()
        self.execution_id = ""

    def apply(self, event: Event) -> None:
        now = time.monotonic()
        with self.lock:
            if isinstance(event, ExecutionStarted):
                self.execution_id = event.execution_id
                self.t0 = now
            elif isinstance(event, StageStarted):
                self.stage_status[event.stage] = "InProgress"
            elif isinstance(event, StageFinished):
                self.stage_status[event.stage] = str(event.status)
            elif isinstance(event, ActionStarted):
                key = (event.stage, event.action)
                self.action_status[key] = "InProgress"
                self.started[key] = now
                self.ended.pop(key, None)
                self.tails[key] = collections.deque(maxlen=5)
                self.last_running = key
            elif isinstance(event, ActionFinished):
                key = (event.stage, event.action)
                self.action_status[key] = str(event.status)
                self.ended[key] = now
            elif isinstance(event, ApprovalRequested):
                self.action_status[(event.stage, event.action)] = "Waiting"
            elif isinstance(event, LogLine):
                key = (event.stage, event.action)
                self.tails.setdefault(key, collections.deque(maxlen=5)).append(event.line)
                if self.action_status.get(key) == "InProgress":
                    self.last_running = key


def _elapsed(seconds: float) -> str:
    return f"{seconds:5.1f}s" if seconds < 600 else f"{seconds / 60:5.1f}m"


class LiveProgress:
    """A rich ``Live`` table of stages and actions with elapsed times and a log tail.

    Use as a context manager around the execution; pass the instance as an observer.
    """

    def __init__(self, pipeline: Pipeline, console: Console | None = None) -> None:
        self.state = _State(pipeline)
        self.console = console or Console()
        self._live = Live(console=self.console, refresh_per_second=8, get_renderable=self._render, transient=False)

    def __call__(self, event: Event) -> None:
        self.state.apply(event)

    def __enter__(self) -> LiveProgress:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.__exit__(None, None, None)

    def paused(self, fn: Callable[[], Any]) -> Any:
        """Run *fn* (a prompt) with the live view stopped, then resume it."""
        self._live.stop()
        try:
            return fn()
        finally:
            self._live.start()

    def _render(self) -> Group:
        s = self.state
        now = time.monotonic()
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False, expand=False)
        table.add_column("stage")
        table.add_column("action")
        table.add_column("status")
        table.add_column("time", justify="right")
        with s.lock:
            for stage in s.pipeline.stages:
                stage_status = s.stage_status.get(stage.name, "-")
                first = True
                for action in stage.actions:
                    key = (stage.name, action.name)
                    status = s.action_status.get(key, "-")
                    if key in s.started:
                        elapsed = _elapsed(s.ended.get(key, now) - s.started[key])
                    else:
                        elapsed = ""
                    table.add_row(
                        Text(stage.name if first else "", style=STATUS_STYLE.get(stage_status, "")),
                        action.name,
                        Text(status, style=STATUS_STYLE.get(status, "")),
                        elapsed,
                    )
                    first = False
            tail_key = s.last_running
            tail = list(s.tails.get(tail_key, ())) if tail_key else []
            header = Text(f"execution {s.execution_id or '...'}  {_elapsed(now - s.t0)}", style="bold")
        parts: list[Any] = [header, table]
        if tail_key and tail:
            parts.append(Text(f"── {tail_key[0]}/{tail_key[1]} log ──", style="dim"))
            parts.extend(Text(line[:200], style="dim") for line in tail)
        return Group(*parts)


class PlainProgress:
    """One line per event, for logs and pipes (no colours, no cursor movement)."""

    def __init__(self, stream: IO[str], *, show_logs: bool = True) -> None:
        self.stream = stream
        self.show_logs = show_logs
        self._lock = threading.Lock()
        self._t0: datetime | None = None
        self._closed = False

    def _line(self, at: datetime, text: str) -> None:
        if self._t0 is None:
            self._t0 = at
        offset = (at - self._t0).total_seconds()
        with self._lock:
            if self._closed:
                return
            try:
                self.stream.write(f"[{offset:7.2f}s] {text}\n")
                self.stream.flush()
            except BrokenPipeError:
                # The reader went away (`run ... | head`). The execution goes on to its end (a closed
                # pager does not abandon a deploy); the command then exits 141 without a word.
                self._closed = True

    def __call__(self, event: Event) -> None:
        if isinstance(event, ExecutionStarted):
            self._line(event.at, f"execution {event.execution_id} of {event.pipeline} started")
        elif isinstance(event, StageStarted):
            attempt = f" (attempt {event.attempt})" if event.attempt > 1 else ""
            self._line(event.at, f"stage {event.stage} started{attempt}")
        elif isinstance(event, StageFinished):
            self._line(event.at, f"stage {event.stage} {event.status}")
        elif isinstance(event, ActionStarted):
            self._line(event.at, f"  {event.stage}/{event.action} started")
        elif isinstance(event, ActionFinished):
            extra = event.record.error or event.record.summary or ""
            self._line(event.at, f"  {event.stage}/{event.action} {event.status}" + (f": {extra}" if extra else ""))
        elif isinstance(event, ApprovalRequested):
            self._line(event.at, f"  {event.stage}/{event.action} waiting for approval")
        elif isinstance(event, LogLine) and self.show_logs:
            self._line(event.at, f"    {event.stage}/{event.action} | {event.line}")
        elif isinstance(event, ExecutionFinished):
            self._line(event.at, f"execution {event.execution_id} {event.status}")
