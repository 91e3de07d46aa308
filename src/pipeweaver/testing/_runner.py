"""``run_with_fakes``: run a pipeline locally with chosen actions replaced by fakes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .._model import Pipeline
from ..execution._base import ActionContext, ActionResult, Execution

__all__ = ["run_with_fakes"]

Handler = Callable[[ActionContext], ActionResult | None]


def run_with_fakes(
    pipeline: Pipeline,
    fakes: Mapping[str, Handler] | None = None,
    *,
    workdir: Path | str,
    approval: Any = "approve",
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
    from ..execution import LocalExecutor  # type: ignore[attr-defined]

    executor = LocalExecutor(workdir=Path(workdir), approval=approval, **executor_options)
    overrides = getattr(executor, "override", None)
    if callable(overrides):
        for (stage_name, action_name), handler in by_action.items():
            overrides(stage_name, action_name, handler)
        return executor.run(pipeline, variables=variables)  # type: ignore[no-any-return]
    raise NotImplementedError("this LocalExecutor has no per-action handler override")
