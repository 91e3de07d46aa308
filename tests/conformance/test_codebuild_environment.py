"""The environment a CodeBuild action's commands see, as CodeBuild documents it for builds
CodePipeline starts: every documented variable set from the run, the buildspec's env section
(variables, exported-variables, secrets-manager, parameter-store) and ``finally`` blocks.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

import pipeweaver as pw
from pipeweaver.execution import Execution, LocalExecutor

from .conftest import codebuild, git_repo, git_source, log_of, pipeline_of

VARIABLES = "https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-env-vars.html"
BUILDSPEC = "https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html"
CODEBUILD_ACTION = "https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CodeBuild.html"

SRC, EXTRA = pw.Artifact("Src"), pw.Artifact("Extra")
PRINT_ENV = "env | grep -E '^(AWS_|CODEBUILD_)' | sort"


def _environment(record: Any) -> dict[str, str]:
    """NAME -> value of the variables the build printed with PRINT_ENV."""
    found = {}
    for line in log_of(record):
        name, sep, value = line.partition("=")
        if sep and re.fullmatch(r"(AWS|CODEBUILD)_[A-Z0-9_]+", name):
            found[name] = value
    return found


def _pipeline(*, secondary: bool = False, **build: Any) -> pw.Pipeline:
    sources = [git_source("Source", SRC)]
    if secondary:
        sources.append(git_source("Other", EXTRA, FullRepositoryId="acme/lib"))
    if secondary:
        build["configuration"] = {"PrimarySource": "Src"}
    inputs = [SRC, EXTRA] if secondary else [SRC]
    return pipeline_of(
        pw.Stage(name="Source", actions=sources),
        pw.Stage(name="Build", actions=[codebuild(inputs=inputs, **build)]),
    )


def _run(tmp_path: Path, spec: dict[str, Any], *, secondary: bool = False, **executor: Any) -> tuple[Execution, str]:
    commit = git_repo(tmp_path / "web", {"app.py": "print('hi')\n"})
    sources = {"Source": tmp_path / "web"}
    if secondary:
        git_repo(tmp_path / "lib", {"lib.py": "x = 1\n"})
        sources["Other"] = tmp_path / "lib"
    x = LocalExecutor(tmp_path / "wd", sources=sources, buildspecs={"app": spec}, **executor)
    with x:
        return x.run(_pipeline(secondary=secondary)), commit


def test_resolved_source_version_is_the_commit_of_the_primary_source(tmp_path: Path) -> None:
    """Environment variables in build environments (VARIABLES): CODEBUILD_RESOLVED_SOURCE_VERSION is the source revision CodePipeline provides.

    For a git source that is the commit id the source action fetched (what builds tag images with).
    """
    spec = {"version": 0.2, "phases": {"build": {"commands": [PRINT_ENV]}}}

    e, commit = _run(tmp_path, spec)

    assert e.succeeded, e.action("Build", "Build").error
    assert commit == _environment(e.action("Build", "Build"))["CODEBUILD_RESOLVED_SOURCE_VERSION"]


def test_build_identity_variables_have_codebuilds_shapes(tmp_path: Path) -> None:
    """Environment variables in build environments (VARIABLES): build id, ARN, project ARN, initiator, region, log path, start time.

    CODEBUILD_BUILD_ID is ``project:uuid``, CODEBUILD_BUILD_ARN its ARN, CODEBUILD_INITIATOR
    ``codepipeline/<pipeline>``, AWS_REGION and AWS_DEFAULT_REGION the region, CODEBUILD_LOG_PATH
    the log stream (the build's uuid), CODEBUILD_START_TIME Unix milliseconds.

    Local: simulated: the account id (000000000000), the build image and the region (the
    action's, else AWS_REGION passed through from the host, else us-east-1) are stand-ins.
    """
    spec = {"version": 0.2, "phases": {"build": {"commands": [PRINT_ENV]}}}
    before = int(time.time() * 1000)

    e, _ = _run(tmp_path, spec)

    env = _environment(e.action("Build", "Build"))
    build = env["CODEBUILD_BUILD_ID"].removeprefix("app:")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", build)
    assert {
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "CODEBUILD_BUILD_ARN": f"arn:aws:codebuild:us-east-1:000000000000:build/app:{build}",
        "CODEBUILD_PROJECT_ARN": "arn:aws:codebuild:us-east-1:000000000000:project/app",
        "CODEBUILD_INITIATOR": "codepipeline/p",
        "CODEBUILD_LOG_PATH": build,
        "CODEBUILD_BUILD_IMAGE": "aws/codebuild/amazonlinux2-x86_64-standard:5.0",
        "CODEBUILD_KMS_KEY_ID": "arn:aws:kms:us-east-1:000000000000:alias/aws/s3",
    }.items() <= env.items()
    assert before <= int(env["CODEBUILD_START_TIME"]) <= int(time.time() * 1000)
    assert f"app:{build}" == e.action("Build", "Build").external_execution_id


def test_source_version_names_the_input_artifact_object(tmp_path: Path) -> None:
    """Environment variables in build environments (VARIABLES): CODEBUILD_SOURCE_VERSION of a pipeline build is its input artifact's object; CODEBUILD_SOURCE_REPO_URL may be empty.

    Local: simulated: the local store's zip (a file:// URI) stands for the S3 object's ARN
    (``arn:aws:s3:::bucket/key`` when the artifacts are in S3).
    """
    spec = {"version": 0.2, "phases": {"build": {"commands": [PRINT_ENV]}}}

    e, _ = _run(tmp_path, spec)

    env = _environment(e.action("Build", "Build"))
    assert e.artifacts["Src"].uri == env["CODEBUILD_SOURCE_VERSION"]
    assert "" == env["CODEBUILD_SOURCE_REPO_URL"]


def test_build_number_counts_the_projects_builds_across_runs(tmp_path: Path) -> None:
    """Environment variables in build environments (VARIABLES): CODEBUILD_BUILD_NUMBER is the project's current build number.

    It goes up by one with each build of the project, also across executors opened on the same
    work directory (the count is kept in its history).
    """
    spec = {"version": 0.2, "phases": {"build": {"commands": [PRINT_ENV]}}}
    first, _ = _run(tmp_path, spec)
    with LocalExecutor(tmp_path / "wd", sources={"Source": tmp_path / "web"}, buildspecs={"app": spec}) as x:
        second = x.run(_pipeline())

    numbers = [_environment(e.action("Build", "Build"))["CODEBUILD_BUILD_NUMBER"] for e in (first, second)]

    assert ["1", "2"] == numbers


def test_secondary_inputs_are_under_codebuild_src_dir_by_artifact_name(tmp_path: Path) -> None:
    """AWS CodeBuild build and test action reference (CODEBUILD_ACTION): each secondary input is at CODEBUILD_SRC_DIR_<artifact name>.

    The primary input is the working directory and CODEBUILD_SRC_DIR.
    """
    commands = ['test "$PWD" = "$CODEBUILD_SRC_DIR"', "cat app.py", 'cat "$CODEBUILD_SRC_DIR_Extra/lib.py"']
    spec = {"version": 0.2, "phases": {"build": {"commands": commands}}}

    e, _ = _run(tmp_path, spec, secondary=True)

    assert e.succeeded, e.action("Build", "Build").error
    assert {"print('hi')", "x = 1"} <= set(log_of(e.action("Build", "Build")))


def test_webhook_batch_and_public_build_variables_are_unset_in_a_pipeline_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Environment variables in build environments (VARIABLES): the CODEBUILD_WEBHOOK_* variables belong to webhook builds, CODEBUILD_BATCH_BUILD_IDENTIFIER to batch builds.

    A build CodePipeline starts has none of them, nor CODEBUILD_PUBLIC_BUILD_URL; host variables
    named CODEBUILD_* never reach the build, even when passed through.
    """
    spec = {"version": 0.2, "phases": {"build": {"commands": [PRINT_ENV]}}}
    monkeypatch.setenv("CODEBUILD_WEBHOOK_EVENT", "PUSH")

    e, _ = _run(tmp_path, spec, env_passthrough=["CODEBUILD_WEBHOOK_EVENT"])

    names = set(_environment(e.action("Build", "Build")))
    assert not {n for n in names if n.startswith(("CODEBUILD_WEBHOOK_", "CODEBUILD_BATCH_", "CODEBUILD_PUBLIC_"))}
    assert {"CODEBUILD_BUILD_NUMBER", "CODEBUILD_SRC_DIR", "CODEBUILD_BUILD_SUCCEEDING"} <= names


def test_exported_variables_become_the_actions_output_variables(tmp_path: Path) -> None:
    """Buildspec reference (BUILDSPEC): env exported-variables are exported when the build ends, for later actions.

    Values set in any phase (post_build included) are taken at the end; names never set are
    not exported.
    """
    spec = {
        "version": 0.2,
        "env": {"variables": {"STAGE": "beta"}, "exported-variables": ["IMAGE_TAG", "STAGE", "NEVER"]},
        "phases": {
            "build": {"commands": ["export IMAGE_TAG=${CODEBUILD_RESOLVED_SOURCE_VERSION:0:7}"]},
            "post_build": {"commands": ['IMAGE_TAG="$IMAGE_TAG-$STAGE"']},
        },
    }

    e, commit = _run(tmp_path, spec)

    assert {"IMAGE_TAG": f"{commit[:7]}-beta", "STAGE": "beta"} == dict(e.action("Build", "Build").output_variables)


def test_finally_runs_in_a_buildspec_phase_after_its_commands_fail(tmp_path: Path) -> None:
    """Buildspec reference (BUILDSPEC): a phase's finally block runs even when one of its commands fails.

    The build still fails in that phase, and post_build runs after a failed build phase.
    """
    spec = {
        "version": 0.2,
        "phases": {
            "build": {"commands": ["echo building", "exit 1", "echo never"], "finally": ["echo cleaned"]},
            "post_build": {"commands": ["echo post $CODEBUILD_BUILD_SUCCEEDING"]},
        },
    }

    e, _ = _run(tmp_path, spec)

    build = e.action("Build", "Build")
    lines = [line for line in log_of(build) if not line.startswith("[pipeweaver]")]
    assert ["building", "cleaned", "post 0"] == lines
    assert (build.error or "").startswith("build failed in phase build (project app)")


def test_secrets_manager_and_parameter_store_values_come_from_the_executors_secrets_and_are_masked(
    tmp_path: Path,
) -> None:
    """Buildspec reference (BUILDSPEC): env secrets-manager takes secret-id:json-key:version-stage:version-id; parameter-store takes a parameter name.

    Values come from the executor's secrets (by name, full ARN or the ARN's secret name); they
    are masked in the log, the output variables and the history.

    Local: simulated: the executor's secrets stand in for Secrets Manager and Parameter Store
    (one version each, so version-stage and version-id choose nothing).
    """
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
    spec = {
        "version": 0.2,
        "env": {
            "secrets-manager": {"DB_PASS": f"{arn}:password:AWSCURRENT", "TOKEN": "token"},
            "parameter-store": {"API_KEY": "/app/api-key"},
            "exported-variables": ["DB_PASS"],
        },
        "phases": {"build": {"commands": ['echo "pass=$DB_PASS token=$TOKEN key=$API_KEY"']}},
    }
    secrets = {
        "db-AbCdEf": '{"password": "hunter2-db-pass"}',
        "token": "tok-9f8e7d6c5b",
        "/app/api-key": "key-0a1b2c3d4e",
    }

    e, _ = _run(tmp_path, spec, secrets=secrets)

    build = e.action("Build", "Build")
    assert e.succeeded, build.error
    assert "pass=**** token=**** key=****" in log_of(build)
    assert {"DB_PASS": "****"} == dict(build.output_variables)
    history = (tmp_path / "wd" / "history.sqlite3").read_bytes()
    assert not any(value.encode() in history for value in ("hunter2-db-pass", "tok-9f8e7d6c5b", "key-0a1b2c3d4e"))
