"""Per-pipeline gates: the execution modes and disabled inbound transitions.

Layer: execution. Concurrent executions of one pipeline meet at a per-pipeline :class:`Gate`
that implements the execution modes (reference §4.3): SUPERSEDED and QUEUED hold one execution
per stage, PARALLEL none; disabled inbound transitions hold executions in front of a stage
(§4.4). The stage locks and waiting lines hold across processes sharing the work directory (a
``flock`` per stage and a ``stage_waits`` table, :mod:`._stagelock`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Protocol

from .._model import ExecutionMode
from ._stagelock import POLL, SharedStages
from ._state import Control, Identity

__all__ = ["Entrant", "Gate"]


class Entrant(Protocol):
    """What a gate reads and marks on an execution waiting to enter a stage."""

    #: What the execution is (the gate reads its id and execution mode).
    identity: Identity
    seq: int
    #: Where the gate marks the run waiting or superseded, and reads a stop.
    control: Control


class Gate:
    """Per-pipeline stage locks, waiting lines and disabled inbound transitions.

    Within this executor the condition variable orders executions; *shared* extends the
    stage locks and the waiting lines of SUPERSEDED and QUEUED pipelines to every process on
    the work directory (see :mod:`._stagelock`).
    """

    def __init__(self, disabled: Mapping[str, str], shared: SharedStages) -> None:
        self.cond = threading.Condition()
        self.holders: dict[str, str] = {}
        self.waiting: dict[str, list[Entrant]] = {}
        self.disabled: dict[str, str] = dict(disabled)
        self.shared = shared
        self.locks: dict[str, int] = {}

    def _claim(self, run: Entrant, stage: str, line: list[tuple[str, int, str | None]]) -> bool:
        """Take *stage* across processes (it is free in this one); *line* is who waits for it."""
        # This executor's own waiting runs are ordered by the in-process line; waiting for
        # one of them here could deadlock (it waits for the line's head, which is *run*).
        here = {r.identity.id for r in self.waiting.get(stage, ())}
        older = [seq for eid, seq, by in line if eid not in here and by is None and seq < run.seq]
        if older and run.identity.mode is ExecutionMode.QUEUED:
            return False
        fd = self.shared.try_lock(stage)
        if fd is None:
            return False
        self.locks[stage] = fd
        self.holders[stage] = run.identity.id
        if older:
            # An older execution still waits (its process has not looked since the stage came
            # free): arriving later, this one supersedes it, as it would have while it waited.
            self.shared.supersede(stage, run.identity.id, run.seq)
        return True

    def enter(self, run: Entrant, stage: str) -> bool:
        """Wait until *run* may enter *stage*; ``False`` when it was superseded or stopped."""
        mode = run.identity.mode
        joined = False
        with self.cond:
            line = self.waiting.setdefault(stage, [])
            line.append(run)
            run.control.waiting_at = stage
            if mode is ExecutionMode.SUPERSEDED:
                for other in list(line):
                    if other is not run and other.seq < run.seq:
                        other.control.superseded_by = run.identity.id
                        line.remove(other)
                self.cond.notify_all()
            try:
                while True:
                    if run.control.superseded_by is not None or run.control.stop_requested:
                        return False
                    if mode is ExecutionMode.PARALLEL:
                        if stage not in self.disabled:
                            return True
                        self.cond.wait()
                        continue
                    admissible = (
                        stage not in self.disabled
                        and stage not in self.holders
                        and (mode is not ExecutionMode.QUEUED or line[0] is run)
                    )
                    shared_line = self.shared.waiting(stage) if joined or admissible else []
                    if joined:
                        mark = next((by for eid, _, by in shared_line if eid == run.identity.id), None)
                        if mark is not None:
                            run.control.superseded_by = mark
                            return False
                    if admissible and self._claim(run, stage, shared_line):
                        return True
                    if not joined:
                        # Waiting: stand in the shared line, where a later execution of another
                        # process supersedes this one (SUPERSEDED) or queues behind it (QUEUED).
                        self.shared.join(stage, run.identity.id, run.seq, supersede=mode is ExecutionMode.SUPERSEDED)
                        joined = True
                    self.cond.wait(POLL)
            finally:
                if run in line:
                    line.remove(run)
                run.control.waiting_at = None
                if joined:
                    self.shared.leave(stage, run.identity.id)

    def try_enter(self, run: Entrant, stage: str) -> bool:
        """Enter *stage* only if *run* may do so at once (nobody waits, nothing holds it)."""
        with self.cond:
            if run.control.superseded_by is not None or run.control.stop_requested or self.waiting.get(stage):
                return False
            if stage in self.disabled:
                return False
            if run.identity.mode is not ExecutionMode.PARALLEL:
                if stage in self.holders:
                    return False
                return self._claim(run, stage, self.shared.waiting(stage))
            return True

    def leave(self, run: Entrant, stage: str) -> None:
        with self.cond:
            if self.holders.get(stage) == run.identity.id:
                del self.holders[stage]
                fd = self.locks.pop(stage, None)
                if fd is not None:
                    self.shared.unlock(fd)
            self.cond.notify_all()

    def wake(self) -> None:
        with self.cond:
            self.cond.notify_all()
