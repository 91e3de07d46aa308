"""The local stand-ins for AWS, as the built-in handlers and rules reach them.

Layer: execution. :class:`Emulator` is what the built-in handlers
(:class:`._handlers.HandlerServices`) and rules (:class:`._rules.FunctionLookup`) call back into:
the sources, functions, buildspecs, buckets, secrets, stack outputs and alarm states of a
:class:`~pipeweaver.execution.LocalEmulation`, and the few reads of the running engine a handler
needs (variable resolution, where an input artifact came from, the clock, build numbers,
the record of simulated deployments). The facade (:mod:`._local`) makes one per executor.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from .. import _catalog
from .._model import ActionCategory
from ._base import ActionContext, ActionFailed, Execution, FailureType
from ._engine import Engine
from ._environment import base_environment
from ._handlers import InputOrigin
from ._paths import confine, s3_bucket_problem
from ._rules import AlarmState, RuleContext
from ._settings import LocalEmulation

__all__ = ["Emulator"]


class Emulator:
    """One executor's stand-ins for AWS and the engine reads its built-in handlers make."""

    def __init__(
        self,
        emulation: LocalEmulation,
        engine: Engine,
        *,
        secrets: Mapping[str, str],
        env_passthrough: Iterable[str],
    ) -> None:
        self._emulation = emulation
        self._engine = engine
        self._secrets = secrets
        self._env_passthrough = tuple(env_passthrough)

    @property
    def buildspecs(self) -> Mapping[str, Any]:
        """CodeBuild project -> the buildspec given for it."""
        return self._emulation.buildspecs

    def source_for(self, stage: str, action: str) -> Any:
        """The local source configured for a source action, or ``None``."""
        return self._emulation.sources.get(f"{stage}/{action}", self._emulation.sources.get(action))

    def function_for(self, name: str) -> Callable[..., Any]:
        """The Python callable standing in for Lambda function *name* (name or ARN)."""
        short = name.split(":function:")[-1].split(":")[0]
        for key in (name, short):
            if key in self._emulation.functions:
                return self._emulation.functions[key]
        raise ActionFailed(
            f"no local function {short!r}; give one with --function {short}=module:callable (pipeweaver run), "
            f"LOCAL = LocalEmulation(functions={{{short!r}: my_callable}}) in the pipeline file, or "
            f"LocalExecutor(functions={{{short!r}: my_callable}})",
            failure_type=FailureType.CONFIGURATION_ERROR,
        )

    def base_environment(self) -> dict[str, str]:
        """The host variables an action's processes start from (allow-list plus ``env_passthrough``)."""
        return base_environment(self._env_passthrough)

    def secret_value(self, ref: str, *, where: str) -> str:
        """
        Look a secret up in the local secret store and mask its value from then on.

        *ref* is a Secrets Manager reference as CodeBuild takes it,
        ``secret-id[:json-key[:version-stage[:version-id]]]`` with the id a name or an ARN (the
        store is looked up by the whole reference, the id, then the ARN's secret name; the
        store holds one version, so the version parts choose nothing), or a Parameter Store name.
        """
        parts = ref.split(":")
        if ref.startswith("arn:") and len(parts) >= 7:
            name, rest = ":".join(parts[:7]), parts[7:]
            keys = [ref, name, parts[6]]
        else:
            name, rest = parts[0], parts[1:]
            keys = [ref, name]
        json_key = rest[0] if rest else ""
        for key in keys:
            if key in self._secrets:
                value = self._secrets[key]
                if json_key and key != ref:
                    try:
                        value = str(json.loads(value)[json_key])
                    except (ValueError, KeyError, TypeError):
                        raise ActionFailed(f"{where}: secret {name!r} has no JSON key {json_key!r}") from None
                self._engine.masker.add([value])
                return value
        raise ActionFailed(
            f"{where}: secret {name!r} is not in the local secret store; give it with --secret-file FILE "
            f"holding a line {name}=VALUE (pipeweaver run), LOCAL = LocalEmulation(secrets={{{name!r}: ...}}) in "
            f"the pipeline file, or LocalExecutor(secrets={{{name!r}: '...'}})",
            failure_type=FailureType.CONFIGURATION_ERROR,
        )

    def bucket_path(self, bucket: str, *, what: str = "BucketName") -> Path:
        """
        The local folder standing in for S3 bucket *bucket*.

        The folder mapped in ``buckets=``, else ``workdir/s3/<bucket>`` for a valid S3 bucket
        name that stays inside ``workdir/s3`` (the name may come from a variable).

        Raises:
            ActionFailed: naming *what* (the setting the name came from) and the fix.
        """
        mapped = self._emulation.buckets.get(bucket)
        if mapped is None:
            fix = (
                f"use the bucket's S3 name, or map the name to a local folder with --bucket {bucket}=FOLDER "
                f"(pipeweaver run), LOCAL = LocalEmulation(buckets={{{bucket!r}: 'path/to/folder'}}) in the "
                f"pipeline file, or LocalExecutor(buckets={{{bucket!r}: 'path/to/folder'}})"
            )
            problem = s3_bucket_problem(bucket)
            if problem is not None:
                raise ActionFailed(f"{what}: {bucket!r} {problem}; {fix}", failure_type=FailureType.CONFIGURATION_ERROR)
            mapped = confine(
                self._engine.workdir / "s3", bucket, what=what, fix=fix, root_name="the local bucket folder"
            )
        mapped.mkdir(parents=True, exist_ok=True)
        return mapped.resolve()

    def resolve_text(self, ctx: ActionContext, text: str) -> str:
        """Resolve variable references in *text* for the execution of *ctx*."""
        run = self._engine.runs.get(ctx.execution_id)
        return run.resolve(text) if run is not None else text

    def alarm_state_for(self, name: str) -> AlarmState | None:
        """The state given for CloudWatch alarm *name* (``alarm_states=``), if any."""
        return self._emulation.alarm_states.get(name)

    def stack_outputs_for(self, stack: str) -> Mapping[str, str]:
        """The outputs given for CloudFormation stack *stack* (``stack_outputs=``)."""
        return self._emulation.stack_outputs.get(stack, {})

    def record_simulation(self, ctx: ActionContext, detail: str) -> None:
        """Append a simulated deployment to ``workdir/simulated-deployments.jsonl``."""
        line = json.dumps(
            {
                "simulated": True,
                "at": self._engine.clock.now().isoformat(),
                "execution_id": ctx.execution_id,
                "stage": ctx.stage.name,
                "action": ctx.action.name,
                "provider": ctx.action.provider,
                "detail": self._engine.masker(detail),
            }
        )
        with self._engine.lock, (self._engine.workdir / "simulated-deployments.jsonl").open("a") as fh:
            fh.write(line + "\n")

    def input_origin(self, ctx: ActionContext | RuleContext, artifact: str) -> InputOrigin:
        """Where input artifact *artifact* of *ctx*'s action came from: its stored zip, and the
        revision of the source action that made it (read from that action's output variables,
        in this execution or, for a rollback, in its target)."""
        run = self._engine.runs.get(ctx.execution_id)
        if run is None:
            return InputOrigin()
        execution = run.snapshot()
        ref = execution.artifacts.get(artifact)
        uri = ref.uri if ref is not None else ""
        for stage in ctx.pipeline.stages:
            for action in stage.actions:
                if not any(out.name == artifact for out in action.outputs):
                    continue
                variable = (
                    _catalog.revision_variable(action.provider) if action.category is ActionCategory.SOURCE else None
                )
                if variable is None:
                    return InputOrigin(uri=uri)
                for source in (execution, execution.rollback_target):
                    try:
                        past = source if isinstance(source, Execution) else self._engine.history.load(source or "")
                        revision = past.action(stage.name, action.name).output_variables.get(variable)
                    except KeyError:
                        continue
                    return InputOrigin(uri=uri, revision=revision or None)
                return InputOrigin(uri=uri)
        return InputOrigin(uri=uri)

    def next_build_number(self, project: str) -> int:
        """The next build number of CodeBuild project *project*, counted in the workdir's history."""
        return self._engine.history.next_number(f"codebuild:{project}")

    def now(self) -> datetime:
        """The engine clock's time."""
        return self._engine.clock.now()
