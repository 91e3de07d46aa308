"""mypy --strict accepts the typed uses in accepted.py and rejects exactly the lines rejected.py marks.

The public API's enum-like parameters take the enum or a Literal of AWS's words, handlers
must match ActionHandler, and both executors satisfy the Executor protocol: these are
promises to type checkers, so a type checker checks them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
_ERROR = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): error: .*\[(?P<code>[a-z-]+)\]$")
_EXPECT = re.compile(r"#\s*expect:\s*(?P<code>[a-z-]+)\s*$")


def _mypy(*files: Path) -> list[tuple[str, int, str]]:
    api = pytest.importorskip("mypy.api")
    stdout, stderr, _status = api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--strict",
            "--no-error-summary",
            "--show-error-codes",
            "--hide-error-context",
            "--no-pretty",
            *map(str, files),
        ]
    )
    assert "" == stderr
    found = []
    for line in stdout.splitlines():
        match = _ERROR.match(line)
        if match:
            found.append((Path(match["path"]).name, int(match["line"]), match["code"]))
        else:
            assert ": note: " in line, line
    return found


def _expected(path: Path) -> list[tuple[str, int, str]]:
    out = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _EXPECT.search(text)
        if match:
            out.append((path.name, number, match["code"]))
    return out


def test_mypy_accepts_the_typed_uses_and_rejects_the_mistakes() -> None:
    """accepted.py type-checks clean; rejected.py fails on each marked line with the marked code, and only there."""
    rejected = HERE / "rejected.py"
    expected = _expected(rejected)

    found = _mypy(HERE / "accepted.py", rejected)

    assert len(expected) >= 15
    assert sorted(expected) == sorted(found)
