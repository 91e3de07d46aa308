"""Deploy providers: S3, CloudFormation (stacks, stack sets), CodeDeploy, ECS, Elastic Beanstalk,
OpsWorks, Service Catalog, AppConfig, EC2, EKS, Lambda and Alexa Skills Kit.

Layer: names/limits. Entries of the provider catalog (see :mod:`pipeweaver._catalog`); each
cites the AWS page it comes from (reference/codepipeline.md §3.1, §4.6 for timeouts).
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from ._spec import BOOL, UG, Arn, Grant, ProviderSpec, Requirement, Setting, entries, pass_role

#: The entries are the module's ProviderSpec constants, collected in SPECS.
__all__ = ["ActionMode", "CAPABILITIES", "Capability", "SPECS"]


#: CloudFormation's ``ActionMode`` values (the typed factories' parameter type).
ActionMode = Literal["CHANGE_SET_EXECUTE", "CHANGE_SET_REPLACE", "CREATE_UPDATE", "DELETE_ONLY", "REPLACE_ON_FAILURE"]
#: One item of CloudFormation's ``Capabilities`` list (the typed factories' parameter type).
Capability = Literal["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]

_CFN_MODES: Final = get_args(ActionMode)

#: The values CloudFormation's ``Capabilities`` list may hold.
CAPABILITIES: Final = get_args(Capability)

#: What CodeDeploy and ECS blue/green deployments both need from the pipeline role.
_CODEDEPLOY: Final = (
    Grant(
        actions=(
            "codedeploy:GetApplication",
            "codedeploy:GetApplicationRevision",
            "codedeploy:RegisterApplicationRevision",
        ),
        resources=(Arn(service="codedeploy", parts=("application:", Setting("ApplicationName"))),),
    ),
    Grant(
        actions=("codedeploy:CreateDeployment", "codedeploy:GetDeployment"),
        resources=(
            Arn(
                service="codedeploy",
                parts=("deploymentgroup:", Setting("ApplicationName"), "/", Setting("DeploymentGroupName")),
            ),
        ),
    ),
    Grant(
        actions=("codedeploy:GetDeploymentConfig",),
        resources=(Arn(service="codedeploy", parts=("deploymentconfig:*",)),),
    ),
)

S3_DEPLOY: Final = ProviderSpec(
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
    iam=(
        Grant(
            actions=("s3:PutObject", "s3:PutObjectAcl"),
            resources=(Arn(service="s3", parts=(Setting("BucketName"), "/*"), account=False, regional=False),),
        ),
    ),
    handler="s3_deploy",
    source=UG + "action-reference-S3Deploy.html",
)

CLOUDFORMATION: Final = ProviderSpec(
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
    list_allowed={"Capabilities": CAPABILITIES},
    json_keys=("ParameterOverrides",),
    artifact_path_keys=("TemplatePath", "TemplateConfiguration"),
    output_variables=None,
    timeout_minutes=3 * 24 * 60,
    iam=(
        Grant(
            actions=(
                "cloudformation:CreateChangeSet",
                "cloudformation:CreateStack",
                "cloudformation:DeleteChangeSet",
                "cloudformation:DeleteStack",
                "cloudformation:DescribeChangeSet",
                "cloudformation:DescribeStacks",
                "cloudformation:ExecuteChangeSet",
                "cloudformation:SetStackPolicy",
                "cloudformation:UpdateStack",
            ),
            resources=(Arn(service="cloudformation", parts=("stack/", Setting("StackName"), "/*")),),
        ),
        Grant(actions=("cloudformation:ValidateTemplate",), resources=("*",)),
        pass_role(Setting("RoleArn"), "cloudformation.amazonaws.com"),
    ),
    handler="simulated_deploy",
    source=UG + "action-reference-CloudFormation.html",
)

CLOUDFORMATION_STACKSET: Final = ProviderSpec(
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
    list_allowed={"Capabilities": CAPABILITIES},
    allowed={
        "PermissionModel": ("SELF_MANAGED", "SERVICE_MANAGED"),
        "OrganizationsAutoDeployment": ("Enabled", "Disabled", "EnabledWithStackRetention"),
    },
    ranges={"FailureTolerancePercentage": (0, 100), "MaxConcurrentPercentage": (1, 100)},
    artifact_path_keys=("TemplatePath",),
    output_variables=("StackSetId", "OperationId"),
    timeout_minutes=3 * 24 * 60,
    handler="simulated_deploy",
    source=UG + "action-reference-StackSets.html",
)

CLOUDFORMATION_STACK_INSTANCES: Final = ProviderSpec(
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
    handler="simulated_deploy",
    source=UG + "action-reference-StackSets.html",
)

CODEDEPLOY: Final = ProviderSpec(
    category="Deploy",
    owner="AWS",
    provider="CodeDeploy",
    inputs=(1, 1),
    outputs=(0, 0),
    required=("ApplicationName", "DeploymentGroupName"),
    timeout_minutes=5 * 24 * 60,
    iam=_CODEDEPLOY,
    handler="simulated_deploy",
    source=UG + "action-reference-CodeDeploy.html",
)

ECS_DEPLOY: Final = ProviderSpec(
    category="Deploy",
    owner="AWS",
    provider="ECS",
    inputs=(1, 1),
    outputs=(0, 0),
    required=("ClusterName", "ServiceName"),
    optional=("FileName", "DeploymentTimeout"),
    ranges={"DeploymentTimeout": (1, 60)},
    timeout_key="DeploymentTimeout",
    iam=(
        Grant(
            actions=("ecs:DescribeServices", "ecs:UpdateService"),
            resources=(Arn(service="ecs", parts=("service/", Setting("ClusterName"), "/", Setting("ServiceName"))),),
        ),
        Grant(
            actions=(
                "ecs:DescribeTaskDefinition",
                "ecs:DescribeTasks",
                "ecs:ListTasks",
                "ecs:RegisterTaskDefinition",
                "ecs:TagResource",
            ),
            resources=("*",),
        ),
        pass_role("*", "ecs-tasks.amazonaws.com"),
    ),
    handler="simulated_deploy",
    source=UG + "action-reference-ECS.html",
)

ECS_BLUE_GREEN: Final = ProviderSpec(
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
    iam=(
        *_CODEDEPLOY,
        # RegisterTaskDefinition supports no resource-level scoping.
        Grant(actions=("ecs:RegisterTaskDefinition", "ecs:TagResource"), resources=("*",)),
        pass_role("*", "ecs-tasks.amazonaws.com"),
    ),
    handler="simulated_deploy",
    source=UG + "action-reference-ECSbluegreen.html",
)

ELASTIC_BEANSTALK: Final = ProviderSpec(
    category="Deploy",
    owner="AWS",
    provider="ElasticBeanstalk",
    inputs=(1, 1),
    outputs=(0, 0),
    required=("ApplicationName", "EnvironmentName"),
    iam=(
        Grant(
            actions=(
                "elasticbeanstalk:CreateApplicationVersion",
                "elasticbeanstalk:DescribeApplicationVersions",
                "elasticbeanstalk:DescribeEnvironments",
                "elasticbeanstalk:DescribeEvents",
                "elasticbeanstalk:UpdateEnvironment",
            ),
            resources=(
                Arn(service="elasticbeanstalk", parts=("application/", Setting("ApplicationName"))),
                Arn(service="elasticbeanstalk", parts=("environment/", Setting("ApplicationName"), "/*")),
                Arn(service="elasticbeanstalk", parts=("applicationversion/", Setting("ApplicationName"), "/*")),
            ),
        ),
    ),
    handler="simulated_deploy",
    source=UG + "action-reference-Beanstalk.html",
)

OPSWORKS: Final = ProviderSpec(
    category="Deploy",
    owner="AWS",
    provider="OpsWorks",
    inputs=(1, 1),
    outputs=(0, 0),
    required=("Stack", "App"),
    optional=("Layer",),
    handler="simulated_deploy",
    source=UG + "structure-configuration-examples.html",
)

SERVICE_CATALOG: Final = ProviderSpec(
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
    handler="simulated_deploy",
    source=UG + "structure-configuration-examples.html",
)

APPCONFIG: Final = ProviderSpec(
    category="Deploy",
    owner="AWS",
    provider="AppConfig",
    inputs=(1, 1),
    outputs=(0, 0),
    required=("Application", "Environment", "ConfigurationProfile", "InputArtifactConfigurationPath"),
    optional=("DeploymentStrategy",),
    handler="simulated_deploy",
    source=UG + "action-reference-AppConfig.html",
)

EC2_DEPLOY: Final = ProviderSpec(
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
    handler="simulated_deploy",
    source=UG + "action-reference-EC2Deploy.html",
)

EKS_DEPLOY: Final = ProviderSpec(
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
    handler="simulated_deploy",
    source=UG + "action-reference-EKS.html",
)

LAMBDA_DEPLOY: Final = ProviderSpec(
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
    handler="simulated_deploy",
    source=UG + "action-reference-LambdaDeploy.html",
)

ALEXA_SKILLS_KIT: Final = ProviderSpec(
    category="Deploy",
    owner="ThirdParty",
    provider="AlexaSkillsKit",
    inputs=(0, 2),
    outputs=(0, 0),
    required=("ClientId", "ClientSecret", "RefreshToken", "SkillId"),
    secrets=("ClientSecret", "RefreshToken"),
    source=UG + "structure-configuration-examples.html",
)

#: This family's entries, in the order they are defined above (the catalog's order).
SPECS: Final = entries(globals())
