"""Typed factories of CloudFormation deploy actions: stacks, change sets, stack sets.

Layer: model. See :mod:`pipeweaver.actions`; each factory names its catalog entry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from .. import _catalog
from .._catalog import ActionMode, Capability
from .._model import Action, Artifact
from ._common import (
    ArtifactFile,
    ArtifactLike,
    Text,
    _artifact,
    _common,
    _csv,
    _file,
    _inputs,
    _make,
    _put,
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
