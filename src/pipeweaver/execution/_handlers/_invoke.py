"""Invoke handlers: Lambda invoke through a Python callable that reports through CodePipeline's job API.

The function gets CodePipeline's event and a Lambda context, and decides the outcome as on AWS
(AWS Lambda invoke action reference): by calling ``PutJobSuccessResult`` or
``PutJobFailureResult`` for the event's job id, through a boto3 ``codepipeline`` client made as
AWS's tutorials make it (see :mod:`._boto`, :mod:`._jobapi`). Its return value decides
nothing: a function that returns (or raises) without reporting fails the action, where on AWS
the action waits for a report until it times out.
"""

from __future__ import annotations

import inspect
import re
import secrets
import string
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from ..._model import Pipeline
from .._base import ActionContext, ActionFailed, ActionResult
from . import _boto
from ._common import _Bound, _require
from ._jobapi import JobReport, LocalJob, close_job, open_job

#: Lambda's longest function timeout (15 minutes): what a local context counts down from.
LAMBDA_TIMEOUT_MS = 15 * 60 * 1000
_LOCAL_BUCKET = "pipeweaver-local-artifacts"
#: ArtifactLocation.type: where an artifact is (the API's one value), not the S3 provider.
_LOCATION_TYPE = "S3"
_ALNUM = string.ascii_letters + string.digits


def _random(n: int, alphabet: str = _ALNUM) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _artifact_store(pipeline: Pipeline, region: object = None) -> Any:
    stores = pipeline.artifact_stores
    if stores:
        return stores.get(str(region or ""), next(iter(stores.values())))
    return pipeline.artifact_store


def pipeline_account(pipeline: Pipeline) -> str:
    """The account a job's ``accountId`` names: the pipeline role's, else the local placeholder."""
    m = re.match(r"arn:[^:]+:iam::(\d{12}):", str(pipeline.role_arn or ""))
    return m.group(1) if m else "000000000000"


@attrs.frozen(kw_only=True)
class JobInputs:
    """What one job's event is made of, for a Lambda invoke action or a ``LambdaInvoke`` rule.

    Attributes:
        configuration: The resolved configuration; the event carries its ``FunctionName`` and
            ``UserParameters``.
        inputs: Input artifact name -> the folder holding its files.
        outputs: Output artifact name -> the folder the function's upload fills.
        revisions: Input artifact name -> the source revision it carries, when a source
            action made it.
        continuation_token: The token the previous invocation put, if any.
    """

    pipeline: Pipeline
    region: object = None
    configuration: Mapping[str, str]
    inputs: Mapping[str, Path] = attrs.field(factory=dict)
    outputs: Mapping[str, Path] = attrs.field(factory=dict)
    revisions: Mapping[str, str | None] = attrs.field(factory=dict)
    continuation_token: str | None = None


def _event(job: LocalJob, what: JobInputs) -> dict[str, Any]:
    pipeline = str(what.pipeline.name)

    def artifacts(items: Mapping[str, Path], *, output: bool) -> list[dict[str, Any]]:
        out = []
        for name, folder in items.items():
            key = f"{pipeline[:20]}/{name[:10]}/{_random(7)}"
            job.add_object(key, name, folder, output=output)
            location = {"type": _LOCATION_TYPE, "s3Location": {"bucketName": job.bucket, "objectKey": key}}
            # A source artifact carries its source revision; others (and outputs) have none.
            revision = None if output else what.revisions.get(name)
            out.append({"name": name, "revision": revision, "location": location})
        return out

    config = {k: v for k, v in what.configuration.items() if k in ("FunctionName", "UserParameters")}
    data: dict[str, Any] = {
        "actionConfiguration": {"configuration": config},
        "inputArtifacts": artifacts(what.inputs, output=False),
        "outputArtifacts": artifacts(what.outputs, output=True),
        "artifactCredentials": {
            "accessKeyId": "ASIA" + _random(16, string.ascii_uppercase + string.digits),
            "secretAccessKey": _random(40),
            "sessionToken": _random(64),
            "expirationTime": int(time.time() * 1000) + 3_600_000,
        },
    }
    if what.continuation_token:
        data["continuationToken"] = what.continuation_token
    store = _artifact_store(what.pipeline, what.region)
    key = getattr(store, "encryption_key", None)
    if key is not None and isinstance(key.id, str):
        data["encryptionKey"] = {"id": key.id, "type": key.type}
    return {"CodePipeline.job": {"id": job.id, "accountId": pipeline_account(what.pipeline), "data": data}}


def job_event(ctx: ActionContext, job: LocalJob | None = None) -> dict[str, Any]:
    """CodePipeline's event for a Lambda invoke (Example JSON event of the Lambda invoke reference).

    Artifacts are ``S3`` locations in the pipeline's artifact bucket; inside the invocation a
    boto3 S3 client reads the input zips and writes the output zips there (see :mod:`._boto`).
    ``artifactCredentials`` are placeholders: nothing checks them locally. Built here from the
    context alone, an input artifact has no revision (the handler gives the source revisions).
    """
    job = job or LocalJob(bucket=_LOCAL_BUCKET, scratch=ctx.workdir / "job")
    return _event(job, _job_inputs(ctx, {}))


