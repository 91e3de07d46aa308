"""LocalExecutor end to end: real git repositories, real shells, real zips, real SQLite."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

import pipeweaver as pw
from pipeweaver.errors import ExecutionError, HandlerNotFoundError, ValidationError
from pipeweaver.execution import (
    ActionContext,
    ActionFailed,
    ActionResult,
    ActionStatus,
    Event,
    ExecutionStatus,
    LocalExecutor,
    LogLine,
)
from pipeweaver.execution._artifacts import file_sha256

from .conftest import approval, commands, commit, custom, pipeline, source_action

SRC = pw.Artifact("SourceOutput")


def _zip_files(path: str) -> dict[str, bytes]:
    with zipfile.ZipFile(path.removeprefix("file://")) as zf:
        return {n: zf.read(n) for n in zf.namelist() if not n.endswith("/")}


def test_artifacts_pass_between_stages_with_matching_hashes(tmp_path: Path, repo: Path) -> None:
    """A build output zipped in one stage is what the next stage extracts; hashes match the files on disk."""
    built = pw.Artifact("Built", files=["dist/**/*"])
    seen: dict[str, str] = {}

    def deploy(ctx: ActionContext) -> None:
        seen.update(
            {
                p.relative_to(ctx.inputs["Built"]).as_posix(): p.read_text()
                for p in ctx.inputs["Built"].rglob("*")
                if p.is_file()
            }
        )

    p = pipeline(
        pw.Stage(name="Source", actions=[source_action()]),
        pw.Stage(
            name="Build",
            actions=[commands("Build", ["mkdir -p dist", "cp app.py dist/app.py"], inputs=[SRC], outputs=[built])],
        ),
        pw.Stage(name="Deploy", actions=[custom("Deploy", inputs=[built])]),
    )
    x = LocalExecutor(tmp_path / "wd", sources={"Source": repo}, handlers={"Deploy/Deploy": deploy})

    e = x.run(p)

    assert ExecutionStatus.SUCCEEDED == e.status
    assert {"SourceOutput", "Built"} == set(e.artifacts)
    for ref in e.artifacts.values():
        assert file_sha256(Path(ref.uri.removeprefix("file://"))) == ref.sha256
    assert {"dist/app.py": b"print('hello')\n"} == _zip_files(e.artifacts["Built"].uri)
    assert {"dist/app.py": "print('hello')\n"} == seen
    assert e.artifacts == x.history_store.load(e.id).artifacts


def test_variables_flow_from_the_source_into_a_later_command(tmp_path: Path, repo: Path) -> None:
    """CommitId from the git source reaches a command through #{SourceVariables.CommitId}; outputVariables export."""
    head = commit(repo, {"VERSION": "2.0\n"}, "bump version\n\nlonger body")
    p = pipeline(
        pw.Stage(name="Source", actions=[source_action()]),
        pw.Stage(
            name="Build",
            actions=[
                commands(
                    "Stamp",
                    ["export STAMP=#{SourceVariables.CommitId}-$(cat VERSION)", "echo stamped $STAMP"],
                    inputs=[SRC],
                    output_variables=["STAMP"],
                    namespace="Build",
                ),
                commands(
                    "Show",
                    ["echo got #{Build.STAMP} run #{codepipeline.PipelineExecutionId}"],
                    inputs=[SRC],
                    run_order=2,
                ),
            ],
        ),
    )
    x = LocalExecutor(tmp_path / "wd", sources={"Source": repo})

    e = x.run(p)

    assert ExecutionStatus.SUCCEEDED == e.status
    source = e.action("Source", "Source")
    assert head == source.output_variables["CommitId"]
    assert "bump version\n\nlonger body" == source.output_variables["CommitMessage"]
    assert "main" == source.output_variables["BranchName"]
    assert "acme/web" == source.output_variables["FullRepositoryName"]
    assert {"STAMP": f"{head}-2.0"} == dict(e.action("Build", "Stamp").output_variables)
    show = e.action("Build", "Show")
    assert show.log_file is not None
    assert f"got {head}-2.0 run {e.id}" in Path(show.log_file).read_text()


def test_source_revision_override_fetches_that_commit(tmp_path: Path, repo: Path) -> None:
    """source_revisions runs an older commit instead of the branch head."""
    first = commit(repo, {"v.txt": "one"}, "one")
    commit(repo, {"v.txt": "two"}, "two")
    p = pipeline(
        pw.Stage(name="Source", actions=[source_action()]),
        pw.Stage(name="Read", actions=[commands("Read", ['test "$(cat v.txt)" = one'], inputs=[SRC])]),
    )

    e = LocalExecutor(tmp_path / "wd", sources={"Source": repo}).run(p, source_revisions={"Source": first})

    assert ExecutionStatus.SUCCEEDED == e.status
    assert first == e.action("Source", "Source").output_variables["CommitId"]


