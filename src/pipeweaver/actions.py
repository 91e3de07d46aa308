"""Typed action factories: one function per provider of the catalog, each returning a plain Action.

Layer: model. Imports the model and the provider catalog only. Keyword arguments are
snake_case and typed (``poll_for_source_changes: bool``, ``capabilities: Sequence[...]``);
the factories turn them into AWS's configuration strings, so everything downstream (lint,
synth, the local executor) sees one :class:`~pipeweaver.Action` model. Required settings are
required parameters; optional ones are left out of the configuration when not given.

.. code-block:: python

    from pipeweaver import actions

    source = actions.github_source("Source", connection_arn=arn, repository="acme/web", branch="main")
    build = actions.codebuild("Build", project_name="web", input=source.output())

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypedDict

from . import _catalog
from ._catalog import ActionMode, Capability, OutputArtifactFormat
from ._model import (
    Action,
    ActionCategory,
    ActionOwner,
    ActionType,
    Artifact,
    EnvironmentVariable,
    Expression,
)

__all__ = [
    "ActionMode",
    "Capability",
    "CodeBuildEnvironmentVariable",
    "alexa_skills_kit",
    "appconfig_deploy",
    "bitbucket_source",
    "cloudformation",
    "cloudformation_change_set_execute",
    "cloudformation_change_set_replace",
    "cloudformation_create_update",
    "cloudformation_delete",
    "cloudformation_replace_on_failure",
    "cloudformation_stack_instances",
    "cloudformation_stackset",
    "codebuild",
    "codebuild_test",
    "codecommit_source",
    "codedeploy",
    "commands",
    "connection_source",
    "custom",
    "device_farm",
    "ec2_deploy",
    "ecr_build_and_publish",
    "ecr_source",
    "ecs_blue_green",
    "ecs_deploy",
    "eks_deploy",
    "elastic_beanstalk",
    "github_source",
    "github_v1_source",
    "gitlab_source",
    "inspector_scan",
    "jenkins",
    "lambda_deploy",
    "lambda_invoke",
    "manual_approval",
    "opsworks_deploy",
    "pipeline_invoke",
    "s3_deploy",
    "s3_source",
    "service_catalog",
    "snyk",
    "step_functions",
]

Text = str | Expression
ArtifactLike = Artifact | str
#: ``(artifact, "path/in/artifact")``, rendered ``ArtifactName::path`` (the artifact becomes an input).
ArtifactFile = tuple[Artifact, str]


class CodeBuildEnvironmentVariable(TypedDict, total=False):
    """One entry of CodeBuild's ``EnvironmentVariables`` setting.

    .. versionadded:: 0.1.0
    """

    name: str
    value: str
    type: Literal["PLAINTEXT", "PARAMETER_STORE", "SECRETS_MANAGER"]


# ---------------------------------------------------------------------------------------------
# helpers


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _csv(values: Sequence[str] | str) -> str:
    return values if isinstance(values, str) else ",".join(values)


def _artifact(value: ArtifactLike) -> Artifact:
    return value if isinstance(value, Artifact) else Artifact(value)


def _file(value: ArtifactFile) -> str:
    artifact, path = value
    return f"{artifact.name}::{path}"


def _put(config: dict[str, Text], key: str, value: Text | bool | Sequence[str] | int | None) -> None:
    """Set *key* unless *value* is None, converting booleans, lists and numbers to AWS's strings."""
    if value is None:
        return
    if isinstance(value, bool):
        config[key] = _bool(value)
    elif isinstance(value, int):
        config[key] = str(value)
    elif isinstance(value, str | Expression):
        config[key] = value
    else:
        config[key] = _csv(value)


def _inputs(*groups: ArtifactLike | Sequence[ArtifactLike] | None) -> tuple[Artifact, ...]:
    out: list[Artifact] = []
    for group in groups:
        if group is None:
            continue
        items = [group] if isinstance(group, Artifact | str) else list(group)
        for item in items:
            artifact = _artifact(item)
            if artifact not in out:
                out.append(artifact)
    return tuple(out)


def _make(
    name: str,
    spec: _catalog.ProviderSpec,
    configuration: Mapping[str, Text],
    *,
    inputs: Sequence[Artifact] = (),
    outputs: Sequence[Artifact] = (),
    common: Mapping[str, Any],
    **extra: Any,
) -> Action:
    """An action of the catalog entry *spec*'s type."""
    action_type = ActionType(category=spec.category, owner=spec.owner, provider=spec.provider, version=spec.version)
    return _action(name, action_type, configuration, inputs=inputs, outputs=outputs, common=common, **extra)


