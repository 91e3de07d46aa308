"""Keeping local execution inside its folders.

Layer: execution. Two rules:

* A configuration value, a variable or an artifact name that becomes a file-system path goes
  through :func:`confine`: the path is resolved (symbolic links included) and must stay inside
  its root. The refusal names the setting (``stages[1].actions[0].configuration.BucketName``),
  the value and the fix.
* A folder that is copied or zipped (a local source folder, an action's output artifact, the
  files a buildspec's ``artifacts`` section names) is listed by :func:`walk` and
  :func:`real_inside`, which live in :mod:`pipeweaver._archives` (shared with the S3 store)
  and are re-exported here for the engine's handlers.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from .._archives import is_within, real_inside, walk
from ._base import ActionFailed, FailureType

if TYPE_CHECKING:
    from .._model import Action, Pipeline, Stage
    from ._base import ActionContext

__all__ = ["action_path", "confine", "real_inside", "s3_bucket_problem", "setting", "walk"]

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")
_IP = re.compile(r"\d+\.\d+\.\d+\.\d+")


def s3_bucket_problem(name: str) -> str | None:
    """Why *name* is not a general purpose S3 bucket name, or ``None`` when it is one."""
    if not 3 <= len(name) <= 63:
        return f"is {len(name)} characters long; an S3 bucket name has 3 to 63"
    if not _BUCKET.fullmatch(name):
        return (
            "is not an S3 bucket name: only lowercase letters, digits, dots and hyphens, "
            "beginning and ending with a letter or digit"
        )
    if ".." in name:
        return "is not an S3 bucket name: it has two adjacent dots"
    if _IP.fullmatch(name):
        return "is not an S3 bucket name: it is formatted as an IP address"
    return None


def action_path(pipeline: Pipeline, stage: Stage, action: Action) -> str:
    """``stages[i].actions[j]`` of *action* in *pipeline* (``Stage/Action`` if it is not there)."""
    for i, candidate in enumerate(pipeline.stages):
        if candidate.name == stage.name:
            for j, other in enumerate(candidate.actions):
                if other.name == action.name:
                    return f"stages[{i}].actions[{j}]"
    return f"{stage.name}/{action.name}"


def setting(ctx: ActionContext, key: str) -> str:
    """Name configuration *key* of the action being run, for messages.

    ``action Deploy/Site, stages[1].actions[0].configuration.BucketName``, plus the value as
    written when it was resolved from variables (the place to fix it).
    """
    raw = ctx.action.configuration.get(key)
    where = f"action {ctx.stage.name}/{ctx.action.name}, {action_path(ctx.pipeline, ctx.stage, ctx.action)}"
    where += f".configuration.{key}"
    if isinstance(raw, str) and raw != ctx.configuration.get(key):
        where += f" (resolved from {raw!r})"
    return where


def confine(root: Path, value: str, *, what: str, fix: str, root_name: str = "its folder") -> Path:
    """
    ``root / value`` resolved, refused unless it stays inside *root* (or is *root*).

    Containment is checked on the resolved path, so ``..``, absolute paths and symbolic links
    on the way are all caught, whatever their spelling.

    Raises:
        ActionFailed: a configuration error ``"<what>: '<value>' <problem>; <fix>"``.
    """
    base = os.path.realpath(root)
    problem = None
    if "\x00" in value:
        problem = "contains a NUL byte"
    elif value.startswith("/"):
        problem = f"is an absolute path; it must be relative to {root_name} {base}"
    else:
        resolved = os.path.realpath(os.path.join(base, value))
        if not is_within(resolved, base):
            problem = f"leads outside {root_name} {base} (to {resolved})"
        else:
            return Path(resolved)
    raise ActionFailed(f"{what}: {value!r} {problem}; {fix}", failure_type=FailureType.CONFIGURATION_ERROR)
