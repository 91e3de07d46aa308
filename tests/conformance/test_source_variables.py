"""The output variables of source actions, as CodePipeline's variables reference documents them:
every source with a local handler emits exactly the variables its catalog entry lists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import pipeweaver as pw
from pipeweaver import _catalog
from pipeweaver.execution import Execution, LocalExecutor

from .conftest import git_repo, pipeline_of

VARIABLES = "https://docs.aws.amazon.com/codepipeline/latest/userguide/reference-variables.html"
ECR_SOURCE = "https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-ECR.html"
S3_SOURCE = "https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-S3.html"

OUT = pw.Artifact("Out")
DIGEST = "sha256:" + "ab" * 32
CONFIGURATION: dict[str, dict[str, str]] = {
    "CodeStarSourceConnection": {
        "ConnectionArn": "arn:aws:codeconnections:us-east-1:123456789012:connection/abc",
        "FullRepositoryId": "acme/web",
        "BranchName": "main",
    },
    "CodeCommit": {"RepositoryName": "web", "BranchName": "main"},
    "GitHub": {"Owner": "acme", "Repo": "web", "Branch": "main", "OAuthToken": "gh-token-1234567"},
    "S3": {"S3Bucket": "b", "S3ObjectKey": "app.zip", "PollForSourceChanges": "false"},
    "ECR": {"RepositoryName": "web"},
}


def _run(tmp_path: Path, provider: str, source: Any, **executor: Any) -> Execution:
    spec = _catalog.source_spec(provider)
    assert spec is not None
    action = pw.Action(
        name="Source",
        action_type=pw.ActionType(category="Source", owner=spec.owner, provider=provider),
        configuration=CONFIGURATION[provider],
        outputs=[OUT],
        namespace="SourceVariables",
    )
    say = pw.Action(
        name="Say",
        action_type=pw.ActionType(category="Compute", provider="Commands"),
        commands=["true"],
        inputs=[OUT],
    )
    pipeline = pipeline_of(pw.Stage(name="Source", actions=[action]), pw.Stage(name="Use", actions=[say]))
    with LocalExecutor(tmp_path / "wd", sources={"Source": source}, **executor) as x:
        return x.run(pipeline)


def _source(tmp_path: Path, provider: str) -> Any:
    if provider == "ECR":
        return DIGEST
    if provider == "S3":
        (tmp_path / "obj").mkdir()
        (tmp_path / "obj" / "index.html").write_text("hi\n")
        return tmp_path / "obj"
    git_repo(tmp_path / "repo", {"app.py": "print(1)\n"})
    return tmp_path / "repo"


@pytest.mark.parametrize("provider", sorted(CONFIGURATION))
def test_each_source_emits_exactly_its_documented_variables(tmp_path: Path, provider: str) -> None:
    """Variables reference (VARIABLES): each source action's output variables, as its catalog entry lists them.

    S3 sources emit BucketName, ETag, ObjectKey and VersionId; ECR sources RegistryId,
    RepositoryName, ImageTag, ImageDigest and ImageURI; git sources their commit's variables.

    Local: simulated: an S3 source's VersionId stands for the local object's version (one per
    content) and an ECR source's RegistryId is the account in the image URI given, else 000000000000.
    """
    spec = _catalog.source_spec(provider)
    assert spec is not None
    assert spec.output_variables is not None

    e = _run(tmp_path, provider, _source(tmp_path, provider))

    assert e.succeeded, e.action("Source", "Source").error
    assert sorted(spec.output_variables) == sorted(e.action("Source", "Source").output_variables)


def test_commit_message_is_kept_whole_up_to_100_kb(tmp_path: Path) -> None:
    """Variables reference (VARIABLES): CommitMessage holds the commit's message, up to 100 KB.

    A 20,000-character message is kept whole (it was cut at 4,096 characters); one longer than
    100 KB is cut at 100 KB (UTF-8 bytes, never inside a character).
    """
    body = "\n".join(f"line {i:05d} " + "x" * 40 for i in range(400))
    git_repo(tmp_path / "small", {"app.py": "1\n"}, "Subject\n\n" + body)
    git_repo(tmp_path / "huge", {"app.py": "1\n"}, "Huge\n\n" + "é" * 80_000)

    kept = _run(tmp_path / "a", "CodeCommit", tmp_path / "small")
    cut = _run(tmp_path / "b", "CodeCommit", tmp_path / "huge")

    assert "Subject\n\n" + body == kept.action("Source", "Source").output_variables["CommitMessage"]
    message = cut.action("Source", "Source").output_variables["CommitMessage"]
    assert 100 * 1024 - 1 <= len(message.encode()) <= 100 * 1024
    assert message.startswith("Huge\n\néé")


def test_s3_version_id_follows_the_objects_content(tmp_path: Path) -> None:
    """Amazon S3 source action reference (S3_SOURCE): VersionId is the version of the object that started the execution.

    Local: simulated: the same local content gives the same VersionId, changed content a new
    one; a sourceRevisions override gives its own.
    """
    folder = _source(tmp_path, "S3")
    first = _run(tmp_path / "a", "S3", folder)
    again = _run(tmp_path / "b", "S3", folder)
    (folder / "index.html").write_text("changed\n")
    changed = _run(tmp_path / "c", "S3", folder)

    ids = [e.action("Source", "Source").output_variables["VersionId"] for e in (first, again, changed)]

    assert ids[0] == ids[1] != ids[2]
    assert all(len(i) == 32 for i in ids)


def test_ecr_registry_id_is_the_account_of_the_image_uri(tmp_path: Path) -> None:
    """Amazon ECR source action reference (ECR_SOURCE): RegistryId is the account id of the image's registry."""
    uri = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/web@{DIGEST}"

    e = _run(tmp_path, "ECR", {"digest": DIGEST, "uri": uri})

    variables = e.action("Source", "Source").output_variables
    assert ("123456789012", uri) == (variables["RegistryId"], variables["ImageURI"])
