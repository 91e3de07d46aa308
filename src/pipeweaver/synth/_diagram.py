"""Pipeline diagrams: Mermaid and Graphviz DOT text, and SVG/PNG through Graphviz.

Layer: synth. Stages are groups (Mermaid subgraphs, DOT clusters) in pipeline order; inside
a stage, actions are laid out by ``runOrder`` wave; an edge joins the action that produces
an artifact to every action that reads it, labelled with the artifact's name. Node ids are
positional (``s1a0`` = stage 1, action 0) and every name is escaped, so output depends only
on the pipeline and is the same on every run.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
from collections.abc import Iterator

from .._model import Action, Artifact, Expression, Pipeline, Stage
from ..errors import SynthesisError

__all__ = ["to_dot", "to_mermaid", "to_png", "to_svg"]


def _name(value: str | Expression) -> str:
    # str(): an imported pipeline without Name is labelled by its logical id, not {"Ref":"AWS::NoValue"}
    return str(value)


def _node_ids(pipeline: Pipeline) -> dict[int, str]:
    return {id(a): f"s{i}a{j}" for i, stage in enumerate(pipeline.stages) for j, a in enumerate(stage.actions)}


def _edges(pipeline: Pipeline) -> Iterator[tuple[Action, Action, Artifact]]:
    """(producer, consumer, artifact) in pipeline order; inputs nobody produced are skipped."""
    producers: dict[str, Action] = {}
    for _stage, action in pipeline.actions():
        for artifact in action.outputs:
            producers.setdefault(artifact.name, action)
    for _stage, action in pipeline.actions():
        for artifact in action.inputs:
            producer = producers.get(artifact.name)
            if producer is not None and producer is not action:
                yield producer, action, artifact


def _subtitle(action: Action) -> str:
    kind = action.provider if action.owner.value == "AWS" else f"{action.owner.value}/{action.provider}"
    return f"{action.category.value}: {kind}" + _when(action)


def _when(element: Stage | Action) -> str:
    """What a conditional element of an imported template is shown with (every branch is drawn)."""
    return "" if element.when is None else f" (when {element.when})"


# -- Mermaid --------------------------------------------------------------------------------------


def _mermaid_text(text: str | Expression) -> str:
    # Mermaid entity codes keep quotes and markup characters literal inside "..." labels.
    out = []
    for char in _name(text):  # an imported template's name may be an expression: its JSON
        if char == '"':
            out.append("#quot;")
        elif char == "<":
            out.append("#lt;")
        elif char == ">":
            out.append("#gt;")
        elif char == "#":
            out.append("#35;")
        elif char in "\r\n\t":
            out.append(" ")
        else:
            out.append(char)
    return "".join(out)


def to_mermaid(pipeline: Pipeline, *, direction: str = "LR") -> str:
    """
    A Mermaid ``flowchart`` of *pipeline*: stages as subgraphs, artifact edges labelled.

    Actions are listed by ``runOrder`` and labelled ``runOrder. name`` with their category
    and provider; consecutive stages are joined by a plain edge.

    Args:
        direction: ``LR`` (default) or ``TB``.

    .. versionadded:: 0.1.0
    """
    if direction not in ("LR", "RL", "TB", "BT"):
        raise SynthesisError(f"direction must be LR, RL, TB or BT, not {direction!r}")
    ids = _node_ids(pipeline)
    lines = [f"flowchart {direction}"]
    for i, stage in enumerate(pipeline.stages):
        lines.append(f'    subgraph s{i}["{_mermaid_text(_name(stage.name) + _when(stage))}"]')
        lines.append("        direction TB")
        for wave in stage.waves():
            for action in wave:
                label = f"{action.run_order}. {_name(action.name)}<br/>{_subtitle(action)}"
                # The <br/> is ours; everything else is escaped.
                label = "<br/>".join(_mermaid_text(part) for part in label.split("<br/>", 1))
                lines.append(f'        {ids[id(action)]}["{label}"]')
        lines.append("    end")
    for i in range(len(pipeline.stages) - 1):
        lines.append(f"    s{i} --> s{i + 1}")
    for producer, consumer, artifact in _edges(pipeline):
        lines.append(f'    {ids[id(producer)]} -->|"{_mermaid_text(artifact.name)}"| {ids[id(consumer)]}')
    return "\n".join(lines) + "\n"


# -- DOT --------------------------------------------------------------------------------------------


def _dot_text(text: str | Expression) -> str:
    out = []
    for char in _name(text):  # an imported template's name may be an expression: its JSON
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char in "\r\n\t":
            out.append(" ")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def to_dot(pipeline: Pipeline, *, direction: str = "LR") -> str:
    """
    A Graphviz DOT digraph of *pipeline*: stages as clusters, waves side by side.

    Actions of one ``runOrder`` wave share a rank; invisible edges keep waves and stages in
    order; artifact edges are labelled with the artifact name.

    .. versionadded:: 0.1.0
    """
    if direction not in ("LR", "RL", "TB", "BT"):
        raise SynthesisError(f"direction must be LR, RL, TB or BT, not {direction!r}")
    ids = _node_ids(pipeline)
    lines = [
        "digraph pipeline {",
        f'    graph [rankdir={direction}, label={_dot_text(_name(pipeline.name))}, labelloc=t, fontname="Helvetica"];',
        '    node [shape=box, style="rounded,filled", fillcolor="#f5f5f5", fontname="Helvetica", fontsize=11];',
        '    edge [fontname="Helvetica", fontsize=10];',
    ]
    # (first node, a node of the last wave) per stage, to chain stages left to right.
    ends: list[tuple[str, str]] = []
    for i, stage in enumerate(pipeline.stages):
        lines.append(f"    subgraph cluster_s{i} {{")
        lines.append(f'        label={_dot_text(_name(stage.name) + _when(stage))}; style="rounded"; color="#888888";')
        previous: list[str] = []
        for wave in stage.waves():
            names = [ids[id(a)] for a in wave]
            for action in wave:
                label = f"{action.run_order}. {_name(action.name)}\n{_subtitle(action)}"
                text = "\\n".join(_dot_text(part)[1:-1] for part in label.split("\n", 1))
                lines.append(f'        {ids[id(action)]} [label="{text}"];')
            if len(names) > 1:
                lines.append(f"        {{ rank=same; {'; '.join(names)}; }}")
            if previous:
                lines.append(f"        {previous[0]} -> {names[0]} [style=invis];")
            previous = names
        if stage.actions:
            ends.append((ids[id(stage.waves()[0][0])], previous[0]))
        lines.append("    }")
    for (_, last), (first, _) in itertools.pairwise(ends):
        lines.append(f"    {last} -> {first} [style=invis, weight=10];")
    for producer, consumer, artifact in _edges(pipeline):
        lines.append(f"    {ids[id(producer)]} -> {ids[id(consumer)]} [label={_dot_text(artifact.name)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


# -- rendering --------------------------------------------------------------------------------------


def _render(pipeline: Pipeline, fmt: str, timeout: float) -> bytes:
    dot = shutil.which("dot")
    if dot is None:
        raise SynthesisError(
            f"rendering {fmt.upper()} needs Graphviz's 'dot' program, which is not on PATH; install Graphviz "
            "(e.g. 'apt install graphviz' or 'brew install graphviz'), or use to_dot()/to_mermaid() for text"
        )
    try:
        result = subprocess.run(
            [dot, f"-T{fmt}"], input=to_dot(pipeline).encode(), capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise SynthesisError(f"Graphviz 'dot' took longer than {timeout:g} s and was stopped") from None
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip() or f"exit status {result.returncode}"
        raise SynthesisError(f"Graphviz 'dot' failed: {message}")
    return result.stdout


def to_svg(pipeline: Pipeline, *, timeout: float = 60.0) -> str:
    """
    The pipeline diagram as SVG text, drawn by Graphviz's ``dot`` program.

    Raises:
        SynthesisError: when Graphviz is not installed (saying how to install it) or fails.

    .. versionadded:: 0.1.0
    """
    return _render(pipeline, "svg", timeout).decode()


def to_png(pipeline: Pipeline, *, timeout: float = 60.0) -> bytes:
    """
    The pipeline diagram as PNG bytes, drawn by Graphviz's ``dot`` program.

    Raises:
        SynthesisError: when Graphviz is not installed (saying how to install it) or fails.

    .. versionadded:: 0.1.0
    """
    return _render(pipeline, "png", timeout)
