"""The webhook receiver: real HTTP on 127.0.0.1, signatures, limits, triggers and shutdown."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import pipeweaver as pw
from pipeweaver._triggers import GitPullRequest
from pipeweaver.execution._webhook import WebhookReceiver, event_from_github, sign

from .conftest import make_pipeline, source_action
from .test_trigger_watch import Recorder, commit, git

SECRET = "s3cr3t-webhook"


def monorepo(mode: str | None = None) -> pw.Pipeline:
    trigger = pw.Trigger(
        source_action_name="ApplicationSource",
        push=[
            pw.GitPushFilter(branches=["mainline", "release/**"], file_paths=pw.GitFilter(includes=["services/api/**"]))
        ],
        pull_request=[pw.GitPullRequestFilter(events=["OPEN", "UPDATED"], branches=["mainline"])],
    )
    return make_pipeline(source_action(), triggers=(trigger,), mode=mode)


def push_payload(files: list[str], *, ref: str = "refs/heads/mainline", after: str = "a" * 40) -> dict[str, Any]:
    return {
        "ref": ref,
        "before": "0" * 40,
        "after": after,
        "deleted": False,
        "repository": {"full_name": "acme/monorepo-example"},
        "commits": [{"id": after, "added": files, "removed": [], "modified": []}],
    }


def post(
    receiver: WebhookReceiver,
    payload: Any,
    *,
    event: str = "push",
    signature: str | None = "auto",
    delivery: str | None = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    body = raw if raw is not None else json.dumps(payload).encode()
    host, port = receiver.address
    conn = http.client.HTTPConnection(host, port, timeout=10)
    sent = {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
    }
    if signature == "auto":
        sent["X-Hub-Signature-256"] = sign(SECRET, body)
    elif signature is not None:
        sent["X-Hub-Signature-256"] = signature
    sent.update(headers or {})
    conn.request("POST", "/", body=body, headers=sent)
    response = conn.getresponse()
    data = json.loads(response.read() or b"{}")
    conn.close()
    return response.status, data


@pytest.fixture(name="recorder")
def _recorder() -> Recorder:
    return Recorder()


@pytest.fixture(name="receiver")
def _receiver(tmp_path: Path, recorder: Recorder) -> Any:
    receiver = WebhookReceiver(monorepo(), recorder, secret=SECRET, workdir=tmp_path / "work").start()
    yield receiver
    receiver.shutdown(grace=5)


def test_matching_push_starts_exactly_one_execution(receiver: WebhookReceiver, recorder: Recorder) -> None:
    """A signed push to an included branch and path answers 202 and starts one execution."""
    status, body = post(receiver, push_payload(["services/api/main.py"], after="b" * 40))

    assert 202 == status
    assert (True, "b" * 40) == (body["starts"], body["revision"])
    assert 1 == len(recorder.calls)
    revisions, trigger = recorder.calls[0]
    assert {"ApplicationSource": "b" * 40} == revisions
    assert "WebhookV2" == trigger.trigger_type


def test_push_on_a_non_matching_path_starts_nothing(receiver: WebhookReceiver, recorder: Recorder) -> None:
    """A signed push that changes only excluded-by-omission files answers 200 and starts nothing."""
    status, body = post(receiver, push_payload(["docs/readme.md"]))

    assert (200, False) == (status, body["starts"])
    assert "matches no include" in body["reason"]
    assert [] == recorder.calls


@pytest.mark.parametrize(
    ("signature", "why"),
    [
        ("sha256=" + "0" * 64, "does not match"),
        ("sha1=deadbeef", "does not match"),
        (None, "missing X-Hub-Signature-256"),
    ],
)
def test_bad_or_missing_signature_gets_401_and_starts_nothing(
    receiver: WebhookReceiver, recorder: Recorder, signature: str | None, why: str
) -> None:
    """Requests whose signature is wrong or absent are refused with 401 before anything is parsed."""
    status, body = post(receiver, push_payload(["services/api/main.py"]), signature=signature)

    assert 401 == status
    assert why in body["reason"]
    assert [] == recorder.calls


def test_signature_of_another_body_is_refused(receiver: WebhookReceiver, recorder: Recorder) -> None:
    """A valid signature of a different payload does not authorise this one."""
    other = sign(SECRET, b"{}")
    status, _ = post(receiver, push_payload(["services/api/main.py"]), signature=other)

    assert (401, []) == (status, recorder.calls)


def test_unsigned_requests_need_explicit_permission(tmp_path: Path, recorder: Recorder) -> None:
    """Without a secret the receiver refuses to exist unless unsigned requests are allowed."""
    with pytest.raises(pw.DefinitionError, match="allow_unsigned"):
        WebhookReceiver(monorepo(), recorder, workdir=tmp_path)
    with WebhookReceiver(monorepo(), recorder, allow_unsigned=True, workdir=tmp_path) as receiver:
        status, _ = post(receiver, push_payload(["services/api/x.py"]), signature=None)

    assert (202, 1) == (status, len(recorder.calls))


def test_redelivery_with_the_same_id_starts_nothing_more(receiver: WebhookReceiver, recorder: Recorder) -> None:
    """GitHub redeliveries carry the same X-GitHub-Delivery id; only the first one starts."""
    payload = push_payload(["services/api/main.py"])
    first = post(receiver, payload, delivery="fixed-id")
    second = post(receiver, payload, delivery="fixed-id")

    assert (202, 200) == (first[0], second[0])
    assert "duplicate" in second[1]["reason"]
    assert 1 == len(recorder.calls)


def test_oversized_body_is_refused_unread(tmp_path: Path, recorder: Recorder) -> None:
    """A Content-Length above the limit gets 413 without the body being read."""
    with WebhookReceiver(monorepo(), recorder, secret=SECRET, workdir=tmp_path, max_body=1000) as receiver:
        status, body = post(receiver, push_payload(["services/api/" + "x" * 2000]))

    assert 413 == status
    assert "exceeds 1000" in body["reason"]
    assert [] == recorder.calls


def test_malformed_json_is_a_400(receiver: WebhookReceiver, recorder: Recorder) -> None:
    """A signed body that is not a JSON object gets 400 naming the problem."""
    status, body = post(receiver, None, raw=b"[1, 2")

    assert 400 == status
    assert "not valid JSON" in body["reason"]


def test_form_encoded_payloads_are_accepted(receiver: WebhookReceiver, recorder: Recorder) -> None:
    """GitHub's application/x-www-form-urlencoded content type (payload=...) works too."""
    import urllib.parse

    raw = urllib.parse.urlencode({"payload": json.dumps(push_payload(["services/api/a.py"]))}).encode()
    status, _ = post(receiver, None, raw=raw, headers={"Content-Type": "application/x-www-form-urlencoded"})

    assert (202, 1) == (status, len(recorder.calls))


