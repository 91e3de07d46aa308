"""Durable execution history in an embedded SQLite database (WAL journal).

Layer: execution. The engine writes every state change here before acting on it, batching
the rows of one wave into one transaction. A lease column on each execution row makes sure
that only one runner advances an execution at a time; a runner that dies stops renewing its
lease, and :meth:`History.interrupted` finds what it left behind.

Several processes may open one history at once, a new one included: the switch to WAL is
retried while another connection holds the file, and the schema is created in one
``BEGIN IMMEDIATE`` transaction. SQLite's own errors never leave this module: a damaged file,
a lock held too long or a row that cannot be decoded is a :class:`~pipeweaver.HistoryError`
that names the file and what to do.

Over 700 lines because it is one store: every query shares the connection, its lock, the
lease and the error translation above, and splitting it would spread those across modules.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import socket
import sqlite3
import struct
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import ExecutionError, HistoryError
from ._base import (
    ActionRecord,
    ActionStatus,
    ArtifactRef,
    Execution,
    ExecutionStatus,
    RuleRecord,
    StageRecord,
    StageStatus,
    TriggerInfo,
)

__all__ = ["History", "Op", "runner_id"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS executions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    pipeline TEXT NOT NULL,
    status TEXT NOT NULL,
    execution_type TEXT NOT NULL DEFAULT 'STANDARD',
    rollback_target TEXT,
    trigger_type TEXT NOT NULL,
    trigger_detail TEXT NOT NULL DEFAULT '',
    started_at REAL,
    ended_at REAL,
    status_summary TEXT,
    definition TEXT NOT NULL,
    source_revisions TEXT NOT NULL DEFAULT '{}',
    lease_owner TEXT,
    lease_expires REAL
);
CREATE INDEX IF NOT EXISTS executions_pipeline ON executions (pipeline, seq);
CREATE TABLE IF NOT EXISTS variables (
    execution_id TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (execution_id, name)
);
CREATE TABLE IF NOT EXISTS stages (
    execution_id TEXT NOT NULL, name TEXT NOT NULL, attempt INTEGER NOT NULL,
    status TEXT NOT NULL, started_at REAL, ended_at REAL, error TEXT, position INTEGER NOT NULL,
    PRIMARY KEY (execution_id, name, attempt)
);
CREATE TABLE IF NOT EXISTS actions (
    execution_id TEXT NOT NULL, stage TEXT NOT NULL, name TEXT NOT NULL, attempt INTEGER NOT NULL,
    position INTEGER NOT NULL, status TEXT NOT NULL, started_at REAL, ended_at REAL,
    resolved_configuration TEXT NOT NULL DEFAULT '{}', output_variables TEXT NOT NULL DEFAULT '{}',
    namespace TEXT, summary TEXT, error TEXT, log_file TEXT, external_execution_id TEXT,
    PRIMARY KEY (execution_id, stage, name, attempt)
);
CREATE TABLE IF NOT EXISTS artifacts (
    execution_id TEXT NOT NULL, name TEXT NOT NULL, uri TEXT NOT NULL, sha256 TEXT NOT NULL,
    size INTEGER NOT NULL, stage TEXT NOT NULL DEFAULT '', action TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (execution_id, name)
);
CREATE TABLE IF NOT EXISTS rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT, execution_id TEXT NOT NULL, stage TEXT NOT NULL,
    condition TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL, summary TEXT, at REAL
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, execution_id TEXT NOT NULL, at REAL NOT NULL,
    actor TEXT NOT NULL, event TEXT NOT NULL, stage TEXT, action TEXT, summary TEXT
);
CREATE INDEX IF NOT EXISTS audit_execution ON audit (execution_id, id);
CREATE TABLE IF NOT EXISTS stage_waits (
    pipeline TEXT NOT NULL, stage TEXT NOT NULL, execution_id TEXT NOT NULL, seq INTEGER NOT NULL,
    owner TEXT NOT NULL, superseded_by TEXT,
    PRIMARY KEY (pipeline, stage, execution_id)
);
CREATE TABLE IF NOT EXISTS approvals (
    token TEXT PRIMARY KEY, execution_id TEXT NOT NULL, stage TEXT NOT NULL, action TEXT NOT NULL,
    status TEXT NOT NULL, summary TEXT, actor TEXT, requested_at REAL NOT NULL, decided_at REAL
);
"""

