"""Invoke handlers: Lambda invoke through a Python callable given a CodePipeline-style job event."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .._base import ActionContext, ActionFailed, ActionResult
from ._common import _Bound, _require


def job_event(ctx: ActionContext) -> dict[str, Any]:
    """A CodePipeline-style job event for a Lambda function; artifact locations are local folders."""

    def artifacts(items: Mapping[str, Path]) -> list[dict[str, Any]]:
        return [{"name": n, "location": {"type": "LocalDirectory", "localDirectory": str(p)}} for n, p in items.items()]

    config = {k: v for k, v in ctx.configuration.items() if k in ("FunctionName", "UserParameters")}
    data: dict[str, Any] = {
        "actionConfiguration": {"configuration": config},
        "inputArtifacts": artifacts(ctx.inputs),
        "outputArtifacts": artifacts(ctx.outputs),
        "artifactCredentials": {},
    }
    if ctx.continuation_token:
        data["continuationToken"] = ctx.continuation_token
    return {"CodePipeline.job": {"id": str(uuid.uuid4()), "accountId": "000000000000", "data": data}}


def call_function(function: Callable[..., Any], event: Mapping[str, Any]) -> Any:
    """Call a Lambda-style function with ``(event)`` or ``(event, context)``."""
    try:
        params = inspect.signature(function).parameters
        positional = [p for p in params.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        takes_two = len(positional) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in params.values())
    except (TypeError, ValueError):
        takes_two = False
    return function(event, None) if takes_two else function(event)


class InvokeHandlers(_Bound):
    """The Lambda invoke handler, bound to one executor's functions."""

    def lambda_invoke(self, ctx: ActionContext) -> ActionResult:
        """Lambda invoke: call the registered Python function with a CodePipeline job event."""
        (name,) = _require(ctx, "FunctionName")
        function = self._x.function_for(name)
        event = job_event(ctx)
        try:
            value = call_function(function, event)
        except ActionFailed:
            raise
        except Exception as exc:
            raise ActionFailed(f"function {name} failed: {type(exc).__name__}: {exc}") from None
        if isinstance(value, ActionResult):
            return value
        if value is None:
            return ActionResult(summary=f"function {name} succeeded")
        if isinstance(value, Mapping):
            return ActionResult(
                output_variables={str(k): str(v) for k, v in value.items()}, summary=f"function {name} succeeded"
            )
        raise ActionFailed(f"function {name} returned {type(value).__name__}; return None, a dict or an ActionResult")
