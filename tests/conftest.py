"""Shared fixtures: the corpus of real public pipeline definitions and a sample pipeline."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

import pipeweaver as pw

settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
# CI gates a landing, so there the examples are the same on every run (a red run is
# reproducible, never a dice roll); developers' runs and `nox -s fuzz` keep exploring.
settings.register_profile("ci", parent=settings.get_profile("default"), derandomize=True, database=None)
settings.load_profile("ci" if os.environ.get("CI") else "default")

ROOT = Path(__file__).resolve().parent.parent


def _shared() -> Path:
    env = os.environ.get("PIPEWEAVER_SHARED")
    if env:
        return Path(env)
    return ROOT.parent / "shared"


CORPUS = _shared() / "corpus"


def corpus_manifest() -> dict[str, dict[str, Any]]:
    """The corpus manifest (file -> {valid, why}); empty when the corpus is not beside the checkout."""
    path = CORPUS / "manifest.json"
    if not path.exists():
        return {}
    data: dict[str, dict[str, Any]] = json.loads(path.read_text())
    return data


def corpus_files(kind: str) -> list[str]:
    """Corpus entries of one kind (``api`` or ``cfn``)."""
    return sorted(k for k in corpus_manifest() if k.startswith(kind + "/"))


@pytest.fixture(name="sample")
def _sample() -> pw.Pipeline:
    src = pw.Artifact("SourceOutput")
    built = pw.Artifact("BuildOutput")
    source = pw.Action(
        name="Source",
        action_type=pw.ActionType(category="Source", provider="CodeStarSourceConnection"),
        configuration={
            "ConnectionArn": "arn:aws:codeconnections:us-east-1:123456789012:connection/abc",
            "FullRepositoryId": "acme/web",
            "BranchName": "main",
        },
        outputs=[src],
        namespace="SourceVariables",
    )
    build = pw.Action(
        name="Build",
        action_type=pw.ActionType(category="Build", provider="CodeBuild"),
        configuration={"ProjectName": "web-build"},
        inputs=[src],
        outputs=[built],
        namespace="BuildVariables",
    )
    test = pw.Action(
        name="UnitTest",
        action_type=pw.ActionType(category="Test", provider="CodeBuild"),
        configuration={"ProjectName": "web-test"},
        inputs=[src],
    )
    deploy = pw.Action(
        name="Deploy",
        action_type=pw.ActionType(category="Deploy", provider="CodeDeploy"),
        run_order=2,
        configuration={"ApplicationName": "web", "DeploymentGroupName": "prod"},
        inputs=[built],
    )
    return pw.Pipeline(
        name="web",
        role_arn="arn:aws:iam::123456789012:role/PipelineRole",
        artifact_store=pw.ArtifactStore(location="my-artifact-bucket"),
        stages=[
            pw.Stage(name="Source", actions=[source]),
            pw.Stage(name="Build", actions=[build, test]),
            pw.Stage(name="Deploy", actions=[deploy]),
        ],
    )
