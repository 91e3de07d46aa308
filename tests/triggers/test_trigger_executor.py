"""With the real LocalExecutor: webhook/watch starts honour execution modes, and events look like AWS's."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import pipeweaver as pw
from pipeweaver.execution import (
    ActionContext,
    ActionFailed,
    ExecutionStarted,
    ExecutionStatus,
    LocalExecutor,
    TriggerInfo,
)
from pipeweaver.execution._eventbridge import DETAIL_TYPES, EventBridgeObserver, pattern_matches, to_eventbridge
from pipeweaver.execution._watch import Watcher
from pipeweaver.execution._webhook import WebhookReceiver

from .conftest import make_pipeline, source_action
from .test_trigger_serve import SECRET, post, push_payload
from .test_trigger_watch import commit, git


def monorepo(mode: str) -> pw.Pipeline:
    trigger = pw.Trigger(
        source_action_name="ApplicationSource",
        push=[pw.GitPushFilter(branches=["mainline"], file_paths=pw.GitFilter(includes=["services/api/**"]))],
    )
    return make_pipeline(source_action(), triggers=(trigger,), mode=mode)


def quick_executor(workdir: Path, **kwargs: Any) -> LocalExecutor:
    """A LocalExecutor whose two actions are instant in-process handlers (no git, no shell)."""
    return LocalExecutor(
        workdir,
        handlers={"Source/ApplicationSource": lambda ctx: None, "Build/Build": lambda ctx: None},
        **kwargs,
    )


@pytest.mark.parametrize("mode", ["SUPERSEDED", "QUEUED", "PARALLEL"])
def test_200_concurrent_deliveries_with_the_local_executor(tmp_path: Path, mode: str) -> None:
    """Each unique matching delivery starts one real execution; the mode decides how they end."""
    pipeline = monorepo(mode)
    executor = quick_executor(tmp_path / "exec")
    jobs = [(f"d-{i}", [f"services/api/f{i}.py"] if i % 4 else [f"docs/{i}.md"]) for i in range(190)]
    jobs += jobs[:10]
    expected = sum(1 for i in range(190) if i % 4)
    with (
        WebhookReceiver(
            # The caps sit well above the 64 client threads: a client's next connection can open
            # before the server has released the last one it answered (a 429 under load, seen in CI).
            pipeline,
            executor,
            secret=SECRET,
            workdir=tmp_path / "hook",
            max_per_client=128,
            max_connections=256,
        ) as receiver,
        ThreadPoolExecutor(64) as pool,
    ):
        answers = list(pool.map(lambda job: post(receiver, push_payload(job[1]), delivery=job[0]), jobs))
        handles = [s.handle for s in receiver.started]
    assert [] == [status for status, _body in answers if status >= 400]
    finals = [h.wait(60) for h in handles]
    statuses = [f.status for f in finals]

    assert expected == len(finals)
    assert {"WebhookV2"} == {f.trigger.trigger_type for f in finals}
    if mode == "SUPERSEDED":
        assert set(statuses) <= {ExecutionStatus.SUCCEEDED, ExecutionStatus.SUPERSEDED}
        assert ExecutionStatus.SUCCEEDED in statuses
    else:
        assert [ExecutionStatus.SUCCEEDED] * expected == statuses


def test_watched_commit_runs_that_commit_from_the_repository(tmp_path: Path) -> None:
    """watch + LocalExecutor's git source: the execution builds the commit that triggered it."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "mainline")
    git(repo, "config", "user.email", "d@example.com")
    git(repo, "config", "user.name", "D")
    commit(repo, {"README.md": "x\n"})
    seen: list[str] = []

    def build(ctx: ActionContext) -> None:
        root = ctx.primary_input
        assert root is not None
        seen.append((root / "services/api/app.py").read_text())

    executor = LocalExecutor(tmp_path / "exec", sources={"ApplicationSource": repo}, handlers={"Build/Build": build})
    watcher = Watcher(monorepo("QUEUED"), executor, sources={"ApplicationSource": repo})
    watcher.poll_once()
    sha = commit(repo, {"services/api/app.py": "v1\n"})
    commit(repo, {"services/api/app.py": "v2\n"})  # HEAD moves on; the execution still gets its commit
    git(repo, "reset", "-q", "--hard", sha)
    watcher.poll_once()
    (started,) = watcher.started
    execution = started.handle.wait(60)

    assert (ExecutionStatus.SUCCEEDED, ["v1\n"]) == (execution.status, seen)
    assert "WebhookV2" == execution.trigger.trigger_type


