"""One action attempt, run on a pool thread: resolve, fetch inputs, call the handler, store outputs.

Layer: execution. The engine (:mod:`._run`) makes a :class:`Job` per attempt and reads it back
from its completion queue; nothing here writes history or decides what happens next.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NoReturn, TextIO

import attrs

from .._masking import SECRET_CONFIGURATION_KEYS, Masker, is_secret
from .._model import Action, EnvironmentVariableType, Expression, Pipeline, Stage
from ..errors import ArtifactError
from ._base import (
    ActionContext,
    ActionFailed,
    ActionRecord,
    ActionResult,
    ActionStatus,
    ArtifactRef,
    ArtifactStore,
    Event,
    FailureType,
    LogLine,
    check_continuation_token,
)
from ._capture import routed
from ._clock import Clock
from ._paths import confine

__all__ = ["Attempts", "Job", "fail_expression"]

OUTPUT_VARIABLES_LIMIT = 122_880
MAX_CONTINUATIONS = 10_000
#: How to fix an artifact name that would put its folder outside the action's (checks are off
#: when a definition is loaded unchecked and run with ``validate=False``).
_ARTIFACT_FIX = "artifact names are 1-100 letters, digits, '_' and '-' (ArtifactName)"


class _LocalContext(ActionContext):
    """An :class:`ActionContext` whose scratch directory is created when first used.

    Creating a directory costs a few hundred microseconds on some file systems, more than the
    whole per-action budget of a no-op action; most handlers never touch their scratch space.
    """

    __slots__ = ("_made", "_scratch")
    _made: bool
    _scratch: Path

    @property
    def workdir(self) -> Path:
        if not self._made:
            self._scratch.mkdir(parents=True, exist_ok=True)
            self._made = True
        return self._scratch

    @workdir.setter
    def workdir(self, value: Path) -> None:
        self._scratch = value
        self._made = False


class Job:
    """One attempt of one action: what it ran with and how it ended."""

    __slots__ = (
        "action",
        "attempt",
        "cancel",
        "deadline",
        "dir",
        "error",
        "index",
        "log_fh",
        "log_lock",
        "log_path",
        "over",
        "position",
        "record",
        "refs",
        "resolved",
        "result",
        "stage",
        "status",
    )

    def __init__(
        self, stage: Stage, action: Action, attempt: int, index: int, directory: Path, deadline: float
    ) -> None:
        self.stage = stage
        self.action = action
        self.attempt = attempt
        self.index = index
        self.dir = directory
        self.deadline = deadline
        self.cancel = threading.Event()
        self.status = ActionStatus.IN_PROGRESS
        self.error: str | None = None
        self.result: ActionResult | None = None
        self.refs: list[ArtifactRef] = []
        self.resolved: dict[str, str] = {}
        self.log_fh: TextIO | None = None
        self.log_path: Path | None = None
        # Set (under log_lock) when the engine records the attempt's end, which for a timeout or
        # an abandon comes before its handler returns: output after that is not shown any more.
        self.over = False
        self.log_lock = threading.Lock()
        self.record: ActionRecord | None = None
        self.position: int | None = None


class Attempts:
    """Runs the action attempts of one execution."""

    def __init__(
        self,
        *,
        pipeline: Pipeline,
        execution_id: str,
        run_dir: Path,
        masker: Masker,
        store: ArtifactStore,
        handler_for: Callable[[Stage, Action], Callable[[ActionContext], ActionResult | None]],
        secret_value: Callable[..., str],
        resolve: Callable[[str], str],
        artifact: Callable[[str], ArtifactRef | None],
        source_revisions: Mapping[str, str],
        emit: Callable[[Event], None],
        clock: Clock,
        completions: queue.SimpleQueue[Job | None],
    ) -> None:
        self.pipeline = pipeline
        self.name = str(pipeline.name)
        self.id = execution_id
        self.run_dir = run_dir
        self.masker = masker
        self.store = store
        self.handler_for = handler_for
        self.secret_value = secret_value
        self.resolve = resolve
        self.artifact = artifact
        self.source_revisions = source_revisions
        self.emit = emit
        self.clock = clock
        self.completions = completions

    def log(self, job: Job, line: str) -> None:
        """Append *line* (masked) to the attempt's log file and announce it."""
        line = self.masker(line)
        with job.log_lock:
            if job.log_fh is None:
                job.dir.mkdir(parents=True, exist_ok=True)
                job.log_path = job.dir / "log.txt"
                job.log_fh = job.log_path.open("a", encoding="utf-8", buffering=1)
            job.log_fh.write(line + "\n")
            if job.over:
                # The attempt already ended (timed out, abandoned) and the run has moved on, its
                # summary perhaps printed: what its processes say while they are ended stays in
                # its log file, not on the terminal.
                job.log_fh.close()
                job.log_fh = None
                return
        self.emit(
            LogLine(
                execution_id=self.id,
                pipeline=self.name,
                at=self.clock.now(),
                stage=job.stage.name,
                action=job.action.name,
                line=line,
            )
        )

    def execute(self, job: Job) -> None:
        """Run *job* to its end (on a pool thread) and hand it to the engine's completion queue."""
        try:
            # What an in-process handler prints belongs to this action's log, masked like the rest.
            with routed(lambda line: self.log(job, line)):
                self._execute(job)
        except ActionFailed as exc:
            job.status, job.error = ActionStatus.FAILED, exc.message
        except ArtifactError as exc:
            job.status, job.error = ActionStatus.FAILED, str(exc)
        except Exception as exc:
            job.status, job.error = ActionStatus.FAILED, f"{type(exc).__name__}: {exc}"
            with contextlib.suppress(Exception):
                self.log(job, "".join(traceback.format_exception(exc)).rstrip())
        except BaseException as exc:
            # SystemExit, KeyboardInterrupt and the like from a handler on this pool thread are
            # the handler's failure, not a request to stop the program: a real Ctrl-C reaches the
            # main thread, which stops the run. Left to the pool they would end the task without
            # a completion, and the action would wait for its timeout (24 h by default).
            detail = f": {exc}" if str(exc) else ""
            job.status = ActionStatus.FAILED
            job.error = f"the handler of {job.stage.name}/{job.action.name} raised {type(exc).__name__}{detail}"
            with contextlib.suppress(Exception):
                self.log(job, "".join(traceback.format_exception(exc)).rstrip())
        self.completions.put(job)

    def _execute(self, job: Job) -> None:
        action, stage = job.action, job.stage
        handler = self.handler_for(stage, action)
        for key, value in action.configuration.items():
            if isinstance(value, Expression):
                fail_expression(key)
            job.resolved[key] = self.resolve(value)
        secrets = set()
        for key, resolved in job.resolved.items():
            if key in SECRET_CONFIGURATION_KEYS or is_secret(key, resolved):
                secrets.add(resolved)
        environment: dict[str, str] = {}
        for env in action.environment_variables:
            if isinstance(env.value, Expression):
                fail_expression(f"environmentVariables {env.name}")
            if env.type is EnvironmentVariableType.SECRETS_MANAGER:
                value = self.secret_value(env.value, where=f"environment variable {env.name}")
                secrets.add(value)
            else:
                value = self.resolve(env.value)
            environment[env.name] = value
        if secrets:
            self.masker.add(secrets)
        workdir = job.dir / "work"
        inputs: dict[str, Path] = {}
        for art in action.inputs:
            ref = self.artifact(art.name)
            if ref is None:
                raise ActionFailed(f"input artifact {art.name!r} was not produced earlier in this execution")
            path = confine(job.dir / "in", art.name, what=f"input artifact {art.name!r}", fix=_ARTIFACT_FIX)
            self.store.get(ref, path)
            inputs[art.name] = path
        outputs: dict[str, Path] = {}
        if action.outputs:
            out = _make_dirs(self.run_dir, (stage.name, action.name, str(job.attempt), "out"))
            for art in action.outputs:
                confine(out, art.name, what=f"output artifact {art.name!r}", fix=_ARTIFACT_FIX)
                outputs[art.name] = _make_dirs(out, (art.name,))
        ctx = _LocalContext(
            pipeline=self.pipeline,
            stage=stage,
            action=action,
            execution_id=self.id,
            configuration=job.resolved,
            inputs=inputs,
            outputs=outputs,
            workdir=workdir,
            environment=environment,
            secrets=frozenset(self.masker.values),
            source_revision=self.source_revisions.get(
                f"{stage.name}/{action.name}", self.source_revisions.get(action.name)
            ),
            attempt=job.attempt,
            cancel=job.cancel,
            log=lambda line: self.log(job, line),
        )
        result: ActionResult | None = None
        carried: dict[str, str] = {}
        for calls in range(MAX_CONTINUATIONS):
            result = handler(ctx) or ActionResult()
            if job.cancel.is_set():
                raise ActionFailed("stopped")
            if result.continuation_token is None:
                break
            # As the job worker does: the token must fit AWS's limit, and variables returned
            # with it are published with the final result.
            check_continuation_token(result.continuation_token)
            carried.update(result.output_variables)
            ctx.continuation_token = result.continuation_token
            # CodePipeline hands out the follow-up job some time later; back off the same way
            # so a handler that polls external work does not spin.
            if self.clock.wait(job.cancel, min(0.05 * (calls + 1), 2.0)):
                raise ActionFailed("stopped")
        else:
            raise ActionFailed(f"handler asked to continue more than {MAX_CONTINUATIONS} times")
        assert result is not None
        if carried:
            result = attrs.evolve(result, output_variables={**carried, **result.output_variables})
        size = sum(len(k.encode()) + len(str(v).encode()) for k, v in result.output_variables.items())
        if size > OUTPUT_VARIABLES_LIMIT:
            raise ActionFailed(f"output variables total {size} bytes, above AWS's limit of {OUTPUT_VARIABLES_LIMIT}")
        for name, path in outputs.items():
            job.refs.append(self.store.put(self.id, name, path))
        job.result = result
        job.status = ActionStatus.SUCCEEDED


def _make_dirs(base: Path, parts: tuple[str, ...]) -> Path:
    """Make ``base/parts...`` top-down, one ``mkdir`` per level (``Path.mkdir(parents=True)``
    first fails its way up and then back down, twice the system calls; each one lets another
    action thread take the GIL, which is what a wave of actions starting together pays for)."""
    path = os.fspath(base)
    for i, part in enumerate(parts):
        path = os.path.join(path, part)
        try:
            os.mkdir(path)
        except FileExistsError:
            if i == len(parts) - 1 and not os.path.isdir(path):
                raise
        except FileNotFoundError:
            if i:
                raise
            Path(path, *parts[1:]).mkdir(parents=True, exist_ok=True)
            break
    return Path(os.path.join(base, *parts))


def fail_expression(where: str) -> NoReturn:
    """Fail the attempt: *where* still holds a CloudFormation expression."""
    raise ActionFailed(
        f"{where} is a CloudFormation expression; give it a value before running locally",
        failure_type=FailureType.CONFIGURATION_ERROR,
    )
