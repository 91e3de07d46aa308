"""Running shell commands the way CodeBuild does: phases, ``finally`` blocks, one shell session.

Layer: execution. Used by the ``Commands`` action, the CodeBuild handler and the Commands rule.
All phases run in one ``bash`` process so that ``cd`` and variables carry over between
commands (buildspec version 0.2 behaviour); each command is its own unit and the first failing
command ends its phase. Output is streamed line by line to the caller's log; the process group
is killed when the cancel event is set (stop-and-abandon, timeout).
"""

from __future__ import annotations

import concurrent.futures.thread  # noqa: F401 - its exit hook must be registered before ours
import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import attrs

__all__ = ["EXITING", "Phase", "ShellResult", "build_script", "run_phases"]

#: Set when the interpreter starts shutting down. Registered after concurrent.futures' own exit
#: hook (which joins pool threads), so it runs first and long actions can stop instead of
#: holding the process open.
EXITING = threading.Event()
_register_atexit = getattr(threading, "_register_atexit", None)
if _register_atexit is not None:
    _register_atexit(EXITING.set)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@attrs.frozen
class Phase:
    """One buildspec phase: its commands and its ``finally`` commands."""

    name: str
    commands: tuple[str, ...] = ()
    finally_: tuple[str, ...] = ()


@attrs.frozen
class ShellResult:
    """How a script ended: exit code, the failed phase (if any) and the captured variables."""

    returncode: int
    failed_phase: str | None
    variables: Mapping[str, str]
    cancelled: bool = False


def _chain(commands: Sequence[str]) -> str:
    # Each command in braces on its own lines, so multi-line commands stay one unit.
    return " && ".join("{ " + c + "\n}" for c in commands)


def build_script(phases: Iterable[Phase], capture: Iterable[str]) -> str:
    """The bash script for *phases*, writing the variables in *capture* to ``$__PW_VARS``."""
    lines = ['__pw_failed=""']
    for phase in phases:
        if phase.name == "post_build":
            # CodeBuild runs post_build after a failed build phase, not after install/pre_build.
            guard = 'if [ -z "$__pw_failed" ] || [ "$__pw_failed" = build ]; then'
            lines.append(guard)
            lines.append(
                '  if [ -z "$__pw_failed" ]; then export CODEBUILD_BUILD_SUCCEEDING=1; '
                "else export CODEBUILD_BUILD_SUCCEEDING=0; fi"
            )
        else:
            lines.append('if [ -z "$__pw_failed" ]; then')
        lines.append(f"  echo '[pipeweaver] phase {phase.name}'")
        if phase.commands:
            lines.append(f"  {_chain(phase.commands)} || __pw_failed={phase.name}")
        if phase.finally_:
            lines.append(f"  {_chain(phase.finally_)} || __pw_failed=${{__pw_failed:-{phase.name}}}")
        lines.append("fi")
    for name in capture:
        if _NAME.fullmatch(name):
            lines.append(f'if [ -n "${{{name}+x}}" ]; then printf \'%s\\0%s\\0\' {name} "${name}" >> "$__PW_VARS"; fi')
    lines.append('if [ -n "$__pw_failed" ]; then echo "[pipeweaver] phase $__pw_failed failed"; exit 1; fi')
    lines.append("exit 0")
    return "\n".join(lines) + "\n"


def _shell() -> str:
    return shutil.which("bash") or "/bin/sh"


def run_phases(
    phases: Sequence[Phase],
    *,
    cwd: Path,
    env: Mapping[str, str],
    log: Callable[[str], None],
    cancel: threading.Event,
    capture: Iterable[str] = (),
) -> ShellResult:
    """Run *phases* in one shell in *cwd*; stream output to *log*; stop when *cancel* is set."""
    capture = tuple(capture)
    with tempfile.TemporaryDirectory(prefix="pw-shell-") as tmp:
        script = Path(tmp) / "script.sh"
        script.write_text(build_script(phases, capture))
        vars_file = Path(tmp) / "vars"
        full_env = {**env, "__PW_VARS": str(vars_file)}
        proc = subprocess.Popen(
            [_shell(), str(script)],
            cwd=cwd,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        killed = threading.Event()

        def watch() -> None:
            while proc.poll() is None:
                # Also stop when the interpreter is exiting, so a script that ends mid-run does
                # not wait for its commands (the history shows the execution as interrupted).
                if cancel.wait(0.1) or EXITING.is_set():
                    killed.set()
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    return

        watcher = threading.Thread(target=watch, name="pipeweaver-shell-watch", daemon=True)
        watcher.start()
        assert proc.stdout is not None
        failed_phase: str | None = None
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line.startswith("[pipeweaver] phase ") and line.endswith(" failed"):
                failed_phase = line.split()[2]
            log(line)
        proc.stdout.close()
        code = proc.wait()
        watcher.join()
        variables: dict[str, str] = {}
        if vars_file.exists():
            parts = vars_file.read_bytes().decode("utf-8", "replace").split("\0")
            for i in range(0, len(parts) - 1, 2):
                variables[parts[i]] = parts[i + 1]
        failed = None
        if code != 0:
            failed = "killed" if killed.is_set() else (failed_phase or "unknown")
        return ShellResult(returncode=code, failed_phase=failed, variables=variables, cancelled=killed.is_set())
