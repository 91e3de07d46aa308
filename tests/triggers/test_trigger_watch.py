"""`watch` polls real git repositories and starts executions the triggers accept; cron schedules."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import pipeweaver as pw
from pipeweaver.execution._base import TriggerInfo
from pipeweaver.execution._watch import CronSchedule, Watcher, as_starter, watch

from .conftest import make_pipeline, source_action


class Recorder:
    """A starter that records every start (thread-safe)."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, str], TriggerInfo]] = []
        self._lock = threading.Lock()

    def __call__(self, pipeline: pw.Pipeline, source_revisions: Mapping[str, str], trigger: TriggerInfo) -> str:
        with self._lock:
            self.calls.append((dict(source_revisions), trigger))
            return f"exec-{len(self.calls)}"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def commit(repo: Path, files: Mapping[str, str], message: str = "change") -> str:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture(name="repo")
def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "mainline")
    git(repo, "config", "user.email", "dev@example.com")
    git(repo, "config", "user.name", "Dev")
    commit(repo, {"README.md": "hello\n"}, "initial")
    return repo


def monorepo_pipeline() -> pw.Pipeline:
    trigger = pw.Trigger(
        source_action_name="ApplicationSource",
        push=[
            pw.GitPushFilter(branches=["mainline", "release/**"], file_paths=pw.GitFilter(includes=["services/api/**"]))
        ],
    )
    return make_pipeline(source_action(), triggers=(trigger,))


def test_matching_commit_starts_exactly_one_execution(repo: Path) -> None:
    """A new commit touching an included path on an included branch starts one execution with that commit."""
    recorder = Recorder()
    watcher = Watcher(monorepo_pipeline(), recorder, sources={"ApplicationSource": repo})
    watcher.poll_once()  # baseline
    sha = commit(repo, {"services/api/app.py": "print(1)\n"})
    watcher.poll_once()
    watcher.poll_once()  # nothing new: no second start

    assert 1 == len(recorder.calls)
    revisions, trigger = recorder.calls[0]
    assert {"ApplicationSource": sha} == revisions
    assert "WebhookV2" == trigger.trigger_type
    assert "services/api/app.py" in trigger.detail


def test_commit_on_a_non_matching_path_starts_nothing(repo: Path) -> None:
    """A commit that only touches files outside the include starts nothing and says why."""
    recorder = Recorder()
    watcher = Watcher(monorepo_pipeline(), recorder, sources={"ApplicationSource": repo})
    watcher.poll_once()
    commit(repo, {"docs/guide.md": "docs\n"})
    decisions = watcher.poll_once()

    assert [] == recorder.calls
    assert [False] == [d.starts for d in decisions]
    assert "matches no include of ['services/api/**']" in decisions[0].reason


def test_new_release_branch_counts_only_its_own_commits(repo: Path) -> None:
    """A new branch is judged by the files of commits not already on a known ref."""
    recorder = Recorder()
    watcher = Watcher(monorepo_pipeline(), recorder, sources={"ApplicationSource": repo})
    commit(repo, {"services/api/old.py": "x\n"})
    watcher.poll_once()
    git(repo, "checkout", "-q", "-b", "release/1.2")
    commit(repo, {"web/index.html": "<p>\n"})
    git(repo, "checkout", "-q", "-b", "release/1.3")
    sha = commit(repo, {"services/api/new.py": "y\n"})
    watcher.poll_once()

    assert [{"ApplicationSource": sha}] == [c[0] for c in recorder.calls]


def test_tag_push_without_tag_filter_is_ignored_and_with_one_starts(repo: Path) -> None:
    """Tags start the pipeline only through a tags filter."""
    trigger = pw.Trigger(source_action_name="ApplicationSource", push=[pw.GitPushFilter(tags=["v*"])])
    recorder = Recorder()
    watcher = Watcher(
        make_pipeline(source_action(), triggers=(trigger,)), recorder, sources={"ApplicationSource": repo}
    )
    watcher.poll_once()
    commit(repo, {"a.txt": "a\n"})
    git(repo, "tag", "-a", "v1.0", "-m", "release")
    watcher.poll_once()

    assert [{"ApplicationSource": git(repo, "rev-parse", "HEAD")}] == [c[0] for c in recorder.calls]


