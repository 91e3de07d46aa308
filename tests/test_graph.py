"""The DAG, the execution plan and the critical path."""

from __future__ import annotations

import networkx as nx
import pytest
from hypothesis import given, settings

import pipeweaver as pw

from .strategies import pipelines


def test_edges_say_why(sample: pw.Pipeline) -> None:
    """Edges carry artifact, variable, run-order and stage-order reasons."""
    g = sample.graph()

    assert {"artifact", "stage-order"} == g.edges[("Source", "Source"), ("Build", "Build")]["reasons"]
    assert {"SourceOutput"} == g.edges[("Source", "Source"), ("Build", "Build")]["artifacts"]
    assert "stage-order" in g.edges[("Build", "UnitTest"), ("Deploy", "Deploy")]["reasons"]
    assert {"artifact"} <= g.edges[("Build", "Build"), ("Deploy", "Deploy")]["reasons"]
    assert nx.is_directed_acyclic_graph(g)


def test_variable_edges(sample: pw.Pipeline) -> None:
    """A #{Namespace.Key} reference links producer to consumer."""
    import attrs

    deploy = attrs.evolve(
        sample.stages[2].actions[0],
        configuration={"ApplicationName": sample.stages[0].actions[0].variable("CommitId"), "DeploymentGroupName": "g"},
    )
    p = attrs.evolve(sample, stages=[*sample.stages[:2], attrs.evolve(sample.stages[2], actions=[deploy])])

    edge = p.graph().edges[("Source", "Source"), ("Deploy", "Deploy")]

    assert "variable" in edge["reasons"]
    assert {"SourceVariables.CommitId"} == edge["variables"]


def test_plan_groups_run_order_waves(sample: pw.Pipeline) -> None:
    """The plan lists stages in order, each as waves of parallel actions."""
    plan = sample.plan()

    assert [["Source"], ["Build", "UnitTest"], ["Deploy"]] == [
        [a.name for wave in sp.waves for a in wave] for sp in plan
    ]
    assert [("Build", "UnitTest")] == [tuple(a.name for a in w) for w in plan.stages[1].waves]


def test_plan_repr_shows_its_shape(sample: pw.Pipeline) -> None:
    """A plan's repr is its shape (stage and action names by wave), not every field of every action."""
    assert (
        "Plan(stages=[StagePlan(stage='Source', waves=[['Source']]), "
        "StagePlan(stage='Build', waves=[['Build', 'UnitTest']]), "
        "StagePlan(stage='Deploy', waves=[['Deploy']])])"
    ) == repr(sample.plan())


def test_critical_path_sums_the_slowest_action_of_each_wave(sample: pw.Pipeline) -> None:
    """Waves wait for their slowest member; the critical path follows it."""
    cp = pw.critical_path(sample, {"Source/Source": 1, "Build/Build": 2, "Build/UnitTest": 5, "Deploy/Deploy": 3})

    assert 9.0 == cp.duration
    assert (("Source", "Source"), ("Build", "UnitTest"), ("Deploy", "Deploy")) == cp.actions


@given(pipelines())
@settings(max_examples=100)
def test_plan_never_runs_a_consumer_before_its_producer(pipeline: pw.Pipeline) -> None:
    """In every valid pipeline the graph is acyclic and producers come first in the plan."""
    g = pipeline.graph()
    position = {}
    for i, sp in enumerate(pipeline.plan()):
        for j, wave in enumerate(sp.waves):
            for action in wave:
                position[(sp.stage.name, action.name)] = (i, j)

    assert nx.is_directed_acyclic_graph(g)
    for u, v in g.edges:
        assert position[u] < position[v]


@pytest.mark.parametrize("n", [1, 3])
def test_parallel_wave_has_no_internal_edges(n: int) -> None:
    """Actions of one wave run together, so no edge links them."""
    src = pw.Artifact("s")
    actions = [
        pw.Action(name=f"A{i}", action_type=pw.ActionType(category="Build", provider="CodeBuild"), inputs=[src])
        for i in range(n)
    ]
    p = pw.Pipeline(
        name="p",
        role_arn="arn:aws:iam::123456789012:role/R",
        artifact_store=pw.ArtifactStore(location="bucket"),
        stages=[
            pw.Stage(
                name="S",
                actions=[
                    pw.Action(name="Src", action_type=pw.ActionType(category="Source", provider="S3"), outputs=[src])
                ],
            ),
            pw.Stage(name="B", actions=actions),
        ],
    )

    g = p.graph()

    assert [] == [(u, v) for u, v in g.edges if u[0] == "B" and v[0] == "B"]
