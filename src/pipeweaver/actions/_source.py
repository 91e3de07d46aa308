"""Typed factories of source actions.

Layer: model. See :mod:`pipeweaver.actions`; each factory names its catalog entry.
"""

from __future__ import annotations

from .. import _catalog
from .._catalog import OutputArtifactFormat
from .._model import Action
from ._common import (
    ArtifactLike,
    Text,
    _artifact,
    _common,
    _make,
    _put,
)

# ---------------------------------------------------------------------------------------------
# source


def s3_source(
    name: str,
    *,
    bucket: Text,
    object_key: Text,
    output: ArtifactLike = "SourceOutput",
    poll_for_source_changes: bool = False,
    allow_override_for_s3_object_key: bool | None = None,
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
) -> Action:
    """
    An S3 source: a versioned bucket object (``Source/AWS/S3``).

    Args:
        bucket: ``S3Bucket``.
        object_key: ``S3ObjectKey`` (a zip file).
        output: The output artifact (a name creates it).
        poll_for_source_changes: ``PollForSourceChanges``; written explicitly, ``false`` by
            default (start the pipeline from an EventBridge rule instead of polling).
        allow_override_for_s3_object_key: ``AllowOverrideForS3ObjectKey``.

    .. versionadded:: 0.1.0
    """
    config: dict[str, Text] = {"S3Bucket": bucket, "S3ObjectKey": object_key}
    _put(config, "PollForSourceChanges", poll_for_source_changes)
    _put(config, "AllowOverrideForS3ObjectKey", allow_override_for_s3_object_key)
    return _make(
        name,
        _catalog.S3_SOURCE,
        config,
        outputs=[_artifact(output)],
        common=_common(run_order, namespace, role_arn, None),
    )


def ecr_source(
    name: str,
    *,
    repository_name: Text,
    image_tag: Text | None = None,
    output: ArtifactLike = "SourceOutput",
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
) -> Action:
    """
    An ECR image source (``Source/AWS/ECR``); ``image_tag`` defaults to ``latest`` on AWS.

    .. versionadded:: 0.1.0
    """
    config: dict[str, Text] = {"RepositoryName": repository_name}
    _put(config, "ImageTag", image_tag)
    return _make(
        name,
        _catalog.ECR_SOURCE,
        config,
        outputs=[_artifact(output)],
        common=_common(run_order, namespace, role_arn, None),
    )


def codecommit_source(
    name: str,
    *,
    repository_name: Text,
    branch: Text,
    output: ArtifactLike = "SourceOutput",
    poll_for_source_changes: bool = False,
    output_artifact_format: OutputArtifactFormat | None = None,
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
) -> Action:
    """
    A CodeCommit source (``Source/AWS/CodeCommit``).

    Args:
        poll_for_source_changes: Written explicitly, ``false`` by default (EventBridge).
        output_artifact_format: ``CODE_ZIP`` (AWS's default) or ``CODEBUILD_CLONE_REF``.

    .. versionadded:: 0.1.0
    """
    config: dict[str, Text] = {"RepositoryName": repository_name, "BranchName": branch}
    _put(config, "PollForSourceChanges", poll_for_source_changes)
    _put(config, "OutputArtifactFormat", output_artifact_format)
    return _make(
        name,
        _catalog.CODECOMMIT_SOURCE,
        config,
        outputs=[_artifact(output)],
        common=_common(run_order, namespace, role_arn, None),
    )


def connection_source(
    name: str,
    *,
    connection_arn: Text,
    repository: Text,
    branch: Text,
    output: ArtifactLike = "SourceOutput",
    detect_changes: bool | None = None,
    output_artifact_format: OutputArtifactFormat | None = None,
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
) -> Action:
    """
    A source through a CodeConnections connection (``Source/AWS/CodeStarSourceConnection``):
    GitHub, GitHub Enterprise Server, GitLab or Bitbucket Cloud.

    Args:
        connection_arn: ``ConnectionArn``.
        repository: ``FullRepositoryId``, ``owner/repo`` exactly as the host spells it.
        branch: ``BranchName``.
        detect_changes: ``DetectChanges`` (AWS's default is true); triggers replace it.
        output_artifact_format: ``CODE_ZIP`` or ``CODEBUILD_CLONE_REF`` (full clone).

    .. versionadded:: 0.1.0
    """
    config: dict[str, Text] = {"ConnectionArn": connection_arn, "FullRepositoryId": repository, "BranchName": branch}
    _put(config, "DetectChanges", detect_changes)
    _put(config, "OutputArtifactFormat", output_artifact_format)
    return _make(
        name,
        _catalog.CONNECTION_SOURCE,
        config,
        outputs=[_artifact(output)],
        common=_common(run_order, namespace, role_arn, None),
    )


#: A GitHub source through a connection; same arguments as :func:`connection_source`.
github_source = connection_source
#: A GitLab source through a connection; same arguments as :func:`connection_source`.
gitlab_source = connection_source
#: A Bitbucket Cloud source through a connection; same arguments as :func:`connection_source`.
bitbucket_source = connection_source


def github_v1_source(
    name: str,
    *,
    owner: Text,
    repo: Text,
    branch: Text,
    oauth_token: Text,
    output: ArtifactLike = "SourceOutput",
    poll_for_source_changes: bool = False,
    run_order: int = 1,
    namespace: str | None = None,
) -> Action:
    """
    A GitHub (version 1, OAuth app) source (``Source/ThirdParty/GitHub``). AWS recommends
    :func:`github_source` (a connection) instead.

    Args:
        oauth_token: ``OAuthToken``, a secret; pass a CloudFormation dynamic reference or
            :class:`~pipeweaver.Expression` rather than the token itself.

    .. versionadded:: 0.1.0
    """
    config: dict[str, Text] = {"Owner": owner, "Repo": repo, "Branch": branch, "OAuthToken": oauth_token}
    _put(config, "PollForSourceChanges", poll_for_source_changes)
    return _make(
        name,
        _catalog.GITHUB_V1_SOURCE,
        config,
        outputs=[_artifact(output)],
        common=_common(run_order, namespace, None, None),
    )
