"""What a local executor is given: engine settings, and the emulation of AWS around the pipeline.

Layer: execution. :class:`EngineSettings` says how the engine runs (parallelism, timeouts,
checks, approvals, the host environment actions see, the clock); :class:`LocalEmulation` holds
the local stand-ins for what the pipeline reaches in AWS (source repositories, Lambda
functions, CodeBuild projects' buildspecs, S3 buckets, Secrets Manager, handlers and rule
handlers). :class:`~pipeweaver.execution.LocalExecutor` accepts both, or builds them from its
keyword arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from ._base import ActionHandler, ApprovalPolicy
from ._clock import Clock, SystemClock
from ._environment import check_passthrough
from ._rules import ALARM_STATES, AlarmState, RuleHandler

__all__ = ["ApprovalPolicy", "EngineSettings", "LocalEmulation"]  # ApprovalPolicy is _base's, re-exported

_POLICIES = ("approve", "reject", "wait", "prompt")


def _check_max_parallel(_instance: object, _attribute: object, value: int) -> None:
    if value < 1:
        raise ValueError(f"max_parallel={value} must be at least 1")


def _check_approval(_instance: object, _attribute: object, value: object) -> None:
    if not (callable(value) or value is None or value in _POLICIES):
        raise ValueError(f"approval={value!r} must be 'approve', 'reject', 'wait', 'prompt' or a callable")


@attrs.frozen
class EngineSettings:
    """How the local engine runs.

    Args:
        max_parallel: Size of the action thread pool shared by all executions.
        timeouts: ``"Stage/Action"`` (or ``"Stage/rule:Rule"``) -> seconds, overriding AWS's default
            timeout.
        validate: Refuse pipelines :func:`pipeweaver.lint` finds errors in.
        approval: How manual approvals are answered: ``"approve"``, ``"reject"``, ``"wait"``
            (for :meth:`LocalExecutionHandle.approve`/``reject``), ``"prompt"`` or a callable
            receiving the :class:`ApprovalRequested` event and returning ``True``/``False`` or
            ``(bool, summary)``.
        env_passthrough: Host environment variables passed to commands, buildspecs and
            Commands rules besides ``PATH``, ``HOME``, ``LANG``, ``LC_*`` and ``TMPDIR``.
        clock: Where the engine reads the time (timestamps, action timeouts, continuation
            back-offs, deployment windows); :class:`SystemClock` by default.

    .. versionadded:: 0.1.0
    """

    max_parallel: int = attrs.field(default=50, validator=_check_max_parallel)
    timeouts: dict[str, float] = attrs.field(factory=dict, converter=dict)
    validate: bool = True
    approval: ApprovalPolicy = attrs.field(default="wait", validator=_check_approval)
    env_passthrough: tuple[str, ...] = attrs.field(default=(), converter=check_passthrough)
    clock: Clock = attrs.field(factory=SystemClock)


def _buckets(value: Mapping[str, Path | str] | None) -> dict[str, Path]:
    return {k: Path(v) for k, v in (value or {}).items()}


def _secrets(value: Mapping[str, str] | Iterable[str] | None) -> dict[str, str] | tuple[str, ...]:
    if isinstance(value, Mapping):
        return dict(value)
    return tuple(value or ())


def _mapping(value: Mapping[Any, Any] | None) -> dict[Any, Any]:
    return dict(value or {})


def _alarm_states(value: Mapping[str, AlarmState] | None) -> dict[str, AlarmState]:
    out = dict(value or {})
    for name, state in out.items():
        if not callable(state) and state not in ALARM_STATES:
            raise ValueError(f"alarm_states[{name!r}] is {state!r}; give {', '.join(ALARM_STATES)} or a callable")
    return out


def _stack_outputs(value: Mapping[str, Mapping[str, str]] | None) -> dict[str, dict[str, str]]:
    return {str(stack): {str(k): str(v) for k, v in outputs.items()} for stack, outputs in (value or {}).items()}


@attrs.frozen
class LocalEmulation:
    """The local stand-ins for what a pipeline reaches in AWS.

    Args:
        sources: Source action name (or ``"Stage/Action"``) -> a local git repository, a folder
            or zip (S3 sources), or an image digest (ECR sources).
        functions: Lambda function name -> Python callable ``(event)`` or ``(event, context)``; it
            reports with its boto3 client's ``put_job_success_result``/``put_job_failure_result``, as on AWS.
        buildspecs: CodeBuild project name -> buildspec (YAML text, a path or a dict).
        buckets: S3 bucket name -> local folder for S3 deploys (default ``workdir/s3/<bucket>``).
        secrets: A mapping secret name -> value (for SECRETS_MANAGER variables and a buildspec's
            ``secrets-manager``/``parameter-store``) or an iterable of values to mask; every
            value is masked in logs and history.
        handlers: Extra or overriding handlers: keys are an :class:`~pipeweaver.ActionType`,
            ``"Category/Owner/Provider/Version"`` (``*`` allowed) or ``"Stage/Action"``.
        rules: Rule provider -> local rule handler (adds to or replaces the built-ins).
        alarm_states: CloudWatch alarm name -> its state (``OK``, ``ALARM`` or
            ``INSUFFICIENT_DATA``), or a callable returning it (read again while a rule waits out
            its ``WaitTime``): what ``CloudWatchAlarm`` rules evaluate.
        stack_outputs: CloudFormation stack name -> output name -> value: what a simulated
            CloudFormation deploy publishes for outputs only the real stack knows (a resource's
            ``Fn::GetAtt``), and over the ones it works out from the template.

    .. versionadded:: 0.1.0
    """

    sources: dict[str, Any] = attrs.field(factory=dict, converter=_mapping)
    functions: dict[str, Callable[..., Any]] = attrs.field(factory=dict, converter=_mapping)
    buildspecs: dict[str, Any] = attrs.field(factory=dict, converter=_mapping)
    buckets: dict[str, Path] = attrs.field(factory=dict, converter=_buckets)
    secrets: dict[str, str] | tuple[str, ...] = attrs.field(factory=tuple, converter=_secrets)
    handlers: dict[Any, ActionHandler] = attrs.field(factory=dict, converter=_mapping)
    rules: dict[str, RuleHandler] = attrs.field(factory=dict, converter=_mapping)
    stack_outputs: dict[str, dict[str, str]] = attrs.field(factory=dict, converter=_stack_outputs)
    alarm_states: dict[str, AlarmState] = attrs.field(factory=dict, converter=_alarm_states)
