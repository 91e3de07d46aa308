"""Local execution subcommands: run, history, retry, approve, reject.

They drive :class:`pipeweaver.execution.LocalExecutor` with its history under ``--workdir``
(``.pipeweaver`` by default). ``run`` and ``retry`` show live progress in a terminal and
plain lines otherwise, print a summary, and exit 0 only when the execution succeeded.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from .. import Pipeline
from ..errors import HistoryError, PipeweaverError
from ..execution import (
    ApprovalPolicy,
    ApprovalRequested,
    Execution,
    ExecutionHandle,
    ExecutionStatus,
    LocalEmulation,
    LocalExecutionHandle,
    LocalExecutor,
    Observer,
)
from ._app import check_output_path, logical_id_option, main, pairs, write_atomic
from ._progress import LiveProgress, PlainProgress
from ._secrets import _secret_flags, _Secrets, pass_env
from ._target import load_target, to_pipeline

__all__: list[str] = []

_workdir = click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".pipeweaver"),
    show_default=True,
    help="Folder holding the execution history (SQLite) and artifacts.",
)


def _parameter_defaults(template: Any) -> dict[str, str]:
    """The template's parameter defaults, as CloudFormation would pass them (numbers as text)."""
    params = template.get("Parameters") if isinstance(template, dict) else None
    out: dict[str, str] = {}
    for name, spec in (params or {}).items():
        default = spec.get("Default") if isinstance(spec, dict) else None
        if isinstance(default, str | int | float) and not isinstance(default, bool):
            out[str(name)] = str(default)
    return out


def _with_parameters(pipeline: Pipeline, values: dict[str, str]) -> Pipeline:
    if not values:
        return pipeline
    from ..synth import resolve_parameters

    return resolve_parameters(pipeline, values)


def _duration(a: datetime | None, b: datetime | None) -> str:
    if a is None or b is None:
        return "-"
    seconds = (b - a).total_seconds()
    return f"{seconds:.1f}s" if seconds < 120 else f"{seconds / 60:.1f}m"


def summary_lines(execution: Execution) -> list[str]:
    """A short plain-text summary: one line per action attempt, then the outcome."""
    lines = [f"execution {execution.id} of {execution.pipeline}: {execution.status}"]
    for a in execution.actions:
        attempt = f" (attempt {a.attempt})" if a.attempt > 1 else ""
        detail = a.error or a.summary or ""
        lines.append(
            f"  {a.stage}/{a.name}{attempt}: {a.status} in {_duration(a.started_at, a.ended_at)}"
            + (f" - {detail}" if detail else "")
        )
    for name, ref in execution.artifacts.items():
        lines.append(f"  artifact {name}: sha256 {ref.sha256[:16]}... ({ref.size} bytes)")
    summary = execution.status_summary
    # The execution's summary is usually "Action: <the action's error>", which the action's line
    # above already shows: a long failure message is printed once.
    errors = {a.error for a in execution.actions if a.error}
    if summary and not any(summary == e or summary.endswith(f": {e}") for e in errors):
        lines.append(f"  {summary}")
    return lines


class _Approvals:
    """Answers manual approvals at the terminal (``--approve prompt``).

    The answer is left as a decision file, as `pipeweaver approve` leaves one, and the run's main
    loop applies it with the user as the approver: a policy's own answer would be recorded as
    "Approved by policy", though a person answered.
    """

    def __init__(self, progress: LiveProgress | None, workdir: Path) -> None:
        self.progress = progress
        self.workdir = workdir
        self.lock = threading.Lock()

    def __call__(self, request: ApprovalRequested) -> None:
        name = f"{request.stage}/{request.action}"
        custom = request.custom_data

        def ask() -> bool:
            if custom:
                click.echo(f"{name}: {custom}")
            return click.confirm(f"approve {name}?", default=False)

        with self.lock:
            answer = bool(self.progress.paused(ask)) if self.progress is not None else ask()
        path = _decision_file(self.workdir, request.execution_id, request.stage, request.action)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps({"approved": answer, "summary": "answered at the terminal", "by": _who()}))
        return  # still waiting, until the main loop applies the decision file


def _approval_policy(mode: str, progress: LiveProgress | None, workdir: Path) -> ApprovalPolicy:
    if mode == "auto":
        return "approve"
    if mode == "reject":
        return "reject"
    if mode == "wait":
        return "wait"
    return _Approvals(progress, workdir)


