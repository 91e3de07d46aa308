"""Starting executions locally: poll git repositories mapped to source actions, and cron.

Layer: execution. Uses :mod:`pipeweaver._triggers` to decide, and an executor's
``start(pipeline, source_revisions=..., trigger=...)`` to act; the executor applies the
pipeline's execution mode (SUPERSEDED, QUEUED, PARALLEL). Git is run as a subprocess
(``git for-each-ref`` / ``git log``); nothing is written to the repositories.
Schedules use :class:`~pipeweaver._cron.CronSchedule` (classic five-field cron).
"""

from __future__ import annotations

import hashlib
import inspect
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, final

import attrs

from .. import _catalog
from .._cron import CronSchedule
from .._model import Pipeline
from .._triggers import (
    GitPush,
    TriggerDecision,
    check_patterns,
    evaluate,
    evaluate_object_change,
    source_identity,
)
from ..errors import DefinitionError, ExecutionError, PipeweaverError
from ._base import Executor, TriggerInfo
from ._environment import base_environment

__all__ = [
    "CronSchedule",
    "Starter",
    "Watcher",
    "as_starter",
    "watch",
]


class Starter(Protocol):
    """
    **Protocol:** starts one execution and returns its handle (or any record).

    :func:`as_starter` turns an executor with ``start(pipeline, *, source_revisions=...,
    trigger=...)`` into one.
    """

    def __call__(self, pipeline: Pipeline, source_revisions: Mapping[str, str], trigger: TriggerInfo) -> Any: ...


def as_starter(target: Executor | Starter) -> Starter:
    """
    Wrap an executor (anything with ``start(pipeline, ...)``) or return a starter unchanged.

    The trigger is passed as ``trigger=`` when the executor's ``start`` accepts it.

    Raises:
        TypeError: when *target* is neither an executor nor a callable.

    .. versionadded:: 0.1.0
    """
    start = getattr(target, "start", None)
    if start is None:
        if callable(target):
            return target
        raise TypeError(f"expected an executor with start(...) or a starter callable, got {type(target).__name__}")
    try:
        takes_trigger = "trigger" in inspect.signature(start).parameters
    except (TypeError, ValueError):
        takes_trigger = False

    def starter(pipeline: Pipeline, source_revisions: Mapping[str, str], trigger: TriggerInfo) -> Any:
        if takes_trigger:
            return start(pipeline, source_revisions=dict(source_revisions) or None, trigger=trigger)
        return start(pipeline, source_revisions=dict(source_revisions) or None)

    return starter


# ---------------------------------------------------------------------------------------------
# git polling


def _git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), "-c", "core.quotepath=off", *args],
            capture_output=True,
            text=True,
            # The allow-listed environment: never serve's webhook secret or the host's tokens.
            env={**base_environment(), "GIT_TERMINAL_PROMPT": "0"},
            timeout=60,
            check=False,
        )
    except FileNotFoundError:
        raise ExecutionError("git is not installed or not on PATH; watch needs it to read repositories") from None
    if done.returncode != 0:
        raise ExecutionError(f"git {' '.join(args[:2])} failed in {repo}: {done.stderr.strip() or done.returncode}")
    return done.stdout


def read_refs(repo: Path) -> dict[str, str]:
    """``refs/heads/x`` / ``refs/tags/y`` -> commit id (annotated tags peeled to their commit)."""
    out = _git(repo, "for-each-ref", "--format=%(refname)%00%(objectname)%00%(*objectname)", "refs/heads", "refs/tags")
    refs: dict[str, str] = {}
    for line in out.splitlines():
        name, obj, peeled = [*line.split("\0"), "", ""][:3]
        refs[name] = peeled or obj
    return refs


def fingerprint(path: Path) -> str:
    """A content hash of a file, or of every file (relative path and bytes) under a folder."""
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        digest.update(str(file.relative_to(path) if file != path else file.name).encode() + b"\0")
        with file.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


def changed_files(repo: Path, new: str, known: Sequence[str]) -> tuple[str, ...]:
    """Files changed by the commits reachable from *new* but from none of *known*."""
    out = _git(repo, "log", "--name-only", "--pretty=format:", "--no-renames", new, "--not", *known, "--")
    return tuple(dict.fromkeys(line for line in out.splitlines() if line))


