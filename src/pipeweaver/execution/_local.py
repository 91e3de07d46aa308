"""The local executor: runs a pipeline in this process with CodePipeline's semantics.

Layer: execution. This is the facade users hold; the engine lives beside it, one concept per
module:

- :mod:`._settings`: what the executor is given (:class:`EngineSettings`, :class:`LocalEmulation`);
- :mod:`._core`: the engine's decisions, pure functions over plain records (the protocol);
- :mod:`._run`: the driver: the stage and wave loop of one execution on its own thread, which
  runs actions, writes the history and emits events as the core decides;
- :mod:`._state`: an execution's state as plain records (what it walks, what it has done, what
  other threads ask of it), each changed in one place;
- :mod:`._outbox`: what a run has decided but not yet written and announced;
- :mod:`._engine`: what one executor's executions share (history, action pool, gates, leases);
- :mod:`._clock`: where the engine reads the time;
- :mod:`._attempt`: one action attempt, on a thread of :mod:`._pool`;
- :mod:`._gate`: execution modes and disabled transitions;
- :mod:`._conditions`, :mod:`._approvals`, :mod:`._variables`: rules, manual approvals and
  ``#{namespace.key}`` resolution;
- :mod:`._preflight`: what is checked before anything runs; :mod:`._recovery`: retry,
  rollback and the executions of a runner that died;
- :mod:`._handle`: :class:`LocalExecutionHandle`.

- :mod:`._emulator`: the stand-ins for AWS (sources, functions, secrets, buckets...) as the
  built-in handlers and rules reach them.

The executor keeps the handler registry, the rules and the approval policy.
"""

from __future__ import annotations

import sys
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, final, overload

import attrs

from .._masking import Masker
from .._model import Action, ActionCategory, Pipeline, RetryMode, RetryModeName, Stage
from ..errors import ExecutionError, HandlerNotFoundError
from ._approvals import Decide, user
from ._artifacts import LocalArtifactStore
from ._base import (
    ActionContext,
    ActionFailed,
    ActionHandler,
    ActionResult,
    ApprovalRequested,
    ArtifactStore,
    Event,
    Execution,
    ExecutionFinished,
    ExecutionStarted,
    ExecutionStatus,
    ExecutionStatusName,
    FailureType,
    Observer,
    TriggerInfo,
)
from ._capture import unrouted
from ._emulator import Emulator
from ._engine import LEASE_SECONDS, Engine
from ._handle import LocalExecutionHandle
from ._handlers import HandlerFn, HandlerRegistry, builtin_handlers
from ._history import History, runner_id
from ._preflight import definition, deployed, missing_message, preflight
from ._recovery import (
    automated_rollback,
    fail_interrupted,
    override_running,
    prepare_retry,
    prepare_rollback,
    rollback_outcome,
)
from ._rules import AlarmState, RuleHandler, builtin_rules
from ._run import Run
from ._settings import ApprovalPolicy, EngineSettings, LocalEmulation
from ._state import Identity

__all__ = ["ApprovalPolicy", "EngineSettings", "LocalEmulation", "LocalExecutionHandle", "LocalExecutor"]


