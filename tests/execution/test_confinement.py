"""Nothing leaves the workdir: paths from configuration stay in their folder, links are not followed out.

Each test runs real pipelines on real folders, real git repositories and real symbolic links,
then checks the refusal names the setting (``stages[i].actions[j].configuration.Key``) or the
link, and that nothing was written outside the workdir and no outside file reached an artifact.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

import pipeweaver as pw
from pipeweaver._names import unchecked
from pipeweaver.execution import ActionContext, ActionResult, ActionStatus, ExecutionStatus, LocalExecutor

from .conftest import commands, commit, custom, git, pipeline, source_action

SRC = pw.Artifact("SourceOutput")
CANARY = "TOP-SECRET-CANARY-7f3a"
NEXT = {"Build/Custom/Fake/1": lambda ctx: None}


def _tree(root: Path) -> dict[str, str]:
    """Every path under *root* (links as their target, not followed), for before/after comparisons."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            rel = path.relative_to(root).as_posix()
            out[rel] = "link->" + os.readlink(path) if path.is_symlink() else ("dir" if path.is_dir() else "file")
    return out


def _outside_the_workdir(tmp_path: Path) -> dict[str, str]:
    return {k: v for k, v in _tree(tmp_path).items() if not k.startswith(("wd/", "wd"))}


def _zips_hold(workdir: Path, needle: str) -> bool:
    for archive in workdir.rglob("*.zip"):
        with zipfile.ZipFile(archive) as zf:
            if any(needle.encode() in zf.read(n) for n in zf.namelist()):
                return True
    return False


@pytest.fixture(name="secret")
def _secret(tmp_path: Path) -> Path:
    """A folder outside everything a run may touch, holding a canary 'key'."""
    folder = tmp_path / "home" / ".ssh"
    folder.mkdir(parents=True)
    (folder / "id_rsa").write_text(CANARY)
    return folder


def _deploy(configuration: dict[str, str]) -> pw.Action:
    return pw.Action(
        name="Site",
        action_type=pw.ActionType(category="Deploy", provider="S3"),
        configuration=configuration,
        inputs=[SRC],
    )


# -- S3 deploy: BucketName and ObjectKey -------------------------------------------------------


@pytest.mark.parametrize(
    ("bucket", "problem"),
    [
        ("../../escaped", "is not an S3 bucket name"),
        ("../../../../../../../../tmp/pipeweaver-escaped", "is not an S3 bucket name"),
        ("{tmp}/abs-escaped", "characters long"),
        ("site/../../../escaped", "is not an S3 bucket name"),
        ("a/b", "is not an S3 bucket name"),
        ("nul\x00byte", "is not an S3 bucket name"),
        ("..", "characters long"),
        ("...", "is not an S3 bucket name"),
        ("MyBucket", "is not an S3 bucket name"),
        ("ab", "is 2 characters long"),
        ("a" * 64, "is 64 characters long"),
        ("-site", "is not an S3 bucket name"),
        ("site..example", "two adjacent dots"),
        ("192.168.5.4", "formatted as an IP address"),
    ],
)
def test_s3_deploy_refuses_a_bucket_name_that_is_not_one(tmp_path: Path, repo: Path, bucket: str, problem: str) -> None:
    """A BucketName that is not an S3 bucket name fails the deploy naming the setting; nothing is written outside."""
    bucket = bucket.replace("{tmp}", str(tmp_path))
    p = pipeline(
        pw.Stage(name="Source", actions=[source_action()]),
        pw.Stage(name="Deploy", actions=[_deploy({"BucketName": bucket, "Extract": "true"})]),
    )
    before = _outside_the_workdir(tmp_path)

    e = LocalExecutor(tmp_path / "wd", sources={"Source": repo}, validate=False).run(p)

    error = e.action("Deploy", "Site").error or ""
    assert ExecutionStatus.FAILED == e.status
    assert "action Deploy/Site, stages[1].actions[0].configuration.BucketName: " in error
    assert problem in error
    assert "LocalExecutor(buckets=" in error
    assert before == _outside_the_workdir(tmp_path)
    assert not (tmp_path / "wd" / "s3").exists() or [] == list((tmp_path / "wd" / "s3").rglob("app.py"))