def _effective_mode(mode: str | None, pipeline: Pipeline) -> str:
    if mode is None:
        if sys.stdin.isatty():
            return "prompt"
        approvals = [f"{s.name}/{a.name}" for s, a in pipeline.actions() if a.category == "Approval"]
        if approvals:
            # Without a terminal nobody can answer a prompt, and silently waiting would hang a CI job.
            raise click.UsageError(
                f"the pipeline has manual approvals ({', '.join(approvals)}) and stdin is not a terminal: "
                "choose --approve auto, reject, or wait (then answer with `pipeweaver approve`)"
            )
        return "wait"
    if mode == "prompt" and not sys.stdin.isatty():
        raise click.UsageError("--approve prompt needs a terminal on stdin; use auto, reject or wait")
    return mode


def _decision_file(workdir: Path, execution_id: str, stage: str, action: str) -> Path:
    return workdir / "approvals" / execution_id / f"{stage}__{action}.json"


def _apply_decisions(handle: ExecutionHandle, workdir: Path, announced: set[str], *, announce: bool = True) -> None:
    """Answer waiting approvals from decision files that `pipeweaver approve/reject` (or the prompt) wrote.

    Unless *announce* is false (the terminal prompts for them: a hint printed meanwhile would land
    on the prompt's line), each waiting approval is announced once with the command that answers it.
    """
    for key in handle.pending_approvals():
        stage, _, action = key.partition("/")
        path = _decision_file(workdir, handle.id, stage, action)
        if announce and key not in announced:
            announced.add(key)
            click.echo(
                f"{key} is waiting: run `pipeweaver approve {handle.id} {stage} {action}` (or reject) "
                f"with --workdir {workdir}",
                err=True,
            )
        if not path.exists():
            continue
        try:
            decision = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        path.unlink(missing_ok=True)
        answer = handle.approve if decision.get("approved") else handle.reject
        try:
            answer(stage, action, str(decision.get("summary", "")), by=str(decision.get("by", "cli")))
        except PipeweaverError as exc:
            click.echo(f"could not apply the decision for {key}: {exc}", err=True)


def override_request(workdir: Path, execution_id: str, stage: str, kind: str) -> Path:
    """Where `pipeweaver override` asks the `pipeweaver run` of *execution_id* to override a condition."""
    return workdir / "overrides" / execution_id / f"{stage}__{kind}.json"


def _apply_overrides(handle: ExecutionHandle, workdir: Path, announced: set[str]) -> None:
    """Apply the override requests `pipeweaver override` left for the execution *handle* runs.

    A request whose condition is not being evaluated yet stays, and is tried again on the next
    call (the condition may be about to start); its refusal is printed once.
    """
    folder = workdir / "overrides" / handle.id
    if not isinstance(handle, LocalExecutionHandle) or not folder.is_dir():
        return
    for path in sorted(folder.glob("*__*.json")):
        stage, _, kind = path.stem.rpartition("__")
        try:
            request = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        try:
            handle.override_stage_condition(stage, kind, by=str(request.get("by", "cli")))
        except PipeweaverError as exc:
            if str(path) not in announced:
                announced.add(str(path))
                click.echo(f"cannot override the {kind} condition of stage {stage} yet: {exc}", err=True)
            continue
        path.unlink(missing_ok=True)
        click.echo(f"overrode the {kind} condition of stage {stage}", err=True)


