"""Every state change is on disk before anything acts on it, across stage transitions too.

A stage that succeeds is written together with the next stage's start and its first wave's
starts (one transaction); these tests read the history through a second SQLite connection at
the moment each event is delivered, and check what another execution and the thread pool see.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pipeweaver as pw
from pipeweaver.execution import (
    ActionContext,
    ActionFinished,
    ActionStarted,
    Event,
    ExecutionStarted,
    LocalExecutor,
    StageFinished,
    StageStarted,
)

from .conftest import custom, pipeline


def _stage_rows(db: Path, execution_id: str) -> dict[str, str]:
    with sqlite3.connect(db) as con:
        rows = con.execute(
            "SELECT name, status FROM stages WHERE execution_id=? ORDER BY attempt", (execution_id,)
        ).fetchall()
    return dict(rows)


def _action_status(db: Path, execution_id: str, stage: str, action: str) -> str | None:
    with sqlite3.connect(db) as con:
        row = con.execute(
            "SELECT status FROM actions WHERE execution_id=? AND stage=? AND name=? ORDER BY attempt DESC",
            (execution_id, stage, action),
        ).fetchone()
    return row[0] if row else None


def test_each_event_is_delivered_after_its_state_is_committed(tmp_path: Path) -> None:
    """At every stage and action event, another connection already reads the state it reports."""
    db = tmp_path / "wd" / "history.sqlite3"
    seen: list[str] = []
    problems: list[str] = []

    def observe(event: Event) -> None:
        if isinstance(event, StageStarted | StageFinished):
            want = "InProgress" if isinstance(event, StageStarted) else event.status.value
            got = _stage_rows(db, event.execution_id).get(event.stage)
            if got != want:
                problems.append(f"{type(event).__name__} {event.stage}: history has {got}")
        elif isinstance(event, ActionStarted | ActionFinished):
            want = "InProgress" if isinstance(event, ActionStarted) else event.status.value
            got = _action_status(db, event.execution_id, event.stage, event.action) or "missing"
            if got != want:
                problems.append(f"{type(event).__name__} {event.stage}/{event.action}: history has {got}")
        if isinstance(event, StageStarted):
            # The stage before it ended on disk before this one started.
            stages = _stage_rows(db, event.execution_id)
            seen.append(",".join(f"{k}={v}" for k, v in stages.items()))

    p = pipeline(*(pw.Stage(name=f"S{i}", actions=[custom("A"), custom("B")]) for i in range(4)))
    x = LocalExecutor(
        tmp_path / "wd", handlers={"Build/Custom/Fake/1": lambda ctx: None}, observers=[observe], validate=False
    )

    e = x.run(p)

    assert e.succeeded
    assert [] == problems
    assert [
        "S0=InProgress",
        "S0=Succeeded,S1=InProgress",
        "S0=Succeeded,S1=Succeeded,S2=InProgress",
        "S0=Succeeded,S1=Succeeded,S2=Succeeded,S3=InProgress",
    ] == seen


def test_a_queued_execution_enters_a_stage_only_after_the_previous_one_left_it_on_disk(tmp_path: Path) -> None:
    """QUEUED: the second execution starts stage S0 only once the first's S0 end is committed."""
    db = tmp_path / "wd" / "history.sqlite3"
    first_id: list[str] = []
    at_entry: list[str | None] = []
    release = threading.Event()

    def handler(ctx: ActionContext) -> None:
        if ctx.stage.name == "S1" and ctx.execution_id == first_id[0]:
            release.wait(10)

    def observe(event: Event) -> None:
        if isinstance(event, ExecutionStarted) and not first_id:
            first_id.append(event.execution_id)  # delivered before its engine starts
        if isinstance(event, StageStarted) and event.stage == "S0" and event.execution_id != first_id[0]:
            at_entry.append(_stage_rows(db, first_id[0]).get("S0"))
            release.set()

    p = pipeline(
        *(pw.Stage(name=f"S{i}", actions=[custom("A")]) for i in range(3)),
        execution_mode="QUEUED",
    )
    x = LocalExecutor(tmp_path / "wd", handlers={"Build/Custom/Fake/1": handler}, observers=[observe], validate=False)
    one = x.start(p)
    time.sleep(0.05)  # the first holds S0 or S1 by now; either way the second waits its turn
    two = x.start(p)

    assert one.wait(20).succeeded
    assert two.wait(20).succeeded
    assert ["Succeeded"] == at_entry


def test_actions_never_run_beyond_max_parallel_and_threads_are_reused(tmp_path: Path) -> None:
    """Three concurrent executions of 6-wide waves on max_parallel=3: at most 3 actions at once."""
    lock = threading.Lock()
    running = [0, 0]  # now, peak

    def handler(ctx: ActionContext) -> None:
        with lock:
            running[0] += 1
            running[1] = max(running[1], running[0])
        time.sleep(0.01)
        with lock:
            running[0] -= 1

    p = pipeline(
        *(pw.Stage(name=f"S{i}", actions=[custom(f"A{j}") for j in range(6)]) for i in range(2)),
        execution_mode="PARALLEL",
    )
    before = set(threading.enumerate())
    with LocalExecutor(tmp_path / "wd", handlers={"Build/Custom/Fake/1": handler}, max_parallel=3, validate=False) as x:
        handles = [x.start(p) for _ in range(3)]
        assert all(h.wait(30).succeeded for h in handles)
        threads = [t for t in set(threading.enumerate()) - before if t.name.startswith("pipeweaver-action")]

    assert 3 == running[1]
    assert len(threads) <= 3
