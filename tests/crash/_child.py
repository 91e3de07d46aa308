"""A runner process for the crash suite (the parent kills it with SIGKILL).

Usage: ``python _child.py run WORKDIR READY`` starts the crash pipeline once;
``python _child.py retry WORKDIR READY GO EXECUTION_ID STAGE`` waits for the file GO to appear,
then tries to retry the stage, printing ``advanced <status>`` or ``refused <reason>``.
READY is created once the executor is open, just before the work starts.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _pipeline

from pipeweaver.errors import ExecutionError


def main(argv: list[str]) -> int:
    mode, workdir, ready = argv[:3]
    x = _pipeline.executor(Path(workdir))
    if mode == "run":
        Path(ready).touch()
        x.run(_pipeline.build())
        return 0
    go, execution_id, stage = argv[3:6]
    Path(ready).touch()
    while not Path(go).exists():
        time.sleep(0.001)
    try:
        done = x.retry(execution_id, stage, wait=True)
    except ExecutionError as exc:
        print(f"refused {exc}", flush=True)
        return 0
    print(f"advanced {done.status.value}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
