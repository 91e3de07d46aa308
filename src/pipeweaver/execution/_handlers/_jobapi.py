"""The local job API of Lambda invoke actions: what CodePipeline answers a function that reports.

Layer: execution (no botocore here; :mod:`._boto` carries boto3 clients' calls to it). A Lambda
invoke opens one :class:`LocalJob` per invocation, under a fresh job id that exists only in this
process. The function decides the action's outcome as on AWS, by calling
``PutJobSuccessResult`` (output variables, a continuation token, execution details) or
``PutJobFailureResult`` (failure type and message) for that id; the artifact objects the event
names (``inputArtifacts``/``outputArtifacts`` ``s3Location``) are read and written here too.

The rules each call is held to are the API reference's (PutJobSuccessResult,
PutJobFailureResult): one result per job (``InvalidJobStateException``), ``outputVariables``
only without a ``continuationToken`` and a failure type from the documented list
(``ValidationException``). The token's length is the engine's check, as for job workers
(:func:`~pipeweaver.execution.check_continuation_token`).
"""

from __future__ import annotations

import shutil
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from ..._archives import safe_extract, zip_tree
from .._base import FailureType

__all__ = ["JobApiError", "JobReport", "LocalJob", "find_job", "has_open_jobs", "open_job"]

#: PutJobFailureResult's failureDetails.message length bounds (FailureDetails in the API reference).
FAILURE_MESSAGE_LIMIT = 5000


class JobApiError(Exception):
    """A job API call CodePipeline refuses: *code* is the API's error code."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


@attrs.frozen(kw_only=True)
class JobReport:
    """The result a function reported for its job."""

    succeeded: bool
    output_variables: Mapping[str, str] = attrs.field(factory=dict)
    continuation_token: str | None = None
    summary: str | None = None
    external_execution_id: str | None = None
    failure_type: FailureType = FailureType.JOB_FAILED
    message: str = ""


@attrs.define(kw_only=True)
class _Object:
    """An artifact object the job's event names: an input to read or an output to write."""

    artifact: str
    folder: Path
    output: bool
    data: bytes | None = None


