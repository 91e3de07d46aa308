"""to_python: generated code is formatted, runs, and rebuilds an equal pipeline."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings

import pipeweaver as pw
from pipeweaver import _cfn
from pipeweaver.synth import from_cloudformation, from_codepipeline, to_python

from ..conftest import Case, cases, fixture_case
from ..strategies import pipelines
from ._strategies import pipelines_with_expressions
from .test_cloudformation import EXAMPLES


def _pipelines_of(case: Case) -> list[tuple[str, pw.Pipeline]]:
    """The pipelines of one conformance file that load, each with an id suffix."""
    if case.name.startswith("api/"):
        try:
            return [("", from_codepipeline(case.json()))]
        except pw.LoadError:
            return []
    template = _cfn.load_template(case.text())
    out = []
    for logical_id in _cfn.find_pipelines(template):
        try:
            out.append((f"#{logical_id}", from_cloudformation(template, logical_id)))
        except pw.LoadError:
            continue
    return out


def _loaded_pipelines() -> list[Any]:
    """Every pipeline of the conformance files that loads, one parameter each (corpus ones marked)."""
    out = []
    for param in [*cases("api"), *cases("cfn")]:
        (case,) = param.values
        if case is None:  # the corpus is absent: keep one skipped parameter for it
            if param.id not in [p.id for p in out]:
                out.append(pytest.param(None, None, id=param.id, marks=param.marks))
            continue
        out += [
            pytest.param(case, pipeline, id=f"{param.id}{suffix}", marks=param.marks)
            for suffix, pipeline in _pipelines_of(case)
        ]
    return out


PIPELINES = _loaded_pipelines()


def _run(code: str) -> Any:
    namespace: dict[str, Any] = {}
    exec(compile(code, "<generated>", "exec"), namespace)
    return namespace["pipeline"]


def _ruff_diff(code: str) -> str:
    """What ruff would change or flag: the format diff plus import order and unused names."""
    # The interpreter's own ruff, found even when its bin/ is not on PATH.
    assert importlib.util.find_spec("ruff") is not None, "ruff is in the test extra: pip install -e '.[test]'"
    ruff = [sys.executable, "-m", "ruff"]
    fmt = subprocess.run([*ruff, "format", "--diff", "-"], input=code, capture_output=True, text=True, check=False)
    lint = subprocess.run(
        [*ruff, "check", "--isolated", "--select", "I,F", "--output-format", "concise", "-"],
        input=code,
        capture_output=True,
        text=True,
        check=False,
    )
    # 0: nothing to change, 1: changes or findings; a crash (2) must not pass as clean.
    assert {fmt.returncode, lint.returncode} <= {0, 1}, fmt.stderr + lint.stderr
    return fmt.stdout + ("" if lint.returncode == 0 else lint.stdout)


@pytest.mark.parametrize(("case", "pipeline"), PIPELINES)
def test_conformance_pipelines_round_trip_through_python(case: Case, pipeline: pw.Pipeline) -> None:
    """Running the generated code of each conformance pipeline yields an equal pipeline."""
    assert pipeline == _run(to_python(pipeline))


@pytest.mark.parametrize(("case", "pipeline"), PIPELINES)
def test_generated_code_is_ruff_formatted(case: Case, pipeline: pw.Pipeline) -> None:
    """ruff format would change nothing in the generated code."""
    assert "" == _ruff_diff(to_python(pipeline))


@settings(max_examples=200)
@given(pipelines())
def test_generated_pipelines_round_trip_through_python(pipeline: pw.Pipeline) -> None:
    """Running the generated code of a generated pipeline yields an equal pipeline."""
    assert pipeline == _run(to_python(pipeline))


@settings(max_examples=15)
@given(pipelines())
def test_generated_code_of_generated_pipelines_is_ruff_formatted(pipeline: pw.Pipeline) -> None:
    """ruff format would change nothing in the generated code, unusual characters included."""
    assert "" == _ruff_diff(to_python(pipeline))


def test_artifacts_are_variables_wired_by_object(sample: pw.Pipeline) -> None:
    """Each artifact is one variable, declared before the pipeline and passed by name."""
    code = to_python(sample, factories=False)

    assert 'source_output = pw.Artifact("SourceOutput")\nbuild_output = pw.Artifact("BuildOutput")\n' in code
    assert 3 == code.count("inputs=[source_output]") + code.count("inputs=[build_output]")
    assert "owner=" not in code
    assert "run_order=2" in code
    assert "actions." not in code


def test_known_providers_use_the_typed_factories(sample: pw.Pipeline) -> None:
    """Source, CodeBuild and CodeDeploy actions are written as calls of pipeweaver.actions factories."""
    code = to_python(sample)

    assert "from pipeweaver import actions\n" in code
    assert ["connection_source", "codebuild", "codebuild_test", "codedeploy"] == re.findall(r"actions\.(\w+)\(", code)
    assert 'project_name="web-build"' in code
    assert "pw.Action(" not in code
    assert sample == _run(code)


def test_action_no_factory_rebuilds_stays_plain() -> None:
    """A CodeBuild action with a setting the factory cannot express is written as pw.Action."""
    action = pw.Action(
        name="Build",
        action_type=pw.ActionType(category="Build", provider="CodeBuild"),
        configuration={"ProjectName": "p", "Unusual": "x"},
        inputs=[pw.Artifact("Src")],
    )
    source = pw.Action(
        name="Source",
        action_type=pw.ActionType(category="Source", provider="S3"),
        configuration={"S3Bucket": "b", "S3ObjectKey": "k"},
        outputs=[pw.Artifact("Src")],
    )
    pipeline = pw.Pipeline(
        name="p",
        role_arn="arn:aws:iam::123456789012:role/R",
        artifact_store=pw.ArtifactStore(location="bucket"),
        stages=[pw.Stage(name="S", actions=[source]), pw.Stage(name="B", actions=[action])],
    )

    code = to_python(pipeline)

    assert 2 == code.count("pw.Action(")
    assert pipeline == _run(code)


def test_pipeline_that_fails_field_checks_is_rebuilt_unchecked() -> None:
    """An imported pipeline whose name AWS rejects still round-trips, inside `with unchecked():`."""
    pipeline = from_codepipeline(fixture_case("api/invalid-template-placeholder-name.json").json())

    code = to_python(pipeline)

    assert "with unchecked():" in code
    assert pipeline == _run(code)


@settings(max_examples=100)
@given(pipelines_with_expressions())
def test_pipelines_with_expressions_round_trip_through_python(pipeline: pw.Pipeline) -> None:
    """Expressions are written as pw.Expression.of(...) and come back equal."""
    assert pipeline == _run(to_python(pipeline))


@pytest.mark.parametrize(("name", "pipeline"), EXAMPLES, ids=[n for n, _ in EXAMPLES])
def test_example_pipelines_round_trip_through_python(name: str, pipeline: pw.Pipeline) -> None:
    """Each example's pipeline comes back equal from its generated code, which ruff leaves alone."""
    code = to_python(pipeline)

    assert pipeline == _run(code)
    assert "" == _ruff_diff(code)


