"""Approval and invoke providers: manual approval, Lambda, Step Functions, CodePipeline, Inspector and Snyk.

Layer: names/limits. Entries of the provider catalog (see :mod:`pipeweaver._catalog`); each
cites the AWS page it comes from (reference/codepipeline.md §3.1, §4.6 for timeouts).
"""

from __future__ import annotations

from typing import Final

from ._spec import UG, Grant, Named, ProviderSpec, Requirement, Setting, entries

#: The entries are the module's ProviderSpec constants, collected in SPECS.
__all__ = ["SPECS"]


MANUAL_APPROVAL: Final = ProviderSpec(
    category="Approval",
    owner="AWS",
    provider="Manual",
    inputs=(0, 0),
    outputs=(0, 0),
    optional=("NotificationArn", "CustomData", "ExternalEntityLink"),
    timeout_minutes=7 * 24 * 60,
    iam=(Grant(actions=("sns:Publish",), resources=(Setting("NotificationArn"),)),),
    source=UG + "approvals-action-add.html",
)

LAMBDA_INVOKE: Final = ProviderSpec(
    category="Invoke",
    owner="AWS",
    provider="Lambda",
    inputs=(0, 5),
    outputs=(0, 5),
    required=("FunctionName",),
    optional=("UserParameters",),
    output_variables=None,
    timeout_minutes=24 * 60,
    iam=(Grant(actions=("lambda:InvokeFunction",), resources=(Named("FunctionName", "lambda", "function:"),)),),
    handler="lambda_invoke",
    source=UG + "action-reference-Lambda.html",
)

STEP_FUNCTIONS: Final = ProviderSpec(
    category="Invoke",
    owner="AWS",
    provider="StepFunctions",
    inputs=(0, 1),
    outputs=(0, 1),
    required=("StateMachineArn",),
    optional=("ExecutionNamePrefix", "InputType"),
    conditional=(
        Requirement(
            key="Input",
            when_key="InputType",
            when_values=("FilePath",),
            reason="InputType FilePath reads the input from a file in the input artifact",
        ),
    ),
    allowed={"InputType": ("Literal", "FilePath")},
    output_variables=("StateMachineArn", "ExecutionArn"),
    timeout_minutes=7 * 24 * 60,
    iam=(
        Grant(actions=("states:StartExecution",), resources=(Setting("StateMachineArn"),)),
        Grant(actions=("states:DescribeExecution",), resources=("*",), when=("StateMachineArn",)),
    ),
    source=UG + "action-reference-StepFunctions.html",
)

PIPELINE_INVOKE: Final = ProviderSpec(
    category="Invoke",
    owner="AWS",
    provider="CodePipeline",
    inputs=(0, 0),
    outputs=(0, 0),
    required=("PipelineName",),
    optional=("SourceRevisions", "Variables"),
    json_keys=("SourceRevisions", "Variables"),
    v2_only=True,
    iam=(
        Grant(
            actions=("codepipeline:StartPipelineExecution",),
            resources=(Named("PipelineName", "codepipeline", ""),),
        ),
    ),
    source=UG + "action-reference-PipelineInvoke.html",
)

INSPECTOR_SCAN: Final = ProviderSpec(
    category="Invoke",
    owner="AWS",
    provider="InspectorScan",
    inputs=(0, 1),
    outputs=(0, 1),
    required=("InspectorRunMode",),
    optional=("ImageTag", "CriticalThreshold", "HighThreshold", "MediumThreshold", "LowThreshold"),
    ranges=dict.fromkeys(("CriticalThreshold", "HighThreshold", "MediumThreshold", "LowThreshold"), (0, 2**31 - 1)),
    conditional=(
        Requirement(
            key="ECRRepositoryName",
            when_key="InspectorRunMode",
            when_values=("ECRImageScan",),
            reason="an image scan needs the repository",
        ),
    ),
    allowed={"InspectorRunMode": ("SourceCodeScan", "ECRImageScan")},
    output_variables=("HighestScannedSeverity",),
    source=UG + "action-reference-InspectorScan.html",
)

SNYK: Final = ProviderSpec(
    category="Invoke",
    owner="ThirdParty",
    provider="Snyk",
    inputs=(1, 1),
    outputs=(1, 1),
    open_configuration=True,
    source=UG + "action-reference-Snyk.html",
)

#: This family's entries, in the order they are defined above (the catalog's order).
SPECS: Final = entries(globals())
