"""What the built-in handlers share: the services they need from the executor, and the helpers
for artifacts, required configuration keys and structured files.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import attrs

from ..._loader import LoadFailure, load_json, load_yaml
from .._base import ActionContext, ActionFailed, FailureType
from .._paths import confine, real_inside, setting, walk
from .._shell import EXITING

#: The account id local runs write where AWS would write the account (ARNs, an ECR source's
#: RegistryId); the Lambda job event carries the same placeholder.
LOCAL_ACCOUNT = "000000000000"


def _stopped_reason() -> str:
    if EXITING.is_set():
        return "interrupted: the Python process exited while the commands ran"
    return "stopped: the execution was stopped or the action timed out"


def _single_output(ctx: ActionContext) -> Path:
    if len(ctx.outputs) != 1:
        raise ActionFailed(
            f"action {ctx.action.name!r} needs exactly one output artifact, it has {len(ctx.outputs)}",
            failure_type=FailureType.CONFIGURATION_ERROR,
        )
    return next(iter(ctx.outputs.values()))


def _require(ctx: ActionContext, *keys: str) -> list[str]:
    missing = [k for k in keys if not ctx.configuration.get(k)]
    if missing:
        raise ActionFailed(
            f"action {ctx.action.name!r} lacks required configuration {missing}",
            failure_type=FailureType.CONFIGURATION_ERROR,
        )
    return [ctx.configuration[k] for k in keys]


def _artifact_file(ctx: ActionContext, spec: str, what: str) -> Path:
    """Resolve CloudFormation-style ``ArtifactName::path/in/artifact``."""
    name, sep, rel = spec.partition("::")
    if not sep:
        raise ActionFailed(
            f"{what} {spec!r} must look like 'ArtifactName::path/in/artifact'",
            failure_type=FailureType.CONFIGURATION_ERROR,
        )
    base = ctx.inputs.get(name)
    if base is None:
        raise ActionFailed(
            f"{what} {spec!r} names artifact {name!r}, which is not an input of this action "
            f"(inputs: {sorted(ctx.inputs)})",
            failure_type=FailureType.CONFIGURATION_ERROR,
        )
    path = confine(
        base,
        rel,
        what=setting(ctx, what),
        fix=f"name a file inside artifact {name!r} as '{name}::path/in/artifact'",
        root_name=f"artifact {name!r}",
    )
    if not path.is_file():
        raise ActionFailed(
            f"{what} {spec!r}: file {rel!r} is not in artifact {name!r}", failure_type=FailureType.JOB_FAILED
        )
    return path


def _load_structured(path: Path) -> Any:
    """A CloudFormation template's JSON or YAML, read by the bounded loader (short-form tags as data)."""
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("{"):
        try:
            return load_json(text)
        except LoadFailure as exc:
            if exc.unsafe:
                raise
    return load_yaml(text, cloudformation=True)


def _copy_tree(source: Path, destination: Path, *, what: str) -> str:
    """Copy the tree under *source* into *destination* without following a link out of
    *source* (see :func:`._paths.walk`); return a sha256 of its names and contents."""
    entries, _ = walk(source, what=what)
    digest = hashlib.sha256()
    top = os.path.realpath(destination)
    for name, real in sorted(entries):
        rel = name.rstrip("/")
        # The destination may be a bucket folder with older files: never make or write through
        # a linked folder that leads out of it, and replace a link rather than write through it.
        real_inside(Path(top), os.path.dirname(rel) or ".", what=f"destination {top}")
        target = destination / rel
        if real is None:
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()
        shutil.copy2(real, target)
        digest.update(name.encode())
        with open(real, "rb") as fh:
            digest.update(fh.read())
    return digest.hexdigest()


@attrs.frozen
class InputOrigin:
    """Where an input artifact of an action came from in its execution.

    Attributes:
        uri: The stored zip (``s3://bucket/key`` or ``file:///...``); empty if not stored.
        revision: The source revision it carries (commit id, S3 version id, image digest)
            when a source action made it, else ``None``.
    """

    uri: str = ""
    revision: str | None = None


class HandlerServices(Protocol):
    """
    **Protocol:** what the built-in handlers need from the executor running them.

    The executor's ``Emulator`` (``execution._emulator``) provides it. Declared here, beside
    its users, so this module never imports the engine that imports it.
    """

    @property
    def buildspecs(self) -> Mapping[str, Any]:
        """CodeBuild project -> the buildspec given for it."""
        ...

    def source_for(self, stage: str, action: str) -> Any:
        """The local stand-in given for a source action, or ``None``."""
        ...

    def function_for(self, name: str) -> Callable[..., Any]:
        """The Python callable standing in for Lambda function *name*."""
        ...

    def base_environment(self) -> dict[str, str]:
        """The allow-listed host environment commands start from."""
        ...

    def secret_value(self, ref: str, *, where: str) -> str:
        """The value of a Secrets Manager reference (and mask it from then on)."""
        ...

    def bucket_path(self, bucket: str, *, what: str = "BucketName") -> Path:
        """The local folder standing in for S3 bucket *bucket*."""
        ...

    def resolve_text(self, ctx: ActionContext, text: str) -> str:
        """*text* with the execution's variables resolved."""
        ...

    def record_simulation(self, ctx: ActionContext, detail: str) -> None:
        """Note in the action's log that a deploy was simulated, and how."""
        ...

    def input_origin(self, ctx: ActionContext, artifact: str) -> InputOrigin:
        """Where input artifact *artifact* of *ctx*'s action came from (its zip, its source revision)."""
        ...

    def next_build_number(self, project: str) -> int:
        """The next build number of CodeBuild project *project* (1, 2, ... across runs of the workdir)."""
        ...

    def now(self) -> datetime:
        """The engine clock's time."""
        ...

    def stack_outputs_for(self, stack: str) -> Mapping[str, str]:
        """The outputs the user gave for CloudFormation stack *stack* (``stack_outputs``)."""
        ...


class _Bound:
    """A family of built-in handlers, bound to the executor running them."""

    def __init__(self, executor: HandlerServices) -> None:
        self._x = executor