def _action(
    name: str,
    action_type: ActionType,
    configuration: Mapping[str, Text],
    *,
    inputs: Sequence[Artifact] = (),
    outputs: Sequence[Artifact] = (),
    common: Mapping[str, Any],
    **extra: Any,
) -> Action:
    return Action(
        name=name,
        action_type=action_type,
        configuration=dict(configuration),
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        **common,
        **extra,
    )


def _common(run_order: int, namespace: str | None, role_arn: Text | None, region: Text | None) -> dict[str, Any]:
    return {"run_order": run_order, "namespace": namespace, "role_arn": role_arn, "region": region}


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


# ---------------------------------------------------------------------------------------------
# deploy


def s3_deploy(
    name: str,
    *,
    bucket: Text,
    input: ArtifactLike,
    extract: bool = True,
    object_key: Text | None = None,
    kms_encryption_key_arn: Text | None = None,
    canned_acl: Text | None = None,
    cache_control: Text | None = None,
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
    region: Text | None = None,
) -> Action:
    """
    Deploy an artifact to S3 (``Deploy/AWS/S3``).

    Args:
        extract: Unzip the artifact into the bucket; with ``False`` *object_key* names the object.
        object_key: ``ObjectKey`` (may use ``{datetime}`` and ``{uuid}``).

    .. versionadded:: 0.1.0
    """
    config: dict[str, Text] = {"BucketName": bucket, "Extract": _bool(extract)}
    _put(config, "ObjectKey", object_key)
    _put(config, "KMSEncryptionKeyARN", kms_encryption_key_arn)
    _put(config, "CannedACL", canned_acl)
    _put(config, "CacheControl", cache_control)
    return _make(
        name,
        _catalog.S3_DEPLOY,
        config,
        inputs=_inputs(input),
        common=_common(run_order, namespace, role_arn, region),
    )


def cloudformation(
    name: str,
    *,
    action_mode: ActionMode,
    stack_name: Text,
    template: ArtifactFile | None = None,
    template_configuration: ArtifactFile | None = None,
    change_set_name: Text | None = None,
    deployment_role_arn: Text | None = None,
    capabilities: Sequence[Capability] | None = None,
    parameter_overrides: Mapping[str, Any] | None = None,
    output_file_name: Text | None = None,
    output: ArtifactLike | None = None,
    inputs: Sequence[ArtifactLike] = (),
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
    region: Text | None = None,
) -> Action:
    """
    A CloudFormation action in any mode (``Deploy/AWS/CloudFormation``); the mode-specific
    factories below take exactly the settings their mode needs.

    Args:
        template: ``(artifact, "path")`` -> ``TemplatePath``; the artifact becomes an input.
        template_configuration: Same form, ``TemplateConfiguration``.
        deployment_role_arn: The ``RoleArn`` setting: the role CloudFormation uses (not the
            action role, which is *role_arn*).
        parameter_overrides: ``ParameterOverrides``, written as JSON.
        output_file_name: ``OutputFileName``; the stack outputs go to *output*.

    .. versionadded:: 0.1.0
    """
    config: dict[str, Text] = {"ActionMode": action_mode, "StackName": stack_name}
    _put(config, "ChangeSetName", change_set_name)
    _put(config, "RoleArn", deployment_role_arn)
    _put(config, "Capabilities", capabilities)
    if template is not None:
        config["TemplatePath"] = _file(template)
    if template_configuration is not None:
        config["TemplateConfiguration"] = _file(template_configuration)
    if parameter_overrides is not None:
        config["ParameterOverrides"] = json.dumps(dict(parameter_overrides), separators=(",", ":"))
    _put(config, "OutputFileName", output_file_name)
    files = [f[0] for f in (template, template_configuration) if f is not None]
    return _make(
        name,
        _catalog.CLOUDFORMATION,
        config,
        inputs=_inputs(inputs, files),
        outputs=[_artifact(output)] if output is not None else [],
        common=_common(run_order, namespace, role_arn, region),
    )


