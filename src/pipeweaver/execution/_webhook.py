"""A small GitHub webhook receiver that starts local executions (``pipeweaver serve``).

Layer: execution. Standard library only: :class:`http.server.ThreadingHTTPServer`, bound to
127.0.0.1 unless told otherwise. Each ``push`` or ``pull_request`` delivery is verified
(``X-Hub-Signature-256``, HMAC-SHA256 compared in constant time), turned into a
:class:`~pipeweaver._triggers.GitEvent`, judged by the pipeline's triggers and, when accepted,
handed to the executor's ``start``; the executor applies the execution mode.

Safety against whoever reaches the port:

- Unsigned requests are refused unless ``allow_unsigned=True``; bodies and ``Content-Length``
  are bounded (a malformed length is a 400, an excessive one a 413).
- Each request has one deadline for its line, headers and body together (re-arming the socket
  timeout with what is left of it), so a client sending a byte every few seconds is cut off.
- Connections are capped in total and per client address. The accept loop never waits for a
  free slot: excess connections are answered 429/503 at once, so slow clients can neither
  starve others nor hold up :meth:`WebhookReceiver.shutdown`, which cuts requests still
  arriving and waits at most its grace period for the rest.
- A delivery id and the SHA-256 of its signed body are remembered only once its execution has
  started: a redelivery after a failed start may start it, while a redelivery of a started one,
  or its body replayed under a fresh ``X-GitHub-Delivery``, starts nothing.
- Only authenticated deliveries are written to ``<workdir>/webhooks/deliveries.jsonl`` (a fixed
  name: nothing in a request chooses a path), which is rotated to ``deliveries.jsonl.1`` at a
  size cap. Anything shown on a terminal goes through :meth:`Delivery.summary`, which escapes
  control characters. Client disconnects end their request quietly (no traceback).

The threads-per-connection server is kept (rather than asyncio) because the expensive parts,
starting an execution and ``git diff`` for pull requests, are blocking calls, and the caps above
bound the threads.

Over 700 lines because the reader, writer, server and handler are one connection state
machine: they share the per-request deadline, the connection caps and the shutdown state.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import os
import re
import socket
import sys
import threading
import time
import urllib.parse
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, final

import attrs

from .._model import Pipeline, PullRequestEventName
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
from ._base import Executor, TriggerInfo
from ._watch import Started, Starter, _git, as_starter

__all__ = ["Delivery", "WebhookReceiver", "event_from_github", "sign"]

#: GitHub pull_request actions -> CodePipeline pull-request events; others are ignored.
PR_ACTIONS: dict[str, PullRequestEventName] = {
    "opened": "OPEN",
    "reopened": "OPEN",
    "synchronize": "UPDATED",
    "closed": "CLOSED",
}


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


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _printable(text: str, limit: int = 200) -> str:
    """*text* safe for a terminal: control and bidi characters escaped, at most *limit* characters."""
    # Header values and reasons can come from anyone who reaches the port: an ESC sequence
    # printed raw could rewrite the operator's terminal.
    escaped = _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)
    return escaped if len(escaped) <= limit else escaped[: limit - 1] + "…"


@final
@attrs.frozen(kw_only=True)
class Delivery:
    """
    One webhook delivery as the receiver judged it.

    Attributes:
        delivery_id: ``X-GitHub-Delivery`` (empty when absent).
        event: ``X-GitHub-Event``.
        status: The HTTP status answered.
        reason: Why (signature refused, trigger decision, duplicate, ...).
        decision: The trigger decision, when the payload was a git event.
        execution_id: The started execution's id, when one started.
        authenticated: Whether the signature was verified (or the request was unsigned and
            unsigned requests are allowed). Only authenticated deliveries are written to
            ``deliveries.jsonl``.
        body_sha256: Hex SHA-256 of the body, for authenticated deliveries.

    .. versionadded:: 0.1.0
    """

    delivery_id: str
    event: str
    status: int
    reason: str
    received_at: datetime
    decision: TriggerDecision | None = None
    execution_id: str | None = None
    authenticated: bool = False
    body_sha256: str | None = None

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
            "bodySha256": self.body_sha256,
        }

    def summary(self) -> str:
        """
        One line for a terminal: status, event, delivery id and reason.

        Control characters (ESC, CR, ...) are escaped and long fields shortened: the event and
        delivery id are whatever the sender put in its headers.
        """
        return (
            f"{self.status} {_printable(self.event, 40) or '-'} {_printable(self.delivery_id, 80) or '-'}: "
            f"{_printable(self.reason, 400)}"
        )


@attrs.define(eq=False)
class _Connection:
    """One accepted connection: its client, its deadline and how far its request got."""

    sock: socket.socket
    host: str
    deadline: float
    reading: bool = True  # still receiving headers or body; shutdown may cut it
    cut: bool = False  # shutdown cut it while it was reading
    timed_out: bool = False
    replied: bool = False


_SHUTTING_DOWN = {"reason": "the receiver is shutting down"}


class _ClientGone(Exception):
    """The client reset or closed the connection: there is nobody to answer."""


class _DeadlineReader(io.RawIOBase):
    """Reads a connection's socket until the request's deadline, however slowly bytes arrive."""

    def __init__(self, connection: _Connection) -> None:
        self._connection = connection

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        connection = self._connection
        if connection.cut:
            raise ConnectionAbortedError("the receiver is shutting down")
        remaining = connection.deadline - time.monotonic()
        if remaining <= 0:
            connection.timed_out = True
            raise TimeoutError("the request deadline passed")
        # A socket timeout bounds one read; re-arming it with what is left of the deadline bounds
        # the whole request, so a byte every few seconds cannot hold a connection forever.
        connection.sock.settimeout(remaining)
        try:
            count = connection.sock.recv_into(buffer)
        except TimeoutError:
            connection.timed_out = True
            raise
        if connection.cut:
            raise ConnectionAbortedError("the receiver is shutting down")
        return count


class _SocketWriter(io.BufferedIOBase):
    """Unbuffered writes that send everything (``socket.send`` may send only part)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._sock.sendall(data)
        return memoryview(data).nbytes


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # shutdown() bounds its own wait; server_close() must not join handler threads without a bound.
    block_on_close = False
    # 200 simultaneous deliveries must not overflow the listen backlog.
    request_queue_size = 512

    def __init__(self, address: tuple[str, int], receiver: WebhookReceiver) -> None:
        self.receiver = receiver
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Runs on the accept loop, which must never wait: a full server refuses at once, so
        # slow clients cannot starve shutdown() or everyone else.
        refusal = self.receiver._admit(request, str(client_address[0]))
        if refusal is not None:
            self._refuse(request, *refusal)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.receiver._release(request)
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.receiver._release(request)

    def _refuse(self, sock: socket.socket, status: HTTPStatus, reason: str) -> None:
        data = json.dumps({"reason": reason}, sort_keys=True).encode()
        head = (
            f"HTTP/1.1 {status.value} {status.phrase}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
        )
        try:
            sock.setblocking(False)
            with contextlib.suppress(OSError):
                # Whatever already arrived is read so that closing does not reset the connection
                # before the client reads the answer.
                sock.recv(65536)
            sock.send(head.encode() + data)
        except OSError:
            pass
        self.shutdown_request(sock)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # socketserver prints a traceback here; a client that resets or vanishes is routine.
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            return
        sys.stderr.write(f"pipeweaver serve: request from {client_address[0]} failed: {type(exc).__name__}: {exc}\n")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "pipeweaver-webhook"
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        self.connection = self.request
        self.state = self.server.receiver._connection(self.request)
        self.rfile = io.BufferedReader(_DeadlineReader(self.state))
        self.wfile = _SocketWriter(self.request)

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except OSError:
            # A reset or a cut while reading the request line or headers: no traceback, and an
            # answer only when the receiver itself cut the connection.
            self.close_connection = True
        if self.state.replied:
            return
        self.close_connection = True
        # A client cut before it sent a request line never reached parse_request, which sets
        # what send_response reads: an HTTP/1.1 answer with an empty request line, so that a
        # silent client still gets its 503 (not a reset and an AttributeError on stderr).
        for name, value in (("requestline", ""), ("request_version", self.protocol_version), ("command", None)):
            if not hasattr(self, name):
                setattr(self, name, value)
        receiver = self.server.receiver
        with contextlib.suppress(OSError):
            if self.state.cut:
                # Counted by shutdown(), not reported one by one: nothing of it had arrived.
                self._reply(HTTPStatus.SERVICE_UNAVAILABLE, _SHUTTING_DOWN)
            elif self.state.timed_out:
                delivery = receiver._delivery(
                    getattr(self, "headers", None), HTTPStatus.REQUEST_TIMEOUT, receiver._late
                )
                self._reply(HTTPStatus.REQUEST_TIMEOUT, delivery.to_json())

    def send_response(self, code: int, message: str | None = None) -> None:
        self.state.replied = True
        super().send_response(code, message)

    def log_message(self, format: str, *args: Any) -> None:
        # Deliveries are reported through on_delivery and deliveries.jsonl; stderr stays quiet.
        return

    def _reply(self, status: int, body: Mapping[str, Any]) -> None:
        data = json.dumps(body, sort_keys=True).encode()
        self.connection.settimeout(max(1.0, self.server.receiver.request_timeout))
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
        try:
            status, body = receiver._handle(self)
        except _ClientGone:
            self.close_connection = True
            return
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
        max_connections: Connections served at once (one thread each); more are answered 503
            at once.
        max_per_client: Connections served at once for one client address; more are answered
            429 at once. Behind a tunnel every delivery comes from the tunnel's address.
        request_timeout: Seconds from accepting a connection until its whole request (line,
            headers and body) has arrived; later requests get 408.
        replay_window: Seconds a started delivery's id and body digest are remembered: a
            redelivery of that id, or the same signed body under a fresh id, starts nothing.
        on_delivery: Called with each :class:`Delivery` once it is answered (from the
            request's thread).
        max_log_bytes: Size at which ``deliveries.jsonl`` is renamed to
            ``deliveries.jsonl.1`` (replacing an older one) and started afresh.

    Attributes:
        deliveries: The most recent deliveries (at most :attr:`MAX_RECENT`), oldest first.
        started: Every execution started, with its decision and trigger.
        received: Deliveries answered so far (authenticated or not).
        refused: Connections refused at once because a cap was reached.
        cut_off: Requests still arriving when :meth:`shutdown` cut them.

    Raises:
        DefinitionError: with no *secret* and not *allow_unsigned*.

    .. versionadded:: 0.1.0
    """

    #: Started deliveries remembered at most (ids and body digests each), oldest forgotten first.
    MAX_REMEMBERED = 10_000
    #: Recent deliveries kept in :attr:`deliveries`.
    MAX_RECENT = 1_000

    def __init__(
        self,
        pipeline: Pipeline,
        executor: Executor | Starter,
        *,
        secret: str | bytes | None = None,
        allow_unsigned: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        workdir: str | Path = ".pipeweaver",
        repos: Mapping[str, str | Path] | None = None,
        max_body: int = 1_048_576,
        max_connections: int = 64,
        max_per_client: int = 16,
        request_timeout: float = 10.0,
        replay_window: float = 7 * 86_400.0,
        on_delivery: Callable[[Delivery], object] | None = None,
        max_log_bytes: int = 8 * 1_048_576,
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
        self.max_connections = max_connections
        self.max_per_client = max_per_client
        self.request_timeout = request_timeout
        self.replay_window = replay_window
        self.max_log_bytes = max_log_bytes
        self._on_delivery = on_delivery
        self._repos = {name: Path(path) for name, path in (repos or {}).items()}
        self._workdir = Path(workdir).resolve()
        self._log_path = self._workdir / "webhooks" / "deliveries.jsonl"
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._connections: dict[socket.socket, _Connection] = {}
        self._per_client: Counter[str] = Counter()
        self._closing = False
        self._serving = False
        # "id:<delivery id>" / "body:<sha256>" -> (when it started, delivery id), oldest first.
        self._seen: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._claims: dict[str, threading.Event] = {}
        self._load_seen()
        self.deliveries: deque[Delivery] = deque(maxlen=self.MAX_RECENT)
        self.received = 0
        self.refused = 0
        self.cut_off = 0
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
        self._thread = threading.Thread(target=self.serve_forever, name="pipeweaver-webhook", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until :meth:`shutdown` is called from another thread."""
        with self._lock:
            if self._closing:
                return
            self._serving = True
        # A short poll interval keeps shutdown() prompt; the accept loop is otherwise idle.
        self._server.serve_forever(poll_interval=0.1)

    def shutdown(self, grace: float = 10.0) -> bool:
        """
        Stop accepting, cut requests still arriving, wait up to *grace* seconds for the rest.

        Requests still being received are answered 503 at once (nothing of theirs has started).
        Requests already received get up to *grace* seconds to finish (starting an execution);
        then their connections are closed and this returns, whatever they are doing.

        Returns:
            Whether every request in flight finished within *grace*.
        """
        deadline = time.monotonic() + grace
        with self._lock:
            self._closing = True
            serving = self._serving
            reading = [c for c in self._connections.values() if c.reading]
            for connection in reading:
                connection.cut = True
            self.cut_off += len(reading)
        if serving:
            # Prompt: the accept loop never waits (a full server refuses instead).
            self._server.shutdown()
        for connection in reading:
            with contextlib.suppress(OSError):
                # Wakes a read blocked on a silent client; its handler then answers 503.
                connection.sock.shutdown(socket.SHUT_RD)
        with self._idle:
            drained = self._idle.wait_for(lambda: not self._connections, timeout=max(0.0, deadline - time.monotonic()))
            leftover = list(self._connections.values())
        for connection in leftover:
            with contextlib.suppress(OSError):
                connection.sock.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=max(0.0, deadline - time.monotonic()))
        return drained

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    # -- connections ----------------------------------------------------------------------------

    def _admit(self, sock: socket.socket, host: str) -> tuple[HTTPStatus, str] | None:
        """Register a new connection, or say why it is refused (called on the accept loop)."""
        with self._lock:
            if self._closing:
                refusal = (HTTPStatus.SERVICE_UNAVAILABLE, "the receiver is shutting down")
            elif self._per_client[host] >= self.max_per_client:
                refusal = (
                    HTTPStatus.TOO_MANY_REQUESTS,
                    f"{self.max_per_client} connections from {host} are already open",
                )
            elif len(self._connections) >= self.max_connections:
                refusal = (
                    HTTPStatus.SERVICE_UNAVAILABLE,
                    f"{self.max_connections} connections are already open",
                )
            else:
                deadline = time.monotonic() + self.request_timeout
                self._connections[sock] = _Connection(sock=sock, host=host, deadline=deadline)
                self._per_client[host] += 1
                return None
            self.refused += 1
            return refusal

    def _connection(self, sock: socket.socket) -> _Connection:
        with self._lock:
            return self._connections[sock]

    def _release(self, sock: socket.socket) -> None:
        with self._idle:
            connection = self._connections.pop(sock, None)
            if connection is not None:
                self._per_client[connection.host] -= 1
                if self._per_client[connection.host] <= 0:
                    del self._per_client[connection.host]
            self._idle.notify_all()

    # -- requests -------------------------------------------------------------------------------

    @property
    def _late(self) -> str:
        return f"the request did not arrive within {self.request_timeout:g} s"

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

    def _delivery(self, headers: Any, status: int, reason: str, **extra: Any) -> Delivery:
        """Build, keep and report one delivery; authenticated ones are also written to the log."""
        delivery = Delivery(
            delivery_id=headers.get("X-GitHub-Delivery", "") if headers is not None else "",
            event=headers.get("X-GitHub-Event", "") if headers is not None else "",
            status=status,
            reason=reason,
            received_at=datetime.now(UTC),
            **extra,
        )
        with self._lock:
            self.deliveries.append(delivery)
            self.received += 1
            if delivery.authenticated:
                self._write(delivery.to_json())
        if self._on_delivery is not None:
            with contextlib.suppress(Exception):  # a failing printer must not fail the request
                self._on_delivery(delivery)
        return delivery

    def _write(self, line: Mapping[str, Any]) -> None:
        # Called with the lock held. One rotated predecessor bounds the log at ~2x max_log_bytes.
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            if self._log_path.stat().st_size >= self.max_log_bytes:
                os.replace(self._log_path, self._log_path.with_name(self._log_path.name + ".1"))
        except FileNotFoundError:
            pass
        with self._log_path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, sort_keys=True) + "\n")

    def _content_length(self, headers: Any) -> int | tuple[HTTPStatus, str]:
        """The body's length, or the status and reason refusing it."""
        if headers.get("Transfer-Encoding") is not None:
            return HTTPStatus.BAD_REQUEST, "Transfer-Encoding is not accepted: send the body with a Content-Length"
        values = {value.strip() for value in headers.get_all("Content-Length") or []}
        if not values:
            return HTTPStatus.LENGTH_REQUIRED, "Content-Length is required"
        if len(values) > 1:
            return HTTPStatus.BAD_REQUEST, "conflicting Content-Length headers"
        (text,) = values
        # ASCII digits only: str.isdigit() also accepts '²', which int() rejects; a sign is no length.
        if not text or not text.isascii() or not text.isdigit():
            return HTTPStatus.BAD_REQUEST, f"Content-Length {text[:40]!r} is not a number of bytes"
        digits = text.lstrip("0") or "0"
        # Compared by digit count first: int() of a 5,000-digit string raises ValueError.
        if len(digits) > len(str(self.max_body)) or int(digits) > self.max_body:
            shown = digits if len(digits) <= 20 else f"a {len(digits)}-digit number of"
            return HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body of {shown} bytes exceeds {self.max_body}"
        return int(digits)

    def _handle(self, request: _Handler) -> tuple[int, dict[str, Any]]:
        headers = request.headers
        kind = headers.get("X-GitHub-Event", "")
        delivery_id = headers.get("X-GitHub-Delivery") or ""

        def done(status: int, reason: str, **extra: Any) -> tuple[int, dict[str, Any]]:
            return status, self._delivery(headers, status, reason, **extra).to_json()

        if self._closing:
            return done(HTTPStatus.SERVICE_UNAVAILABLE, "the receiver is shutting down")
        length = self._content_length(headers)
        if isinstance(length, tuple):
            return done(*length)
        try:
            body = request.rfile.read(length)
        except TimeoutError:
            return done(HTTPStatus.REQUEST_TIMEOUT, self._late)
        except OSError as exc:
            if request.state.cut:
                return HTTPStatus.SERVICE_UNAVAILABLE, dict(_SHUTTING_DOWN)
            raise _ClientGone from exc
        if len(body) != length:
            if request.state.cut:
                return HTTPStatus.SERVICE_UNAVAILABLE, dict(_SHUTTING_DOWN)
            # The client ended its half of the connection early; it may still read an answer.
            return done(HTTPStatus.BAD_REQUEST, "the body is shorter than Content-Length")
        with self._lock:
            # From here on shutdown waits for this request (up to its grace) instead of cutting it.
            closing = self._closing
            request.state.reading = False
        if closing:
            return done(HTTPStatus.SERVICE_UNAVAILABLE, "the receiver is shutting down")
        problem = self._verify(body, headers.get("X-Hub-Signature-256"))
        if problem:
            return done(HTTPStatus.UNAUTHORIZED, problem)
        digest = hashlib.sha256(body).hexdigest()

        def signed(status: int, reason: str, **extra: Any) -> tuple[int, dict[str, Any]]:
            return done(status, reason, authenticated=True, body_sha256=digest, **extra)

        if kind == "ping":
            return signed(HTTPStatus.OK, "pong")
        try:
            payload = self._payload(body, headers.get("Content-Type", ""))
        except ValueError as exc:
            return signed(HTTPStatus.BAD_REQUEST, f"payload is not valid JSON: {exc}")
        keys = ([f"id:{delivery_id}"] if delivery_id else []) + [f"body:{digest}"]
        duplicate = self._claim(keys)
        if duplicate:
            return signed(HTTPStatus.OK, duplicate)
        started = False
        try:
            event, why = event_from_github(kind, payload, repo=self._repo_for(payload))
            if event is None:
                return signed(HTTPStatus.OK, f"ignored: {why}")
            decision = evaluate(self.pipeline, event, event_wiring=True)
            if not decision.starts:
                return signed(HTTPStatus.OK, decision.reason, decision=decision)
            trigger = TriggerInfo(
                trigger_type="WebhookV2" if decision.trigger_type == "WebhookV2" else "Webhook",
                detail=f"GitHub {kind} delivery {delivery_id or '?'}: {decision.reason}",
            )
            revisions = (
                {decision.source_action: decision.revision} if decision.source_action and decision.revision else {}
            )
            try:
                handle = self._start(self.pipeline, revisions, trigger)
            except Exception as exc:  # the client gets a 500 naming the failure; a redelivery may retry
                return signed(
                    HTTPStatus.INTERNAL_SERVER_ERROR, f"starting the execution failed: {exc}", decision=decision
                )
            started = True
            with self._lock:
                self.started.append(Started(decision=decision, trigger=trigger, handle=handle))
            execution_id = getattr(handle, "id", None)
            return signed(
                HTTPStatus.ACCEPTED,
                decision.reason,
                decision=decision,
                execution_id=execution_id if isinstance(execution_id, str) else None,
            )
        finally:
            self._settle(keys, delivery_id, started)

    # -- deduplication --------------------------------------------------------------------------

    def _claim(self, keys: list[str]) -> str:
        """Reserve *keys* for this request; or say why it is a duplicate of a started delivery."""
        patience = time.monotonic() + self.request_timeout
        while True:
            with self._lock:
                self._forget_expired()
                for key in keys:
                    if key in self._seen:
                        return self._duplicate_reason(key)
                busy = next((self._claims[key] for key in keys if key in self._claims), None)
                if busy is None:
                    claim = threading.Event()
                    for key in keys:
                        self._claims[key] = claim
                    return ""
            # The same delivery is being started by another request: its outcome decides this one
            # (a failed start leaves the delivery free to start here).
            if not busy.wait(timeout=max(0.0, patience - time.monotonic())):
                return "the same delivery is being started by another request; nothing started"

    def _settle(self, keys: list[str], delivery_id: str, started: bool) -> None:
        """Release the claim on *keys*; remember them only when the execution started."""
        with self._lock:
            claim = self._claims.pop(keys[0], None)
            for key in keys[1:]:
                self._claims.pop(key, None)
            if started:
                now = time.time()
                for key in keys:
                    self._remember(key, now, delivery_id)
        if claim is not None:
            claim.set()

    def _remember(self, key: str, when: float, delivery_id: str) -> None:
        self._seen[key] = (when, delivery_id)
        self._seen.move_to_end(key)
        while len(self._seen) > 2 * self.MAX_REMEMBERED:
            self._seen.popitem(last=False)

    def _forget_expired(self) -> None:
        horizon = time.time() - self.replay_window
        while self._seen:
            key, (when, _) = next(iter(self._seen.items()))
            if when >= horizon:
                break
            del self._seen[key]

    def _duplicate_reason(self, key: str) -> str:
        if key.startswith("id:"):
            return "duplicate delivery id: already handled, nothing started"
        _, first = self._seen[key]
        return (
            f"replayed body: the same signed payload already started an execution "
            f"(delivery {first or '?'}); nothing started"
        )

    def _load_seen(self) -> None:
        """Remember started deliveries from the log (and its predecessor) across restarts."""
        horizon = time.time() - self.replay_window
        for path in (self._log_path.with_name(self._log_path.name + ".1"), self._log_path):
            try:
                lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                continue
            for line in lines:
                try:
                    record = json.loads(line)
                    when = datetime.fromisoformat(record["receivedAt"]).timestamp()
                except (ValueError, KeyError, TypeError, OverflowError):
                    continue  # a damaged line only costs its own memory
                if not isinstance(record, dict) or record.get("status") != HTTPStatus.ACCEPTED or when < horizon:
                    continue
                delivery_id = record.get("delivery")
                delivery_id = delivery_id if isinstance(delivery_id, str) else ""
                digest = record.get("bodySha256")
                if isinstance(digest, str):
                    self._remember(f"body:{digest}", when, delivery_id)
                if delivery_id:
                    self._remember(f"id:{delivery_id}", when, delivery_id)

    # -- payloads -------------------------------------------------------------------------------

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