def _job_inputs(ctx: ActionContext, revisions: Mapping[str, str | None]) -> JobInputs:
    return JobInputs(
        pipeline=ctx.pipeline,
        region=ctx.action.region,
        configuration=ctx.configuration,
        inputs=ctx.inputs,
        outputs=ctx.outputs,
        revisions=revisions,
        continuation_token=ctx.continuation_token,
    )


@attrs.frozen(kw_only=True)
class LambdaContext:
    """The context object a local invocation passes as the function's second argument.

    The attributes and method of Lambda's Python context object; the remaining time counts
    down from Lambda's longest timeout (15 minutes), the function's own timeout being unknown
    locally.
    """

    function_name: str
    invoked_function_arn: str
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 128
    aws_request_id: str = attrs.field(factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""
    _started: float = attrs.field(factory=time.monotonic, alias="started")

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before Lambda would stop the function."""
        return max(0, LAMBDA_TIMEOUT_MS - int((time.monotonic() - self._started) * 1000))


def lambda_context(name: str, account: str) -> LambdaContext:
    """The context for function *name* (a name or an ARN)."""
    short = name.split(":function:")[-1].split(":")[0]
    arn = name if name.startswith("arn:") else f"arn:aws:lambda:us-east-1:{account}:function:{short}"
    return LambdaContext(
        function_name=short,
        invoked_function_arn=arn,
        log_group_name=f"/aws/lambda/{short}",
        log_stream_name=f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}",
    )


def call_function(function: Callable[..., Any], event: Mapping[str, Any], context: object = None) -> Any:
    """Call a Lambda-style function with ``(event)`` or ``(event, context)``."""
    try:
        params = inspect.signature(function).parameters
        positional = [p for p in params.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        takes_two = len(positional) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in params.values())
    except (TypeError, ValueError):
        takes_two = False
    return function(event, context) if takes_two else function(event)


def _no_report(waiter: str) -> str:
    return (
        "without calling PutJobSuccessResult or PutJobFailureResult "
        f"(on AWS the {waiter} waits for one until it times out)"
    )


def run_job(
    function: Callable[..., Any],
    name: str,
    what: JobInputs,
    *,
    scratch: Path,
    log: Callable[[str], None],
    waiter: str = "action",
) -> JobReport:
    """Invoke *function* (Lambda function *name*) with a job made of *what*; return what it reported.

    Raises :class:`ActionFailed` when it reports nothing (CodePipeline would wait for a report
    until the *waiter*, the action or the rule, times out).
    """
    store = _artifact_store(what.pipeline, what.region)
    bucket = store.location if store is not None and isinstance(store.location, str) else _LOCAL_BUCKET
    _boto.install()
    job = open_job(bucket=bucket, scratch=scratch)
    failure: BaseException | None = None
    try:
        event = _event(job, what)
        try:
            value = call_function(function, event, lambda_context(name, pipeline_account(what.pipeline)))
        except Exception as exc:
            failure, value = exc, None
    finally:
        close_job(job)
    report = job.report
    if report is None:
        if failure is not None:
            raise ActionFailed(
                f"timed out: function {name} raised {type(failure).__name__}: {failure} {_no_report(waiter)}"
            ) from None
        returned = "" if value is None else f"; it returned {value!r}, and a return value reports nothing"
        raise ActionFailed(f"timed out: function {name} returned {_no_report(waiter)}{returned}")
    if failure is not None:
        log(f"function {name} raised {type(failure).__name__}: {failure} after it put its job's result")
    return report


class InvokeHandlers(_Bound):
    """The Lambda invoke handler, bound to one executor's functions."""

    def lambda_invoke(self, ctx: ActionContext) -> ActionResult:
        """Lambda invoke: call the registered function with CodePipeline's event; its job API calls decide."""
        (name,) = _require(ctx, "FunctionName")
        function = self._x.function_for(name)
        revisions = {artifact: self._x.input_origin(ctx, artifact).revision for artifact in ctx.inputs}
        report = run_job(function, name, _job_inputs(ctx, revisions), scratch=ctx.workdir / "job", log=ctx.log)
        if not report.succeeded:
            raise ActionFailed(
                report.message or f"function {name} put a failure result", failure_type=report.failure_type
            )
        if report.continuation_token is not None:
            ctx.log(f"function {name} asked to continue (continuationToken); it is invoked again with the token")
        return ActionResult(
            output_variables=report.output_variables,
            summary=report.summary or f"function {name} succeeded",
            external_execution_id=report.external_execution_id,
            continuation_token=report.continuation_token,
        )
