"""A small GitHub webhook receiver that starts local executions (``pipeweaver serve``).

Layer: execution. Standard library only: :class:`http.server.ThreadingHTTPServer`, bound to
127.0.0.1 unless told otherwise. Each ``push`` or ``pull_request`` delivery is verified
(``X-Hub-Signature-256``, HMAC-SHA256 compared in constant time), turned into a
:class:`~pipeweaver._triggers.GitEvent`, judged by the pipeline's triggers and, when accepted,
handed to the executor's ``start``; the executor applies the execution mode.

Safety: unsigned requests are refused unless ``allow_unsigned=True``; bodies are bounded; a
redelivered ``X-GitHub-Delivery`` id never starts a second execution; handler threads are
bounded; shutdown stops accepting, then waits a bounded time for requests in flight. The
only file written is ``<workdir>/webhooks/deliveries.jsonl`` (a fixed name: nothing in a
request chooses a path).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import urllib.parse
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, final

import attrs

from .._model import Pipeline
from .._triggers import (
    GitEvent,
    GitPullRequest,
    GitPush,
    TriggerDecision,
    check_patterns,
    evaluate,
    source_identity,
)
from ..errors import DefinitionError, ExecutionError
from ._base import TriggerInfo
from ._watch import Started, _git, as_starter

__all__ = ["Delivery", "WebhookReceiver", "event_from_github", "sign"]

#: GitHub pull_request actions -> CodePipeline pull-request events; others are ignored.
PR_ACTIONS = {"opened": "OPEN", "reopened": "OPEN", "synchronize": "UPDATED", "closed": "CLOSED"}


def sign(secret: str | bytes, body: bytes) -> str:
    """
    The ``X-Hub-Signature-256`` header value GitHub sends for *body*.

    .. versionadded:: 0.1.0
    """
    key = secret.encode() if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def _pr_files(repo: Path | None, base: str, head: str) -> tuple[str, ...] | None:
    if repo is None or not base or not head:
        return None
    try:
        out = _git(repo, "diff", "--name-only", "--no-renames", f"{base}...{head}", "--")
    except ExecutionError:
        return None
    return tuple(line for line in out.splitlines() if line)


def event_from_github(
    kind: str, payload: Mapping[str, Any], *, repo: Path | None = None
) -> tuple[GitEvent | None, str]:
    """
    Turn a GitHub ``push`` or ``pull_request`` payload into a git event.

    Pull-request payloads do not list changed files; they are computed from *repo* (a local
    clone holding both commits) when given, and are otherwise unknown.

    Returns:
        ``(event, "")``, or ``(None, why it was ignored)``.

    .. versionadded:: 0.1.0
    """
    repository = payload.get("repository")
    full_name = repository.get("full_name") if isinstance(repository, Mapping) else None
    full_name = full_name if isinstance(full_name, str) else None
    if kind == "push":
        ref = payload.get("ref")
        if not isinstance(ref, str) or not ref.startswith(("refs/heads/", "refs/tags/")):
            return None, f"push of {ref!r} is neither a branch nor a tag"
        if payload.get("deleted") is True:
            return None, f"{ref} was deleted"
        files: dict[str, None] = {}
        commits = payload.get("commits")
        for commit in commits if isinstance(commits, list) else []:
            if not isinstance(commit, Mapping):
                continue
            for key in ("added", "removed", "modified"):
                paths = commit.get(key)
                for path in paths if isinstance(paths, list) else []:
                    if isinstance(path, str):
                        files[path] = None
        after = payload.get("after")
        commit_id = after if isinstance(after, str) else ""
        if ref.startswith("refs/tags/"):
            return GitPush(tag=ref, commit=commit_id, repository=full_name), ""
        return GitPush(branch=ref, commit=commit_id, changed_files=tuple(files), repository=full_name), ""
    if kind == "pull_request":
        action = payload.get("action")
        event = PR_ACTIONS.get(action) if isinstance(action, str) else None
        if event is None:
            return None, f"pull_request action {action!r} is not opened, reopened, synchronize or closed"
        pr = payload.get("pull_request")
        if not isinstance(pr, Mapping):
            return None, "pull_request payload has no pull_request object"
        head, base = pr.get("head"), pr.get("base")
        if not isinstance(head, Mapping) or not isinstance(base, Mapping):
            return None, "pull_request payload lacks head or base"
        source, dest = head.get("ref"), base.get("ref")
        if not isinstance(source, str) or not isinstance(dest, str):
            return None, "pull_request payload lacks head.ref or base.ref"
        head_sha = head.get("sha") if isinstance(head.get("sha"), str) else ""
        base_sha = base.get("sha") if isinstance(base.get("sha"), str) else ""
        return (
            GitPullRequest(
                event=event,
                source_branch=source,
                destination_branch=dest,
                commit=str(head_sha),
                changed_files=_pr_files(repo, str(base_sha), str(head_sha)),
                repository=full_name,
            ),
            "",
        )
    return None, f"event {kind!r} is not push or pull_request"


@final
@attrs.frozen(kw_only=True)
class Delivery:
    """
    One webhook delivery as the receiver judged it.

    Attributes:
        delivery_id: ``X-GitHub-Delivery`` (or a generated id when absent).
        event: ``X-GitHub-Event``.
        status: The HTTP status answered.
        reason: Why (signature refused, trigger decision, duplicate, ...).
        decision: The trigger decision, when the payload was a git event.
        execution_id: The started execution's id, when one started.

    .. versionadded:: 0.1.0
    """

    delivery_id: str
    event: str
    status: int
    reason: str
    received_at: datetime
    decision: TriggerDecision | None = None
    execution_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The record as written to ``deliveries.jsonl`` and returned in responses."""
        return {
            "delivery": self.delivery_id,
            "event": self.event,
            "status": self.status,
            "reason": self.reason,
            "receivedAt": self.received_at.isoformat(),
            "starts": bool(self.decision and self.decision.starts),
            "sourceAction": self.decision.source_action if self.decision else None,
            "revision": self.decision.revision if self.decision else None,
            "executionId": self.execution_id,
        }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # 200 simultaneous deliveries must not overflow the listen backlog.
    request_queue_size = 512

    def __init__(self, address: tuple[str, int], receiver: WebhookReceiver) -> None:
        self.receiver = receiver
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Bound the handler threads; the accept loop waits here while all slots are busy.
        self.receiver._slots.acquire()
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.receiver._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.receiver._slots.release()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "pipeweaver-webhook"
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.receiver.request_timeout)

    def log_message(self, format: str, *args: Any) -> None:
        # Deliveries are recorded in deliveries.jsonl; stderr stays quiet.
        return

    def _reply(self, status: int, body: Mapping[str, Any]) -> None:
        data = json.dumps(body, sort_keys=True).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def do_GET(self) -> None:
        self._reply(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "POST GitHub webhook deliveries here"})

    do_PUT = do_DELETE = do_PATCH = do_GET

    def do_POST(self) -> None:
        receiver = self.server.receiver
        with receiver._track():
            try:
                status, body = receiver._handle(self)
            except Exception as exc:  # a bug must cost one 500, never the server or a traceback
                status, body = (
                    HTTPStatus.INTERNAL_SERVER_ERROR,
                    {"reason": f"internal error: {type(exc).__name__}: {exc}"},
                )
            self._reply(status, body)