def _drive(
    start: Callable[[list[Observer], LiveProgress | None], ExecutionHandle],
    pipeline: Pipeline,
    *,
    plain: bool,
    report: Path | None,
    workdir: Path,
    secrets: list[str],
    started: Callable[[str], None] | None = None,
    prompting: bool = False,
) -> Execution:
    """Run *start(observers)* with progress; print the summary; write the report.

    *started* gets the execution id once it runs, inside the Ctrl-C handling (so an interrupt
    while it works still stops the execution).
    """
    check_output_path(report, "--report")  # (retry and override too) before anything runs
    tty = sys.stdout.isatty() and not plain
    progress: LiveProgress | PlainProgress
    if tty:
        progress = LiveProgress(pipeline, Console())
    else:
        progress = PlainProgress(sys.stdout)
    observers: list[Observer] = [progress]
    handle = start(observers, progress if isinstance(progress, LiveProgress) else None)
    try:
        if started is not None:
            started(handle.id)
        if isinstance(progress, LiveProgress):
            with progress:
                execution = _wait(handle, workdir, announce=not prompting)
        else:
            execution = _wait(handle, workdir, announce=not prompting)
    except KeyboardInterrupt:
        click.echo("\nstopping: running actions are abandoned", err=True)
        # It may have ended on its own meanwhile; then there is nothing to stop.
        with contextlib.suppress(PipeweaverError):
            handle.stop(abandon=True, reason="interrupted from the terminal")
        execution = handle.wait(30)
    click.echo("\n".join(summary_lines(execution)))
    if report is not None:
        from ..report import render_html

        write_atomic(report, render_html(execution, pipeline, workdir=workdir, secrets=secrets))
        click.echo(f"report written to {report}")
    return execution


def _wait(handle: ExecutionHandle, workdir: Path, *, announce: bool = True) -> Execution:
    # Short waits keep the main thread responsive to Ctrl-C and to decision files.
    announced: set[str] = set()
    while True:
        execution = handle.wait(0.2)
        if execution.status.is_terminal:
            return execution
        _apply_decisions(handle, workdir, announced, announce=announce)
        _apply_overrides(handle, workdir, announced)


def _exit_for(execution: Execution) -> None:
    if execution.status is not ExecutionStatus.SUCCEEDED:
        raise SystemExit(1)