def test_a_failing_test_blocks_deploy(tmp_path: Path, repo: Path) -> None:
    """When the test action fails, its stage and the execution fail and the deploy stage never runs."""
    p = pipeline(
        pw.Stage(name="Source", actions=[source_action()]),
        pw.Stage(name="Test", actions=[commands("UnitTests", ["echo running tests", "exit 3"], inputs=[SRC])]),
        pw.Stage(name="Deploy", actions=[custom("Deploy")]),
    )
    deployed: list[str] = []
    x = LocalExecutor(
        tmp_path / "wd", sources={"Source": repo}, handlers={"Deploy/Deploy": lambda ctx: deployed.append("x")}
    )

    e = x.run(p)

    assert ExecutionStatus.FAILED == e.status
    assert ActionStatus.FAILED == e.action("Test", "UnitTests").status
    assert "Error while executing command: exit 3. Reason: exit status 3" in (e.action("Test", "UnitTests").error or "")
    assert not e.ran("Deploy", "Deploy")
    assert [] == deployed
    assert ExecutionStatus.FAILED == x.history_store.load(e.id).status


def test_running_siblings_finish_and_no_later_wave_starts(tmp_path: Path) -> None:
    """A failed action lets its running sibling finish; the next runOrder wave never starts."""
    started = threading.Event()

    def slow(ctx: ActionContext) -> ActionResult:
        started.set()
        time.sleep(0.3)
        return ActionResult(summary="slow done")

    def fail(ctx: ActionContext) -> None:
        started.wait(5)
        raise ActionFailed("boom")

    p = pipeline(
        pw.Stage(
            name="One", actions=[custom("Slow", "Slow"), custom("Fail", "Fail"), custom("Later", "Later", run_order=2)]
        ),
        pw.Stage(name="Two", actions=[custom("Never", "Later")]),
    )
    t = {p: pw.ActionType(category="Build", owner="Custom", provider=p) for p in ("Slow", "Fail", "Later")}
    x = LocalExecutor(
        tmp_path / "wd", handlers={t["Slow"]: slow, t["Fail"]: fail, t["Later"]: lambda ctx: None}, validate=False
    )

    e = x.run(p)

    assert ExecutionStatus.FAILED == e.status
    assert ActionStatus.SUCCEEDED == e.action("One", "Slow").status
    assert "boom" == e.action("One", "Fail").error
    assert not e.ran("One", "Later")
    assert not e.ran("Two", "Never")


def test_equal_run_order_runs_concurrently_and_waves_wait(tmp_path: Path) -> None:
    """Actions with the same runOrder overlap in time; the next wave starts after both end."""
    spans: dict[str, tuple[float, float]] = {}

    def timed(ctx: ActionContext) -> None:
        start = time.monotonic()
        time.sleep(0.2)
        spans[ctx.action.name] = (start, time.monotonic())

    p = pipeline(
        pw.Stage(name="S1", actions=[custom("A"), custom("B"), custom("C", run_order=2)]),
        pw.Stage(name="S2", actions=[custom("D")]),
    )
    x = LocalExecutor(tmp_path / "wd", handlers={"Build/Custom/Fake/1": timed}, validate=False)

    e = x.run(p)

    assert e.succeeded
    assert spans["A"][0] < spans["B"][1]
    assert spans["B"][0] < spans["A"][1]
    assert spans["C"][0] >= max(spans["A"][1], spans["B"][1])
    assert spans["D"][0] >= spans["C"][1]


def test_a_rejected_approval_fails_the_execution(tmp_path: Path) -> None:
    """A rejecting approval policy fails the approval action and stops the pipeline there."""
    p = pipeline(
        pw.Stage(name="Gate", actions=[approval(configuration={"CustomData": "ship it?"})]),
        pw.Stage(name="Deploy", actions=[custom("Deploy")]),
    )
    x = LocalExecutor(tmp_path / "wd", approval="reject", handlers={"Deploy/Deploy": lambda ctx: None}, validate=False)

    e = x.run(p)

    assert ExecutionStatus.FAILED == e.status
    assert e.action("Gate", "Approve").error is not None
    assert e.action("Gate", "Approve").error.startswith("Rejected by policy")
    assert not e.ran("Deploy", "Deploy")
    assert ["Rejected"] == [a["event"] for a in x.audit(e.id)]


