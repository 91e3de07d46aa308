"""The Commands action, the S3 deploy action and the simulated deploy actions, as their action
references document them."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

import pipeweaver as pw
from pipeweaver import _catalog
from pipeweaver.errors import HandlerNotFoundError
from pipeweaver.execution import ActionStatus, LocalExecutor

from .conftest import SRC, log_of, source_then

COMMANDS = "https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-Commands.html"
S3_DEPLOY = "https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-S3Deploy.html"
ACTION_TYPES = "https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference.html"


def _run(tmp_path: Path, *stages: pw.Stage, **kw: Any) -> pw.execution.Execution:
    src = tmp_path / "src"
    src.mkdir(parents=True, exist_ok=True)
    (src / "index.html").write_text("<h1>v1</h1>")
    (src / "imagedefinitions.json").write_text(json.dumps([{"name": "web", "imageUri": "web:1"}]))
    (src / "appspec.yml").write_text("version: 0.0\n")
    (src / "appspec.yaml").write_text("version: 0.0\n")
    (src / "taskdef.json").write_text("{}")
    (src / "config.json").write_text("{}")
    (src / "template.yml").write_text("Resources: {}\n")
    with LocalExecutor(tmp_path / "wd", sources={"Source": src}, **kw) as x:
        return x.run(source_then(*stages, pipeline_type="V2"))


def _commands(name: str, *commands: str, **kw: Any) -> pw.Action:
    return pw.Action(
        name=name,
        action_type=pw.ActionType(category="Compute", provider="Commands"),
        commands=list(commands),
        inputs=kw.pop("inputs", [SRC]),
        **kw,
    )


def test_a_commands_action_exports_its_output_variables_and_files(tmp_path: Path) -> None:
    """Commands action reference (COMMANDS): the commands run on the input artifact; the environment
    variables named in outputVariables become the action's variables, and the files named in an
    output artifact's files make that artifact.

    Local: simulated: the commands run on your machine, not in CodeBuild's image.
    """
    out = pw.Artifact("Dist")
    build = _commands(
        "Build",
        "mkdir -p dist && cp index.html dist/",
        "export RELEASE=v1",
        namespace="BuildVars",
        output_variables=["RELEASE"],
        outputs=[pw.Artifact("Dist", files=["dist/**/*"])],
    )
    check = _commands("Check", "test -f dist/index.html", "test '#{BuildVars.RELEASE}' = v1", inputs=[out])

    e = _run(tmp_path, pw.Stage(name="Build", actions=[build]), pw.Stage(name="Check", actions=[check]))

    assert e.succeeded, e.status_summary
    assert {"RELEASE": "v1"} == dict(e.action("Build", "Build").output_variables)


def test_a_failing_command_fails_the_commands_action(tmp_path: Path) -> None:
    """Commands action reference (COMMANDS): a command that fails fails the action, and the commands after it
    do not run."""
    e = _run(tmp_path, pw.Stage(name="Build", actions=[_commands("Build", "false", "echo after")]))

    build = e.action("Build", "Build")
    assert ActionStatus.FAILED == build.status
    assert "after" not in log_of(build)


def _s3_deploy(**configuration: str) -> pw.Action:
    return pw.Action(
        name="Site",
        action_type=pw.ActionType(category="Deploy", provider="S3"),
        configuration={"BucketName": "www", **configuration},
        inputs=[SRC],
    )


def test_an_s3_deploy_extracts_the_artifact_under_the_key(tmp_path: Path) -> None:
    """Amazon S3 deploy action reference (S3_DEPLOY): with Extract true the artifact's files are extracted into
    the bucket, under ObjectKey when it is given.

    Local: simulated: the bucket is a local folder (``buckets=``), nothing reaches S3.
    """
    bucket = tmp_path / "bucket"
    e = _run(
        tmp_path,
        pw.Stage(name="Deploy", actions=[_s3_deploy(Extract="true", ObjectKey="site")]),
        buckets={"www": bucket},
    )

    assert e.succeeded, e.status_summary
    assert "<h1>v1</h1>" == (bucket / "site" / "index.html").read_text()


def test_an_s3_deploy_without_extract_uploads_the_artifact_zip_as_the_object(tmp_path: Path) -> None:
    """Amazon S3 deploy action reference (S3_DEPLOY): with Extract false the artifact is uploaded as one
    zip object named ObjectKey, which is then required.

    Local: simulated: the bucket is a local folder (``buckets=``), nothing reaches S3.
    """
    bucket = tmp_path / "bucket"
    e = _run(
        tmp_path,
        pw.Stage(name="Deploy", actions=[_s3_deploy(Extract="false", ObjectKey="releases/app.zip")]),
        buckets={"www": bucket},
    )

    assert e.succeeded, e.status_summary
    with zipfile.ZipFile(bucket / "releases" / "app.zip") as archive:
        assert "<h1>v1</h1>" == archive.read("index.html").decode()


_CONFIGURATION: dict[str, dict[str, str]] = {
    "CloudFormation": {"ActionMode": "CREATE_UPDATE", "StackName": "web", "TemplatePath": "Src::template.yml"},
    "CloudFormationStackSet": {"StackSetName": "web", "TemplatePath": "Src::template.yml"},
    "CloudFormationStackInstances": {"StackSetName": "web", "Regions": "us-east-1"},
    "CodeDeploy": {"ApplicationName": "web", "DeploymentGroupName": "prod"},
    "ECS": {"ClusterName": "prod", "ServiceName": "web"},
    "CodeDeployToECS": {
        "ApplicationName": "web",
        "DeploymentGroupName": "prod",
        "TaskDefinitionTemplateArtifact": "Src",
        "AppSpecTemplateArtifact": "Src",
    },
    "ElasticBeanstalk": {"ApplicationName": "web", "EnvironmentName": "prod"},
    "OpsWorks": {"Stack": "s", "App": "a"},
    "ServiceCatalog": {"ProductId": "prod-abc", "TemplateFilePath": "template.yml", "ProductVersionName": "v1"},
    "AppConfig": {
        "Application": "web",
        "Environment": "prod",
        "ConfigurationProfile": "flags",
        "InputArtifactConfigurationPath": "config.json",
    },
    "EC2": {"InstanceTagKey": "app", "InstanceTagValue": "web", "InstanceType": "EC2", "TargetDirectory": "/srv"},
    "EKS": {"ClusterName": "prod", "ManifestFiles": "template.yml"},
    "Lambda": {"FunctionName": "api"},
}


@pytest.mark.parametrize("provider", sorted(_CONFIGURATION))
def test_a_deploy_provider_that_needs_aws_is_simulated_and_says_so(tmp_path: Path, provider: str) -> None:
    """Action type reference (ACTION_TYPES): each deploy provider deploys its input artifact to its AWS service
    and publishes the output variables its reference documents.

    Local: simulated: the inputs are checked and what would be deployed is recorded; the summary
    and the log say "simulated", and the documented output variables are published (stand-ins
    where only AWS knows them).
    """
    (spec,) = (s for s in _catalog.iter_specs() if (s.category, s.provider) == ("Deploy", provider))
    assert "simulated_deploy" == spec.handler
    deploy = pw.Action(
        name="Deploy",
        action_type=pw.ActionType(category="Deploy", provider=provider),
        configuration=_CONFIGURATION[provider],
        inputs=[SRC] if spec.inputs[1] else [],
    )

    e = _run(tmp_path, pw.Stage(name="Deploy", actions=[deploy]), validate=False)

    record = e.action("Deploy", "Deploy")
    assert e.succeeded, e.status_summary
    assert (record.summary or "").startswith("simulated: ")
    assert any(line.startswith("SIMULATED (nothing was deployed): ") for line in log_of(record))
    assert set(spec.output_variables or ()) <= set(record.output_variables) or provider == "CloudFormation"


def test_every_deploy_provider_with_a_simulated_handler_is_covered() -> None:
    """Action type reference (ACTION_TYPES): the deploy providers CodePipeline documents.

    Every catalog entry run by the simulated deploy handler is among the providers above.
    """
    assert {s.provider for s in _catalog.iter_specs() if s.handler == "simulated_deploy"} == set(_CONFIGURATION)


@pytest.mark.parametrize("provider", ["StepFunctions", "InspectorScan"])
def test_an_action_type_without_a_local_handler_is_refused_before_the_run(tmp_path: Path, provider: str) -> None:
    """Action type reference (ACTION_TYPES): these actions run in their AWS service and publish its variables.

    Local: refused: an action with no local handler is refused, with every such action named and
    how to give a handler, before the execution starts; nothing runs.
    """
    (spec,) = (s for s in _catalog.iter_specs() if s.provider == provider)
    assert spec.handler is None
    action = pw.Action(
        name="Step",
        action_type=pw.ActionType(category=spec.category, provider=provider),
        configuration=dict.fromkeys(spec.required, "x"),
        inputs=[SRC],
    )

    with pytest.raises(HandlerNotFoundError, match=rf"Work/Step \(.*{provider}.*\): give one with --handler"):
        _run(tmp_path, pw.Stage(name="Work", actions=[action]), validate=False)
