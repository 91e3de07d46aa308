"""Typed action factories: one per catalog provider, producing actions that lint clean."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import pipeweaver as pw
from pipeweaver import _catalog, actions

ROLE = "arn:aws:iam::123456789012:role/PipelineRole"
CONN = "arn:aws:codeconnections:us-east-1:123456789012:connection/abc"
SRC = pw.Artifact("SourceOutput")

Make = Callable[[pw.Artifact], pw.Action]

#: A minimal call of every factory, keyed by the catalog entry it covers; the argument is an
#: artifact produced by the source stage.
FACTORIES: dict[tuple[str, str, str], Make] = {
    ("Source", "AWS", "S3"): lambda s: actions.s3_source("S3Src", bucket="b", object_key="k.zip", output="S3Out"),
    ("Source", "AWS", "ECR"): lambda s: actions.ecr_source("EcrSrc", repository_name="web", output="Image"),
    ("Source", "AWS", "CodeCommit"): lambda s: actions.codecommit_source(
        "CcSrc", repository_name="web", branch="main", output="CcOut"
    ),
    ("Source", "AWS", "CodeStarSourceConnection"): lambda s: actions.gitlab_source(
        "GitLab", connection_arn=CONN, repository="acme/lib", branch="main", output="LibOut"
    ),
    ("Source", "ThirdParty", "GitHub"): lambda s: actions.github_v1_source(
        "GitHubV1", owner="acme", repo="web", branch="main", oauth_token="{{resolve:secretsmanager:gh}}", output="GhOut"
    ),
    ("Build", "AWS", "CodeBuild"): lambda s: actions.codebuild(
        "Build", project_name="web", input=s, outputs=["BuildOut"], environment_variables={"STAGE": "prod"}
    ),
    ("Test", "AWS", "CodeBuild"): lambda s: actions.codebuild_test("Test", project_name="web-test", input=s),
    ("Build", "AWS", "ECRBuildAndPublish"): lambda s: actions.ecr_build_and_publish(
        "Image", repository_name="web", input=s, image_tags=["latest", "v1"]
    ),
    ("Compute", "AWS", "Commands"): lambda s: actions.commands(
        "Cmd", commands=["make"], input=s, output="Dist", output_files=["dist/**/*"], output_variables=["VERSION"]
    ),
    ("Test", "AWS", "DeviceFarm"): lambda s: actions.device_farm(
        "Devices",
        input=s,
        app_type="Android",
        project_id="p",
        app="app.apk",
        appium_version="1.9",
        device_pool_arn="arn:aws:devicefarm:us-west-2::devicepool:1",
        test_type="APPIUM_PYTHON",
        record_video=True,
    ),
    ("Build", "Custom", "Jenkins"): lambda s: actions.jenkins("JenkinsBuild", project_name="web", inputs=[s]),
    ("Test", "Custom", "Jenkins"): lambda s: actions.jenkins("JenkinsTest", project_name="web", category="Test"),
    ("Deploy", "AWS", "S3"): lambda s: actions.s3_deploy(
        "Site", bucket="site", input=s, extract=False, object_key="a.zip"
    ),
    ("Deploy", "AWS", "CloudFormation"): lambda s: actions.cloudformation_create_update(
        "Stack",
        stack_name="web",
        template=(s, "template.yaml"),
        deployment_role_arn=ROLE,
        capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        parameter_overrides={"Env": "prod"},
    ),
    ("Deploy", "AWS", "CloudFormationStackSet"): lambda s: actions.cloudformation_stackset(
        "StackSet", stack_set_name="guard", template=(s, "t.yaml"), regions=["us-east-1", "eu-west-1"]
    ),
    ("Deploy", "AWS", "CloudFormationStackInstances"): lambda s: actions.cloudformation_stack_instances(
        "Instances", stack_set_name="guard", regions=["us-east-1"], deployment_targets=["111111111111"]
    ),
    ("Deploy", "AWS", "CodeDeploy"): lambda s: actions.codedeploy(
        "CodeDeploy", application_name="web", deployment_group_name="prod", input=s
    ),
    ("Deploy", "AWS", "ECS"): lambda s: actions.ecs_deploy("Ecs", cluster_name="c", service_name="web", input=s),
    ("Deploy", "AWS", "CodeDeployToECS"): lambda s: actions.ecs_blue_green(
        "BlueGreen",
        application_name="web",
        deployment_group_name="prod",
        task_definition=(s, "taskdef.json"),
        app_spec=(s, "appspec.yaml"),
        images={"IMAGE1_NAME": s},
    ),
    ("Deploy", "AWS", "ElasticBeanstalk"): lambda s: actions.elastic_beanstalk(
        "Beanstalk", application_name="web", environment_name="prod", input=s
    ),
    ("Deploy", "AWS", "OpsWorks"): lambda s: actions.opsworks_deploy("OpsWorks", stack="s", app="a", input=s),
    ("Deploy", "AWS", "ServiceCatalog"): lambda s: actions.service_catalog(
        "Catalog", product_id="prod-1", input=s, configuration_file_path="product.json"
    ),
    ("Deploy", "AWS", "AppConfig"): lambda s: actions.appconfig_deploy(
        "AppConfig",
        application="app",
        environment="prod",
        configuration_profile="flags",
        input_artifact_configuration_path="flags.json",
        input=s,
    ),
    ("Deploy", "AWS", "EC2"): lambda s: actions.ec2_deploy(
        "Ec2", instance_tag_key="app", instance_type="EC2", input=s, target_directory="/opt/app"
    ),
    ("Deploy", "AWS", "EKS"): lambda s: actions.eks_deploy(
        "Eks", cluster_name="c", input=s, manifest_files=["k8s/deploy.yaml"], environment_variables={"TAG": "v1"}
    ),
    ("Deploy", "AWS", "Lambda"): lambda s: actions.lambda_deploy(
        "LambdaDeploy", function_name="fn", input=s, function_alias="live", deploy_strategy="Canary10Percent5Minutes"
    ),
    ("Deploy", "ThirdParty", "AlexaSkillsKit"): lambda s: actions.alexa_skills_kit(
        "Alexa", client_id="c", client_secret="****", refresh_token="****", skill_id="s", inputs=[s]
    ),
    ("Approval", "AWS", "Manual"): lambda s: actions.manual_approval(
        "Approve", custom_data="ship it?", timeout_in_minutes=60
    ),
    ("Invoke", "AWS", "Lambda"): lambda s: actions.lambda_invoke(
        "Invoke", function_name="fn", user_parameters={"env": "prod"}, inputs=[s]
    ),
    ("Invoke", "AWS", "StepFunctions"): lambda s: actions.step_functions(
        "StateMachine",
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:m",
        input_type="FilePath",
        state_input="input.json",
        input=s,
    ),
    ("Invoke", "AWS", "CodePipeline"): lambda s: actions.pipeline_invoke(
        "Downstream", pipeline_name="other", variables={"env": "prod"}
    ),
    ("Invoke", "AWS", "InspectorScan"): lambda s: actions.inspector_scan(
        "Scan", run_mode="SourceCodeScan", input=s, output="Sbom", high_threshold=0
    ),
    ("Invoke", "ThirdParty", "Snyk"): lambda s: actions.snyk("Snyk", input=s, output="SnykReport"),
}


def test_every_catalog_provider_has_a_factory() -> None:
    """Each action type of the provider catalog is covered by a factory call above."""
    assert set(_catalog.PROVIDERS) == set(FACTORIES)


def _pipeline(made: pw.Action) -> pw.Pipeline:
    source = actions.github_source("Source", connection_arn=CONN, repository="acme/web", branch="main", output=SRC)
    if made.category == "Source":
        stages = [
            pw.Stage(name="Source", actions=[source, made]),
            pw.Stage(name="Hold", actions=[actions.manual_approval("Hold")]),
        ]
    else:
        stages = [pw.Stage(name="Source", actions=[source]), pw.Stage(name="Work", actions=[made])]
    return pw.Pipeline(
        name="p",
        role_arn=ROLE,
        artifact_store=pw.ArtifactStore(location="artifact-bucket"),
        pipeline_type="V2",
        stages=stages,
    )


@pytest.mark.parametrize("key", list(FACTORIES), ids="/".join)
def test_factory_output_lints_clean(key: tuple[str, str, str]) -> None:
    """Every factory returns a plain Action of its catalog type that lints without errors in a pipeline."""
    made = FACTORIES[key](SRC)

    assert isinstance(made, pw.Action)
    assert key == (str(made.category), str(made.owner), made.provider)
    assert [] == [str(i) for i in pw.lint(_pipeline(made)) if i.is_error]


def test_booleans_lists_and_json_become_strings() -> None:
    """Typed arguments become AWS's configuration strings."""
    s3 = actions.s3_source("S", bucket="b", object_key="k.zip", poll_for_source_changes=True)
    stack = FACTORIES[("Deploy", "AWS", "CloudFormation")](SRC)
    build = FACTORIES[("Build", "AWS", "CodeBuild")](SRC)

    assert "true" == s3.configuration["PollForSourceChanges"]
    assert "CAPABILITY_IAM,CAPABILITY_AUTO_EXPAND" == stack.configuration["Capabilities"]
    assert "SourceOutput::template.yaml" == stack.configuration["TemplatePath"]
    assert '{"Env":"prod"}' == stack.configuration["ParameterOverrides"]
    assert '[{"name":"STAGE","value":"prod","type":"PLAINTEXT"}]' == build.configuration["EnvironmentVariables"]


