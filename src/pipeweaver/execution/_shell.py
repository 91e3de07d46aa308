"""Running shell commands the way CodeBuild does: phases, ``finally`` blocks, one shell session.

Layer: execution. Used by the ``Commands`` action, the CodeBuild handler and the Commands rule.
All phases run in one ``bash`` process so that ``cd`` and variables carry over between
commands (buildspec version 0.2 behaviour); each command is its own unit and the first failing
command ends its phase. Output is streamed line by line to the caller's log.

The shell runs in a session of its own, and whatever it started ends with the action: when the
script exits (success or failure) or the cancel event is set (stop-and-abandon, timeout), its
process group gets SIGTERM, then SIGKILL after a short grace. On Linux that also reaches
descendants that called ``setsid`` to leave the group, found by a random marker in their
environment; one that both left the session and dropped its environment (``env -i setsid ...``)
is out of reach without cgroups. A subreaper (``PR_SET_CHILD_SUBREAPER``) was not used: it is
process-wide, so every orphan of the host program would become its child to reap.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO

import attrs

__all__ = ["DRAIN_SECONDS", "EXITING", "KILL_GRACE", "Phase", "ShellResult", "build_script", "run_phases"]

#: Set when the interpreter exits, by :mod:`._pool`'s :mod:`atexit` handler before it joins the
#: engine's threads (actions and condition rules, all daemon threads), so that long commands and
#: waiting approvals stop instead of holding the process open.
EXITING = threading.Event()

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@attrs.frozen
class Phase:
    """One buildspec phase: its commands, its ``finally`` commands and its ``on-failure`` choice.

    ``on_failure="CONTINUE"`` lets the phases after a failed one run (the build still fails);
    ``"ABORT"`` (CodeBuild's default) skips them, except that ``post_build`` runs after a failed
    ``build`` phase.
    """

    name: str
    commands: tuple[str, ...] = ()
    finally_: tuple[str, ...] = ()
    on_failure: str = "ABORT"


@attrs.frozen
class ShellResult:
    """How a script ended: exit code, the first failure (phase, command, status) and the captured variables."""

    returncode: int
    failed_phase: str | None
    variables: Mapping[str, str]
    cancelled: bool = False
    failed_command: str | None = None
    failed_status: int | None = None

    def failure(self) -> str:
        """CodeBuild's words for the first failed command (``COMMAND_EXECUTION_ERROR: ...``)."""
        if self.failed_command is None:
            return f"phase {self.failed_phase} failed"
        first, *rest = self.failed_command.strip().splitlines() or [""]
        shown = first[:200] + (" ..." if rest or len(first) > 200 else "")
        reason = f"exit status {self.failed_status}"
        return f"COMMAND_EXECUTION_ERROR: Error while executing command: {shown}. Reason: {reason}"


# Bash's own variables, and the script's: never saved from a command or cleared before a restore.
_SPECIAL = (
    "^(BASH|BASH_.*|BASHOPTS|BASHPID|SHELLOPTS|EUID|UID|PPID|FUNCNAME|GROUPS|PIPESTATUS|LINENO|RANDOM|SRANDOM"
    "|SECONDS|EPOCHREALTIME|EPOCHSECONDS|HISTCMD|DIRSTACK|COMP_WORDBREAKS|_|SHLVL|OPTIND|OPTARG|OPTERR|PWD"
    "|__pw_.*|__PW_.*)$"
)

# Each command runs in a subshell of the one session, so that `exit 3` or a syntax error ends
# that command, not the build (CodeBuild then reports the command and runs what follows, such as
# post_build or finally). On its way out the subshell writes its variables, functions, working
# directory and shell options; the session loads them before the next command, so `cd`, `export`
# and plain assignments carry over as in buildspec version 0.2. Options are applied inside the
# next subshell only: `set -e` from a command must not stop the script that runs the commands.
_PRELUDE = r"""__pw_special='%(special)s'
__pw_failed=""
: > "$__PW_STATE.opts"
__pw_save() {
  local __pw_rc=$? __pw_v
  {
    for __pw_v in $(compgen -v); do
      [[ $__pw_v =~ $__pw_special ]] && continue
      declare -p "$__pw_v"
    done
    declare -f
    printf 'cd -- %%q\n' "$PWD"
  } > "$__PW_STATE" 2>/dev/null
  { set +o; shopt -p; } > "$__PW_STATE.opts" 2>/dev/null
  return $__pw_rc
}
__pw_clear() {
  local __pw_v
  for __pw_v in $(compgen -v); do
    [[ $__pw_v =~ $__pw_special ]] || unset -v "$__pw_v" 2>/dev/null
  done
}
__pw_check() {
  [ "$__pw_rc" -eq 0 ] && return 0
  [ -e "$__PW_FAILED" ] || printf '%%s\0%%s\0%%s\0' "$1" "$__pw_rc" "$__pw_cmd" > "$__PW_FAILED"
  echo "[pipeweaver] command failed in phase $1 with exit status $__pw_rc"
  return 1
}
"""


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _commands(phase: str, commands: Sequence[str], indent: str) -> list[str]:
    """Lines running *commands* in order until one fails; the phase's failure is recorded once."""
    lines = []
    for command in commands:
        # The restore is sourced at the top level, not in a function, so that what it declares
        # stays global.
        lines += [
            f'{indent}if [ -z "$__pw_phase_failed" ]; then',
            f"{indent}  __pw_cmd={_quote(command)}",
            f'{indent}  rm -f "$__PW_STATE"',
            f'{indent}  ( trap __pw_save EXIT; set --; . "$__PW_STATE.opts" 2>/dev/null; eval "$__pw_cmd" )',
            f"{indent}  __pw_rc=$?",
            # A command that never got to save (killed, or replaced by `exec`) changes nothing.
            f'{indent}  if [ -e "$__PW_STATE" ]; then __pw_clear; . "$__PW_STATE" 2>/dev/null; fi',
            f"{indent}  __pw_check {phase} || __pw_phase_failed=1",
            f"{indent}fi",
        ]
    return lines


def build_script(phases: Iterable[Phase], capture: Iterable[str]) -> str:
    """The bash script for *phases*, writing the variables in *capture* to ``$__PW_VARS``."""
    lines = [_PRELUDE % {"special": _SPECIAL}, '__pw_continue=""']
    for phase in phases:
        if phase.name == "post_build":
            # CodeBuild runs post_build after a failed build phase, not after install/pre_build.
            lines.append('if [ -z "$__pw_failed" ] || [ "$__pw_failed" = build ] || [ -n "$__pw_continue" ]; then')
        else:
            lines.append('if [ -z "$__pw_failed" ] || [ -n "$__pw_continue" ]; then')
        lines.append(
            '  if [ -z "$__pw_failed" ]; then export CODEBUILD_BUILD_SUCCEEDING=1; '
            "else export CODEBUILD_BUILD_SUCCEEDING=0; fi"
        )
        lines.append(f"  echo '[pipeweaver] phase {phase.name}'")
        lines.append('  __pw_phase_failed=""')
        lines.extend(_commands(phase.name, phase.commands, "  "))
        if phase.finally_:
            # finally runs whether or not the commands failed; its own failure fails the phase.
            lines.append('  __pw_commands_failed="$__pw_phase_failed"; __pw_phase_failed=""')
            lines.extend(_commands(phase.name, phase.finally_, "  "))
            lines.append('  __pw_phase_failed="${__pw_phase_failed:-$__pw_commands_failed}"')
        lines.append('  if [ -n "$__pw_phase_failed" ]; then')
        lines.append(f"    __pw_failed=${{__pw_failed:-{phase.name}}}")
        lines.append(f"    __pw_continue={'1' if phase.on_failure == 'CONTINUE' else ''}")
        lines.append("  fi")
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
    """
    Run *phases* in one shell in *cwd*; stream output to *log*; stop when *cancel* is set.

    The shell starts a session of its own. However the script ends (exit, failure, *cancel*,
    interpreter exit), every process it left behind is ended before this returns: SIGTERM,
    then SIGKILL after :data:`KILL_GRACE` seconds. That covers its process group and, on Linux,
    descendants that left the group with ``setsid`` but kept the environment (they carry
    ``__PW_SESSION``). A background process holding the output pipe open does not keep the
    action waiting: after the shell exits, output is read for at most :data:`DRAIN_SECONDS`
    once the processes are gone.
    """
    capture = tuple(capture)
    # Not a TemporaryDirectory: its finalizer removes the folder at interpreter exit, before
    # the exit handler has ended the shell, which then fails writing its state there. The
    # folder goes once the shell's processes are gone (the finally below).
    tmp = tempfile.mkdtemp(prefix="pw-shell-")
    try:
        return _run_in(tmp, phases, cwd=cwd, env=env, log=log, cancel=cancel, capture=capture)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run_in(
    tmp: str,
    phases: Sequence[Phase],
    *,
    cwd: Path,
    env: Mapping[str, str],
    log: Callable[[str], None],
    cancel: threading.Event,
    capture: tuple[str, ...],
) -> ShellResult:
    script = Path(tmp) / "script.sh"
    script.write_text(build_script(phases, capture))
    vars_file = Path(tmp) / "vars"
    failed_file = Path(tmp) / "failed"
    marker = secrets.token_hex(16)
    full_env = {
        **env,
        "__PW_VARS": str(vars_file),
        "__PW_STATE": str(Path(tmp) / "state"),
        "__PW_FAILED": str(failed_file),
        _MARKER: marker,
    }
    proc = subprocess.Popen(
        [_shell(), str(script)],
        cwd=cwd,
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    group = _Group(proc, marker)
    assert proc.stdout is not None
    lines = _Lines(log)
    failed_phase: str | None = None
    try:
        failed_phase = _pump(proc.stdout, group, cancel, lines)
    finally:
        # Whatever happened above (a log callback raising included), nothing outlives the call.
        group.end()
        proc.stdout.close()
        # Ended above if it was still running, so this does not wait long.
        code = proc.wait()
    variables: dict[str, str] = {}
    if vars_file.exists():
        parts = vars_file.read_bytes().decode("utf-8", "replace").split("\0")
        for i in range(0, len(parts) - 1, 2):
            variables[parts[i]] = parts[i + 1]
    failed = command = status = None
    if code != 0:
        failed = "killed" if group.cancelled else (failed_phase or "unknown")
    if failed_file.exists() and not group.cancelled:
        # The first command that failed (the file is written once per failure; keep the first).
        phase, rc, command, *_ = [*failed_file.read_bytes().decode("utf-8", "replace").split("\0"), "", "", ""]
        failed, status = phase, int(rc) if rc.isdigit() else None
    return ShellResult(
        returncode=code,
        failed_phase=failed,
        variables=variables,
        cancelled=group.cancelled,
        failed_command=command,
        failed_status=status,
    )


#: Seconds between SIGTERM and SIGKILL when an action's processes are ended.
KILL_GRACE = 2.0
#: Seconds output is still read after the shell exited and its processes were ended (a process
#: that escaped with the pipe open must not hold the action).
DRAIN_SECONDS = 0.5
_MARKER = "__PW_SESSION"
_TICK = 0.05
_KILL_ROUNDS = 50


class _Lines:
    """Splits raw output into lines for *log*, noting a failed phase announced by the script."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self.log = log
        self.pending = b""
        self.failed_phase: str | None = None

    def feed(self, chunk: bytes) -> None:
        *complete, self.pending = (self.pending + chunk).split(b"\n")
        for raw in complete:
            self._line(raw)

    def flush(self) -> None:
        if self.pending:
            self._line(self.pending)
            self.pending = b""

    def _line(self, raw: bytes) -> None:
        line = raw.decode("utf-8", "replace").rstrip("\r")
        if line.startswith("[pipeweaver] phase ") and line.endswith(" failed"):
            self.failed_phase = line.split()[2]
        self.log(line)


def _pump(stdout: IO[bytes], group: _Group, cancel: threading.Event, lines: _Lines) -> str | None:
    """Stream *stdout* to *lines* until the shell is over and its output drained (or given up)."""
    fd = stdout.fileno()
    selector = selectors.DefaultSelector()
    selector.register(fd, selectors.EVENT_READ)
    eof = False
    pause = 0.001
    ender: threading.Thread | None = None
    drain_until: float | None = None
    try:
        while True:
            if not eof:
                if selector.select(_TICK):
                    chunk = os.read(fd, 65536)
                    if chunk:
                        lines.feed(chunk)
                    else:
                        eof = True
            elif ender is None:
                # The pipe closed before the shell was seen to exit (usually a moment apart).
                cancel.wait(pause)
                pause = min(pause * 2, _TICK)
            else:
                ender.join(_TICK)
            if ender is None:
                exited = group.leader_exited()
                stop = not exited and (cancel.is_set() or EXITING.is_set())
                if not (exited or stop):
                    continue
                group.cancelled = stop
                if eof:
                    group.end()
                    break
                # End what is left in a thread while output keeps flowing: a process blocked
                # writing to a full pipe would not otherwise get to its SIGTERM handler.
                ender = threading.Thread(target=group.end, name="pipeweaver-shell-end", daemon=True)
                ender.start()
            elif not ender.is_alive():
                if eof:
                    break
                if drain_until is None:
                    drain_until = time.monotonic() + DRAIN_SECONDS
                elif time.monotonic() >= drain_until:
                    break
    finally:
        selector.close()
    if ender is not None:
        ender.join()
    lines.flush()
    return lines.failed_phase


class _Group:
    """
    The processes of one shell: its process group (the shell's pid) plus, on Linux, any process
    started after the shell that carries its session marker in its environment.

    The shell is not reaped until :meth:`end` has run (``waitid(WNOWAIT)`` sees it exit), so its
    pid, which is the group id, cannot be reused by an unrelated group while it is signalled.
    """

    def __init__(self, proc: subprocess.Popen[bytes], marker: str) -> None:
        self.proc = proc
        self.pgid = proc.pid
        self.needle = f"{_MARKER}={marker}".encode()
        self.cancelled = False
        self._lock = threading.Lock()
        self._ended = False
        self._born = _start_time(proc.pid)

    def leader_exited(self) -> bool:
        """Whether the shell has exited (without reaping it)."""
        if _WNOWAIT is None:
            return self.proc.poll() is not None
        try:
            return os.waitid(os.P_PID, self.pgid, os.WEXITED | os.WNOHANG | _WNOWAIT) is not None
        except ChildProcessError:  # already reaped
            return True

    def end(self) -> None:
        """SIGTERM every live process of the shell, SIGKILL those left after :data:`KILL_GRACE` (once)."""
        with self._lock:
            if self._ended:
                return
            self._ended = True
            targets = self.live()
            if not targets:
                return
            self._signal(targets, signal.SIGTERM)
            deadline = time.monotonic() + KILL_GRACE
            while targets and time.monotonic() < deadline:
                time.sleep(_TICK / 5)
                targets = self.live()
            # A process may still be forking when SIGKILL lands, and a killed one stays in /proc
            # until the kernel has torn it down (longer on a busy machine): each round signals
            # what is left, then waits a little, until nothing is left or the rounds run out.
            for _ in range(_KILL_ROUNDS):
                if not targets:
                    break
                self._signal(targets, signal.SIGKILL)
                targets = self.live()
                if targets:
                    time.sleep(_TICK / 5)
                    targets = self.live()

    def _signal(self, pids: set[int], signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, signum)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signum)

    def live(self) -> set[int]:
        """Pids of the shell's processes still running (zombies excluded; the group id stands for
        the whole group where ``/proc`` cannot be read)."""
        if self._born is None:
            # Without /proc the shell is reaped first so that a lone zombie leader does not
            # count as a live group.
            self.proc.poll()
            return {self.pgid} if _group_exists(self.pgid) else set()
        found: set[int] = set()
        me = os.getpid()
        for name in os.listdir("/proc"):
            if not name.isdigit() or int(name) == me:
                continue
            stat = _stat(int(name))
            if stat is None or stat[0] in "ZX":
                continue
            _, pgrp, started = stat
            if pgrp == self.pgid or (started >= self._born and self._carries_marker(int(name))):
                found.add(int(name))
        return found

    def _carries_marker(self, pid: int) -> bool:
        try:
            with open(f"/proc/{pid}/environ", "rb") as fh:
                environ = fh.read()
        except OSError:  # another user's process, or gone
            return False
        return self.needle in environ.split(b"\0")


_WNOWAIT: int | None = getattr(os, "WNOWAIT", None) if hasattr(os, "waitid") else None


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, process group, start time) from ``/proc/<pid>/stat``, or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read()
    except OSError:
        return None
    # The command name is in parentheses and may itself hold spaces and parentheses.
    fields = raw[raw.rfind(b")") + 2 :].split()
    try:
        return fields[0].decode(), int(fields[2]), int(fields[19])
    except (IndexError, ValueError):
        return None


def _start_time(pid: int) -> int | None:
    stat = _stat(pid) if os.path.isdir("/proc/self") else None
    return None if stat is None else stat[2]


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True