def cloudformation_create_update(
    name: str,
    *,
    stack_name: Text,
    template: ArtifactFile,
    deployment_role_arn: Text,
    capabilities: Sequence[Capability] | None = None,
    parameter_overrides: Mapping[str, Any] | None = None,
    template_configuration: ArtifactFile | None = None,
    output_file_name: Text | None = None,
    output: ArtifactLike | None = None,
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
    region: Text | None = None,
) -> Action:
    """
    Create or update a stack (``ActionMode: CREATE_UPDATE``).

    .. versionadded:: 0.1.0
    """
    return cloudformation(
        name,
        action_mode="CREATE_UPDATE",
        stack_name=stack_name,
        template=template,
        deployment_role_arn=deployment_role_arn,
        capabilities=capabilities,
        parameter_overrides=parameter_overrides,
        template_configuration=template_configuration,
        output_file_name=output_file_name,
        output=output,
        run_order=run_order,
        namespace=namespace,
        role_arn=role_arn,
        region=region,
    )


def cloudformation_replace_on_failure(
    name: str,
    *,
    stack_name: Text,
    template: ArtifactFile,
    deployment_role_arn: Text,
    capabilities: Sequence[Capability] | None = None,
    parameter_overrides: Mapping[str, Any] | None = None,
    template_configuration: ArtifactFile | None = None,
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
    region: Text | None = None,
) -> Action:
    """
    Create or update a stack, replacing it when it is in a failed state (``REPLACE_ON_FAILURE``).

    .. versionadded:: 0.1.0
    """
    return cloudformation(
        name,
        action_mode="REPLACE_ON_FAILURE",
        stack_name=stack_name,
        template=template,
        deployment_role_arn=deployment_role_arn,
        capabilities=capabilities,
        parameter_overrides=parameter_overrides,
        template_configuration=template_configuration,
        run_order=run_order,
        namespace=namespace,
        role_arn=role_arn,
        region=region,
    )


def cloudformation_delete(
    name: str,
    *,
    stack_name: Text,
    deployment_role_arn: Text,
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
    region: Text | None = None,
) -> Action:
    """
    Delete a stack (``ActionMode: DELETE_ONLY``).

    .. versionadded:: 0.1.0
    """
    return cloudformation(
        name,
        action_mode="DELETE_ONLY",
        stack_name=stack_name,
        deployment_role_arn=deployment_role_arn,
        run_order=run_order,
        namespace=namespace,
        role_arn=role_arn,
        region=region,
    )


def cloudformation_change_set_replace(
    name: str,
    *,
    stack_name: Text,
    change_set_name: Text,
    template: ArtifactFile,
    deployment_role_arn: Text,
    capabilities: Sequence[Capability] | None = None,
    parameter_overrides: Mapping[str, Any] | None = None,
    template_configuration: ArtifactFile | None = None,
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
    region: Text | None = None,
) -> Action:
    """
    Create or replace a change set (``ActionMode: CHANGE_SET_REPLACE``).

    .. versionadded:: 0.1.0
    """
    return cloudformation(
        name,
        action_mode="CHANGE_SET_REPLACE",
        stack_name=stack_name,
        change_set_name=change_set_name,
        template=template,
        deployment_role_arn=deployment_role_arn,
        capabilities=capabilities,
        parameter_overrides=parameter_overrides,
        template_configuration=template_configuration,
        run_order=run_order,
        namespace=namespace,
        role_arn=role_arn,
        region=region,
    )


def cloudformation_change_set_execute(
    name: str,
    *,
    stack_name: Text,
    change_set_name: Text,
    output_file_name: Text | None = None,
    output: ArtifactLike | None = None,
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
    region: Text | None = None,
) -> Action:
    """
    Execute a change set made by an earlier action (``ActionMode: CHANGE_SET_EXECUTE``).

    .. versionadded:: 0.1.0
    """
    return cloudformation(
        name,
        action_mode="CHANGE_SET_EXECUTE",
        stack_name=stack_name,
        change_set_name=change_set_name,
        output_file_name=output_file_name,
        output=output,
        run_order=run_order,
        namespace=namespace,
        role_arn=role_arn,
        region=region,
    )