def test_template_artifacts_become_inputs() -> None:
    """Artifacts named by (artifact, path) settings are added to the action's inputs once."""
    config = pw.Artifact("Config")
    stack = actions.cloudformation_change_set_replace(
        "Plan",
        stack_name="web",
        change_set_name="cs",
        template=(SRC, "t.yaml"),
        template_configuration=(config, "prod.json"),
        deployment_role_arn=ROLE,
    )
    blue_green = FACTORIES[("Deploy", "AWS", "CodeDeployToECS")](SRC)

    assert (SRC, config) == stack.inputs
    assert (SRC,) == blue_green.inputs


def test_primary_source_defaults_to_first_input() -> None:
    """A CodeBuild action with several inputs names the first as PrimarySource unless told otherwise."""
    other = pw.Artifact("Other")

    chosen = actions.codebuild("B", project_name="p", input=[SRC, other], primary_source=other)
    default = actions.codebuild("B", project_name="p", input=[SRC, other])

    assert "Other" == chosen.configuration["PrimarySource"]
    assert "SourceOutput" == default.configuration["PrimarySource"]


def test_source_output_from_name_or_artifact() -> None:
    """Source factories create their output artifact from a name, or use the Artifact given."""
    named = actions.ecr_source("E", repository_name="web", output="Image")
    given = actions.ecr_source("E", repository_name="web", output=SRC)

    assert pw.Artifact("Image") == named.output()
    assert given.output() is SRC


def test_commands_output_collects_files() -> None:
    """The Commands factory attaches output_files to its output artifact."""
    made = FACTORIES[("Compute", "AWS", "Commands")](SRC)

    assert ("dist/**/*",) == made.output().files
    assert ("VERSION",) == made.output_variables


def test_custom_action_type() -> None:
    """custom() builds Custom/ThirdParty actions with typed configuration values."""
    made = actions.custom(
        "Scan",
        category="Test",
        provider="AcmeScanner",
        configuration={"Strict": True, "Level": 3, "Target": "web"},
        inputs=[SRC],
    )

    assert pw.ActionType(category="Test", owner="Custom", provider="AcmeScanner") == made.action_type
    assert {"Strict": "true", "Level": "3", "Target": "web"} == dict(made.configuration)
    assert [] == [i for i in pw.lint(_pipeline(made)) if i.is_error]


def test_missing_settings_are_reported_by_lint() -> None:
    """A mode-specific factory called without optional settings still yields what its mode needs."""
    execute = actions.cloudformation_change_set_execute("Run", stack_name="web", change_set_name="cs")

    assert {"ActionMode": "CHANGE_SET_EXECUTE", "StackName": "web", "ChangeSetName": "cs"} == dict(
        execute.configuration
    )