def test_ping_and_other_methods(receiver: WebhookReceiver) -> None:
    """ping answers pong; GET is not allowed."""
    status, body = post(receiver, {"zen": "Keep it logically awesome."}, event="ping")
    host, port = receiver.address
    conn = http.client.HTTPConnection(host, port, timeout=5)
    conn.request("GET", "/")
    get_status = conn.getresponse().status
    conn.close()

    assert (200, "pong") == (status, body["reason"])
    assert 405 == get_status


def test_pull_request_runs_the_source_branch_head(receiver: WebhookReceiver, recorder: Recorder) -> None:
    """An opened pull request into mainline starts with the head commit of its source branch."""
    payload = {
        "action": "opened",
        "repository": {"full_name": "acme/monorepo-example"},
        "pull_request": {"head": {"ref": "fix/7", "sha": "c" * 40}, "base": {"ref": "mainline", "sha": "d" * 40}},
    }
    status, body = post(receiver, payload, event="pull_request")
    closed = post(receiver, {**payload, "action": "closed"}, event="pull_request")

    assert (202, "c" * 40) == (status, body["revision"])
    assert (200, False) == (closed[0], closed[1]["starts"])
    assert [{"ApplicationSource": "c" * 40}] == [c[0] for c in recorder.calls]


def test_pull_request_files_come_from_a_local_clone(tmp_path: Path) -> None:
    """Pull-request payloads list no files; with a clone mapped, they are computed with git diff."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "mainline")
    git(repo, "config", "user.email", "d@example.com")
    git(repo, "config", "user.name", "D")
    base = commit(repo, {"README.md": "x\n"})
    git(repo, "checkout", "-q", "-b", "fix")
    head = commit(repo, {"services/api/a.py": "1\n"})
    payload = {
        "action": "synchronize",
        "repository": {"full_name": "acme/monorepo-example"},
        "pull_request": {"head": {"ref": "fix", "sha": head}, "base": {"ref": "mainline", "sha": base}},
    }
    event, _ = event_from_github("pull_request", payload, repo=repo)
    unknown, _ = event_from_github("pull_request", payload)

    assert isinstance(event, GitPullRequest)
    assert ("services/api/a.py",) == event.changed_files
    assert unknown is not None
    assert unknown.changed_files is None


def test_deliveries_are_logged_only_inside_the_workdir(tmp_path: Path, recorder: Recorder) -> None:
    """Hostile delivery ids and paths never choose a file: one fixed log inside the workdir."""
    work = tmp_path / "work"
    with WebhookReceiver(monorepo(), recorder, secret=SECRET, workdir=work) as receiver:
        post(receiver, push_payload(["services/api/a.py"]), delivery="../../../../etc/evil")
        post(receiver, push_payload(["docs/a.md"]), delivery="/tmp/abs")
        host, port = receiver.address
        conn = http.client.HTTPConnection(host, port, timeout=5)
        body = json.dumps(push_payload(["x"])).encode()
        conn.request(
            "POST",
            "/../../escape",
            body=body,
            headers={"X-Hub-Signature-256": sign(SECRET, body), "X-GitHub-Event": "push"},
        )
        conn.getresponse().read()
        conn.close()
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())

    assert ["work/webhooks/deliveries.jsonl"] == written
    lines = (work / "webhooks" / "deliveries.jsonl").read_text().splitlines()
    assert ["../../../../etc/evil", "/tmp/abs"] == [json.loads(line)["delivery"] for line in lines[:2]]


def test_slow_client_times_out_and_shutdown_is_bounded(tmp_path: Path, recorder: Recorder) -> None:
    """A client that never sends its body is cut off; shutdown returns within its grace period."""
    receiver = WebhookReceiver(monorepo(), recorder, secret=SECRET, workdir=tmp_path, request_timeout=0.5).start()
    host, port = receiver.address
    sock = socket.create_connection((host, port), timeout=5)
    sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nX-GitHub-Event: push\r\n\r\n")
    reply = sock.recv(4096)
    sock.close()
    began = time.monotonic()
    drained = receiver.shutdown(grace=2)

    assert b"408" in reply.split(b"\r\n")[0]
    assert drained
    assert time.monotonic() - began < 3


@pytest.mark.parametrize("mode", ["SUPERSEDED", "QUEUED", "PARALLEL"])
def test_200_concurrent_deliveries_start_one_execution_per_matching_delivery(tmp_path: Path, mode: str) -> None:
    """200 deliveries at once (some duplicates, some non-matching) start exactly one per unique match."""
    recorder = Recorder()
    pipeline = monorepo(mode)
    jobs = []
    for i in range(190):
        matching = i % 4 != 0  # 142 of the 190 distinct deliveries match
        jobs.append((f"d-{i}", [f"services/api/f{i}.py"] if matching else [f"docs/f{i}.md"]))
    jobs += jobs[:10]  # ten redeliveries of earlier deliveries, same id and payload
    unique_matching = sum(1 for i in range(190) if i % 4 != 0)
    with (
        # 64 clients at once from one address: raise the per-client cap to let them all in.
        WebhookReceiver(
            pipeline, recorder, secret=SECRET, workdir=tmp_path, max_per_client=64, max_connections=128
        ) as receiver,
        ThreadPoolExecutor(64) as pool,
    ):
        results = list(pool.map(lambda job: post(receiver, push_payload(job[1]), delivery=job[0]), jobs))

    assert unique_matching == len(recorder.calls)
    assert unique_matching == sum(1 for status, _ in results if status == 202)
    assert all(status in (200, 202) for status, _ in results)
    assert 200 == len(receiver.deliveries)


def test_shutdown_waits_for_requests_in_flight(tmp_path: Path) -> None:
    """A delivery whose start is slow finishes before shutdown returns."""
    gate = threading.Event()
    finished: list[str] = []

    def slow_start(pipeline: pw.Pipeline, revisions: Any, trigger: Any) -> None:
        gate.set()
        time.sleep(0.5)
        finished.append("done")

    receiver = WebhookReceiver(monorepo(), slow_start, secret=SECRET, workdir=tmp_path).start()
    results: list[int] = []
    thread = threading.Thread(target=lambda: results.append(post(receiver, push_payload(["services/api/a.py"]))[0]))
    thread.start()
    gate.wait(5)
    drained = receiver.shutdown(grace=5)
    thread.join(5)

    assert (True, ["done"], [202]) == (drained, finished, results)


@pytest.mark.parametrize(
    ("event", "payload", "status"),
    [
        ("push", {"ref": 7}, 200),
        ("push", {"ref": "refs/heads/mainline", "commits": "not-a-list"}, 200),
        (
            "push",
            {"ref": "refs/heads/mainline", "commits": [None, {"added": "x"}, {"added": [1, "services/api/ok.py"]}]},
            202,
        ),
        ("push", {"ref": "refs/remotes/x"}, 200),
        ("push", {"ref": "refs/heads/mainline", "deleted": True}, 200),
        ("pull_request", {"action": "opened", "pull_request": "nope"}, 200),
        ("pull_request", {"action": "opened", "pull_request": {"head": {}, "base": {}}}, 200),
        ("pull_request", {"action": "labeled"}, 200),
        ("issues", {"action": "opened"}, 200),
        ("push", ["a", "list"], 400),
    ],
)
def test_hostile_or_odd_payloads_never_crash_the_receiver(
    receiver: WebhookReceiver, recorder: Recorder, event: str, payload: Any, status: int
) -> None:
    """Signed payloads of the wrong shape are ignored (200) or refused (400); the receiver keeps working."""
    got, body = post(receiver, payload, event=event)
    after, _ = post(receiver, push_payload(["services/api/still-alive.py"]))

    assert (status, 202) == (got, after)
    assert body["reason"]


def test_malformed_trigger_pattern_fails_at_startup_with_its_path(tmp_path: Path, recorder: Recorder) -> None:
    """A bad glob in the pipeline is reported before the receiver listens, with the pattern's path."""
    trigger = pw.Trigger(source_action_name="ApplicationSource", push=[pw.GitPushFilter(branches=["release/[0-9"])])
    pipeline = make_pipeline(source_action(), triggers=(trigger,))
    with pytest.raises(pw.DefinitionError) as info:
        WebhookReceiver(pipeline, recorder, secret=SECRET, workdir=tmp_path)

    assert "triggers[0].gitConfiguration.push[0].branches.includes[0]" == info.value.field
    assert "never closed" in info.value.rule