def test_s3_deploy_bucket_name_from_a_variable_is_confined(tmp_path: Path, repo: Path) -> None:
    """A BucketName resolved from an earlier action's output variable is checked like a literal one."""
    p = pipeline(
        pw.Stage(name="Source", actions=[source_action()]),
        pw.Stage(
            name="Plan",
            actions=[
                commands(
                    "Plan", ["export BUCKET=../../../escaped"], inputs=[SRC], output_variables=["BUCKET"], namespace="P"
                )
            ],
        ),
        pw.Stage(name="Deploy", actions=[_deploy({"BucketName": "#{P.BUCKET}", "Extract": "true"})]),
    )
    before = _outside_the_workdir(tmp_path)

    e = LocalExecutor(tmp_path / "wd", sources={"Source": repo}, validate=False).run(p)

    error = e.action("Deploy", "Site").error or ""
    assert "stages[2].actions[0].configuration.BucketName (resolved from '#{P.BUCKET}'): '../../../escaped'" in error
    assert before == _outside_the_workdir(tmp_path)
    assert [] == list(tmp_path.rglob("escaped"))


def test_s3_deploy_refuses_a_bucket_folder_linked_out_of_the_workdir(tmp_path: Path, repo: Path) -> None:
    """A valid name whose folder under workdir/s3 is a link to elsewhere is refused: the resolved path is checked."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "wd" / "s3").mkdir(parents=True)
    (tmp_path / "wd" / "s3" / "www").symlink_to(elsewhere, target_is_directory=True)
    p = pipeline(
        pw.Stage(name="Source", actions=[source_action()]),
        pw.Stage(name="Deploy", actions=[_deploy({"BucketName": "www", "Extract": "true"})]),
    )

    e = LocalExecutor(tmp_path / "wd", sources={"Source": repo}).run(p)

    error = e.action("Deploy", "Site").error or ""
    assert f"configuration.BucketName: 'www' leads outside the local bucket folder {tmp_path / 'wd' / 's3'}" in error
    assert [] == list(elsewhere.iterdir())


@pytest.mark.parametrize(
    ("configuration", "problem"),
    [
        ({"Extract": "true", "ObjectKey": "../../escaped"}, "leads outside the bucket folder"),
        ({"Extract": "true", "ObjectKey": "/tmp/pipeweaver-escaped"}, "is an absolute path"),
        ({"Extract": "false", "ObjectKey": "../../../escaped.zip"}, "leads outside the bucket folder"),
        ({"Extract": "false", "ObjectKey": "site/../.."}, "leads outside the bucket folder"),
        ({"Extract": "false", "ObjectKey": "."}, "names the bucket itself"),
    ],
)
def test_s3_deploy_object_key_is_confined_and_named(
    tmp_path: Path, repo: Path, configuration: dict[str, str], problem: str
) -> None:
    """ObjectKey goes through the same check: the refusal names the setting and what is wrong."""
    p = pipeline(
        pw.Stage(name="Source", actions=[source_action()]),
        pw.Stage(name="Deploy", actions=[_deploy({"BucketName": "www", **configuration})]),
    )
    before = _outside_the_workdir(tmp_path)

    e = LocalExecutor(tmp_path / "wd", sources={"Source": repo}, validate=False).run(p)

    error = e.action("Deploy", "Site").error or ""
    assert "stages[1].actions[0].configuration.ObjectKey: " in error
    assert problem in error
    assert before == _outside_the_workdir(tmp_path)


def test_s3_deploy_valid_and_mapped_buckets_still_deploy(tmp_path: Path, repo: Path) -> None:
    """Valid names land under workdir/s3; a legacy name mapped with buckets= goes to its folder."""
    p = pipeline(
        pw.Stage(name="Source", actions=[source_action()]),
        pw.Stage(
            name="Deploy",
            actions=[
                _deploy({"BucketName": "www.example-1", "Extract": "true", "ObjectKey": "site"}),
                pw.Action(
                    name="Legacy",
                    action_type=pw.ActionType(category="Deploy", provider="S3"),
                    configuration={"BucketName": "Legacy_Bucket", "Extract": "false", "ObjectKey": "rel/app.zip"},
                    inputs=[SRC],
                ),
            ],
        ),
    )

    e = LocalExecutor(
        tmp_path / "wd", sources={"Source": repo}, buckets={"Legacy_Bucket": tmp_path / "legacy"}, validate=False
    ).run(p)

    assert e.succeeded, e.status_summary
    assert "print('hello')\n" == (tmp_path / "wd" / "s3" / "www.example-1" / "site" / "app.py").read_text()
    with zipfile.ZipFile(tmp_path / "legacy" / "rel" / "app.zip") as zf:
        assert {"README.md", "app.py"} == set(zf.namelist())


def test_s3_deploy_never_writes_through_a_link_in_the_bucket_folder(tmp_path: Path, repo: Path) -> None:
    """Extracting into a bucket folder whose subfolder links outside fails naming the link; outside stays empty."""
    commit(repo, {"assets/site.css": "body{}"}, "assets")
    bucket, outside = tmp_path / "bucket", tmp_path / "outside"
    bucket.mkdir()
    outside.mkdir()
    (bucket / "assets").symlink_to(outside, target_is_directory=True)
    p = pipeline(
        pw.Stage(name="Source", actions=[source_action()]),
        pw.Stage(name="Deploy", actions=[_deploy({"BucketName": "www", "Extract": "true"})]),
    )

    e = LocalExecutor(tmp_path / "wd", sources={"Source": repo}, buckets={"www": bucket}).run(p)

    assert f"'assets' is a symbolic link to '{outside}'" in (e.action("Deploy", "Site").error or "")
    assert [] == list(outside.iterdir())


# -- other settings that become paths ----------------------------------------------------------


def test_simulated_deploy_output_file_name_cannot_write_outside(tmp_path: Path, repo: Path) -> None:
    """CloudFormation's OutputFileName is a file inside the output artifact, never a path out of it."""
    commit(repo, {"template.yaml": "Resources:\n  B:\n    Type: AWS::S3::Bucket\n"}, "tpl")
    p = pipeline(
        pw.Stage(name="Source", actions=[source_action()]),
        pw.Stage(
            name="Deploy",
            actions=[
                pw.Action(
                    name="Stack",
                    action_type=pw.ActionType(category="Deploy", provider="CloudFormation"),
                    configuration={
                        "ActionMode": "CREATE_UPDATE",
                        "StackName": "web",
                        "TemplatePath": "SourceOutput::template.yaml",
                        "RoleArn": "arn:aws:iam::123456789012:role/cfn",
                        "OutputFileName": "../../../../../../../escaped.json",
                    },
                    inputs=[SRC],
                    outputs=[pw.Artifact("StackOut")],
                )
            ],
        ),
    )
    before = _outside_the_workdir(tmp_path)

    e = LocalExecutor(tmp_path / "wd", sources={"Source": repo}).run(p)

    error = e.action("Deploy", "Stack").error or ""
    assert (
        "stages[1].actions[0].configuration.OutputFileName: '../../../../../../../escaped.json' leads outside" in error
    )
    assert before == _outside_the_workdir(tmp_path)
    assert [] == list(tmp_path.rglob("escaped.json"))