@pytest.mark.parametrize(
    "policy", ["wait", None, lambda request: None], ids=["wait", "none", "callable-answering-none"]
)
def test_approval_through_the_handle_records_who(tmp_path: Path, policy: Any) -> None:
    """A policy that leaves approvals waiting ('wait', None, a callable answering None): the handle approves; the audit trail names the approver."""
    p = pipeline(pw.Stage(name="Gate", actions=[approval()]), pw.Stage(name="After", actions=[custom("After")]))
    requests: list[Event] = []
    x = LocalExecutor(
        tmp_path / "wd",
        approval=policy,
        observers=[requests.append],
        handlers={"After/After": lambda ctx: None},
        validate=False,
    )

    handle = x.start(p)
    from .conftest import wait_until

    wait_until(lambda: handle.pending_approvals() == ["Gate/Approve"])
    handle.approve("Gate", "Approve", "looks good", by="grace")
    e = handle.wait(20)

    assert e.succeeded
    assert "Approved by grace: looks good" == e.action("Gate", "Approve").summary
    assert [("grace", "Approved", "Gate", "Approve")] == [
        (a["actor"], a["event"], a["stage"], a["action"]) for a in x.audit(e.id)
    ]
    assert 1 == sum(1 for ev in requests if type(ev).__name__ == "ApprovalRequested")


def test_another_executor_on_the_same_workdir_can_approve(tmp_path: Path) -> None:
    """An approval can be answered through the history by another LocalExecutor (another process in the CLI)."""
    p = pipeline(pw.Stage(name="Gate", actions=[approval()]), pw.Stage(name="After", actions=[custom("After")]))
    runner = LocalExecutor(tmp_path / "wd", handlers={"After/After": lambda ctx: None}, validate=False)
    handle = runner.start(p)
    from .conftest import wait_until

    wait_until(lambda: handle.pending_approvals() == ["Gate/Approve"])
    other = LocalExecutor(tmp_path / "wd")

    with pytest.raises(ExecutionError, match="no approval is waiting"):
        other.approve(handle.id, "Gate", "Nope", by="cli")
    other.approve(handle.id, "Gate", "Approve", "from the cli", by="cli")
    e = handle.wait(20)

    assert e.succeeded
    assert "Approved by cli: from the cli" == e.action("Gate", "Approve").summary


def test_missing_handlers_are_reported_before_anything_runs(tmp_path: Path) -> None:
    """HandlerNotFoundError names every action without a handler and how to register one; no history is written."""
    p = pipeline(
        pw.Stage(name="A", actions=[custom("Mystery", "Mystery"), custom("Other", "Other")]),
        pw.Stage(name="B", actions=[custom("Fine")]),
    )
    x = LocalExecutor(tmp_path / "wd", handlers={"Build/Custom/Fake/1": lambda ctx: None}, validate=False)

    with pytest.raises(HandlerNotFoundError) as info:
        x.run(p)

    text = str(info.value)
    assert "A/Mystery" in text
    assert "A/Other" in text
    assert "LocalExecutor(handlers=" in text
    assert [] == x.history()


def test_invalid_pipelines_are_refused(tmp_path: Path) -> None:
    """With validation on, a pipeline breaking AWS's rules raises ValidationError and nothing runs."""
    p = pipeline(
        pw.Stage(name="A", actions=[custom("Uses", inputs=[pw.Artifact("NeverProduced")])]),
        pw.Stage(name="B", actions=[custom("Fine")]),
    )
    x = LocalExecutor(tmp_path / "wd", handlers={"Build/Custom/Fake/1": lambda ctx: None})

    with pytest.raises(ValidationError) as info:
        x.run(p)

    assert info.value.issues
    assert [] == x.history()


def test_missing_local_source_is_reported_up_front(tmp_path: Path) -> None:
    """A git source without a configured local path fails before the execution starts, saying how to fix it."""
    p = pipeline(
        pw.Stage(name="Source", actions=[source_action()]),
        pw.Stage(name="Build", actions=[commands("B", ["true"], inputs=[SRC])]),
    )

    with pytest.raises(ExecutionError, match=r"sources=\{'Source'"):
        LocalExecutor(tmp_path / "wd").run(p)