def test_no_trigger_means_the_configured_branch_only(repo: Path) -> None:
    """Without a trigger, commits on BranchName start the pipeline and other branches do not."""
    recorder = Recorder()
    watcher = Watcher(make_pipeline(source_action()), recorder, sources={"ApplicationSource": repo})
    watcher.poll_once()
    git(repo, "checkout", "-q", "-b", "feature/x")
    commit(repo, {"a.txt": "1\n"})
    watcher.poll_once()
    git(repo, "checkout", "-q", "mainline")
    main_sha = commit(repo, {"b.txt": "2\n"})
    watcher.poll_once()

    assert [{"ApplicationSource": main_sha}] == [c[0] for c in recorder.calls]


def test_codecommit_source_polls(repo: Path) -> None:
    """A CodeCommit source with default polling records PollForSourceChanges as the trigger."""
    recorder = Recorder()
    pipeline = make_pipeline(source_action(provider="CodeCommit"))
    watcher = Watcher(pipeline, recorder, sources={"ApplicationSource": repo})
    watcher.poll_once()
    commit(repo, {"x": "1\n"})
    watcher.poll_once()

    assert ["PollForSourceChanges"] == [c[1].trigger_type for c in recorder.calls]


def test_unknown_source_action_or_non_repository_is_a_clear_error(tmp_path: Path, repo: Path) -> None:
    """Mapping an action that does not exist, or a folder that is not a repository, fails up front."""
    with pytest.raises(pw.DefinitionError, match="names 0 actions"):
        Watcher(monorepo_pipeline(), Recorder(), sources={"Nope": repo})
    with pytest.raises(pw.DefinitionError, match="is not a git repository"):
        Watcher(monorepo_pipeline(), Recorder(), sources={"ApplicationSource": tmp_path})


def test_watch_loop_stops_after_max_polls(repo: Path) -> None:
    """watch() blocks while polling and returns the watcher when told to stop."""
    watcher = watch(monorepo_pipeline(), Recorder(), sources={"ApplicationSource": repo}, interval=0.01, max_polls=3)

    assert [] == watcher.started


def test_watch_stop_from_another_thread(repo: Path) -> None:
    """stop() ends a running watch loop promptly."""
    watcher = Watcher(monorepo_pipeline(), Recorder(), sources={"ApplicationSource": repo}, interval=30)
    thread = threading.Thread(target=watcher.run)
    thread.start()
    watcher.stop()
    thread.join(timeout=5)

    assert not thread.is_alive()


# -- executors ----------------------------------------------------------------------------------


class OldExecutor:
    """An executor whose start() predates the trigger= keyword."""

    def __init__(self) -> None:
        self.kwargs: list[dict[str, Any]] = []

    def start(self, pipeline: pw.Pipeline, **kwargs: Any) -> None:
        self.kwargs.append(kwargs)


class NewExecutor:
    """An executor whose start() takes trigger=."""

    def __init__(self) -> None:
        self.kwargs: list[dict[str, Any]] = []

    def start(
        self,
        pipeline: pw.Pipeline,
        *,
        variables: Mapping[str, str] | None = None,
        source_revisions: Mapping[str, str] | None = None,
        trigger: TriggerInfo | None = None,
    ) -> None:
        self.kwargs.append({"source_revisions": source_revisions, "trigger": trigger})


def test_as_starter_passes_trigger_only_when_start_accepts_it() -> None:
    """Executors get trigger= when their start() takes it, and still work when it does not."""
    old, new = OldExecutor(), NewExecutor()
    info = TriggerInfo(trigger_type="Schedule")
    as_starter(old)(monorepo_pipeline(), {"A": "1"}, info)
    as_starter(new)(monorepo_pipeline(), {"A": "1"}, info)

    assert [{"source_revisions": {"A": "1"}}] == old.kwargs
    assert [{"source_revisions": {"A": "1"}, "trigger": info}] == new.kwargs