def test_eventbridge_shapes_for_a_run(tmp_path: Path) -> None:
    """A run emits pipeline, stage and action state changes in AWS's envelope and detail fields."""
    events: list[dict[str, Any]] = []
    pipeline = monorepo("QUEUED")
    executor = quick_executor(tmp_path, observers=[EventBridgeObserver(events.append, pipeline=pipeline)])
    execution = executor.run(pipeline, trigger=TriggerInfo(trigger_type="Schedule", detail="cron"))
    seq = [
        (e["detail-type"].split()[1], e["detail"].get("stage"), e["detail"].get("action"), e["detail"]["state"])
        for e in events
    ]

    assert [
        ("Pipeline", None, None, "STARTED"),
        ("Stage", "Source", None, "STARTED"),
        ("Action", "Source", "ApplicationSource", "STARTED"),
        ("Action", "Source", "ApplicationSource", "SUCCEEDED"),
        ("Stage", "Source", None, "SUCCEEDED"),
        ("Stage", "Build", None, "STARTED"),
        ("Action", "Build", "Build", "STARTED"),
        ("Action", "Build", "Build", "SUCCEEDED"),
        ("Stage", "Build", None, "SUCCEEDED"),
        ("Pipeline", None, None, "SUCCEEDED"),
    ] == seq
    first = events[0]
    assert {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"} == set(first)
    assert "aws.codepipeline" == first["source"]
    assert ["arn:aws:codepipeline:us-east-1:123456789012:MyServicePipeline"] == first["resources"]
    assert {"trigger-type": "Schedule", "trigger-detail": "cron"} == first["detail"]["execution-trigger"]
    assert {execution.id} == {e["detail"]["execution-id"] for e in events}
    assert {"owner": "AWS", "category": "Compute", "provider": "Commands", "version": "1"} == events[6]["detail"][
        "type"
    ]


def test_aws_documented_pattern_selects_failed_build_actions(tmp_path: Path) -> None:
    """AWS's sample pattern for failed Deploy/Build actions (widened to Compute, the Commands category) catches the failure."""
    pattern = {
        "source": ["aws.codepipeline"],
        "detail-type": ["CodePipeline Action Execution State Change"],
        "detail": {"state": ["FAILED"], "type": {"category": ["Deploy", "Build", "Compute"]}},
    }
    caught: list[dict[str, Any]] = []
    pipeline = monorepo("QUEUED")

    def fail(ctx: ActionContext) -> None:
        raise ActionFailed("tests failed")

    executor = LocalExecutor(
        tmp_path,
        handlers={"Source/ApplicationSource": lambda ctx: None, "Build/Build": fail},
        observers=[EventBridgeObserver(caught.append, pipeline=pipeline, pattern=pattern)],
    )
    execution = executor.run(pipeline)

    assert ExecutionStatus.FAILED == execution.status
    assert [("Build", "FAILED")] == [(e["detail"]["action"], e["detail"]["state"]) for e in caught]
    assert "tests failed" in caught[0]["detail"]["execution-result"]["external-execution-summary"]


@pytest.mark.parametrize(
    ("pattern", "matches"),
    [
        ({"detail": {"pipeline": ["MyServicePipeline", "other"]}}, True),
        ({"detail": {"pipeline": ["other"]}}, False),
        ({"detail": {"state": [{"anything-but": "STARTED"}]}}, False),
        ({"detail": {"stage": [{"exists": False}]}}, True),
        ({"detail-type": [{"prefix": "CodePipeline Pipeline"}]}, True),
        ({"detail": {"execution-trigger": {"trigger-type": ["WebhookV2"]}}}, True),
        ({"detail": {"missing": ["x"]}}, False),
    ],
)
def test_event_patterns_apply_to_local_events(pattern: dict[str, Any], matches: bool) -> None:
    """EventBridge pattern semantics (lists, nesting, prefix, anything-but, exists) on a local event."""
    event = to_eventbridge(
        ExecutionStarted(
            execution_id="e1",
            pipeline="MyServicePipeline",
            at=datetime.now(UTC),
            trigger=TriggerInfo(trigger_type="WebhookV2", detail="d"),
        )
    )

    assert event is not None
    assert matches == pattern_matches(pattern, event)
    assert DETAIL_TYPES["pipeline"] == event["detail-type"]


def test_observer_is_safe_across_threads(tmp_path: Path) -> None:
    """Concurrent executions feed one observer; every execution's events arrive."""
    events: list[dict[str, Any]] = []
    lock = threading.Lock()

    def sink(e: dict[str, Any]) -> None:
        with lock:
            events.append(e)

    pipeline = monorepo("PARALLEL")
    executor = quick_executor(tmp_path, observers=[EventBridgeObserver(sink, pipeline=pipeline)])
    handles = [executor.start(pipeline) for _ in range(10)]
    ids = {h.wait(60).id for h in handles}

    assert ids == {e["detail"]["execution-id"] for e in events}
    assert 10 * 10 == len(events)


def test_watched_s3_folder_runs_the_new_content(tmp_path: Path) -> None:
    """watch + LocalExecutor's S3 source: the execution sees the folder content that triggered it."""
    folder = tmp_path / "object"
    folder.mkdir()
    (folder / "version.txt").write_text("1")
    action = pw.Action(
        name="ApplicationSource",
        action_type=pw.ActionType(category="Source", provider="S3"),
        configuration={"S3Bucket": "src-bucket", "S3ObjectKey": "app.zip"},
        outputs=[pw.Artifact("SourceOutput")],
    )
    pipeline = make_pipeline(action)
    seen: list[str] = []

    def build(ctx: ActionContext) -> None:
        assert ctx.primary_input is not None
        seen.append((ctx.primary_input / "version.txt").read_text())

    executor = LocalExecutor(tmp_path / "exec", sources={"ApplicationSource": folder}, handlers={"Build/Build": build})
    watcher = Watcher(pipeline, executor, sources={"ApplicationSource": folder})
    watcher.poll_once()
    (folder / "version.txt").write_text("2")
    watcher.poll_once()
    (started,) = watcher.started
    execution = started.handle.wait(60)

    assert (ExecutionStatus.SUCCEEDED, ["2"], "PollForSourceChanges") == (
        execution.status,
        seen,
        execution.trigger.trigger_type,
    )
