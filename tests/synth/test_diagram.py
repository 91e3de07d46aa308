"""Diagrams: Mermaid and DOT text are deterministic, escaped and complete; Graphviz renders them."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings

import pipeweaver as pw
from pipeweaver._names import unchecked
from pipeweaver.synth import from_cloudformation, from_codepipeline, to_codepipeline, to_dot, to_mermaid, to_png, to_svg

from ..conftest import fixture_case
from ..strategies import pipelines

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")


def _parallel() -> pw.Pipeline:
    return from_codepipeline(fixture_case("api/parallel-invokes-third-party-test.json").json())


def _artifact_edges(pipeline: pw.Pipeline) -> int:
    produced = {a.name for _, action in pipeline.actions() for a in action.outputs}
    return sum(1 for _, action in pipeline.actions() for a in action.inputs if a.name in produced)


def test_mermaid_groups_stages_and_labels_artifact_edges(sample: pw.Pipeline) -> None:
    """One subgraph per stage, one node per action, one labelled edge per produced input."""
    text = to_mermaid(sample)

    assert ["Source", "Build", "Deploy"] == re.findall(r'subgraph s\d+\["([^"]*)"\]', text)
    assert 4 == len(re.findall(r'^\s+s\d+a\d+\["', text, re.M))
    assert [
        's0a0 -->|"SourceOutput"| s1a0',
        's0a0 -->|"SourceOutput"| s1a1',
        's1a0 -->|"BuildOutput"| s2a0',
    ] == re.findall(r"s\d+a\d+ -->\|\"[^\"]*\"\| s\d+a\d+", text)


def test_actions_are_listed_in_run_order() -> None:
    """Inside a stage, actions appear by runOrder with the runOrder shown."""
    text = to_mermaid(_parallel())
    release = text.split('subgraph s2["Release"]')[1].split("end")[0]

    assert ["1", "2", "3", "3", "4", "4"] == re.findall(r'\["(\d+)\. ', release)


def test_output_is_deterministic(sample: pw.Pipeline) -> None:
    """An equal pipeline, rebuilt from its JSON, gives byte-identical diagrams."""
    again = from_codepipeline(to_codepipeline(sample))

    assert to_mermaid(sample) == to_mermaid(again)
    assert to_dot(sample) == to_dot(again)


def test_names_are_escaped() -> None:
    """An action named by an expression (quotes, braces) is escaped in Mermaid and DOT."""
    pipeline = from_cloudformation(fixture_case("cfn/invalid-role-without-account.yaml").text())

    mermaid = to_mermaid(pipeline)
    dot = to_dot(pipeline)

    assert "#quot;Ref#quot;:#quot;CompileStep#quot;" in mermaid
    assert all(line.count('"') % 2 == 0 for line in mermaid.splitlines())
    assert '{\\"Ref\\":\\"CompileStep\\"}' in dot


def test_mermaid_escapes_markup_characters() -> None:
    """Quotes, angle brackets and # in labels become Mermaid entity codes."""
    with unchecked():
        source = pw.Action(
            name='a"<b>#1',
            action_type=pw.ActionType(category="Source", provider="S3"),
            outputs=[pw.Artifact("x")],
        )
        pipeline = pw.Pipeline(name="p", role_arn="r", stages=[pw.Stage(name="S", actions=[source])])

    assert '["1. a#quot;#lt;b#gt;#35;1<br/>Source: S3"]' in to_mermaid(pipeline)


@needs_dot
def test_svg_has_a_node_per_action_and_an_edge_per_artifact() -> None:
    """The SVG Graphviz draws holds every action and every artifact edge."""
    pipeline = _parallel()

    svg = ET.fromstring(to_svg(pipeline))
    groups = [g.get("class") for g in svg.iter("{http://www.w3.org/2000/svg}g")]

    assert sum(len(s.actions) for s in pipeline.stages) == groups.count("node")
    assert _artifact_edges(pipeline) == sum(
        1
        for g in svg.iter("{http://www.w3.org/2000/svg}g")
        if g.get("class") == "edge" and g.find("{http://www.w3.org/2000/svg}text") is not None
    )
    assert len(pipeline.stages) == groups.count("cluster")


@needs_dot
def test_png_is_a_png(sample: pw.Pipeline) -> None:
    """to_png returns PNG bytes."""
    assert b"\x89PNG\r\n\x1a\n" == to_png(sample)[:8]


@needs_dot
@settings(max_examples=20)
@given(pipelines())
def test_graphviz_accepts_every_generated_pipeline(pipeline: pw.Pipeline) -> None:
    """dot parses and lays out the DOT of generated pipelines, unusual characters included."""
    svg = ET.fromstring(to_svg(pipeline))

    assert sum(len(s.actions) for s in pipeline.stages) == sum(
        1 for g in svg.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "node"
    )


def test_missing_graphviz_is_a_clear_error(
    sample: pw.Pipeline, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without dot on PATH, to_svg raises SynthesisError saying to install Graphviz."""
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(pw.SynthesisError) as info:
        to_svg(sample)

    assert "install Graphviz" in str(info.value)
