"""The local artifact store: hashes on write and read, and hostile archives refused before writing."""

from __future__ import annotations

import stat
import warnings
import zipfile
from pathlib import Path

import pytest

from pipeweaver.errors import ArtifactError
from pipeweaver.execution import ExtractLimits, LocalArtifactStore
from pipeweaver.execution._artifacts import file_sha256, safe_extract


def _zip(path: Path, entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate entry we build on purpose
        for name, data in entries:
            zf.writestr(name, data)
    return path


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def test_put_then_get_round_trips_with_the_recorded_hash(tmp_path: Path) -> None:
    """A stored artifact extracts to the same files and its sha256 is that of the zip on disk."""
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("alpha")
    (src / "sub" / "b.txt").write_text("beta")
    store = LocalArtifactStore(tmp_path / "store")

    ref = store.put("exec-1", "Out", src)
    store.get(ref, tmp_path / "dst")

    assert file_sha256(store.path_of(ref)) == ref.sha256
    assert {"a.txt", "sub", "sub/b.txt"} == _files(tmp_path / "dst")
    assert "beta" == (tmp_path / "dst" / "sub" / "b.txt").read_text()


def test_a_changed_zip_fails_its_hash_check(tmp_path: Path) -> None:
    """Reading an artifact whose zip changed after it was stored raises ArtifactError and extracts nothing."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("alpha")
    store = LocalArtifactStore(tmp_path / "store")
    ref = store.put("exec-1", "Out", src)
    _zip(store.path_of(ref), [("a.txt", b"tampered")])

    with pytest.raises(ArtifactError, match="fails its hash check"):
        store.get(ref, tmp_path / "dst")

    assert not (tmp_path / "dst").exists()


def _symlink_entry(name: str, target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    info.create_system = 3
    return info


HOSTILE = {
    "parent traversal": ([("../evil.txt", b"x")], "climbs out"),
    "nested traversal": ([("ok/../../evil.txt", b"x")], "climbs out"),
    "backslash traversal": ([("..\\evil.txt", b"x")], "climbs out"),
    "absolute path": ([("/tmp/evil.txt", b"x")], "absolute path"),
    "drive letter": ([("C:/evil.txt", b"x")], "absolute path"),
    "symlink": ([(_symlink_entry("link", "/etc/passwd"), b"/etc/passwd")], "symbolic link"),
    "duplicate": ([("a.txt", b"1"), ("a.txt", b"2")], "appears twice"),
    "case collision": ([("Readme.md", b"1"), ("README.md", b"2")], "case-insensitive"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_entries_are_refused_before_anything_is_written(tmp_path: Path, case: str) -> None:
    """Each hostile archive raises ArtifactError naming the entry, and writes nothing anywhere."""
    entries, reason = HOSTILE[case]
    archive = _zip(tmp_path / "hostile.zip", entries)
    dest = tmp_path / "work" / "dest"
    before = _files(tmp_path)

    with pytest.raises(ArtifactError, match=reason) as info:
        safe_extract(archive, dest)

    assert "entry" in str(info.value)
    assert before == _files(tmp_path)


def test_zip_bomb_ratio_is_refused(tmp_path: Path) -> None:
    """A highly compressed entry (zip bomb) is refused by its compression ratio."""
    archive = _zip(tmp_path / "bomb.zip", [("zeros.bin", b"\0" * (8 * 1024 * 1024))])

    with pytest.raises(ArtifactError, match="compression ratio"):
        safe_extract(archive, tmp_path / "dest")

    assert not (tmp_path / "dest").exists()


def test_total_size_and_file_count_limits(tmp_path: Path) -> None:
    """Archives above the configured total size or entry count are refused."""
    archive = _zip(tmp_path / "many.zip", [(f"f{i}.txt", b"0123456789") for i in range(20)])

    with pytest.raises(ArtifactError, match="exceed the limit of 10"):
        safe_extract(archive, tmp_path / "a", ExtractLimits(max_files=10))
    with pytest.raises(ArtifactError, match="uncompressed size past the limit"):
        safe_extract(archive, tmp_path / "b", ExtractLimits(max_total_bytes=100))

    assert 20 == safe_extract(archive, tmp_path / "c")


def test_a_file_that_is_not_a_zip_is_reported(tmp_path: Path) -> None:
    """A corrupt archive is an ArtifactError, not a traceback from zipfile."""
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip at all")

    with pytest.raises(ArtifactError, match="not a readable zip"):
        safe_extract(bad, tmp_path / "dest")
