"""The ``pipeweaver`` click group; subcommands live in sibling modules and register on it.

Every error a user can cause ends as one readable line on stderr and exit code 1 (or 2 for a
usage mistake): pipeweaver's own errors and :class:`~pipeweaver.cli._target.TargetError` are
turned into click exceptions here, so no command prints a traceback for them. When the reader
of stdout goes away (``pipeweaver history | head -1``) the command stops quietly with exit
status 141 (128 + SIGPIPE), as a Unix tool ended by SIGPIPE does.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from .._files import write_atomic as _write_atomic
from ..errors import PipeweaverError
from ._target import TargetError

__all__ = ["check_output_path", "logical_id_option", "main", "pairs", "write_atomic"]


#: Each command and the sibling module that defines it. A command's module is imported when the
#: command is used (or listed by --help), so `pipeweaver validate` does not load the engine,
#: the AWS layer or the terminal UI.
COMMANDS: dict[str, str] = {
    "validate": "_commands",
    "synth": "_commands",
    "graph": "_commands",
    "import": "_commands",
    "run": "_run",
    "history": "_run",
    "retry": "_continue",
    "approve": "_run",
    "reject": "_run",
    "override": "_continue",
    "deploy": "_aws",
    "diff": "_aws",
    "fetch": "_aws",
    "worker": "_aws",
    "triggers": "_triggers",
    "watch": "_triggers",
    "serve": "_triggers",
}


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        # In the order the table gives (related commands together), as help has always shown them.
        return [*COMMANDS, *(name for name in self.commands if name not in COMMANDS)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            import importlib

            importlib.import_module(f"{__package__}.{COMMANDS[cmd_name]}")
        return self.commands.get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            result = super().invoke(ctx)
            # Flushed here, so that a reader gone before the last buffered line is seen below.
            sys.stdout.flush()
            return result
        except BrokenPipeError:
            _stdout_closed()
        except TargetError as exc:
            if exc.usage:
                raise click.UsageError(str(exc)) from None
            raise click.ClickException(str(exc)) from None
        except PipeweaverError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except Exception as exc:
            # A bug in pipeweaver, not a user mistake: say so, and keep the traceback on request.
            if os.environ.get("PIPEWEAVER_DEBUG"):
                raise
            raise click.ClickException(
                f"internal error: {type(exc).__name__}: {exc} (set PIPEWEAVER_DEBUG=1 for the traceback and report it)"
            ) from None


#: The exit status when the reader of stdout goes away (``pipeweaver history | head -1``): 128 + SIGPIPE,
#: what the shell reports for a tool that SIGPIPE ended (``seq 1 100000 | head -1`` under ``set -o
#: pipefail``). Not 0: the output was cut short, so the command's own status is unknown.
EXIT_STDOUT_CLOSED = 128 + 13


def _stdout_closed() -> NoReturn:
    """Stop quietly, as Unix tools do when the reader of their output is gone."""
    # Python ignores SIGPIPE, so a closed pipe is a BrokenPipeError instead of an ended process.
    # stdout now points at /dev/null, so the interpreter's flush of what is still buffered at exit
    # does not raise again and print "Exception ignored ...".
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    sys.exit(EXIT_STDOUT_CLOSED)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="pipeweaver", prog_name="pipeweaver")
def main() -> None:
    """pipeweaver: define, check, run, test and ship AWS CodePipeline pipelines.

    TARGET is path.py, path.py:NAME, package.module:NAME, an API JSON file
    (create-pipeline or get-pipeline output) or a CloudFormation template.
    """


def pairs(values: tuple[str, ...], option: str, *, form: str = "NAME=VALUE", empty: bool = True) -> dict[str, str]:
    """The ``KEY=VALUE`` values of a repeatable *option* as a mapping (a later key wins).

    A value without ``=`` or with no key (or, unless *empty*, no value) is a usage error
    naming the option, the value and the expected *form*.
    """
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key or not (value or empty):
            raise click.UsageError(f"{option} {item!r}: expected {form}")
        out[key] = value
    return out


#: ``--logical-id``, on every command that takes a TARGET which may be a CloudFormation template.
logical_id_option = click.option(
    "--logical-id",
    "logical_id",
    default=None,
    metavar="ID",
    help="CloudFormation TARGET with several pipelines: the logical id of the one to use.",
)


def check_output_path(path: Path | None, flag: str) -> None:
    """Refuse an output *path* whose folder is missing, before the command does its work.

    ``write_atomic`` would refuse it too, but only at the end: after a whole pipeline ran.
    """
    if path is None:
        return
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise click.UsageError(
            f"{flag} {path}: folder {folder} does not exist; create it, or give a path in a folder that does"
        )


def write_atomic(path: Path, text: str, *, mode: int | None = None) -> None:
    """Write *text* to *path* through a temporary file and a rename: never a half-written file."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise click.ClickException(f"{path}: folder {directory} does not exist")
    _write_atomic(path, text, mode=mode)
