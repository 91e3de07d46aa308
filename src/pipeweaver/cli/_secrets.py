"""The environment and secret options of ``run`` and ``retry``, and where secrets came from.

Values never touch the disk: what ``run`` records beside the history is only where its
secrets came from, so that ``retry`` can read the same sources again.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..execution import LocalExecutor
from ._app import write_atomic

__all__ = ["pass_env"]


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _names(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    # Checked here for an option-shaped message; LocalExecutor checks the names again on its own.
    bad = next((v for v in value if not _ENV_NAME.fullmatch(v)), None)
    if bad is not None:
        raise click.BadParameter(
            f"{bad!r} is not an environment variable name (letters, digits and _; repeat the option for more names)"
        )
    return value


#: Host variables passed through to actions (the rest of the host environment never reaches them).
pass_env = click.option(
    "--pass-env",
    "pass_env",
    multiple=True,
    metavar="NAME",
    callback=_names,
    help="Pass host environment variable NAME to commands and buildspecs (repeatable). By default they "
    "get only PATH, HOME, LANG, LC_* and TMPDIR from this shell, plus what the action declares.",
)

_secret_options = [
    click.option(
        "--secret",
        "secrets",
        multiple=True,
        metavar="VALUE",
        help="A value to mask in logs (repeatable). Prefer --secret-file or --secret-env: argv is visible to "
        "other users of the machine, and 'retry' cannot re-read it.",
    ),
    click.option(
        "--secret-file",
        "secret_files",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        metavar="PATH",
        help="Secrets from a file: NAME=VALUE lines (# comments) or a JSON object. Each value is masked and "
        "serves SECRETS_MANAGER references to NAME (repeatable).",
    ),
    click.option(
        "--secret-env",
        "secret_env",
        multiple=True,
        metavar="NAME",
        help="The secret NAME is in host environment variable NAME: masked, and serves SECRETS_MANAGER "
        "references to NAME (repeatable). The variable itself reaches commands only with --pass-env.",
    ),
]


def _secret_flags(fn: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_secret_options):
        fn = option(fn)
    return fn


def _read_secret_file(path: Path) -> dict[str, str]:
    """NAME=VALUE lines or a JSON object; errors name the file and line, never a value."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.UsageError(f"--secret-file {path}: cannot read it ({type(exc).__name__})") from None
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise click.UsageError(
                f"--secret-file {path}: not valid JSON (line {getattr(exc, 'lineno', '?')}); "
                "give a JSON object of strings or NAME=VALUE lines"
            ) from None
        if not isinstance(data, dict) or not all(isinstance(v, str | int | float) for v in data.values()):
            raise click.UsageError(f"--secret-file {path}: the JSON must be an object whose values are strings")
        return {str(k): str(v) for k, v in data.items()}
    out: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise click.UsageError(f"--secret-file {path} line {number}: expected NAME=VALUE")
        out[name.strip()] = value
    return out


class _Secrets:
    """The secrets one `run` or `retry` was given, and where they came from.

    Values never touch the disk. What is recorded beside the history (a 0600 file under
    ``WORKDIR/secrets/``) is only where they came from: the secret files' paths, the
    environment variable names and how many values came on the command line, so that
    `retry` re-reads the same sources and refuses to run without the command-line ones.
    """

    def __init__(self, values: tuple[str, ...], files: tuple[Path, ...], env: tuple[str, ...]) -> None:
        self.values = list(values)
        self.files = [Path(f).resolve() for f in files]
        self.env = list(dict.fromkeys(env))
        self.store: dict[str, str] = {}
        for path in self.files:
            if not path.is_file():
                raise click.UsageError(f"--secret-file {path}: no such file")
            self.store.update(_read_secret_file(path))
        for name in self.env:
            if not _ENV_NAME.fullmatch(name):
                raise click.UsageError(f"--secret-env {name!r}: not an environment variable name")
            if not os.environ.get(name):
                raise click.UsageError(f"--secret-env {name}: the variable is not set in this shell")
            self.store[name] = os.environ[name]

    @property
    def all_values(self) -> list[str]:
        return [*self.store.values(), *self.values]

    def arm(self, executor: LocalExecutor) -> None:
        """Register the command-line values with *executor*'s masker (the store's are already)."""
        executor.masker.add(self.values)

    @staticmethod
    def record_path(workdir: Path, execution_id: str) -> Path:
        return workdir / "secrets" / f"{execution_id}.json"

    def record(self, workdir: Path, execution_id: str) -> None:
        path = self.record_path(workdir, execution_id)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        body = {"files": [str(f) for f in self.files], "env": self.env, "argv": len(self.values)}
        write_atomic(path, json.dumps(body, indent=2) + "\n", mode=0o600)

    @classmethod
    def for_retry(
        cls, workdir: Path, execution_id: str, values: tuple[str, ...], files: tuple[Path, ...], env: tuple[str, ...]
    ) -> _Secrets:
        """The sources recorded for *execution_id*, re-read, plus the ones given to this retry."""
        path = cls.record_path(workdir, execution_id)
        recorded: dict[str, Any] = {}
        if path.is_file():
            try:
                recorded = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                raise click.ClickException(
                    f"{path} is damaged; pass this execution's secrets to retry again "
                    "(--secret-file/--secret-env/--secret), after removing the file"
                ) from None
        for name in recorded.get("env") or ():
            if not os.environ.get(str(name)):
                raise click.UsageError(
                    f"execution {execution_id} was run with --secret-env {name}; set ${name} again to retry it "
                    "(secret values are never stored)"
                )
        for file in recorded.get("files") or ():
            if not Path(file).is_file():
                raise click.UsageError(
                    f"execution {execution_id} was run with --secret-file {file}, which is gone; put it back "
                    "to retry (secret values are never stored)"
                )
        argv = int(recorded.get("argv") or 0)
        if argv > len(values):
            raise click.UsageError(
                f"execution {execution_id} was run with {argv} --secret value(s), which pipeweaver never stores; "
                f"pass them to retry again (--secret VALUE), or keep secrets in --secret-file/--secret-env, "
                "which retry re-reads"
            )
        files_all = tuple(dict.fromkeys([*(Path(f) for f in recorded.get("files") or ()), *files]))
        env_all = tuple(dict.fromkeys([*(str(n) for n in recorded.get("env") or ()), *env]))
        return cls(values, files_all, env_all)