@main.command()
@click.argument("target")
@click.option("--var", "variables", multiple=True, metavar="NAME=VALUE", help="Pipeline variable value (repeatable).")
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="ACTION=PATH",
    help="Local folder, git repo or zip for a source action.",
)
@click.option(
    "--approve",
    "approve",
    type=click.Choice(["auto", "prompt", "reject", "wait"]),
    default=None,
    help="How manual approvals are answered: auto-approve, ask at the terminal, reject, or wait for "
    "'pipeweaver approve/reject' from another shell. Default: prompt in a terminal; without one, "
    "a pipeline with approvals needs this option.",
)
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="Write an HTML report to FILE.")
@click.option(
    "--buildspec",
    "buildspecs",
    multiple=True,
    metavar="PROJECT=FILE",
    help="Buildspec for a CodeBuild project whose input artifact has none (repeatable).",
)
@click.option(
    "--bucket",
    "buckets",
    multiple=True,
    metavar="BUCKET=FOLDER",
    help="Local folder standing in for an S3 bucket of S3 deploys and sources (repeatable); default: "
    "WORKDIR/s3/BUCKET.",
)
@click.option(
    "--timeout",
    "timeouts",
    multiple=True,
    metavar="STAGE/ACTION=SECONDS",
    help="Time limit of an action (or STAGE/rule:RULE for a condition's rule) over AWS's default for its "
    "type (repeatable).",
)
@click.option(
    "--function",
    "functions",
    multiple=True,
    metavar="NAME=MODULE:CALLABLE",
    help="Python callable standing in for Lambda function NAME (repeatable), e.g. notify=hooks:notify; "
    "MODULE is found beside TARGET or in the current folder.",
)
@click.option(
    "--handler",
    "handlers",
    multiple=True,
    metavar="KEY=MODULE:CALLABLE",
    help="Handler for a custom action (repeatable): KEY is Category/Owner/Provider/Version (e.g. "
    "Build/Custom/Jenkins/1) or Stage/Action.",
)
@click.option(
    "--rule",
    "rules",
    multiple=True,
    metavar="PROVIDER=MODULE:CALLABLE",
    help="Local handler for a condition rule provider (repeatable), adding to or replacing the built-ins.",
)
@logical_id_option
@click.option(
    "--parameter",
    "parameters",
    multiple=True,
    metavar="NAME=VALUE",
    help="CloudFormation TARGET (or a pipeline imported from one, with its template's conditions): a value "
    "for a template parameter (repeatable); parameters not given take the template's Default.",
)
@click.option(
    "--stack-output",
    "stack_outputs",
    multiple=True,
    metavar="STACK.OUTPUT=VALUE",
    help="The value of a CloudFormation stack's output for a simulated deploy (repeatable), for outputs "
    "only the real stack knows (Fn::GetAtt of a resource) or over the ones worked out from its template.",
)
@click.option(
    "--alarm",
    "alarms",
    multiple=True,
    metavar="NAME=STATE",
    help="The state of a CloudWatch alarm for CloudWatchAlarm rules (repeatable): OK, ALARM or INSUFFICIENT_DATA.",
)
@_secret_flags
@pass_env
@click.option("--plain", is_flag=True, help="Plain lines even in a terminal.")
@_workdir
def run(
    target: str,
    variables: tuple[str, ...],
    sources: tuple[str, ...],
    approve: str | None,
    report: Path | None,
    buildspecs: tuple[str, ...],
    buckets: tuple[str, ...],
    timeouts: tuple[str, ...],
    functions: tuple[str, ...],
    handlers: tuple[str, ...],
    rules: tuple[str, ...],
    logical_id: str | None,
    parameters: tuple[str, ...],
    stack_outputs: tuple[str, ...],
    alarms: tuple[str, ...],
    secrets: tuple[str, ...],
    secret_files: tuple[Path, ...],
    secret_env: tuple[str, ...],
    pass_env: tuple[str, ...],
    plain: bool,
    workdir: Path,
) -> None:
    """Run TARGET on this machine with CodePipeline's semantics.

    A Python TARGET may hold its local stand-ins for AWS in a module-level setting:

    \b
        LOCAL = pipeweaver.execution.LocalEmulation(sources=..., functions=...,
            buildspecs=..., buckets=..., secrets=..., handlers=..., rules=...)

    --source, --function, --buildspec, --bucket, --secret-file, --handler and --rule add to
    it or replace its entries.

    Commands get only PATH, HOME, LANG, LC_* and TMPDIR from this shell (add more with
    --pass-env). Secrets given with --secret, --secret-file or --secret-env are masked in
    every log, the history and the report; 'retry' re-reads --secret-file and --secret-env.

    A CloudFormation TARGET runs with its parameters filled in (--parameter, else each
    parameter's Default), and so does a Python TARGET imported from a template (its
    stages, actions and other elements with a "when" are chosen by them); what still
    depends on the stack (Fn::GetAtt, a parameter without a value) is named before anything runs.

    Exit status: 0 when the execution succeeded, 1 otherwise.
    """
    check_output_path(report, "--report")
    loaded = load_target(target)
    given = pairs(parameters, "--parameter")
    pipeline = to_pipeline(loaded, logical_id=logical_id, parameters=given if loaded.kind == "cloudformation" else None)
    if loaded.kind == "cloudformation":
        pipeline = _with_parameters(pipeline, {**_parameter_defaults(loaded.data), **given})
    elif pipeline.template_conditions is not None:  # a model of an imported template (to_python's output)
        pipeline = _with_parameters(pipeline, given)
    elif given:
        raise click.UsageError(
            "--parameter is for CloudFormation templates and pipelines built from one; this TARGET is neither"
        )
    names = _PipelineNames(pipeline)
    given_sources = pairs(sources, "--source")
    for name, value in given_sources.items():
        names.check("--source", name, value, names.sources, "source action", "STAGE/ACTION or ACTION")
        if not Path(value).exists():
            raise click.UsageError(f"--source {name}={value}: no such file or folder")
    _check_file_sources(loaded, names, given_sources)
    source_paths: dict[str, Path] = {**loaded.local_sources, **{k: Path(v) for k, v in given_sources.items()}}
    values = pairs(variables, "--var")
    declared = {v.name for v in pipeline.variables}
    for name, value in values.items():
        # Refused here as the flag's mistake (exit 2); the executor would refuse it too, but as the pipeline's.
        names.check("--var", name, value, declared, "variable", "a variable the pipeline declares")
    specs = {project: Path(file) for project, file in pairs(buildspecs, "--buildspec").items()}
    for project, file in specs.items():
        names.check("--buildspec", project, str(file), names.projects, "CodeBuild project", "its ProjectName")
        if not file.is_file():
            raise click.UsageError(
                f"--buildspec {project}={file}: no such file ({file.absolute()}: a relative path is taken from "
                f"the current folder); give the path of project {project}'s buildspec file"
            )
    given_secrets = _Secrets(secrets, secret_files, secret_env)
    local = loaded.local
    folders = {bucket: Path(folder) for bucket, folder in pairs(buckets, "--bucket", form="BUCKET=FOLDER").items()}
    for bucket, folder in folders.items():
        names.check("--bucket", bucket, str(folder), names.buckets, "S3 bucket", "its BucketName or S3Bucket")
        if folder.exists() and not folder.is_dir():
            raise click.UsageError(f"--bucket {bucket}={folder}: not a folder")
    limits = _timeouts(timeouts, pipeline)
    rule_handlers = {name: _callable(ref, f"--rule {name}") for name, ref in pairs(rules, "--rule").items()}
    given_functions = pairs(functions, "--function")
    for name, ref in given_functions.items():
        names.check("--function", name, ref, names.functions, "Lambda function", "its FunctionName")
    callables = {name: _callable(ref, f"--function {name}") for name, ref in given_functions.items()}
    extra = {key: _callable(ref, f"--handler {key}") for key, ref in pairs(handlers, "--handler").items()}
    outputs: dict[str, dict[str, str]] = {k: dict(v) for k, v in (local.stack_outputs if local else {}).items()}
    for key, value in pairs(stack_outputs, "--stack-output").items():
        stack, dot, output = key.partition(".")
        if not dot or not stack or not output:
            raise click.UsageError(
                f"--stack-output {key}={value}: write STACK.OUTPUT=VALUE, e.g. web.ApiUrl=https://..."
            )
        outputs.setdefault(stack, {})[output] = value
    alarm_states = {**(local.alarm_states if local else {}), **pairs(alarms, "--alarm")}
    try:
        LocalEmulation(alarm_states=alarm_states)
    except ValueError as exc:
        raise click.UsageError(f"--alarm: {exc}") from None
    mode = _effective_mode(approve, pipeline)
    workdir.mkdir(parents=True, exist_ok=True)

    def start(observers: list[Observer], live: LiveProgress | None) -> LocalExecutionHandle:
        executor = LocalExecutor(
            workdir=workdir,
            emulation=local,
            approval=_approval_policy(mode, live, workdir),
            sources={**(local.sources if local else {}), **source_paths},
            functions={**(local.functions if local else {}), **callables},
            handlers={**(local.handlers if local else {}), **extra},
            observers=observers,
            buildspecs={**(local.buildspecs if local else {}), **specs},
            buckets={**(local.buckets if local else {}), **folders},
            rules={**(local.rules if local else {}), **rule_handlers},
            timeouts=limits,
            secrets={**_named_secrets(local), **given_secrets.store},
            env_passthrough=pass_env,
            stack_outputs=outputs,
            alarm_states=alarm_states,
        )
        given_secrets.arm(executor)
        return executor.start(pipeline, variables=values or None)

    execution = _drive(
        start,
        pipeline,
        plain=plain,
        report=report,
        workdir=workdir,
        secrets=given_secrets.all_values,
        started=lambda execution_id: given_secrets.record(workdir, execution_id),
        prompting=mode == "prompt",
    )
    _exit_for(execution)