def cloudformation_stackset(
    name: str,
    *,
    stack_set_name: Text,
    template: ArtifactFile,
    parameters: ArtifactFile | Text | None = None,
    capabilities: Sequence[Capability] | None = None,
    permission_model: Literal["SELF_MANAGED", "SERVICE_MANAGED"] | None = None,
    administration_role_arn: Text | None = None,
    execution_role_name: Text | None = None,
    organizations_auto_deployment: Literal["Enabled", "Disabled", "EnabledWithStackRetention"] | None = None,
    deployment_targets: Sequence[str] | Text | None = None,
    regions: Sequence[str] | None = None,
    failure_tolerance_percentage: int | None = None,
    max_concurrent_percentage: int | None = None,
    description: Text | None = None,
    inputs: Sequence[ArtifactLike] = (),
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
    region: Text | None = None,
) -> Action:
    """
    Create or update a StackSet (``Deploy/AWS/CloudFormationStackSet``).

    Args:
        template: ``(artifact, "path")`` -> ``TemplatePath``.
        parameters: ``(artifact, "path")`` to a parameters file, or literal parameter text.
        deployment_targets: Account IDs (or OU IDs with ``SERVICE_MANAGED``), or a file path.

    .. versionadded:: 0.1.0
    """
    config: dict[str, Text] = {"StackSetName": stack_set_name, "TemplatePath": _file(template)}
    files = [template[0]]
    if isinstance(parameters, tuple):
        config["Parameters"] = _file(parameters)
        files.append(parameters[0])
    else:
        _put(config, "Parameters", parameters)
    _put(config, "Capabilities", capabilities)
    _put(config, "PermissionModel", permission_model)
    _put(config, "AdministrationRoleArn", administration_role_arn)
    _put(config, "ExecutionRoleName", execution_role_name)
    _put(config, "OrganizationsAutoDeployment", organizations_auto_deployment)
    _put(config, "DeploymentTargets", deployment_targets)
    _put(config, "Regions", regions)
    _put(config, "FailureTolerancePercentage", failure_tolerance_percentage)
    _put(config, "MaxConcurrentPercentage", max_concurrent_percentage)
    _put(config, "Description", description)
    return _make(
        name,
        _catalog.CLOUDFORMATION_STACKSET,
        config,
        inputs=_inputs(inputs, files),
        common=_common(run_order, namespace, role_arn, region),
    )


def cloudformation_stack_instances(
    name: str,
    *,
    stack_set_name: Text,
    regions: Sequence[str],
    deployment_targets: Sequence[str] | Text | None = None,
    parameter_overrides: ArtifactFile | Text | None = None,
    failure_tolerance_percentage: int | None = None,
    max_concurrent_percentage: int | None = None,
    inputs: Sequence[ArtifactLike] = (),
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
    region: Text | None = None,
) -> Action:
    """
    Create or update StackSet instances (``Deploy/AWS/CloudFormationStackInstances``).

    .. versionadded:: 0.1.0
    """
    config: dict[str, Text] = {"StackSetName": stack_set_name, "Regions": _csv(regions)}
    files: list[Artifact] = []
    if isinstance(parameter_overrides, tuple):
        config["ParameterOverrides"] = _file(parameter_overrides)
        files.append(parameter_overrides[0])
    else:
        _put(config, "ParameterOverrides", parameter_overrides)
    _put(config, "DeploymentTargets", deployment_targets)
    _put(config, "FailureTolerancePercentage", failure_tolerance_percentage)
    _put(config, "MaxConcurrentPercentage", max_concurrent_percentage)
    return _make(
        name,
        _catalog.CLOUDFORMATION_STACK_INSTANCES,
        config,
        inputs=_inputs(inputs, files),
        common=_common(run_order, namespace, role_arn, region),
    )


def codedeploy(
    name: str,
    *,
    application_name: Text,
    deployment_group_name: Text,
    input: ArtifactLike,
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
    region: Text | None = None,
) -> Action:
    """
    A CodeDeploy deployment (``Deploy/AWS/CodeDeploy``).

    .. versionadded:: 0.1.0
    """
    return _make(
        name,
        _catalog.CODEDEPLOY,
        {"ApplicationName": application_name, "DeploymentGroupName": deployment_group_name},
        inputs=_inputs(input),
        common=_common(run_order, namespace, role_arn, region),
    )


def ecs_deploy(
    name: str,
    *,
    cluster_name: Text,
    service_name: Text,
    input: ArtifactLike,
    file_name: Text | None = None,
    deployment_timeout: int | None = None,
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
    region: Text | None = None,
) -> Action:
    """
    A rolling ECS deployment (``Deploy/AWS/ECS``).

    Args:
        file_name: The image definitions file (AWS's default ``imagedefinitions.json``).
        deployment_timeout: Minutes, at most 60.

    .. versionadded:: 0.1.0
    """
    config: dict[str, Text] = {"ClusterName": cluster_name, "ServiceName": service_name}
    _put(config, "FileName", file_name)
    _put(config, "DeploymentTimeout", deployment_timeout)
    return _make(
        name,
        _catalog.ECS_DEPLOY,
        config,
        inputs=_inputs(input),
        common=_common(run_order, namespace, role_arn, region),
    )


