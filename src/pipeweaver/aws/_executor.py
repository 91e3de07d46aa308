"""``CodePipelineExecutor``: run a pipeline on AWS CodePipeline and read it back as an ``Execution``.

Layer: aws. The executor deploys the model (optional), starts an execution and follows it by
polling GetPipelineExecution, ListActionExecutions and GetPipelineState with backoff. Polling
happens in the caller's thread, inside :meth:`CodePipelineHandle.wait` and
:meth:`CodePipelineHandle.snapshot`: there is no background thread, so tests drive it with an
injected ``sleep`` and ``clock`` and a scripted client.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from .. import _catalog
from .._model import Pipeline, RetryMode, RetryModeName
from ..execution import (
    ApprovalPolicy,
    Execution,
    ExecutionStarted,
    Observer,
    TriggerInfo,
)
from ._client import Client, call, default_client
from ._deploy import deploy as deploy_pipeline
from ._deploy import fetch
from ._handle import Backoff, CodePipelineHandle, _now

__all__ = ["ApprovalPolicy", "Backoff", "CodePipelineExecutor", "CodePipelineHandle"]

_REVISION_TYPES = ("COMMIT_ID", "IMAGE_DIGEST", "S3_OBJECT_VERSION_ID", "S3_OBJECT_KEY")


def _revision_type(pipeline: Pipeline, action_name: str) -> str:
    # A commit id unless an action of that name is a source whose catalog entry says otherwise
    # (an S3 object version, an ECR image digest).
    for _stage, action in pipeline.actions():
        if action.name == action_name:
            kind = _catalog.revision_type(action.provider)
            if kind is not None and kind != "COMMIT_ID":
                return kind
    return "COMMIT_ID"


def source_revisions_param(pipeline: Pipeline, revisions: Mapping[str, str]) -> list[dict[str, str]]:
    """
    ``sourceRevisions`` for StartPipelineExecution.

    The revision type is inferred from the source provider (S3 object version, ECR image
    digest, otherwise a commit id); write ``"S3_OBJECT_KEY:path/app.zip"`` (any type name and a
    colon) to choose it.
    """
    out = []
    for action, value in revisions.items():
        kind, sep, rest = value.partition(":")
        if sep and kind in _REVISION_TYPES:
            out.append({"actionName": action, "revisionType": kind, "revisionValue": rest})
        else:
            out.append({"actionName": action, "revisionType": _revision_type(pipeline, action), "revisionValue": value})
    return out


class CodePipelineExecutor:
    """
    An :class:`~pipeweaver.execution.Executor` that runs pipelines on AWS CodePipeline.

    Args:
        client: A boto3 CodePipeline client (default: created on first use).
        deploy: Deploy the model (create or update, idempotent) before starting it; with
            ``False`` the live pipeline of the same name is started as it is.
        poll: The polling backoff.
        observers: Called with every event, as the local executor emits them.
        approval: What to do with manual approvals while waiting (see
            :data:`~pipeweaver.execution.ApprovalPolicy`; ``"prompt"`` is refused: nobody
            watches a terminal while the executor polls).
        sleep: Replaces :func:`time.sleep` (tests).
        clock: Replaces :func:`time.monotonic` (tests).

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        client: Client | None = None,
        *,
        deploy: bool = True,
        poll: Backoff | None = None,
        observers: Iterable[Observer] = (),
        approval: ApprovalPolicy = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not (callable(approval) or approval in (None, "approve", "reject", "wait")):
            raise ValueError(f"approval={approval!r} must be 'approve', 'reject', 'wait', None or a callable")
        self._client = client
        self.deploy = deploy
        self.poll = poll or Backoff()
        self.observers = list(observers)
        self.approval = approval
        self.sleep = sleep
        self.clock = clock
        # Execution id -> the handle following it: the by-id calls of the Executor protocol
        # (execution, retry, approve, reject, stop) need the pipeline the id belongs to, and one
        # handle per execution keeps observers from hearing an event twice.
        self._handles: dict[str, CodePipelineHandle] = {}
        self._handles_lock = threading.Lock()

    @property
    def client(self) -> Client:
        """The CodePipeline client (created on first use)."""
        if self._client is None:
            self._client = default_client("codepipeline")
        return self._client

    def run(
        self,
        pipeline: Pipeline,
        *,
        variables: Mapping[str, str] | None = None,
        source_revisions: Mapping[str, str] | None = None,
        client_request_token: str | None = None,
    ) -> Execution:
        """Start an execution and poll until it ends; return its record."""
        handle = self.start(
            pipeline, variables=variables, source_revisions=source_revisions, client_request_token=client_request_token
        )
        return handle.wait()

    def start(
        self,
        pipeline: Pipeline,
        *,
        variables: Mapping[str, str] | None = None,
        source_revisions: Mapping[str, str] | None = None,
        client_request_token: str | None = None,
    ) -> CodePipelineHandle:
        """
        Deploy (when enabled) and start an execution; return a handle that follows it.

        Args:
            client_request_token: Idempotency token (a new UUID by default): starting twice
                with the same token starts one execution.

        Raises:
            ValidationError: the pipeline is invalid (when deploying).
            AwsError: a call failed.
        """
        if self.deploy:
            deploy_pipeline(pipeline, client=self.client)
        name = str(pipeline.name)
        params: dict[str, Any] = {"name": name, "clientRequestToken": client_request_token or str(uuid.uuid4())}
        if variables:
            params["variables"] = [{"name": k, "value": v} for k, v in variables.items()]
        if source_revisions:
            params["sourceRevisions"] = source_revisions_param(pipeline, source_revisions)
        started = call(self.client, "StartPipelineExecution", **params)
        handle = self._keep(
            CodePipelineHandle(self, pipeline, started["pipelineExecutionId"], variables=variables or {})
        )
        handle._emit(
            ExecutionStarted(
                execution_id=handle.id,
                pipeline=name,
                at=_now(),
                trigger=TriggerInfo(trigger_type="StartPipelineExecution"),
            )
        )
        return handle

    def attach(self, pipeline: Pipeline, execution_id: str) -> CodePipelineHandle:
        """A handle following an execution that is already running (started elsewhere)."""
        return self._keep(CodePipelineHandle(self, pipeline, execution_id, variables={}))

    def _keep(self, handle: CodePipelineHandle) -> CodePipelineHandle:
        with self._handles_lock:
            self._handles[handle.id] = handle
        return handle

    def _handle(self, execution_id: str, pipeline: Pipeline | str | None = None) -> CodePipelineHandle:
        with self._handles_lock:
            known = self._handles.get(execution_id)
        if known is not None:
            return known
        if pipeline is None:
            raise KeyError(
                f"execution {execution_id} was not started or attached by this executor; "
                "name its pipeline (pipeline=...) or attach() it first"
            )
        model = fetch(pipeline, client=self.client) if isinstance(pipeline, str) else pipeline
        return self.attach(model, execution_id)

    # -- the Executor protocol's by-id calls ---------------------------------------------------

    def execution(self, execution_id: str, *, pipeline: Pipeline | str | None = None) -> Execution:
        """
        The record of one execution, polled once.

        Args:
            pipeline: The pipeline the execution belongs to (a model, or a name to fetch),
                needed only for executions this executor did not start or attach.

        Raises:
            KeyError: the execution is unknown here and *pipeline* was not given.
            AwsError: a call failed (``PipelineExecutionNotFoundException`` for a wrong id).
        """
        return self._handle(execution_id, pipeline).snapshot()

    def history(self, pipeline: Pipeline | str | None = None, *, limit: int = 100) -> list[Execution]:
        """
        Executions of *pipeline* (``ListPipelineExecutions``), newest first, each read in full.

        With ``None``: the executions of the pipelines this executor started or attached.
        """
        if pipeline is None:
            with self._handles_lock:
                models = {h.pipeline_name: h._pipeline for h in self._handles.values()}
        else:
            model = fetch(pipeline, client=self.client) if isinstance(pipeline, str) else pipeline
            models = {str(model.name): model}
        out: list[Execution] = []
        for name, model in models.items():
            params: dict[str, Any] = {"pipelineName": name, "maxResults": min(limit, 100)}
            seen = 0
            while seen < limit:
                page = call(self.client, "ListPipelineExecutions", **params)
                for summary in page.get("pipelineExecutionSummaries") or ():
                    if seen >= limit:
                        break
                    seen += 1
                    out.append(self._record_of(summary["pipelineExecutionId"], model))
                if not page.get("nextToken"):
                    break
                params["nextToken"] = page["nextToken"]
        epoch = datetime.min.replace(tzinfo=UTC)
        out.sort(key=lambda e: e.started_at or epoch, reverse=True)
        return out[:limit]

    def _record_of(self, execution_id: str, pipeline: Pipeline) -> Execution:
        # A past execution is read without a handle of its own, so observers hear nothing about it.
        with self._handles_lock:
            known = self._handles.get(execution_id)
        if known is not None:
            return known.snapshot()
        return CodePipelineHandle(self, pipeline, execution_id, variables={})._read()[0]

    def retry(
        self,
        execution_id: str,
        stage: str,
        *,
        mode: RetryMode | RetryModeName = RetryMode.FAILED_ACTIONS,
        by: str = "",
        pipeline: Pipeline | str | None = None,
    ) -> CodePipelineHandle:
        """
        RetryStageExecution of *stage*; return the handle following the execution.

        *by* is not sent: AWS records the caller's identity itself.
        """
        handle = self._handle(execution_id, pipeline)
        handle.retry(stage, mode=mode)
        return handle

    def override_stage_condition(
        self,
        execution_id: str,
        stage: str,
        condition_type: str,
        *,
        by: str = "",
        pipeline: Pipeline | str | None = None,
    ) -> CodePipelineHandle:
        """
        OverrideStageCondition of *stage* (``BEFORE_ENTRY`` or ``ON_SUCCESS``); return the handle
        following the execution.

        *by* is not sent: AWS records the caller's identity itself.
        """
        handle = self._handle(execution_id, pipeline)
        handle.override_stage_condition(stage, condition_type)
        return handle

    def approve(self, execution_id: str, stage: str, action: str, summary: str = "", *, by: str = "") -> None:
        """Approve the approval waiting at *stage*/*action* (see :meth:`CodePipelineHandle.approve`)."""
        self._handle(execution_id).approve(stage, action, summary, by=by)

    def reject(self, execution_id: str, stage: str, action: str, summary: str = "", *, by: str = "") -> None:
        """Reject the approval waiting at *stage*/*action* (see :meth:`CodePipelineHandle.reject`)."""
        self._handle(execution_id).reject(stage, action, summary, by=by)

    def stop(self, execution_id: str, *, abandon: bool = False, reason: str = "") -> None:
        """StopPipelineExecution of an execution this executor started or attached."""
        self._handle(execution_id).stop(abandon=abandon, reason=reason)
