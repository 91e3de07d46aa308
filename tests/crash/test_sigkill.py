"""Crash safety: SIGKILL the local executor at random points; the history survives and the run can finish.

Each trial starts a real runner process on its own work directory, lets it run for a random
time while a reader polls the SQLite history for committed rows, kills it with SIGKILL, then
checks from a fresh executor: the history opens and passes ``PRAGMA integrity_check``; every
row the reader saw committed is still there; every stored artifact matches its sha256; an
interrupted execution is marked and a retry of its failed stage runs it to success.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from pipeweaver.execution import ExecutionStatus, StageStatus

from . import _pipeline

CHILD = Path(__file__).resolve().parent / "_child.py"
TRIALS_MID_RUN = 50
MAX_TRIALS = 90
RUN_SECONDS = _pipeline.STAGES * 0.08

Row = tuple[object, ...]


@dataclass
class Trial:
    delay: float
    seen: set[Row] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    mid_run: bool = False
    outcome: str = ""


def _committed(db: Path) -> set[Row]:
    """Rows a concurrent reader sees committed: finished actions, stages and artifacts."""
    if not db.exists():
        return set()
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            actions = con.execute(
                "SELECT 'action', execution_id, stage, name, attempt, status FROM actions WHERE status != 'InProgress'"
            ).fetchall()
            stages = con.execute(
                "SELECT 'stage', execution_id, name, attempt, status, '' FROM stages WHERE status != 'InProgress'"
            ).fetchall()
            artifacts = con.execute(
                "SELECT 'artifact', execution_id, name, uri, sha256, size FROM artifacts"
            ).fetchall()
        finally:
            con.close()
    except sqlite3.OperationalError:
        return set()  # the schema is not there yet
    return set(actions) | set(stages) | set(artifacts)


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"runner exited early: {proc.stderr.read() if proc.stderr else ''}")
        if time.monotonic() > deadline:
            raise AssertionError(f"runner never became ready ({path})")
        time.sleep(0.002)


def _verify(workdir: Path, trial: Trial) -> None:
    db = workdir / "history.sqlite3"
    if db.exists():
        con = sqlite3.connect(db)
        try:
            check = con.execute("PRAGMA integrity_check").fetchone()
        finally:
            con.close()
        if check != ("ok",):
            trial.problems.append(f"integrity_check: {check}")
    x = _pipeline.executor(workdir)
    try:
        after = _committed(db)
        lost = trial.seen - after
        if lost:
            trial.problems.append(f"committed rows lost after SIGKILL: {sorted(map(str, lost))[:3]}")
        for row in after:
            if row[0] == "artifact":
                path = Path(unquote(urlparse(str(row[3])).path))
                if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != row[4]:
                    trial.problems.append(f"artifact {row[2]} at {path} fails its hash")
        executions = x.history(_pipeline.NAME)
        if len(executions) > 1:
            trial.problems.append(f"one run made {len(executions)} executions")
        if not executions:
            trial.outcome = "killed before the execution was recorded"
            return
        [execution] = executions
        if execution.status is ExecutionStatus.SUCCEEDED:
            trial.outcome = "killed after the execution succeeded"
            return
        trial.mid_run = True
        if execution.status is not ExecutionStatus.IN_PROGRESS:
            trial.problems.append(f"a killed run is recorded {execution.status.value}, not InProgress")
        marked = x.mark_interrupted()
        if marked != [execution.id]:
            trial.problems.append(f"mark_interrupted returned {marked}, expected [{execution.id}]")
        failed = [s.name for s in x.execution(execution.id).stages if s.status is StageStatus.FAILED]
        if not failed:
            # killed between two stages: nothing ran in the next one yet
            stages = x.execution(execution.id).stages
            trial.problems.append(
                f"interrupted execution has no failed stage to retry: {[(s.name, s.status.value) for s in stages]}"
            )
            return
        done = x.retry(execution.id, failed[-1], wait=True)
        trial.outcome = f"interrupted in {failed[-1]}, retried: {done.status.value}"
        if done.status is not ExecutionStatus.SUCCEEDED:
            trial.problems.append(f"retry of {failed[-1]} ended {done.status.value}: {done.status_summary}")
        for name, ref in done.artifacts.items():
            path = Path(unquote(urlparse(ref.uri).path))
            if hashlib.sha256(path.read_bytes()).hexdigest() != ref.sha256:
                trial.problems.append(f"artifact {name} of the retried execution fails its hash")
    finally:
        x.close()


def _trial(base: Path, index: int, delay: float) -> Trial:
    trial = Trial(delay=delay)
    workdir, ready = base / f"t{index}" / "wd", base / f"t{index}" / "ready"
    workdir.parent.mkdir(parents=True)
    proc = _spawn("run", str(workdir), str(ready))
    try:
        _wait_for(ready, proc)
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline and proc.poll() is None:
            trial.seen |= _committed(workdir / "history.sqlite3")
            time.sleep(0.005)
        trial.seen |= _committed(workdir / "history.sqlite3")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    _verify(workdir, trial)
    return trial


def test_sigkill_at_random_points_loses_nothing_and_retries_to_success(tmp_path: Path) -> None:
    """At least 50 SIGKILLs mid-run: history intact, no committed row lost, artifacts hash-clean, retry succeeds."""
    rng = random.Random(int(os.environ.get("PIPEWEAVER_CRASH_SEED", "9")))
    trials: list[Trial] = []
    index = 0
    with ThreadPoolExecutor(max_workers=4) as pool:
        while sum(t.mid_run for t in trials) < TRIALS_MID_RUN and index < MAX_TRIALS:
            batch = [(index + i, rng.uniform(0.0, RUN_SECONDS)) for i in range(8)]
            index += len(batch)
            trials.extend(pool.map(lambda job: _trial(tmp_path, *job), batch))

    outcomes = Counter(t.outcome.split(",")[0] for t in trials)
    print(f"{len(trials)} kills: {dict(outcomes)}")
    problems = [(round(t.delay, 3), p) for t in trials for p in t.problems]
    assert [] == problems, "\n".join(map(str, problems))
    assert sum(t.mid_run for t in trials) >= TRIALS_MID_RUN


def _attempts(workdir: Path, execution_id: str, stage: str) -> Counter[str]:
    x = _pipeline.executor(workdir)
    try:
        return Counter(a.name for a in x.execution(execution_id).actions if a.stage == stage)
    finally:
        x.close()


def _interrupted(base: Path) -> tuple[Path, str, str]:
    """A work directory holding a killed, marked execution, its id and its failed stage."""
    for attempt in range(20):
        workdir, ready = base / f"race{attempt}" / "wd", base / f"race{attempt}" / "ready"
        workdir.parent.mkdir(parents=True)
        proc = _spawn("run", str(workdir), str(ready))
        try:
            _wait_for(ready, proc)
            time.sleep(RUN_SECONDS / 2)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=30)
        x = _pipeline.executor(workdir)
        try:
            marked = x.mark_interrupted()
            if marked:
                failed = [s.name for s in x.execution(marked[0]).stages if s.status is StageStatus.FAILED]
                return workdir, marked[0], failed[-1]
        finally:
            x.close()
    raise AssertionError("no kill landed mid-run in 20 attempts")


def test_two_runners_on_one_workdir_exactly_one_advances(tmp_path: Path) -> None:
    """Two runner processes retrying one interrupted execution at the same instant: one advances, one is refused."""
    results = []
    for round_ in range(3):
        workdir, execution_id, stage = _interrupted(tmp_path / f"round{round_}")
        before = _attempts(workdir, execution_id, stage)
        go = workdir.parent / "go"
        procs, readies = [], []
        for n in range(2):
            ready = workdir.parent / f"ready-retry{n}"
            procs.append(_spawn("retry", str(workdir), str(ready), str(go), execution_id, stage))
            readies.append(ready)
        for ready, proc in zip(readies, procs, strict=True):
            _wait_for(ready, proc)
        go.touch()
        outputs = sorted(proc.communicate(timeout=60)[0].strip().split(" ", 1)[0] for proc in procs)
        x = _pipeline.executor(workdir)
        try:
            status = x.execution(execution_id).status.value
        finally:
            x.close()
        after = _attempts(workdir, execution_id, stage)
        # each action of the stage ran at most once more: one runner advanced, not two
        results.append((outputs, status, max(after[name] - before[name] for name in after)))

    assert [(["advanced", "refused"], "Succeeded", 1)] * 3 == results


def test_a_retry_that_loses_the_race_after_its_checks_does_not_run_again(tmp_path: Path) -> None:
    """Runner B checked the execution while A was retrying it; when B gets the lease after A finished, B refuses."""
    from pipeweaver.errors import ExecutionError

    workdir, execution_id, stage = _interrupted(tmp_path)
    first, second = _pipeline.executor(workdir), _pipeline.executor(workdir)
    acquire = second.history_store.acquire_lease
    outcome: dict[str, str] = {}

    def late_acquire(eid: str, owner: str, seconds: float) -> None:
        # B has passed its checks; A retries and finishes before B takes the lease
        outcome["first"] = first.retry(execution_id, stage, wait=True).status.value
        acquire(eid, owner, seconds)

    second.history_store.acquire_lease = late_acquire  # type: ignore[method-assign]
    try:
        try:
            done = second.retry(execution_id, stage, wait=True)
            outcome["second"] = f"advanced {done.status.value}"
        except ExecutionError as exc:
            outcome["second"] = "refused" if "Succeeded" in str(exc) else f"refused: {exc}"
    finally:
        first.close()
        second.close()
    after = _attempts(workdir, execution_id, stage)

    assert {"first": "Succeeded", "second": "refused"} == outcome
    assert max(after.values()) <= 2  # the interrupted attempt and A's retry, never a third