@pytest.mark.parametrize(
    ("name", "variable"),
    [
        ({"Fn::Sub": "${GitHubRepoName}-source"}, "git_hub_repo_name_source"),
        ({"Fn::Sub": ["${AWS::StackName}ChangeSet", {}]}, "stack_name_change_set"),
        ({"Ref": "ArtifactName"}, "artifact_name"),
        ({"Fn::Join": ["-", ["a", "b"]]}, "artifact"),
    ],
)
def test_an_artifact_named_by_an_intrinsic_gets_a_variable_named_after_it(name: Any, variable: str) -> None:
    """Real templates name artifacts with !Sub; to_python used to raise TypeError on them."""
    src = pw.Artifact(pw.Expression.of(name))
    pipeline = pw.Pipeline(
        name="p",
        role_arn="arn:aws:iam::123456789012:role/p",
        artifact_store=pw.ArtifactStore(location="bucket"),
        stages=[
            pw.Stage(
                name="Source",
                actions=[
                    pw.Action(
                        name="Get",
                        action_type=pw.ActionType(category="Source", provider="S3"),
                        configuration={"S3Bucket": "b", "S3ObjectKey": "k.zip", "PollForSourceChanges": "false"},
                        outputs=[src],
                    )
                ],
            ),
            pw.Stage(name="Build", actions=[pw.actions.codebuild("Compile", project_name="p", input=src)]),
        ],
    )

    code = to_python(pipeline)
    namespace: dict[str, Any] = {}
    exec(compile(code, "generated.py", "exec"), namespace)

    assert f"\n{variable} = pw.Artifact(" in code
    assert pipeline == namespace["pipeline"]
