"""Validation: every rule AWS enforces, collected in one pass, on a model or on raw JSON.

Layer: validate. Imports the model, its codec, the shape walker and the graph; never the
execution or synth sides. ``lint`` never raises on bad input: malformed definitions come back
as issues too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._codec import build_pipeline, is_intrinsic, to_codepipeline, unwrap
from ._model import Expression, Pipeline
from ._shapes import check_shape
from .errors import Issue, ValidationError

__all__ = ["lint", "validate"]


def _keep_expression(expr: Expression, _path: str) -> Any:
    return expr.raw


def lint(target: Pipeline | Mapping[str, Any] | Any) -> list[Issue]:
    """
    Return every problem in *target*: a :class:`~pipeweaver.Pipeline` or raw API JSON.

    Never raises on bad input; structural problems are issues too.
    """
    if isinstance(target, Pipeline):
        data: Any = to_codepipeline(target, resolve=_keep_expression)
    else:
        data, _ = unwrap(target)
    issues = check_shape(data, skip=is_intrinsic)
    structural = [i for i in issues if i.code in ("PW001", "PW002", "PW003", "PW004", "PW012")]
    if not structural and isinstance(data, Mapping):
        pipeline = target if isinstance(target, Pipeline) else build_pipeline(data)
        issues.extend(_rules(pipeline))
    return issues


def _rules(pipeline: Pipeline) -> list[Issue]:
    # Whole-pipeline rules (P1-P16, A1-A18, variables, triggers, conditions) are added here.
    return []


def validate(pipeline: Pipeline) -> None:
    """
    Raise :class:`~pipeweaver.errors.ValidationError` carrying every issue, if any is an error.
    """
    issues = lint(pipeline)
    if any(i.severity == "error" for i in issues):
        errors = sum(1 for i in issues if i.severity == "error")
        raise ValidationError(f"pipeline {pipeline.name!s} has {errors} error(s)", issues)
