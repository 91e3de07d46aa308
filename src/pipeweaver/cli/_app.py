"""The ``pipeweaver`` click group; subcommands live in sibling modules and register on it."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="pipeweaver", prog_name="pipeweaver")
def main() -> None:
    """pipeweaver: define, check, run, test and ship AWS CodePipeline pipelines."""
