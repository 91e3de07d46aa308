"""Snapshot tests for synthesized JSON, templates and code: compare with a committed file."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import Pipeline
from .._files import write_atomic

__all__ = ["Snapshot"]

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _render(value: Any) -> tuple[str, str]:
    """Text and file suffix for *value*."""
    if isinstance(value, Pipeline):
        from ..synth import dumps  # the synth package loads only for snapshots of a pipeline

        return dumps(value), ".json"
    if isinstance(value, Mapping | Sequence) and not isinstance(value, str | bytes):
        # Sorted keys: a snapshot changes only when content changes, not when dict order does.
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n", ".json"
    if isinstance(value, str):
        return (value if value.endswith("\n") else value + "\n"), ".txt"
    raise TypeError(f"snapshots hold pipelines, JSON-like data or text, not {type(value).__name__}")


class Snapshot:
    """
    Compares values with files under a snapshot folder; rewrites them when *update* is set.

    The ``snapshot`` fixture of the pytest plugin gives one per test, stored beside the test
    module in ``__snapshots__/<module>/``, updated by ``pytest --snapshot-update``.

    .. versionadded:: 0.1.0
    """

    def __init__(self, folder: Path, *, update: bool = False, prefix: str = "") -> None:
        self.folder = Path(folder)
        self.update = update
        self.prefix = prefix
        self._count = 0

    def path_for(self, name: str, suffix: str) -> Path:
        """The file a snapshot called *name* lives in."""
        stem = _SAFE.sub("_", f"{self.prefix}{name}").strip("_") or "snapshot"
        return self.folder / f"{stem}{suffix}"

    def assert_match(self, value: Any, name: str | None = None) -> None:
        """
        Assert *value* (a :class:`~pipeweaver.Pipeline`, JSON-like data or text) equals the stored snapshot.

        Raises:
            AssertionError: with a unified diff when they differ, or when no snapshot exists
                and updating is off.
        """
        self._count += 1
        text, suffix = _render(value)
        path = self.path_for(name or str(self._count), suffix)
        if self.update:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                write_atomic(path, text)
            return
        if not path.exists():
            raise AssertionError(f"no snapshot {path}; run pytest with --snapshot-update to create it")
        stored = path.read_text(encoding="utf-8")
        if stored != text:
            diff = "".join(
                difflib.unified_diff(
                    stored.splitlines(keepends=True), text.splitlines(keepends=True), str(path), "actual", n=2
                )
            )
            raise AssertionError(f"snapshot {path.name} differs (pytest --snapshot-update accepts the change):\n{diff}")

    def __eq__(self, other: object) -> bool:
        # `assert snapshot == value` reads naturally in tests; the diff comes from assert_match.
        self.assert_match(other)
        return True

    __hash__ = None  # type: ignore[assignment]