def test_an_internal_failure_is_one_500_and_the_server_keeps_serving(tmp_path: Path) -> None:
    """If evaluation itself blows up, the client gets a 500 with the reason and later requests work."""
    recorder = Recorder()
    with WebhookReceiver(monorepo(), recorder, secret=SECRET, workdir=tmp_path) as receiver:
        original = receiver._repo_for
        receiver._repo_for = lambda payload: (_ for _ in ()).throw(RuntimeError("boom"))  # type: ignore[method-assign]
        broken = post(receiver, push_payload(["services/api/a.py"]))
        receiver._repo_for = original  # type: ignore[method-assign]
        healthy = post(receiver, push_payload(["services/api/a.py"]))

    assert (500, "internal error: RuntimeError: boom") == (broken[0], broken[1]["reason"])
    assert 202 == healthy[0]


# -- abuse: deadlines, caps, shutdown, replays, hostile fields ---------------------------------


def connect(receiver: WebhookReceiver, timeout: float = 5) -> socket.socket:
    return socket.create_connection(receiver.address, timeout=timeout)


def read_reply(sock: socket.socket, budget: float = 5) -> bytes:
    """Everything the server sends until it closes (b'' for a reset), waiting at most *budget* s."""
    sock.settimeout(budget)
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data


def trickle(sock: socket.socket, step: bytes, *, every: float = 0.1, budget: float = 3) -> tuple[bytes, float]:
    """Send *step* every *every* seconds until the server answers or closes (at most *budget* s)."""
    began = time.monotonic()
    sock.settimeout(every)
    while time.monotonic() - began < budget:
        try:
            sock.sendall(step)
            first = sock.recv(4096)
        except TimeoutError:
            continue  # the server is still waiting for more: send the next byte
        except OSError:  # the server answered and closed while we were sending: read what it said
            return read_reply(sock, 1), time.monotonic() - began
        return first + read_reply(sock, 1), time.monotonic() - began
    return b"", time.monotonic() - began