def test_secrets_never_reach_logs_history_or_events(tmp_path: Path, repo: Path) -> None:
    """SECRETS_MANAGER values and registered secrets are masked in the log, events, history and reprs."""
    secret, extra = "s3cr3t-Value-123", "registered-9876"
    p = pipeline(
        pw.Stage(name="Source", actions=[source_action()]),
        pw.Stage(
            name="Build",
            actions=[
                commands(
                    "Leak",
                    ["echo token=$TOKEN", f"echo also {extra}", "export OUT=$TOKEN"],
                    inputs=[SRC],
                    output_variables=["OUT"],
                    environment_variables=[
                        pw.EnvironmentVariable(name="TOKEN", value="prod/token", type="SECRETS_MANAGER")
                    ],
                )
            ],
        ),
    )
    lines: list[str] = []
    x = LocalExecutor(
        tmp_path / "wd",
        sources={"Source": repo},
        secrets={"prod/token": secret, "unused": extra},
        observers=[lambda ev: lines.append(ev.line) if isinstance(ev, LogLine) else None],
    )

    e = x.run(p)

    assert e.succeeded
    leak = e.action("Build", "Leak")
    log = Path(leak.log_file or "").read_text()
    assert "token=****" in log
    assert "also ****" in log
    assert secret not in log
    assert extra not in log
    assert not any(secret in line or extra in line for line in lines)
    assert {"OUT": "****"} == dict(leak.output_variables)
    assert secret not in repr(e)
    assert secret not in repr(x.masker)
    db = (tmp_path / "wd" / "history.sqlite3").read_bytes() + b"".join(
        p.read_bytes() for p in (tmp_path / "wd").glob("history.sqlite3-*")
    )
    assert secret.encode() not in db


def test_codebuild_runs_buildspec_phases_with_finally_and_artifacts(tmp_path: Path, repo: Path) -> None:
    """CodeBuild: phases in order, finally after a failure, post_build after a failed build, env and artifacts."""
    buildspec = """
version: 0.2
env:
  variables:
    GREETING: hi
  exported-variables: [RESULT]
phases:
  install:
    commands: ["echo install $GREETING $FROM_CONFIG"]
  build:
    commands:
      - mkdir -p out/nested
      - echo built > out/nested/result.txt
      - export RESULT=ok
    finally:
      - echo build-finally
  post_build:
    commands: ["echo post $CODEBUILD_BUILD_SUCCEEDING"]
artifacts:
  files: ["**/*"]
  base-directory: out
  discard-paths: yes
"""
    commit(repo, {"buildspec.yml": buildspec}, "add buildspec")
    built = pw.Artifact("Built")
    p = pipeline(
        pw.Stage(name="Source", actions=[source_action()]),
        pw.Stage(
            name="Build",
            actions=[
                pw.Action(
                    name="Build",
                    action_type=pw.ActionType(category="Build", provider="CodeBuild"),
                    configuration={
                        "ProjectName": "web",
                        "EnvironmentVariables": json.dumps([{"name": "FROM_CONFIG", "value": "cfg"}]),
                    },
                    inputs=[SRC],
                    outputs=[built],
                    namespace="B",
                )
            ],
        ),
    )

    e = LocalExecutor(tmp_path / "wd", sources={"Source": repo}).run(p)

    assert e.succeeded, e.status_summary
    build = e.action("Build", "Build")
    log = Path(build.log_file or "").read_text().splitlines()
    assert ["install hi cfg", "build-finally", "post 1"] == [
        line for line in log if not line.startswith("[pipeweaver]")
    ]
    assert {"RESULT": "ok"} == dict(build.output_variables)
    assert {"result.txt": b"built\n"} == _zip_files(e.artifacts["Built"].uri)


def test_codebuild_failed_build_still_runs_post_build_then_fails(tmp_path: Path, repo: Path) -> None:
    """A failing build phase runs its finally and post_build (with CODEBUILD_BUILD_SUCCEEDING=0), then fails."""
    spec = {
        "version": 0.2,
        "phases": {
            "pre_build": {"commands": ["echo pre"]},
            "build": {"commands": ["echo one", "false", "echo never"], "finally": ["echo fin"]},
            "post_build": {"commands": ["echo post $CODEBUILD_BUILD_SUCCEEDING"]},
        },
    }
    p = pipeline(
        pw.Stage(name="Source", actions=[source_action()]),
        pw.Stage(
            name="Test",
            actions=[
                pw.Action(
                    name="T",
                    action_type=pw.ActionType(category="Test", provider="CodeBuild"),
                    configuration={"ProjectName": "tests"},
                    inputs=[SRC],
                )
            ],
        ),
    )

    e = LocalExecutor(tmp_path / "wd", sources={"Source": repo}, buildspecs={"tests": spec}).run(p)

    action = e.action("Test", "T")
    log = [line for line in Path(action.log_file or "").read_text().splitlines() if not line.startswith("[pipeweaver]")]
    assert ExecutionStatus.FAILED == e.status
    assert (
        "build failed in phase build (project tests): COMMAND_EXECUTION_ERROR: Error while executing command: false. "
        "Reason: exit status 1"
    ) == action.error
    assert ["pre", "one", "fin", "post 0"] == log


