"""``JobWorker``: serve a custom action type on AWS with the same handler the local executor runs.

Layer: aws. The job-worker protocol of reference §5.2: PollForJobs -> AcknowledgeJob (with the
nonce; a job whose acknowledge fails is skipped) -> download inputs with the job's temporary
credentials -> run the :class:`~pipeweaver.execution.ActionHandler` -> upload outputs with SSE-KMS
-> PutJobSuccessResult or PutJobFailureResult.
"""

from __future__ import annotations

import collections
import json
import logging
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import FrameType
from typing import Any, Literal, final

import attrs

from .. import _names
from .._archives import ExtractLimits, safe_extract, zip_directory
from .._masking import Masker
from .._model import Action, ActionOwner, ActionType, Artifact, Pipeline, Stage
from ..errors import AwsError
from ..execution import (
    CONTINUATION_TOKEN_LIMIT,
    ActionContext,
    ActionFailed,
    ActionHandler,
    ActionResult,
    FailureType,
    check_continuation_token,
)
from ..synth import worker_policy as _policy
from ._client import Client, call, default_client
from ._custom import CustomActionType
from ._store import download, upload_zip

__all__ = ["JobOutcome", "JobWorker", "Revision", "worker_policy"]

_MESSAGE_LIMIT = 5000
_SUMMARY_LIMIT = 2048
_SEEN_LIMIT = 10_000
# Marks a token that carries output variables returned with a continuation token to the final
# result (PutJobSuccessResult refuses outputVariables beside a continuationToken).
_CARRY = "pipeweaver-carry/1:"

Outcome = Literal["succeeded", "continued", "failed", "skipped"]


@final
@attrs.frozen(kw_only=True)
class Revision:
    """``currentRevision`` for PutJobSuccessResult (source-like custom actions).

    .. versionadded:: 0.1.0
    """

    revision: str
    change_identifier: str
    summary: str | None = None

    def to_api(self) -> dict[str, str]:
        """The ``CurrentRevision`` shape."""
        out = {"revision": self.revision[:1500], "changeIdentifier": self.change_identifier[:100]}
        if self.summary:
            out["revisionSummary"] = self.summary[:2048]
        return out


@final
@attrs.frozen(kw_only=True)
class JobOutcome:
    """
    What the worker did with one delivered job.

    Attributes:
        job_id: The job id.
        outcome: ``succeeded``, ``continued`` (success with a continuation token),
            ``failed`` (PutJobFailureResult sent) or ``skipped`` (duplicate delivery,
            acknowledge refused, or job not InProgress; the handler did not run).
        detail: Why, for skipped and failed jobs (secrets masked).

    .. versionadded:: 0.1.0
    """

    job_id: str
    outcome: Outcome
    detail: str = ""


def _default_s3_client(credentials: Mapping[str, str]) -> Client:
    import boto3
    from botocore.config import Config

    factory: Any = boto3.client
    return factory(
        "s3",
        aws_access_key_id=credentials.get("accessKeyId"),
        aws_secret_access_key=credentials.get("secretAccessKey"),
        aws_session_token=credentials.get("sessionToken"),
        # CodePipeline artifact buckets use SSE-KMS, which needs SigV4.
        config=Config(signature_version="s3v4"),
    )


