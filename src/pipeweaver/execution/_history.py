"""Durable execution history in an embedded SQLite database (WAL journal).

Layer: execution. The engine writes every state change here before acting on it, batching
the rows of one wave into one transaction. A lease column on each execution row makes sure
that only one runner advances an execution at a time; a runner that dies stops renewing its
lease, and :meth:`History.interrupted` finds what it left behind.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import ExecutionError
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
CREATE TABLE IF NOT EXISTS approvals (
    token TEXT PRIMARY KEY, execution_id TEXT NOT NULL, stage TEXT NOT NULL, action TEXT NOT NULL,
    status TEXT NOT NULL, summary TEXT, actor TEXT, requested_at REAL NOT NULL, decided_at REAL
);
"""

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
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode syncs at checkpoints, not at every commit: durable against a
        # killed process (the WAL is in the OS cache), without an fsync per wave.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.executescript(_SCHEMA)
        found = self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if found is None:
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif int(found[0]) > SCHEMA_VERSION:
            raise ExecutionError(
                f"{self.path} was written by a newer pipeweaver (history schema {found[0]}); upgrade pipeweaver "
                f"or use another work directory"
            )

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Cursor]:
        """One write transaction (``BEGIN IMMEDIATE``), committed on success."""
        with self._lock:
            cur = self._db.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
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
        with self._lock:
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

    # -- reading ---------------------------------------------------------------------------

    def exists(self, execution_id: str) -> bool:
        """Whether *execution_id* is recorded."""
        return bool(self._query("SELECT 1 FROM executions WHERE id=?", (execution_id,)))

    def definition(self, execution_id: str) -> dict[str, Any]:
        """The pipeline declaration the execution ran (API JSON)."""
        rows = self._query("SELECT definition FROM executions WHERE id=?", (execution_id,))
        if not rows:
            raise KeyError(f"no execution {execution_id} in {self.path}")
        data: dict[str, Any] = json.loads(rows[0][0])
        return data

    def source_revisions(self, execution_id: str) -> dict[str, str]:
        """The source revision overrides the execution started with."""
        rows = self._query("SELECT source_revisions FROM executions WHERE id=?", (execution_id,))
        return dict(json.loads(rows[0][0])) if rows else {}

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
        for namespace, variables in rows:
            out[namespace] = dict(json.loads(variables))
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
        """The full :class:`Execution` record of *execution_id* (``KeyError`` if unknown)."""
        with self._lock:
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
        return Execution(
            id=row[0],
            pipeline=row[1],
            status=ExecutionStatus(row[2]),
            execution_type=row[3],
            rollback_target=row[4],
            trigger=TriggerInfo(trigger_type=row[5], detail=row[6]),
            started_at=_dt(row[7]),
            ended_at=_dt(row[8]),
            status_summary=row[9],
            stages=tuple(
                StageRecord(name=n, attempt=a, status=StageStatus(s), started_at=_dt(sa), ended_at=_dt(ea), error=err)
                for n, a, s, sa, ea, err in stages
            ),
            actions=tuple(
                ActionRecord(
                    stage=st,
                    name=n,
                    attempt=a,
                    status=ActionStatus(s),
                    started_at=_dt(sa),
                    ended_at=_dt(ea),
                    resolved_configuration=json.loads(rc),
                    output_variables=json.loads(ov),
                    summary=summ,
                    error=err,
                    log_file=lf,
                    external_execution_id=ext,
                )
                for st, n, a, s, sa, ea, rc, ov, summ, err, lf, ext in actions
            ),
            artifacts={n: ArtifactRef(name=n, uri=u, sha256=h, size=sz) for n, u, h, sz in artifacts},
            variables=dict(variables),
            rules=tuple(
                RuleRecord(stage=st, condition=c, name=n, status=s, summary=summ, at=_dt(at))
                for st, c, n, s, summ, at in rules
            ),
        )