@pytest.mark.parametrize(
    ("opening", "step"),
    [
        (b"POST / HTTP/1.1\r\nHost: x\r\nX-Pad: ", b"a"),  # headers that never end
        (b"POST / HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\nContent-Length: 10000\r\n\r\n", b"{"),  # a slow body
    ],
    ids=["headers", "body"],
)
def test_a_client_sending_a_byte_at_a_time_is_cut_off_at_the_request_deadline(
    tmp_path: Path, recorder: Recorder, opening: bytes, step: bytes
) -> None:
    """The timeout bounds the whole request, not each read: a byte every 0.1 s still ends at 0.5 s with 408."""
    with WebhookReceiver(monorepo(), recorder, secret=SECRET, workdir=tmp_path, request_timeout=0.5) as receiver:
        sock = connect(receiver)
        sock.sendall(opening)
        reply, elapsed = trickle(sock, step, every=0.1, budget=4)
        sock.close()

    assert reply.startswith(b"HTTP/1.1 408 "), reply
    assert 0.4 < elapsed < 2.5, elapsed  # the 0.5 s deadline plus a margin for a loaded machine
    assert [] == recorder.calls


def test_connections_beyond_the_per_client_cap_are_refused_at_once(tmp_path: Path, recorder: Recorder) -> None:
    """Two silent connections from 127.0.0.1 fill its cap of 2: a third gets 429 at once; freed slots serve again."""
    with WebhookReceiver(
        monorepo(), recorder, secret=SECRET, workdir=tmp_path, max_per_client=2, request_timeout=10
    ) as receiver:
        held = [connect(receiver) for _ in range(2)]
        began = time.monotonic()
        excess = connect(receiver)
        refused = read_reply(excess, 5)
        elapsed = time.monotonic() - began
        excess.close()
        for sock in held:
            sock.close()
        with receiver._idle:
            receiver._idle.wait_for(lambda: not receiver._connections, timeout=5)
        after, _ = post(receiver, push_payload(["services/api/a.py"]))

    assert refused.startswith(b"HTTP/1.1 429 "), refused
    assert b"2 connections from 127.0.0.1 are already open" in refused
    assert elapsed < 4, elapsed  # at once: long before the held connections' 10 s deadline
    assert 202 == after
    assert 1 == receiver.refused


