"""AWS subcommands: deploy, diff, fetch, worker.

:mod:`pipeweaver.aws` (and so boto3) is imported inside each command, never at import time,
so ``pipeweaver --help`` and the local commands stay fast and work without AWS libraries.
Credentials and region come from the usual AWS environment (profile, variables, role).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ParamSpec, TypeVar

import click

from ..errors import AwsError
from ..execution import ActionHandler
from ._app import logical_id_option, main, pairs, write_atomic
from ._target import load_target, to_pipeline

__all__: list[str] = []

P = ParamSpec("P")
T = TypeVar("T")


@contextlib.contextmanager
def _boto3_needed() -> Iterator[None]:
    """Around ``from ..aws import ...``: without boto3, a sentence saying how to get it."""
    try:
        yield
    except ImportError as exc:
        raise click.ClickException(f"the AWS commands need boto3 ({exc}); install it with: pip install boto3") from None


def _configure(region: str | None, endpoint_url: str | None) -> None:
    """Set the region/endpoint for boto3: pipeweaver.aws then builds its default client (``client=None``)."""
    # boto3 reads these variables itself; the CLI never imports boto3 (only pipeweaver.aws does).
    if region:
        os.environ["AWS_DEFAULT_REGION"] = region
    if endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = endpoint_url
    return


def _aws_call(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    try:
        return fn(*args, **kwargs)
    except AwsError as exc:
        raise click.ClickException(f"AWS: {exc}") from None


_region = click.option("--region", default=None, help="AWS region (default: from the AWS configuration).")
_secret_property = click.option(
    "--secret-property",
    "secret_properties",
    multiple=True,
    metavar="NAME",
    help="A configuration property your custom action type marks secret: its values print as **** "
    "(repeatable; AWS's own secret keys such as OAuthToken always do).",
)
_endpoint = click.option(
    "--endpoint-url", default=None, help="Custom AWS endpoint, e.g. a local emulator (sets AWS_ENDPOINT_URL)."
)


@main.command()
@click.argument("target")
@_region
@_endpoint
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="Extra resource tag (repeatable).")
@click.option("--dry-run", is_flag=True, help="Only show what would change (same as 'pipeweaver diff').")
@_secret_property
@logical_id_option
def deploy(
    target: str,
    region: str | None,
    endpoint_url: str | None,
    tags: tuple[str, ...],
    dry_run: bool,
    secret_properties: tuple[str, ...],
    logical_id: str | None,
) -> None:
    """Create or update TARGET in AWS CodePipeline (validated first; no-op when unchanged)."""
    pipeline = to_pipeline(load_target(target), logical_id=logical_id)
    extra = pairs(tags, "--tag", form="KEY=VALUE")
    with _boto3_needed():
        from ..aws import deploy, diff
    _configure(region, endpoint_url)
    client = None
    if dry_run:
        changes = _aws_call(diff, pipeline, client=client, secret_properties=secret_properties)
        click.echo(str(changes) or f"{pipeline.name}: no changes")
        return
    result = _aws_call(deploy, pipeline, client=client, tags=extra or None, secret_properties=secret_properties)
    if result.created:
        click.echo(f"created pipeline {result.name} (version {result.version})")
    elif result.changed:
        click.echo(f"updated pipeline {result.name} to version {result.version}:")
        for change in result.changes:
            click.echo(f"  {change}")
    else:
        click.echo(f"pipeline {result.name} is up to date (version {result.version}); nothing sent")


@main.command()
@click.argument("target")
@_region
@_endpoint
@_secret_property
@logical_id_option
def diff(
    target: str,
    region: str | None,
    endpoint_url: str | None,
    secret_properties: tuple[str, ...],
    logical_id: str | None,
) -> None:
    """Show how TARGET differs from the live pipeline of the same name.

    Exit status: 0 when equal, 1 when they differ or the pipeline does not exist.
    """
    pipeline = to_pipeline(load_target(target), logical_id=logical_id)
    with _boto3_needed():
        from ..aws import diff as diff_pipeline
    _configure(region, endpoint_url)
    client = None
    result = _aws_call(diff_pipeline, pipeline, client=client, secret_properties=secret_properties)
    text = str(result)
    if not result.exists:
        click.echo(text or f"pipeline {pipeline.name} does not exist in AWS yet; `pipeweaver deploy` creates it")
        raise SystemExit(1)
    if result.changes:
        click.echo(text)
        raise SystemExit(1)
    click.echo(text or f"{pipeline.name}: no changes")


@main.command()
@click.argument("name")
@_region
@_endpoint
@click.option(
    "--format", "fmt", type=click.Choice(["codepipeline", "python"]), default="codepipeline", show_default=True
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE (atomically).")
def fetch(name: str, region: str | None, endpoint_url: str | None, fmt: str, output: Path | None) -> None:
    """Download the live pipeline NAME as API JSON or as pipeweaver Python code."""
    with _boto3_needed():
        from ..aws import fetch as fetch_pipeline
    _configure(region, endpoint_url)
    pipeline = _aws_call(fetch_pipeline, name, client=None)
    if fmt == "python":
        from ..synth import to_python

        text = to_python(pipeline)
    else:
        from ..synth import dumps

        text = dumps(pipeline, envelope=True)
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomic(output, text)
        click.echo(f"wrote {output}", err=True)


def _import_handler(ref: str) -> ActionHandler:
    module_name, sep, attr = ref.partition(":")
    if not sep or not attr:
        raise click.UsageError(f"{ref!r}: expected MODULE:HANDLER, e.g. my_actions:deploy_handler")
    if Path(module_name).suffix == ".py" or Path(module_name).is_file():
        raise click.UsageError(f"{ref!r}: give a module name (my_actions), not a file path")
    sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise click.UsageError(f"cannot import module {module_name!r}: {exc}") from None
    found = getattr(module, attr, None)
    if found is None or not callable(found):
        raise click.UsageError(f"module {module_name!r} has no callable {attr!r}")
    handler: ActionHandler = found
    return handler


@main.command()
@click.argument("handler_ref", metavar="MODULE:HANDLER")
@click.option("--provider", required=True, help="The custom action type's provider name.")
@click.option(
    "--category",
    default="Build",
    show_default=True,
    type=click.Choice(["Source", "Build", "Test", "Deploy", "Approval", "Invoke", "Compute"]),
)
@click.option("--version", "type_version", default="1", show_default=True, help="The custom action type's version.")
@click.option("--query", default=None, help="Value of the queryable property to poll for.")
@click.option("--max-workers", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option("--poll-interval", default=10.0, show_default=True, type=click.FloatRange(0.1, 3600))
@click.option("--once", is_flag=True, help="Poll once, handle what came, and exit (for cron and tests).")
@_region
@_endpoint
def worker(
    handler_ref: str,
    provider: str,
    category: str,
    type_version: str,
    query: str | None,
    max_workers: int,
    poll_interval: float,
    once: bool,
    region: str | None,
    endpoint_url: str | None,
) -> None:
    """Serve a custom action type on AWS with the same handler the local executor runs."""
    from .. import ActionCategory, ActionType

    handler = _import_handler(handler_ref)
    with _boto3_needed():
        from ..aws import JobWorker
    # click.Choice let only ActionCategory's values through
    action_type = ActionType(category=ActionCategory(category), owner="Custom", provider=provider, version=type_version)
    _configure(region, endpoint_url)
    job_worker = JobWorker(
        action_type,
        handler,
        client=None,
        max_workers=max_workers,
        poll_interval=poll_interval,
        query=query,
    )
    if once:
        outcomes = _aws_call(job_worker.run_once)
        click.echo(f"handled {len(outcomes)} job(s)")
        for outcome in outcomes:
            click.echo(f"  {outcome}")
        return
    # serve() retries failed polls for ever (AWS hiccups pass); a missing region or endpoint
    # never does, so the client is built here, where its error ends the command.
    _aws_call(lambda: job_worker.client)
    click.echo(f"serving {action_type} with {handler_ref}; Ctrl-C or SIGTERM stops after in-flight jobs", err=True)
    _aws_call(job_worker.serve)
