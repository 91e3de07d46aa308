"""pipeweaver: a typed Python SDK for AWS CodePipeline-style delivery pipelines.

Build a :class:`Pipeline` in Python (or import one), check it with :func:`lint`, run it locally,
and synthesize CodePipeline JSON or CloudFormation with :mod:`pipeweaver.synth`. AWS access
lives in :mod:`pipeweaver.aws`, which is not imported here.
"""

# Every name loads on first use (PEP 562), from the module :data:`_HOMES` gives: `import
# pipeweaver` costs next to nothing, and `pipeweaver validate FILE` pays for the model, its
# rules and the CLI, not for the graph, triggers or the engine (bench/run.py, cold start). The
# names are imported for type checkers below, so mypy --strict sees each precisely; at run time
# `from pipeweaver import *`, `pipeweaver.X` and `from pipeweaver import X` all load through
# `__getattr__`.

from __future__ import annotations

import typing

from . import _services

if typing.TYPE_CHECKING:
    import networkx as nx

    from ._graph import CriticalPath, build_graph, critical_path
    from ._model import (
        Action,
        ActionCategory,
        ActionOwner,
        ActionType,
        Artifact,
        ArtifactStore,
        BeforeEntryConditions,
        Blocker,
        Condition,
        EncryptionKey,
        EnvironmentVariable,
        EnvironmentVariableType,
        ExecutionMode,
        Expression,
        FailureConditions,
        GitFilter,
        GitPullRequestFilter,
        GitPushFilter,
        Pipeline,
        PipelineType,
        Plan,
        PullRequestEvent,
        Result,
        RetryMode,
        Rule,
        RuleType,
        Stage,
        StagePlan,
        SuccessConditions,
        Trigger,
        Variable,
        plan,
    )
    from ._triggers import GitPullRequest, GitPush, TriggerDecision
    from ._triggers import evaluate as evaluate_trigger
    from ._validate import lint, validate
    from ._when import TemplateConditions, When
    from .errors import (
        ArtifactError,
        AwsError,
        DefinitionError,
        ExecutionError,
        HandlerNotFoundError,
        HistoryError,
        Issue,
        LoadError,
        PipeweaverError,
        SynthesisError,
        ValidationError,
    )
    from .execution import (
        ActionContext,
        ActionFailed,
        ActionResult,
        ActionStatus,
        Execution,
        ExecutionHandle,
        ExecutionStatus,
        Executor,
        LocalExecutor,
        StageStatus,
    )

__all__ = [
    "Action",
    "ActionCategory",
    "ActionContext",
    "ActionFailed",
    "ActionOwner",
    "ActionResult",
    "ActionStatus",
    "ActionType",
    "Artifact",
    "ArtifactError",
    "ArtifactStore",
    "AwsError",
    "BeforeEntryConditions",
    "Blocker",
    "Condition",
    "CriticalPath",
    "DefinitionError",
    "EncryptionKey",
    "EnvironmentVariable",
    "EnvironmentVariableType",
    "Execution",
    "ExecutionError",
    "ExecutionHandle",
    "ExecutionMode",
    "ExecutionStatus",
    "Executor",
    "Expression",
    "FailureConditions",
    "GitFilter",
    "GitPullRequest",
    "GitPullRequestFilter",
    "GitPush",
    "GitPushFilter",
    "HandlerNotFoundError",
    "HistoryError",
    "Issue",
    "LoadError",
    "LocalExecutor",
    "Pipeline",
    "PipelineType",
    "PipeweaverError",
    "Plan",
    "PullRequestEvent",
    "Result",
    "RetryMode",
    "Rule",
    "RuleType",
    "Stage",
    "StagePlan",
    "StageStatus",
    "SuccessConditions",
    "SynthesisError",
    "TemplateConditions",
    "Trigger",
    "TriggerDecision",
    "ValidationError",
    "Variable",
    "When",
    "build_graph",
    "critical_path",
    "evaluate_trigger",
    "lint",
    "plan",
    "validate",
]

#: Each public name's home: the module (relative to this package) and its name there.
_HOMES: dict[str, tuple[str, str]] = {
    **{
        name: ("._model", name)
        for name in (
            "Action",
            "ActionCategory",
            "ActionOwner",
            "ActionType",
            "Artifact",
            "ArtifactStore",
            "BeforeEntryConditions",
            "Blocker",
            "Condition",
            "EncryptionKey",
            "EnvironmentVariable",
            "EnvironmentVariableType",
            "ExecutionMode",
            "Expression",
            "FailureConditions",
            "GitFilter",
            "GitPullRequestFilter",
            "GitPushFilter",
            "Pipeline",
            "PipelineType",
            "Plan",
            "PullRequestEvent",
            "Result",
            "RetryMode",
            "Rule",
            "RuleType",
            "Stage",
            "StagePlan",
            "SuccessConditions",
            "Trigger",
            "Variable",
            "plan",
        )
    },
    **{name: ("._graph", name) for name in ("CriticalPath", "build_graph", "critical_path")},
    **{name: ("._when", name) for name in ("TemplateConditions", "When")},
    **{name: ("._triggers", name) for name in ("GitPullRequest", "GitPush", "TriggerDecision")},
    "evaluate_trigger": ("._triggers", "evaluate"),
    **{name: ("._validate", name) for name in ("lint", "validate")},
    **{
        name: (".errors", name)
        for name in (
            "ArtifactError",
            "AwsError",
            "DefinitionError",
            "ExecutionError",
            "HandlerNotFoundError",
            "HistoryError",
            "Issue",
            "LoadError",
            "PipeweaverError",
            "SynthesisError",
            "ValidationError",
        )
    },
    # The local engine (SQLite, zip, http.server, YAML buildspecs).
    **{
        name: (".execution", name)
        for name in (
            "ActionContext",
            "ActionFailed",
            "ActionResult",
            "ActionStatus",
            "Execution",
            "ExecutionHandle",
            "ExecutionStatus",
            "Executor",
            "LocalExecutor",
            "StageStatus",
        )
    },
}


def _graph_service(pipeline: Pipeline) -> nx.DiGraph[tuple[str, str]]:
    from ._graph import build_graph

    return build_graph(pipeline)


def _validate_service(pipeline: Pipeline) -> None:
    from ._validate import validate

    validate(pipeline)


# Pipeline.graph() and Pipeline.validate() call the layers above the model through these slots;
# this module is above every layer and loads before any of them. (Not named `_graph`/`_validate`:
# those are this package's submodules, which become its attributes when imported.)
_services.SERVICES.build_graph = _graph_service
_services.SERVICES.validate = _validate_service


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if not typing.TYPE_CHECKING:
    # Hidden from type checkers: every public name is imported for them above, so a misspelt
    # `pipeweaver.Pipelin` is a mypy error rather than Any.

    def __getattr__(name: str) -> object:
        if name == "__version__":
            from importlib.metadata import version

            return version("pipeweaver")
        if name == "execution":
            import importlib

            # import_module, not `from . import execution`: that form asks this very __getattr__
            return importlib.import_module(f"{__name__}.execution")
        home = _HOMES.get(name)
        if home is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        # __import__ (what an import statement runs) rather than importlib.import_module, so that
        # `python -X importtime` lists the module under its own name.
        value = getattr(__import__(f"{__name__}{home[0]}", fromlist=[home[1]]), home[1])
        globals()[name] = value
        return value
