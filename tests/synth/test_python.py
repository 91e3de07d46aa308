"""to_python: generated code is formatted, runs, and rebuilds an equal pipeline."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest
from hypothesis import given, settings

import pipeweaver as pw
from pipeweaver import _cfn
from pipeweaver.synth import from_cloudformation, from_codepipeline, to_python

from ..conftest import CORPUS, corpus_files
from ..strategies import pipelines
from ._strategies import pipelines_with_expressions


def _corpus_pipelines() -> list[tuple[str, pw.Pipeline]]:
    out = []
    for name in corpus_files("api"):
        try:
            out.append((name, from_codepipeline(json.loads((CORPUS / name).read_text()))))
        except pw.LoadError:
            continue
    for name in corpus_files("cfn"):
        template = _cfn.load_template((CORPUS / name).read_text())
        for logical_id in _cfn.find_pipelines(template):
            try:
                out.append((f"{name}#{logical_id}", from_cloudformation(template, logical_id)))
            except pw.LoadError:
                continue
    return out


CORPUS_PIPELINES = _corpus_pipelines()


def _run(code: str) -> Any:
    namespace: dict[str, Any] = {}
    exec(compile(code, "<generated>", "exec"), namespace)
    return namespace["pipeline"]


def _ruff_diff(code: str) -> str:
    ruff = shutil.which("ruff")
    assert ruff is not None, "ruff is a dev dependency of pipeweaver"
    result = subprocess.run([ruff, "format", "--diff", "-"], input=code, capture_output=True, text=True, check=False)
    return result.stdout


@pytest.mark.parametrize(("name", "pipeline"), CORPUS_PIPELINES, ids=[n for n, _ in CORPUS_PIPELINES])
def test_corpus_pipelines_round_trip_through_python(name: str, pipeline: pw.Pipeline) -> None:
    """Running the generated code of each corpus pipeline yields an equal pipeline."""
    assert pipeline == _run(to_python(pipeline))


@pytest.mark.parametrize(("name", "pipeline"), CORPUS_PIPELINES, ids=[n for n, _ in CORPUS_PIPELINES])
def test_generated_code_is_ruff_formatted(name: str, pipeline: pw.Pipeline) -> None:
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
    code = to_python(sample)

    assert 'source_output = pw.Artifact("SourceOutput")\nbuild_output = pw.Artifact("BuildOutput")\n' in code
    assert 3 == code.count("inputs=[source_output]") + code.count("inputs=[build_output]")
    assert "owner=" not in code
    assert "run_order=2" in code


def test_pipeline_that_fails_field_checks_is_rebuilt_unchecked() -> None:
    """An imported pipeline whose name AWS rejects still round-trips, inside `with unchecked():`."""
    pipeline = from_codepipeline(json.loads((CORPUS / "api/api-14-invalid-placeholder-name.json").read_text()))

    code = to_python(pipeline)

    assert "with unchecked():" in code
    assert pipeline == _run(code)


@settings(max_examples=100)
@given(pipelines_with_expressions())
def test_pipelines_with_expressions_round_trip_through_python(pipeline: pw.Pipeline) -> None:
    """Expressions are written as pw.Expression.of(...) and come back equal."""
    assert pipeline == _run(to_python(pipeline))
