"""One benchmark sample, run in a fresh process by ``bench/run.py``.

Usage: ``python bench/child.py WORKLOAD CONTENDER SIZE``. Imports happen before the clock
starts; the timed region is the work itself. pipeweaver loads its modules lazily, on first use,
so "before the clock" means importing every module of the package (:func:`_preload`), and the
synth and lint rows also run their work once on a 2-action pipeline first: the in-process rows
measure the work, and the cold rows measure what a first call costs a user. Prints one JSON
object: ``{"seconds": ...}`` plus workload facts, or ``{"skipped": reason}`` when a piece under test is not available.
"""

from __future__ import annotations

import gc
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import shapes


def _preload() -> None:
    """Import every pipeweaver module, so that lazy imports are not timed (any tree alike)."""
    import importlib
    import pkgutil

    import pipeweaver

    for info in pkgutil.walk_packages(pipeweaver.__path__, "pipeweaver."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    # Importing leaves the collector's counts near a full collection, which then lands in the
    # timed region of one tree and not another (seen: 15 ms in one cell); pay it here.
    gc.collect()


def _size(text: str) -> tuple[int, int]:
    stages, actions = text.split("x")
    return int(stages), int(actions)


def synth(contender: str, size: str) -> dict[str, Any]:
    stages, actions = _size(size)
    facts: dict[str, Any] = {}
    if contender == "pipeweaver":
        import pipeweaver as pw
        from pipeweaver import synth as pws

        to_cfn: Callable[..., Any] | None = getattr(pws, "to_cloudformation", None)
        _preload()
        warm = shapes.pipeweaver_model(2, 1)
        pw.validate(warm)
        shapes.dumps(pws.to_codepipeline(warm))
        if to_cfn is not None:
            shapes.dumps(to_cfn(warm))
        start = time.perf_counter()
        pipeline = shapes.pipeweaver_model(stages, actions)
        pw.validate(pipeline)
        api = shapes.dumps(pws.to_codepipeline(pipeline))
        cfn = shapes.dumps(to_cfn(pipeline)) if to_cfn is not None else ""
        seconds = time.perf_counter() - start
        facts["cloudformation"] = to_cfn is not None
        facts["bytes"] = len(api) + len(cfn)
    elif contender == "floor":
        start = time.perf_counter()
        api = shapes.dumps(shapes.floor_declaration(stages, actions))
        cfn = shapes.dumps(shapes.floor_template(stages, actions))
        seconds = time.perf_counter() - start
        facts["bytes"] = len(api) + len(cfn)
    elif contender == "troposphere":
        try:
            import troposphere  # noqa: F401
        except ImportError:
            return {"skipped": "troposphere is not installed (pip install -e .[bench])"}
        start = time.perf_counter()
        cfn = shapes.troposphere_template(stages, actions).to_json(indent=None)
        seconds = time.perf_counter() - start
        facts["bytes"] = len(cfn)
    else:
        raise SystemExit(f"unknown contender {contender!r}")
    return {"seconds": seconds, **facts}


def lint(contender: str, size: str) -> dict[str, Any]:
    import pipeweaver as pw

    stages, actions = _size(size)
    pipeline = shapes.pipeweaver_model(stages, actions)
    _preload()
    pw.lint(shapes.pipeweaver_model(2, 1))
    start = time.perf_counter()
    issues = pw.lint(pipeline)
    seconds = time.perf_counter() - start
    errors = [str(i) for i in issues if i.is_error]
    return {"seconds": seconds, "actions": stages * actions, "issues": len(issues), "errors": errors[:3]}


def _floor_run(stages: int, actions: int, work: Callable[[], None]) -> float:
    import concurrent.futures

    import networkx as nx

    graph = nx.DiGraph()
    for s in range(stages):
        graph.add_node(("gate", s))
        for a in range(actions):
            graph.add_edge(("gate", s), (s, a))
            if s + 1 < stages:
                graph.add_edge((s, a), ("gate", s + 1))
    with concurrent.futures.ThreadPoolExecutor(max_workers=actions) as pool:
        start = time.perf_counter()
        for generation in nx.topological_generations(graph):
            todo = [node for node in generation if node[0] != "gate"]
            for future in [pool.submit(work) for _ in todo]:
                future.result()
        return time.perf_counter() - start


def _local_run(stages: int, actions: int, sleep: float, workdir: Path) -> dict[str, Any]:
    import pipeweaver as pw

    try:
        from pipeweaver.execution import LocalExecutor
    except ImportError:
        return {"skipped": "pipeweaver.execution.LocalExecutor has not landed"}

    def source(context: Any) -> None:
        if sleep:
            time.sleep(sleep)
        for out in context.outputs.values():
            (out / "README").write_text("bench\n")

    def work(context: Any) -> None:
        if sleep:
            time.sleep(sleep)

    source_type = pw.ActionType(category="Source", owner="Custom", provider="BenchSource", version="1")
    work_type = pw.ActionType(category="Build", owner="Custom", provider="BenchNoop", version="1")
    # AWS wants a source-only first stage: it holds `actions` no-op sources, each writing a
    # one-file artifact; the other stages hold `actions` parallel no-op actions each.
    stage_list = [
        pw.Stage(
            name="Source",
            actions=[
                pw.Action(name=f"Source{i}", action_type=source_type, outputs=[pw.Artifact(f"Src{i}")])
                for i in range(actions)
            ],
        )
    ]
    for s in range(1, stages):
        stage_list.append(
            pw.Stage(
                name=f"Stage{s}",
                actions=[pw.Action(name=f"Work{i}", action_type=work_type) for i in range(actions)],
            )
        )
    pipeline = pw.Pipeline(
        name="bench-run",
        role_arn=shapes.ROLE,
        artifact_store=pw.ArtifactStore(location=shapes.BUCKET),
        pipeline_type="V2",
        stages=stage_list,
    )
    executor = LocalExecutor(workdir=workdir, handlers={source_type: source, work_type: work})
    _preload()
    start = time.perf_counter()
    execution = executor.run(pipeline)
    seconds = time.perf_counter() - start
    if not execution.succeeded:
        return {"skipped": f"the bench pipeline did not succeed: {execution.status} {execution.status_summary}"}
    history = sorted(p.name for p in workdir.rglob("*") if p.suffix in (".db", ".sqlite", ".sqlite3"))
    return {"seconds": seconds, "actions": stages * actions, "history_files": history}


def run(contender: str, size: str) -> dict[str, Any]:
    """20 stages x 25 parallel no-op actions (the first stage: no-op sources)."""
    stages, actions = _size(size)
    if contender == "floor":
        return {"seconds": _floor_run(stages, actions, lambda: None), "actions": stages * actions}
    with tempfile.TemporaryDirectory(prefix="pw-bench-") as tmp:
        return _local_run(stages, actions, 0.0, Path(tmp) / ".pipeweaver")


def critical(contender: str, size: str) -> dict[str, Any]:
    """10 stages x 8 parallel actions sleeping 50 ms: ideal wall time is 10 x 50 ms."""
    stages, actions = _size(size)
    if contender == "floor":
        return {"seconds": _floor_run(stages, actions, lambda: time.sleep(0.05)), "ideal": stages * 0.05}
    with tempfile.TemporaryDirectory(prefix="pw-bench-") as tmp:
        out = _local_run(stages, actions, 0.05, Path(tmp) / ".pipeweaver")
    out["ideal"] = stages * 0.05
    return out


WORKLOADS: dict[str, Callable[[str, str], dict[str, Any]]] = {
    "synth": synth,
    "lint": lint,
    "run": run,
    "critical": critical,
}


def main(argv: list[str]) -> int:
    workload, contender, size = argv
    result = WORKLOADS[workload](contender, size)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
