"""The provider catalog: every action type and rule type AWS documents, as data.

Layer: names/limits. Imports only :mod:`pipeweaver.errors` (nothing here; kept for the
layering contract). The validator, the local executor and the docs all read this table, so
it says what AWS documents and nothing more; each entry cites the page it comes from
(reference/codepipeline.md §3.1-§3.3 for the table, §4.6 for timeouts).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Final, Protocol, final

import attrs

__all__ = [
    "BOOL",
    "PROVIDERS",
    "RULE_TYPES",
    "ProviderSpec",
    "Requirement",
    "RuleTypeSpec",
    "default_timeout",
    "iter_specs",
    "lookup",
    "lookup_rule",
    "providers_named",
]

_UG: Final = "https://docs.aws.amazon.com/codepipeline/latest/userguide/"

#: Allowed values of boolean configuration keys (AWS writes them as strings).
BOOL: Final = ("true", "false")


class _TypeId(Protocol):
    @property
    def category(self) -> str: ...

    @property
    def owner(self) -> str: ...

    @property
    def provider(self) -> str: ...


@final
@attrs.frozen(kw_only=True)
class Requirement:
    """
    A configuration key that is required only in some situations.

    Attributes:
        key: The key that becomes required.
        when_key: Required when this key is set ...
        when_values: ... to one of these values (``None``: to any value).
        max_inputs_below: Required when the action has fewer input artifacts than this.
        min_inputs: Required when the action has at least this many input artifacts.
        reason: Why, in words, for messages.

    .. versionadded:: 0.1.0
    """

    key: str
    when_key: str | None = None
    when_values: tuple[str, ...] | None = None
    max_inputs_below: int | None = None
    min_inputs: int | None = None
    reason: str


@final
@attrs.frozen(kw_only=True)
class ProviderSpec:
    """
    What AWS documents about one action type.

    Attributes:
        category: ``actionTypeId.category``.
        owner: ``actionTypeId.owner``.
        provider: ``actionTypeId.provider``.
        inputs: Allowed number of input artifacts ``(min, max)``.
        outputs: Allowed number of output artifacts ``(min, max)``.
        required: Configuration keys that must be present.
        optional: Other keys AWS accepts.
        conditional: Keys required only in some situations.
        one_of: Groups of keys of which at least one must be present.
        key_patterns: Regular expressions for keys with a variable part (``Image1ArtifactName``).
        allowed: Key -> allowed values (:data:`BOOL` for booleans).
        ranges: Key -> inclusive integer range of a numeric setting.
        patterns: Key -> regular expression the whole value matches.
        json_keys: Keys whose value must be JSON text.
        artifact_keys: Keys whose value names one of the action's input artifacts.
        artifact_path_keys: Keys written ``ArtifactName::path`` (the artifact is an input).
        secrets: Keys AWS masks as ``****`` in ``get-pipeline`` output.
        output_variables: Variables the action produces; ``None`` when they depend on the
            action itself (CodeBuild exports, Lambda results, stack outputs, ...).
        v2_only: Whether only ``V2`` pipelines may use it.
        timeout_minutes: The action timeout AWS applies (reference §4.6).
        open_configuration: Whether configuration keys are not documented (no unknown-key check).
        source: The AWS page the entry comes from.

    .. versionadded:: 0.1.0
    """

    category: str
    owner: str
    provider: str
    inputs: tuple[int, int]
    outputs: tuple[int, int]
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    conditional: tuple[Requirement, ...] = ()
    one_of: tuple[tuple[str, ...], ...] = ()
    key_patterns: tuple[str, ...] = ()
    allowed: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict, hash=False)
    ranges: Mapping[str, tuple[int, int]] = attrs.field(factory=dict, hash=False)
    patterns: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    json_keys: tuple[str, ...] = ()
    artifact_keys: tuple[str, ...] = ()
    artifact_path_keys: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    output_variables: tuple[str, ...] | None = ()
    v2_only: bool = False
    timeout_minutes: int = 60
    open_configuration: bool = False
    source: str

    #: Every configuration key AWS documents for this type (required, conditional, optional).
    keys: frozenset[str] = attrs.field(init=False, hash=False, eq=False)

    def __attrs_post_init__(self) -> None:
        keys = (
            frozenset(self.required)
            | frozenset(self.optional)
            | {r.key for r in self.conditional}
            | {k for group in self.one_of for k in group}
        )
        # computed once: the validator asks for every action of every pipeline
        object.__setattr__(self, "keys", keys)

    def knows_key(self, key: str) -> bool:
        """Whether *key* is a documented configuration key of this type."""
        return key in self.keys or any(re.fullmatch(p, key) for p in self.key_patterns)

    def __str__(self) -> str:
        return f"{self.category}/{self.owner}/{self.provider}"


@final
@attrs.frozen(kw_only=True)
class RuleTypeSpec:
    """
    What AWS documents about one stage-condition rule type (``category: Rule``, owner ``AWS``).

    Attributes:
        provider: ``ruleTypeId.provider``.
        required: Configuration keys that must be present.
        optional: Other keys AWS accepts.
        allowed: Key -> allowed values.
        needs_commands: Whether the rule runs top-level ``commands`` (the ``Commands`` rule).
        can_skip: Whether a ``beforeEntry`` condition with result ``SKIP`` may use it.
        open_configuration: Whether configuration keys are not documented.
        source: The AWS page the entry comes from.

    .. versionadded:: 0.1.0
    """

    provider: str
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    allowed: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict, hash=False)
    needs_commands: bool = False
    can_skip: bool = False
    open_configuration: bool = False
    source: str

    @property
    def keys(self) -> frozenset[str]:
        """Every configuration key AWS documents for this rule type."""
        return frozenset(self.required) | frozenset(self.optional)


def _codebuild(category: str) -> ProviderSpec:
    return ProviderSpec(
        category=category,
        owner="AWS",
        provider="CodeBuild",
        inputs=(1, 5),
        outputs=(0, 5),
        required=("ProjectName",),
        optional=("BatchEnabled", "CombineArtifacts", "EnvironmentVariables", "BuildspecOverride"),
        conditional=(
            Requirement(key="PrimarySource", min_inputs=2, reason="the action has more than one input artifact"),
            Requirement(
                key="BatchEnabled",
                when_key="CombineArtifacts",
                when_values=("true",),
                reason="CombineArtifacts works only on batch builds",
            ),
        ),
        allowed={"BatchEnabled": BOOL, "CombineArtifacts": BOOL},
        json_keys=("EnvironmentVariables",),
        artifact_keys=("PrimarySource",),
        output_variables=None,
        timeout_minutes=8 * 60,
        source=_UG + "action-reference-CodeBuild.html",
    )


def _jenkins(category: str) -> ProviderSpec:
    # The provider string is whatever the Jenkins plugin registered; "Jenkins" is the usual one.
    return ProviderSpec(
        category=category,
        owner="Custom",
        provider="Jenkins",
        inputs=(0, 5),
        outputs=(0, 5),
        required=("ProjectName",),
        output_variables=None,
        timeout_minutes=24 * 60,
        source=_UG + "reference-action-artifacts.html",
    )


_CFN_MODES: Final = ("CHANGE_SET_EXECUTE", "CHANGE_SET_REPLACE", "CREATE_UPDATE", "DELETE_ONLY", "REPLACE_ON_FAILURE")
_CAPABILITIES: Final = ("CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND")

#: Every action type of reference §3.1, keyed by ``(category, owner, provider)``.
PROVIDERS: Final[Mapping[tuple[str, str, str], ProviderSpec]] = {
    (s.category, s.owner, s.provider): s
    for s in (
        # -- Source -------------------------------------------------------------------------
        ProviderSpec(
            category="Source",
            owner="AWS",
            provider="S3",
            inputs=(0, 0),
            outputs=(1, 1),
            required=("S3Bucket", "S3ObjectKey"),
            optional=("PollForSourceChanges", "AllowOverrideForS3ObjectKey"),
            allowed={"PollForSourceChanges": BOOL, "AllowOverrideForS3ObjectKey": BOOL},
            output_variables=("BucketName", "ETag", "ObjectKey", "VersionId"),
            source=_UG + "action-reference-S3.html",
        ),
        ProviderSpec(
            category="Source",
            owner="AWS",
            provider="ECR",
            inputs=(0, 0),
            outputs=(1, 1),
            required=("RepositoryName",),
            optional=("ImageTag",),
            output_variables=("RegistryId", "RepositoryName", "ImageTag", "ImageDigest", "ImageURI"),
            source=_UG + "action-reference-ECR.html",
        ),
        ProviderSpec(
            category="Source",
            owner="AWS",
            provider="CodeCommit",
            inputs=(0, 0),
            outputs=(1, 1),
            required=("RepositoryName", "BranchName"),
            optional=("PollForSourceChanges", "OutputArtifactFormat"),
            allowed={"PollForSourceChanges": BOOL, "OutputArtifactFormat": ("CODE_ZIP", "CODEBUILD_CLONE_REF")},
            output_variables=(
                "CommitId",
                "CommitMessage",
                "RepositoryName",
                "BranchName",
                "AuthorDate",
                "CommitterDate",
            ),
            source=_UG + "action-reference-CodeCommit.html",
        ),
        ProviderSpec(
            category="Source",
            owner="AWS",
            provider="CodeStarSourceConnection",
            inputs=(0, 0),
            outputs=(1, 1),
            required=("ConnectionArn", "FullRepositoryId", "BranchName"),
            optional=("OutputArtifactFormat", "DetectChanges"),
            allowed={"OutputArtifactFormat": ("CODE_ZIP", "CODEBUILD_CLONE_REF"), "DetectChanges": BOOL},
            output_variables=(
                "AuthorDate",
                "BranchName",
                "CommitId",
                "CommitMessage",
                "ConnectionArn",
                "FullRepositoryName",
            ),
            source=_UG + "action-reference-CodestarConnectionSource.html",
        ),
        ProviderSpec(
            category="Source",
            owner="ThirdParty",
            provider="GitHub",
            inputs=(0, 0),
            outputs=(1, 1),
            required=("Owner", "Repo", "Branch", "OAuthToken"),
            optional=("PollForSourceChanges",),
            allowed={"PollForSourceChanges": BOOL},
            secrets=("OAuthToken",),
            output_variables=(
                "AuthorDate",
                "BranchName",
                "CommitId",
                "CommitMessage",
                "CommitterDate",
                "CommitUrl",
                "RepositoryName",
            ),
            source=_UG + "appendix-github-oauth.html",
        ),
        # -- Build / Test / Compute ---------------------------------------------------------
        _codebuild("Build"),
        _codebuild("Test"),
        ProviderSpec(
            category="Build",
            owner="AWS",
            provider="ECRBuildAndPublish",
            inputs=(1, 1),
            outputs=(0, 0),
            required=("ECRRepositoryName",),
            optional=("DockerFilePath", "ImageTags", "RegistryType"),
            allowed={"RegistryType": ("private", "public")},
            output_variables=("ECRImageDigestId", "ECRRepositoryName"),
            v2_only=True,
            source=_UG + "action-reference-ECRBuildAndPublish.html",
        ),
        ProviderSpec(
            category="Compute",
            owner="AWS",
            provider="Commands",
            inputs=(1, 10),
            outputs=(0, 1),
            optional=("EnvironmentType", "ComputeType", "VpcId", "Subnets", "SecurityGroupIds"),
            allowed={
                "EnvironmentType": ("LINUX_CONTAINER", "WINDOWS_SERVER_2022_CONTAINER"),
                "ComputeType": ("BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE"),
            },
            output_variables=None,
            v2_only=True,
            timeout_minutes=55,
            source=_UG + "action-reference-Commands.html",
        ),
        ProviderSpec(
            category="Test",
            owner="AWS",
            provider="DeviceFarm",
            inputs=(1, 1),
            outputs=(0, 0),
            required=("AppType", "ProjectId", "App", "AppiumVersion", "DevicePoolArn", "TestType"),
            optional=(
                "RadioBluetoothEnabled",
                "RecordAppPerformanceData",
                "RecordVideo",
                "RadioWifiEnabled",
                "RadioNfcEnabled",
                "RadioGpsEnabled",
                "Test",
                "FuzzEventCount",
                "FuzzEventThrottle",
                "FuzzRandomizerSeed",
                "CustomHostMachineArtifacts",
                "CustomDeviceArtifacts",
                "UnmeteredDevicesOnly",
                "JobTimeoutMinutes",
                "Latitude",
                "Longitude",
            ),
            allowed={
                "AppType": ("iOS", "Android", "Web"),
                "RadioBluetoothEnabled": BOOL,
                "RecordAppPerformanceData": BOOL,
                "RecordVideo": BOOL,
                "RadioWifiEnabled": BOOL,
                "RadioNfcEnabled": BOOL,
                "RadioGpsEnabled": BOOL,
                "UnmeteredDevicesOnly": BOOL,
            },
            ranges={"FuzzEventCount": (1, 10000), "FuzzEventThrottle": (1, 1000)},
            source=_UG + "action-reference-DeviceFarm.html",
        ),
        _jenkins("Build"),
        _jenkins("Test"),
        # -- Deploy -------------------------------------------------------------------------
        ProviderSpec(
            category="Deploy",
            owner="AWS",
            provider="S3",
            inputs=(1, 1),
            outputs=(0, 0),
            required=("BucketName", "Extract"),
            optional=("KMSEncryptionKeyARN", "CannedACL", "CacheControl"),
            conditional=(
                Requirement(
                    key="ObjectKey",
                    when_key="Extract",
                    when_values=("false",),
                    reason="the artifact is uploaded as one object (Extract is false)",
                ),
            ),
            allowed={
                "Extract": BOOL,
                "CannedACL": (
                    "private",
                    "public-read",
                    "public-read-write",
                    "authenticated-read",
                    "aws-exec-read",
                    "bucket-owner-read",
                    "bucket-owner-full-control",
                    "log-delivery-write",
                ),
            },
            timeout_minutes=90,
            source=_UG + "action-reference-S3Deploy.html",
        ),
        ProviderSpec(
            category="Deploy",
            owner="AWS",
            provider="CloudFormation",
            inputs=(0, 10),
            outputs=(0, 1),
            required=("ActionMode", "StackName"),
            optional=("Capabilities", "OutputFileName", "ParameterOverrides", "TemplateConfiguration"),
            conditional=(
                Requirement(
                    key="ChangeSetName",
                    when_key="ActionMode",
                    when_values=("CHANGE_SET_REPLACE", "CHANGE_SET_EXECUTE"),
                    reason="the action mode works on a change set",
                ),
                Requirement(
                    key="RoleArn",
                    when_key="ActionMode",
                    when_values=("CREATE_UPDATE", "REPLACE_ON_FAILURE", "DELETE_ONLY", "CHANGE_SET_REPLACE"),
                    reason="CloudFormation needs a role to act on the stack in this mode",
                ),
                Requirement(
                    key="TemplatePath",
                    when_key="ActionMode",
                    when_values=("CREATE_UPDATE", "REPLACE_ON_FAILURE", "CHANGE_SET_REPLACE"),
                    reason="the action mode deploys a template",
                ),
            ),
            allowed={"ActionMode": _CFN_MODES},
            json_keys=("ParameterOverrides",),
            artifact_path_keys=("TemplatePath", "TemplateConfiguration"),
            output_variables=None,
            timeout_minutes=3 * 24 * 60,
            source=_UG + "action-reference-CloudFormation.html",
        ),
        ProviderSpec(
            category="Deploy",
            owner="AWS",
            provider="CloudFormationStackSet",
            inputs=(1, 3),
            outputs=(0, 0),
            required=("StackSetName", "TemplatePath"),
            optional=(
                "Description",
                "Parameters",
                "Capabilities",
                "PermissionModel",
                "AdministrationRoleArn",
                "ExecutionRoleName",
                "OrganizationsAutoDeployment",
                "DeploymentTargets",
                "Regions",
                "FailureTolerancePercentage",
                "MaxConcurrentPercentage",
            ),
            allowed={
                "PermissionModel": ("SELF_MANAGED", "SERVICE_MANAGED"),
                "OrganizationsAutoDeployment": ("Enabled", "Disabled", "EnabledWithStackRetention"),
            },
            ranges={"FailureTolerancePercentage": (0, 100), "MaxConcurrentPercentage": (1, 100)},
            artifact_path_keys=("TemplatePath",),
            output_variables=("StackSetId", "OperationId"),
            timeout_minutes=3 * 24 * 60,
            source=_UG + "action-reference-StackSets.html",
        ),
        ProviderSpec(
            category="Deploy",
            owner="AWS",
            provider="CloudFormationStackInstances",
            inputs=(0, 2),
            outputs=(0, 0),
            required=("StackSetName", "Regions"),
            optional=(
                "DeploymentTargets",
                "ParameterOverrides",
                "FailureTolerancePercentage",
                "MaxConcurrentPercentage",
            ),
            ranges={"FailureTolerancePercentage": (0, 100), "MaxConcurrentPercentage": (1, 100)},
            output_variables=("StackSetId", "OperationId"),
            timeout_minutes=3 * 24 * 60,
            source=_UG + "action-reference-StackSets.html",
        ),
        ProviderSpec(
            category="Deploy",
            owner="AWS",
            provider="CodeDeploy",
            inputs=(1, 1),
            outputs=(0, 0),
            required=("ApplicationName", "DeploymentGroupName"),
            timeout_minutes=5 * 24 * 60,
            source=_UG + "action-reference-CodeDeploy.html",
        ),
        ProviderSpec(
            category="Deploy",
            owner="AWS",
            provider="ECS",
            inputs=(1, 1),
            outputs=(0, 0),
            required=("ClusterName", "ServiceName"),
            optional=("FileName", "DeploymentTimeout"),
            ranges={"DeploymentTimeout": (1, 60)},
            source=_UG + "action-reference-ECS.html",
        ),
        ProviderSpec(
            category="Deploy",
            owner="AWS",
            provider="CodeDeployToECS",
            inputs=(1, 5),
            outputs=(0, 0),
            required=(
                "ApplicationName",
                "DeploymentGroupName",
                "TaskDefinitionTemplateArtifact",
                "AppSpecTemplateArtifact",
            ),
            optional=("AppSpecTemplatePath", "TaskDefinitionTemplatePath"),
            key_patterns=(r"Image[1-4]ArtifactName", r"Image[1-4]ContainerName"),
            artifact_keys=(
                "TaskDefinitionTemplateArtifact",
                "AppSpecTemplateArtifact",
                "Image1ArtifactName",
                "Image2ArtifactName",
                "Image3ArtifactName",
                "Image4ArtifactName",
            ),
            timeout_minutes=5 * 24 * 60,
            source=_UG + "action-reference-ECSbluegreen.html",
        ),
        ProviderSpec(
            category="Deploy",
            owner="AWS",
            provider="ElasticBeanstalk",
            inputs=(1, 1),
            outputs=(0, 0),
            required=("ApplicationName", "EnvironmentName"),
            source=_UG + "action-reference-Beanstalk.html",
        ),
        ProviderSpec(
            category="Deploy",
            owner="AWS",
            provider="OpsWorks",
            inputs=(1, 1),
            outputs=(0, 0),
            required=("Stack", "App"),
            optional=("Layer",),
            source=_UG + "structure-configuration-examples.html",
        ),
        ProviderSpec(
            category="Deploy",
            owner="AWS",
            provider="ServiceCatalog",
            inputs=(1, 1),
            outputs=(0, 0),
            required=("ProductId",),
            optional=("ProductVersionDescription", "TemplateFilePath", "ConfigurationFilePath"),
            one_of=(("TemplateFilePath", "ConfigurationFilePath"),),
            conditional=(
                Requirement(
                    key="ProductVersionName",
                    when_key="TemplateFilePath",
                    reason="the template-file form needs ProductVersionName, ProductType and ProductId",
                ),
                Requirement(
                    key="ProductType",
                    when_key="TemplateFilePath",
                    reason="the template-file form needs ProductVersionName, ProductType and ProductId",
                ),
            ),
            allowed={"ProductType": ("CLOUD_FORMATION_TEMPLATE",)},
            source=_UG + "structure-configuration-examples.html",
        ),
        ProviderSpec(
            category="Deploy",
            owner="AWS",
            provider="AppConfig",
            inputs=(1, 1),
            outputs=(0, 0),
            required=("Application", "Environment", "ConfigurationProfile", "InputArtifactConfigurationPath"),
            optional=("DeploymentStrategy",),
            source=_UG + "action-reference-AppConfig.html",
        ),
        ProviderSpec(
            category="Deploy",
            owner="AWS",
            provider="EC2",
            inputs=(1, 1),
            outputs=(0, 0),
            required=("InstanceTagKey", "InstanceType"),
            optional=(
                "InstanceTagValue",
                "MaxBatch",
                "MaxError",
                "TargetGroupNameList",
                "PreScript",
                "PostScript",
                "TargetDirectory",
                "DeploySpec",
            ),
            # script mode (TargetDirectory + scripts) or spec mode (DeploySpec)
            one_of=(("TargetDirectory", "DeploySpec"),),
            allowed={"InstanceType": ("EC2", "SSM_MANAGED_NODE")},
            v2_only=True,
            source=_UG + "action-reference-EC2Deploy.html",
        ),
        ProviderSpec(
            category="Deploy",
            owner="AWS",
            provider="EKS",
            inputs=(1, 1),
            outputs=(0, 0),
            required=("ClusterName",),
            optional=(
                "HelmValuesFiles",
                "Namespace",
                "Subnets",
                "SecurityGroupIds",
                "ManifestFiles",
                "HelmChartLocation",
            ),
            # kubectl mode (ManifestFiles) or Helm mode (HelmChartLocation + HelmReleaseName)
            one_of=(("ManifestFiles", "HelmChartLocation"),),
            conditional=(
                Requirement(
                    key="HelmReleaseName",
                    when_key="HelmChartLocation",
                    reason="a Helm deployment names its release",
                ),
            ),
            output_variables=("EKSClusterName",),
            v2_only=True,
            source=_UG + "action-reference-EKS.html",
        ),
        ProviderSpec(
            category="Deploy",
            owner="AWS",
            provider="Lambda",
            inputs=(0, 1),
            outputs=(0, 0),
            required=("FunctionName",),
            optional=("FunctionAlias", "DeployStrategy", "Alarms"),
            patterns={"DeployStrategy": r"AllAtOnce|Canary\d+Percent\d+Minutes?|Linear\d+PercentEvery\d+Minutes?"},
            conditional=(
                Requirement(
                    key="PublishedTargetVersion",
                    max_inputs_below=1,
                    reason="without an input artifact the action deploys a published version",
                ),
                Requirement(
                    key="FunctionAlias",
                    when_key="DeployStrategy",
                    reason="traffic shifting moves an alias",
                ),
            ),
            output_variables=("FunctionVersion",),
            v2_only=True,
            source=_UG + "action-reference-LambdaDeploy.html",
        ),
        ProviderSpec(
            category="Deploy",
            owner="ThirdParty",
            provider="AlexaSkillsKit",
            inputs=(0, 2),
            outputs=(0, 0),
            required=("ClientId", "ClientSecret", "RefreshToken", "SkillId"),
            secrets=("ClientSecret", "RefreshToken"),
            source=_UG + "structure-configuration-examples.html",
        ),
        # -- Approval / Invoke --------------------------------------------------------------
        ProviderSpec(
            category="Approval",
            owner="AWS",
            provider="Manual",
            inputs=(0, 0),
            outputs=(0, 0),
            optional=("NotificationArn", "CustomData", "ExternalEntityLink"),
            timeout_minutes=7 * 24 * 60,
            source=_UG + "approvals-action-add.html",
        ),
        ProviderSpec(
            category="Invoke",
            owner="AWS",
            provider="Lambda",
            inputs=(0, 5),
            outputs=(0, 5),
            required=("FunctionName",),
            optional=("UserParameters",),
            output_variables=None,
            timeout_minutes=24 * 60,
            source=_UG + "action-reference-Lambda.html",
        ),
        ProviderSpec(
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
            source=_UG + "action-reference-StepFunctions.html",
        ),
        ProviderSpec(
            category="Invoke",
            owner="AWS",
            provider="CodePipeline",
            inputs=(0, 0),
            outputs=(0, 0),
            required=("PipelineName",),
            optional=("SourceRevisions", "Variables"),
            json_keys=("SourceRevisions", "Variables"),
            v2_only=True,
            source=_UG + "action-reference-PipelineInvoke.html",
        ),
        ProviderSpec(
            category="Invoke",
            owner="AWS",
            provider="InspectorScan",
            inputs=(0, 1),
            outputs=(0, 1),
            required=("InspectorRunMode",),
            optional=("ImageTag", "CriticalThreshold", "HighThreshold", "MediumThreshold", "LowThreshold"),
            ranges=dict.fromkeys(
                ("CriticalThreshold", "HighThreshold", "MediumThreshold", "LowThreshold"), (0, 2**31 - 1)
            ),
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
            source=_UG + "action-reference-InspectorScan.html",
        ),
        ProviderSpec(
            category="Invoke",
            owner="ThirdParty",
            provider="Snyk",
            inputs=(1, 1),
            outputs=(1, 1),
            open_configuration=True,
            source=_UG + "action-reference-Snyk.html",
        ),
    )
}

#: Stage-condition rule types of reference §3.3, keyed by provider.
RULE_TYPES: Final[Mapping[str, RuleTypeSpec]] = {
    r.provider: r
    for r in (
        RuleTypeSpec(
            provider="CloudWatchAlarm",
            required=("AlarmName",),
            optional=("AlarmStates", "WaitTime"),
            source=_UG + "rule-reference-CloudWatchAlarm.html",
        ),
        RuleTypeSpec(
            provider="DeploymentWindow",
            required=("Cron",),
            optional=("TimeZone",),
            source=_UG + "rule-reference-DeploymentWindow.html",
        ),
        RuleTypeSpec(
            provider="LambdaInvoke",
            required=("FunctionName",),
            optional=("UserParameters",),
            can_skip=True,
            source=_UG + "rule-reference-LambdaInvoke.html",
        ),
        RuleTypeSpec(
            provider="VariableCheck",
            required=("Variable", "Value", "Operator"),
            allowed={"Operator": ("EQ", "CONTAINS", "MATCHES", "NE")},
            can_skip=True,
            source=_UG + "rule-reference-VariableCheck.html",
        ),
        RuleTypeSpec(
            provider="Commands",
            needs_commands=True,
            source=_UG + "rule-reference-Commands.html",
        ),
        # The CodeBuild rule page was not retrieved (reference §8): its keys are not checked.
        RuleTypeSpec(provider="CodeBuild", open_configuration=True, source=_UG + "rule-reference.html"),
    )
}

_BY_PROVIDER: Final[dict[str, list[ProviderSpec]]] = {}
for _spec in PROVIDERS.values():
    _BY_PROVIDER.setdefault(_spec.provider, []).append(_spec)


#: Every configuration key that AWS masks as ``****`` for some provider.
SECRET_KEYS: Final[frozenset[str]] = frozenset(k for spec in PROVIDERS.values() for k in spec.secrets)


def lookup(action_type: _TypeId | None = None, /, **parts: str) -> ProviderSpec | None:
    """
    Return the catalog entry of an action type, or ``None`` when AWS documents no such type.

    Args:
        action_type: Anything with ``category``, ``owner`` and ``provider`` (an
            :class:`~pipeweaver.ActionType`); or pass ``category=``, ``owner=``, ``provider=``.

    .. versionadded:: 0.1.0
    """
    if action_type is not None:
        key = (str(action_type.category), str(action_type.owner), str(action_type.provider))
    else:
        key = (parts.get("category", ""), parts.get("owner", "AWS"), parts.get("provider", ""))
    return PROVIDERS.get(key)


def providers_named(provider: str) -> list[ProviderSpec]:
    """Every catalog entry whose provider string is *provider* (any category or owner).

    .. versionadded:: 0.1.0
    """
    return list(_BY_PROVIDER.get(provider, ()))


def lookup_rule(provider: str) -> RuleTypeSpec | None:
    """Return the catalog entry of a rule type (``ruleTypeId.provider``), or ``None``.

    .. versionadded:: 0.1.0
    """
    return RULE_TYPES.get(provider)


def default_timeout(action_type: _TypeId) -> int:
    """
    Minutes AWS lets an action of this type run before failing it (reference §4.6).

    Uncatalogued custom action types get the 24-hour custom-action timeout; anything else
    unknown gets AWS's one-hour default.

    .. versionadded:: 0.1.0
    """
    spec = lookup(action_type)
    if spec is not None:
        return spec.timeout_minutes
    return 24 * 60 if str(action_type.owner) == "Custom" else 60


def iter_specs() -> Iterator[ProviderSpec]:
    """Every catalog entry, in table order.

    .. versionadded:: 0.1.0
    """
    return iter(PROVIDERS.values())
