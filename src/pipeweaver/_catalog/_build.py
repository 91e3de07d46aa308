"""Build, test and compute providers: CodeBuild, ECR build-and-publish, Commands, Device Farm, Jenkins.

Layer: names/limits. Entries of the provider catalog (see :mod:`pipeweaver._catalog`); each
cites the AWS page it comes from (reference/codepipeline.md §3.1, §4.6 for timeouts).
"""

from __future__ import annotations

from typing import Final

from ._spec import BOOL, PIPELINE_NAME, UG, Arn, Grant, Named, ProviderSpec, Requirement, entries

#: The entries are the module's ProviderSpec constants, collected in SPECS.
__all__ = ["SPECS"]


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
        iam=(
            Grant(
                actions=(
                    "codebuild:BatchGetBuilds",
                    "codebuild:StartBuild",
                    "codebuild:BatchGetBuildBatches",
                    "codebuild:StartBuildBatch",
                ),
                resources=(Named("ProjectName", "codebuild", "project/"),),
            ),
        ),
        handler="codebuild",
        source=UG + "action-reference-CodeBuild.html",
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
        source=UG + "reference-action-artifacts.html",
    )


CODEBUILD: Final = _codebuild("Build")

CODEBUILD_TEST: Final = _codebuild("Test")

ECR_BUILD_AND_PUBLISH: Final = ProviderSpec(
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
    source=UG + "action-reference-ECRBuildAndPublish.html",
)

COMMANDS: Final = ProviderSpec(
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
    iam=(
        Grant(
            actions=("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"),
            # the log group is named after the pipeline
            resources=(Arn(service="logs", parts=("log-group:/aws/codepipeline/", PIPELINE_NAME, ":*")),),
        ),
    ),
    handler="commands",
    source=UG + "action-reference-Commands.html",
)

DEVICE_FARM: Final = ProviderSpec(
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
    source=UG + "action-reference-DeviceFarm.html",
)

JENKINS_BUILD: Final = _jenkins("Build")

JENKINS_TEST: Final = _jenkins("Test")

#: This family's entries, in the order they are defined above (the catalog's order).
SPECS: Final = entries(globals())
