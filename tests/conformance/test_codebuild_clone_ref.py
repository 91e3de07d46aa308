"""``OutputArtifactFormat: CODEBUILD_CLONE_REF``: the CodeBuild action gets a full git clone, as
the source action references document, so git commands work in the build."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pipeweaver as pw
from pipeweaver.execution import ActionContext, ActionResult, Execution, LocalExecutor

from .conftest import codebuild, git_repo, git_source, log_of, pipeline_of

CONNECTION_SOURCE = (
    "https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CodestarConnectionSource.html"
)

SRC = pw.Artifact("Src")


def _pipeline() -> pw.Pipeline:
    return pipeline_of(
        pw.Stage(name="Source", actions=[git_source("Source", SRC, OutputArtifactFormat="CODEBUILD_CLONE_REF")]),
        pw.Stage(name="Build", actions=[codebuild(inputs=[SRC])]),
    )


def _spec(*commands: str) -> dict[str, Any]:
    return {"version": 0.2, "phases": {"build": {"commands": list(commands)}}}


def _lines(e: Execution) -> list[str]:
    return [line for line in log_of(e.action("Build", "Build")) if not line.startswith("[pipeweaver]")]


def test_a_clone_ref_source_gives_the_build_a_full_clone_on_its_branch(tmp_path: Path) -> None:
    """CodeStarSourceConnection action reference (CONNECTION_SOURCE): CODEBUILD_CLONE_REF gives a downstream CodeBuild action a full clone with git metadata.

    ``git log`` sees the history, HEAD is the source's commit on its branch, and
    CODEBUILD_RESOLVED_SOURCE_VERSION is that commit.

    Local: simulated: the clone is made from the local repository given as the source.
    """
    git_repo(tmp_path / "web", {"app.py": "v1\n"}, "first change")
    head = git_repo(tmp_path / "web", {"app.py": "v2\n"}, "second change")
    spec = _spec(
        "git log --format=%s",
        "git rev-parse HEAD",
        "git rev-parse --abbrev-ref HEAD",
        'test "$(git rev-parse HEAD)" = "$CODEBUILD_RESOLVED_SOURCE_VERSION"',
        "cat app.py",
    )

    with LocalExecutor(tmp_path / "wd", sources={"Source": tmp_path / "web"}, buildspecs={"app": spec}) as x:
        e = x.run(_pipeline())

    assert e.succeeded, e.action("Build", "Build").error
    assert ["second change", "first change", head, "main", "v2"] == _lines(e)


def test_a_clone_ref_input_without_a_reference_is_refused_not_built_from_plain_files(tmp_path: Path) -> None:
    """CodeStarSourceConnection action reference (CONNECTION_SOURCE): a CODEBUILD_CLONE_REF input is a clone, never a plain zip.

    When the source was handled by something that made ordinary files, the build does not run
    on them without git metadata.

    Local: refused: the action fails naming the source and the fix (a local git repository, or CODE_ZIP).
    """

    def plain(ctx: ActionContext) -> ActionResult:
        (ctx.outputs["Src"] / "app.py").write_text("v1\n")
        return ActionResult()

    with LocalExecutor(tmp_path / "wd", handlers={"Source/Source": plain}, buildspecs={"app": _spec("git log")}) as x:
        e = x.run(_pipeline())

    error = e.action("Build", "Build").error or ""
    assert error.startswith(
        "input artifact 'Src' comes from source 'Source' with OutputArtifactFormat CODEBUILD_CLONE_REF, but it "
        "holds plain files, not a clone reference"
    )


def test_a_clone_ref_whose_repository_is_gone_fails_with_what_to_do(tmp_path: Path) -> None:
    """CodeStarSourceConnection action reference (CONNECTION_SOURCE): the clone is made when the build starts, so a retried build clones again.

    Local: refused: when the local repository is gone by then, the action says so and what to do.
    """
    git_repo(tmp_path / "web", {"app.py": "v1\n"})
    with LocalExecutor(tmp_path / "wd", sources={"Source": tmp_path / "web"}, buildspecs={"app": _spec("false")}) as x:
        failed = x.run(_pipeline())
        shutil.rmtree(tmp_path / "web")
        retried = x.retry(failed.id, "Build", wait=True)

    error = retried.action("Build", "Build").error or ""
    assert "is a CODEBUILD_CLONE_REF of" in error
    assert error.endswith(
        "which no longer exists; a full clone cannot be made: restore the repository, or use OutputArtifactFormat CODE_ZIP"
    )