def ecs_blue_green(
    name: str,
    *,
    application_name: Text,
    deployment_group_name: Text,
    task_definition: ArtifactFile,
    app_spec: ArtifactFile,
    images: Mapping[str, ArtifactLike] | None = None,
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
    region: Text | None = None,
) -> Action:
    """
    An ECS blue/green deployment through CodeDeploy (``Deploy/AWS/CodeDeployToECS``).

    Args:
        task_definition: ``(artifact, "taskdef.json")``.
        app_spec: ``(artifact, "appspec.yaml")``.
        images: Container placeholder name -> artifact holding ``imageDetail.json`` (up to 4);
            written as ``Image<N>ContainerName`` / ``Image<N>ArtifactName``.

    .. versionadded:: 0.1.0
    """
    config: dict[str, Text] = {
        "ApplicationName": application_name,
        "DeploymentGroupName": deployment_group_name,
        "TaskDefinitionTemplateArtifact": task_definition[0].name,
        "TaskDefinitionTemplatePath": task_definition[1],
        "AppSpecTemplateArtifact": app_spec[0].name,
        "AppSpecTemplatePath": app_spec[1],
    }
    image_artifacts = []
    for n, (container, artifact) in enumerate((images or {}).items(), start=1):
        config[f"Image{n}ContainerName"] = container
        config[f"Image{n}ArtifactName"] = _artifact(artifact).name
        image_artifacts.append(_artifact(artifact))
    return _make(
        name,
        _catalog.ECS_BLUE_GREEN,
        config,
        inputs=_inputs([task_definition[0], app_spec[0]], image_artifacts),
        common=_common(run_order, namespace, role_arn, region),
    )


def elastic_beanstalk(
    name: str,
    *,
    application_name: Text,
    environment_name: Text,
    input: ArtifactLike,
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
    region: Text | None = None,
) -> Action:
    """
    An Elastic Beanstalk deployment (``Deploy/AWS/ElasticBeanstalk``).

    .. versionadded:: 0.1.0
    """
    return _make(
        name,
        _catalog.ELASTIC_BEANSTALK,
        {"ApplicationName": application_name, "EnvironmentName": environment_name},
        inputs=_inputs(input),
        common=_common(run_order, namespace, role_arn, region),
    )


def opsworks_deploy(
    name: str,
    *,
    stack: Text,
    app: Text,
    input: ArtifactLike,
    layer: Text | None = None,
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
    region: Text | None = None,
) -> Action:
    """
    An OpsWorks Stacks deployment (``Deploy/AWS/OpsWorks``).

    .. versionadded:: 0.1.0
    """
    config: dict[str, Text] = {"Stack": stack, "App": app}
    _put(config, "Layer", layer)
    return _make(
        name,
        _catalog.OPSWORKS,
        config,
        inputs=_inputs(input),
        common=_common(run_order, namespace, role_arn, region),
    )


def appconfig_deploy(
    name: str,
    *,
    application: Text,
    environment: Text,
    configuration_profile: Text,
    input_artifact_configuration_path: Text,
    input: ArtifactLike,
    deployment_strategy: Text | None = None,
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
    region: Text | None = None,
) -> Action:
    """
    An AppConfig deployment (``Deploy/AWS/AppConfig``).

    .. versionadded:: 0.1.0
    """
    config: dict[str, Text] = {
        "Application": application,
        "Environment": environment,
        "ConfigurationProfile": configuration_profile,
        "InputArtifactConfigurationPath": input_artifact_configuration_path,
    }
    _put(config, "DeploymentStrategy", deployment_strategy)
    return _make(
        name,
        _catalog.APPCONFIG,
        config,
        inputs=_inputs(input),
        common=_common(run_order, namespace, role_arn, region),
    )


def service_catalog(
    name: str,
    *,
    product_id: Text,
    input: ArtifactLike,
    configuration_file_path: Text | None = None,
    template_file_path: Text | None = None,
    product_version_name: Text | None = None,
    product_type: Literal["CLOUD_FORMATION_TEMPLATE"] | None = None,
    product_version_description: Text | None = None,
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
    region: Text | None = None,
) -> Action:
    """
    A Service Catalog product version (``Deploy/AWS/ServiceCatalog``): give either
    *configuration_file_path*, or *template_file_path* with *product_version_name* and
    *product_type*.

    .. versionadded:: 0.1.0
    """
    config: dict[str, Text] = {"ProductId": product_id}
    _put(config, "ConfigurationFilePath", configuration_file_path)
    _put(config, "TemplateFilePath", template_file_path)
    _put(config, "ProductVersionName", product_version_name)
    _put(config, "ProductType", product_type)
    _put(config, "ProductVersionDescription", product_version_description)
    return _make(
        name,
        _catalog.SERVICE_CATALOG,
        config,
        inputs=_inputs(input),
        common=_common(run_order, namespace, role_arn, region),
    )