#: How long opening a history waits for other processes (busy timeout and WAL switch), seconds.
_BUSY_SECONDS = 30.0

# SQLite's primary result codes (the low byte of an extended code).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_CORRUPT, _SQLITE_NOTADB = 5, 6, 11, 26

#: One statement and its parameters, queued by the engine and written in a batch.
Op = tuple[str, Sequence[Any]]


def runner_id() -> str:
    """This process's identity for leases: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _pid_alive(owner: str) -> bool | None:
    """Whether the lease owner still runs: True/False on this host, None when unknowable."""
    # Owners look like ``host:pid`` or ``host:pid:token``.
    parts = owner.split(":")
    host, pid = parts[0], parts[1] if len(parts) > 1 else ""
    if host != socket.gethostname() or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _code(exc: sqlite3.Error) -> int | None:
    """SQLite's primary result code of *exc* (``None`` when the driver gave none)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF


def _mapping(text: str) -> dict[str, Any]:
    """A JSON object column (``ValueError`` when it holds anything else)."""
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON object, found {type(value).__name__}")
    return value


def _apply(cur: sqlite3.Cursor, sql: str, rows: list[Sequence[Any]]) -> None:
    if len(rows) == 1:
        cur.execute(sql, rows[0])
    else:
        cur.executemany(sql, rows)


def _json(value: Mapping[str, Any]) -> str:
    """Sorted JSON of a mapping; most records have none, and ``{}`` needs no encoder."""
    return json.dumps(dict(value), sort_keys=True) if value else "{}"