def test_connections_beyond_the_global_cap_are_refused_at_once(tmp_path: Path, recorder: Recorder) -> None:
    """With every connection slot held by slow clients, a new client gets 503 at once instead of waiting."""
    with WebhookReceiver(
        monorepo(), recorder, secret=SECRET, workdir=tmp_path, max_connections=3, max_per_client=10
    ) as receiver:
        held = [connect(receiver) for _ in range(3)]
        began = time.monotonic()
        excess = connect(receiver)
        refused = read_reply(excess, 5)
        elapsed = time.monotonic() - began
        for sock in [excess, *held]:
            sock.close()

    assert refused.startswith(b"HTTP/1.1 503 "), refused
    assert elapsed < 4, elapsed  # at once: long before the held connections' 10 s deadline


def test_shutdown_with_64_slow_clients_and_a_hung_start_returns_within_its_grace(tmp_path: Path) -> None:
    """64 clients mid-headers are cut with 503; a start that never returns costs shutdown its grace, no more."""
    release = threading.Event()
    entered = threading.Event()

    def hung_start(pipeline: pw.Pipeline, revisions: Any, trigger: Any) -> None:
        entered.set()
        release.wait(30)

    receiver = WebhookReceiver(
        monorepo(),
        hung_start,
        secret=SECRET,
        workdir=tmp_path,
        max_connections=100,
        max_per_client=100,
        request_timeout=60,  # the slow clients must still be arriving at shutdown, even on a loaded machine
    ).start()
    try:
        slow = [connect(receiver) for _ in range(64)]
        for sock in slow:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Pad: a")

        def post_quietly() -> None:
            with contextlib.suppress(OSError, http.client.HTTPException):  # cut off after the grace
                post(receiver, push_payload(["services/api/a.py"]))

        hung = threading.Thread(target=post_quietly, daemon=True)
        hung.start()
        assert entered.wait(30)
        outcome: list[bool] = []
        began = time.monotonic()
        stopper = threading.Thread(target=lambda: outcome.append(receiver.shutdown(grace=0.5)), daemon=True)
        stopper.start()
        stopper.join(10)
        elapsed = time.monotonic() - began
        replies = [read_reply(sock, 5) for sock in slow]
    finally:
        release.set()
        for sock in slow:
            sock.close()

    assert [False] == outcome
    # The grace plus a margin for a loaded machine: what this guards against (slow clients holding
    # shutdown) took minutes, so a generous margin still tells the two apart.
    assert 0.4 < elapsed < 0.5 + 6, elapsed
    assert {b"HTTP/1.1 503 "} == {reply[:13] for reply in replies}