class LocalJob:
    """One Lambda invocation's job: its id, its artifact objects, and what the function reported."""

    def __init__(self, *, bucket: str, scratch: Path) -> None:
        self.id = str(uuid.uuid4())
        self.bucket = bucket
        self._scratch = scratch
        self._lock = threading.Lock()
        self._objects: dict[str, _Object] = {}
        self._uploads: dict[str, tuple[str, dict[int, bytes]]] = {}
        self.report: JobReport | None = None

    # artifacts ---------------------------------------------------------------------------

    def add_object(self, key: str, artifact: str, folder: Path, *, output: bool) -> None:
        """Name *folder* (artifact *artifact*) as object *key* of the job's bucket."""
        self._objects[key] = _Object(artifact=artifact, folder=folder, output=output)

    def owns(self, bucket: str, key: str) -> bool:
        """Whether ``s3://bucket/key`` is one of this job's artifact objects."""
        return bucket == self.bucket and key in self._objects

    def read_object(self, key: str) -> bytes:
        """The zip of the artifact behind *key* (``NoSuchKey`` for an output not yet written)."""
        obj = self._objects[key]
        with self._lock:
            if obj.data is None:
                if obj.output:
                    raise JobApiError("NoSuchKey", "The specified key does not exist.")
                path = self._scratch / f"{obj.artifact}.zip"
                zip_tree(obj.folder, path)
                obj.data = path.read_bytes()
            return obj.data

    def write_object(self, key: str, data: bytes) -> None:
        """Store *data* as output artifact *key*: a zip, extracted into the action's output folder."""
        obj = self._objects[key]
        if not obj.output:
            raise JobApiError("AccessDenied", f"input artifact {obj.artifact!r} is read-only for the function")
        with self._lock:
            path = self._scratch / f"{obj.artifact}.out.zip"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            # A second upload replaces the first, as a second PutObject of one key does.
            shutil.rmtree(obj.folder)
            obj.folder.mkdir()
            safe_extract(path, obj.folder)
            obj.data = data

    def start_upload(self, key: str) -> str:
        """``CreateMultipartUpload`` of output artifact *key* (how boto3 uploads large files)."""
        if key not in self._objects:
            raise JobApiError("AccessDenied", f"object {key!r} is not one of the job's artifacts")
        upload_id = uuid.uuid4().hex
        with self._lock:
            self._uploads[upload_id] = (key, {})
        return upload_id

    def upload_part(self, upload_id: str, number: int, data: bytes) -> None:
        """``UploadPart``: part *number* of an upload this job started."""
        with self._lock:
            if upload_id not in self._uploads:
                raise JobApiError("NoSuchUpload", "The specified upload does not exist.")
            self._uploads[upload_id][1][number] = data

    def complete_upload(self, upload_id: str) -> None:
        """``CompleteMultipartUpload``: the parts, in part-number order, become the object."""
        with self._lock:
            found = self._uploads.pop(upload_id, None)
        if found is None:
            raise JobApiError("NoSuchUpload", "The specified upload does not exist.")
        key, parts = found
        self.write_object(key, b"".join(parts[n] for n in sorted(parts)))

    def abort_upload(self, upload_id: str) -> None:
        """``AbortMultipartUpload``."""
        with self._lock:
            self._uploads.pop(upload_id, None)

    # results -----------------------------------------------------------------------------

    def put_success(self, params: Mapping[str, Any]) -> None:
        """``PutJobSuccessResult`` for this job."""
        token = params.get("continuationToken")
        variables = params.get("outputVariables")
        if token is not None and variables:
            raise JobApiError(
                "ValidationException", "outputVariables can be included only when there is no continuation token"
            )
        details = params.get("executionDetails") or {}
        self._settle(
            JobReport(
                succeeded=True,
                output_variables={str(k): str(v) for k, v in (variables or {}).items()},
                continuation_token=token,
                summary=details.get("summary"),
                external_execution_id=details.get("externalExecutionId"),
            )
        )

    def put_failure(self, params: Mapping[str, Any]) -> None:
        """``PutJobFailureResult`` for this job."""
        details = params.get("failureDetails") or {}
        kind, message = details.get("type"), str(details.get("message", ""))
        try:
            failure_type = FailureType(str(kind))
        except ValueError:
            allowed = ", ".join(t.value for t in FailureType)
            raise JobApiError("ValidationException", f"failureDetails.type {kind!r} is not one of {allowed}") from None
        if len(message) > FAILURE_MESSAGE_LIMIT:
            raise JobApiError(
                "ValidationException",
                f"failureDetails.message is {len(message)} characters, above {FAILURE_MESSAGE_LIMIT}",
            )
        self._settle(JobReport(succeeded=False, failure_type=failure_type, message=message))

    def _settle(self, report: JobReport) -> None:
        with self._lock:
            if self.report is not None:
                raise JobApiError(
                    "InvalidJobStateException", f"job {self.id} is not in progress: its result was already put"
                )
            self.report = report


_JOBS: dict[str, LocalJob] = {}
_JOBS_LOCK = threading.Lock()


def open_job(*, bucket: str, scratch: Path) -> LocalJob:
    """Open a job the function can report to (until :func:`close_job`)."""
    job = LocalJob(bucket=bucket, scratch=scratch)
    with _JOBS_LOCK:
        _JOBS[job.id] = job
    return job


def close_job(job: LocalJob) -> None:
    """Close *job*: later calls for its id reach AWS, which does not know it."""
    with _JOBS_LOCK:
        _JOBS.pop(job.id, None)


def has_open_jobs() -> bool:
    """Whether any local job is open (the cheap test every intercepted call makes first)."""
    return bool(_JOBS)


def find_job(job_id: object) -> LocalJob | None:
    """The open job *job_id*, or ``None``."""
    return _JOBS.get(job_id) if isinstance(job_id, str) else None


def find_object(bucket: object, key: object) -> tuple[LocalJob, str] | None:
    """The open job owning object ``s3://bucket/key``, or ``None``."""
    if not (isinstance(bucket, str) and isinstance(key, str)):
        return None
    with _JOBS_LOCK:
        jobs = list(_JOBS.values())
    for job in jobs:
        if job.owns(bucket, key):
            return job, key
    return None
