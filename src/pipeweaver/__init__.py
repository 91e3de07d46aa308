"""pipeweaver: a typed Python SDK for AWS CodePipeline-style delivery pipelines.

Build a :class:`Pipeline` in Python (or import one), check it with :func:`lint`, run it locally,
and synthesize CodePipeline JSON or CloudFormation with :mod:`pipeweaver.synth`. AWS access
lives in :mod:`pipeweaver.aws`, which is not imported here.
"""

from __future__ import annotations

import typing
from typing import Any

from ._graph import CriticalPath, Plan, StagePlan, build_graph, critical_path, plan
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
    PullRequestEvent,
    Result,
    RetryMode,
    Rule,
    RuleType,
    Stage,
    SuccessConditions,
    Trigger,
    Variable,
)
from ._public import publish as _publish
from ._triggers import GitPullRequest, GitPush, TriggerDecision
from ._triggers import evaluate as evaluate_trigger
from ._validate import lint, validate
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

if typing.TYPE_CHECKING:
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

# The local engine (SQLite, zip, http.server, YAML buildspecs) loads on first use, so that
# `import pipeweaver` stays fast (goal < 100 ms, measured by bench/run.py cold import).
_LAZY = frozenset(
    {
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
    }
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
    "Trigger",
    "TriggerDecision",
    "ValidationError",
    "Variable",
    "build_graph",
    "critical_path",
    "evaluate_trigger",
    "lint",
    "plan",
    "validate",
]

_publish(globals(), __all__, __name__)


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import version

        return version("pipeweaver")
    if name in _LAZY or name == "execution":
        # import_module, not `from . import execution`: that form asks this very __getattr__
        import importlib

        execution = importlib.import_module(f"{__name__}.execution")
        if name == "execution":
            return execution
        value = getattr(execution, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pipeweaver' has no attribute {name!r}")
