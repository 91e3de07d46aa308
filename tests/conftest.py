"""Shared fixtures: conformance files (the project's own and, when present, the corpus) and a sample pipeline."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
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

#: The project's own conformance files: one small pipeline per case the corpus exercises.
FIXTURES = ROOT / "tests" / "fixtures" / "conformance"


def _shared() -> Path:
    env = os.environ.get("PIPEWEAVER_SHARED")
    if env:
        return Path(env)
    return ROOT.parent / "shared"


CORPUS = _shared() / "corpus"

#: Why a corpus test did not run; one line in pytest's summary.
CORPUS_ABSENT = "../shared/corpus is not beside this checkout (set PIPEWEAVER_SHARED)"


def corpus_present() -> bool:
    """Whether the corpus of public pipeline definitions is beside the checkout (CI has it)."""
    return (CORPUS / "manifest.json").is_file()


@dataclass(frozen=True)
class Case:
    """One conformance file, from the project's fixtures or the corpus, with its manifest verdict."""

    root: Path
    name: str
    valid: bool
    why: str

    @property
    def path(self) -> Path:
        return self.root / self.name

    def text(self) -> str:
        return self.path.read_text()

    def json(self) -> Any:
        return json.loads(self.text())


def _manifest(root: Path) -> dict[str, dict[str, Any]]:
    path = root / "manifest.json"
    if not path.is_file():
        return {}
    data: dict[str, dict[str, Any]] = json.loads(path.read_text())
    return data


def _cases(root: Path, kind: str) -> list[Case]:
    return [
        Case(root, name, bool(entry["valid"]), str(entry["why"]))
        for name, entry in sorted(_manifest(root).items())
        if name.startswith(kind + "/")
    ]


def fixture_cases(kind: str) -> list[Case]:
    """The project's own conformance files of one kind (``api`` or ``cfn``)."""
    return _cases(FIXTURES, kind)


def corpus_cases(kind: str) -> list[Case]:
    """Corpus entries of one kind; empty when the corpus is not beside the checkout."""
    return _cases(CORPUS, kind)


def fixture_case(name: str) -> Case:
    """One of the project's conformance files by name (``api/...`` or ``cfn/...``)."""
    (case,) = [c for c in fixture_cases(name.split("/")[0]) if c.name == name]
    return case


def corpus_case(name: str, *values: object) -> Any:
    """A parameter for one named corpus entry (and further values), skipped when the corpus is absent."""
    case = None
    if corpus_present():
        (case,) = [c for c in corpus_cases(name.split("/")[0]) if c.name == name]
    return pytest.param(case, *values, id=f"corpus/{name}", marks=pytest.mark.corpus)


def cases(kind: str, where: Callable[[Case], bool] = lambda case: True) -> list[Any]:
    """Parameters for a conformance test: every fixture, and every corpus entry when the corpus is there.

    Corpus parameters carry the ``corpus`` marker. Without the corpus there is one ``corpus``
    parameter, skipped with a one-line reason, rather than pytest's empty-parameter-set notice.
    """
    params = [pytest.param(c, id=f"fixtures/{c.name}") for c in fixture_cases(kind) if where(c)]
    if not corpus_present():
        return [*params, pytest.param(None, id="corpus", marks=pytest.mark.corpus)]
    return [
        *params,
        *(pytest.param(c, id=f"corpus/{c.name}", marks=pytest.mark.corpus) for c in corpus_cases(kind) if where(c)),
    ]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip tests marked ``corpus`` when the corpus is absent, saying why in one line per test."""
    if corpus_present():
        return
    for item in items:
        if item.get_closest_marker("corpus") is not None:
            item.add_marker(pytest.mark.skip(reason=CORPUS_ABSENT))


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
