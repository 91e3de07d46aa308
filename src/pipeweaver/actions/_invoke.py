"""Typed factories of approval and invoke actions, and of custom (job-worker) or partner types.

Layer: model. See :mod:`pipeweaver.actions`; each factory names its catalog entry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from .. import _catalog
from .._model import Action, ActionCategory, ActionType
from ._common import (
    ArtifactLike,
    Text,
    _action,
    _artifact,
    _common,
    _inputs,
    _make,
    _put,
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
