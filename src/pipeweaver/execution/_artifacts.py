"""The local artifact store: zips under the work directory, hashed on write, verified on read.

Layer: execution. Zipping and safe extraction are :mod:`pipeweaver._archives`' (shared with
the S3 store and the job worker).
"""

from __future__ import annotations

import secrets as _random
from pathlib import Path

from .._archives import ExtractLimits, file_sha256, safe_extract, zip_directory, zip_tree
from ..errors import ArtifactError
from ._base import ArtifactRef

# Zipping and extracting live in pipeweaver._archives (shared with the S3 store and the job
# worker); the names are re-exported for the engine's other modules.
__all__ = ["ExtractLimits", "LocalArtifactStore", "file_sha256", "safe_extract", "zip_directory"]


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
            digest, size = zip_tree(source, path, make_parent=not known)
        except FileNotFoundError:
            if not known:
                raise
            self._folders.discard(execution_id)  # removed behind our back: make it again
            digest, size = zip_tree(source, path)
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