def test_ecs_file_name_cannot_read_a_file_outside_the_artifact(tmp_path: Path, repo: Path) -> None:
    """ECS's FileName outside the input is refused; the outside file's content never reaches the summary."""
    leaked = tmp_path / "elsewhere.json"
    leaked.write_text(json.dumps([{"name": "x", "imageUri": CANARY}]))
    p = pipeline(
        pw.Stage(name="Source", actions=[source_action()]),
        pw.Stage(
            name="Deploy",
            actions=[
                pw.Action(
                    name="Ship",
                    action_type=pw.ActionType(category="Deploy", provider="ECS"),
                    configuration={"ClusterName": "c", "ServiceName": "s", "FileName": str(leaked)},
                    inputs=[SRC],
                )
            ],
        ),
    )

    e = LocalExecutor(tmp_path / "wd", sources={"Source": repo}).run(p)

    ship = e.action("Deploy", "Ship")
    assert ActionStatus.FAILED == ship.status
    assert "stages[1].actions[0].configuration.FileName: " in (ship.error or "")
    assert "is an absolute path" in (ship.error or "")
    assert CANARY not in (ship.summary or "") + (ship.error or "")
    assert not (tmp_path / "wd" / "simulated-deployments.jsonl").exists()


def test_buildspec_override_outside_the_source_is_not_run(tmp_path: Path, repo: Path) -> None:
    """A BuildspecOverride path outside the primary source is refused before any of its commands runs."""
    marker = tmp_path / "ran"
    outside = tmp_path / "evil-buildspec.yml"
    outside.write_text(f"version: 0.2\nphases:\n  build:\n    commands: ['touch {marker}']\n")
    p = pipeline(
        pw.Stage(name="Source", actions=[source_action()]),
        pw.Stage(
            name="Build",
            actions=[
                pw.Action(
                    name="Build",
                    action_type=pw.ActionType(category="Build", provider="CodeBuild"),
                    configuration={"ProjectName": "web", "BuildspecOverride": f"../../../../../../../..{outside}"},
                    inputs=[SRC],
                )
            ],
        ),
    )

    e = LocalExecutor(tmp_path / "wd", sources={"Source": repo}).run(p)

    error = e.action("Build", "Build").error or ""
    assert "stages[1].actions[0].configuration.BuildspecOverride: " in error
    assert "leads outside the primary source" in error
    assert not marker.exists()