class _PipelineNames:
    """The names `pipeweaver run`'s stand-in flags may use, as the pipeline has them.

    The executor looks its stand-ins up by these names and ignores any other, so a misspelt
    flag would run the pipeline without it (and then blame a missing stand-in): each flag's name
    is checked here first. A set is ``None`` when one of the names holds a variable or an
    expression, known only when the action runs; then nothing can be refused.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        self.sources: set[str] | None = set()
        self.projects: set[str] | None = set()
        self.buckets: set[str] | None = set()
        self.functions: set[str] | None = set()
        self.images: set[str] = set()  # ECR source actions, whose stand-in is an image digest
        for stage, action in pipeline.actions():
            kind = action.action_type
            config = action.configuration
            if kind.category == "Source":
                self.sources = _add(self.sources, f"{stage.name}/{action.name}", action.name)
                if kind.provider == "ECR":
                    self.images.update((f"{stage.name}/{action.name}", action.name))
            if kind.provider == "CodeBuild":
                self.projects = _add(self.projects, config.get("ProjectName"))
            if kind.provider == "S3":
                self.buckets = _add(self.buckets, config.get("BucketName" if kind.category == "Deploy" else "S3Bucket"))
            if kind.provider == "Lambda":
                self.functions = _add(self.functions, *_function_names(config.get("FunctionName")))
        for stage in pipeline.stages:
            for block in (stage.before_entry, stage.on_success, stage.on_failure):
                for condition in getattr(block, "conditions", ()) or ():
                    for rule in condition.rules:
                        if rule.rule_type.provider == "LambdaInvoke":
                            self.functions = _add(
                                self.functions, *_function_names(rule.configuration.get("FunctionName"))
                            )

    @staticmethod
    def check(flag: str, name: str, value: str, known: set[str] | None, what: str, form: str) -> None:
        """Refuse ``flag name=value`` when *name* is none of the pipeline's *known* names of *what*."""
        if known is None or name in known:
            return
        import difflib

        near = difflib.get_close_matches(name, sorted(known), n=1)
        hint = f"did you mean {near[0]}? " if near else ""
        listed = f"the pipeline's: {', '.join(sorted(known))}" if known else f"it has no {what}"
        raise click.UsageError(
            f"{flag} {name}={value}: the pipeline has no {what} {name!r} ({flag} takes {form}); {hint}{listed}"
        )


