"""pipeweaver on AWS: deploy, diff and fetch pipelines, run them on CodePipeline, keep artifacts
in S3, and serve custom action types with job workers.

Layer: aws, the only package that imports boto3/botocore. ``import pipeweaver`` does not import
it; write ``import pipeweaver.aws`` (or ``from pipeweaver import aws``). Every function takes
an injected boto3 client; default clients are created on first use from the default session.
"""

from __future__ import annotations

from .._public import publish as _publish
from ._custom import ArtifactBounds, ConfigurationProperty, CustomActionSettings, CustomActionType
from ._deploy import Change, DeployResult, PipelineDiff, deploy, diff, fetch
from ._executor import ApprovalPolicy, Backoff, CodePipelineExecutor, CodePipelineHandle
from ._store import S3ArtifactStore
from ._worker import JobOutcome, JobWorker, Revision, worker_policy

__all__ = [
    "ApprovalPolicy",
    "ArtifactBounds",
    "Backoff",
    "Change",
    "CodePipelineExecutor",
    "CodePipelineHandle",
    "ConfigurationProperty",
    "CustomActionSettings",
    "CustomActionType",
    "DeployResult",
    "JobOutcome",
    "JobWorker",
    "PipelineDiff",
    "Revision",
    "S3ArtifactStore",
    "deploy",
    "diff",
    "fetch",
    "worker_policy",
]

_publish(globals(), __all__, __name__)