def ec2_deploy(
    name: str,
    *,
    instance_tag_key: Text,
    instance_type: Literal["EC2", "SSM_MANAGED_NODE"],
    input: ArtifactLike,
    instance_tag_value: Text | None = None,
    target_directory: Text | None = None,
    deploy_spec: Text | None = None,
    pre_script: Text | None = None,
    post_script: Text | None = None,
    max_batch: Text | None = None,
    max_error: Text | None = None,
    target_group_names: Sequence[str] | None = None,
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
    region: Text | None = None,
) -> Action:
    """
    Deploy to EC2 instances (``Deploy/AWS/EC2``, V2 only): script mode (*target_directory*,
    scripts) or spec mode (*deploy_spec*).

    .. versionadded:: 0.1.0
    """
    config: dict[str, Text] = {"InstanceTagKey": instance_tag_key, "InstanceType": instance_type}
    _put(config, "InstanceTagValue", instance_tag_value)
    _put(config, "TargetDirectory", target_directory)
    _put(config, "DeploySpec", deploy_spec)
    _put(config, "PreScript", pre_script)
    _put(config, "PostScript", post_script)
    _put(config, "MaxBatch", max_batch)
    _put(config, "MaxError", max_error)
    _put(config, "TargetGroupNameList", target_group_names)
    return _make(
        name,
        _catalog.EC2_DEPLOY,
        config,
        inputs=_inputs(input),
        common=_common(run_order, namespace, role_arn, region),
    )


def eks_deploy(
    name: str,
    *,
    cluster_name: Text,
    input: ArtifactLike,
    manifest_files: Sequence[str] | None = None,
    helm_release_name: Text | None = None,
    helm_chart_location: Text | None = None,
    helm_values_files: Sequence[str] | None = None,
    kubernetes_namespace: Text | None = None,
    subnets: Sequence[str] | None = None,
    security_group_ids: Sequence[str] | None = None,
    environment_variables: Mapping[str, Text] | None = None,
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
    region: Text | None = None,
) -> Action:
    """
    Deploy to EKS (``Deploy/AWS/EKS``, V2 only) with kubectl (*manifest_files*) or Helm
    (*helm_chart_location* and *helm_release_name*).

    Args:
        kubernetes_namespace: The ``Namespace`` setting (the Kubernetes namespace; *namespace*
            is the pipeline variable namespace).

    .. versionadded:: 0.1.0
    """
    config: dict[str, Text] = {"ClusterName": cluster_name}
    _put(config, "ManifestFiles", manifest_files)
    _put(config, "HelmReleaseName", helm_release_name)
    _put(config, "HelmChartLocation", helm_chart_location)
    _put(config, "HelmValuesFiles", helm_values_files)
    _put(config, "Namespace", kubernetes_namespace)
    _put(config, "Subnets", subnets)
    _put(config, "SecurityGroupIds", security_group_ids)
    envs = tuple(EnvironmentVariable(name=k, value=v) for k, v in (environment_variables or {}).items())
    return _make(
        name,
        _catalog.EKS_DEPLOY,
        config,
        inputs=_inputs(input),
        common=_common(run_order, namespace, role_arn, region),
        environment_variables=envs,
    )


def lambda_deploy(
    name: str,
    *,
    function_name: Text,
    input: ArtifactLike | None = None,
    function_alias: Text | None = None,
    published_target_version: Text | None = None,
    deploy_strategy: Text | None = None,
    alarms: Sequence[str] | None = None,
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
    region: Text | None = None,
) -> Action:
    """
    Deploy a Lambda function version (``Deploy/AWS/Lambda``, V2 only).

    Args:
        input: The code artifact; without one, *published_target_version* is deployed.
        deploy_strategy: ``AllAtOnce``, ``Canary10Percent5Minutes``, ``Linear10PercentEvery1Minute``, ...
            (needs *function_alias*).

    .. versionadded:: 0.1.0
    """
    config: dict[str, Text] = {"FunctionName": function_name}
    _put(config, "FunctionAlias", function_alias)
    _put(config, "PublishedTargetVersion", published_target_version)
    _put(config, "DeployStrategy", deploy_strategy)
    _put(config, "Alarms", alarms)
    return _make(
        name,
        _catalog.LAMBDA_DEPLOY,
        config,
        inputs=_inputs(input),
        common=_common(run_order, namespace, role_arn, region),
    )