# -- cron ---------------------------------------------------------------------------------------


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("*/15 * * * *", "2026-01-01T10:07", "2026-01-01T10:15"),
        ("0 9 * * MON-FRI", "2026-01-02T09:00", "2026-01-05T09:00"),  # Friday 09:00 -> Monday
        ("30 2 1 * *", "2026-01-15T00:00", "2026-02-01T02:30"),
        ("0 0 29 2 *", "2026-03-01T00:00", "2028-02-29T00:00"),  # the next leap day
        ("0 12 13 * 5", "2026-02-01T00:00", "2026-02-06T12:00"),  # day-of-month OR Friday
        ("0 0 * * 7", "2026-01-01T00:00", "2026-01-04T00:00"),  # 7 is Sunday
        ("5-10/5 1 * jan,FEB *", "2026-01-31T23:59", "2026-02-01T01:05"),
    ],
)
def test_cron_next_firing(expression: str, after: str, expected: str) -> None:
    """The next firing time follows five-field cron rules, including names, steps and leap days."""
    assert at(expected) == CronSchedule.parse(expression).next_after(at(after))


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("* * * *", "found 4 field(s)"),
        ("60 * * * *", "minute 60 is outside 0-59"),
        ("* * * * FUNDAY", "not a number or name"),
        ("*/0 * * * *", "must be a positive number"),
        ("5-1 * * * *", "runs backwards"),
        ("0 0 31 2 *", "never fires"),
    ],
)
def test_bad_cron_is_rejected_with_the_field_named(expression: str, problem: str) -> None:
    """A malformed or impossible schedule raises DefinitionError naming the problem."""
    with pytest.raises(pw.DefinitionError) as info:
        CronSchedule.parse(expression).next_after(at("2026-01-01T00:00"))

    assert problem in str(info.value)


def test_schedule_starts_once_per_firing() -> None:
    """tick() arms on its first call, then starts exactly once per firing minute."""
    recorder = Recorder()
    watcher = Watcher(monorepo_pipeline(), recorder, schedule="*/10 * * * *")
    for minute in ("10:01", "10:05", "10:10", "10:10", "10:15", "10:31"):
        watcher.tick(at(f"2026-01-01T{minute}"))

    assert ["Schedule", "Schedule"] == [c[1].trigger_type for c in recorder.calls]
    assert "cron '*/10 * * * *' at 2026-01-01T10:10Z" == recorder.calls[0][1].detail


def test_unreadable_repository_is_reported_and_watching_goes_on(repo: Path, tmp_path: Path) -> None:
    """A repository that disappears is an error message, not the end of the watch."""
    import shutil

    errors: list[str] = []
    recorder = Recorder()
    watcher = Watcher(monorepo_pipeline(), recorder, sources={"ApplicationSource": repo}, on_error=errors.append)
    watcher.poll_once()
    moved = tmp_path / "moved"
    shutil.move(str(repo), str(moved))
    watcher.poll_once()
    shutil.move(str(moved), str(repo))
    sha = commit(repo, {"services/api/back.py": "1\n"})
    watcher.poll_once()

    assert 1 == len(errors)
    assert "polling ApplicationSource" in errors[0]
    assert [{"ApplicationSource": sha}] == [c[0] for c in recorder.calls]