class JobWorker:
    """
    Polls CodePipeline for jobs of one custom action type and runs *handler* for each.

    The handler is the same :class:`~pipeweaver.execution.ActionHandler` the local executor
    calls: it receives an :class:`~pipeweaver.execution.ActionContext` whose ``inputs`` hold
    the extracted input artifacts and whose ``outputs`` are empty directories to fill. On AWS,
    ``context.pipeline`` is a stand-in holding only the job's stage and action (a worker
    usually may not call GetPipeline); pass ``pipeline_loader`` to supply the real one.

    A job id is handled at most once per worker (duplicate deliveries are skipped). A job whose
    acknowledge fails is skipped without running the handler and may run when redelivered.
    Secret configuration values and the job's credentials never reach the logger or failure
    messages.

    Args:
        action_type: The custom action type (or its ``ActionType`` with owner ``Custom``).
        handler: The action handler.
        client: A boto3 CodePipeline client (default: created on first use).
        s3_client_factory: Builds an S3 client from the job's ``artifactCredentials``.
        max_workers: Jobs handled concurrently.
        poll_interval: Seconds between polls that found no job.
        query: The queryable property's value to poll for (required when the type has one):
            the value alone with a :class:`CustomActionType`, else ``"Property=value"`` or a
            one-entry mapping.
        secret_properties: Names of secret configuration properties whose values must be
            masked (added to a :class:`CustomActionType`'s own secret properties).
        logger: Where progress goes (default ``logging.getLogger("pipeweaver.aws.worker")``).
        workdir: Parent of the per-job scratch directories (default: the system temp dir).
        pipeline_loader: ``(pipeline name) -> Pipeline`` for ``context.pipeline``.
        revision_of: ``(context, result) -> Revision`` for ``currentRevision`` (sources).
        limits: Extraction limits for input artifacts.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        action_type: CustomActionType | ActionType,
        handler: ActionHandler,
        *,
        client: Client | None = None,
        s3_client_factory: Callable[[Mapping[str, str]], Client] = _default_s3_client,
        max_workers: int = 4,
        poll_interval: float = 10.0,
        query: str | Mapping[str, str] | None = None,
        secret_properties: Iterable[str] = (),
        logger: logging.Logger | None = None,
        workdir: Path | str | None = None,
        pipeline_loader: Callable[[str], Pipeline] | None = None,
        revision_of: Callable[[ActionContext, ActionResult], Revision | None] | None = None,
        limits: ExtractLimits | None = None,
    ) -> None:
        if isinstance(action_type, ActionType) and action_type.owner is not ActionOwner.CUSTOM:
            raise AwsError(
                f"job workers serve Custom action types only; {action_type} has owner {action_type.owner}",
                operation="PollForJobs",
                code="ValidationException",
            )
        self.custom = action_type if isinstance(action_type, CustomActionType) else None
        self.action_type = action_type.action_type if isinstance(action_type, CustomActionType) else action_type
        self._query = self._query_param(query)
        self.secret_properties = frozenset(secret_properties) | (
            self.custom.secret_properties if self.custom else frozenset()
        )
        self.handler = handler
        self._client = client
        self.s3_client_factory = s3_client_factory
        self.max_workers = max(1, max_workers)
        self.poll_interval = poll_interval
        self.log = logger or logging.getLogger("pipeweaver.aws.worker")
        self.workdir = None if workdir is None else Path(workdir)
        self.pipeline_loader = pipeline_loader
        self.revision_of = revision_of
        self.limits = limits or ExtractLimits()
        self._lock = threading.Lock()
        self._claimed: set[str] = set()
        self._done: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._stop = threading.Event()
        self._pool: ThreadPoolExecutor | None = None
        self._in_flight: set[Future[JobOutcome]] = set()

    @property
    def client(self) -> Client:
        """The CodePipeline client (created on first use)."""
        if self._client is None:
            self._client = default_client("codepipeline")
        return self._client

    def _query_param(self, query: str | Mapping[str, str] | None) -> dict[str, str]:
        if isinstance(query, Mapping):
            if len(query) > 1:
                raise AwsError(
                    f"query={dict(query)!r}: PollForJobs takes at most one queryable property",
                    operation="PollForJobs",
                    code="ValidationException",
                )
            return dict(query)
        prop = self.custom.queryable_property if self.custom else None
        if query is None:
            if prop is not None:
                raise AwsError(
                    f"{self.action_type} has the queryable property {prop.name!r}: pass query='<value>'",
                    operation="PollForJobs",
                    code="ValidationException",
                )
            return {}
        name, sep, value = query.partition("=")
        if sep and name and (prop is None or name == prop.name):
            return {name: value}
        if prop is None:
            raise AwsError(
                f"query={query!r}: the queryable property's name is not known for {self.action_type}; "
                "write query='Property=value' or pass a CustomActionType",
                operation="PollForJobs",
                code="ValidationException",
            )
        return {prop.name: query}

    # -- polling ---------------------------------------------------------------------------

    def poll(self, max_batch_size: int | None = None) -> list[dict[str, Any]]:
        """One PollForJobs call; return the delivered jobs."""
        params: dict[str, Any] = {
            "actionTypeId": {
                "category": self.action_type.category.value,
                "owner": "Custom",
                "provider": self.action_type.provider,
                "version": self.action_type.version,
            },
            "maxBatchSize": max_batch_size or self.max_workers,
        }
        if self._query:
            params["queryParam"] = dict(self._query)
        jobs: list[dict[str, Any]] = call(self.client, "PollForJobs", **params).get("jobs") or []
        return jobs

    def run_once(self) -> list[JobOutcome]:
        """Poll once and handle every delivered job (concurrently, up to ``max_workers``); return the outcomes."""
        jobs = self.poll()
        if not jobs:
            return []
        with ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="pipeweaver-job") as pool:
            return list(pool.map(self.handle, jobs))

    def serve(self, *, install_signal_handlers: bool = True) -> None:
        """
        Poll and handle jobs until :meth:`stop` is called (or SIGTERM/SIGINT arrive).

        On stop, polling ends at once and the jobs in flight finish and report before this
        returns. Signal handlers are installed only from the main thread and restored after.
        """
        previous: dict[signal.Signals, Any] = {}
        if install_signal_handlers and threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, self._on_signal)
        self._stop.clear()
        self.log.info("worker for %s started", self.action_type)
        try:
            with ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="pipeweaver-job") as pool:
                self._pool = pool
                while not self._stop.is_set():
                    self._in_flight = {f for f in self._in_flight if not f.done()}
                    free = self.max_workers - len(self._in_flight)
                    jobs: list[dict[str, Any]] = []
                    if free > 0:
                        try:
                            jobs = self.poll(free)
                        except AwsError as exc:
                            self.log.warning("PollForJobs failed: %s", exc)
                    for job in jobs:
                        self._in_flight.add(pool.submit(self.handle, job))
                    if not jobs:
                        self._stop.wait(self.poll_interval)
                self.log.info("worker stopping: finishing %d job(s) in flight", len(self._in_flight))
        finally:
            self._pool = None
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        self.log.info("worker for %s stopped", self.action_type)

    def stop(self) -> None:
        """Stop polling; :meth:`serve` returns once the jobs in flight have reported."""
        self._stop.set()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.log.info("received signal %d: stopping after the jobs in flight", signum)
        self.stop()

    # -- one job ---------------------------------------------------------------------------

    def _claim(self, job_id: str) -> bool:
        with self._lock:
            if job_id in self._claimed or job_id in self._done:
                return False
            self._claimed.add(job_id)
            return True

    def _release(self, job_id: str, *, done: bool) -> None:
        with self._lock:
            self._claimed.discard(job_id)
            if done:
                self._done[job_id] = None
                while len(self._done) > _SEEN_LIMIT:
                    self._done.popitem(last=False)

    def handle(self, job: Mapping[str, Any]) -> JobOutcome:
        """Acknowledge and run one delivered job; report its result to CodePipeline."""
        job_id = str(job["id"])
        if not self._claim(job_id):
            self.log.info("job %s: duplicate delivery skipped", job_id)
            return JobOutcome(job_id=job_id, outcome="skipped", detail="duplicate delivery")
        try:
            status = call(self.client, "AcknowledgeJob", jobId=job_id, nonce=str(job["nonce"])).get("status")
        except AwsError as exc:
            self._release(job_id, done=False)
            self.log.info("job %s: acknowledge failed (%s); skipped", job_id, exc.code)
            return JobOutcome(job_id=job_id, outcome="skipped", detail=f"acknowledge failed: {exc.code}")
        if status != "InProgress":
            self._release(job_id, done=False)
            self.log.info("job %s: status %s after acknowledge; skipped", job_id, status)
            return JobOutcome(job_id=job_id, outcome="skipped", detail=f"job status {status}")
        # From here the handler runs at most once for this id, whatever happens next.
        self._release(job_id, done=True)
        data = job.get("data") or {}
        masker = Masker(self._secrets(data))
        try:
            return self._run(job_id, data, masker)
        except Exception as exc:
            failure_type = exc.failure_type if isinstance(exc, ActionFailed) else FailureType.JOB_FAILED
            message = exc.message if isinstance(exc, ActionFailed) else f"{type(exc).__name__}: {exc}"
            return self._fail(job_id, failure_type, message, masker)
        except BaseException as exc:
            # SystemExit, KeyboardInterrupt... from the handler: the job fails like any error and
            # the worker serves on. Only on the main thread (handle() called directly) is it
            # passed on after the report, since a real Ctrl-C arrives there.
            ctx = data.get("pipelineContext") or {}
            where = f"{(ctx.get('stage') or {}).get('name')}/{(ctx.get('action') or {}).get('name')}"
            detail = f": {exc}" if str(exc) else ""
            outcome = self._fail(
                job_id, FailureType.JOB_FAILED, f"the handler of {where} raised {type(exc).__name__}{detail}", masker
            )
            if threading.current_thread() is threading.main_thread():
                raise
            return outcome

    def _fail(self, job_id: str, failure_type: FailureType, message: str, masker: Masker) -> JobOutcome:
        message = masker(message) or "the handler failed without a message"
        self.log.info("job %s failed (%s): %s", job_id, failure_type.value, message)
        try:
            call(
                self.client,
                "PutJobFailureResult",
                jobId=job_id,
                failureDetails={"type": failure_type.value, "message": _truncate(message, _MESSAGE_LIMIT)},
            )
        except AwsError as report_error:
            self.log.warning("job %s: PutJobFailureResult failed: %s", job_id, masker(str(report_error)))
        return JobOutcome(job_id=job_id, outcome="failed", detail=message)

    def _secrets(self, data: Mapping[str, Any]) -> list[str]:
        values = [str(v) for v in (data.get("artifactCredentials") or {}).values() if v]
        config = (data.get("actionConfiguration") or {}).get("configuration") or {}
        values.extend(str(config[name]) for name in self.secret_properties if config.get(name))
        return values

    def _run(self, job_id: str, data: Mapping[str, Any], masker: Masker) -> JobOutcome:
        ctx = data.get("pipelineContext") or {}
        config: dict[str, str] = dict((data.get("actionConfiguration") or {}).get("configuration") or {})
        stage_name = str((ctx.get("stage") or {}).get("name") or "Stage")
        action_name = str((ctx.get("action") or {}).get("name") or "Action")
        pipeline_name = str(ctx.get("pipelineName") or "pipeline")
        inputs_meta = list(data.get("inputArtifacts") or ())
        outputs_meta = list(data.get("outputArtifacts") or ())
        scratch = Path(tempfile.mkdtemp(prefix=f"pipeweaver-job-{job_id[:8]}-", dir=self.workdir))
        try:
            s3 = None
            inputs: dict[str, Path] = {}
            if inputs_meta:
                s3 = self.s3_client_factory(data.get("artifactCredentials") or {})
                for art in inputs_meta:
                    inputs[art["name"]] = self._download(s3, art, scratch)
            outputs: dict[str, Path] = {}
            for art in outputs_meta:
                outputs[art["name"]] = scratch / "outputs" / art["name"]
                outputs[art["name"]].mkdir(parents=True)
            workdir = scratch / "work"
            workdir.mkdir()
            action, stage, pipeline = self._model(
                pipeline_name, stage_name, action_name, config, inputs_meta, outputs_meta
            )

            def log(line: str) -> None:
                self.log.info("job %s | %s", job_id, masker(line))

            token, carried = _unpack_token(data.get("continuationToken"))
            context = ActionContext(
                pipeline=pipeline,
                stage=stage,
                action=action,
                execution_id=str(ctx.get("pipelineExecutionId") or ""),
                configuration=config,
                inputs=inputs,
                outputs=outputs,
                workdir=workdir,
                secrets=frozenset(masker.values),
                continuation_token=token,
                log=log,
            )
            self.log.info("job %s: running %s/%s of %s", job_id, stage_name, action_name, pipeline_name)
            result = self.handler(context) or ActionResult()
            params: dict[str, Any] = {"jobId": job_id}
            details: dict[str, Any] = {}
            if result.summary:
                details["summary"] = _truncate(masker(result.summary), _SUMMARY_LIMIT)
            if result.external_execution_id:
                details["externalExecutionId"] = result.external_execution_id[:1500]
            if details:
                params["executionDetails"] = details
            variables = {**carried, **{k: masker(str(v)) for k, v in result.output_variables.items()}}
            if result.continuation_token:
                # The action stays in progress: outputs belong to the final job, and variables
                # ride in the token until then (AWS takes them only without a token).
                params["continuationToken"] = _pack_token(result.continuation_token, variables)
                call(self.client, "PutJobSuccessResult", **params)
                self.log.info("job %s: continuing (CodePipeline will send a new job)", job_id)
                return JobOutcome(job_id=job_id, outcome="continued")
            if outputs_meta:
                s3 = s3 or self.s3_client_factory(data.get("artifactCredentials") or {})
                key = (data.get("encryptionKey") or {}).get("id")
                for art in outputs_meta:
                    loc = art["location"]["s3Location"]
                    archive = scratch / "zips" / f"{art['name']}.zip"
                    digest = zip_directory(outputs[art["name"]], archive)
                    upload_zip(s3, archive, loc["bucketName"], loc["objectKey"], kms_key_id=key, sha256=digest)
            if variables:
                params["outputVariables"] = variables
            if self.revision_of is not None:
                revision = self.revision_of(context, result)
                if revision is not None:
                    params["currentRevision"] = revision.to_api()
            call(self.client, "PutJobSuccessResult", **params)
            self.log.info("job %s succeeded", job_id)
            return JobOutcome(job_id=job_id, outcome="succeeded")
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _download(self, s3: Client, art: Mapping[str, Any], scratch: Path) -> Path:
        loc = art["location"]["s3Location"]
        archive = scratch / "zips" / f"in-{art['name']}.zip"
        archive.parent.mkdir(parents=True, exist_ok=True)
        digest, metadata = download(s3, loc["bucketName"], loc["objectKey"], archive)
        recorded = metadata.get("sha256")
        if recorded and recorded != digest:
            raise ActionFailed(
                f"input artifact {art['name']!r} fails its hash check (recorded {recorded}, found {digest})",
                failure_type=FailureType.JOB_FAILED,
            )
        target: Path = scratch / "inputs" / str(art["name"])
        safe_extract(archive, target, self.limits)
        return target

    def _model(
        self,
        pipeline_name: str,
        stage_name: str,
        action_name: str,
        config: Mapping[str, str],
        inputs_meta: list[Any],
        outputs_meta: list[Any],
    ) -> tuple[Action, Stage, Pipeline]:
        if self.pipeline_loader is not None:
            pipeline = self.pipeline_loader(pipeline_name)
            stage = pipeline.stage(stage_name)
            return stage.action(action_name), stage, pipeline
        # Job data carries names AWS already accepted; skip per-field checks on the stand-in.
        with _names.unchecked():
            action = Action(
                name=action_name,
                action_type=self.action_type,
                configuration=dict(config),
                inputs=[Artifact(a["name"]) for a in inputs_meta],
                outputs=[Artifact(a["name"]) for a in outputs_meta],
            )
            stage = Stage(name=stage_name, actions=[action])
            pipeline = Pipeline(name=pipeline_name, role_arn="arn:aws:iam::000000000000:role/unknown", stages=[stage])
        return action, stage, pipeline


def _pack_token(token: str, variables: Mapping[str, str]) -> str:
    """The continuationToken to send: the handler's own, or with *variables* carried beside it."""
    check_continuation_token(token)
    sent = token
    if variables:
        sent = _CARRY + json.dumps({"token": token, "variables": dict(variables)}, separators=(",", ":"))
    if len(sent) <= CONTINUATION_TOKEN_LIMIT:
        return sent
    raise ActionFailed(
        f"the continuation token ({len(token)} characters) and the output variables returned with it "
        f"({sorted(variables)}) take {len(sent)} characters, above CodePipeline's limit of "
        f"{CONTINUATION_TOKEN_LIMIT} for PutJobSuccessResult.continuationToken, which carries variables to the "
        "final result; return the variables with the final result instead (no continuation token)",
        failure_type=FailureType.JOB_FAILED,
    )


