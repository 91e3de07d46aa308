"""CodeBuild actions with several input and output artifacts, as CodePipeline and CodeBuild
document them: secondary inputs under CODEBUILD_SRC_DIR_<name>, one output from
``artifacts.files``, several outputs only from named ``secondary-artifacts``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pipeweaver as pw
from pipeweaver.execution import Execution, LocalExecutor

from .conftest import codebuild, git_repo, git_source, pipeline_of

CODEBUILD_ACTION = "https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CodeBuild.html"
MULTI_SAMPLE = "https://docs.aws.amazon.com/codebuild/latest/userguide/sample-pipeline-multi-input-output.html"
BUILDSPEC = "https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html"

SOURCE1, SOURCE2 = pw.Artifact("source1"), pw.Artifact("source2")
ARTIFACT1, ARTIFACT2 = pw.Artifact("artifact1"), pw.Artifact("artifact2")


def _files(execution: Execution, name: str) -> dict[str, str]:
    path = Path(unquote(urlparse(execution.artifacts[name].uri).path))
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n).decode() for n in zf.namelist() if not n.endswith("/")}


def _run(tmp_path: Path, spec: dict[str, Any], outputs: tuple[pw.Artifact, ...]) -> Execution:
    git_repo(tmp_path / "one", {"source1_file": "one\n", "buildspec.yml": "unused\n"})
    git_repo(tmp_path / "two", {"source2_file": "two\n"})
    pipeline = pipeline_of(
        pw.Stage(
            name="Source",
            actions=[git_source("Source1", SOURCE1), git_source("Source2", SOURCE2, FullRepositoryId="acme/two")],
        ),
        pw.Stage(
            name="Build",
            actions=[codebuild(inputs=[SOURCE1, SOURCE2], outputs=outputs, configuration={"PrimarySource": "source1"})],
        ),
    )
    sources = {"Source1": tmp_path / "one", "Source2": tmp_path / "two"}
    with LocalExecutor(tmp_path / "wd", sources=sources, buildspecs={"app": spec}) as x:
        return x.run(pipeline)


def test_two_outputs_come_from_secondary_artifacts_named_after_them(tmp_path: Path) -> None:
    """CodePipeline integration with CodeBuild and multiple input sources and output artifacts sample (MULTI_SAMPLE): each output artifact is the secondary artifact of the same name.

    As in the sample, a secondary artifact's base-directory may be an input's directory
    ($CODEBUILD_SRC_DIR, $CODEBUILD_SRC_DIR_source2).
    """
    spec = {
        "version": 0.2,
        "phases": {"build": {"commands": ["echo built > out.txt"]}},
        "artifacts": {
            "files": ["**/*"],
            "secondary-artifacts": {
                "artifact1": {"base-directory": "$CODEBUILD_SRC_DIR", "files": ["source1_file", "out.txt"]},
                "artifact2": {"base-directory": "${CODEBUILD_SRC_DIR_source2}", "files": ["source2_file"]},
            },
        },
    }

    e = _run(tmp_path, spec, (ARTIFACT1, ARTIFACT2))

    assert e.succeeded, e.action("Build", "Build").error
    assert {"source1_file": "one\n", "out.txt": "built\n"} == _files(e, "artifact1")
    assert {"source2_file": "two\n"} == _files(e, "artifact2")


def test_two_outputs_without_a_secondary_artifact_for_each_fail_the_build(tmp_path: Path) -> None:
    """AWS CodeBuild build and test action reference (CODEBUILD_ACTION): with more than one output artifact, every one must be a secondary artifact of the buildspec named after it.

    ``artifacts.files`` does not stand in for the first output: the build fails in
    UPLOAD_ARTIFACTS with a CLIENT_ERROR naming the missing identifier.
    """
    spec = {
        "version": 0.2,
        "phases": {"build": {"commands": ["echo built > out.txt"]}},
        "artifacts": {"files": ["out.txt"], "secondary-artifacts": {"artifact2": {"files": ["out.txt"]}}},
    }

    e = _run(tmp_path, spec, (ARTIFACT1, ARTIFACT2))

    assert not e.succeeded
    assert (
        "build failed in phase UPLOAD_ARTIFACTS (project app): CLIENT_ERROR: the action has 2 output artifacts, so "
        "each must be a secondary artifact of the buildspec whose identifier is the output artifact's name; "
        "artifacts.secondary-artifacts has no 'artifact1' (it has ['artifact2'])"
    ) == e.action("Build", "Build").error


def test_one_output_comes_from_the_artifacts_section(tmp_path: Path) -> None:
    """AWS CodeBuild build and test action reference (CODEBUILD_ACTION): a single output artifact can be defined directly under the buildspec's artifacts.

    base-directory and discard-paths apply as in the buildspec reference.
    """
    spec = {
        "version": 0.2,
        "phases": {"build": {"commands": ["mkdir -p dist/js", "echo app > dist/js/app.js"]}},
        "artifacts": {"base-directory": "dist", "files": ["**/*"], "discard-paths": "yes"},
    }

    e = _run(tmp_path, spec, (ARTIFACT1,))

    assert e.succeeded, e.action("Build", "Build").error
    assert {"app.js": "app\n"} == _files(e, "artifact1")


def test_artifact_paths_matching_nothing_fail_as_codebuild_reports_it(tmp_path: Path) -> None:
    """Buildspec reference (BUILDSPEC): artifacts files that match nothing fail the build with CLIENT_ERROR: no matching artifact paths found."""
    spec = {"version": 0.2, "phases": {"build": {"commands": ["true"]}}, "artifacts": {"files": ["dist/**/*"]}}

    e = _run(tmp_path, spec, (ARTIFACT1,))

    assert (e.action("Build", "Build").error or "").startswith("CLIENT_ERROR: no matching artifact paths found")