def test_a_failing_start_is_reported_and_the_next_change_still_starts(repo: Path) -> None:
    """When the executor refuses a start (e.g. a missing handler), the watcher records it and carries on."""
    calls: list[str] = []

    def flaky(pipeline: pw.Pipeline, revisions: Mapping[str, str], trigger: TriggerInfo) -> str:
        calls.append(revisions["ApplicationSource"])
        if len(calls) == 1:
            raise pw.HandlerNotFoundError("no handler for Build/Build")
        return "ok"

    watcher = Watcher(monorepo_pipeline(), flaky, sources={"ApplicationSource": repo})
    watcher.poll_once()
    commit(repo, {"services/api/a.py": "1\n"})
    watcher.poll_once()
    second = commit(repo, {"services/api/b.py": "2\n"})
    watcher.poll_once()

    assert 2 == len(calls)
    assert ["starting an execution (WebhookV2) failed: no handler for Build/Build"] == watcher.errors
    assert [second] == [s.decision.revision for s in watcher.started if s.decision]


def test_polling_off_needs_event_wiring_to_start(repo: Path) -> None:
    """A CodeCommit source with PollForSourceChanges 'false' starts only when its rule is assumed deployed."""
    pipeline = make_pipeline(source_action(provider="CodeCommit", config={"PollForSourceChanges": "false"}))
    plain, wired = Recorder(), Recorder()
    watchers = [
        Watcher(pipeline, plain, sources={"ApplicationSource": repo}),
        Watcher(pipeline, wired, sources={"ApplicationSource": repo}, event_wiring=True),
    ]
    for w in watchers:
        w.poll_once()
    commit(repo, {"x.txt": "1\n"})
    for w in watchers:
        w.poll_once()

    assert ([], ["CloudWatchEvent"]) == (
        [c[1].trigger_type for c in plain.calls],
        [c[1].trigger_type for c in wired.calls],
    )


S3_SOURCE_CONFIG = {"S3Bucket": "src-bucket", "S3ObjectKey": "app.zip"}


def s3_pipeline(**config: str) -> pw.Pipeline:
    action = pw.Action(
        name="ApplicationSource",
        action_type=pw.ActionType(category="Source", provider="S3"),
        configuration={**S3_SOURCE_CONFIG, **config},
        outputs=[pw.Artifact("SourceOutput")],
    )
    return make_pipeline(action)


def test_s3_source_folder_change_starts_by_polling(tmp_path: Path) -> None:
    """A folder standing in for an S3 object: a content change starts one execution (PollForSourceChanges)."""
    folder = tmp_path / "object"
    folder.mkdir()
    (folder / "app.py").write_text("v1\n")
    recorder = Recorder()
    watcher = Watcher(s3_pipeline(), recorder, sources={"ApplicationSource": folder})
    watcher.poll_once()
    watcher.poll_once()  # unchanged: nothing
    (folder / "app.py").write_text("v2\n")
    watcher.poll_once()

    assert [({}, "PollForSourceChanges")] == [(c[0], c[1].trigger_type) for c in recorder.calls]


def test_s3_source_with_polling_off_waits_for_its_rule(tmp_path: Path) -> None:
    """PollForSourceChanges 'false': a change starts nothing unless the EventBridge rule is assumed."""
    zipped = tmp_path / "app.zip"
    zipped.write_bytes(b"PK-one")
    plain, wired = Recorder(), Recorder()
    pipeline = s3_pipeline(PollForSourceChanges="false")
    watchers = [
        Watcher(pipeline, plain, sources={"ApplicationSource": zipped}),
        Watcher(pipeline, wired, sources={"ApplicationSource": zipped}, event_wiring=True),
    ]
    for w in watchers:
        w.poll_once()
    zipped.write_bytes(b"PK-two")
    decisions = [w.poll_once() for w in watchers]

    assert ([], ["CloudWatchEvent"]) == (
        [c[1].trigger_type for c in plain.calls],
        [c[1].trigger_type for c in wired.calls],
    )
    assert "no EventBridge rule is assumed" in decisions[0][0].reason


def test_evaluate_object_change_needs_an_s3_source() -> None:
    """Asking about an object change of a git source is a definition error."""
    from pipeweaver._triggers import evaluate_object_change

    with pytest.raises(pw.DefinitionError, match="must name an S3 source action"):
        evaluate_object_change(monorepo_pipeline(), "ApplicationSource")