def test_unchecked_artifact_names_cannot_place_folders_outside(tmp_path: Path) -> None:
    """An artifact name that got past the checks (unchecked load, validate=False) cannot lead out of the action."""

    def make(ctx: ActionContext) -> ActionResult:
        for out in ctx.outputs.values():
            (out / "f.txt").write_text("x")
        return ActionResult()

    with unchecked():
        p = pipeline(
            pw.Stage(name="A", actions=[custom("Make", outputs=[pw.Artifact("../../../../../escaped")])]),
            pw.Stage(name="B", actions=[custom("Next")]),
        )
    before = _outside_the_workdir(tmp_path)

    e = LocalExecutor(tmp_path / "wd", handlers={"Build/Custom/Fake/1": make}, validate=False).run(p)

    assert "output artifact '../../../../../escaped': '../../../../../escaped' leads outside" in (
        e.action("A", "Make").error or ""
    )
    assert before == _outside_the_workdir(tmp_path)


# -- sources from local folders and repositories -------------------------------------------------


def _s3_source() -> pw.Action:
    return pw.Action(
        name="Site",
        action_type=pw.ActionType(category="Source", provider="S3"),
        configuration={"S3Bucket": "b-src", "S3ObjectKey": "site.zip"},
        outputs=[pw.Artifact("SiteOut")],
    )


def test_s3_source_folder_with_a_link_out_is_refused_naming_it(tmp_path: Path, secret: Path) -> None:
    """favicon.ico -> ~/.ssh/id_rsa in a source folder fails the source naming the link; the key ships nowhere."""
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "index.html").write_text("<h1>hi</h1>")
    (folder / "favicon.ico").symlink_to(secret / "id_rsa")
    p = pipeline(pw.Stage(name="Source", actions=[_s3_source()]), pw.Stage(name="B", actions=[custom("Next")]))

    e = LocalExecutor(tmp_path / "wd", sources={"Site": folder}, handlers=NEXT, validate=False).run(p)

    error = e.action("Source", "Site").error or ""
    assert ExecutionStatus.FAILED == e.status
    assert f"S3 source folder {folder}: 'favicon.ico' is a symbolic link to '{secret / 'id_rsa'}'" in error
    assert not _zips_hold(tmp_path / "wd", CANARY)
    assert [] == [p for p in (tmp_path / "wd").rglob("favicon.ico") if p.read_text() == CANARY]


