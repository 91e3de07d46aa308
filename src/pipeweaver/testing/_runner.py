"""``run_with_fakes``: run a pipeline locally with chosen actions replaced by fakes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .._model import Pipeline
from ..execution import ActionContext, ActionResult, ApprovalPolicy, Execution, LocalExecutor

__all__ = ["run_with_fakes"]

Handler = Callable[[ActionContext], ActionResult | None]


def run_with_fakes(
    pipeline: Pipeline,
    fakes: Mapping[str, Handler] | None = None,
    *,
    workdir: Path | str,
    approval: ApprovalPolicy = "approve",
    variables: Mapping[str, str] | None = None,
    others: str = "fake",
    **executor_options: Any,
) -> Execution:
    """
    Run *pipeline* with a ``LocalExecutor`` in *workdir*, replacing actions by fakes.

    Args:
        fakes: ``"Action"`` or ``"Stage/Action"`` -> handler (see :func:`~pipeweaver.testing.fake`
            and :func:`~pipeweaver.testing.recording`).
        workdir: Folder for the history and artifacts (a pytest ``tmp_path`` is ideal).
        approval: Manual approvals: ``"approve"``, ``"reject"`` or a callable, as ``LocalExecutor`` takes.
        variables: Pipeline variable values for this execution.
        others: What runs actions with no fake (approvals excepted): ``"fake"`` (a succeeding fake
            that fills each output with a marker file) or ``"builtin"`` (the executor's own handlers).
        executor_options: Passed on to ``LocalExecutor``.

    Raises:
        KeyError: when a key of *fakes* names no action of the pipeline.

    .. versionadded:: 0.1.0
    """
    from ._fakes import fake

    if others not in ("fake", "builtin"):
        raise ValueError(f"others must be 'fake' or 'builtin', not {others!r}")
    by_action: dict[tuple[str, str], Handler] = {}
    for key, handler in (fakes or {}).items():
        stage, action = pipeline.find_action(key)
        by_action[(stage.name, action.name)] = handler
    if others == "fake":
        default = fake()
        for stage, action in pipeline.actions():
            if action.category != "Approval":
                by_action.setdefault((stage.name, action.name), default)
    handlers: dict[Any, Handler] = dict(executor_options.pop("handlers", None) or {})
    # "Stage/Action" keys win over action-type keys in the executor's handler registry.
    handlers.update({f"{stage}/{action}": handler for (stage, action), handler in by_action.items()})
    executor = LocalExecutor(workdir=Path(workdir), approval=approval, handlers=handlers, **executor_options)
    try:
        return executor.run(pipeline, variables=variables)
    finally:
        executor.close()