def test_secondary_inputs_are_at_codebuild_src_dir_name(tmp_path: Path, repo: Path, tmp_path_factory: Any) -> None:
    """A Commands action sees its secondary input at CODEBUILD_SRC_DIR_<name>."""
    other = tmp_path / "other"
    other.mkdir()
    from .conftest import git

    git(other, "init", "-q", "-b", "main")
    commit(other, {"lib.txt": "library"}, "lib")
    lib = pw.Artifact("LibOut")
    p = pipeline(
        pw.Stage(name="Source", actions=[source_action(), source_action("Lib", "LibVars", "LibOut")]),
        pw.Stage(
            name="Build",
            actions=[
                commands(
                    "Both",
                    ["cat app.py", 'test "$(cat $CODEBUILD_SRC_DIR_LibOut/lib.txt)" = library'],
                    inputs=[SRC, lib],
                )
            ],
        ),
    )

    e = LocalExecutor(tmp_path / "wd", sources={"Source": repo, "Lib": other}).run(p)

    assert e.succeeded, e.status_summary


def test_lambda_invoke_gets_a_job_event_and_puts_variables(tmp_path: Path) -> None:
    """The function gets a CodePipeline.job event with its UserParameters; the output variables it puts
    with PutJobSuccessResult are the action's (tests/conformance/test_lambda_invoke.py has the rest)."""
    import boto3

    events: list[dict[str, Any]] = []
    client = boto3.client("codepipeline", region_name="us-east-1")

    def fn(event: dict[str, Any], context: object) -> None:
        events.append(event)
        client.put_job_success_result(jobId=event["CodePipeline.job"]["id"], outputVariables={"answer": "42"})

    p = pipeline(
        pw.Stage(
            name="A",
            actions=[
                pw.Action(
                    name="Invoke",
                    action_type=pw.ActionType(category="Invoke", provider="Lambda"),
                    configuration={
                        "FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:calc",
                        "UserParameters": "x=1",
                    },
                    namespace="L",
                )
            ],
        ),
        pw.Stage(name="B", actions=[commands("Use", ["test #{L.answer} = 42"], inputs=[])]),
    )

    e = LocalExecutor(tmp_path / "wd", functions={"calc": fn}, validate=False).run(p)

    assert e.succeeded, e.status_summary
    assert "x=1" == events[0]["CodePipeline.job"]["data"]["actionConfiguration"]["configuration"]["UserParameters"]
    assert {"answer": "42"} == dict(e.action("A", "Invoke").output_variables)


def test_s3_deploy_and_simulated_cloudformation(tmp_path: Path, repo: Path) -> None:
    """S3 deploy writes into the local bucket folder; CloudFormation is a labelled simulation that checks the template."""
    commit(
        repo,
        {
            "template.yaml": "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Ref Name\n"
        },
        "tpl",
    )
    cfn = pw.ActionType(category="Deploy", provider="CloudFormation")

    def stack(name: str, template: str) -> pw.Action:
        return pw.Action(
            name=name,
            action_type=cfn,
            configuration={
                "ActionMode": "CREATE_UPDATE",
                "StackName": "web",
                "TemplatePath": template,
                "RoleArn": "arn:aws:iam::123456789012:role/cfn",
            },
            inputs=[SRC],
        )

    p = pipeline(
        pw.Stage(name="Source", actions=[source_action()]),
        pw.Stage(
            name="Deploy",
            actions=[
                pw.Action(
                    name="Site",
                    action_type=pw.ActionType(category="Deploy", provider="S3"),
                    configuration={"BucketName": "www", "Extract": "true"},
                    inputs=[SRC],
                ),
                stack("Stack", "SourceOutput::template.yaml"),
            ],
        ),
        pw.Stage(name="Broken", actions=[stack("Missing", "SourceOutput::nope.yaml")]),
    )
    x = LocalExecutor(tmp_path / "wd", sources={"Source": repo}, buckets={"www": tmp_path / "bucket"})

    e = x.run(p)

    assert "print('hello')\n" == (tmp_path / "bucket" / "app.py").read_text()
    assert (e.action("Deploy", "Stack").summary or "").startswith("simulated: CloudFormation CREATE_UPDATE stack web")
    assert "1 resources" in (e.action("Deploy", "Stack").summary or "")
    assert ExecutionStatus.FAILED == e.status
    assert "'nope.yaml' is not in artifact 'SourceOutput'" in (e.action("Broken", "Missing").error or "")
    recorded = [json.loads(line) for line in (tmp_path / "wd" / "simulated-deployments.jsonl").read_text().splitlines()]
    assert [("Deploy", "Stack", True)] == [(r["stage"], r["action"], r["simulated"]) for r in recorded]


