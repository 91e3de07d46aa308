"""``pipeweaver retry`` and ``pipeweaver override``: continue an ended local execution, or steer a running one.

Layer: cli. ``retry`` re-runs a failed stage (RetryStageExecution). ``override``
(OverrideStageCondition) reaches an execution still running in a ``pipeweaver run`` process
the way approvals do: it leaves a request file under the work directory, which that process
applies within a second (``_run._apply_overrides``); an execution that ended because the
condition failed is continued here, as ``retry`` continues one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click

from .. import RetryMode
from ..execution import LocalExecutionHandle, LocalExecutor, Observer
from ._app import main, write_atomic
from ._progress import LiveProgress
from ._run import (
    _approval_policy,
    _definition,
    _drive,
    _effective_mode,
    _exit_for,
    _full_id,
    _history_executor,
    _recorded,
    _who,
    _workdir,
    override_request,
)
from ._secrets import _secret_flags, _Secrets, pass_env

__all__: list[str] = []

_KINDS = ("BEFORE_ENTRY", "ON_SUCCESS")


@main.command()
@click.argument("execution_id")
@click.argument("stage")
@click.option("--all-actions", is_flag=True, help="Re-run every action of the stage, not only the failed ones.")
@click.option(
    "--approve",
    type=click.Choice(["auto", "prompt", "reject", "wait"]),
    default=None,
    help="As for 'run': prompt in a terminal; required without one when the pipeline has approvals.",
)
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="Write an HTML report to FILE.")
@_secret_flags
@pass_env
@click.option("--plain", is_flag=True, help="Plain lines even in a terminal.")
@_workdir
def retry(
    execution_id: str,
    stage: str,
    all_actions: bool,
    approve: str | None,
    report: Path | None,
    secrets: tuple[str, ...],
    secret_files: tuple[Path, ...],
    secret_env: tuple[str, ...],
    pass_env: tuple[str, ...],
    plain: bool,
    workdir: Path,
) -> None:
    """Retry STAGE of a failed or stopped execution, then continue it.

    The secret files and environment variables the execution was run with are read again
    (their values were never stored); --secret values must be given again.

    EXECUTION_ID may be shortened to any beginning that only one execution has.
    """
    mode = RetryMode.ALL_ACTIONS if all_actions else RetryMode.FAILED_ACTIONS
    continue_execution(
        execution_id,
        stage,
        lambda executor, full_id: executor.retry(full_id, stage, mode=mode, by="cli"),
        approve=approve,
        report=report,
        secrets=secrets,
        secret_files=secret_files,
        secret_env=secret_env,
        pass_env=pass_env,
        plain=plain,
        workdir=workdir,
    )


def continue_execution(
    execution_id: str,
    stage: str,
    resume: Callable[[LocalExecutor, str], LocalExecutionHandle],
    *,
    approve: str | None,
    report: Path | None,
    secrets: tuple[str, ...],
    secret_files: tuple[Path, ...],
    secret_env: tuple[str, ...],
    pass_env: tuple[str, ...],
    plain: bool,
    workdir: Path,
) -> None:
    """Continue an ended execution at *stage* in this process (retry, override), with progress.

    The secret files and environment variables it was run with are read again; *resume* gets
    the executor and the execution's full id and returns the handle of the continued run.
    """
    probe = _history_executor(workdir)
    execution_id = _full_id(probe, execution_id, workdir)
    before = _recorded(probe, execution_id, workdir)
    pipeline = _definition(probe, execution_id)
    if pipeline is None:
        raise click.ClickException(f"the pipeline definition of {execution_id} is not in the history")
    if stage not in [s.name for s in pipeline.stages]:
        raise click.UsageError(
            f"pipeline {before.pipeline} has no stage {stage!r}; it has {[s.name for s in pipeline.stages]}"
        )
    given_secrets = _Secrets.for_retry(workdir, execution_id, secrets, secret_files, secret_env)
    approval_mode = _effective_mode(approve, pipeline)

    def start(observers: list[Observer], live: LiveProgress | None) -> LocalExecutionHandle:
        executor = LocalExecutor(
            workdir=workdir,
            approval=_approval_policy(approval_mode, live, workdir),
            observers=observers,
            secrets=dict(given_secrets.store),
            env_passthrough=pass_env,
        )
        given_secrets.arm(executor)
        given_secrets.record(workdir, execution_id)
        return resume(executor, execution_id)

    execution = _drive(
        start,
        pipeline,
        plain=plain,
        report=report,
        workdir=workdir,
        secrets=given_secrets.all_values,
        prompting=approval_mode == "prompt",
    )
    _exit_for(execution)


@main.command()
@click.argument("execution_id")
@click.argument("stage")
@click.option(
    "--condition",
    "kind",
    type=click.Choice(_KINDS),
    default="BEFORE_ENTRY",
    show_default=True,
    help="Which condition of STAGE to override.",
)
@click.option(
    "--approve",
    type=click.Choice(["auto", "prompt", "reject", "wait"]),
    default=None,
    help="For an ended execution continued here, as for 'run'.",
)
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="Write an HTML report to FILE.")
@_secret_flags
@pass_env
@click.option("--plain", is_flag=True, help="Plain lines even in a terminal.")
@_workdir
def override(
    execution_id: str,
    stage: str,
    kind: str,
    approve: str | None,
    report: Path | None,
    secrets: tuple[str, ...],
    secret_files: tuple[Path, ...],
    secret_env: tuple[str, ...],
    pass_env: tuple[str, ...],
    plain: bool,
    workdir: Path,
) -> None:
    """Override STAGE's BEFORE_ENTRY or ON_SUCCESS condition (OverrideStageCondition).

    While the condition is being evaluated by a running 'pipeweaver run', it passes at once
    (that process applies the override within a second). When the execution ended because the
    condition failed, it continues here: the stage is entered, or (ON_SUCCESS) counts as
    succeeded and the next stage runs; secrets are given again as for 'retry'.
    """
    probe = _history_executor(workdir)
    full_id = _full_id(probe, execution_id, workdir)
    execution = _recorded(probe, full_id, workdir)
    if not execution.status.is_terminal:
        path = override_request(workdir, full_id, stage, kind)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps({"by": _who()}))
        click.echo(
            f"asked to override the {kind} condition of stage {stage} of execution {full_id}; "
            "the running `pipeweaver run` applies it within a second"
        )
        return
    continue_execution(
        full_id,
        stage,
        lambda executor, eid: executor.override_stage_condition(eid, stage, kind, by=_who()),
        approve=approve,
        report=report,
        secrets=secrets,
        secret_files=secret_files,
        secret_env=secret_env,
        pass_env=pass_env,
        plain=plain,
        workdir=workdir,
    )