def alexa_skills_kit(
    name: str,
    *,
    client_id: Text,
    client_secret: Text,
    refresh_token: Text,
    skill_id: Text,
    inputs: Sequence[ArtifactLike],
    run_order: int = 1,
    namespace: str | None = None,
) -> Action:
    """
    Deploy an Alexa skill (``Deploy/ThirdParty/AlexaSkillsKit``); pass the secrets as expressions.

    .. versionadded:: 0.1.0
    """
    return _make(
        name,
        _catalog.ALEXA_SKILLS_KIT,
        {"ClientId": client_id, "ClientSecret": client_secret, "RefreshToken": refresh_token, "SkillId": skill_id},
        inputs=_inputs(inputs),
        common=_common(run_order, namespace, None, None),
    )


# ---------------------------------------------------------------------------------------------
# approval and invoke


def manual_approval(
    name: str,
    *,
    notification_arn: Text | None = None,
    custom_data: Text | None = None,
    external_entity_link: Text | None = None,
    timeout_in_minutes: int | None = None,
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
) -> Action:
    """
    A manual approval (``Approval/AWS/Manual``).

    Args:
        notification_arn: SNS topic told about the pending approval (same region).
        timeout_in_minutes: 5-86400; AWS's default is 7 days.

    .. versionadded:: 0.1.0
    """
    config: dict[str, Text] = {}
    _put(config, "NotificationArn", notification_arn)
    _put(config, "CustomData", custom_data)
    _put(config, "ExternalEntityLink", external_entity_link)
    return _make(
        name,
        _catalog.MANUAL_APPROVAL,
        config,
        common=_common(run_order, namespace, role_arn, None),
        timeout_in_minutes=timeout_in_minutes,
    )


def lambda_invoke(
    name: str,
    *,
    function_name: Text,
    user_parameters: Text | Mapping[str, Any] | None = None,
    inputs: Sequence[ArtifactLike] = (),
    outputs: Sequence[ArtifactLike] = (),
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
    region: Text | None = None,
) -> Action:
    """
    Invoke a Lambda function (``Invoke/AWS/Lambda``); it reports back through the job API.

    Args:
        user_parameters: ``UserParameters``; a mapping is written as JSON.

    .. versionadded:: 0.1.0
    """
    config: dict[str, Text] = {"FunctionName": function_name}
    if isinstance(user_parameters, Mapping):
        config["UserParameters"] = json.dumps(dict(user_parameters), separators=(",", ":"))
    else:
        _put(config, "UserParameters", user_parameters)
    return _make(
        name,
        _catalog.LAMBDA_INVOKE,
        config,
        inputs=_inputs(inputs),
        outputs=[_artifact(o) for o in outputs],
        common=_common(run_order, namespace, role_arn, region),
    )


def step_functions(
    name: str,
    *,
    state_machine_arn: Text,
    input_type: Literal["Literal", "FilePath"] | None = None,
    state_input: Text | Mapping[str, Any] | None = None,
    execution_name_prefix: Text | None = None,
    input: ArtifactLike | None = None,
    output: ArtifactLike | None = None,
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
    region: Text | None = None,
) -> Action:
    """
    Start a Step Functions execution (``Invoke/AWS/StepFunctions``).

    Args:
        input_type: ``Literal`` (AWS's default: *state_input* is the JSON input) or
            ``FilePath`` (*state_input* is a file in the *input* artifact).
        state_input: The ``Input`` setting; a mapping is written as JSON.

    .. versionadded:: 0.1.0
    """
    config: dict[str, Text] = {"StateMachineArn": state_machine_arn}
    _put(config, "InputType", input_type)
    if isinstance(state_input, Mapping):
        config["Input"] = json.dumps(dict(state_input), separators=(",", ":"))
    else:
        _put(config, "Input", state_input)
    _put(config, "ExecutionNamePrefix", execution_name_prefix)
    return _make(
        name,
        _catalog.STEP_FUNCTIONS,
        config,
        inputs=_inputs(input),
        outputs=[_artifact(output)] if output is not None else [],
        common=_common(run_order, namespace, role_arn, region),
    )