def _check_file_sources(loaded: Any, names: _PipelineNames, overridden: Mapping[str, str]) -> None:
    """Refuse a missing folder the pipeline file's LOCAL_SOURCES or LOCAL gives (and no --source replaces).

    The message names the setting and the file, not a --source flag the user never typed; it is
    exit 1, not a usage error, as the command line is right and the file is not.
    """
    where = loaded.path or loaded.spec
    for name, path in loaded.local_sources.items():
        if name not in overridden and not Path(path).exists():
            raise click.ClickException(
                f"LOCAL_SOURCES[{name!r}] in {where}: no such file or folder {path}; fix the path (relative "
                f"to the file's folder) or give one with --source {name}=PATH"
            )
    local = loaded.local
    for name, value in (local.sources if local is not None else {}).items():
        # An ECR source's stand-in is an image digest, not a path.
        if name in overridden or name in names.images or not isinstance(value, str | Path):
            continue
        if not Path(value).exists():
            folder = Path(where).parent if loaded.path else Path.cwd()
            raise click.ClickException(
                f"LOCAL = LocalEmulation(sources={{{name!r}: {str(value)!r}}}) in {where}: no such file or folder "
                f"{(folder / value) if not Path(value).is_absolute() else value}; fix the path (relative to the "
                f"file's folder) or give one with --source {name}=PATH"
            )


def _add(names: set[str] | None, *values: Any) -> set[str] | None:
    if names is None:
        return None
    for value in values:
        if not isinstance(value, str) or "#{" in value:
            return None  # known only when the action runs
        names.add(value)
    return names


def _function_names(value: Any) -> tuple[Any, ...]:
    """A FunctionName and, for an ARN, the short name the executor also looks it up by."""
    if not isinstance(value, str):
        return (value,)
    short = value.split(":function:")[-1].split(":")[0]
    return (value, short) if short != value else (value,)


def _timeouts(values: tuple[str, ...], pipeline: Pipeline) -> dict[str, float]:
    """``--timeout STAGE/ACTION=SECONDS`` values, checked against *pipeline* (a misspelt key would never apply)."""
    known = {f"{stage.name}/{action.name}" for stage, action in pipeline.actions()}
    for stage in pipeline.stages:
        for block in (stage.before_entry, stage.on_success, stage.on_failure):
            for condition in getattr(block, "conditions", ()) or ():
                known.update(f"{stage.name}/rule:{rule.name}" for rule in condition.rules)
    out: dict[str, float] = {}
    for key, text in pairs(values, "--timeout", form="STAGE/ACTION=SECONDS", empty=False).items():
        _PipelineNames.check("--timeout", key, text, known, "action (or rule)", "STAGE/ACTION or STAGE/rule:RULE")
        try:
            seconds = float(text)
        except ValueError:
            seconds = -1.0
        if not 0 < seconds < float("inf"):
            raise click.UsageError(f"--timeout {key}={text}: give a number of seconds above 0, e.g. {key}=600")
        out[key] = seconds
    return out