class WebhookReceiver:
    """
    Receives GitHub ``push``/``pull_request`` webhooks and starts executions they trigger.

    Args:
        pipeline: The pipeline to start.
        executor: An executor (``start(...)``) or a starter callable.
        secret: The webhook secret; signatures are required unless *allow_unsigned*.
        allow_unsigned: Accept requests without ``X-Hub-Signature-256`` (a wrong signature
            is still refused).
        host: Interface to bind; 127.0.0.1 by default.
        port: Port; 0 picks a free one (read :attr:`address`).
        workdir: Where ``webhooks/deliveries.jsonl`` is written.
        repos: Source action -> local clone, used to compute pull-request file lists.
        max_body: Largest accepted body in bytes (GitHub caps payloads at 25 MB).
        max_threads: Requests handled at once.
        request_timeout: Seconds a client may take to send its request.

    Raises:
        DefinitionError: with no *secret* and not *allow_unsigned*.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        pipeline: Pipeline,
        executor: Any,
        *,
        secret: str | bytes | None = None,
        allow_unsigned: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        workdir: str | Path = ".pipeweaver",
        repos: Mapping[str, str | Path] | None = None,
        max_body: int = 1_048_576,
        max_threads: int = 64,
        request_timeout: float = 10.0,
    ) -> None:
        if not secret and not allow_unsigned:
            raise DefinitionError(
                "secret", None, "give the webhook secret (or allow_unsigned=True to accept unsigned requests)"
            )
        check_patterns(pipeline)
        self.pipeline = pipeline
        self._start = as_starter(executor)
        self._secret = (secret.encode() if isinstance(secret, str) else secret) or None
        self.allow_unsigned = allow_unsigned
        self.max_body = max_body
        self.request_timeout = request_timeout
        self._repos = {name: Path(path) for name, path in (repos or {}).items()}
        self._workdir = Path(workdir).resolve()
        self._log_path = self._workdir / "webhooks" / "deliveries.jsonl"
        self._slots = threading.BoundedSemaphore(max_threads)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._active = 0
        self._closing = False
        self._seen: OrderedDict[str, None] = OrderedDict()
        self.deliveries: list[Delivery] = []
        self.started: list[Started] = []
        self._server = _Server((host, port), self)
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` the receiver listens on."""
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        """``http://host:port/`` to configure as the webhook's payload URL."""
        host, port = self.address
        return f"http://{host}:{port}/"

    def start(self) -> WebhookReceiver:
        """Serve in a background thread; returns self."""
        # A short poll interval keeps shutdown() prompt; the accept loop is otherwise idle.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="pipeweaver-webhook", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until :meth:`shutdown` is called from another thread or a signal."""
        self._server.serve_forever(poll_interval=0.1)

    def shutdown(self, grace: float = 10.0) -> bool:
        """
        Stop accepting, wait up to *grace* seconds for requests in flight, close the socket.

        Returns:
            Whether every request in flight finished within *grace*.
        """
        with self._lock:
            self._closing = True
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=grace)
        with self._idle:
            drained = self._idle.wait_for(lambda: self._active == 0, timeout=grace)
        self._server.server_close()
        return drained

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    # -- requests -------------------------------------------------------------------------------

    def _track(self) -> _Active:
        return _Active(self)

    def _verify(self, body: bytes, header: str | None) -> str | None:
        """None when acceptable, else why not."""
        if header is None:
            return None if self.allow_unsigned else "missing X-Hub-Signature-256 (unsigned requests are refused)"
        if self._secret is None:
            return "a signature was sent but the receiver has no secret to check it with"
        expected = sign(self._secret, body).encode()
        if not hmac.compare_digest(expected, header.strip().encode()):
            return "X-Hub-Signature-256 does not match the payload"
        return None

    def _record(self, delivery: Delivery) -> dict[str, Any]:
        line = delivery.to_json()
        with self._lock:
            self.deliveries.append(delivery)
            self._log_path.parent.mkdir(parents=True, exist_ok=True)
            with self._log_path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(line, sort_keys=True) + "\n")
        return line

    def _handle(self, request: _Handler) -> tuple[int, dict[str, Any]]:
        headers = request.headers
        kind = headers.get("X-GitHub-Event", "")
        delivery_id = headers.get("X-GitHub-Delivery") or ""
        now = datetime.now(UTC)

        def done(status: int, reason: str, **extra: Any) -> tuple[int, dict[str, Any]]:
            delivery = Delivery(
                delivery_id=delivery_id, event=kind, status=status, reason=reason, received_at=now, **extra
            )
            return status, self._record(delivery)

        if self._closing:
            return done(HTTPStatus.SERVICE_UNAVAILABLE, "the receiver is shutting down")
        length_text = headers.get("Content-Length")
        if length_text is None or not length_text.isdigit():
            return done(HTTPStatus.LENGTH_REQUIRED, "Content-Length is required")
        length = int(length_text)
        if length > self.max_body:
            return done(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body of {length} bytes exceeds {self.max_body}")
        try:
            body = request.rfile.read(length)
        except (TimeoutError, OSError):
            return done(HTTPStatus.REQUEST_TIMEOUT, "the body did not arrive in time")
        if len(body) != length:
            return done(HTTPStatus.BAD_REQUEST, "the body is shorter than Content-Length")
        problem = self._verify(body, headers.get("X-Hub-Signature-256"))
        if problem:
            return done(HTTPStatus.UNAUTHORIZED, problem)
        if kind == "ping":
            return done(HTTPStatus.OK, "pong")
        try:
            payload = self._payload(body, headers.get("Content-Type", ""))
        except ValueError as exc:
            return done(HTTPStatus.BAD_REQUEST, f"payload is not valid JSON: {exc}")
        if delivery_id:
            with self._lock:
                duplicate = delivery_id in self._seen
                if not duplicate:
                    self._seen[delivery_id] = None
                    while len(self._seen) > 10_000:
                        self._seen.popitem(last=False)
            if duplicate:
                return done(HTTPStatus.OK, "duplicate delivery id: already handled, nothing started")
        event, why = event_from_github(kind, payload, repo=self._repo_for(payload))
        if event is None:
            return done(HTTPStatus.OK, f"ignored: {why}")
        decision = evaluate(self.pipeline, event, event_wiring=True)
        if not decision.starts:
            return done(HTTPStatus.OK, decision.reason, decision=decision)
        trigger = TriggerInfo(
            trigger_type="WebhookV2" if decision.trigger_type == "WebhookV2" else "Webhook",
            detail=f"GitHub {kind} delivery {delivery_id or '?'}: {decision.reason}",
        )
        revisions = {decision.source_action: decision.revision} if decision.source_action and decision.revision else {}
        try:
            handle = self._start(self.pipeline, revisions, trigger)
        except Exception as exc:  # the client gets a 500 naming the failure
            return done(HTTPStatus.INTERNAL_SERVER_ERROR, f"starting the execution failed: {exc}", decision=decision)
        with self._lock:
            self.started.append(Started(decision=decision, trigger=trigger, handle=handle))
        execution_id = getattr(handle, "id", None)
        return done(
            HTTPStatus.ACCEPTED,
            decision.reason,
            decision=decision,
            execution_id=execution_id if isinstance(execution_id, str) else None,
        )

    def _payload(self, body: bytes, content_type: str) -> Mapping[str, Any]:
        text = body.decode("utf-8")
        if content_type.split(";")[0].strip() == "application/x-www-form-urlencoded":
            fields = urllib.parse.parse_qs(text)
            text = (fields.get("payload") or [""])[0]
        data = json.loads(text)
        if not isinstance(data, Mapping):
            raise ValueError("the top level is not an object")
        return data

    def _repo_for(self, payload: Mapping[str, Any]) -> Path | None:
        if not self._repos:
            return None
        if len(self._repos) == 1:
            return next(iter(self._repos.values()))
        repository = payload.get("repository")
        name = repository.get("full_name") if isinstance(repository, Mapping) else None
        for action_name, path in self._repos.items():
            _stage, action = self.pipeline.find_action(action_name)
            if source_identity(action) == name:
                return path
        return None


class _Active:
    """Counts a request in flight so that shutdown can wait for it."""

    def __init__(self, receiver: WebhookReceiver) -> None:
        self.receiver = receiver

    def __enter__(self) -> None:
        with self.receiver._lock:
            self.receiver._active += 1

    def __exit__(self, *exc: object) -> None:
        with self.receiver._idle:
            self.receiver._active -= 1
            self.receiver._idle.notify_all()
