"""Stage locks and waiting lines shared by every process that runs pipelines in one work directory.

Layer: execution. SUPERSEDED and QUEUED pipelines let one execution at a time into a stage
(reference §4.3). The engine's per-pipeline gate enforces that among the executions of one
executor; this module extends it to every executor on the work directory, in this process
or another:

- the stage itself is an exclusive ``flock`` on ``<workdir>/locks/<pipeline>--<stage>--<hash>.lock``,
  taken without blocking. The kernel drops it when its holder exits, however it exits, so a
  killed runner never leaves a stage locked;
- an execution that has to wait writes itself into the ``stage_waits`` table of the history.
  That is how a later execution arriving in another process supersedes it (SUPERSEDED) or
  queues behind it (QUEUED). Rows of a process that is gone are ignored and cleared.

A waiting execution learns that a stage came free in another process by polling every
:data:`POLL` seconds; within one process the gate's condition variable still wakes it at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path

from ._history import History

__all__ = ["POLL", "SharedStages"]

#: Seconds between two looks at the shared lock and line while an execution waits for a stage.
POLL = 0.05


class SharedStages:
    """The stage locks and waiting lines of one pipeline in one work directory."""

    def __init__(self, workdir: Path, history: History, pipeline: str, owner: str) -> None:
        self.folder = workdir / "locks"
        self.history = history
        self.pipeline = pipeline
        self.owner = owner
        self._paths: dict[str, Path] = {}

    def _path(self, stage: str) -> Path:
        path = self._paths.get(stage)
        if path is None:
            # Names may be "." or ".."; the digest keeps every (pipeline, stage) pair its own file.
            digest = hashlib.sha256(f"{self.pipeline}\n{stage}".encode()).hexdigest()[:12]
            path = self._paths[stage] = self.folder / f"{self.pipeline}--{stage}--{digest}.lock"
        return path

    def try_lock(self, stage: str) -> int | None:
        """Lock *stage* for this process without waiting: the descriptor that holds it, or ``None``."""
        path = self._path(stage)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except FileNotFoundError:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        return fd

    @staticmethod
    def unlock(fd: int) -> None:
        """Give a stage lock up (closing its descriptor releases the ``flock``)."""
        os.close(fd)

    def waiting(self, stage: str) -> list[tuple[str, int, str | None]]:
        """``(execution_id, seq, superseded_by)`` of the executions of live processes waiting for *stage*."""
        return self.history.waiting(self.pipeline, stage)

    def join(self, stage: str, execution_id: str, seq: int, *, supersede: bool) -> None:
        """Wait in line for *stage*; with *supersede*, every older execution in that line is superseded."""
        self.history.wait_join(self.pipeline, stage, execution_id, seq, self.owner, supersede=supersede)

    def leave(self, stage: str, execution_id: str) -> None:
        """Step out of the line for *stage* (entered, superseded or stopped)."""
        self.history.wait_leave(self.pipeline, stage, execution_id)

    def supersede(self, stage: str, execution_id: str, seq: int) -> None:
        """Supersede the executions older than *seq* that still wait for *stage*."""
        self.history.supersede_waiting(self.pipeline, stage, execution_id, seq)