def test_s3_source_folder_links_inside_are_copied(tmp_path: Path) -> None:
    """A link that stays inside the source folder is followed: the artifact holds a copy under the link's name."""
    folder = tmp_path / "site"
    (folder / "v1").mkdir(parents=True)
    (folder / "v1" / "index.html").write_text("v1")
    (folder / "current").symlink_to("v1", target_is_directory=True)
    (folder / "latest.html").symlink_to("v1/index.html")
    p = pipeline(pw.Stage(name="Source", actions=[_s3_source()]), pw.Stage(name="B", actions=[custom("Next")]))

    e = LocalExecutor(tmp_path / "wd", sources={"Site": folder}, handlers=NEXT, validate=False).run(p)

    assert e.succeeded, e.status_summary
    with zipfile.ZipFile(e.artifacts["SiteOut"].uri.removeprefix("file://")) as zf:
        assert {"current/index.html": b"v1", "latest.html": b"v1", "v1/index.html": b"v1"} == {
            n: zf.read(n) for n in zf.namelist()
        }


def test_git_source_with_a_committed_link_out_is_refused_naming_it(tmp_path: Path, repo: Path, secret: Path) -> None:
    """A repository committing favicon.ico -> ~/.ssh/id_rsa fails its source, naming the link and its target."""
    (repo / "favicon.ico").symlink_to(secret / "id_rsa")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "favicon")
    p = pipeline(pw.Stage(name="Source", actions=[source_action()]), pw.Stage(name="B", actions=[custom("Next")]))

    e = LocalExecutor(tmp_path / "wd", sources={"Source": repo}, handlers=NEXT, validate=False).run(p)

    error = e.action("Source", "Source").error or ""
    assert f"'favicon.ico' is a link to '{secret / 'id_rsa'}', outside the repository" in error
    assert not _zips_hold(tmp_path / "wd", CANARY)


def test_git_source_links_inside_the_repository_reach_the_artifact(tmp_path: Path, repo: Path) -> None:
    """A committed link to a file of the repository is in the artifact as that file's content."""
    (repo / "docs").mkdir()
    (repo / "docs" / "readme").symlink_to("../README.md")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "docs link")
    p = pipeline(pw.Stage(name="Source", actions=[source_action()]), pw.Stage(name="B", actions=[custom("Next")]))

    e = LocalExecutor(tmp_path / "wd", sources={"Source": repo}, handlers=NEXT, validate=False).run(p)

    assert e.succeeded, e.status_summary
    with zipfile.ZipFile(e.artifacts["SourceOutput"].uri.removeprefix("file://")) as zf:
        assert b"demo\n" == zf.read("docs/readme")


# -- output globs ---------------------------------------------------------------------------------


def _codebuild() -> pw.Action:
    return pw.Action(
        name="Build",
        action_type=pw.ActionType(category="Build", provider="CodeBuild"),
        configuration={"ProjectName": "web"},
        inputs=[SRC],
        outputs=[pw.Artifact("Built")],
    )


