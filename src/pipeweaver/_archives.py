"""Zipping and unzipping artifact trees, safely: one home for every store and worker.

Layer: foundation (imports only :mod:`pipeweaver.errors`), so the local engine's store, the S3
store and the job worker share one implementation. Two rules live here:

* A folder that is copied or zipped is listed by :func:`walk` (and a path found in it is
  checked by :func:`real_inside`), which follow a symbolic link only when its target stays
  inside the folder and refuse one that leads outside, naming the link and its target.
  Artifacts therefore never hold a link: what a link inside the folder points to is stored
  under the link's name as a regular file or folder.
* :func:`safe_extract` refuses every entry that could write outside the destination (``../``,
  absolute paths, drive letters, links, special files), duplicate or case-colliding names,
  and archives whose size, entry count or compression ratio exceed :class:`ExtractLimits`,
  before writing a single file.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import time
import unicodedata
import zipfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO, final

import attrs

from .errors import ArtifactError

__all__ = [
    "MAX_LINKED_ENTRIES",
    "ExtractLimits",
    "file_sha256",
    "real_inside",
    "safe_extract",
    "walk",
    "is_within",
    "zip_directory",
    "zip_tree",
]

#: Entries a tree may gain by following links inside it. Links to folders can multiply a tree
#: (two links to the next level, thirty levels deep); this bounds what a source made of links
#: alone can expand to. AWS's limit for the files of an S3 source object.
MAX_LINKED_ENTRIES = 100_000


def is_within(path: str, top: str) -> bool:
    """Whether *path* is *top* or lies under it (both real paths)."""
    return path == top or path.startswith(top.rstrip(os.sep) + os.sep)


_CHUNK = 1 << 20


@final
@attrs.frozen(kw_only=True)
class ExtractLimits:
    """
    Limits applied when an artifact zip is extracted.

    Attributes:
        max_total_bytes: Uncompressed size of all entries together (default 5 GiB, the S3
            source artifact limit).
        max_files: Number of entries (default 100,000, AWS's limit for an S3 source object).
        max_ratio: Largest uncompressed/compressed ratio for an entry bigger than 1 MiB; zip
            bombs reach ratios in the thousands, ordinary text around 10.

    .. versionadded:: 0.1.0
    """

    max_total_bytes: int = 5 * 1024**3
    max_files: int = 100_000
    max_ratio: float = 200.0


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def zip_directory(source: Path, destination: Path) -> str:
    """
    Zip every regular file under *source* into *destination*; return the zip's sha256.

    An artifact never carries a link (AWS artifacts are plain zips, and extraction refuses
    link entries): a symbolic link whose target stays inside *source* is stored as a copy of
    what it points to, and one that leads outside is refused with an
    :class:`~pipeweaver.errors.ArtifactError` naming it (see :func:`walk`). The zip is
    written to a temporary name and renamed, so a crash never leaves a half-written artifact
    behind.
    """
    return zip_tree(source, destination)[0]


#: Trees up to this size are zipped in memory: one write instead of a seek and a write per
#: entry, and the sha256 taken from the bytes written rather than by reading the file again.
#: Every syscall lets another action thread take the GIL, so a wave of small artifacts paid
#: for each one several times over (bench/run.py, critical path: the source stage).
_IN_MEMORY_BYTES = 8 << 20
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def zip_tree(source: Path, destination: Path, *, make_parent: bool = True) -> tuple[str, int]:
    """Zip *source* into *destination* (via a ``.partial`` name); return ``(sha256, size)``."""
    if make_parent:
        destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    entries, total = walk(source)
    if total <= _IN_MEMORY_BYTES:
        buffer = io.BytesIO()
        _write_zip(buffer, entries)
        data = buffer.getbuffer()
        digest = hashlib.sha256(data).hexdigest()
        size = len(data)
        with open(partial, "wb") as fh:
            fh.write(data)
        data.release()
    else:
        with open(partial, "wb") as fh:
            _write_zip(fh, entries)
        digest = file_sha256(partial)
        size = partial.stat().st_size
    partial.replace(destination)
    return digest, size


def _write_zip(target: BinaryIO, entries: list[tuple[str, str | None]]) -> None:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for name, path in entries:
            if path is None:
                zf.writestr(name, b"")
                continue
            try:
                fd = os.open(path, _OPEN_FLAGS)
            except OSError:
                continue  # became a link (O_NOFOLLOW) or vanished since the listing
            with os.fdopen(fd, "rb") as src:
                st = os.fstat(fd)
                if not stat.S_ISREG(st.st_mode):
                    continue
                info = zipfile.ZipInfo(name, time.localtime(st.st_mtime)[:6])
                info.external_attr = (st.st_mode & 0xFFFF) << 16
                info.file_size = st.st_size
                info.compress_type = zipfile.ZIP_DEFLATED
                with zf.open(info, "w") as dst:
                    shutil.copyfileobj(src, dst, _CHUNK)


def _check_name(name: str) -> str | None:
    if not name:
        return "has an empty name"
    if "\x00" in name:
        return "has a NUL byte in its name"
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "is an absolute path"
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if ".." in parts:
        return "climbs out of the workspace with '..'"
    return None


def safe_extract(archive: Path, destination: Path, limits: ExtractLimits | None = None) -> int:
    """
    Extract *archive* into *destination* after checking every entry; return the file count.

    Raises:
        ArtifactError: naming the first hostile entry; nothing is written in that case.
    """
    limits = limits or ExtractLimits()
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArtifactError(f"{archive.name}: not a readable zip archive ({exc})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_files:
            raise ArtifactError(
                f"{archive.name}: {len(infos)} entries exceed the limit of {limits.max_files} "
                f"(raise ExtractLimits.max_files if this archive is trusted)"
            )
        seen: dict[str, str] = {}
        total = 0
        root = destination.resolve()
        for info in infos:
            name = info.filename
            problem = _check_name(name)
            mode = info.external_attr >> 16
            if problem is None and mode and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
                kind = "a symbolic link" if stat.S_ISLNK(mode) else "a special file (device, fifo or link)"
                problem = f"is {kind}"
            if problem is None:
                # NFC as well as case: macOS file systems treat "e\u0301" and "\u00e9" as one name
                key = unicodedata.normalize("NFC", name.rstrip("/")).casefold()
                if key in seen:
                    other = seen[key]
                    problem = (
                        "appears twice in the archive"
                        if other == name.rstrip("/")
                        else f"collides with {other!r} on case-insensitive file systems"
                    )
                seen[key] = name.rstrip("/")
            if problem is None:
                target = (root / name).resolve()
                if target != root and root not in target.parents:
                    problem = "would land outside the workspace"
            if problem is None:
                total += info.file_size
                if total > limits.max_total_bytes:
                    problem = (
                        f"brings the uncompressed size past the limit of {limits.max_total_bytes} bytes "
                        "(raise ExtractLimits.max_total_bytes if this archive is trusted)"
                    )
                elif info.file_size > _CHUNK and info.file_size > limits.max_ratio * max(info.compress_size, 1):
                    ratio = info.file_size / max(info.compress_size, 1)
                    problem = f"has a compression ratio of {ratio:.0f}:1, above {limits.max_ratio:.0f}:1 (zip bomb?)"
            if problem is not None:
                raise ArtifactError(f"{archive.name}: entry {name!r} {problem}; nothing was extracted")
        # On failure only what this call created is removed: the destination may already hold
        # the caller's files (store.get(ref, Path.cwd()) must never empty the working directory).
        existed = destination.exists()
        created: list[Path] = []

        def make_dirs(path: Path) -> None:
            missing: list[Path] = []
            while not path.exists() and path != path.parent:
                missing.append(path)
                path = path.parent
            for directory in reversed(missing):
                try:
                    directory.mkdir()
                except FileExistsError:
                    continue  # a parallel action made it: not ours to remove
                created.append(directory)

        def undo() -> None:
            if not existed:
                shutil.rmtree(destination, ignore_errors=True)
                return
            for path in reversed(created):
                try:
                    if path.is_dir() and not path.is_symlink():
                        path.rmdir()
                    else:
                        path.unlink()
                except OSError:
                    pass

        make_dirs(destination)
        written = 0
        count = 0
        try:
            for info in infos:
                target = root / info.filename
                if info.is_dir():
                    make_dirs(target)
                    continue
                make_dirs(target.parent)
                # Replace, never write through, an existing entry: it may be a hard link to a
                # file outside the workspace.
                if target.is_symlink() or target.exists():
                    target.unlink()
                created.append(target)
                # Sizes in the headers can lie; count the bytes actually inflated.
                with zf.open(info) as src, target.open("xb") as dst:
                    while chunk := src.read(_CHUNK):
                        written += len(chunk)
                        if written > limits.max_total_bytes:
                            raise ArtifactError(
                                f"{archive.name}: entry {info.filename!r} inflates past the limit of "
                                f"{limits.max_total_bytes} bytes (its header understated its size)"
                            )
                        dst.write(chunk)
                mode = info.external_attr >> 16
                if mode & 0o111:
                    target.chmod(0o755)
                count += 1
        except ArtifactError:
            undo()
            raise
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            undo()
            raise ArtifactError(f"{archive.name}: corrupt archive ({exc})") from None
    return count


def _first_link(top: str, rel: str) -> str:
    """The first component of *rel* under *top* that is a symbolic link (*rel* itself if none is)."""
    parts = rel.split("/")
    for n in range(1, len(parts) + 1):
        candidate = "/".join(parts[:n])
        if os.path.islink(os.path.join(top, candidate)):
            return candidate
    return rel


def _outside(what: str, top: str, name: str, link: str, target: str, real: str) -> ArtifactError:
    through = "is a symbolic link" if link == name else f"is reached through the symbolic link {link!r}"
    resolved = "" if target == real else f" ({real})"
    return ArtifactError(
        f"{what}: {name!r} {through} to {target!r}{resolved}, outside {top}; links are followed only "
        "when they stay inside the folder: replace the link with a copy of what it points to, or "
        "leave it out"
    )


def real_inside(top: Path, rel: str, *, what: str) -> str:
    """
    The real path of ``top / rel`` (a path found under *top*, say by a glob).

    Raises:
        ArtifactError: naming the link, when a link on the way leads outside *top*.
    """
    base = os.path.realpath(top)
    real = os.path.realpath(os.path.join(base, rel))
    if not is_within(real, base):
        link = _first_link(base, rel)
        try:
            target = os.readlink(os.path.join(base, link))
        except OSError:  # not a link after all: the folder itself moved
            target = real
        raise _outside(what, base, rel, link, target, real)
    return real


def walk(
    root: Path, *, what: str | None = None, within: Path | None = None
) -> tuple[list[tuple[str, str | None]], int]:
    """
    List the tree under *root* without leaving it: ``(entries, total size)``.

    Each entry is ``(name, real path)`` for a regular file or ``(name + "/", None)`` for an
    empty folder, in ``os.walk`` order (folders and files sorted). A symbolic link whose
    target stays inside *within* (default *root*) is listed as what it points to, under the
    link's name; a link to a folder that contains it (a loop) or one that leads outside is
    refused. Links to nothing, sockets and devices are left out. The types come from the
    directory listing (no stat per file but the one that reads its size).

    Raises:
        ArtifactError: naming the link and its target.
    """
    top = os.path.realpath(root)
    fence = os.path.realpath(within) if within is not None else top
    label = what or str(root)
    out: list[tuple[str, str | None]] = []
    total = 0
    linked = 0
    # (real directory, name in the tree, real folders on the way down, reached through a link)
    stack: list[tuple[str, str, tuple[str, ...], bool]] = [(top, "", (top,), False)]
    while stack:
        directory, rel, chain, via_link = stack.pop()
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
        if rel and not entries:
            out.append((rel + "/", None))
        subdirs: list[tuple[str, str, tuple[str, ...], bool]] = []
        for entry in entries:
            name = f"{rel}/{entry.name}" if rel else entry.name
            if entry.is_symlink():
                real = os.path.realpath(entry.path)
                if not is_within(real, fence):
                    raise _outside(label, fence, name, name, os.readlink(entry.path), real)
                if os.path.isdir(real):
                    if any(is_within(folder, real) for folder in chain):
                        raise ArtifactError(
                            f"{label}: {name!r} is a symbolic link to {os.readlink(entry.path)!r}, a folder "
                            "that contains it (a loop); remove the link"
                        )
                    subdirs.append((real, name, (*chain, real), True))
                elif os.path.isfile(real):
                    out.append((name, real))
                    total += os.stat(real).st_size
                    linked += 1
                continue
            if entry.is_dir(follow_symlinks=False):
                subdirs.append((entry.path, name, (*chain, entry.path), via_link))
            elif entry.is_file(follow_symlinks=False):
                out.append((name, entry.path))
                total += entry.stat(follow_symlinks=False).st_size
                linked += via_link
        if linked > MAX_LINKED_ENTRIES:
            raise ArtifactError(
                f"{label}: symbolic links inside the folder expand it by more than {MAX_LINKED_ENTRIES} "
                "files; remove links that repeat folders"
            )
        stack.extend(reversed(subdirs))
    return out, total
