"""The pipeline the crash suite kills: 6 stages, artifacts passed along a checked chain.

Shared by the test (parent) and ``_child.py`` (the runner that gets SIGKILLed), so both sides
register the same handlers. Each step reads its input artifact, checks the chain of lines the
earlier steps wrote, appends its own and writes the output artifact: a retried execution that
succeeds has therefore read intact artifacts all the way.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path
from typing import Any

import pipeweaver as pw
from pipeweaver.execution import ActionContext, ActionFailed

STAGES = 6
NAME = "crash"
SOURCE = pw.ActionType(category="Source", owner="Custom", provider="CrashSource", version="1")
STEP = pw.ActionType(category="Build", owner="Custom", provider="CrashStep", version="1")
#: Seconds each action sleeps, drawn per call: the run lasts about STAGES x 60 ms.
SLEEP = (0.02, 0.08)


def build() -> pw.Pipeline:
    """Source -> Step1..Step5, each stage one chained step plus a parallel side action."""
    previous = pw.Artifact("Chain0")
    stages = [pw.Stage(name="Source", actions=[pw.Action(name="Fetch", action_type=SOURCE, outputs=[previous])])]
    for k in range(1, STAGES):
        out = pw.Artifact(f"Chain{k}")
        stages.append(
            pw.Stage(
                name=f"Step{k}",
                actions=[
                    pw.Action(name="Extend", action_type=STEP, inputs=[previous], outputs=[out]),
                    pw.Action(name="Check", action_type=STEP, inputs=[previous]),
                ],
            )
        )
        previous = out
    return pw.Pipeline(
        name=NAME,
        role_arn="arn:aws:iam::123456789012:role/crash",
        artifact_store=pw.ArtifactStore(location="crash-artifacts"),
        pipeline_type="V2",
        stages=stages,
    )


def _pause() -> None:
    time.sleep(random.uniform(*SLEEP))


def fetch(ctx: ActionContext) -> None:
    _pause()
    out = ctx.outputs["Chain0"]
    (out / "chain.txt").write_text("0\n")
    # a few KB of incompressible data, so a torn zip would be noticed by its hash
    (out / "payload.bin").write_bytes(os.urandom(4096))


def step(ctx: ActionContext) -> None:
    [(name, folder)] = ctx.inputs.items()
    k = int(name.removeprefix("Chain"))
    lines = (folder / "chain.txt").read_text().split()
    if lines != [str(i) for i in range(k + 1)]:
        raise ActionFailed(f"input {name} holds a broken chain {lines}")
    if len((folder / "payload.bin").read_bytes()) != 4096:
        raise ActionFailed(f"input {name} lost its payload")
    _pause()
    for out_name, out in ctx.outputs.items():
        (out / "chain.txt").write_text("\n".join([*lines, str(k + 1)]) + "\n")
        (out / "payload.bin").write_bytes((folder / "payload.bin").read_bytes())
        assert out_name == f"Chain{k + 1}"


HANDLERS: dict[Any, Any] = {SOURCE: fetch, STEP: step}


def executor(workdir: Path) -> pw.execution.LocalExecutor:
    """A LocalExecutor on *workdir* with the crash handlers."""
    from pipeweaver.execution import LocalExecutor

    return LocalExecutor(workdir, handlers=HANDLERS)
