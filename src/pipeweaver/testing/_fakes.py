"""Fake action handlers: return given outputs and variables, fail on demand, record calls."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

import attrs

from .._catalog import lookup
from .._graph import references
from ..execution import ActionContext, ActionFailed, ActionResult, FailureType

__all__ = ["Call", "FakeHandler", "RecordingHandler", "fake", "recording"]

#: Artifact contents: relative file path -> text or bytes.
Files = Mapping[str, str | bytes]


def _snapshot_dir(root: Path) -> dict[str, bytes]:
    if not root.is_dir():
        return {}
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _stand_in(name: str, context: ActionContext) -> str:
    """A plausible, stable value for the output variable *name* of the faked action."""
    digest = hashlib.sha1(f"{context.stage.name}/{context.action.name}/{name}".encode()).hexdigest()
    if name in ("CommitId", "ImageDigest"):
        return digest if name == "CommitId" else f"sha256:{digest}{digest[:24]}"
    if name == "ETag":
        return digest[:32]
    if name == "BranchName":
        return "main"
    return f"fake-{name}"


def published(context: ActionContext, given: Mapping[str, str], *, documented: bool = True) -> dict[str, str]:
    """
    The output variables a fake publishes: stand-ins for what its action would emit, then *given*.

    With *documented*, an action with a namespace publishes a stand-in for every output variable
    its provider documents (``CommitId``, ``ETag``, ``ImageURI``, ...) and for every variable the
    pipeline reads from its namespace (``#{BuildVariables.APP_VERSION}`` for a CodeBuild export),
    so consumers resolve; *given* overrides any of them.
    """
    namespace = context.action.namespace
    if not documented or namespace is None:
        return dict(given)
    names: set[str] = set()
    spec = lookup(context.action.action_type)
    if spec is not None and spec.output_variables:
        names.update(spec.output_variables)
    for stage in context.pipeline.stages:
        for action in stage.actions:
            names.update(key for ns, key, _ in references(action) if ns == namespace)
    return {**{name: _stand_in(name, context) for name in sorted(names)}, **given}


@attrs.frozen(kw_only=True)
class Call:
    """
    What one handler call saw: resolved configuration, input files and environment.

    Attributes:
        stage: The stage name.
        action: The action name.
        configuration: The configuration with variables resolved.
        inputs: Input artifact name -> {relative path: bytes} as extracted for the action.
        environment: The resolved environment variables.
        execution_id: The pipeline execution id.

    .. versionadded:: 0.1.0
    """

    stage: str
    action: str
    configuration: Mapping[str, str]
    inputs: Mapping[str, Mapping[str, bytes]]
    environment: Mapping[str, str]
    execution_id: str


@attrs.define
class FakeHandler:
    """
    A handler that writes the given output files, returns the given variables, or fails.

    Build one with :func:`fake`.

    .. versionadded:: 0.1.0
    """

    outputs: Mapping[str, Files] = attrs.field(factory=dict)
    variables: Mapping[str, str] = attrs.field(factory=dict)
    fail: str | None = None
    summary: str | None = None
    failure_type: FailureType = FailureType.JOB_FAILED
    documented_variables: bool = True

    def __call__(self, context: ActionContext) -> ActionResult:
        """Fill the action's output folders, then succeed or fail as configured."""
        if self.fail is not None:
            context.log(f"fake failure: {self.fail}")
            raise ActionFailed(self.fail, failure_type=self.failure_type)
        unknown = sorted(set(self.outputs) - set(context.outputs))
        if unknown:
            raise ActionFailed(
                f"fake for {context.stage.name}/{context.action.name} writes artifacts {unknown} the action does not "
                f"declare; its outputs are {sorted(context.outputs)}",
                failure_type=FailureType.CONFIGURATION_ERROR,
            )
        for name, folder in context.outputs.items():
            files = self.outputs.get(name)
            if files is None:
                # An empty zip is legal but surprising in a test; leave a marker naming its producer.
                files = {"FAKE": f"produced by fake {context.stage.name}/{context.action.name}\n"}
            for rel, content in files.items():
                target = folder / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(content, bytes):
                    target.write_bytes(content)
                else:
                    target.write_text(content, encoding="utf-8")
        context.log(f"fake {context.stage.name}/{context.action.name} succeeded")
        return ActionResult(
            output_variables=published(context, self.variables, documented=self.documented_variables),
            summary=self.summary or f"fake {context.action.name}",
        )


def fake(
    *,
    outputs: Mapping[str, Files] | None = None,
    variables: Mapping[str, str] | None = None,
    fail: str | None = None,
    summary: str | None = None,
    failure_type: FailureType = FailureType.JOB_FAILED,
    documented_variables: bool = True,
) -> FakeHandler:
    """
    Make a fake handler.

    Args:
        outputs: Output artifact name -> files to put in it (``{"BuildOutput": {"app.zip": b"..."}}``).
            Outputs not listed get one marker file.
        variables: Output variables to publish under the action's namespace. They override the
            stand-ins published for the provider's documented variables.
        fail: Fail the action with this message instead of succeeding.
        summary: The action's summary.
        failure_type: The failure type reported when *fail* is set.
        documented_variables: Publish a stand-in value for every output variable the action's
            provider documents and every variable the pipeline reads from its namespace (the
            default), so consumers of ``#{Namespace.Variable}`` resolve; ``False`` publishes
            only *variables*.

    .. versionadded:: 0.1.0
    """
    return FakeHandler(
        outputs=dict(outputs or {}),
        variables=dict(variables or {}),
        fail=fail,
        summary=summary,
        failure_type=failure_type,
        documented_variables=documented_variables,
    )


@attrs.define
class RecordingHandler:
    """
    Wraps a handler (a succeeding :func:`fake` by default) and records every call.

    Attributes:
        calls: One :class:`Call` per invocation, in order.

    .. versionadded:: 0.1.0
    """

    inner: Callable[[ActionContext], ActionResult | None] = attrs.field(factory=lambda: fake())
    calls: list[Call] = attrs.field(factory=list)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False)

    def __call__(self, context: ActionContext) -> ActionResult | None:
        """Record what the action saw, then delegate to the wrapped handler."""
        call = Call(
            stage=context.stage.name,
            action=context.action.name,
            configuration=dict(context.configuration),
            inputs={name: _snapshot_dir(path) for name, path in context.inputs.items()},
            environment=dict(context.environment),
            execution_id=context.execution_id,
        )
        with self._lock:
            self.calls.append(call)
        return self.inner(context)

    @property
    def called(self) -> bool:
        """Whether the handler ran at least once."""
        return bool(self.calls)

    @property
    def last(self) -> Call:
        """The latest call (``AssertionError`` when there was none)."""
        assert self.calls, "the recording handler was never called"
        return self.calls[-1]


def recording(inner: Callable[[ActionContext], ActionResult | None] | None = None) -> RecordingHandler:
    """
    Make a handler that records its calls, delegating to *inner* (a succeeding fake by default).

    .. versionadded:: 0.1.0
    """
    return RecordingHandler(inner) if inner is not None else RecordingHandler()