def test_s3_and_ecr_sources(tmp_path: Path) -> None:
    """An S3 source reads a local zip; an ECR source publishes imageDetail.json from a configured digest."""
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "index.html").write_text("<h1>hi</h1>")
    archive = tmp_path / "site.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(folder / "index.html", "index.html")
    digest = "sha256:" + "ab" * 32
    p = pipeline(
        pw.Stage(
            name="Source",
            actions=[
                pw.Action(
                    name="Site",
                    action_type=pw.ActionType(category="Source", provider="S3"),
                    configuration={"S3Bucket": "b", "S3ObjectKey": "site.zip"},
                    outputs=[pw.Artifact("SiteOut")],
                    namespace="S3V",
                ),
                pw.Action(
                    name="Image",
                    action_type=pw.ActionType(category="Source", provider="ECR"),
                    configuration={"RepositoryName": "web"},
                    outputs=[pw.Artifact("ImageOut")],
                    namespace="ImgV",
                ),
            ],
        ),
        pw.Stage(
            name="Check",
            actions=[
                commands(
                    "Check",
                    [
                        "grep -q hi index.html",
                        "grep -q #{ImgV.ImageDigest} $CODEBUILD_SRC_DIR_ImageOut/imageDetail.json",
                    ],
                    inputs=[pw.Artifact("SiteOut"), pw.Artifact("ImageOut")],
                )
            ],
        ),
    )

    e = LocalExecutor(tmp_path / "wd", sources={"Site": archive, "Image": digest}).run(p)

    assert e.succeeded, e.status_summary
    assert "site.zip" == e.action("Source", "Site").output_variables["ObjectKey"]
    assert digest == e.action("Source", "Image").output_variables["ImageDigest"]


def test_history_survives_a_new_executor(tmp_path: Path) -> None:
    """Executions, stages, actions and attempts are read back from SQLite by a fresh executor."""
    p = pipeline(pw.Stage(name="A", actions=[custom("One")]), pw.Stage(name="B", actions=[custom("Two")]))
    handlers = {"Build/Custom/Fake/1": lambda ctx: ActionResult(output_variables={"k": "v"}, summary="done")}
    first = LocalExecutor(tmp_path / "wd", handlers=handlers, validate=False)
    e1 = first.run(p)
    e2 = first.run(p)
    first.close()

    fresh = LocalExecutor(tmp_path / "wd")
    listed = fresh.history("demo")

    assert [e2.id, e1.id] == [e.id for e in listed]
    assert e1 == fresh.execution(e1.id)
    assert [e2.id] == [e.id for e in fresh.history("demo", limit=1)]
    assert [e2.id, e1.id] == [e.id for e in fresh.history(succeeded_in_stage="B")]
    with sqlite3.connect(tmp_path / "wd" / "history.sqlite3") as db:
        assert "wal" == db.execute("PRAGMA journal_mode").fetchone()[0]


def test_observers_receive_typed_events_in_order(tmp_path: Path) -> None:
    """Observers see ExecutionStarted, stage and action events, then ExecutionFinished with the record."""
    got: list[Event] = []
    p = pipeline(pw.Stage(name="A", actions=[custom("One")]), pw.Stage(name="B", actions=[custom("Two")]))
    x = LocalExecutor(
        tmp_path / "wd",
        handlers={"Build/Custom/Fake/1": lambda ctx: ctx.log("hello")},
        observers=[got.append],
        validate=False,
    )

    e = x.run(p)

    names = [type(ev).__name__ for ev in got]
    assert [
        "ExecutionStarted",
        "StageStarted",
        "ActionStarted",
        "LogLine",
        "ActionFinished",
        "StageFinished",
        "StageStarted",
        "ActionStarted",
        "LogLine",
        "ActionFinished",
        "StageFinished",
        "ExecutionFinished",
    ] == names
    assert e == got[-1].execution  # type: ignore[union-attr]