def _unpack_token(sent: object) -> tuple[str | None, dict[str, str]]:
    """The handler's token and the variables carried with it (see :func:`_pack_token`)."""
    if not isinstance(sent, str) or not sent:
        return None, {}
    if sent.startswith(_CARRY):
        try:
            body = json.loads(sent[len(_CARRY) :])
            token, variables = body["token"], body["variables"]
            if isinstance(token, str) and isinstance(variables, dict):
                return token, {str(k): str(v) for k, v in variables.items()}
        except (ValueError, TypeError, KeyError):
            pass  # not ours after all: the handler's own token, passed on as it came
    return sent, {}


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def worker_policy(
    action_type: CustomActionType | ActionType,
    artifact_bucket: Any,
    *,
    kms_key: Any | None = None,
    region: str | None = None,
    account: str | None = None,
    partition: str = "aws",
) -> dict[str, Any]:
    """
    The minimal IAM policy for a job worker of *action_type*: see :func:`pipeweaver.synth.worker_policy`.

    Takes a :class:`CustomActionType` as well as its :class:`~pipeweaver.ActionType`.

    .. versionadded:: 0.1.0
    """
    if isinstance(action_type, CustomActionType):
        action_type = action_type.action_type
    return _policy(action_type, artifact_bucket, kms_key=kms_key, region=region, account=account, partition=partition)