def test_a_redelivery_after_a_failed_start_starts(tmp_path: Path) -> None:
    """A delivery id is remembered only once its execution started: GitHub's redelivery of a failed one runs."""
    attempts: list[int] = []

    def flaky(pipeline: pw.Pipeline, revisions: Any, trigger: Any) -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("executor busy")
        return "exec-1"

    with WebhookReceiver(monorepo(), flaky, secret=SECRET, workdir=tmp_path / "w") as hook:
        payload = push_payload(["services/api/main.py"])
        first = post(hook, payload, delivery="same-id")
        second = post(hook, payload, delivery="same-id")
        third = post(hook, payload, delivery="same-id")

    assert (500, 202, 200) == (first[0], second[0], third[0])
    assert "duplicate delivery id" in third[1]["reason"]
    assert 2 == len(attempts)


def test_a_copy_arriving_during_a_failing_start_waits_for_it_and_then_starts(tmp_path: Path) -> None:
    """Two copies of one delivery at once: the second waits for the first's start; as that fails, it starts."""
    entered, release = threading.Event(), threading.Event()
    attempts: list[str] = []

    def failing_first(pipeline: pw.Pipeline, revisions: Any, trigger: Any) -> str:
        attempts.append(trigger.detail)
        if len(attempts) == 1:
            entered.set()
            release.wait(5)
            raise RuntimeError("disk full")
        return "exec-2"

    results: dict[str, int] = {}
    with WebhookReceiver(monorepo(), failing_first, secret=SECRET, workdir=tmp_path) as hook:
        payload = push_payload(["services/api/main.py"])

        def send(name: str) -> None:
            results[name] = post(hook, payload, delivery="copy")[0]

        first = threading.Thread(target=send, args=("first",))
        first.start()
        assert entered.wait(30)
        second = threading.Thread(target=send, args=("second",))
        second.start()
        second.join(0.3)  # still waiting for the first copy's outcome
        waiting = second.is_alive()
        release.set()
        first.join(5)
        second.join(5)

    assert waiting
    assert {"first": 500, "second": 202} == results
    assert 2 == len(attempts)


def test_a_replayed_body_under_a_fresh_delivery_id_starts_nothing(
    receiver: WebhookReceiver, recorder: Recorder
) -> None:
    """The same signed body with a new X-GitHub-Delivery is recognised by its SHA-256 and starts nothing."""
    payload = push_payload(["services/api/main.py"])
    first = post(receiver, payload, delivery="original")
    replay = post(receiver, payload, delivery="forged-fresh-id")

    assert (202, 200) == (first[0], replay[0])
    assert "replayed body" in replay[1]["reason"]
    assert "original" in replay[1]["reason"]
    assert 1 == len(recorder.calls)


def test_replay_memory_survives_a_restart_and_expires_after_its_window(tmp_path: Path, recorder: Recorder) -> None:
    """Started deliveries are reloaded from deliveries.jsonl on restart; past replay_window they are forgotten."""
    payload = push_payload(["services/api/main.py"])
    with WebhookReceiver(monorepo(), recorder, secret=SECRET, workdir=tmp_path) as first:
        post(first, payload, delivery="d1")
    with WebhookReceiver(monorepo(), recorder, secret=SECRET, workdir=tmp_path) as second:
        replay = post(second, payload, delivery="d2")
        redelivery = post(second, payload, delivery="d1")
    with WebhookReceiver(monorepo(), recorder, secret=SECRET, workdir=tmp_path, replay_window=0) as third:
        expired = post(third, payload, delivery="d3")

    assert (200, 200, 202) == (replay[0], redelivery[0], expired[0])
    assert 2 == len(recorder.calls)