def _callable(reference: str, flag: str) -> Any:
    """``module:attr`` -> the callable, importing *module* beside the TARGET or in the current folder."""
    module_name, sep, attr = reference.partition(":")
    if not sep or not module_name or not attr:
        raise click.UsageError(f"{flag}={reference}: write MODULE:CALLABLE, e.g. hooks:notify")
    import importlib

    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise click.UsageError(
            f"{flag}={reference}: cannot import {module_name}: {type(exc).__name__}: {exc}"
        ) from None
    found: Any = module
    for part in attr.split("."):
        found = getattr(found, part, None)
    if not callable(found):
        raise click.UsageError(f"{flag}={reference}: {module_name} has no callable {attr!r}")
    return found


def _named_secrets(local: Any) -> dict[str, str]:
    """The ``LOCAL`` secrets as name -> value (values given only to be masked get a name of their own)."""
    if local is None:
        return {}
    if isinstance(local.secrets, Mapping):
        return dict(local.secrets)
    return {f"LOCAL-secret-{i}": value for i, value in enumerate(local.secrets)}


def _history_executor(workdir: Path) -> LocalExecutor:
    if not workdir.is_dir():
        raise click.UsageError(f"{workdir}: no execution history here (run `pipeweaver run` first, or pass --workdir)")
    return LocalExecutor(workdir=workdir)


def _definition(executor: LocalExecutor, execution_id: str) -> Pipeline | None:
    try:
        from ..synth import from_codepipeline

        return from_codepipeline(executor.history_store.definition(execution_id))
    except HistoryError:
        raise
    except PipeweaverError:
        return None


@main.command()
@click.argument("execution_id", required=False)
@click.option("--pipeline", "pipeline_name", default=None, help="Only executions of this pipeline.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10000))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--report", type=click.Path(dir_okay=False, path_type=Path), help="With EXECUTION_ID: write its HTML report."
)
@_workdir
def history(
    execution_id: str | None, pipeline_name: str | None, limit: int, fmt: str, report: Path | None, workdir: Path
) -> None:
    """List past executions, or show one execution in detail.

    EXECUTION_ID may be shortened to any beginning that only one execution has.
    """
    check_output_path(report, "--report")
    executor = _history_executor(workdir)
    if execution_id is None:
        if report is not None:
            raise click.UsageError("--report needs an EXECUTION_ID")
        executions = _listing(executor, pipeline_name, limit)
        if fmt == "json":
            click.echo(
                json.dumps(
                    [
                        _as_json(e) if isinstance(e, Execution) else {"id": e.execution_id, "unreadable": e.reason}
                        for e in executions
                    ],
                    indent=2,
                )
            )
            return
        if not executions:
            click.echo("no executions yet")
            return
        for e in executions:
            if isinstance(e, HistoryError):
                click.echo(f"{e.execution_id}  unreadable: {e.reason}")
                continue
            started = e.started_at.strftime("%Y-%m-%d %H:%M:%S") if e.started_at else "-"
            click.echo(
                f"{e.id}  {e.pipeline:<24} {e.status!s:<11} {started}  {_duration(e.started_at, e.ended_at):>7}"
                f"  {e.trigger.trigger_type}"
            )
        return
    execution_id = _full_id(executor, execution_id, workdir)
    execution = _recorded(executor, execution_id, workdir)
    if fmt == "json":
        click.echo(json.dumps(_as_json(execution), indent=2))
    else:
        click.echo("\n".join(summary_lines(execution)))
        for s in execution.stages:
            click.echo(f"  stage {s.name} (attempt {s.attempt}): {s.status}" + (f" - {s.error}" if s.error else ""))
        for k, v in execution.variables.items():
            click.echo(f"  variable {k}={v}")
    if report is not None:
        pipeline = _definition(executor, execution_id)
        if pipeline is None:
            raise click.ClickException(f"the pipeline definition of {execution_id} is not in the history")
        from ..report import render_html

        write_atomic(report, render_html(execution, pipeline, workdir=workdir))
        click.echo(f"report written to {report}")


def _listing(executor: LocalExecutor, pipeline_name: str | None, limit: int) -> list[Execution | HistoryError]:
    """The newest executions; one whose rows cannot be decoded is its error, not the end of the list."""
    out: list[Execution | HistoryError] = []
    for execution_id in executor.history_store.ids(pipeline_name, limit=limit):
        try:
            out.append(executor.execution(execution_id))
        except HistoryError as exc:
            if exc.execution_id is None:
                raise
            out.append(exc)
    return out