@pytest.mark.parametrize(
    ("link", "files", "culprit"),
    [
        ("dist/cache", "['dist/*/*']", "'dist/cache/id_rsa' is reached through the symbolic link 'dist/cache'"),
        ("dist/cache", "['dist/cache/id_rsa']", "'dist/cache/id_rsa' is reached through the symbolic link"),
        ("dist/cache", "['dist']", "'cache' is a symbolic link to"),
        ("dist/key", "['**/*']", "'dist/key' is a symbolic link to"),
    ],
)
def test_buildspec_artifact_globs_do_not_follow_links_out(
    tmp_path: Path, repo: Path, secret: Path, link: str, files: str, culprit: str
) -> None:
    """dist/*/* through dist/cache -> ~/.ssh (and the like) fails the build naming the link; no key is packed."""
    target = secret if link == "dist/cache" else secret / "id_rsa"
    spec = (
        "version: 0.2\nphases:\n  build:\n    commands:\n"
        f"      - mkdir -p dist && echo app > dist/app.js && ln -s {target} {link}\n"
        f"artifacts:\n  files: {files}\n"
    )
    commit(repo, {"buildspec.yml": spec}, "buildspec")
    p = pipeline(
        pw.Stage(name="Source", actions=[source_action()]),
        pw.Stage(name="Build", actions=[_codebuild()]),
    )

    e = LocalExecutor(tmp_path / "wd", sources={"Source": repo}, validate=False).run(p)

    error = e.action("Build", "Build").error or ""
    assert ExecutionStatus.FAILED == e.status
    assert culprit in error, error
    assert str(target) in error
    assert not _zips_hold(tmp_path / "wd", CANARY)


def test_buildspec_artifact_paths_cannot_climb_out(tmp_path: Path, repo: Path, secret: Path) -> None:
    """An artifact path with '..' (here with discard-paths) is refused; the outside file is never packed."""
    rel = os.path.relpath(secret / "id_rsa", tmp_path / "wd")
    spec = (
        "version: 0.2\nphases:\n  build:\n    commands: ['true']\n"
        f"artifacts:\n  files: ['../../../../../../../{rel}']\n  discard-paths: yes\n"
    )
    commit(repo, {"buildspec.yml": spec}, "buildspec")
    p = pipeline(pw.Stage(name="Source", actions=[source_action()]), pw.Stage(name="Build", actions=[_codebuild()]))

    e = LocalExecutor(tmp_path / "wd", sources={"Source": repo}, validate=False).run(p)

    error = e.action("Build", "Build").error or ""
    assert "buildspec artifacts '../../../../../../../" in error
    assert "leaves the base folder" in error
    assert not _zips_hold(tmp_path / "wd", CANARY)


def test_commands_output_files_name_the_setting_and_copy_inside_links(tmp_path: Path, repo: Path, secret: Path) -> None:
    """A Commands action's output files follow the same rule; the refusal names outputArtifacts[0].files."""
    inside = pw.Artifact("Inside", files=["dist/**/*"])
    p = pipeline(
        pw.Stage(name="Source", actions=[source_action()]),
        pw.Stage(
            name="Build",
            actions=[
                commands(
                    "Good",
                    ["mkdir -p dist/v1 && echo js > dist/v1/app.js && ln -s v1/app.js dist/app.js"],
                    inputs=[SRC],
                    outputs=[inside],
                ),
                commands(
                    "Bad",
                    [f"mkdir -p dist/x && ln -s {secret / 'id_rsa'} dist/x/key"],
                    inputs=[SRC],
                    outputs=[pw.Artifact("Outside", files=["dist/**/*"])],
                ),
            ],
        ),
    )

    e = LocalExecutor(tmp_path / "wd", sources={"Source": repo}, validate=False).run(p)

    assert "stages[1].actions[1].outputArtifacts[0].files 'dist/**/*': 'dist/x/key' is a symbolic link" in (
        e.action("Build", "Bad").error or ""
    )
    assert ActionStatus.SUCCEEDED == e.action("Build", "Good").status
    with zipfile.ZipFile(e.artifacts["Inside"].uri.removeprefix("file://")) as zf:
        assert {"dist/app.js": b"js\n", "dist/v1/app.js": b"js\n"} == {n: zf.read(n) for n in zf.namelist()}
    assert not _zips_hold(tmp_path / "wd", CANARY)
