"""A real buildspec, as projects write one, runs as CodeBuild documents it: the image tag from
CODEBUILD_RESOLVED_SOURCE_VERSION, ``exit 1`` in build with post_build still running, ``finally``,
two secondary artifacts and ``exported-variables``."""

from __future__ import annotations

import zipfile
from pathlib import Path
from urllib.parse import unquote, urlparse

import pipeweaver as pw
from pipeweaver.execution import ActionStatus, Execution, LocalExecutor

from .conftest import codebuild, git_repo, git_source, log_of, pipeline_of

BUILDSPEC = "https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html"

SPEC = """\
version: 0.2
env:
  exported-variables:
    - IMAGE_TAG
phases:
  build:
    commands:
      - export IMAGE_TAG=$(echo $CODEBUILD_RESOLVED_SOURCE_VERSION | cut -c 1-7)
      - echo "image web:$IMAGE_TAG" > image.txt
      - echo "docs" > docs.txt
      - if [ -f BREAK ]; then exit 1; fi
    finally:
      - echo "build finally ran"
  post_build:
    commands:
      - echo "post_build ran, succeeding=$CODEBUILD_BUILD_SUCCEEDING"
artifacts:
  files:
    - '**/*'
  secondary-artifacts:
    Image:
      files:
        - image.txt
    Docs:
      files:
        - docs.txt
"""

SRC, IMAGE, DOCS = pw.Artifact("Src"), pw.Artifact("Image"), pw.Artifact("Docs")


def _files(execution: Execution, name: str) -> dict[str, str]:
    path = Path(unquote(urlparse(execution.artifacts[name].uri).path))
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n).decode() for n in zf.namelist() if not n.endswith("/")}


def _run(tmp_path: Path) -> Execution:
    pipeline = pipeline_of(
        pw.Stage(name="Source", actions=[git_source("Source", SRC)]),
        pw.Stage(name="Build", actions=[codebuild(inputs=[SRC], outputs=(IMAGE, DOCS))]),
    )
    with LocalExecutor(tmp_path / "wd", sources={"Source": tmp_path / "repo"}) as x:
        return x.run(pipeline)


def test_a_real_buildspec_tags_exports_and_splits_its_artifacts(tmp_path: Path) -> None:
    """Build specification reference for CodeBuild (BUILDSPEC): the buildspec's commands see
    CODEBUILD_RESOLVED_SOURCE_VERSION, finally runs after build's commands, post_build runs with
    CODEBUILD_BUILD_SUCCEEDING=1, each secondary artifact holds its files and exported-variables
    become the action's variables."""
    commit = git_repo(tmp_path / "repo", {"buildspec.yml": SPEC, "app.py": "print('hi')\n"})

    e = _run(tmp_path)

    assert e.succeeded, e.action("Build", "Build").error
    assert {"IMAGE_TAG": commit[:7]} == dict(e.action("Build", "Build").output_variables)
    assert {"image.txt": f"image web:{commit[:7]}\n"} == _files(e, "Image")
    assert {"docs.txt": "docs\n"} == _files(e, "Docs")
    log = log_of(e.action("Build", "Build"))
    assert "build finally ran" in log
    assert "post_build ran, succeeding=1" in log


def test_exit_1_in_a_real_buildspec_fails_the_build_phase_and_post_build_still_runs(tmp_path: Path) -> None:
    """Build specification reference for CodeBuild (BUILDSPEC): a command exiting 1 fails the build phase;
    its finally block and post_build still run (with CODEBUILD_BUILD_SUCCEEDING=0), and the build
    fails naming the phase and the command."""
    git_repo(tmp_path / "repo", {"buildspec.yml": SPEC, "BREAK": "yes\n"})

    e = _run(tmp_path)

    build = e.action("Build", "Build")
    assert ActionStatus.FAILED == build.status
    log = log_of(build)
    assert "build finally ran" in log
    assert "post_build ran, succeeding=0" in log
    assert (build.error or "").startswith("build failed in phase build (project app): COMMAND_EXECUTION_ERROR")