@final
@attrs.frozen(kw_only=True)
class Started:
    """
    One start made by a :class:`Watcher` or a webhook receiver.

    Attributes:
        decision: The trigger decision that led to it.
        trigger: What was recorded as having started the execution.
        handle: What the executor's ``start`` returned.

    .. versionadded:: 0.1.0
    """

    decision: TriggerDecision | None
    trigger: TriggerInfo
    handle: Any = attrs.field(eq=False, default=None)


class Watcher:
    """
    Polls local git repositories mapped to source actions and starts executions on new
    commits that the pipeline's triggers accept; optionally also starts on a cron schedule.

    The first poll only records where each branch and tag is. Later polls turn every moved or
    new ref into a :class:`~pipeweaver._triggers.GitPush` (with the files its new commits
    change) and start an execution when :func:`~pipeweaver._triggers.evaluate` says so.

    Args:
        pipeline: The pipeline to start.
        executor: An executor (``start(...)``) or a :class:`Starter` callable.
        sources: Source action name -> path of a local git repository (git sources) or of the
            folder or zip standing in for the object (S3 sources; a content change is a new version).
        interval: Seconds between polls in :meth:`run`.
        schedule: A five-field cron expression; ``None`` for no schedule.
        on_decision: Called with every decision (started or not), e.g. to print it.
        on_error: Called with a message when a poll or a start fails; the watcher carries on
            (messages are also kept in :attr:`errors`).
        event_wiring: Treat sources with ``PollForSourceChanges: 'false'`` as started by the
            EventBridge rules / webhooks you deploy (see :func:`pipeweaver.evaluate_trigger`).

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        pipeline: Pipeline,
        executor: Executor | Starter,
        *,
        sources: Mapping[str, str | Path] | None = None,
        interval: float = 5.0,
        schedule: str | None = None,
        on_decision: Callable[[TriggerDecision], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        event_wiring: bool = False,
    ) -> None:
        check_patterns(pipeline)
        self.pipeline = pipeline
        self._start = as_starter(executor)
        self.interval = interval
        self.schedule = CronSchedule.parse(schedule) if schedule else None
        self.on_decision = on_decision
        self.on_error = on_error
        self.event_wiring = event_wiring
        self.started: list[Started] = []
        self.errors: list[str] = []
        self._sources: dict[str, Path] = {}
        self._objects: dict[str, Path] = {}
        self._fingerprints: dict[str, str] = {}
        for name, path in (sources or {}).items():
            try:
                _stage, action = pipeline.find_action(name)
            except KeyError as exc:
                raise DefinitionError("sources", name, str(exc.args[0])) from None
            repo = Path(path)
            if action.provider == _catalog.S3_SOURCE.provider:
                # S3 sources are a local folder or zip standing in for the bucket object.
                if not repo.exists():
                    raise DefinitionError("sources", str(path), f"{repo} does not exist (S3 source {name!r})")
                self._objects[action.name] = repo
                continue
            if not (repo / ".git").exists() and not (repo / "HEAD").exists():
                raise DefinitionError("sources", str(path), f"{repo} is not a git repository (for action {name!r})")
            self._sources[action.name] = repo
        self._seen: dict[str, dict[str, str]] = {}
        self._next_fire: datetime | None = None
        self._stop = threading.Event()

    def poll_once(self) -> list[TriggerDecision]:
        """Read every mapped repository once; start executions for accepted pushes."""
        decisions: list[TriggerDecision] = []
        for action_name, repo in self._sources.items():
            try:
                refs = read_refs(repo)
            except ExecutionError as exc:
                # A repository that is briefly unreadable (deleted, locked) must not end the watch.
                self._error(f"polling {action_name} ({repo}) failed: {exc}")
                continue
            before = self._seen.get(action_name)
            self._seen[action_name] = refs
            if before is None:
                continue
            known = sorted(set(before.values()))
            _stage, action = self.pipeline.find_action(action_name)
            for ref, commit in sorted(refs.items()):
                if before.get(ref) == commit:
                    continue
                if ref.startswith("refs/tags/"):
                    event = GitPush(tag=ref, commit=commit, changed_files=(), repository=source_identity(action))
                else:
                    try:
                        files = changed_files(repo, commit, [before[ref]] if ref in before else known)
                    except ExecutionError as exc:
                        self._error(f"reading the changes of {ref} in {repo} failed: {exc}")
                        continue
                    event = GitPush(branch=ref, commit=commit, changed_files=files, repository=source_identity(action))
                decision = evaluate(self.pipeline, event, source_action=action_name, event_wiring=self.event_wiring)
                decisions.append(decision)
                if self.on_decision:
                    self.on_decision(decision)
                if decision.starts:
                    self._launch(decision, self._trigger_for(decision, ref))
        for action_name, path in self._objects.items():
            try:
                current = fingerprint(path)
            except OSError as exc:
                self._error(f"reading {action_name} ({path}) failed: {exc}")
                continue
            previous = self._fingerprints.get(action_name)
            self._fingerprints[action_name] = current
            if previous is None or previous == current:
                continue
            decision = evaluate_object_change(
                self.pipeline, action_name, detail=f"content {current[:12]}", event_wiring=self.event_wiring
            )
            decisions.append(decision)
            if self.on_decision:
                self.on_decision(decision)
            if decision.starts:
                trigger = TriggerInfo(
                    trigger_type=decision.trigger_type or "PollForSourceChanges",
                    detail=f"{path} changed (content {current[:12]}) for {action_name}",
                )
                self._launch(decision, trigger)
        return decisions

    def _trigger_for(self, decision: TriggerDecision, ref: str) -> TriggerInfo:
        # Locally a polled repository stands in for the connection webhook or the poller.
        kind = decision.trigger_type or "PollForSourceChanges"
        return TriggerInfo(
            trigger_type=kind,
            detail=f"{ref}@{decision.revision} on {decision.source_action}: {decision.reason}",
        )

    def _error(self, message: str) -> None:
        self.errors.append(message)
        if self.on_error:
            self.on_error(message)

    def _launch(self, decision: TriggerDecision | None, trigger: TriggerInfo) -> Started | None:
        revisions: dict[str, str] = {}
        if decision is not None and decision.source_action and decision.revision:
            revisions[decision.source_action] = decision.revision
        try:
            handle = self._start(self.pipeline, revisions, trigger)
        except PipeweaverError as exc:
            # An invalid pipeline or a missing handler fails this start only; the next change may run.
            self._error(f"starting an execution ({trigger.trigger_type}) failed: {exc}")
            return None
        record = Started(decision=decision, trigger=trigger, handle=handle)
        self.started.append(record)
        return record

    def tick(self, now: datetime | None = None) -> Started | None:
        """Start a scheduled execution if the schedule fired since the last tick."""
        if self.schedule is None:
            return None
        now = now or datetime.now(UTC)
        if self._next_fire is None:
            # The first tick only arms the schedule: starting `watch` is not a firing.
            self._next_fire = self.schedule.next_after(now)
            return None
        if now < self._next_fire:
            return None
        fired = self._next_fire
        self._next_fire = self.schedule.next_after(now)
        trigger = TriggerInfo(
            trigger_type="Schedule", detail=f"cron '{self.schedule.expression}' at {fired:%Y-%m-%dT%H:%MZ}"
        )
        return self._launch(None, trigger)

    def run(self, *, max_polls: int | None = None) -> None:
        """Poll and tick until :meth:`stop` is called (or *max_polls* polls were made)."""
        polls = 0
        while not self._stop.is_set():
            if self._sources or self._objects:
                self.poll_once()
            self.tick()
            polls += 1
            if max_polls is not None and polls >= max_polls:
                return
            wait = self.interval
            if self._next_fire is not None:
                wait = max(0.05, min(wait, (self._next_fire - datetime.now(UTC)).total_seconds()))
            self._stop.wait(wait)

    def stop(self) -> None:
        """Ask :meth:`run` to return after the current poll (safe from any thread or a signal)."""
        self._stop.set()


def watch(
    pipeline: Pipeline,
    executor: Executor | Starter,
    *,
    sources: Mapping[str, str | Path] | None = None,
    interval: float = 5.0,
    schedule: str | None = None,
    on_decision: Callable[[TriggerDecision], None] | None = None,
    on_error: Callable[[str], None] | None = None,
    event_wiring: bool = False,
    max_polls: int | None = None,
) -> Watcher:
    """
    Poll *sources* (and/or follow *schedule*) and start executions of *pipeline*; blocks.

    Returns the :class:`Watcher` after it stops (``max_polls`` reached or ``stop()`` called
    from another thread), so callers can read ``started``.

    .. versionadded:: 0.1.0
    """
    if not sources and not schedule:
        raise DefinitionError("sources", sources, "give at least one source repository or a schedule")
    watcher = Watcher(
        pipeline,
        executor,
        sources=sources,
        interval=interval,
        schedule=schedule,
        on_decision=on_decision,
        on_error=on_error,
        event_wiring=event_wiring,
    )
    watcher.run(max_polls=max_polls)
    return watcher
