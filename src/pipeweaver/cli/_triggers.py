"""Trigger subcommands: ``triggers`` (would this event start the pipeline?), ``watch`` and ``serve``.

``watch`` polls local git repositories (and/or follows a cron schedule) and ``serve`` receives
GitHub webhooks; both start executions on a :class:`~pipeweaver.execution.LocalExecutor`
whose history lives under ``--workdir``. SIGINT/SIGTERM stop them gracefully: no new starts,
then a bounded wait (``--grace``) for executions already running.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any, Literal, cast

import click

from .. import Pipeline, PullRequestEvent
from ..execution import LocalExecutor
from ..triggers import GitEvent, GitPullRequest, GitPush, TriggerDecision, check_patterns, evaluate
from ._app import logical_id_option, main, pairs
from ._secrets import pass_env
from ._target import load_target, to_pipeline

__all__: list[str] = []

_APPROVALS: dict[str, Literal["approve", "reject", "wait"]] = {"auto": "approve", "reject": "reject", "wait": "wait"}

_workdir = click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".pipeweaver"),
    show_default=True,
    help="Folder holding the execution history (SQLite), artifacts and the webhook delivery log.",
)
_sources = click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="ACTION=PATH",
    help="Local git repository for a source action (repeatable).",
)
_approve = click.option(
    "--approve",
    type=click.Choice(sorted(_APPROVALS)),
    default="wait",
    show_default=True,
    help="How manual approvals are answered: auto-approve, reject, or wait for 'pipeweaver approve'.",
)
_grace = click.option(
    "--grace",
    type=click.FloatRange(0, 3600),
    default=30.0,
    show_default=True,
    help="Seconds to wait for running executions (and requests) when stopping.",
)


def _pipeline_and_sources(
    target: str, sources: tuple[str, ...], logical_id: str | None
) -> tuple[Pipeline, dict[str, Path]]:
    loaded = load_target(target)
    pipeline = to_pipeline(loaded, logical_id=logical_id)
    paths = dict(loaded.local_sources)
    paths.update({k: Path(v) for k, v in pairs(sources, "--source", form="ACTION=PATH", empty=False).items()})
    for name, path in paths.items():
        if not path.exists():
            raise click.UsageError(f"--source {name}={path}: no such folder")
    return pipeline, paths


def _executor(
    workdir: Path, sources: dict[str, Path], approve: str, passthrough: tuple[str, ...] = ()
) -> LocalExecutor:
    workdir.mkdir(parents=True, exist_ok=True)
    return LocalExecutor(workdir=workdir, approval=_APPROVALS[approve], sources=sources, env_passthrough=passthrough)


def _describe(decision: TriggerDecision) -> str:
    if decision.starts:
        return (
            f"start {decision.source_action} at {decision.revision or '?'} ({decision.trigger_type}): {decision.reason}"
        )
    return f"no start: {decision.reason}"


class _StopSignal:
    """Turns SIGINT/SIGTERM into an event the main thread waits on (handlers restored on exit)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> threading.Event:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self.event

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.event.set()

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _drain(handles: Sequence[object], grace: float) -> str:
    """Wait up to *grace* seconds in total for *handles*; describe how they ended."""
    deadline = time.monotonic() + grace
    ended: Counter[str] = Counter()
    running = 0
    for handle in handles:
        wait = getattr(handle, "wait", None)
        if wait is None:
            continue
        try:
            execution = wait(timeout=max(0.0, deadline - time.monotonic()))
        except Exception:  # a handle that cannot be waited on counts as still running
            running += 1
            continue
        status = getattr(execution, "status", None)
        if getattr(status, "is_terminal", False):
            ended[str(status)] += 1
        else:
            running += 1
    finished = ", ".join(f"{k}: {v}" for k, v in sorted(ended.items())) or "none"
    return f"{len(handles)} execution(s) started; finished: {finished}; still running: {running}"


# ---------------------------------------------------------------------------------------------


