"""Typed factories of the other deploy actions: S3, CodeDeploy, ECS, Elastic Beanstalk, OpsWorks,
AppConfig, Service Catalog, EC2, EKS, Lambda and Alexa Skills Kit.

Layer: model. See :mod:`pipeweaver.actions`; each factory names its catalog entry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from .. import _catalog
from .._model import Action, EnvironmentVariable
from ._common import (
    ArtifactFile,
    ArtifactLike,
    Text,
    _artifact,
    _bool,
    _common,
    _inputs,
    _make,
    _put,
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
