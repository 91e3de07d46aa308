"""Typed factories of build, test and compute actions.

Layer: model. See :mod:`pipeweaver.actions`; each factory names its catalog entry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from .. import _catalog
from .._model import Action, ActionOwner, ActionType, Artifact, EnvironmentVariable
from ._common import (
    ArtifactLike,
    CodeBuildEnvironmentVariable,
    Text,
    _action,
    _artifact,
    _common,
    _inputs,
    _make,
    _put,
)

# ---------------------------------------------------------------------------------------------
# build, test, compute


def _codebuild(
    spec: _catalog.ProviderSpec,
    name: str,
    project_name: Text,
    input: ArtifactLike | Sequence[ArtifactLike],
    outputs: Sequence[ArtifactLike],
    primary_source: ArtifactLike | None,
    environment_variables: Sequence[CodeBuildEnvironmentVariable] | Mapping[str, str] | None,
    batch_enabled: bool | None,
    combine_artifacts: bool | None,
    buildspec_override: Text | None,
    common: Mapping[str, Any],
) -> Action:
    inputs = _inputs(input)
    config: dict[str, Text] = {"ProjectName": project_name}
    if primary_source is None and len(inputs) > 1:
        primary_source = inputs[0]
    if primary_source is not None:
        config["PrimarySource"] = _artifact(primary_source).name
    if environment_variables is not None:
        items = (
            [{"name": k, "value": v, "type": "PLAINTEXT"} for k, v in environment_variables.items()]
            if isinstance(environment_variables, Mapping)
            else [dict(e) for e in environment_variables]
        )
        config["EnvironmentVariables"] = json.dumps(items, separators=(",", ":"))
    _put(config, "BatchEnabled", batch_enabled)
    _put(config, "CombineArtifacts", combine_artifacts)
    _put(config, "BuildspecOverride", buildspec_override)
    return _make(
        name,
        spec,
        config,
        inputs=inputs,
        outputs=[_artifact(o) for o in outputs],
        common=common,
    )


def codebuild(
    name: str,
    *,
    project_name: Text,
    input: ArtifactLike | Sequence[ArtifactLike],
    outputs: Sequence[ArtifactLike] = (),
    primary_source: ArtifactLike | None = None,
    environment_variables: Sequence[CodeBuildEnvironmentVariable] | Mapping[str, str] | None = None,
    batch_enabled: bool | None = None,
    combine_artifacts: bool | None = None,
    buildspec_override: Text | None = None,
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
    region: Text | None = None,
) -> Action:
    """
    A CodeBuild build (``Build/AWS/CodeBuild``).

    Args:
        input: One to five input artifacts.
        outputs: Up to five output artifacts (names create them).
        primary_source: ``PrimarySource``; with several inputs the first is used if not given.
        environment_variables: A mapping (plain-text values) or a list of
            ``{"name", "value", "type"}``; written as the JSON text AWS expects.
        batch_enabled: ``BatchEnabled``.
        combine_artifacts: ``CombineArtifacts`` (batch builds only).
        buildspec_override: ``BuildspecOverride``.

    .. versionadded:: 0.1.0
    """
    return _codebuild(
        _catalog.CODEBUILD,
        name,
        project_name,
        input,
        outputs,
        primary_source,
        environment_variables,
        batch_enabled,
        combine_artifacts,
        buildspec_override,
        _common(run_order, namespace, role_arn, region),
    )


def codebuild_test(
    name: str,
    *,
    project_name: Text,
    input: ArtifactLike | Sequence[ArtifactLike],
    outputs: Sequence[ArtifactLike] = (),
    primary_source: ArtifactLike | None = None,
    environment_variables: Sequence[CodeBuildEnvironmentVariable] | Mapping[str, str] | None = None,
    batch_enabled: bool | None = None,
    combine_artifacts: bool | None = None,
    buildspec_override: Text | None = None,
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
    region: Text | None = None,
) -> Action:
    """
    A CodeBuild test action (``Test/AWS/CodeBuild``); arguments as :func:`codebuild`.

    .. versionadded:: 0.1.0
    """
    return _codebuild(
        _catalog.CODEBUILD_TEST,
        name,
        project_name,
        input,
        outputs,
        primary_source,
        environment_variables,
        batch_enabled,
        combine_artifacts,
        buildspec_override,
        _common(run_order, namespace, role_arn, region),
    )


def commands(
    name: str,
    *,
    commands: Sequence[str],
    input: ArtifactLike | Sequence[ArtifactLike],
    output: ArtifactLike | None = None,
    output_files: Sequence[str] = (),
    output_variables: Sequence[str] = (),
    environment_variables: Mapping[str, Text] | Sequence[EnvironmentVariable] | None = None,
    environment_type: Literal["LINUX_CONTAINER", "WINDOWS_SERVER_2022_CONTAINER"] | None = None,
    compute_type: Literal["BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE"] | None = None,
    vpc_id: Text | None = None,
    subnets: Sequence[str] | None = None,
    security_group_ids: Sequence[str] | None = None,
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
    region: Text | None = None,
) -> Action:
    """
    Shell commands on managed compute (``Compute/AWS/Commands``, V2 pipelines only).

    Args:
        commands: 1-50 single-line shell commands.
        input: One to ten input artifacts.
        output: The output artifact, if any; *output_files* are the paths it collects.
        output_variables: Environment variables to export as output variables.
        environment_variables: Name -> value, or :class:`~pipeweaver.EnvironmentVariable`
            objects (for ``SECRETS_MANAGER`` values).

    .. versionadded:: 0.1.0
    """
    config: dict[str, Text] = {}
    _put(config, "EnvironmentType", environment_type)
    _put(config, "ComputeType", compute_type)
    _put(config, "VpcId", vpc_id)
    _put(config, "Subnets", subnets)
    _put(config, "SecurityGroupIds", security_group_ids)
    outputs = []
    if output is not None:
        artifact = _artifact(output)
        if output_files and not artifact.files:
            artifact = Artifact(artifact.name, files=tuple(output_files))
        outputs.append(artifact)
    envs: tuple[EnvironmentVariable, ...] = ()
    if isinstance(environment_variables, Mapping):
        envs = tuple(EnvironmentVariable(name=k, value=v) for k, v in environment_variables.items())
    elif environment_variables is not None:
        envs = tuple(environment_variables)
    return _make(
        name,
        _catalog.COMMANDS,
        config,
        inputs=_inputs(input),
        outputs=outputs,
        common=_common(run_order, namespace, role_arn, region),
        commands=tuple(commands),
        output_variables=tuple(output_variables),
        environment_variables=envs,
    )


def ecr_build_and_publish(
    name: str,
    *,
    repository_name: Text,
    input: ArtifactLike,
    dockerfile_path: Text | None = None,
    image_tags: Sequence[str] | None = None,
    registry_type: Literal["private", "public"] | None = None,
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
    region: Text | None = None,
) -> Action:
    """
    Build a Docker image and push it to ECR (``Build/AWS/ECRBuildAndPublish``, V2 only).

    .. versionadded:: 0.1.0
    """
    config: dict[str, Text] = {"ECRRepositoryName": repository_name}
    _put(config, "DockerFilePath", dockerfile_path)
    _put(config, "ImageTags", image_tags)
    _put(config, "RegistryType", registry_type)
    return _make(
        name,
        _catalog.ECR_BUILD_AND_PUBLISH,
        config,
        inputs=_inputs(input),
        common=_common(run_order, namespace, role_arn, region),
    )


def jenkins(
    name: str,
    *,
    project_name: Text,
    provider: str = _catalog.JENKINS_BUILD.provider,
    category: Literal["Build", "Test"] = "Build",
    version: str = "1",
    inputs: Sequence[ArtifactLike] = (),
    outputs: Sequence[ArtifactLike] = (),
    run_order: int = 1,
    namespace: str | None = None,
) -> Action:
    """
    A Jenkins job through the CodePipeline Jenkins plugin (owner ``Custom``).

    Args:
        provider: The provider name registered by the plugin.

    .. versionadded:: 0.1.0
    """
    return _action(
        name,
        ActionType(category=category, owner=ActionOwner.CUSTOM, provider=provider, version=version),
        {"ProjectName": project_name},
        inputs=_inputs(inputs),
        outputs=[_artifact(o) for o in outputs],
        common=_common(run_order, namespace, None, None),
    )


def device_farm(
    name: str,
    *,
    input: ArtifactLike,
    app_type: Literal["iOS", "Android", "Web"],
    project_id: Text,
    app: Text,
    appium_version: Text,
    device_pool_arn: Text,
    test_type: Text,
    test: Text | None = None,
    record_video: bool | None = None,
    record_app_performance_data: bool | None = None,
    job_timeout_minutes: int | None = None,
    extra: Mapping[str, Text] | None = None,
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
) -> Action:
    """
    Device Farm tests (``Test/AWS/DeviceFarm``).

    Args:
        extra: Any other documented Device Farm setting (``RadioWifiEnabled``, ``FuzzEventCount``, ...).

    .. versionadded:: 0.1.0
    """
    config: dict[str, Text] = {
        "AppType": app_type,
        "ProjectId": project_id,
        "App": app,
        "AppiumVersion": appium_version,
        "DevicePoolArn": device_pool_arn,
        "TestType": test_type,
    }
    _put(config, "Test", test)
    _put(config, "RecordVideo", record_video)
    _put(config, "RecordAppPerformanceData", record_app_performance_data)
    _put(config, "JobTimeoutMinutes", job_timeout_minutes)
    config.update(extra or {})
    return _make(
        name,
        _catalog.DEVICE_FARM,
        config,
        inputs=_inputs(input),
        common=_common(run_order, namespace, role_arn, None),
    )
