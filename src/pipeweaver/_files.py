"""Writing a file whole or not at all: the one atomic write that the CLI and the testing toolkit use.

Layer: names (imports nothing of pipeweaver).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["write_atomic"]


def write_atomic(path: str | os.PathLike[str], data: str | bytes, *, mode: int | None = None) -> None:
    """
    Write *data* to *path* through a temporary file in the same folder and a rename.

    A reader sees the old file or the new one, never half of either. A new file gets the mode an
    ordinary write would give it (``0o666`` less the process umask, so it stays readable to the
    group and others under the usual ``022``); a replaced file keeps its mode. *mode* (say
    ``0o600`` for a file only its owner may read) is set before any byte is written.

    Raises:
        OSError: when the folder does not exist or cannot be written; nothing is left behind.
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    if mode is None:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = None
    # os.urandom, what secrets.token_hex reads, without importing secrets (hmac, hashlib, random)
    # into every command that may write a file.
    tmp = path.with_name(f".{path.name}.{os.urandom(6).hex()}.tmp")
    # Created with the final mode (or 0o666 less the umask, which the kernel applies), so no
    # other process can open a private file in the moment before fchmod; mkstemp forces 0o600.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(tmp, flags, 0o666 if mode is None else mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
