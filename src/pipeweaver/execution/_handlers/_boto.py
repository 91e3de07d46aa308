"""boto3 clients reach the local job API: how a Lambda function written for AWS runs unchanged.

Layer: execution. The one module of the execution side that touches botocore, and only inside
:func:`install`, which the Lambda invoke handler calls before it invokes a function (so
``import pipeweaver.execution`` never loads botocore; tests/test_layering.py names this
exception).

A function written for AWS makes its client the way AWS's tutorials do,
``boto3.client("codepipeline")``, often at import time, long before a local run starts. So
the interception is made where every client passes, whenever it was created: botocore's
``BaseClient._make_api_call``, wrapped once per process. The wrapper answers only calls about a
job that is open in this process (a job id, or an artifact object of its event) and passes
every other call to botocore unchanged, so real AWS calls (a deploy, a ``CodePipelineExecutor``
in the same process, a function's own S3 reads) are untouched. Answered calls are checked
against the service model as botocore checks them (``ParamValidationError``), and a refused
one raises the client's own modeled exception (``client.exceptions.InvalidJobStateException``),
so a function's ``except`` clauses behave as on AWS. Nothing is signed or sent: no credentials
or network are needed.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from ._jobapi import JobApiError, LocalJob, find_job, find_object, has_open_jobs

__all__ = ["install"]

_INSTALL_LOCK = threading.Lock()
_installed = False

_JOB_CALLS = ("PutJobSuccessResult", "PutJobFailureResult")
_OBJECT_CALLS = (
    "HeadObject",
    "GetObject",
    "PutObject",
    "CreateMultipartUpload",
    "UploadPart",
    "CompleteMultipartUpload",
    "AbortMultipartUpload",
)
_STATUS = {"NoSuchKey": 404, "NoSuchUpload": 404, "AccessDenied": 403, "InvalidJobStateException": 400}


def install() -> None:
    """Make every botocore client, made before or after, answer calls about local jobs (once per process)."""
    global _installed
    with _INSTALL_LOCK:
        if _installed:
            return
        from botocore.client import BaseClient

        # Read and replaced by name: botocore's stubs do not declare the private method.
        original: Callable[[Any, str, dict[str, Any]], Any] = getattr(BaseClient, "_make_api_call")  # noqa: B009

        def _make_api_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            if has_open_jobs():
                answer = _answer(client, operation_name, api_params)
                if answer is not None:
                    return answer
            return original(client, operation_name, api_params)

        _make_api_call.__wrapped__ = original  # type: ignore[attr-defined]
        setattr(BaseClient, "_make_api_call", _make_api_call)  # noqa: B010  (mypy: a method is read-only)
        _installed = True


def _answer(client: Any, operation: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """The local answer to *operation*, or ``None`` when it is not about an open local job."""
    service = client.meta.service_model.service_name
    if service == "codepipeline" and operation in _JOB_CALLS:
        job = find_job(params.get("jobId"))
        if job is None:
            return None
        _validate(client, operation, params)
        call = job.put_success if operation == "PutJobSuccessResult" else job.put_failure
        return _guarded(client, operation, lambda: call(params) or {})
    if service == "s3" and operation in _OBJECT_CALLS:
        found = find_object(params.get("Bucket"), params.get("Key"))
        if found is None:
            return None
        _validate(client, operation, params)
        owner, key = found
        return _guarded(client, operation, lambda: _object_call(owner, key, operation, params))
    return None


def _validate(client: Any, operation: str, params: Mapping[str, Any]) -> None:
    if not client.meta.config.parameter_validation:
        return
    from botocore.validate import validate_parameters

    validate_parameters(params, client.meta.service_model.operation_model(operation).input_shape)


def _guarded(client: Any, operation: str, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        body = call()
    except JobApiError as exc:
        response = {
            "Error": {"Code": exc.code, "Message": exc.message},
            "ResponseMetadata": _metadata(_STATUS.get(exc.code, 400)),
        }
        raise client.exceptions.from_code(exc.code)(response, operation) from None
    return {"ResponseMetadata": _metadata(200), **body}


def _metadata(status: int) -> dict[str, Any]:
    return {"RequestId": "pipeweaver-local", "HTTPStatusCode": status, "HTTPHeaders": {}, "RetryAttempts": 0}


def _object_call(job: LocalJob, key: str, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
    if operation in ("HeadObject", "GetObject"):
        data = job.read_object(key)
        head = {
            "ContentType": "application/zip",
            "ETag": f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"',
            "LastModified": datetime.now(UTC),
            "AcceptRanges": "bytes",
        }
        start, end = _byte_range(params.get("Range"), len(data))
        part = data[start:end]
        head["ContentLength"] = len(part)
        if params.get("Range"):
            head["ContentRange"] = f"bytes {start}-{end - 1}/{len(data)}"
        if operation == "HeadObject":
            return head
        from botocore.response import StreamingBody

        return {**head, "Body": StreamingBody(io.BytesIO(part), len(part))}
    if operation == "PutObject":
        job.write_object(key, _read_body(params.get("Body", b"")))
        return {}
    if operation == "CreateMultipartUpload":
        return {"Bucket": params["Bucket"], "Key": key, "UploadId": job.start_upload(key)}
    if operation == "UploadPart":
        job.upload_part(params["UploadId"], int(params["PartNumber"]), _read_body(params.get("Body", b"")))
        return {"ETag": f'"{params["PartNumber"]}"'}
    if operation == "CompleteMultipartUpload":
        job.complete_upload(params["UploadId"])
        return {"Bucket": params["Bucket"], "Key": key}
    job.abort_upload(params["UploadId"])
    return {}


def _byte_range(header: object, size: int) -> tuple[int, int]:
    """``(start, end)`` (end exclusive) of an HTTP ``Range: bytes=a-b`` (or ``bytes=-n``) header."""
    if not isinstance(header, str):
        return 0, size
    m = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
    if m is None or not (m.group(1) or m.group(2)):
        return 0, size
    if not m.group(1):
        return max(size - int(m.group(2)), 0), size
    start = int(m.group(1))
    end = int(m.group(2)) + 1 if m.group(2) else size
    return min(start, size), min(end, size)


def _read_body(body: object) -> bytes:
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    read = getattr(body, "read", None)
    if read is None:
        raise JobApiError("InvalidRequest", f"Body of type {type(body).__name__} cannot be read")
    data = read()
    return data.encode() if isinstance(data, str) else bytes(data)
