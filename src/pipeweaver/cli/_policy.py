"""The project's lint policy: rules ignored or re-graded, per project and per file, and inline markers.

The policy lives in ``pipeweaver.toml`` or in the ``[tool.pipeweaver]`` table of
``pyproject.toml``, found in the current directory or the nearest parent that has one (a
``pipeweaver.toml`` wins over a ``pyproject.toml`` beside it)::

    [tool.pipeweaver.lint]
    ignore = ["PW701"]                      # never report these codes
    fail-on = "warning"                     # validate exits 1 on any warning too
    severity = { PW301 = "error" }          # report a code at another severity

    [tool.pipeweaver.lint.per-file-ignores]
    "examples/*.py" = ["PW208"]             # globs relative to the file holding the policy

    [tool.pipeweaver.lint.per-file-severity]
    "legacy/**" = { PW110 = "warning" }       # the glob syntax of trigger filters: ** crosses folders

In ``pipeweaver.toml`` the same keys sit under ``[lint]``. Any other key in pipeweaver's part of
the file (``[tool.pipeweaver] ignore = ...``, a top-level ``ignore`` in ``pipeweaver.toml``) is
an error naming the file, the key and where it belongs, never a setting silently not applied.
A Python or YAML TARGET can also
silence a code on one line with a comment on the line the report names::

    configuration={"ProjectName": name},  # pipeweaver: ignore[PW701]

Suppressed findings leave the text and JSON reports (the JSON counts them) and stay in SARIF
with a ``suppressions`` entry, as code-scanning tools expect.
"""

from __future__ import annotations

import difflib
import io
import re
import tokenize
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal

import attrs
import click

from .._glob import compile_glob
from .._validate import RULES
from ..errors import DefinitionError, Issue, Severity

__all__ = ["ConfigError", "LintPolicy", "Suppression", "inline_markers", "load_policy"]

FailOn = Literal["error", "warning"]
_SEVERITIES: Final = ("error", "warning")
_KEYS: Final = ("ignore", "fail-on", "severity", "per-file-ignores", "per-file-severity")
_MARKER: Final = re.compile(r"#\s*pipeweaver:\s*ignore\[([^\]]*)\]")


class ConfigError(click.ClickException):
    """The policy file is malformed: one message naming the file, the key and the fix (exit 2)."""

    exit_code = 2


@attrs.frozen
class Suppression:
    """Why a finding is not reported: SARIF's ``kind`` (``inSource`` or ``external``) and a justification."""

    kind: Literal["inSource", "external"]
    justification: str


@attrs.frozen(kw_only=True)
class LintPolicy:
    """What the project asks of ``validate``; the default policy changes nothing."""

    source: Path | None = None
    ignore: frozenset[str] = frozenset()
    fail_on: FailOn = "error"
    severity: Mapping[str, Severity] = attrs.field(factory=dict)
    per_file_ignores: tuple[tuple[str, frozenset[str]], ...] = ()
    per_file_severity: tuple[tuple[str, Mapping[str, Severity]], ...] = ()

    def graded(self, issue: Issue, file: str | None) -> Issue:
        """*issue* at the severity the policy gives its code in *file*."""
        wanted = self.severity.get(issue.code)
        for pattern, table in self.per_file_severity:
            if issue.code in table and self._matches(pattern, file):
                wanted = table[issue.code]
        return issue if wanted is None or wanted == issue.severity else attrs.evolve(issue, severity=wanted)

    def suppression(self, issue: Issue, file: str | None) -> Suppression | None:
        """Why the policy file silences *issue* in *file*, or ``None``."""
        where = self.source.name if self.source is not None else "the lint policy"
        if issue.code in self.ignore:
            return Suppression("external", f"{where}: ignore")
        for pattern, codes in self.per_file_ignores:
            if issue.code in codes and self._matches(pattern, file):
                return Suppression("external", f"{where}: per-file-ignores {pattern!r}")
        return None

    def _matches(self, pattern: str, file: str | None) -> bool:
        if file is None:
            return False
        path = Path(file).resolve()
        root = self.source.parent if self.source is not None else Path.cwd()
        try:
            relative = path.relative_to(root.resolve()).as_posix()
        except ValueError:
            relative = path.as_posix()
        # A pattern without a slash names a file anywhere, as in .gitignore and ruff.
        subject = relative if "/" in pattern else path.name
        return compile_glob(pattern).fullmatch(subject) is not None


def find_policy_file(start: Path) -> Path | None:
    """The nearest ``pipeweaver.toml``, or ``pyproject.toml`` with a ``[tool.pipeweaver]`` table."""
    for folder in (start.resolve(), *start.resolve().parents):
        own = folder / "pipeweaver.toml"
        if own.is_file():
            return own
        project = folder / "pyproject.toml"
        if project.is_file() and re.search(r"^\s*\[\s*tool\.pipeweaver\b", _read(project), re.MULTILINE):
            return project
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the lint policy: {exc}") from None