@main.command()
@click.argument("target")
@click.option("--branch", default=None, help="A push to this branch.")
@click.option("--tag", default=None, help="A push of this tag.")
@click.option(
    "--pull-request",
    "pull_request",
    default=None,
    metavar="EVENT:SOURCE:DESTINATION",
    help="A pull request event (OPEN, UPDATED or CLOSED) from SOURCE into DESTINATION.",
)
@click.option("--file", "files", multiple=True, metavar="PATH", help="A changed file (repeatable).")
@click.option("--commit", default="", help="The commit id to report as the revision.")
@click.option("--repository", default=None, help="owner/repo (or CodeCommit name) the event comes from.")
@click.option("--event-wiring", is_flag=True, help="Assume synthesized EventBridge rules/webhooks are deployed.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@logical_id_option
def triggers(
    target: str,
    branch: str | None,
    tag: str | None,
    pull_request: str | None,
    files: tuple[str, ...],
    commit: str,
    repository: str | None,
    event_wiring: bool,
    fmt: str,
    logical_id: str | None,
) -> None:
    """Say whether a git event would start TARGET, for which source and why.

    Example: pipeweaver triggers pipeline.py --branch release/1.2 --file services/api/app.py

    Exit status: 0 when the event starts the pipeline, 1 when it does not.
    """
    if sum(x is not None for x in (branch, tag, pull_request)) != 1:
        raise click.UsageError("give exactly one of --branch, --tag or --pull-request")
    pipeline = to_pipeline(load_target(target), logical_id=logical_id)
    check_patterns(pipeline)
    event: GitEvent
    if pull_request is not None:
        parts = pull_request.split(":")
        if len(parts) != 3 or not all(parts):
            raise click.UsageError(f"--pull-request {pull_request!r}: expected EVENT:SOURCE:DESTINATION")
        event = GitPullRequest(
            # unchecked text from the command line: GitPullRequest refuses a wrong event itself
            event=cast("PullRequestEvent", parts[0].upper()),
            source_branch=parts[1],
            destination_branch=parts[2],
            commit=commit,
            changed_files=files,
            repository=repository,
        )
    else:
        event = GitPush(branch=branch, tag=tag, commit=commit, changed_files=files, repository=repository)
    decision = evaluate(pipeline, event, event_wiring=event_wiring)
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "starts": decision.starts,
                    "sourceAction": decision.source_action,
                    "revision": decision.revision,
                    "branch": decision.branch,
                    "triggerType": decision.trigger_type,
                    "reason": decision.reason,
                    "filters": [
                        {
                            "action": c.source_action,
                            "kind": c.kind,
                            "index": c.index,
                            "matched": c.matched,
                            "reason": c.reason,
                        }
                        for c in decision.checks
                    ],
                },
                indent=2,
                sort_keys=True,
            )
        )
    else:
        click.echo(("STARTS: " if decision.starts else "DOES NOT START: ") + decision.reason)
        for check in decision.checks:
            click.echo(f"  {'match' if check.matched else 'no   '} {check.label}: {check.reason}")
    if not decision.starts:
        raise SystemExit(1)


@main.command()
@click.argument("target")
@_sources
@click.option(
    "--interval", type=click.FloatRange(0.1, 86400), default=5.0, show_default=True, help="Seconds between polls."
)
@click.option("--schedule", default=None, metavar="CRON", help="Also start on this five-field cron schedule (UTC).")
@click.option("--max-polls", type=click.IntRange(1), default=None, help="Stop after this many polls.")
@click.option(
    "--event-wiring",
    is_flag=True,
    help="Start sources with PollForSourceChanges 'false' too (their EventBridge rules/webhooks are deployed).",
)
@_approve
@_grace
@pass_env
@_workdir
@logical_id_option
def watch(
    target: str,
    logical_id: str | None,
    sources: tuple[str, ...],
    interval: float,
    schedule: str | None,
    max_polls: int | None,
    event_wiring: bool,
    approve: str,
    grace: float,
    pass_env: tuple[str, ...],
    workdir: Path,
) -> None:
    """Poll local git repositories mapped to TARGET's source actions and start executions on
    new commits its triggers accept; with --schedule, also start on a cron schedule.

    The executor applies the pipeline's execution mode (SUPERSEDED, QUEUED or PARALLEL).
    Stop with Ctrl-C or SIGTERM.
    """
    from ..execution import Watcher

    pipeline, paths = _pipeline_and_sources(target, sources, logical_id)
    if not paths and not schedule:
        raise click.UsageError("nothing to watch: give --source ACTION=PATH and/or --schedule CRON")
    executor = _executor(workdir, paths, approve, pass_env)

    def report(decision: TriggerDecision) -> None:
        click.echo(_describe(decision))

    def warn(message: str) -> None:
        click.echo(f"error: {message}", err=True)

    watcher = Watcher(
        pipeline,
        executor,
        sources=paths,
        interval=interval,
        schedule=schedule,
        on_decision=report,
        on_error=warn,
        event_wiring=event_wiring,
    )
    click.echo(
        f"watching {', '.join(f'{k}={v}' for k, v in paths.items()) or 'no repositories'}"
        + (f", schedule '{schedule}'" if schedule else "")
        + f"; history in {workdir}"
    )
    with _StopSignal() as stop:
        thread = threading.Thread(target=watcher.run, kwargs={"max_polls": max_polls}, daemon=True)
        thread.start()
        while thread.is_alive() and not stop.is_set():
            thread.join(0.2)
        watcher.stop()
        thread.join(grace)
    handles = [s.handle for s in watcher.started]
    click.echo(f"stopped: {_drain(handles, grace)}")


