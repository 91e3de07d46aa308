"""Hostile artifact archives: each is refused naming its entry, and nothing lands outside the workspace.

Archives are built with :mod:`zipfile` byte for byte as an attacker would (entry names and
mode bits set by hand), then fed to the executor's own extraction (``safe_extract`` and
``LocalArtifactStore.get``).
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeweaver.errors import ArtifactError
from pipeweaver.execution._artifacts import ExtractLimits, LocalArtifactStore, safe_extract, zip_directory
from pipeweaver.execution._base import ArtifactRef

Entry = tuple[str, bytes, int]  # (name, data, unix mode for external_attr; 0 = none)

REG = stat.S_IFREG | 0o644
LINK = stat.S_IFLNK | 0o777


def _build(entries: list[Entry], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as zf:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = compression
            info.external_attr = (mode << 16) if mode else 0
            zf.writestr(info, data)
    return buffer.getvalue()


def _raw_name_zip(name: bytes) -> bytes:
    """A zip whose single entry name is *name* exactly (zipfile would refuse or rewrite it)."""
    placeholder = b"P" * len(name)
    data = _build([(placeholder.decode(), b"payload", REG)], compression=zipfile.ZIP_STORED)
    return data.replace(placeholder, name)


# (id, entries, the entry the refusal must name)
HOSTILE: list[tuple[str, list[Entry], str]] = []


def hostile(ident: str, entries: list[Entry], culprit: str) -> None:
    HOSTILE.append((ident, entries, culprit))


for i, name in enumerate(
    [
        "../evil.txt",
        "../../evil.txt",
        "../outside/evil.txt",
        "a/../../evil.txt",
        "a/b/../../../evil.txt",
        "./../evil.txt",
        "..",
        "../",
        "a/./../../evil.txt",
        "ok/../../outside/evil.txt",
        "..\\evil.txt",
        "a\\..\\..\\evil.txt",
        "..\\..\\outside\\evil.txt",
        "a/..\\..\\evil.txt",
        "....//../evil.txt",
    ]
):
    hostile(f"traversal-{i}", [("fine.txt", b"ok", REG), (name, b"pwned", REG)], name)

for i, name in enumerate(
    [
        "/tmp/pipeweaver-evil.txt",
        "/etc/passwd",
        "//server/share/evil.txt",
        "\\evil.txt",
        "\\\\server\\share\\evil.txt",
        "C:/evil.txt",
        "C:\\evil.txt",
        "c:evil.txt",
        "/",
    ]
):
    hostile(f"absolute-{i}", [(name, b"pwned", REG)], name)

for i, (name, target) in enumerate(
    [
        ("link", "/etc/passwd"),
        ("link", "../outside"),
        ("dir/link", "../../outside/evil.txt"),
        ("link", "."),
        ("innocent.txt", "/root/.ssh/authorized_keys"),
    ]
):
    hostile(f"symlink-{i}", [(name, target.encode(), LINK), (name + "/evil.txt", b"pwned", REG)], name)
# a link followed by a write through it, the classic two-step escape
hostile("symlink-then-write", [("out", b"../outside", LINK), ("out/evil.txt", b"pwned", REG)], "out")
# a link that stays inside, then a write through it: pipeweaver never stores a link (it zips a
# copy of what an inside link points to), so any link entry is foreign and refused
hostile(
    "inside-link-then-write",
    [("real/", b"", stat.S_IFDIR | 0o755), ("alias", b"real", LINK), ("alias/evil.txt", b"pwned", REG)],
    "alias",
)
for i, (kind, mode) in enumerate(
    [
        ("fifo", stat.S_IFIFO | 0o644),
        ("chardev", stat.S_IFCHR | 0o644),
        ("blockdev", stat.S_IFBLK | 0o644),
        ("socket", stat.S_IFSOCK | 0o644),
    ]
):
    hostile(f"special-{kind}", [(f"dev-{i}", b"", mode)], f"dev-{i}")

for i, (first, second) in enumerate(
    [
        ("a.txt", "a.txt"),
        ("dir/", "dir/"),
        ("dir", "dir/"),
        ("A.txt", "a.txt"),
        ("dir/File.txt", "DIR/file.txt"),
        ("README", "readme"),
        ("stra\u00dfe.txt", "STRASSE.txt"),
        ("\u212a.txt", "k.txt"),  # Kelvin sign folds to k
        ("x/y/z.txt", "X/Y/Z.TXT"),
        ("caf\u00e9.txt", "cafe\u0301.txt"),  # NFC vs NFD: one name on macOS
        ("\u00c5ngstr\u00f6m", "a\u030angstro\u0308m"),
    ]
):
    hostile(f"duplicate-{i}", [(first, b"one", REG), (second, b"two", REG)], second)

HOSTILE_NAMES = [
    ("empty-name", "", ""),
]
for ident, name, culprit in HOSTILE_NAMES:
    hostile(ident, [(name, b"x", REG)], culprit)


@pytest.fixture(name="sandbox")
def _sandbox(tmp_path: Path) -> Path:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "keep.txt").write_text("untouched")
    return tmp_path


def _tree(root: Path) -> dict[str, bytes | str]:
    out: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[rel] = "link->" + os.readlink(path)
        elif path.is_file():
            out[rel] = path.read_bytes()
        else:
            out[rel] = "dir"
    return out


def _assert_refused(sandbox: Path, archive_bytes: bytes, culprit: str, limits: ExtractLimits | None = None) -> str:
    archive = sandbox / "artifact.zip"
    archive.write_bytes(archive_bytes)
    workspace = sandbox / "workspace" / "in"
    before = _tree(sandbox)

    with pytest.raises(ArtifactError) as info:
        safe_extract(archive, workspace, limits)

    after = _tree(sandbox)
    assert before == after, "a refused archive changed the file system"
    assert repr(culprit) in str(info.value) or (culprit and culprit in str(info.value))
    return str(info.value)


def test_at_least_fifty_hostile_archives() -> None:
    """The suite carries at least 50 distinct hostile archives (the issue's floor)."""
    assert len(HOSTILE) + len(BUILT) >= 50


@pytest.mark.filterwarnings("ignore:Duplicate name")
@pytest.mark.parametrize(("ident", "entries", "culprit"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_entry_is_refused_and_named(sandbox: Path, ident: str, entries: list[Entry], culprit: str) -> None:
    """A hostile entry is refused with an ArtifactError naming it, before any file is written."""
    _assert_refused(sandbox, _build(entries), culprit)


def _bomb(size: int) -> bytes:
    return _build([("bomb.bin", b"\0" * size, REG)])


def _many(count: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as zf:
        for i in range(count):
            zf.writestr(f"f{i}", b"")
    return buffer.getvalue()


def _spread(count: int, each: int) -> bytes:
    return _build([(f"part{i}.bin", os.urandom(each), REG) for i in range(count)])


#: (id, archive builder, culprit, limits) for archives that are hostile as a whole.
BUILT: list[tuple[str, Callable[[], bytes], str, ExtractLimits | None]] = [
    ("bomb-ratio-default-limits", lambda: _bomb(20 * 1024 * 1024), "bomb.bin", None),
    ("bomb-ratio-strict", lambda: _bomb(4 * 1024 * 1024), "bomb.bin", ExtractLimits(max_ratio=50)),
    ("bomb-total-size", lambda: _spread(4, 64 * 1024), "part2.bin", ExtractLimits(max_total_bytes=150 * 1024)),
    ("too-many-entries", lambda: _many(1_001), "1001", ExtractLimits(max_files=1_000)),
    ("too-many-entries-default", lambda: _many(100_001), "100001", None),
    ("raw-name-dotdot", lambda: _raw_name_zip(b"../evil.txt"), "../evil.txt", None),
    ("raw-name-absolute", lambda: _raw_name_zip(b"/tmp/pw-evil"), "/tmp/pw-evil", None),
]


@pytest.mark.parametrize(("ident", "build", "culprit", "limits"), BUILT, ids=[b[0] for b in BUILT])
def test_hostile_archive_is_refused(
    sandbox: Path, ident: str, build: Callable[[], bytes], culprit: str, limits: ExtractLimits | None
) -> None:
    """Bombs, huge entry counts and raw hostile names are refused naming the entry or the count."""
    _assert_refused(sandbox, build(), culprit, limits)


@pytest.mark.parametrize("payload", [b"not a zip", b"PK\x03\x04" + b"\0" * 40, b""])
def test_not_a_zip_is_one_artifact_error(sandbox: Path, payload: bytes) -> None:
    """A file that is not a readable zip is one ArtifactError naming the archive, nothing written."""
    message = _assert_refused(sandbox, payload, "artifact.zip")

    assert "artifact.zip" in message


def test_corrupt_member_leaves_nothing_behind(sandbox: Path) -> None:
    """An entry whose data fails its CRC is refused and the partial extraction is removed."""
    good = _build([("a.txt", b"A" * 1000, REG), ("b.txt", b"B" * 1000, REG)], compression=zipfile.ZIP_STORED)
    corrupt = good.replace(b"B" * 1000, b"C" * 1000, 1)

    archive = sandbox / "artifact.zip"
    archive.write_bytes(corrupt)
    before = {k: v for k, v in _tree(sandbox).items() if v != "dir"}

    with pytest.raises(ArtifactError) as info:
        safe_extract(archive, sandbox / "workspace" / "in")

    assert before == {k: v for k, v in _tree(sandbox).items() if v != "dir"}
    assert "artifact.zip" in str(info.value)


def test_refused_archive_keeps_what_the_destination_already_held(sandbox: Path) -> None:
    """A corrupt archive extracted into a folder that already has files removes only what it wrote."""
    good = _build([("a.txt", b"A" * 1000, REG), ("b.txt", b"B" * 1000, REG)], compression=zipfile.ZIP_STORED)
    archive = sandbox / "artifact.zip"
    archive.write_bytes(good.replace(b"B" * 1000, b"C" * 1000, 1))
    workspace = sandbox / "workspace"
    workspace.mkdir()
    (workspace / "mine.txt").write_text("the user's own file")

    with pytest.raises(ArtifactError):
        safe_extract(archive, workspace)

    assert {"mine.txt": b"the user's own file"} == _tree(workspace)


def test_existing_symlink_in_workspace_is_not_followed(sandbox: Path) -> None:
    """An entry that would be written through a symlink already in the workspace is refused."""
    workspace = sandbox / "workspace" / "in"
    workspace.mkdir(parents=True)
    (workspace / "sub").symlink_to(sandbox / "outside")
    archive = sandbox / "artifact.zip"
    archive.write_bytes(_build([("sub/evil.txt", b"pwned", REG)]))

    with pytest.raises(ArtifactError) as info:
        safe_extract(archive, workspace)

    assert "'sub/evil.txt'" in str(info.value)
    assert ["keep.txt"] == sorted(p.name for p in (sandbox / "outside").iterdir())


def test_existing_hardlink_in_workspace_is_not_written_through(sandbox: Path) -> None:
    """Extracting over a file hard-linked to one outside the workspace never changes the outside file."""
    workspace = sandbox / "workspace" / "in"
    workspace.mkdir(parents=True)
    os.link(sandbox / "outside" / "keep.txt", workspace / "keep.txt")
    archive = sandbox / "artifact.zip"
    archive.write_bytes(_build([("keep.txt", b"pwned", REG)]))

    try:
        safe_extract(archive, workspace)
        refusal = ""
    except ArtifactError as exc:
        refusal = str(exc)

    assert "untouched" == (sandbox / "outside" / "keep.txt").read_text()
    assert not refusal or "'keep.txt'" in refusal


def test_setuid_and_setgid_bits_are_dropped(sandbox: Path) -> None:
    """Mode bits beyond rwx (setuid, setgid, sticky) never survive extraction."""
    archive = sandbox / "artifact.zip"
    archive.write_bytes(_build([("tool", b"#!/bin/sh\n", stat.S_IFREG | 0o6755 | stat.S_ISVTX)]))
    workspace = sandbox / "workspace"

    safe_extract(archive, workspace)

    assert 0 == (workspace / "tool").stat().st_mode & (stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX)


def test_store_refuses_tampered_artifact(sandbox: Path) -> None:
    """An artifact changed after it was stored fails its hash check, naming the artifact; nothing is extracted."""
    store = LocalArtifactStore(sandbox / "store")
    source = sandbox / "src"
    source.mkdir()
    (source / "app.txt").write_text("v1")
    ref = store.put("exec-1", "BuildOutput", source)
    path = store.path_of(ref)
    path.write_bytes(_build([("app.txt", b"v2-tampered", REG)]))

    with pytest.raises(ArtifactError) as info:
        store.get(ref, sandbox / "workspace")

    assert "'BuildOutput'" in str(info.value)
    assert "hash" in str(info.value)
    assert not (sandbox / "workspace").exists()


def test_store_refuses_hostile_archive_even_with_matching_hash(sandbox: Path) -> None:
    """A hostile zip whose recorded hash matches (a poisoned store) is still refused at extraction."""
    store = LocalArtifactStore(sandbox / "store")
    poisoned = sandbox / "store" / "exec-1" / "Evil.zip"
    poisoned.parent.mkdir(parents=True)
    poisoned.write_bytes(_build([("../../outside/evil.txt", b"pwned", REG)]))
    ref = ArtifactRef(name="Evil", uri=poisoned.as_uri(), sha256=hashlib.sha256(poisoned.read_bytes()).hexdigest())

    with pytest.raises(ArtifactError) as info:
        store.get(ref, sandbox / "workspace")

    assert "'../../outside/evil.txt'" in str(info.value)
    assert ["keep.txt"] == sorted(p.name for p in (sandbox / "outside").iterdir())


def test_a_link_out_of_an_output_folder_is_refused_naming_it(sandbox: Path) -> None:
    """zip_directory refuses a link leading out of the folder, naming link and target; no zip is written."""
    source = sandbox / "out"
    source.mkdir()
    secret = sandbox / "outside" / "secret.txt"
    secret.write_text("TOP-SECRET-CANARY")
    (source / "real.txt").write_text("fine")
    (source / "favicon.ico").symlink_to(secret)
    archive = sandbox / "a.zip"

    with pytest.raises(ArtifactError) as info:
        zip_directory(source, archive)

    assert f"'favicon.ico' is a symbolic link to '{secret}'" in str(info.value)
    assert not archive.exists()
    assert [] == [p.name for p in sandbox.iterdir() if p.name.startswith("a.zip")]


def test_a_folder_link_out_of_an_output_folder_is_refused(sandbox: Path) -> None:
    """A nested link to a folder outside (``dist/cache -> ~/.ssh``) is refused, its content never read."""
    source = sandbox / "out"
    (source / "dist").mkdir(parents=True)
    (sandbox / "outside" / "id_rsa").write_text("TOP-SECRET-CANARY")
    (source / "dist" / "cache").symlink_to(sandbox / "outside", target_is_directory=True)

    with pytest.raises(ArtifactError) as info:
        zip_directory(source, sandbox / "a.zip")

    assert "'dist/cache' is a symbolic link to" in str(info.value)
    assert str(sandbox / "outside") in str(info.value)


def test_links_inside_an_output_folder_are_stored_as_copies_never_as_links(sandbox: Path) -> None:
    """A link that stays inside is zipped as what it points to (a regular entry); extraction then holds no link."""
    source = sandbox / "out"
    (source / "lib" / "pkg").mkdir(parents=True)
    (source / "lib" / "pkg" / "tool.js").write_text("run()")
    (source / "bin").mkdir()
    (source / "bin" / "tool").symlink_to("../lib/pkg/tool.js")
    (source / "current").symlink_to("lib", target_is_directory=True)
    archive = sandbox / "a.zip"

    zip_directory(source, archive)
    with zipfile.ZipFile(archive) as zf:
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
    safe_extract(archive, sandbox / "workspace")

    assert {"bin/tool", "current/pkg/tool.js", "lib/pkg/tool.js"} == set(modes)
    assert all(stat.S_ISREG(mode) for mode in modes.values())
    assert "run()" == (sandbox / "workspace" / "bin" / "tool").read_text()
    assert [] == [p for p in (sandbox / "workspace").rglob("*") if p.is_symlink()]


def test_a_link_loop_inside_an_output_folder_is_refused(sandbox: Path) -> None:
    """A link to a folder that contains it would repeat forever: it is refused, naming the link."""
    source = sandbox / "out"
    (source / "a").mkdir(parents=True)
    (source / "a" / "again").symlink_to("..", target_is_directory=True)

    with pytest.raises(ArtifactError) as info:
        zip_directory(source, sandbox / "a.zip")

    assert "'a/again' is a symbolic link to '..', a folder that contains it" in str(info.value)