def _full_id(executor: LocalExecutor, given: str, workdir: Path) -> str:
    """The execution id that *given* is, or is the unique beginning of (git-style short ids)."""
    matches = executor.history_store.ids_starting_with(given, limit=6)
    if given in matches:
        return given
    if len(matches) == 1:
        return str(matches[0])
    if not matches:
        raise click.ClickException(
            f"no execution id starts with {given!r} in {workdir}; `pipeweaver history` lists the executions there"
        )
    shown = ", ".join(matches[:5]) + (", ..." if len(matches) > 5 else "")
    raise click.ClickException(f"{given!r} is the beginning of several execution ids ({shown}); give more of it")


def _recorded(executor: LocalExecutor, execution_id: str, workdir: Path) -> Execution:
    """One execution from the history; an unusable history is its own error, not "no execution"."""
    try:
        execution = executor.execution(execution_id)
    except HistoryError:
        raise
    except (KeyError, PipeweaverError) as exc:
        raise click.ClickException(f"no execution {execution_id} in {workdir}: {exc}") from None
    return execution


def _as_json(e: Execution) -> dict[str, Any]:
    def ts(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": e.id,
        "pipeline": e.pipeline,
        "status": str(e.status),
        "started_at": ts(e.started_at),
        "ended_at": ts(e.ended_at),
        "trigger": {"type": e.trigger.trigger_type, "detail": e.trigger.detail},
        "execution_type": e.execution_type,
        "variables": dict(e.variables),
        "stages": [{"name": s.name, "attempt": s.attempt, "status": str(s.status), "error": s.error} for s in e.stages],
        "actions": [
            {
                "stage": a.stage,
                "name": a.name,
                "attempt": a.attempt,
                "status": str(a.status),
                "started_at": ts(a.started_at),
                "ended_at": ts(a.ended_at),
                "summary": a.summary,
                "error": a.error,
                "output_variables": dict(a.output_variables),
            }
            for a in e.actions
        ],
        "artifacts": {n: {"sha256": r.sha256, "size": r.size, "uri": r.uri} for n, r in e.artifacts.items()},
    }


def _decide(execution_id: str, stage: str, action: str, summary: str, workdir: Path, approved: bool) -> None:
    """Leave a decision for the `pipeweaver run` process that waits on this approval."""
    executor = _history_executor(workdir)
    execution_id = _full_id(executor, execution_id, workdir)
    execution = _recorded(executor, execution_id, workdir)
    if execution.status.is_terminal:
        raise click.ClickException(f"execution {execution_id} already ended {execution.status}; nothing to approve")
    waiting = [a for a in execution.actions if a.stage == stage and a.name == action and not a.status.is_terminal]
    if not waiting:
        running = sorted(f"{a.stage}/{a.name}" for a in execution.actions if not a.status.is_terminal)
        raise click.ClickException(
            f"{stage}/{action} is not waiting in execution {execution_id} (in progress: {running or 'nothing'})"
        )
    if len(summary) > 512:
        raise click.UsageError("--summary is limited to 512 characters (AWS's limit)")
    path = _decision_file(workdir, execution_id, stage, action)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps({"approved": approved, "summary": summary, "by": _who()}))
    click.echo(
        f"{'approved' if approved else 'rejected'} {stage}/{action} of execution {execution_id}; "
        "the running `pipeweaver run` applies it within a second"
    )


def _who() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


_summary = click.option("--summary", default="", help="Why (recorded in the history, at most 512 characters).")


@main.command()
@click.argument("execution_id")
@click.argument("stage")
@click.argument("action")
@_summary
@_workdir
def approve(execution_id: str, stage: str, action: str, summary: str, workdir: Path) -> None:
    """Approve a manual approval that a local 'pipeweaver run --approve wait' is waiting on."""
    _decide(execution_id, stage, action, summary, workdir, True)


@main.command()
@click.argument("execution_id")
@click.argument("stage")
@click.argument("action")
@_summary
@_workdir
def reject(execution_id: str, stage: str, action: str, summary: str, workdir: Path) -> None:
    """Reject a manual approval that a local 'pipeweaver run' is waiting on (the action fails)."""
    _decide(execution_id, stage, action, summary, workdir, False)
