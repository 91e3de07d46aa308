"""Files pipeweaver writes for a user (synth -o, graph -o, --report, snapshots) get ordinary modes."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

import pipeweaver as pw
from pipeweaver import synth
from pipeweaver._files import write_atomic
from pipeweaver.testing import Snapshot

from .conftest import Cli

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart.py"


@pytest.fixture(name="umask_022")
def _umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("umask_022")
def test_new_file_follows_the_umask(tmp_path: Path) -> None:
    """A new file is 0644 under umask 022, as an ordinary write would make it (mkstemp gave 0600)."""
    target = tmp_path / "out.json"
    write_atomic(target, "{}\n")
    assert "{}\n" == target.read_text()
    assert 0o644 == _mode(target)


@pytest.mark.usefixtures("umask_022")
def test_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    """A file the user made private stays private when pipeweaver rewrites it."""
    target = tmp_path / "report.html"
    target.write_text("old")
    target.chmod(0o600)
    write_atomic(target, b"new")
    assert "new" == target.read_text()
    assert 0o600 == _mode(target)


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    """No folder: the error is raised and no temporary file or target is left anywhere."""
    with pytest.raises(FileNotFoundError):
        write_atomic(tmp_path / "missing" / "out.json", "x")
    assert [] == list(tmp_path.iterdir())


@pytest.mark.usefixtures("umask_022")
def test_cli_outputs_are_readable_by_others(cli: Cli, tmp_path: Path, sample: pw.Pipeline) -> None:
    """synth -o, graph -o and run --report write 0644 files under umask 022."""
    module = tmp_path / "release.py"
    module.write_text(
        f"import pipeweaver as pw\nfrom pipeweaver import synth\npipeline = synth.loads({synth.dumps(sample)!r})\n"
    )
    outputs = {
        "synth": (["synth", str(module), "-o", str(tmp_path / "out.json")], tmp_path / "out.json"),
        "graph": (["graph", str(module), "--format", "svg", "-o", str(tmp_path / "g.svg")], tmp_path / "g.svg"),
        "run": (
            ["run", str(QUICKSTART), "--approve", "auto", "--report", str(tmp_path / "r.html")],
            tmp_path / "r.html",
        ),
    }
    for name, (args, path) in outputs.items():
        result = cli(*args)
        assert 0 == result.returncode, (name, result.stderr)
        assert 0o644 == _mode(path), name


@pytest.mark.usefixtures("umask_022")
def test_snapshot_files_are_readable_by_others(tmp_path: Path) -> None:
    """A snapshot written by --snapshot-update is committed to git, so it must not be private."""
    snapshot = Snapshot(folder=tmp_path, update=True)
    snapshot.assert_match("hello", "greeting")
    assert 0o644 == _mode(snapshot.path_for("greeting", ".txt"))


@pytest.mark.usefixtures("umask_022")
def test_a_private_file_is_private_from_its_first_byte(tmp_path: Path) -> None:
    """mode=0o600 gives a new file that mode whatever the umask, and tightens a replaced one."""
    fresh, replaced = tmp_path / "fresh.json", tmp_path / "replaced.json"
    replaced.write_text("old")
    replaced.chmod(0o644)
    write_atomic(fresh, "{}", mode=0o600)
    write_atomic(replaced, "{}", mode=0o600)
    assert (0o600, 0o600) == (_mode(fresh), _mode(replaced))