def load_policy(path: Path | None) -> LintPolicy:
    """The policy in *path* (``None``: the default policy); a malformed file is a :class:`ConfigError`."""
    if path is None:
        return LintPolicy()
    import tomllib  # only when there is a policy file: most runs of `validate` have none

    try:
        document = tomllib.loads(_read(path))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    header = "tool.pipeweaver.lint" if path.name == "pyproject.toml" else "lint"
    table: Any = _lint_table(document, path, header)
    where = f"{path}: [{header}]"
    if not isinstance(table, dict):
        raise ConfigError(f'{where} must be a table, like: [{header}] ignore = ["PW701"]')
    for key in table:
        if key not in _KEYS:
            raise ConfigError(f"{where}: unknown key {key!r}{_suggest(key, _KEYS)}; the keys are {', '.join(_KEYS)}")
    fail_on = table.get("fail-on", "error")
    if fail_on not in _SEVERITIES:
        raise ConfigError(f"{where} fail-on: {fail_on!r} is not one of error, warning")
    return LintPolicy(
        source=path,
        ignore=_codes(table.get("ignore", []), f"{where} ignore"),
        fail_on=fail_on,
        severity=_grades(table.get("severity", {}), f"{where} severity"),
        per_file_ignores=tuple(
            (pattern, _codes(codes, f"{where} per-file-ignores.{pattern!r}"))
            for pattern, codes in _table(table.get("per-file-ignores", {}), f"{where} per-file-ignores")
        ),
        per_file_severity=tuple(
            (pattern, _grades(grades, f"{where} per-file-severity.{pattern!r}"))
            for pattern, grades in _table(table.get("per-file-severity", {}), f"{where} per-file-severity")
        ),
    )


def _lint_table(document: dict[str, Any], path: Path, header: str) -> Any:
    """The lint table of *document*, after refusing any other key of pipeweaver's own part of the file."""
    # pipeweaver's part: all of pipeweaver.toml, or [tool.pipeweaver] of a pyproject.toml (whose
    # other tables belong to other tools). Every key in it is checked, so a setting written in the
    # wrong place is an error instead of a policy silently not applied.
    owner = header.removesuffix("lint").rstrip(".")
    own: Any = document
    for key in owner.split(".") if owner else ():
        own = own.get(key, {}) if isinstance(own, dict) else own
    where = f"{path}: [{owner}]" if owner else f"{path}: top level"
    if not isinstance(own, dict):
        raise ConfigError(f'{path}: {owner} must be a table, like: [{header}] ignore = ["PW701"]')
    for key in own:
        if key == "lint":
            continue
        if key in _KEYS:
            raise ConfigError(f"{where}: unknown key {key!r} (did you mean [{header}] {key} = ...?)")
        if difflib.get_close_matches(key, ["lint"], n=1):
            raise ConfigError(f"{where}: unknown key {key!r} (did you mean [{header}]?)")
        raise ConfigError(
            f"{where}: unknown key {key!r}; pipeweaver reads only [{header}], whose keys are {', '.join(_KEYS)}"
        )
    return own.get("lint", {})


def _table(value: object, where: str) -> Iterable[tuple[str, object]]:
    if not isinstance(value, dict):
        raise ConfigError(f'{where} must be a table of glob = value, like: "examples/*.py" = ["PW208"]')
    for pattern in value:
        try:
            compile_glob(pattern)
        except DefinitionError as exc:
            raise ConfigError(f"{where}.{pattern!r}: {exc}") from None
    return value.items()


def _codes(value: object, where: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise ConfigError(f'{where} must be a list of rule codes, like ["PW701"]')
    for code in value:
        _known(code, where)
    return frozenset(value)


def _grades(value: object, where: str) -> dict[str, Severity]:
    if not isinstance(value, dict):
        raise ConfigError(f'{where} must be a table of code = severity, like {{ PW301 = "error" }}')
    grades: dict[str, Severity] = {}
    for code, severity in value.items():
        _known(code, where)
        if severity not in _SEVERITIES:
            raise ConfigError(f"{where}.{code}: {severity!r} is not one of error, warning")
        grades[code] = severity
    return grades


#: Characters a typed rule code may hold in place of a digit: PW7O1 (letter O), PW7l4 (letter l).
_LOOKALIKES: Final = str.maketrans("OoIlL", "00111")


def _known(code: str, where: str) -> None:
    if code not in RULES:
        raise ConfigError(
            f"{where}: {code!r} is not a pipeweaver rule code{_suggest_code(code)} (docs/rules.md lists every code)"
        )


def _suggest_code(code: str) -> str:
    """``(did you mean 'PW701'?)`` for a code that differs by a letter that looks like a digit, or case."""
    prefix, digits = code[:2].upper(), code[2:].translate(_LOOKALIKES)
    # A look-alike letter is a near-certain answer; string similarity alone prefers an
    # unrelated code (PW7O1 is as close to PW714 as to PW701).
    if prefix + digits in RULES:
        return f" (did you mean {prefix + digits!r}?)"
    return _suggest(code, list(RULES))


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def inline_markers(text: str, *, python: bool) -> dict[int, frozenset[str]]:
    """Codes silenced per line (1-based) by ``# pipeweaver: ignore[PW1, PW2]`` comments."""
    found: dict[int, frozenset[str]] = {}
    if python:
        # Only real comments count: the marker inside a string is data, not a request.
        try:
            comments = [
                (token.start[0], token.string)
                for token in tokenize.generate_tokens(io.StringIO(text).readline)
                if token.type == tokenize.COMMENT
            ]
        except (tokenize.TokenError, SyntaxError):
            comments = []
    else:
        comments = [(number, line) for number, line in enumerate(text.splitlines(), 1) if "#" in line]
    for line, comment in comments:
        for match in _MARKER.finditer(comment):
            codes = frozenset(code.strip() for code in match.group(1).split(",") if code.strip())
            found[line] = found.get(line, frozenset()) | codes
    return found