@main.command()
@click.argument("target")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8787, show_default=True, help="Port (0 picks one).")
@click.option(
    "--secret-env",
    default="PIPEWEAVER_WEBHOOK_SECRET",
    show_default=True,
    help="Environment variable holding the webhook secret (never pass secrets as arguments).",
)
@click.option("--allow-unsigned", is_flag=True, help="Accept requests without X-Hub-Signature-256 (testing only).")
@click.option("--max-body", type=click.IntRange(1, 25 * 1024 * 1024), default=1024 * 1024, show_default=True)
@click.option(
    "--request-timeout",
    type=click.FloatRange(0.01, 3600),
    default=10.0,
    show_default=True,
    help="Seconds a client has to send its whole request (headers and body); later ones get 408.",
)
@click.option(
    "--max-connections",
    type=click.IntRange(1, 4096),
    default=64,
    show_default=True,
    help="Connections served at once; more are answered 503.",
)
@click.option(
    "--max-per-client",
    type=click.IntRange(1, 4096),
    default=16,
    show_default=True,
    help="Connections served at once from one client address; more are answered 429.",
)
@_sources
@_approve
@_grace
@pass_env
@_workdir
@logical_id_option
def serve(
    target: str,
    logical_id: str | None,
    host: str,
    port: int,
    secret_env: str,
    allow_unsigned: bool,
    max_body: int,
    request_timeout: float,
    max_connections: int,
    max_per_client: int,
    sources: tuple[str, ...],
    approve: str,
    grace: float,
    pass_env: tuple[str, ...],
    workdir: Path,
) -> None:
    """Receive GitHub push / pull_request webhooks and start TARGET when its triggers accept them.

    Signatures (X-Hub-Signature-256, HMAC-SHA256 with the secret from --secret-env) are
    required unless --allow-unsigned. Authenticated deliveries are logged to
    WORKDIR/webhooks/deliveries.jsonl. Stop with Ctrl-C or SIGTERM: requests still arriving are
    cut, and requests and executions in flight get --grace seconds in all.
    """
    from ..execution import Delivery, WebhookReceiver

    pipeline, paths = _pipeline_and_sources(target, sources, logical_id)
    secret = os.environ.get(secret_env) or None
    if secret is None and not allow_unsigned:
        raise click.UsageError(f"set the webhook secret in ${secret_env} (or pass --allow-unsigned for local testing)")
    executor = _executor(workdir, paths, approve, pass_env)
    if secret is not None:
        # Never in an action's environment (not on the allow-list), and masked should a
        # handler or a --pass-env'd variable carry it into a log anyway.
        executor.masker.add([secret])

    def show(delivery: Delivery) -> None:
        # summary() escapes control characters: event, id and reason can come from anyone.
        click.echo(delivery.summary())

    receiver = WebhookReceiver(
        pipeline,
        executor,
        secret=secret,
        allow_unsigned=allow_unsigned,
        host=host,
        port=port,
        workdir=workdir,
        repos=paths,
        max_body=max_body,
        max_connections=max_connections,
        max_per_client=max_per_client,
        request_timeout=request_timeout,
        on_delivery=show,
    )
    click.echo(f"listening on {receiver.url} (signatures {'optional' if allow_unsigned else 'required'})", err=False)
    with _StopSignal() as stop:
        receiver.start()
        while not stop.wait(0.2):
            pass
        deadline = time.monotonic() + grace
        drained = receiver.shutdown(grace=grace)
    handles = [s.handle for s in receiver.started]
    refused = f", {receiver.refused} connection(s) refused (too many at once)" if receiver.refused else ""
    cut = f", {receiver.cut_off} request(s) cut off while arriving" if receiver.cut_off else ""
    click.echo(
        f"stopped: {receiver.received} deliveries{refused}{cut}, "
        + _drain(handles, max(0.0, deadline - time.monotonic()))
        + ("" if drained else "; some requests were cut off")
    )