class History:
    """
    The SQLite history of one work directory (``<workdir>/history.sqlite3``).

    One connection serves every thread of this process, guarded by a lock; other processes
    open their own and meet this one through SQLite's WAL locking.

    .. versionadded:: 0.1.0
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._check_file()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=_BUSY_SECONDS)
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        try:
            self._open()
        except sqlite3.Error as exc:
            self._db.close()
            raise self._error(exc) from exc
        except BaseException:
            self._db.close()
            raise

    def _open(self) -> None:
        db = self._db
        # The busy handler must be in place before anything else touches the file: a second
        # process opening a new history meets the first one's locks right away.
        db.execute(f"PRAGMA busy_timeout={int(_BUSY_SECONDS * 1000)}")
        self._use_wal()
        # NORMAL in WAL mode syncs at checkpoints, not at every commit: durable against a
        # killed process (the WAL is in the OS cache), without an fsync per wave.
        db.execute("PRAGMA synchronous=NORMAL")
        # One transaction, so that a process never sees half a schema and two processes
        # creating it at once take turns instead of failing.
        try:
            db.executescript(
                "BEGIN IMMEDIATE;"
                + _SCHEMA
                + f"INSERT OR IGNORE INTO meta VALUES ('schema', '{SCHEMA_VERSION}');"
                + "COMMIT;"
            )
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        found = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if found is not None and str(found[0]).isdigit() and int(found[0]) > SCHEMA_VERSION:
            raise HistoryError(
                f"{self.path} was written by a newer pipeweaver (history schema {found[0]}); upgrade pipeweaver "
                f"or use another work directory",
                path=str(self.path),
                reason=f"written by a newer pipeweaver (history schema {found[0]})",
            )

    def _use_wal(self) -> None:
        """Switch the file to WAL, waiting out other connections that hold it meanwhile."""
        if str(self._db.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
            return  # WAL is a property of the file: only its creator ever switches it
        # Changing the journal mode needs the file to itself, and SQLite reports BUSY at once
        # (without calling the busy handler) when another connection has it open: a second
        # process opening a new history at the same moment. Retry until the timeout.
        deadline = time.monotonic() + _BUSY_SECONDS
        pause = 0.001
        while True:
            try:
                mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            except sqlite3.OperationalError as exc:
                if _code(exc) not in (_SQLITE_BUSY, _SQLITE_LOCKED) or time.monotonic() > deadline:
                    raise
            else:
                if str(mode).lower() == "wal":
                    return
                if time.monotonic() > deadline:
                    raise HistoryError(
                        f"{self.path}: cannot switch the history to WAL mode (it stays in {mode} mode)",
                        path=str(self.path),
                        reason=f"cannot switch to WAL mode (it stays in {mode} mode)",
                    )
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    def _check_file(self) -> None:
        """Refuse a file that is not an SQLite database, or one cut short, before SQLite reads it.

        A zero-length file is a new, empty database to SQLite (and exactly what another
        process sees between creating the file and writing its first page), so it is used.
        A checkpoint by a process closing the history first grows the file (zeros, header
        included) and then writes its pages, so what looks damaged is looked at again a few
        times before it is called damaged.
        """
        for pause in (0.02, 0.05, 0.1, 0.2, 0.4):
            problem = self._problem()
            if problem is None:
                return
            time.sleep(pause)
        problem = self._problem()
        if problem is not None:
            raise self._damaged(problem)

    def _problem(self) -> str | None:
        """What is wrong with the file at rest, or ``None`` when it looks sound, new or busy."""
        # While a WAL or rollback journal exists, other connections may be writing into the
        # file and its header and size can lag behind: only a file at rest is judged, and
        # SQLite itself reports what is wrong with a busy one.
        if self._busy():
            return None
        try:
            with open(self.path, "rb") as handle:
                header = handle.read(100)
                size = os.fstat(handle.fileno()).st_size
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise HistoryError(
                f"{self.path}: cannot read the execution history: {exc.strerror or exc}",
                path=str(self.path),
                reason=f"cannot be read: {exc.strerror or exc}",
            ) from exc
        if size == 0 or self._busy():
            return None
        if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
            return "it is not an SQLite database"
        page_size = struct.unpack(">H", header[16:18])[0]
        page_size = 65536 if page_size == 1 else page_size
        counter, pages = struct.unpack(">II", header[24:32])
        valid_for = struct.unpack(">I", header[92:96])[0]
        if pages and counter == valid_for and pages * page_size > size:
            return f"it is cut short: {size} of {pages * page_size} bytes"
        return None

    def _busy(self) -> bool:
        return any(Path(f"{self.path}{side}").exists() for side in ("-wal", "-journal"))

    def _damaged(self, what: str) -> HistoryError:
        path = str(self.path)
        moves = [f"mv {shlex.quote(path)} {shlex.quote(path + '.broken')}"]
        moves += [
            f"mv {shlex.quote(path + side)} {shlex.quote(path + '.broken' + side)}"
            for side in ("-wal", "-shm")
            if Path(path + side).exists()
        ]
        reason = f"the execution history is damaged ({what})"
        return HistoryError(
            f"{path}: {reason}; move it aside and the next run starts a new history: {' && '.join(moves)}",
            path=path,
            reason=reason,
        )

    def _error(self, exc: sqlite3.Error) -> HistoryError:
        """The :class:`HistoryError` for an error SQLite raised on this history."""
        code = _code(exc)
        if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
            return self._damaged(str(exc))
        if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
            reason = f"another process kept the execution history locked for over {_BUSY_SECONDS:.0f} s ({exc})"
            return HistoryError(
                f"{self.path}: {reason}; wait for the other pipeweaver process using this work directory, "
                f"or use another --workdir",
                path=str(self.path),
                reason=reason,
            )
        reason = f"cannot use the execution history: {exc}"
        return HistoryError(f"{self.path}: {reason}", path=str(self.path), reason=reason)

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Turn SQLite's errors into :class:`HistoryError` (a constraint violation stays a bug)."""
        try:
            yield
        except sqlite3.IntegrityError:
            raise
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from exc

    def _unreadable(self, execution_id: str, what: str, exc: Exception) -> HistoryError:
        reason = f"{what} cannot be decoded: {exc}"
        return HistoryError(
            f"{self.path}: execution {execution_id}: {reason}",
            path=str(self.path),
            reason=reason,
            execution_id=execution_id,
        )

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Cursor]:
        """One write transaction (``BEGIN IMMEDIATE``), committed on success."""
        with self._lock, self._guard():
            cur = self._db.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                # A damaged file can fail the rollback too; the first error is the one to report.
                with contextlib.suppress(sqlite3.Error):
                    cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def write(self, ops: Iterable[Op]) -> None:
        """Apply *ops* in one transaction."""
        with self.transaction() as cur:
            # Runs of one statement (a wave's action rows) go through executemany: one call
            # into SQLite per run instead of one per row.
            run: list[Sequence[Any]] = []
            current = ""
            for sql, params in ops:
                if sql != current and run:
                    _apply(cur, current, run)
                    run = []
                current = sql
                run.append(params)
            if run:
                _apply(cur, current, run)

    def create(self, ops: Sequence[Op]) -> int:
        """Apply :meth:`op_create`'s *ops* in one transaction; return the execution's ``seq``."""
        with self.transaction() as cur:
            sql, params = ops[0]
            cur.execute(sql, params)
            seq = cur.lastrowid
            for sql, params in ops[1:]:
                cur.execute(sql, params)
        assert seq is not None
        return seq

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock, self._guard():
            return self._db.execute(sql, params).fetchall()

    # -- statements the engine queues ------------------------------------------------------

    @staticmethod
    def op_create(
        *,
        execution_id: str,
        pipeline: str,
        status: ExecutionStatus,
        trigger: TriggerInfo,
        started_at: datetime,
        definition: Mapping[str, Any],
        source_revisions: Mapping[str, str],
        variables: Mapping[str, str],
        execution_type: str,
        rollback_target: str | None,
        owner: str,
        lease_seconds: float,
    ) -> list[Op]:
        """Rows for a new execution, with its lease held by *owner*."""
        ops: list[Op] = [
            (
                "INSERT INTO executions (id, pipeline, status, execution_type, rollback_target, trigger_type, "
                "trigger_detail, started_at, definition, source_revisions, lease_owner, lease_expires) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    execution_id,
                    pipeline,
                    status.value,
                    execution_type,
                    rollback_target,
                    trigger.trigger_type,
                    trigger.detail,
                    _ts(started_at),
                    json.dumps(definition, sort_keys=True),
                    json.dumps(dict(source_revisions), sort_keys=True),
                    owner,
                    time.time() + lease_seconds,
                ),
            )
        ]
        ops.extend(
            ("INSERT INTO variables VALUES (?,?,?)", (execution_id, name, value)) for name, value in variables.items()
        )
        return ops

    @staticmethod
    def op_status(execution_id: str, status: ExecutionStatus, summary: str | None, ended_at: datetime | None) -> Op:
        """Set an execution's status (and end time when terminal)."""
        return (
            "UPDATE executions SET status=?, status_summary=?, ended_at=? WHERE id=?",
            (status.value, summary, _ts(ended_at), execution_id),
        )

    @staticmethod
    def op_stage(execution_id: str, record: StageRecord, position: int) -> Op:
        """Insert or replace a stage attempt."""
        return (
            "INSERT OR REPLACE INTO stages VALUES (?,?,?,?,?,?,?,?)",
            (
                execution_id,
                record.name,
                record.attempt,
                record.status.value,
                _ts(record.started_at),
                _ts(record.ended_at),
                record.error,
                position,
            ),
        )

    @staticmethod
    def op_action(execution_id: str, record: ActionRecord, position: int, namespace: str | None) -> Op:
        """Insert or replace an action attempt."""
        return (
            "INSERT OR REPLACE INTO actions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                execution_id,
                record.stage,
                record.name,
                record.attempt,
                position,
                record.status.value,
                _ts(record.started_at),
                _ts(record.ended_at),
                _json(record.resolved_configuration),
                _json(record.output_variables),
                namespace,
                record.summary,
                record.error,
                record.log_file,
                record.external_execution_id,
            ),
        )

    @staticmethod
    def op_artifact(execution_id: str, ref: ArtifactRef, stage: str, action: str) -> Op:
        """Record a stored artifact (a retry overwrites the earlier zip's reference)."""
        return (
            "INSERT OR REPLACE INTO artifacts VALUES (?,?,?,?,?,?,?)",
            (execution_id, ref.name, ref.uri, ref.sha256, ref.size, stage, action),
        )

    @staticmethod
    def op_rule(execution_id: str, record: RuleRecord) -> Op:
        """Record one rule evaluation."""
        return (
            "INSERT INTO rules (execution_id, stage, condition, name, status, summary, at) VALUES (?,?,?,?,?,?,?)",
            (execution_id, record.stage, record.condition, record.name, record.status, record.summary, _ts(record.at)),
        )

    @staticmethod
    def op_audit(
        execution_id: str,
        actor: str,
        event: str,
        *,
        stage: str | None = None,
        action: str | None = None,
        summary: str = "",
    ) -> Op:
        """Record who did what (approve, reject, stop, retry, rollback, interrupted)."""
        return (
            "INSERT INTO audit (execution_id, at, actor, event, stage, action, summary) VALUES (?,?,?,?,?,?,?)",
            (execution_id, time.time(), actor or "unknown", event, stage, action, summary),
        )

    # -- approvals (answerable from another process) ------------------------------------------

    def request_approval(self, token: str, execution_id: str, stage: str, action: str) -> None:
        """Record that an approval waits for a decision."""
        self.write(
            [
                (
                    "INSERT INTO approvals (token, execution_id, stage, action, status, requested_at) "
                    "VALUES (?,?,?,?,'Waiting',?)",
                    (token, execution_id, stage, action, time.time()),
                )
            ]
        )

    def decide_approval(
        self,
        *,
        approved: bool,
        summary: str,
        actor: str,
        token: str | None = None,
        where: tuple[str, str, str] | None = None,
    ) -> bool:
        """Decide a waiting approval by token or by (execution, stage, action); False if none waits."""
        status = "Approved" if approved else "Rejected"
        with self.transaction() as cur:
            if token is not None:
                cur.execute(
                    "UPDATE approvals SET status=?, summary=?, actor=?, decided_at=? "
                    "WHERE token=? AND status='Waiting'",
                    (status, summary, actor, time.time(), token),
                )
            else:
                assert where is not None
                cur.execute(
                    "UPDATE approvals SET status=?, summary=?, actor=?, decided_at=? "
                    "WHERE execution_id=? AND stage=? AND action=? AND status='Waiting'",
                    (status, summary, actor, time.time(), *where),
                )
            return cur.rowcount > 0

    def approval(self, token: str) -> tuple[str, str, str] | None:
        """``(status, summary, actor)`` of a decided approval, ``None`` while it waits."""
        rows = self._query("SELECT status, summary, actor FROM approvals WHERE token=?", (token,))
        if not rows or rows[0][0] == "Waiting":
            return None
        return rows[0][0], rows[0][1] or "", rows[0][2] or ""

    def close_approval(self, token: str) -> None:
        """Mark an approval that timed out or was stopped, so nobody can answer it any more."""
        self.write([("UPDATE approvals SET status='Expired' WHERE token=? AND status='Waiting'", (token,))])

    # -- waiting lines in front of stages (execution modes across processes) -------------------

    def wait_join(self, pipeline: str, stage: str, execution_id: str, seq: int, owner: str, *, supersede: bool) -> None:
        """
        Put *execution_id* in the line waiting to enter *stage*.

        With *supersede* (SUPERSEDED mode) every older execution waiting there is marked
        superseded by this one. Lines left by processes that died are cleared on the way.
        """
        with self.transaction() as cur:
            rows = cur.execute(
                "SELECT execution_id, owner FROM stage_waits WHERE pipeline=? AND stage=?", (pipeline, stage)
            ).fetchall()
            gone = [(pipeline, stage, other) for other, holder in rows if _pid_alive(holder) is False]
            if gone:
                cur.executemany("DELETE FROM stage_waits WHERE pipeline=? AND stage=? AND execution_id=?", gone)
            cur.execute(
                "INSERT OR REPLACE INTO stage_waits VALUES (?,?,?,?,?,NULL)",
                (pipeline, stage, execution_id, seq, owner),
            )
            if supersede:
                self._supersede(cur, pipeline, stage, execution_id, seq)

    def wait_leave(self, pipeline: str, stage: str, execution_id: str) -> None:
        """Take *execution_id* out of the line in front of *stage*."""
        self.write(
            [
                (
                    "DELETE FROM stage_waits WHERE pipeline=? AND stage=? AND execution_id=?",
                    (pipeline, stage, execution_id),
                )
            ]
        )

    def waiting(self, pipeline: str, stage: str) -> list[tuple[str, int, str | None]]:
        """``(execution_id, seq, superseded_by)`` of each execution waiting for *stage* in a live process."""
        rows = self._query(
            "SELECT execution_id, seq, owner, superseded_by FROM stage_waits WHERE pipeline=? AND stage=? ORDER BY seq",
            (pipeline, stage),
        )
        return [(eid, int(seq), by) for eid, seq, owner, by in rows if _pid_alive(owner) is not False]

    def supersede_waiting(self, pipeline: str, stage: str, execution_id: str, seq: int) -> None:
        """Mark every execution older than *seq* waiting for *stage* superseded by *execution_id*."""
        with self.transaction() as cur:
            self._supersede(cur, pipeline, stage, execution_id, seq)

    @staticmethod
    def _supersede(cur: sqlite3.Cursor, pipeline: str, stage: str, execution_id: str, seq: int) -> None:
        cur.execute(
            "UPDATE stage_waits SET superseded_by=? WHERE pipeline=? AND stage=? AND seq<? AND superseded_by IS NULL",
            (execution_id, pipeline, stage, seq),
        )

    # -- leases ----------------------------------------------------------------------------

    def acquire_lease(self, execution_id: str, owner: str, seconds: float) -> None:
        """
        Take (or renew) the right to advance *execution_id*.

        Raises:
            ExecutionError: when another live runner holds the lease.
        """
        now = time.time()
        with self.transaction() as cur:
            row = cur.execute(
                "SELECT lease_owner, lease_expires FROM executions WHERE id=?", (execution_id,)
            ).fetchone()
            if row is None:
                raise ExecutionError(f"no execution {execution_id} in {self.path}")
            holder, expires = row
            if holder and holder != owner and (expires or 0) > now and _pid_alive(holder) is not False:
                raise ExecutionError(
                    f"execution {execution_id} is being advanced by another runner ({holder}) until "
                    f"{datetime.fromtimestamp(expires, UTC).isoformat()}; wait for it, or stop it first"
                )
            cur.execute(
                "UPDATE executions SET lease_owner=?, lease_expires=? WHERE id=?", (owner, now + seconds, execution_id)
            )

    @staticmethod
    def op_renew(execution_id: str, owner: str, seconds: float) -> Op:
        """Extend the lease held by *owner*."""
        return (
            "UPDATE executions SET lease_expires=? WHERE id=? AND lease_owner=?",
            (time.time() + seconds, execution_id, owner),
        )

    @staticmethod
    def op_release(execution_id: str, owner: str) -> Op:
        """Give the lease up (the execution ended or paused)."""
        return (
            "UPDATE executions SET lease_owner=NULL, lease_expires=NULL WHERE id=? AND lease_owner=?",
            (execution_id, owner),
        )

    def interrupted(self) -> list[str]:
        """Executions left InProgress/Stopping by a runner that is gone (dead pid or lapsed lease)."""
        now = time.time()
        rows = self._query(
            "SELECT id, lease_owner, lease_expires FROM executions "
            "WHERE status IN ('InProgress','Stopping') ORDER BY seq"
        )
        out = []
        for execution_id, owner, expires in rows:
            alive = _pid_alive(owner) if owner else False
            if alive is False or (alive is None and (expires or 0) < now):
                out.append(execution_id)
        return out

    def next_number(self, counter: str) -> int:
        """Add one to *counter* and return it (1 the first time); counters live in ``meta``
        under ``counter:<name>``, so every runner of the workdir shares them."""
        key = f"counter:{counter}"
        with self.transaction() as cur:
            cur.execute(
                "INSERT INTO meta (key, value) VALUES (?, '1') "
                "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
                (key,),
            )
            row = cur.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return int(row[0])

    # -- reading ---------------------------------------------------------------------------

    def exists(self, execution_id: str) -> bool:
        """Whether *execution_id* is recorded."""
        return bool(self._query("SELECT 1 FROM executions WHERE id=?", (execution_id,)))

    def definition(self, execution_id: str) -> dict[str, Any]:
        """The pipeline declaration the execution ran (API JSON)."""
        rows = self._query("SELECT definition FROM executions WHERE id=?", (execution_id,))
        if not rows:
            raise KeyError(f"no execution {execution_id} in {self.path}")
        try:
            return _mapping(rows[0][0])
        except (ValueError, TypeError) as exc:
            raise self._unreadable(execution_id, "its pipeline definition", exc) from exc

    def source_revisions(self, execution_id: str) -> dict[str, str]:
        """The source revision overrides the execution started with."""
        rows = self._query("SELECT source_revisions FROM executions WHERE id=?", (execution_id,))
        try:
            return _mapping(rows[0][0]) if rows else {}
        except (ValueError, TypeError) as exc:
            raise self._unreadable(execution_id, "its source revisions", exc) from exc

    def seq(self, execution_id: str) -> int:
        """The execution's arrival number (higher is newer)."""
        rows = self._query("SELECT seq FROM executions WHERE id=?", (execution_id,))
        if not rows:
            raise KeyError(f"no execution {execution_id} in {self.path}")
        return int(rows[0][0])

    def namespaces(self, execution_id: str) -> dict[str, dict[str, str]]:
        """Namespace -> output variables of the latest successful attempt of each action."""
        rows = self._query(
            "SELECT namespace, output_variables FROM actions WHERE execution_id=? AND status='Succeeded' "
            "AND namespace IS NOT NULL ORDER BY attempt",
            (execution_id,),
        )
        out: dict[str, dict[str, str]] = {}
        try:
            for namespace, variables in rows:
                out[namespace] = _mapping(variables)
        except (ValueError, TypeError) as exc:
            raise self._unreadable(execution_id, "its output variables", exc) from exc
        return out

    def latest_in_stage(self, pipeline: str, stage: str) -> str | None:
        """The newest execution of *pipeline* that entered *stage* (any outcome)."""
        rows = self._query(
            "SELECT e.id FROM executions e JOIN stages s ON s.execution_id = e.id "
            "WHERE e.pipeline=? AND s.name=? ORDER BY e.seq DESC LIMIT 1",
            (pipeline, stage),
        )
        return rows[0][0] if rows else None

    def last_succeeded_in_stage(self, pipeline: str, stage: str, *, before: int | None = None) -> str | None:
        """The newest STANDARD execution whose latest attempt of *stage* succeeded."""
        rows = self._query(
            "SELECT e.id FROM executions e JOIN stages s ON s.execution_id = e.id "
            "WHERE e.pipeline=? AND s.name=? AND e.execution_type='STANDARD' AND s.status='Succeeded' "
            "AND s.attempt = (SELECT MAX(attempt) FROM stages WHERE execution_id=e.id AND name=s.name) "
            "AND (? IS NULL OR e.seq < ?) ORDER BY e.seq DESC LIMIT 1",
            (pipeline, stage, before, before),
        )
        return rows[0][0] if rows else None

    def audit(self, execution_id: str) -> list[dict[str, Any]]:
        """The audit trail of an execution: who approved, rejected, stopped, retried, when."""
        rows = self._query(
            "SELECT at, actor, event, stage, action, summary FROM audit WHERE execution_id=? ORDER BY id",
            (execution_id,),
        )
        return [
            {"at": _dt(at), "actor": actor, "event": event, "stage": stage, "action": action, "summary": summary}
            for at, actor, event, stage, action, summary in rows
        ]

    def ids_starting_with(self, prefix: str, *, limit: int = 10) -> list[str]:
        """Execution ids that begin with *prefix*, newest first: how the CLI takes a short id."""
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self._query(
            "SELECT id FROM executions WHERE id LIKE ? ESCAPE '\\' ORDER BY seq DESC LIMIT ?", (pattern, limit)
        )
        # LIKE ignores ASCII case; ids are matched exactly, as git matches object names.
        return [r[0] for r in rows if r[0].startswith(prefix)]

    def ids(
        self,
        pipeline: str | None = None,
        *,
        status: ExecutionStatus | str | None = None,
        succeeded_in_stage: str | None = None,
        limit: int = 100,
    ) -> list[str]:
        """Execution ids, newest first, filtered like ``ListPipelineExecutions``."""
        sql = "SELECT e.id FROM executions e WHERE 1=1"
        params: list[Any] = []
        if pipeline is not None:
            sql += " AND e.pipeline=?"
            params.append(pipeline)
        if status is not None:
            sql += " AND e.status=?"
            params.append(str(status))
        if succeeded_in_stage is not None:
            sql += (
                " AND EXISTS (SELECT 1 FROM stages s WHERE s.execution_id=e.id AND s.name=? AND s.status='Succeeded'"
                " AND s.attempt=(SELECT MAX(attempt) FROM stages WHERE execution_id=e.id AND name=s.name))"
            )
            params.append(succeeded_in_stage)
        sql += " ORDER BY e.seq DESC LIMIT ?"
        params.append(limit)
        return [r[0] for r in self._query(sql, params)]

    def load(self, execution_id: str) -> Execution:
        """
        The full :class:`Execution` record of *execution_id* (``KeyError`` if unknown).

        Raises:
            HistoryError: when its rows cannot be decoded (an unknown status, broken JSON),
                with :attr:`~pipeweaver.HistoryError.execution_id` set; other executions
                stay readable.
        """
        with self._lock, self._guard():
            row = self._db.execute(
                "SELECT id, pipeline, status, execution_type, rollback_target, trigger_type, trigger_detail, "
                "started_at, ended_at, status_summary FROM executions WHERE id=?",
                (execution_id,),
            ).fetchone()
            if row is None:
                raise KeyError(f"no execution {execution_id} in {self.path}")
            stages = self._db.execute(
                "SELECT name, attempt, status, started_at, ended_at, error FROM stages WHERE execution_id=? "
                "ORDER BY position, attempt",
                (execution_id,),
            ).fetchall()
            actions = self._db.execute(
                "SELECT stage, name, attempt, status, started_at, ended_at, resolved_configuration, output_variables, "
                "summary, error, log_file, external_execution_id FROM actions WHERE execution_id=? "
                "ORDER BY started_at, position",
                (execution_id,),
            ).fetchall()
            artifacts = self._db.execute(
                "SELECT name, uri, sha256, size FROM artifacts WHERE execution_id=? ORDER BY name", (execution_id,)
            ).fetchall()
            variables = self._db.execute(
                "SELECT name, value FROM variables WHERE execution_id=? ORDER BY name", (execution_id,)
            ).fetchall()
            rules = self._db.execute(
                "SELECT stage, condition, name, status, summary, at FROM rules WHERE execution_id=? ORDER BY id",
                (execution_id,),
            ).fetchall()
        # Each part is decoded on its own, so that the error says which rows are bad.
        what = "its execution row"
        try:
            status = ExecutionStatus(row[2])
            started_at, ended_at = _dt(row[7]), _dt(row[8])
            what = "its stage rows"
            stage_records = tuple(
                StageRecord(name=n, attempt=a, status=StageStatus(s), started_at=_dt(sa), ended_at=_dt(ea), error=err)
                for n, a, s, sa, ea, err in stages
            )
            what = "its action rows"
            action_records = tuple(
                ActionRecord(
                    stage=st,
                    name=n,
                    attempt=a,
                    status=ActionStatus(s),
                    started_at=_dt(sa),
                    ended_at=_dt(ea),
                    resolved_configuration=_mapping(rc),
                    output_variables=_mapping(ov),
                    summary=summ,
                    error=err,
                    log_file=lf,
                    external_execution_id=ext,
                )
                for st, n, a, s, sa, ea, rc, ov, summ, err, lf, ext in actions
            )
            what = "its rule rows"
            rule_records = tuple(
                RuleRecord(stage=st, condition=c, name=n, status=s, summary=summ, at=_dt(at))
                for st, c, n, s, summ, at in rules
            )
        except (ValueError, TypeError, OverflowError, OSError) as exc:
            raise self._unreadable(execution_id, what, exc) from exc
        return Execution(
            id=row[0],
            pipeline=row[1],
            status=status,
            execution_type=row[3],
            rollback_target=row[4],
            trigger=TriggerInfo(trigger_type=row[5], detail=row[6]),
            started_at=started_at,
            ended_at=ended_at,
            status_summary=row[9],
            stages=stage_records,
            actions=action_records,
            artifacts={n: ArtifactRef(name=n, uri=u, sha256=h, size=sz) for n, u, h, sz in artifacts},
            variables=dict(variables),
            rules=rule_records,
        )
