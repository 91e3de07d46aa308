"""Execution reports: one self-contained HTML file saying what a pipeline execution did.

Layer: report (beside testing and cli, at the top). The page has no external scripts, fonts,
styles or images (a Content-Security-Policy forbids them), so it can be archived by CI and
opened anywhere. The pipeline diagram and the Gantt-style timeline are SVG drawn here from
the execution plan; nothing depends on Graphviz. Every piece of user data is HTML-escaped,
and log lines pass through :func:`mask` before they are written.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Final

from ._graph import plan
from ._masking import Masker
from ._model import Action, Pipeline
from .execution import ActionRecord, ActionStatus, Execution

__all__ = ["mask", "pipeline_svg", "render_html", "timeline_svg"]

#: Fill colours by status word; anything unknown (not run yet) is grey.
_COLOURS: Final = {
    "Succeeded": "#2e7d32",
    "Failed": "#c62828",
    "InProgress": "#1565c0",
    "Abandoned": "#6d4c41",
    "Stopped": "#6d4c41",
    "Stopping": "#6d4c41",
    "Superseded": "#757575",
    "Cancelled": "#757575",
    "Skipped": "#9e9e9e",
}
_NOT_RUN: Final = "#bdbdbd"

_BOX_W, _BOX_H, _COL_W, _ROW_H, _TOP = 170, 46, 230, 62, 56


def mask(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace every secret value (and its encoded forms), and anything that looks like a
    credential, with ``****``; the one :class:`~pipeweaver.execution.Masker` does the work.

    .. versionadded:: 0.1.0
    """
    return Masker(secrets, patterns=True)(text)


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _latest(execution: Execution | None) -> dict[tuple[str, str], ActionRecord]:
    latest: dict[tuple[str, str], ActionRecord] = {}
    if execution is not None:
        for record in execution.actions:
            latest[(record.stage, record.name)] = record
    return latest


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def pipeline_svg(pipeline: Pipeline, execution: Execution | None = None, *, standalone: bool = False) -> str:
    """Draw the pipeline as SVG: stages as columns, runOrder waves as bands, artifact edges.

    With an *execution*, each action box is coloured by its latest status.

    Args:
        standalone: Add the XML namespace so the result is a valid ``.svg`` file on its own.

    .. versionadded:: 0.1.0
    """
    the_plan = plan(pipeline)
    latest = _latest(execution)
    # Keyed by (stage, action): action names are unique only within their stage.
    boxes: dict[tuple[str, str], tuple[float, float]] = {}
    parts: list[str] = []
    height = 0
    for col, stage_plan in enumerate(the_plan.stages):
        x = 20 + col * _COL_W
        y = _TOP
        stage_parts: list[str] = []
        for wave_no, wave in enumerate(stage_plan.waves):
            band_h = len(wave) * _ROW_H
            stage_parts.append(
                f'<rect class="wave" x="{x + 5}" y="{y - 6}" width="{_COL_W - 50}" height="{band_h}" rx="6"/>'
                f'<text class="wave-label" x="{x + 10}" y="{y + 4}">{wave_no + 1}</text>'
            )
            for action in wave:
                record = latest.get((stage_plan.stage.name, action.name))
                colour = _COLOURS.get(str(record.status), _NOT_RUN) if record else _NOT_RUN
                # Without an execution there is no status to show: a drawing of the definition
                # labels each action with its category, not a misleading "not run".
                if execution is None:
                    status = str(action.action_type.category)
                    suffix = ""
                else:
                    status = str(record.status) if record else "not run"
                    suffix = f" ({_e(status)})"
                bx, by = x + 20, y
                boxes[(stage_plan.stage.name, action.name)] = (bx, by)
                for artifact in action.outputs:
                    boxes.setdefault(("artifact:", artifact.name), (bx, by))
                stage_parts.append(
                    f'<g class="action" data-stage="{_e(stage_plan.stage.name)}" data-action="{_e(action.name)}">'
                    f"<title>{_e(stage_plan.stage.name)}/{_e(action.name)}: "
                    f"{_e(action.action_type)}{suffix}</title>"
                    f'<rect x="{bx}" y="{by}" width="{_BOX_W}" height="{_BOX_H}" rx="6" fill="{colour}"/>'
                    f'<text class="name" x="{bx + 8}" y="{by + 19}">{_e(_short(action.name, 22))}</text>'
                    f'<text class="provider" x="{bx + 8}" y="{by + 36}">'
                    f"{_e(_short(action.provider, max(27 - 3 - len(status), 8)))} · {_e(status)}</text></g>"
                )
                y += _ROW_H
            y += 14
        height = max(height, y)
        parts.append(
            f'<g class="stage" data-stage="{_e(stage_plan.stage.name)}">'
            f'<rect class="stage-box" x="{x}" y="{_TOP - 36}" width="{_COL_W - 30}" height="{y - _TOP + 36}" rx="8"/>'
            f'<text class="stage-name" x="{x + 10}" y="{_TOP - 14}">{_e(_short(stage_plan.stage.name, 24))}</text>'
            + "".join(stage_parts)
            + "</g>"
        )
    edges: list[str] = []
    below = height + 14  # edges that skip a stage run under the stages, not through their boxes
    for stage, action in pipeline.actions():
        for artifact in action.inputs:
            source = boxes.get(("artifact:", artifact.name))
            target = boxes.get((stage.name, action.name))
            if source is None or target is None:
                continue
            x1, y1 = source[0] + _BOX_W, source[1] + _BOX_H / 2
            x2, y2 = target[0], target[1] + _BOX_H / 2
            if x2 - x1 > _COL_W:
                d = (
                    f"M{x1},{y1} C{x1 + 30},{y1} {x1 + 30},{below} {x1 + 60},{below} "
                    f"L{x2 - 60},{below} C{x2 - 30},{below} {x2 - 30},{y2} {x2},{y2}"
                )
            else:
                mid = (x1 + x2) / 2 if x2 > x1 else x1 + 30
                d = f"M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}"
            edges.append(
                f'<path class="edge" d="{d}" marker-end="url(#arrow)"><title>{_e(artifact.name)}</title></path>'
            )
    if any(" L" in e for e in edges):
        height = below + 6
    width = 20 + len(the_plan.stages) * _COL_W
    ns = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ""
    style = (
        "<style>.wave{fill:#f5f7fa;stroke:none}.wave-label{font:10px sans-serif;fill:#90a4ae}"
        ".stage-box{fill:none;stroke:#90a4ae;stroke-width:1.5}.stage-name{font:bold 14px sans-serif;fill:#263238}"
        ".name{font:bold 12px sans-serif;fill:#fff}.provider{font:11px sans-serif;fill:#fff}"
        ".edge{fill:none;stroke:#546e7a;stroke-width:1.4}</style>"
    )
    defs = (
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#546e7a"/></marker></defs>'
    )
    return (
        f'<svg{ns} class="pipeline" role="img" aria-label="pipeline {_e(pipeline.name)}" '
        f'width="{width}" height="{height + 10}" viewBox="0 0 {width} {height + 10}">'
        f"{style}{defs}{''.join(parts)}{''.join(edges)}</svg>" + ("\n" if standalone else "")
    )