@final
class LocalExecutor:
    """
    Runs pipelines in this process with CodePipeline's semantics (reference §4).

    How the engine runs is an :class:`EngineSettings`; the local stand-ins for AWS (sources,
    functions, buildspecs, buckets, secrets, handlers, rules) are a :class:`LocalEmulation`.
    Each of their fields can also be given as a keyword argument, which takes precedence::

        LocalExecutor(settings=EngineSettings(max_parallel=4), emulation=LocalEmulation(sources={...}))
        LocalExecutor(max_parallel=4, sources={...})  # the same executor

    Args:
        workdir: History (``history.sqlite3``), artifacts and action workspaces live here.
        settings: How the engine runs (see :class:`EngineSettings`).
        emulation: What stands in for AWS (see :class:`LocalEmulation`).
        artifact_store: Where artifact zips go (default: a local store under *workdir*).
        observers: Callables receiving every :class:`~pipeweaver.execution.Event`.
        handlers: Extra or overriding handlers: keys are an :class:`~pipeweaver.ActionType`,
            ``"Category/Owner/Provider/Version"`` (``*`` allowed) or ``"Stage/Action"``.
        approval: How manual approvals are answered: ``"approve"``, ``"reject"``, ``"wait"``
            (for :meth:`LocalExecutionHandle.approve`/``reject``), ``"prompt"`` or a callable.
        sources: Source action name (or ``"Stage/Action"``) -> a local git repository, a folder
            or zip (S3 sources), or an image digest (ECR sources).
        functions: Lambda function name -> Python callable ``(event)`` or ``(event, context)``; it
            reports with its boto3 client's ``put_job_success_result``/``put_job_failure_result``, as on AWS.
        max_parallel: Size of the action thread pool shared by all executions (default 50).
        secrets: A mapping secret name -> value (for SECRETS_MANAGER variables and a buildspec's
            ``secrets-manager``/``parameter-store``) or an iterable of values to mask; every
            value is masked in logs and history.
        validate: Refuse pipelines :func:`pipeweaver.lint` finds errors in (default ``True``).
        buildspecs: CodeBuild project name -> buildspec (YAML text, a path or a dict).
        buckets: S3 bucket name -> local folder for S3 deploys (default ``workdir/s3/<bucket>``).
        rules: Rule provider -> local rule handler (adds to or replaces the built-ins).
        timeouts: ``"Stage/Action"`` -> seconds, overriding AWS's default timeout.
        env_passthrough: Host environment variables passed to commands, buildspecs and
            Commands rules besides ``PATH``, ``HOME``, ``LANG``, ``LC_*`` and ``TMPDIR``
            (nothing else of the host environment reaches an action).
        stack_outputs: CloudFormation stack name -> output name -> value, for outputs a
            simulated deploy cannot work out from its template (see :class:`LocalEmulation`).
        alarm_states: CloudWatch alarm name -> state (or a callable returning it), for
            ``CloudWatchAlarm`` rules (see :class:`LocalEmulation`).

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        workdir: Path | str = ".pipeweaver",
        *,
        settings: EngineSettings | None = None,
        emulation: LocalEmulation | None = None,
        artifact_store: ArtifactStore | None = None,
        observers: Iterable[Observer] = (),
        handlers: Mapping[Any, ActionHandler] | None = None,
        approval: ApprovalPolicy | None = None,
        sources: Mapping[str, Any] | None = None,
        functions: Mapping[str, Callable[..., Any]] | None = None,
        max_parallel: int | None = None,
        secrets: Mapping[str, str] | Iterable[str] | None = None,
        validate: bool | None = None,
        buildspecs: Mapping[str, Any] | None = None,
        buckets: Mapping[str, Path | str] | None = None,
        rules: Mapping[str, RuleHandler] | None = None,
        timeouts: Mapping[str, float] | None = None,
        env_passthrough: Iterable[str] | None = None,
        stack_outputs: Mapping[str, Mapping[str, str]] | None = None,
        alarm_states: Mapping[str, AlarmState] | None = None,
    ) -> None:
        engine_given: dict[str, Any] = {
            "max_parallel": max_parallel,
            "timeouts": timeouts,
            "validate": validate,
            "approval": approval,
            "env_passthrough": env_passthrough,
        }
        emulation_given: dict[str, Any] = {
            "sources": sources,
            "functions": functions,
            "buildspecs": buildspecs,
            "buckets": buckets,
            "secrets": secrets,
            "handlers": handlers,
            "rules": rules,
            "stack_outputs": stack_outputs,
            "alarm_states": alarm_states,
        }
        #: How the engine runs.
        self.settings: EngineSettings = attrs.evolve(
            settings or EngineSettings(), **{k: v for k, v in engine_given.items() if v is not None}
        )
        #: What stands in for AWS.
        self.emulation: LocalEmulation = attrs.evolve(
            emulation or LocalEmulation(), **{k: v for k, v in emulation_given.items() if v is not None}
        )
        settings, emulation = self.settings, self.emulation
        self.workdir = Path(workdir).resolve()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._history = History(self.workdir / "history.sqlite3")
        self.store: ArtifactStore = artifact_store or LocalArtifactStore(self.workdir / "artifacts")
        self.approval = settings.approval
        self.sources = emulation.sources
        self.functions = emulation.functions
        self.max_parallel = settings.max_parallel
        # The engine reads this same list; its first entry notes how automatic rollbacks end.
        self.observers: list[Observer] = [self._rollback_ended, *observers]
        self._rollback_notes = threading.Lock()
        if isinstance(emulation.secrets, Mapping):
            self.secret_store: dict[str, str] = emulation.secrets
            self.masker = Masker(self.secret_store.values())
        else:
            self.secret_store = {}
            self.masker = Masker(emulation.secrets)
        self.validate = settings.validate
        self.buildspecs = emulation.buildspecs
        self.buckets = emulation.buckets
        self.timeouts = settings.timeouts
        self.env_passthrough = settings.env_passthrough
        self.owner = f"{runner_id()}:{uuid.uuid4().hex[:8]}"
        self._prompt_lock = threading.Lock()
        self._engine = Engine(
            workdir=self.workdir,
            history=self._history,
            store=self.store,
            masker=self.masker,
            observers=self.observers,
            timeouts=self.timeouts,
            max_parallel=settings.max_parallel,
            owner=self.owner,
            services=self,
            approval_policy=self._apply_policy,
            clock=settings.clock,
        )
        self._emulator = Emulator(
            emulation, self._engine, secrets=self.secret_store, env_passthrough=settings.env_passthrough
        )
        self._registry = builtin_handlers(self._emulator).merged(HandlerRegistry(emulation.handlers))
        self._rules: dict[str, RuleHandler] = {**builtin_rules(self._emulator, settings.clock), **emulation.rules}

    # plumbing used by runs and handlers ------------------------------------------------------

    def close(self) -> None:
        """Stop (with abandon) the executions still running here, wait for their actions, end
        the action threads and close the history."""
        self._engine.close()

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def handler_for(self, stage: Stage, action: Action) -> HandlerFn:
        """The handler that runs *action* (``HandlerNotFoundError`` if none)."""
        if action.category is ActionCategory.APPROVAL and action.provider == "Manual":
            found = self._registry.find(stage, action)
            return found if found is not None else self._approval_handler
        found = self._registry.find(stage, action)
        if found is None:
            raise HandlerNotFoundError(missing_message([(stage, action)]))
        return found

    def _approval_handler(self, ctx: ActionContext) -> ActionResult:
        run = self._engine.runs.get(ctx.execution_id)
        if run is None:
            raise ActionFailed(f"execution {ctx.execution_id} is not running in this executor")
        return run.await_approval(ctx)

    def rule_handler(self, provider: str) -> RuleHandler | None:
        """The local handler for a rule provider, if any."""
        return self._rules.get(provider)

    def timeout_for(self, stage: Stage, action: Action) -> float:
        """Seconds before *action* times out (``timeouts=`` override, else AWS's default)."""
        return self._engine.timeout_for(stage, action)

    def base_environment(self) -> dict[str, str]:
        """The host variables an action's processes start from (allow-list plus ``env_passthrough``)."""
        return self._emulator.base_environment()

    def secret_value(self, ref: str, *, where: str) -> str:
        """A secret from the local secret store, masked from then on (see :meth:`Emulator.secret_value`)."""
        return self._emulator.secret_value(ref, where=where)

    def _apply_policy(self, event: ApprovalRequested, decide: Decide) -> None:
        # The policy runs on the approval's action thread, whose output goes to the action's log;
        # a prompt (ours or a callable's, such as the CLI's) is for the person at the terminal.
        with unrouted():
            self._decide_by_policy(event, decide)

    def _decide_by_policy(self, event: ApprovalRequested, decide: Decide) -> None:
        policy = self.approval
        if policy is None or policy == "wait":
            return
        if policy in ("approve", "reject"):
            decide(policy == "approve", f"approval policy {policy!r}", "policy")
            return
        if policy == "prompt":
            with self._prompt_lock:
                print(f"\nApproval needed: {event.pipeline} / {event.stage} / {event.action}", file=sys.stderr)
                if event.custom_data:
                    print(f"  {self.masker(event.custom_data)}", file=sys.stderr)
                try:
                    answer = input("Approve? [y/N] ").strip().lower()
                except EOFError:
                    raise ActionFailed(
                        "approval='prompt' needs a terminal but stdin is closed; use approval='approve', "
                        "'reject', 'wait' or a callable",
                        failure_type=FailureType.CONFIGURATION_ERROR,
                    ) from None
            decide(answer in ("y", "yes"), "answered at the prompt", user())
            return
        assert callable(policy)
        verdict = policy(event)
        if verdict is None:
            return
        summary = ""
        if isinstance(verdict, tuple):
            verdict, summary = verdict
        decide(bool(verdict), summary or "approval callable", "policy")

    # starting ----------------------------------------------------------------------------------

    def _new_run(self, identity: Identity) -> Run:
        return Run(self._engine, identity, on_failure=self._auto_rollback)

    def _begin(self, run: Run, definition: Mapping[str, Any]) -> LocalExecutionHandle:
        identity = run.identity
        ops = History.op_create(
            execution_id=identity.id,
            pipeline=identity.name,
            status=ExecutionStatus.IN_PROGRESS,
            trigger=identity.trigger,
            started_at=run.started_at,
            definition=definition,
            source_revisions=identity.source_revisions,
            variables=identity.variables,
            execution_type=identity.execution_type,
            rollback_target=identity.rollback_target,
            owner=identity.owner,
            lease_seconds=LEASE_SECONDS,
        )
        run.seq = self._history.create(ops)
        return self._launch(run)

    def _launch(self, run: Run) -> LocalExecutionHandle:
        self._engine.register(run)
        identity = run.identity
        run.emit(
            ExecutionStarted(
                execution_id=identity.id, pipeline=identity.name, at=run.started_at, trigger=identity.trigger
            )
        )
        threading.Thread(target=run.main, name=f"pipeweaver-{identity.id[:8]}", daemon=True).start()
        # While the engine prepares and writes the first wave, this thread starts the action
        # threads the widest wave needs, so that the wave does not wait for thread starts.
        stages = run.identity.pipeline.stages[run.scope.first : run.scope.last + 1]
        self._engine.pool().prestart(max((len(wave) for stage in stages for wave in stage.waves()), default=0))
        self._engine.keep_leases()
        return LocalExecutionHandle(run, self.retry, self.override_stage_condition)

    def start(
        self,
        pipeline: Pipeline,
        *,
        variables: Mapping[str, str] | None = None,
        source_revisions: Mapping[str, str] | None = None,
        trigger: TriggerInfo | None = None,
    ) -> LocalExecutionHandle:
        """
        Check the pipeline and start an execution; return a handle to it.

        Raises:
            ValidationError: the pipeline breaks AWS's rules (every issue listed).
            HandlerNotFoundError: some actions have no handler (each named, with how to register one).
            ExecutionError: other reasons it cannot run locally (missing sources, functions, variables,
                a condition of an imported template whose parameter has no default).
        """
        pipeline = deployed(pipeline)
        values = preflight(
            pipeline,
            variables or {},
            validate=self.validate,
            handler_for=self.handler_for,
            rule_providers=self._rules,
            source_for=self._emulator.source_for,
            function_for=self._emulator.function_for,
            alarm_state_for=self._emulator.alarm_state_for,
            own_rules=self.emulation.rules,
        )
        identity = Identity(
            id=str(uuid.uuid4()),
            pipeline=pipeline,
            trigger=trigger or TriggerInfo(trigger_type="StartPipelineExecution", detail=f"local run by {user()}"),
            owner=self.owner,
            variables=values,
            source_revisions=source_revisions or {},
        )
        run = self._new_run(identity)
        return self._begin(run, definition(pipeline))

    def run(
        self,
        pipeline: Pipeline,
        *,
        variables: Mapping[str, str] | None = None,
        source_revisions: Mapping[str, str] | None = None,
        trigger: TriggerInfo | None = None,
    ) -> Execution:
        """Start an execution and block until it (and any automatic rollback) ends."""
        return self.start(pipeline, variables=variables, source_revisions=source_revisions, trigger=trigger).wait()

    # history -----------------------------------------------------------------------------------

    def execution(self, execution_id: str) -> Execution:
        """The record of one execution: live if it runs here, else from the history."""
        run = self._engine.runs.get(execution_id)
        if run is not None:
            return run.snapshot()
        return self._history.load(execution_id)

    def history(
        self,
        pipeline: Pipeline | str | None = None,
        *,
        status: ExecutionStatus | ExecutionStatusName | None = None,
        succeeded_in_stage: str | None = None,
        limit: int = 100,
    ) -> list[Execution]:
        """Past and running executions, newest first (like ``ListPipelineExecutions``)."""
        name = str(pipeline.name) if isinstance(pipeline, Pipeline) else pipeline
        ids = self._history.ids(name, status=status, succeeded_in_stage=succeeded_in_stage, limit=limit)
        return [self.execution(i) for i in ids]

    @property
    def history_store(self) -> History:
        """The SQLite history behind this executor."""
        return self._history

    def approve(self, execution_id: str, stage: str, action: str, summary: str = "", *, by: str = "") -> None:
        """Approve a waiting manual approval of an execution run by this or another process."""
        self._decide(execution_id, stage, action, True, summary, by)

    def reject(self, execution_id: str, stage: str, action: str, summary: str = "", *, by: str = "") -> None:
        """Reject a waiting manual approval of an execution run by this or another process."""
        self._decide(execution_id, stage, action, False, summary, by)

    def stop(self, execution_id: str, *, abandon: bool = False, reason: str = "", by: str = "") -> None:
        """
        Stop an execution running in this executor (see :meth:`LocalExecutionHandle.stop`).

        Raises:
            ExecutionError: the execution is not running here, or already ended.
        """
        run = self._engine.runs.get(execution_id)
        if run is None:
            raise ExecutionError(f"execution {execution_id} is not running in this executor; nothing to stop")
        run.request_stop(abandon, reason, by or user())

    def _decide(self, execution_id: str, stage: str, action: str, approved: bool, summary: str, by: str) -> None:
        run = self._engine.runs.get(execution_id)
        if run is not None:
            run.decide(stage, action, approved, summary, by or user())
            return
        if not self._history.decide_approval(
            approved=approved, summary=summary[:512], actor=by or user(), where=(execution_id, stage, action)
        ):
            raise ExecutionError(f"no approval is waiting at {stage}/{action} in execution {execution_id}")

    def override(self, stage: str, action: str, handler: HandlerFn) -> None:
        """Run *handler* for action *stage*/*action* instead of its type's handler."""
        self._registry.register(f"{stage}/{action}", handler)

    def audit(self, execution_id: str) -> list[dict[str, Any]]:
        """Who approved, rejected, stopped, retried or rolled back the execution, and when."""
        return self._history.audit(execution_id)

    # transitions -------------------------------------------------------------------------------

    def disable_transition(self, pipeline: Pipeline, stage: str, reason: str = "disabled locally") -> None:
        """Disable the inbound transition of *stage*: executions wait in front of it."""
        pipeline.stage(stage)
        gate = self._engine.gate(pipeline)
        with gate.cond:
            gate.disabled[stage] = reason
            gate.cond.notify_all()

    def enable_transition(self, pipeline: Pipeline, stage: str) -> None:
        """Enable the inbound transition of *stage*: the waiting execution enters."""
        pipeline.stage(stage)
        gate = self._engine.gate(pipeline)
        with gate.cond:
            gate.disabled.pop(stage, None)
            gate.cond.notify_all()

    # retry, rollback, recovery ---------------------------------------------------------------------

    @overload
    def retry(
        self,
        execution_id: str,
        stage: str,
        *,
        mode: RetryMode | RetryModeName = ...,
        pipeline: Pipeline | None = ...,
        by: str = ...,
        wait: Literal[False] = ...,
    ) -> LocalExecutionHandle: ...

    @overload
    def retry(
        self,
        execution_id: str,
        stage: str,
        *,
        mode: RetryMode | RetryModeName = ...,
        pipeline: Pipeline | None = ...,
        by: str = ...,
        wait: Literal[True],
    ) -> Execution: ...

    def retry(
        self,
        execution_id: str,
        stage: str,
        *,
        mode: RetryMode | RetryModeName = RetryMode.FAILED_ACTIONS,
        pipeline: Pipeline | None = None,
        by: str = "",
        wait: bool = False,
    ) -> LocalExecutionHandle | Execution:
        """
        Retry a failed (or stopped) stage of an ended execution, then continue it.

        ``FAILED_ACTIONS`` re-runs the actions that did not succeed; ``ALL_ACTIONS`` the whole
        stage. The stored definition is used; a *pipeline* given here must be unchanged.
        Returns a handle, or with ``wait=True`` the execution record once it ends.

        Raises:
            ExecutionError: the stage did not fail, a newer execution entered it, the pipeline
                changed, or another runner holds the execution.
        """
        run = prepare_retry(
            self._engine,
            self._new_run,
            execution_id,
            stage,
            mode=RetryMode(mode),
            pipeline=pipeline,
            by=by or user(),
        )
        handle = self._launch(run)
        return handle.wait() if wait else handle

    def override_stage_condition(
        self, execution_id: str, stage: str, condition_type: str, *, by: str = ""
    ) -> LocalExecutionHandle:
        """
        OverrideStageCondition: let *stage* pass its ``BEFORE_ENTRY`` or ``ON_SUCCESS`` condition.

        A condition being evaluated passes at once (its running rules stop, recorded
        ``Abandoned``); an execution that condition (result ``FAIL``) failed continues: the stage
        is entered, or (``ON_SUCCESS``) counts as succeeded. Returns a handle to the execution.

        Raises:
            ExecutionError: as AWS's ConditionNotOverridableException (a SKIP condition, one
                neither in progress nor failing the stage) or NotLatestPipelineExecutionException.
        """
        if condition_type not in ("BEFORE_ENTRY", "ON_SUCCESS"):
            raise ExecutionError(f"condition type {condition_type!r} is not BEFORE_ENTRY or ON_SUCCESS")
        run = self._engine.runs.get(execution_id)
        if run is None:
            ended = prepare_retry(
                self._engine,
                self._new_run,
                execution_id,
                stage,
                mode=RetryMode.ALL_ACTIONS,
                pipeline=None,
                by=by or user(),
                override=condition_type,
            )
            return self._launch(ended)
        assert isinstance(run, Run)  # the engine's runs are the executor's own
        override_running(run, stage, condition_type, by or user())
        return LocalExecutionHandle(run, self.retry, self.override_stage_condition)

    def rollback(
        self, pipeline: Pipeline, stage: str, target_execution_id: str, *, by: str = ""
    ) -> LocalExecutionHandle:
        """
        Roll *stage* back to *target_execution_id*: a new ROLLBACK execution re-runs the stage
        with the target's artifacts and variables.

        Raises:
            ExecutionError: the target is a rollback, did not succeed in the stage, ran another
                version of the pipeline, the stage is the source stage, or the mode is PARALLEL.
        """
        return self._rollback(
            pipeline,
            stage,
            target_execution_id,
            TriggerInfo(trigger_type="ManualRollback", detail=f"by {by or user()}"),
            by or user(),
        )[0]

    def _rollback(
        self, pipeline: Pipeline, stage: str, target: str, trigger: TriggerInfo, by: str
    ) -> tuple[LocalExecutionHandle, Run]:
        run, stored = prepare_rollback(self._engine, self._new_run, pipeline, stage, target, trigger, str(uuid.uuid4()))
        handle = self._begin(run, stored)
        self._history.write(
            [History.op_audit(run.identity.id, by, trigger.trigger_type, stage=stage, summary=f"target {target}")]
        )
        return handle, run

    def _auto_rollback(self, failed: Run) -> Run | None:
        stage = failed.progress.rollback_stage
        assert stage is not None
        target = self._history.last_succeeded_in_stage(failed.identity.name, stage, before=failed.seq)
        note: str
        result: Run | None = None
        if target is None:
            note = f"; no earlier execution succeeded in stage {stage}, so there is nothing to roll back to"
        else:
            try:
                # Held until the note is written: the rollback may end first, and its end adds
                # to this summary (see _rollback_ended).
                with self._rollback_notes:
                    handle, result = self._rollback(
                        failed.identity.pipeline, stage, target, automated_rollback(failed.identity.id), "pipeweaver"
                    )
                    note = f"; automatic rollback of stage {stage} started as execution {handle.id} (target {target})"
                    self._add_note(failed, note)
                return result
            except ExecutionError as exc:
                note = f"; automatic rollback not possible: {exc}"
        self._add_note(failed, note)
        return result

    def _add_note(self, failed: Run, note: str) -> None:
        progress = failed.progress
        progress.append_summary(note)
        self._history.write(
            [History.op_status(failed.identity.id, progress.status, progress.summary, progress.ended_at)]
        )

    def _rollback_ended(self, event: Event) -> None:
        """An automatic rollback's end (each attempt's) is noted on the execution it rolled back for."""
        if isinstance(event, ExecutionFinished) and event.execution.execution_type == "ROLLBACK":
            with self._rollback_notes:
                self._history.write(rollback_outcome(self._history, event.execution))

    def mark_interrupted(self) -> list[str]:
        """
        Mark executions whose runner died (dead pid or lapsed lease) as Failed, so they can be
        retried; return their ids.
        """
        marked = []
        for execution_id in self._history.interrupted():
            if execution_id in self._engine.runs:
                continue
            fail_interrupted(self._history, execution_id, self._engine.clock.now())
            marked.append(execution_id)
        return marked
