"""The local artifact store: zips under the work directory, hashed on write, verified on read.

Layer: execution. :func:`zip_directory` and :func:`safe_extract` are shared with any other
store (the S3 store reuses them); :func:`safe_extract` refuses every entry that could write
outside the destination (``../``, absolute paths, drive letters, links, special files),
duplicate or case-colliding names, and archives whose size, entry count or compression ratio
exceed :class:`ExtractLimits` -- before writing a single file.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets as _random
import shutil
import stat
import time
import unicodedata
import zipfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO, final

import attrs

from ..errors import ArtifactError
from ._base import ArtifactRef
from ._paths import walk

__all__ = ["ExtractLimits", "LocalArtifactStore", "file_sha256", "safe_extract", "zip_directory"]

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
    :class:`~pipeweaver.errors.ArtifactError` naming it (see :func:`._paths.walk`). The zip is
    written to a temporary name and renamed, so a crash never leaves a half-written artifact
    behind.
    """
    return _zip(source, destination)[0]


#: Trees up to this size are zipped in memory: one write instead of a seek and a write per
#: entry, and the sha256 taken from the bytes written rather than by reading the file again.
#: Every syscall lets another action thread take the GIL, so a wave of small artifacts paid
#: for each one several times over (bench/run.py, critical path: the source stage).
_IN_MEMORY_BYTES = 8 << 20
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def _zip(source: Path, destination: Path, *, make_parent: bool = True) -> tuple[str, int]:
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


class LocalArtifactStore:
    """
    Artifact zips in a local folder: ``<root>/<execution id>/<name>-<random>.zip``.

    Implements :class:`~pipeweaver.execution.ArtifactStore`. The sha256 is computed while the
    zip is written and checked again before every extraction.

    .. versionadded:: 0.1.0
    """

    def __init__(self, root: Path | str, *, limits: ExtractLimits | None = None) -> None:
        self.root = Path(root).resolve()
        self.limits = limits or ExtractLimits()
        self._folders: set[str] = set()

    def put(self, execution_id: str, name: str, source: Path) -> ArtifactRef:
        """Zip the directory *source* and store it; return its reference with sha256."""
        folder = self.root / execution_id
        path = folder / f"{name}-{_random.token_hex(4)}.zip"
        # The execution's folder is made once, not checked by every action of every wave.
        known = execution_id in self._folders
        try:
            digest, size = _zip(source, path, make_parent=not known)
        except FileNotFoundError:
            if not known:
                raise
            self._folders.discard(execution_id)  # removed behind our back: make it again
            digest, size = _zip(source, path)
        self._folders.add(execution_id)
        return ArtifactRef(name=name, uri=path.as_uri(), sha256=digest, size=size)

    def path_of(self, ref: ArtifactRef) -> Path:
        """The local file behind *ref* (``ArtifactError`` for a non-local URI)."""
        if not ref.uri.startswith("file://"):
            raise ArtifactError(f"artifact {ref.name!r} lives at {ref.uri}, not in this local store")
        from urllib.parse import unquote, urlparse

        return Path(unquote(urlparse(ref.uri).path))

    def get(self, ref: ArtifactRef, destination: Path) -> None:
        """Verify *ref*'s hash and extract it safely into *destination*."""
        path = self.path_of(ref)
        if not path.is_file():
            raise ArtifactError(f"artifact {ref.name!r} is missing from the store: {path}")
        actual = file_sha256(path)
        if actual != ref.sha256:
            raise ArtifactError(
                f"artifact {ref.name!r} at {path} fails its hash check: recorded sha256 {ref.sha256}, "
                f"found {actual}; the file was changed after it was stored"
            )
        safe_extract(path, destination, self.limits)
