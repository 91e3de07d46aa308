"""Fixtures for the trigger tests: pipelines shaped like AWS's documented trigger examples."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest

import pipeweaver as pw

CONNECTION = "arn:aws:codeconnections:us-east-1:123456789012:connection/abc"


def source_action(
    name: str = "ApplicationSource",
    *,
    provider: str = "CodeStarSourceConnection",
    config: Mapping[str, str] | None = None,
    artifact: str = "SourceOutput",
) -> pw.Action:
    """A git source action; configuration defaults follow the provider."""
    defaults: dict[str, str] = {
        "CodeStarSourceConnection": {
            "ConnectionArn": CONNECTION,
            "FullRepositoryId": "acme/monorepo-example",
            "BranchName": "mainline",
        },
        "CodeCommit": {"RepositoryName": "monorepo-example", "BranchName": "mainline"},
        "GitHub": {"Owner": "acme", "Repo": "monorepo-example", "Branch": "mainline", "OAuthToken": "****"},
    }[provider]
    owner = "ThirdParty" if provider == "GitHub" else "AWS"
    return pw.Action(
        name=name,
        action_type=pw.ActionType(category="Source", owner=owner, provider=provider),
        configuration={**defaults, **(config or {})},
        outputs=[pw.Artifact(artifact)],
    )


def make_pipeline(*sources: pw.Action, triggers: tuple[pw.Trigger, ...] = (), mode: str | None = None) -> pw.Pipeline:
    """A V2 pipeline with the given source actions and one Commands build reading the first."""
    build = pw.Action(
        name="Build",
        action_type=pw.ActionType(category="Compute", provider="Commands"),
        commands=["echo built"],
        inputs=[sources[0].outputs[0]],
    )
    return pw.Pipeline(
        name="MyServicePipeline",
        role_arn="arn:aws:iam::123456789012:role/PipelineRole",
        artifact_store=pw.ArtifactStore(location="my-artifact-bucket"),
        pipeline_type="V2",
        execution_mode=mode,
        stages=[pw.Stage(name="Source", actions=list(sources)), pw.Stage(name="Build", actions=[build])],
        triggers=triggers,
    )


def aws_example_trigger() -> pw.Trigger:
    """The trigger of AWS's 'Add filters for push and pull request event types (CLI)' example."""
    files = pw.GitFilter(
        includes=["projectA/**", "common/**/*.js"], excludes=["**/README.md", "**/LICENSE", "**/CONTRIBUTING.md"]
    )
    branches = pw.GitFilter(includes=["feature/**", "release/**"], excludes=["mainline"])
    return pw.Trigger(
        source_action_name="ApplicationSource",
        push=[
            pw.GitPushFilter(file_paths=files, branches=branches),
            pw.GitPushFilter(tags=pw.GitFilter(includes=["release-v0", "release-v1"], excludes=["release-v2"])),
        ],
        pull_request=[pw.GitPullRequestFilter(events=["CLOSED"], branches=branches, file_paths=files)],
    )


@pytest.fixture(name="aws_example")
def _aws_example() -> pw.Pipeline:
    return make_pipeline(source_action(), triggers=(aws_example_trigger(),))


@pytest.fixture(name="pipeline_with")
def _pipeline_with() -> Callable[..., pw.Pipeline]:
    return make_pipeline
