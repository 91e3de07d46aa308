"""The pipeline as a graph: actions as nodes, edges saying why one action follows another.

Layer: graph. The only module that imports networkx. Nodes are ``(stage name, action name)``
keys with the :class:`~pipeweaver.Action` and its stage index as attributes; each edge carries
the set of reasons (``"artifact"``, ``"variable"``, ``"run-order"``, ``"stage-order"``) and
the artifact names or variable references behind them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final, final

import attrs

from ._model import Action, Expression, Pipeline, Plan, StagePlan, plan
from ._public import publish

if TYPE_CHECKING:
    # networkx costs ~75 ms to import; `import pipeweaver` must stay fast, so it is imported
    # where a graph is built (measured by bench/run.py, cold import).
    import networkx as nx

__all__ = ["CriticalPath", "Plan", "StagePlan", "VARIABLE_REF", "build_graph", "critical_path", "plan", "references"]

NodeKey = tuple[str, str]

#: ``#{namespace.key}`` references (reference/codepipeline.md §2.3).
VARIABLE_REF: Final = re.compile(r"#\{([A-Za-z0-9@\-_]+)\.([A-Za-z0-9@\-_.]+)\}")


def references(action: Action) -> Iterator[tuple[str, str, str]]:
    """Yield ``(namespace, key, where)`` for every variable reference the action makes.

    *where* is the API JSON field it appears in (``configuration.X``, ``commands[0]``, ...).
    """
    for key, value in action.configuration.items():
        if isinstance(value, str):
            for m in VARIABLE_REF.finditer(value):
                yield m.group(1), m.group(2), f"configuration.{key}"
    for i, command in enumerate(action.commands):
        if not isinstance(command, str):  # an imported template's intrinsic: no text to read yet
            continue
        for m in VARIABLE_REF.finditer(command):
            yield m.group(1), m.group(2), f"commands[{i}]"
    for i, env in enumerate(action.environment_variables):
        if not isinstance(env.value, Expression):
            for m in VARIABLE_REF.finditer(env.value):
                yield m.group(1), m.group(2), f"environmentVariables[{i}].value"


def _add_reason(g: nx.DiGraph[NodeKey], u: NodeKey, v: NodeKey, reason: str, detail: str | None = None) -> None:
    if g.has_edge(u, v):
        data = g.edges[u, v]
    else:
        g.add_edge(u, v, reasons=set(), artifacts=set(), variables=set())
        data = g.edges[u, v]
    data["reasons"].add(reason)
    if reason == "artifact" and detail:
        data["artifacts"].add(detail)
    if reason == "variable" and detail:
        data["variables"].add(detail)


def build_graph(pipeline: Pipeline) -> nx.DiGraph[NodeKey]:
    """
    Return the action DAG of *pipeline*.

    Ordering edges follow AWS's semantics: every action of a runOrder wave precedes every
    action of the next wave in its stage (``run-order``), and the last wave of a stage precedes
    the first wave of the next stage (``stage-order``). Data edges link the producer of an
    input artifact (``artifact``) or of a referenced namespace (``variable``) to its consumer,
    whichever direction they point; a data edge that points backwards makes a cycle, which
    :func:`pipeweaver.lint` reports.
    """
    import networkx as nx

    g: nx.DiGraph[NodeKey] = nx.DiGraph()
    producers: dict[str, NodeKey] = {}
    namespaces: dict[str, NodeKey] = {}
    previous_wave: tuple[Action, ...] = ()
    previous_stage = ""
    for index, stage in enumerate(pipeline.stages):
        first = True
        for wave in stage.waves():
            for action in wave:
                key = (stage.name, action.name)
                g.add_node(key, action=action, stage=stage.name, stage_index=index)
                for art in action.outputs:
                    producers.setdefault(art.name, key)
                if action.namespace:
                    namespaces.setdefault(action.namespace, key)
            if previous_wave:
                reason = "stage-order" if first else "run-order"
                source_stage = previous_stage if first else stage.name
                for before in previous_wave:
                    for action in wave:
                        _add_reason(g, (source_stage, before.name), (stage.name, action.name), reason)
            previous_wave = wave
            first = False
        previous_stage = stage.name
    for stage, action in pipeline.actions():
        key = (stage.name, action.name)
        for art in action.inputs:
            producer = producers.get(art.name)
            if producer is not None and producer != key:
                _add_reason(g, producer, key, "artifact", art.name)
        for namespace, var, _where in references(action):
            producer = namespaces.get(namespace)
            if producer is not None and producer != key:
                _add_reason(g, producer, key, "variable", f"{namespace}.{var}")
    return g


@final
@attrs.frozen(kw_only=True)
class CriticalPath:
    """The longest chain of actions through a pipeline, given their durations.

    .. versionadded:: 0.1.0
    """

    duration: float
    actions: tuple[NodeKey, ...]


def critical_path(pipeline: Pipeline, durations: Mapping[NodeKey, float] | Mapping[str, float]) -> CriticalPath:
    """
    Return the critical path under AWS's ordering (waves wait for the whole previous wave).

    Args:
        durations: Seconds per action, keyed by ``(stage, action)`` or ``"Stage/Action"``;
            missing actions count as 0.
    """

    def duration(key: NodeKey) -> float:
        value: Any = durations.get(key) if key in durations else durations.get(f"{key[0]}/{key[1]}", 0.0)  # type: ignore[call-overload]
        return float(value or 0.0)

    g = build_graph(pipeline)
    best: dict[NodeKey, tuple[float, NodeKey | None]] = {}
    import networkx as nx

    order: Iterable[NodeKey] = nx.topological_sort(g)
    for node in order:
        start, parent = 0.0, None
        for pred in g.predecessors(node):
            if best[pred][0] > start:
                start, parent = best[pred][0], pred
        best[node] = (start + duration(node), parent)
    if not best:
        return CriticalPath(duration=0.0, actions=())
    end = max(best, key=lambda k: best[k][0])
    chain: list[NodeKey] = []
    cursor: NodeKey | None = end
    while cursor is not None:
        chain.append(cursor)
        cursor = best[cursor][1]
    return CriticalPath(duration=best[end][0], actions=tuple(reversed(chain)))


# Exported by the package root, which loads this module on first use only.
publish(globals(), ["CriticalPath"], "pipeweaver")