def test_unauthenticated_requests_do_not_grow_the_delivery_log(tmp_path: Path, recorder: Recorder) -> None:
    """401s are answered but never written; the log of signed deliveries rotates at max_log_bytes."""
    work = tmp_path / "work"
    log = work / "webhooks" / "deliveries.jsonl"
    with WebhookReceiver(monorepo(), recorder, secret=SECRET, workdir=work, max_log_bytes=600) as receiver:
        refused = [post(receiver, push_payload(["x"]), signature="sha256=" + "0" * 64)[0] for _ in range(20)]
        unwritten = log.exists()
        for i in range(12):
            post(receiver, push_payload([f"docs/{i}.md"]))

    assert [401] * 20 == refused
    assert not unwritten
    sizes = [p.stat().st_size for p in (log, log.with_name("deliveries.jsonl.1"))]
    assert all(0 < size < 600 + 400 for size in sizes), sizes
    assert all(json.loads(line)["bodySha256"] for line in log.read_text().splitlines())


@pytest.mark.parametrize(
    ("header", "status", "why"),
    [
        (b"Content-Length: abc", 400, "is not a number of bytes"),
        (b"Content-Length: -1", 400, "is not a number of bytes"),
        (b"Content-Length: +5", 400, "is not a number of bytes"),
        (b"Content-Length: \xb2", 400, "is not a number of bytes"),  # latin-1 superscript two: isdigit() is True
        (b"Content-Length: 1e3", 400, "is not a number of bytes"),
        (b"Content-Length: 5\r\nContent-Length: 6", 400, "conflicting Content-Length"),
        (b"Transfer-Encoding: chunked", 400, "Transfer-Encoding is not accepted"),
        (b"Content-Length: 99999999999", 413, "exceeds 1048576"),
        (b"Content-Length: " + b"9" * 5000, 413, "a 5000-digit number of bytes exceeds"),
        (b"X-Nothing: 1", 411, "Content-Length is required"),
    ],
    ids=["letters", "negative", "plus", "superscript", "exponent", "twice", "chunked", "huge", "5000-digits", "none"],
)
def test_a_malformed_content_length_is_a_client_error(
    receiver: WebhookReceiver, recorder: Recorder, header: bytes, status: int, why: str
) -> None:
    """Non-numeric, signed, non-ASCII, duplicated or absurd lengths get 400/411/413 naming the problem, never 500."""
    sock = connect(receiver)
    sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\n" + header + b"\r\n\r\n")
    reply = read_reply(sock)
    sock.close()
    head, _, body = reply.partition(b"\r\n\r\n")

    assert head.startswith(b"HTTP/1.1 %d " % status), reply[:200]
    assert why in json.loads(body)["reason"]
    assert [] == recorder.calls


def test_delivery_summaries_escape_control_characters() -> None:
    """The terminal line of a delivery shows ESC, BEL, CR and bidi overrides escaped, and shortens long ids."""
    from datetime import UTC, datetime

    from pipeweaver.execution._webhook import Delivery

    delivery = Delivery(
        delivery_id="\x1b]0;pwned\x07" + "x" * 500,
        event="\x1b[2J\rpush\u202e",
        status=401,
        reason="missing \x9b31m signature",
        received_at=datetime.now(UTC),
    )
    line = delivery.summary()

    assert line.isprintable()
    assert "\\x1b[2J\\rpush\\u202e" in line
    assert "\\x9b31m" in line
    assert len(line) < 200


def test_a_body_cut_short_by_a_half_close_gets_400(receiver: WebhookReceiver, recorder: Recorder) -> None:
    """A client that stops sending (half-close) before Content-Length bytes still reads a 400 naming why."""
    sock = connect(receiver)
    sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\nContent-Length: 50\r\n\r\n{}")
    sock.shutdown(socket.SHUT_WR)
    reply = read_reply(sock)
    sock.close()

    assert reply.startswith(b"HTTP/1.1 400 ")
    assert b"shorter than Content-Length" in reply


def test_a_client_cut_at_shutdown_before_it_sent_anything_still_gets_503(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """A silent connection has no request line; shutdown still answers it 503 and prints nothing."""
    receiver = WebhookReceiver(
        monorepo(), lambda *args: None, secret=SECRET, workdir=tmp_path, request_timeout=60
    ).start()
    try:
        silent = connect(receiver)
        # The connection is being read once the receiver counts it (its handler is waiting).
        deadline = time.monotonic() + 10
        while not receiver._connections and time.monotonic() < deadline:
            time.sleep(0.01)
        receiver.shutdown(grace=2)
        reply = read_reply(silent, 5)
    finally:
        with contextlib.suppress(NameError):
            silent.close()

    assert b"HTTP/1.1 503 " == reply[:13]
    assert "failed" not in capfd.readouterr().err