def test_handle_events_replays_the_whole_execution(tmp_path: Path) -> None:
    """handle.events() yields every event from the start, ending with ExecutionFinished."""
    p = pipeline(pw.Stage(name="A", actions=[custom("One")]), pw.Stage(name="B", actions=[custom("Two")]))
    x = LocalExecutor(tmp_path / "wd", handlers={"Build/Custom/Fake/1": lambda ctx: None}, validate=False)
    handle = x.start(p)

    names = [type(ev).__name__ for ev in handle.events(timeout=20)]

    assert "ExecutionStarted" == names[0]
    assert "ExecutionFinished" == names[-1]
    assert 2 == names.count("ActionFinished")


def test_handler_context_repr_hides_secrets(tmp_path: Path) -> None:
    """A handler's ActionContext carries the secret value but its repr does not show it."""
    seen: dict[str, str] = {}

    def grab(ctx: ActionContext) -> None:
        if ctx.action.name == "Uses":
            seen["env"] = ctx.environment["API_KEY"]
            seen["repr"] = repr(ctx)

    action = custom(
        "Uses", environment_variables=[pw.EnvironmentVariable(name="API_KEY", value="api/key", type="SECRETS_MANAGER")]
    )
    p = pipeline(pw.Stage(name="A", actions=[action]), pw.Stage(name="B", actions=[custom("Two")]))
    x = LocalExecutor(
        tmp_path / "wd", handlers={"Build/Custom/Fake/1": grab}, secrets={"api/key": "k-123456"}, validate=False
    )

    assert x.run(p).succeeded
    assert "k-123456" == seen["env"]
    assert "k-123456" not in seen["repr"]


def test_missing_secret_fails_the_action_with_a_fix(tmp_path: Path) -> None:
    """A SECRETS_MANAGER variable whose secret is not in the local store fails the action, saying how to add it."""
    action = commands(
        "Uses",
        ["true"],
        inputs=[],
        environment_variables=[pw.EnvironmentVariable(name="K", value="nope", type="SECRETS_MANAGER")],
    )
    p = pipeline(pw.Stage(name="A", actions=[action]), pw.Stage(name="B", actions=[custom("Two")]))

    e = LocalExecutor(tmp_path / "wd", handlers={"Build/Custom/Fake/1": lambda ctx: None}, validate=False).run(p)

    assert ExecutionStatus.FAILED == e.status
    assert "secret 'nope' is not in the local secret store; give it with --secret-file FILE" in (
        e.action("A", "Uses").error or ""
    )


def test_codebuild_secondary_artifacts_fill_each_output(tmp_path: Path, repo: Path) -> None:
    """With two outputs, each is filled from buildspec secondary-artifacts keyed by the output artifact name."""
    spec = {
        "version": 0.2,
        "phases": {"build": {"commands": ["mkdir -p web api", "echo w > web/index.html", "echo a > api/main.py"]}},
        "artifacts": {
            "secondary-artifacts": {
                "WebOut": {"files": ["**/*"], "base-directory": "web"},
                "ApiOut": {"files": ["api/main.py"]},
            }
        },
    }
    p = pipeline(
        pw.Stage(name="Source", actions=[source_action()]),
        pw.Stage(
            name="Build",
            actions=[
                pw.Action(
                    name="Build",
                    action_type=pw.ActionType(category="Build", provider="CodeBuild"),
                    configuration={"ProjectName": "multi", "PrimarySource": "SourceOutput"},
                    inputs=[SRC],
                    outputs=[pw.Artifact("WebOut"), pw.Artifact("ApiOut")],
                )
            ],
        ),
    )

    e = LocalExecutor(tmp_path / "wd", sources={"Source": repo}, buildspecs={"multi": spec}).run(p)

    assert e.succeeded, e.status_summary
    assert {"index.html": b"w\n"} == _zip_files(e.artifacts["WebOut"].uri)
    assert {"api/main.py": b"a\n"} == _zip_files(e.artifacts["ApiOut"].uri)


def test_continuation_tokens_call_the_handler_again(tmp_path: Path) -> None:
    """A handler returning a continuation token is called again with it until it returns none."""
    tokens: list[str | None] = []

    def progressive(ctx: ActionContext) -> ActionResult:
        tokens.append(ctx.continuation_token)
        if len(tokens) < 3:
            return ActionResult(continuation_token=f"step-{len(tokens)}")
        return ActionResult(summary="finished", output_variables={"steps": str(len(tokens))})

    p = pipeline(pw.Stage(name="A", actions=[custom("Long")]), pw.Stage(name="B", actions=[custom("Next")]))
    handlers = {"A/Long": progressive, "Build/Custom/Fake/1": lambda ctx: None}

    e = LocalExecutor(tmp_path / "wd", handlers=handlers, validate=False).run(p)

    assert [None, "step-1", "step-2"] == tokens
    assert {"steps": "3"} == dict(e.action("A", "Long").output_variables)


