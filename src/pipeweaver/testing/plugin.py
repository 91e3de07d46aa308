"""The pipeweaver pytest plugin (entry point ``pipeweaver``): fixtures and ``--snapshot-update``.

Fixtures:

* ``pipeweaver_workdir`` - an empty folder for executions (history and artifacts), per test.
* ``pipeweaver_executor`` - a ``LocalExecutor`` in that folder that auto-approves approvals.
* ``snapshot`` - a :class:`~pipeweaver.testing.Snapshot` stored in ``__snapshots__/<module>/``
  beside the test file, rewritten by ``pytest --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ..execution import LocalExecutor
from ._snapshot import Snapshot

__all__ = ["pipeweaver_executor", "pipeweaver_workdir", "pytest_addoption", "snapshot"]


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--snapshot-update``."""
    group = parser.getgroup("pipeweaver")
    group.addoption(
        "--snapshot-update",
        action="store_true",
        default=False,
        help="pipeweaver: rewrite snapshot files with the current values instead of comparing.",
    )


@pytest.fixture
def pipeweaver_workdir(tmp_path: Path) -> Path:
    """An empty folder for one test's executions (SQLite history and artifact zips)."""
    folder = tmp_path / ".pipeweaver"
    folder.mkdir()
    return folder


@pytest.fixture
def pipeweaver_executor(pipeweaver_workdir: Path) -> Iterator[LocalExecutor]:
    """A ``LocalExecutor`` in a temporary folder that approves manual approvals automatically."""
    executor = LocalExecutor(workdir=pipeweaver_workdir, approval="approve")
    yield executor
    executor.close()


@pytest.fixture
def snapshot(request: pytest.FixtureRequest) -> Snapshot:
    """A snapshot store for this test: ``snapshot.assert_match(value, "name")``."""
    module = Path(str(request.node.path))
    folder = module.parent / "__snapshots__" / module.stem
    return Snapshot(folder, update=bool(request.config.getoption("snapshot_update")), prefix=f"{request.node.name}.")
