"""``S3ArtifactStore``: the artifact store protocol on S3, SSE-KMS on every write.

Layer: aws. Zipping and safe extraction are the local executor's
(:func:`pipeweaver._archives.zip_directory` and ``safe_extract``), so hostile
archives are refused the same way whichever store they come from.
"""

from __future__ import annotations

import hashlib
import secrets as _random
import tempfile
from pathlib import Path
from typing import Any

from .._archives import ExtractLimits, safe_extract, zip_directory
from .._model import Expression, Pipeline
from ..errors import ArtifactError
from ..execution import ArtifactRef
from ._client import Client, call, default_client

__all__ = ["S3ArtifactStore", "parse_s3_uri"]

_CHUNK = 1 << 20


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> ``(bucket, key)`` (``ArtifactError`` for anything else)."""
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise ArtifactError(f"{uri!r} is not an s3://bucket/key URI")
    bucket, _, key = uri[5:].partition("/")
    if not bucket or not key:
        raise ArtifactError(f"{uri!r} is not an s3://bucket/key URI")
    return bucket, key


def upload_zip(client: Client, path: Path, bucket: str, key: str, *, kms_key_id: str | None, sha256: str) -> None:
    """Upload one zip with SSE-KMS (*kms_key_id*, or the AWS-managed ``aws/s3`` key) and its sha256."""
    params: dict[str, Any] = {
        "Bucket": bucket,
        "Key": key,
        "ServerSideEncryption": "aws:kms",
        "Metadata": {"sha256": sha256},
        "ContentType": "application/zip",
    }
    if kms_key_id:
        params["SSEKMSKeyId"] = kms_key_id
    with path.open("rb") as body:
        call(client, "PutObject", Body=body, **params)


def download(client: Client, bucket: str, key: str, destination: Path) -> tuple[str, dict[str, str]]:
    """Stream one object to *destination*; return its sha256 and user metadata."""
    response = call(client, "GetObject", Bucket=bucket, Key=key)
    digest = hashlib.sha256()
    body = response["Body"]
    with destination.open("wb") as out:
        while chunk := body.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest(), dict(response.get("Metadata") or {})


class S3ArtifactStore:
    """
    Artifact zips in an S3 bucket: ``<prefix>/<execution id>/<name>-<random>.zip``.

    Implements :class:`~pipeweaver.execution.ArtifactStore`, so
    ``LocalExecutor(artifact_store=S3ArtifactStore(...))`` keeps a local run's artifacts in S3.
    Every write uses SSE-KMS (the given key, or the AWS-managed ``aws/s3`` key) and records
    the zip's sha256 in the object's metadata; every read checks it before extracting.

    Args:
        bucket: The bucket name.
        client: A boto3 S3 client (default: created on first use).
        kms_key_id: KMS key id, key ARN or alias ARN for SSE-KMS.
        prefix: Key prefix for every object.
        limits: Extraction limits (size, file count, compression ratio).

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        bucket: str,
        *,
        client: Client | None = None,
        kms_key_id: str | None = None,
        prefix: str = "pipeweaver",
        limits: ExtractLimits | None = None,
    ) -> None:
        self.bucket = bucket
        self.kms_key_id = kms_key_id
        self.prefix = prefix.strip("/")
        self.limits = limits or ExtractLimits()
        self._client = client

    @classmethod
    def for_pipeline(
        cls, pipeline: Pipeline, *, client: Client | None = None, region: str | None = None
    ) -> S3ArtifactStore:
        """The store of *pipeline*'s artifact bucket (of *region* for cross-region pipelines), with its KMS key."""
        store = pipeline.artifact_store
        if store is None and pipeline.artifact_stores:
            if region is None or region not in pipeline.artifact_stores:
                raise ArtifactError(
                    f"pipeline {pipeline.name!s} has artifact stores in {sorted(pipeline.artifact_stores)}; "
                    "pass region= naming one of them"
                )
            store = pipeline.artifact_stores[region]
        if store is None:
            raise ArtifactError(f"pipeline {pipeline.name!s} has no artifact store")
        if isinstance(store.location, Expression) or (
            store.encryption_key is not None and isinstance(store.encryption_key.id, Expression)
        ):
            raise ArtifactError(
                f"pipeline {pipeline.name!s}'s artifact store is a CloudFormation expression; resolve it first"
            )
        key = None if store.encryption_key is None else str(store.encryption_key.id)
        return cls(str(store.location), client=client, kms_key_id=key)

    @property
    def client(self) -> Client:
        """The S3 client (created on first use)."""
        if self._client is None:
            self._client = default_client("s3")
        return self._client

    def put(self, execution_id: str, name: str, source: Path) -> ArtifactRef:
        """Zip the directory *source*, upload it with SSE-KMS; return its reference with sha256."""
        key = f"{self.prefix}/{execution_id}/{name}-{_random.token_hex(4)}.zip".lstrip("/")
        with tempfile.TemporaryDirectory(prefix="pipeweaver-s3-") as tmp:
            path = Path(tmp) / "artifact.zip"
            digest = zip_directory(source, path)
            size = path.stat().st_size
            upload_zip(self.client, path, self.bucket, key, kms_key_id=self.kms_key_id, sha256=digest)
        return ArtifactRef(name=name, uri=f"s3://{self.bucket}/{key}", sha256=digest, size=size)

    def get(self, ref: ArtifactRef, destination: Path) -> None:
        """
        Download *ref*, check its sha256 and extract it safely into *destination*.

        Raises:
            ArtifactError: the object is missing, its hash differs, or the archive is hostile.
        """
        bucket, key = parse_s3_uri(ref.uri)
        with tempfile.TemporaryDirectory(prefix="pipeweaver-s3-") as tmp:
            path = Path(tmp) / "artifact.zip"
            try:
                actual, metadata = download(self.client, bucket, key, path)
            except Exception as exc:
                raise ArtifactError(f"artifact {ref.name!r} could not be read from {ref.uri}: {exc}") from None
            expected = ref.sha256 or metadata.get("sha256", "")
            if actual != expected:
                raise ArtifactError(
                    f"artifact {ref.name!r} at {ref.uri} fails its hash check: recorded sha256 {expected or '(none)'}, "
                    f"found {actual}; the object was changed after it was stored"
                )
            safe_extract(path, destination, self.limits)