def _seconds(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return (b - a).total_seconds()


def _fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "\u2013"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


def timeline_svg(execution: Execution) -> str:
    """A Gantt-style SVG: one bar per action attempt, on the execution's time axis.

    .. versionadded:: 0.1.0
    """
    records = [r for r in execution.actions if r.started_at is not None]
    if not records:
        return '<p class="empty">No action started.</p>'
    start = min(r.started_at for r in records if r.started_at is not None)
    ends = [r.ended_at or r.started_at for r in records]
    end = max([e for e in ends if e is not None] + [execution.ended_at or start])
    total = max((end - start).total_seconds(), 1e-3)
    label_w, bar_w, row = 240, 600, 24
    rows = []
    for i, record in enumerate(records):
        assert record.started_at is not None
        offset = (record.started_at - start).total_seconds()
        length = _seconds(record.started_at, record.ended_at or end) or 0.0
        x = label_w + bar_w * offset / total
        w = max(bar_w * length / total, 2.0)
        y = 10 + i * row
        colour = _COLOURS.get(str(record.status), _NOT_RUN)
        attempt = f" (attempt {record.attempt})" if record.attempt > 1 else ""
        rows.append(
            f'<g class="bar" data-status="{_e(record.status)}">'
            f"<title>{_e(record.stage)}/{_e(record.name)}{attempt}: {_e(record.status)}, "
            f"{_e(_fmt_duration(length))}</title>"
            f'<text class="label" x="4" y="{y + 15}">'
            f"{_e(_short(f'{record.stage} / {record.name}{attempt}', 34))}</text>"
            f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" rx="3" fill="{colour}"/></g>'
        )
    height = 30 + len(records) * row
    axis = (
        f'<line class="axis" x1="{label_w}" y1="{height - 14}" x2="{label_w + bar_w}" y2="{height - 14}"/>'
        f'<text class="tick" x="{label_w}" y="{height - 2}">0</text>'
        f'<text class="tick" x="{label_w + bar_w}" y="{height - 2}" text-anchor="end">{_e(_fmt_duration(total))}</text>'
    )
    style = (
        "<style>.label{font:12px sans-serif;fill:#263238}.tick{font:10px sans-serif;fill:#607d8b}"
        ".axis{stroke:#90a4ae}</style>"
    )
    return (
        f'<svg class="timeline" role="img" aria-label="timeline" width="{label_w + bar_w + 20}" height="{height}" '
        f'viewBox="0 0 {label_w + bar_w + 20} {height}">{style}{"".join(rows)}{axis}</svg>'
    )


def _read_log(record: ActionRecord, logs: Mapping[tuple[str, str], str] | None, workdir: Path | None) -> str:
    if logs is not None and (record.stage, record.name) in logs:
        return logs[(record.stage, record.name)]
    if not record.log_file:
        return ""
    path = Path(record.log_file)
    if not path.is_absolute() and workdir is not None:
        path = workdir / path
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"(log file {record.log_file} is not readable here)"


_CSS: Final = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#263238;background:#fff}
header{padding:18px 28px;color:#fff}
header h1{margin:0;font-size:22px}
main{padding:8px 28px 40px}
section{margin:22px 0}
h2{font-size:17px;border-bottom:1px solid #cfd8dc;padding-bottom:4px}
table{border-collapse:collapse;margin:6px 0}
td,th{border:1px solid #cfd8dc;padding:4px 9px;text-align:left;vertical-align:top}
th{background:#eceff1}
code,pre{font:12px/1.4 ui-monospace,'DejaVu Sans Mono',monospace}
pre{background:#263238;color:#eceff1;padding:10px;overflow:auto;max-height:360px;white-space:pre-wrap}
.status{display:inline-block;padding:1px 8px;border-radius:9px;color:#fff;font-size:12px}
.scroll{overflow-x:auto}
details{margin:6px 0}
summary{cursor:pointer}
.error{color:#c62828}
"""

# Checks the page rendered and marks <body data-selfcheck="ok">; any exception shows up as a
# console error, which the report test scans for.
_SCRIPT: Final = """
(function(){
  var ok = document.querySelectorAll('svg.pipeline g.action').length > 0 &&
           document.querySelector('#actions table') !== null;
  document.body.setAttribute('data-selfcheck', ok ? 'ok' : 'missing-parts');
  document.querySelectorAll('svg.pipeline g.action').forEach(function(g){
    g.style.cursor = 'pointer';
    g.addEventListener('click', function(){
      var el = document.getElementById('log-' + g.getAttribute('data-stage') + '/' + g.getAttribute('data-action'));
      if (el) { el.open = true; el.scrollIntoView(); }
    });
  });
})();
"""


def _badge(status: object) -> str:
    return f'<span class="status" style="background:{_COLOURS.get(str(status), _NOT_RUN)}">{_e(status)}</span>'


def render_html(
    execution: Execution,
    pipeline: Pipeline,
    *,
    secrets: Iterable[str] = (),
    logs: Mapping[tuple[str, str], str] | None = None,
    workdir: Path | None = None,
) -> str:
    """Render one execution as a single self-contained HTML page.

    Args:
        execution: The record to show (from an executor's ``run`` or its history).
        pipeline: The pipeline that ran, for the diagram and action types.
        secrets: Values to mask wherever they appear in logs, variables and summaries.
        logs: ``(stage, action) -> log text``; by default each record's ``log_file`` is read.
        workdir: Folder that relative ``log_file`` paths are relative to.

    .. versionadded:: 0.1.0
    """
    masker = Masker(secrets, patterns=True)

    def m(text: object) -> str:
        return _e(masker(str(text)))

    duration = _fmt_duration(_seconds(execution.started_at, execution.ended_at))
    colour = _COLOURS.get(str(execution.status), _NOT_RUN)
    actions_of: dict[tuple[str, str], Action] = {(s.name, a.name): a for s, a in pipeline.actions()}

    overview = (
        "<table>"
        f"<tr><th>Pipeline</th><td>{_e(execution.pipeline)}</td></tr>"
        f"<tr><th>Execution</th><td><code>{_e(execution.id)}</code></td></tr>"
        f"<tr><th>Status</th><td>{_badge(execution.status)}"
        + (f" {m(execution.status_summary)}" if execution.status_summary else "")
        + "</td></tr>"
        f"<tr><th>Trigger</th><td>{_e(execution.trigger.trigger_type)} {m(execution.trigger.detail)}</td></tr>"
        f"<tr><th>Started</th><td>{_e(execution.started_at or '')}</td></tr>"
        f"<tr><th>Duration</th><td>{_e(duration)}</td></tr>"
        f"<tr><th>Type</th><td>{_e(execution.execution_type)}"
        + (f" (rollback to {_e(execution.rollback_target)})" if execution.rollback_target else "")
        + "</td></tr></table>"
    )

    stage_rows = "".join(
        f"<tr><td>{_e(s.name)}</td><td>{_e(s.attempt)}</td><td>{_badge(s.status)}</td>"
        f"<td>{_e(_fmt_duration(_seconds(s.started_at, s.ended_at)))}</td>"
        f'<td class="error">{m(s.error or "")}</td></tr>'
        for s in execution.stages
    )
    action_rows = []
    for r in execution.actions:
        model = actions_of.get((r.stage, r.name))
        kind = _e(model.action_type) if model is not None else ""
        action_rows.append(
            f"<tr><td>{_e(r.stage)}</td><td>{_e(r.name)}</td><td><code>{kind}</code></td><td>{_e(r.attempt)}</td>"
            f"<td>{_badge(r.status)}</td><td>{_e(_fmt_duration(_seconds(r.started_at, r.ended_at)))}</td>"
            f"<td>{m(r.summary or '')}" + (f'<div class="error">{m(r.error)}</div>' if r.error else "") + "</td></tr>"
        )

    variable_rows = [
        f"<tr><td><code>variables.{_e(k)}</code></td><td>{m(v)}</td></tr>" for k, v in execution.variables.items()
    ]
    for r in execution.actions:
        if r.status is not ActionStatus.SUCCEEDED:
            continue
        model = actions_of.get((r.stage, r.name))
        ns = model.namespace if model is not None and model.namespace else f"{r.stage}/{r.name}"
        variable_rows.extend(
            f"<tr><td><code>{_e(ns)}.{_e(k)}</code></td><td>{m(v)}</td></tr>" for k, v in r.output_variables.items()
        )
    artifact_rows = "".join(
        f"<tr><td>{_e(name)}</td><td><code>{_e(ref.sha256)}</code></td><td>{_e(ref.size)}</td>"
        f"<td><code>{_e(ref.uri)}</code></td></tr>"
        for name, ref in execution.artifacts.items()
    )
    rules = getattr(execution, "rules", ())
    rule_rows = "".join(
        f"<tr><td>{_e(r.stage)}</td><td>{_e(r.condition)}</td><td>{_e(r.name)}</td><td>{_badge(r.status)}</td>"
        f"<td>{m(r.summary or '')}</td></tr>"
        for r in rules
    )
    log_blocks = []
    for r in execution.actions:
        text = masker(_read_log(r, logs, workdir))
        attempt = f" (attempt {r.attempt})" if r.attempt > 1 else ""
        body = _e(text) if text.strip() else "(no log lines)"
        log_blocks.append(
            f'<details id="log-{_e(r.stage)}/{_e(r.name)}"'
            + (" open" if r.status is ActionStatus.FAILED else "")
            + f"><summary>{_e(r.stage)} / {_e(r.name)}{attempt} {_badge(r.status)}</summary><pre>{body}</pre></details>"
        )

    def table(head: str, rows: str, empty: str) -> str:
        return f"<table><tr>{head}</tr>{rows}</table>" if rows else f"<p>{empty}</p>"

    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'; img-src data:\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(execution.pipeline)} \u00b7 {_e(execution.status)} \u00b7 pipeweaver report</title>"
        f"<style>{_CSS}</style></head><body>"
        f'<header style="background:{colour}"><h1>{_e(execution.pipeline)}: {_e(execution.status)}</h1>'
        f"<div>execution {_e(execution.id)} \u00b7 {_e(duration)}</div></header><main>"
        f'<section id="overview"><h2>Overview</h2>{overview}</section>'
        f'<section id="diagram"><h2>Pipeline</h2>'
        f'<div class="scroll">{pipeline_svg(pipeline, execution)}</div></section>'
        f'<section id="timeline"><h2>Timeline</h2><div class="scroll">{timeline_svg(execution)}</div></section>'
        f'<section id="stages"><h2>Stages</h2>'
        + table(
            "<th>Stage</th><th>Attempt</th><th>Status</th><th>Duration</th><th>Error</th>", stage_rows, "No stage ran."
        )
        + "</section>"
        '<section id="actions"><h2>Actions</h2>'
        + f"<table><tr><th>Stage</th><th>Action</th><th>Type</th><th>Attempt</th><th>Status</th><th>Duration</th>"
        f"<th>Summary</th></tr>{''.join(action_rows)}</table></section>"
        + (
            '<section id="conditions"><h2>Stage conditions</h2>'
            + table("<th>Stage</th><th>Condition</th><th>Rule</th><th>Status</th><th>Summary</th>", rule_rows, "")
            + "</section>"
            if rule_rows
            else ""
        )
        + '<section id="variables"><h2>Variables</h2>'
        + table("<th>Variable</th><th>Value</th>", "".join(variable_rows), "No variables.")
        + "</section>"
        '<section id="artifacts"><h2>Artifacts</h2>'
        + table("<th>Artifact</th><th>sha256</th><th>Bytes</th><th>Stored at</th>", artifact_rows, "No artifacts.")
        + "</section>"
        f'<section id="logs"><h2>Logs</h2>{"".join(log_blocks) or "<p>No logs.</p>"}</section>'
        f"</main><script>{_SCRIPT}</script></body></html>\n"
    )
