"""One rule of a stage condition (beforeEntry, onSuccess, onFailure), run on a thread of its own.

Layer: execution. The engine (:mod:`._run`) walks the conditions and records each rule's
outcome; this module runs one rule with its handler and turns every way it can end into AWS's
rule states (``Succeeded``, ``Failed``, ``Errored``).
"""

from __future__ import annotations

import contextlib
import enum
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from .._masking import Masker
from .._model import Pipeline, Stage
from ..errors import ArtifactError, ExecutionError
from ._attempt import fail_expression
from ._base import ActionFailed, ArtifactRef, ArtifactStore, Event, LogLine
from ._capture import routed
from ._rules import RuleContext, RuleFailed, RuleHandler

__all__ = ["Overrides", "RuleOutcome", "overridden", "run_rule"]


class RuleOutcome(enum.StrEnum):
    """How a rule ended (AWS's rule states; ``RuleRecord.status`` holds the value)."""

    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    ERRORED = "Errored"


def run_rule(
    *,
    handler: RuleHandler | None,
    pipeline: Pipeline,
    stage: Stage,
    kind: str,
    rule: Any,
    now: datetime,
    execution_id: str,
    directory: Path,
    resolve: Callable[[str], str],
    artifact: Callable[[str], ArtifactRef | None],
    store: ArtifactStore,
    environment: dict[str, str],
    emit: Callable[[Event], None],
    clock_now: Callable[[], datetime],
    masker: Masker,
    timeout: float | None,
    cancels: set[threading.Event],
) -> tuple[RuleOutcome, str]:
    """Run *rule*; return its outcome and summary (masked). *timeout* overrides the rule's own."""
    if handler is None:
        return RuleOutcome.ERRORED, f"no local handler for rule provider {rule.rule_type.provider}"
    cancel = threading.Event()
    try:
        config = {
            k: resolve(str(v) if isinstance(v, str) else fail_expression(k)) for k, v in rule.configuration.items()
        }
        directory.mkdir(parents=True, exist_ok=True)
        inputs = {}
        for art in rule.inputs:
            ref = artifact(art.name)
            if ref is None:
                raise RuleFailed(f"input artifact {art.name!r} was not produced in this execution")
            path = directory / "in" / art.name
            store.get(ref, path)
            inputs[art.name] = path
        name = str(pipeline.name)
        ctx = RuleContext(
            pipeline=pipeline,
            stage=stage,
            rule=rule,
            condition=kind,
            execution_id=execution_id,
            configuration=config,
            workdir=directory,
            now=now,
            inputs=inputs,
            environment=environment,
            cancel=cancel,
            log=lambda line: emit(
                LogLine(
                    execution_id=execution_id,
                    pipeline=name,
                    at=clock_now(),
                    stage=stage.name,
                    action=f"rule:{rule.name}",
                    line=masker(line),
                )
            ),
        )
        # The engine waits for every rule of a condition; a timer (or an abandon) tells long ones to stop.
        minutes = rule.timeout_in_minutes or (55 if rule.rule_type.provider == "Commands" else 60)
        timer = threading.Timer(timeout if timeout is not None else minutes * 60.0, cancel.set)
        timer.daemon = True
        timer.start()
        cancels.add(cancel)
        try:
            # What a rule function prints belongs to the rule's log, masked like the rest.
            with routed(ctx.log):
                verdict = handler(ctx)
        finally:
            timer.cancel()
            cancels.discard(cancel)
        if cancel.is_set():
            return RuleOutcome.FAILED, f"rule {rule.name} timed out or was stopped"
    except (RuleFailed, ActionFailed, ArtifactError) as exc:
        return RuleOutcome.FAILED, masker(str(exc))
    except Exception as exc:
        return RuleOutcome.ERRORED, masker(f"{type(exc).__name__}: {exc}")
    if verdict is None or verdict is True:
        return RuleOutcome.SUCCEEDED, f"rule {rule.name} passed"
    return RuleOutcome.FAILED, masker(verdict if isinstance(verdict, str) else f"rule {rule.name} failed")


class Overrides:
    """OverrideStageCondition in one execution: the condition being evaluated, and who overrode it.

    The engine evaluates one condition at a time (``Stage/KIND``); an override is accepted only
    for that one (AWS's ConditionNotOverridableException otherwise), tells its running rules to
    stop (*cancels*), and makes the condition pass when its rules have ended.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._evaluating: str | None = None
        self._by: dict[str, str] = {}

    @contextlib.contextmanager
    def evaluating(self, stage: str, kind: str) -> Iterator[None]:
        """The condition *kind* of *stage* is evaluated inside this block."""
        with self._lock:
            self._evaluating = f"{stage}/{kind}"
        try:
            yield
        finally:
            with self._lock:
                self._evaluating = None
                self._by.pop(f"{stage}/{kind}", None)

    def request(self, stage: str, kind: str, by: str, *, execution_id: str, cancels: set[threading.Event]) -> None:
        """Override the condition *kind* of *stage* (``ExecutionError`` when it is not being evaluated)."""
        key = f"{stage}/{kind}"
        with self._lock:
            if self._evaluating != key:
                now = f"; now evaluating {self._evaluating}" if self._evaluating else ""
                raise ExecutionError(
                    f"the {kind} condition of stage {stage} is not in progress in execution {execution_id}{now} "
                    "(ConditionNotOverridableException)"
                )
            self._by[key] = by
        for cancel in list(cancels):
            cancel.set()

    def by(self, stage: str, kind: str) -> str | None:
        """Who overrode the condition *kind* of *stage* while it was evaluated, if anyone."""
        with self._lock:
            return self._by.get(f"{stage}/{kind}")


def overridden(outcome: RuleOutcome, summary: str, by: str | None) -> tuple[str, str]:
    """A rule's recorded status and summary: ``Abandoned`` when its condition was overridden before it succeeded."""
    if by is None or outcome is RuleOutcome.SUCCEEDED:
        return outcome.value, summary
    return "Abandoned", f"{summary} (the condition was overridden by {by})"