def test_prompt_policy_asks_on_the_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """approval='prompt' asks with input(); 'y' approves and the answer is recorded."""
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    p = pipeline(pw.Stage(name="Gate", actions=[approval()]), pw.Stage(name="B", actions=[custom("Next")]))

    e = LocalExecutor(
        tmp_path / "wd", approval="prompt", handlers={"Build/Custom/Fake/1": lambda ctx: None}, validate=False
    ).run(p)

    assert e.succeeded
    assert (e.action("Gate", "Approve").summary or "").startswith("Approved by ")


def test_a_hostile_source_archive_fails_the_action_and_writes_nothing_outside(tmp_path: Path) -> None:
    """An S3 source zip with a traversal entry fails its action naming the entry; no file escapes the workspace."""
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ok.txt", "fine")
        zf.writestr("../../escaped.txt", "gotcha")
    p = pipeline(
        pw.Stage(
            name="Source",
            actions=[
                pw.Action(
                    name="Obj",
                    action_type=pw.ActionType(category="Source", provider="S3"),
                    configuration={"S3Bucket": "b", "S3ObjectKey": "evil.zip"},
                    outputs=[pw.Artifact("ObjOut")],
                )
            ],
        ),
        pw.Stage(name="Use", actions=[commands("Use", ["true"], inputs=[pw.Artifact("ObjOut")])]),
    )

    e = LocalExecutor(tmp_path / "wd", sources={"Obj": archive}).run(p)

    assert ExecutionStatus.FAILED == e.status
    assert "entry '../../escaped.txt' climbs out of the workspace" in (e.action("Source", "Obj").error or "")
    assert [] == list(tmp_path.rglob("escaped.txt"))


@pytest.mark.parametrize(
    ("provider", "configuration", "files", "expected"),
    [
        (
            "ECS",
            {"ClusterName": "c", "ServiceName": "s"},
            {"imagedefinitions.json": '[{"name": "web", "imageUri": "r/web:1"}]'},
            "simulated: ECS service s on cluster c with images ['web=r/web:1']",
        ),
        (
            "ECS",
            {"ClusterName": "c", "ServiceName": "s"},
            {"imagedefinitions.json": "{not json"},
            "imagedefinitions.json must be a JSON list",
        ),
        ("ECS", {"ClusterName": "c", "ServiceName": "s"}, {}, "imagedefinitions.json is not in the input artifact"),
        (
            "CodeDeploy",
            {"ApplicationName": "a", "DeploymentGroupName": "g"},
            {"appspec.yml": "version: 0.0"},
            "simulated: CodeDeploy application a to deployment group g",
        ),
        (
            "CodeDeploy",
            {"ApplicationName": "a", "DeploymentGroupName": "g"},
            {},
            "appspec.yml is not at the root of the input artifact",
        ),
    ],
)
def test_simulated_deploys_check_their_inputs(
    tmp_path: Path, repo: Path, provider: str, configuration: dict[str, str], files: dict[str, str], expected: str
) -> None:
    """Deploy stand-ins refuse missing or malformed inputs and otherwise say plainly they simulated the deploy."""
    if files:
        commit(repo, files, "deploy inputs")
    p = pipeline(
        pw.Stage(name="Source", actions=[source_action()]),
        pw.Stage(
            name="Deploy",
            actions=[
                pw.Action(
                    name="Ship",
                    action_type=pw.ActionType(category="Deploy", provider=provider),
                    configuration=configuration,
                    inputs=[SRC],
                )
            ],
        ),
    )

    e = LocalExecutor(tmp_path / "wd", sources={"Source": repo}).run(p)

    ship = e.action("Deploy", "Ship")
    assert expected in (ship.summary or ship.error or "")
    assert (ActionStatus.SUCCEEDED if expected.startswith("simulated") else ActionStatus.FAILED) == ship.status


def test_prompt_policy_without_a_terminal_fails_readably(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """approval='prompt' with a closed stdin fails the approval with a message naming the other policies."""

    def closed(prompt: str) -> str:
        raise EOFError

    monkeypatch.setattr("builtins.input", closed)
    p = pipeline(pw.Stage(name="Gate", actions=[approval()]), pw.Stage(name="B", actions=[custom("Next")]))

    e = LocalExecutor(
        tmp_path / "wd", approval="prompt", handlers={"Build/Custom/Fake/1": lambda ctx: None}, validate=False
    ).run(p)

    assert ExecutionStatus.FAILED == e.status
    assert "needs a terminal but stdin is closed" in (e.action("Gate", "Approve").error or "")