def pipeline_invoke(
    name: str,
    *,
    pipeline_name: Text,
    variables: Mapping[str, str] | None = None,
    source_revisions: Sequence[Mapping[str, str]] | None = None,
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
    region: Text | None = None,
) -> Action:
    """
    Start another pipeline (``Invoke/AWS/CodePipeline``, V2 only).

    Args:
        variables: Pipeline variables to pass, written as the JSON list ``[{name, value}]``.
        source_revisions: ``[{actionName, revisionType, revisionValue}]``, written as JSON.

    .. versionadded:: 0.1.0
    """
    config: dict[str, Text] = {"PipelineName": pipeline_name}
    if variables is not None:
        config["Variables"] = json.dumps([{"name": k, "value": v} for k, v in variables.items()], separators=(",", ":"))
    if source_revisions is not None:
        config["SourceRevisions"] = json.dumps([dict(r) for r in source_revisions], separators=(",", ":"))
    return _make(
        name,
        _catalog.PIPELINE_INVOKE,
        config,
        common=_common(run_order, namespace, role_arn, region),
    )


def inspector_scan(
    name: str,
    *,
    run_mode: Literal["SourceCodeScan", "ECRImageScan"],
    input: ArtifactLike | None = None,
    output: ArtifactLike | None = None,
    ecr_repository_name: Text | None = None,
    image_tag: Text | None = None,
    critical_threshold: int | None = None,
    high_threshold: int | None = None,
    medium_threshold: int | None = None,
    low_threshold: int | None = None,
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
    region: Text | None = None,
) -> Action:
    """
    Scan source code or an ECR image with Amazon Inspector (``Invoke/AWS/InspectorScan``).

    Args:
        input: The source artifact (``SourceCodeScan``).
        output: The SBOM artifact.
        ecr_repository_name: Required for ``ECRImageScan``.
        critical_threshold: Fail when more findings of this severity are found (likewise others).

    .. versionadded:: 0.1.0
    """
    config: dict[str, Text] = {"InspectorRunMode": run_mode}
    _put(config, "ECRRepositoryName", ecr_repository_name)
    _put(config, "ImageTag", image_tag)
    _put(config, "CriticalThreshold", critical_threshold)
    _put(config, "HighThreshold", high_threshold)
    _put(config, "MediumThreshold", medium_threshold)
    _put(config, "LowThreshold", low_threshold)
    return _make(
        name,
        _catalog.INSPECTOR_SCAN,
        config,
        inputs=_inputs(input),
        outputs=[_artifact(output)] if output is not None else [],
        common=_common(run_order, namespace, role_arn, region),
    )


def snyk(
    name: str,
    *,
    input: ArtifactLike,
    output: ArtifactLike,
    configuration: Mapping[str, Text] | None = None,
    run_order: int = 1,
    namespace: str | None = None,
) -> Action:
    """
    A Snyk scan (``Invoke/ThirdParty/Snyk``). Its settings are not documented in the sources
    pipeweaver uses, so they are passed through as *configuration*.

    .. versionadded:: 0.1.0
    """
    return _make(
        name,
        _catalog.SNYK,
        dict(configuration or {}),
        inputs=_inputs(input),
        outputs=[_artifact(output)],
        common=_common(run_order, namespace, None, None),
    )


def custom(
    name: str,
    *,
    category: ActionCategory | Literal["Source", "Build", "Deploy", "Test", "Invoke", "Approval", "Compute"],
    provider: str,
    version: str = "1",
    owner: Literal["Custom", "ThirdParty"] = "Custom",
    configuration: Mapping[str, Text | bool | int] | None = None,
    inputs: Sequence[ArtifactLike] = (),
    outputs: Sequence[ArtifactLike] = (),
    run_order: int = 1,
    namespace: str | None = None,
    role_arn: Text | None = None,
) -> Action:
    """
    An action of a custom (job-worker) or partner action type.

    Args:
        configuration: The type's properties; booleans and numbers become AWS's strings.

    .. versionadded:: 0.1.0
    """
    config: dict[str, Text] = {}
    for key, value in (configuration or {}).items():
        _put(config, key, value)
    return _action(
        name,
        ActionType(category=category, owner=owner, provider=provider, version=version),
        config,
        inputs=_inputs(inputs),
        outputs=[_artifact(o) for o in outputs],
        common=_common(run_order, namespace, role_arn, None),
    )
