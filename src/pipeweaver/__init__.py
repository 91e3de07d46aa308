"""pipeweaver: a typed Python SDK for AWS CodePipeline-style delivery pipelines.

Build a :class:`Pipeline` in Python (or import one), check it with :func:`lint`, run it locally,
and synthesize CodePipeline JSON or CloudFormation with :mod:`pipeweaver.synth`. AWS access
lives in :mod:`pipeweaver.aws`, which is not imported here.
"""

from __future__ import annotations

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
from ._triggers import GitPullRequest, GitPush, TriggerDecision
from ._triggers import evaluate as evaluate_trigger
from ._validate import lint, validate
from .errors import (
    ArtifactError,
    AwsError,
    DefinitionError,
    ExecutionError,
    HandlerNotFoundError,
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


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import version

        return version("pipeweaver")
    raise AttributeError(f"module 'pipeweaver' has no attribute {name!r}")
