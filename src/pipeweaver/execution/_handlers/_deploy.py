"""Deploy handlers: S3 deploy into a local folder, and **simulated** stand-ins for the deploy
providers that need AWS (CloudFormation, CodeDeploy, ECS, ...): they check their inputs and
record what they would deploy, and their summary says ``simulated``.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ... import _catalog
from ..._loader import LoadFailure
from .._artifacts import zip_directory
from .._base import ActionContext, ActionFailed, ActionResult, FailureType
from .._paths import confine, setting
from ._common import _artifact_file, _Bound, _copy_tree, _load_structured, _require


def _check_cfn(ctx: ActionContext) -> str:
    mode, stack = _require(ctx, "ActionMode", "StackName")
    parts = [f"CloudFormation {mode} stack {stack}"]
    template = ctx.configuration.get("TemplatePath")
    if mode in ("CREATE_UPDATE", "REPLACE_ON_FAILURE", "CHANGE_SET_REPLACE") and not template:
        raise ActionFailed(
            f"TemplatePath is required for ActionMode {mode}", failure_type=FailureType.CONFIGURATION_ERROR
        )
    if template:
        path = _artifact_file(ctx, template, "TemplatePath")
        try:
            body = _load_structured(path)
        except (LoadFailure, UnicodeDecodeError) as exc:
            raise ActionFailed(f"template {template} is not valid JSON/YAML: {exc}") from None
        if not isinstance(body, dict) or not isinstance(body.get("Resources"), dict):
            raise ActionFailed(f"template {template} has no Resources section")
        parts.append(f"from {template} ({len(body['Resources'])} resources)")
    config = ctx.configuration.get("TemplateConfiguration")
    if config:
        _artifact_file(ctx, config, "TemplateConfiguration")
    overrides = ctx.configuration.get("ParameterOverrides")
    if overrides:
        try:
            parsed = json.loads(overrides)
        except ValueError:
            raise ActionFailed(
                "ParameterOverrides is not valid JSON", failure_type=FailureType.CONFIGURATION_ERROR
            ) from None
        if not isinstance(parsed, dict):
            raise ActionFailed("ParameterOverrides must be a JSON object", failure_type=FailureType.CONFIGURATION_ERROR)
        parts.append(f"parameters {sorted(parsed)}")
    return " ".join(parts)


def _check_ecs(ctx: ActionContext) -> str:
    cluster, service = _require(ctx, "ClusterName", "ServiceName")
    name = ctx.configuration.get("FileName", "imagedefinitions.json")
    primary = ctx.primary_input
    path = None
    if primary is not None:
        path = confine(
            primary,
            name,
            what=setting(ctx, "FileName"),
            fix="name a file inside the input artifact, such as 'imagedefinitions.json'",
            root_name="the input artifact",
        )
    if path is None or not path.is_file():
        raise ActionFailed(f"{name} is not in the input artifact")
    try:
        data = json.loads(path.read_text())
        assert isinstance(data, list)
        assert data
        images = [f"{d['name']}={d['imageUri']}" for d in data]
    except (ValueError, AssertionError, KeyError, TypeError):
        raise ActionFailed(f"{name} must be a JSON list of {{name, imageUri}} objects") from None
    return f"ECS service {service} on cluster {cluster} with images {images}"


def _check_codedeploy(ctx: ActionContext) -> str:
    app, group = _require(ctx, "ApplicationName", "DeploymentGroupName")
    primary = ctx.primary_input
    if primary is None or not any((primary / n).is_file() for n in ("appspec.yml", "appspec.yaml", "appspec.json")):
        raise ActionFailed("appspec.yml is not at the root of the input artifact")
    return f"CodeDeploy application {app} to deployment group {group}"


def _check_blue_green(ctx: ActionContext) -> str:
    app, group, taskdef, appspec = _require(
        ctx, "ApplicationName", "DeploymentGroupName", "TaskDefinitionTemplateArtifact", "AppSpecTemplateArtifact"
    )
    for artifact, default_key, key in (
        (taskdef, "taskdef.json", "TaskDefinitionTemplatePath"),
        (appspec, "appspec.yaml", "AppSpecTemplatePath"),
    ):
        _artifact_file(ctx, f"{artifact}::{ctx.configuration.get(key, default_key)}", key)
    return f"ECS blue/green via CodeDeploy application {app}, group {group}"


def _check_beanstalk(ctx: ActionContext) -> str:
    app, env = _require(ctx, "ApplicationName", "EnvironmentName")
    primary = ctx.primary_input
    if primary is None or not any(primary.iterdir()):
        raise ActionFailed("the input artifact is empty")
    return f"Elastic Beanstalk application {app} to environment {env}"


def _check_appconfig(ctx: ActionContext) -> str:
    app, env, profile, path = _require(
        ctx, "Application", "Environment", "ConfigurationProfile", "InputArtifactConfigurationPath"
    )
    primary = ctx.primary_input
    where = setting(ctx, "InputArtifactConfigurationPath")
    fix = "name a file inside the input artifact"
    if primary is None or not confine(primary, path, what=where, fix=fix, root_name="the input artifact").is_file():
        raise ActionFailed(f"InputArtifactConfigurationPath {path!r} is not in the input artifact")
    return f"AppConfig {app}/{env} profile {profile} from {path}"


_DEPLOY_CHECKS: dict[str, Callable[[ActionContext], str]] = {
    _catalog.CLOUDFORMATION.provider: _check_cfn,
    _catalog.ECS_DEPLOY.provider: _check_ecs,
    _catalog.CODEDEPLOY.provider: _check_codedeploy,
    _catalog.ECS_BLUE_GREEN.provider: _check_blue_green,
    _catalog.ELASTIC_BEANSTALK.provider: _check_beanstalk,
    _catalog.APPCONFIG.provider: _check_appconfig,
}


class DeployHandlers(_Bound):
    """The S3 deploy and simulated deploy handlers, bound to one executor's buckets."""

    def s3_deploy(self, ctx: ActionContext) -> ActionResult:
        """S3 deploy into a local folder standing in for the bucket."""
        bucket, extract = _require(ctx, "BucketName", "Extract")
        target = self._x.bucket_path(bucket, what=setting(ctx, "BucketName"))
        source = ctx.primary_input
        if source is None:
            raise ActionFailed("S3 deploy needs an input artifact", failure_type=FailureType.CONFIGURATION_ERROR)
        key = ctx.configuration.get("ObjectKey", "")
        fix = "give a key relative to the bucket, such as 'site/' or 'releases/app.zip'"
        if extract.lower() == "true":
            where = target
            if key:
                where = confine(target, key, what=setting(ctx, "ObjectKey"), fix=fix, root_name="the bucket folder")
            where.mkdir(parents=True, exist_ok=True)
            _copy_tree(source, where, what=f"input artifact {ctx.action.inputs[0].name!r}")
        else:
            if not key:
                raise ActionFailed(
                    "ObjectKey is required when Extract is false", failure_type=FailureType.CONFIGURATION_ERROR
                )
            key = key.replace("{datetime}", datetime.now(UTC).strftime("%Y-%m-%d_%H-%M-%S")).replace(
                "{uuid}", str(uuid.uuid4())
            )
            where = confine(target, key, what=setting(ctx, "ObjectKey"), fix=fix, root_name="the bucket folder")
            if where == target:
                raise ActionFailed(
                    f"{setting(ctx, 'ObjectKey')}: {key!r} names the bucket itself; {fix}",
                    failure_type=FailureType.CONFIGURATION_ERROR,
                )
            where.parent.mkdir(parents=True, exist_ok=True)
            if where.is_symlink():
                where.unlink()
            zip_directory(source, where)
        ctx.log(f"deployed to local bucket folder {where}")
        return ActionResult(summary=f"deployed to s3://{bucket}/{key} (local folder {where})")

    def simulated_deploy(self, ctx: ActionContext) -> ActionResult:
        """A local stand-in for a deploy provider that needs AWS: checks inputs, records intent."""
        provider = ctx.action.provider
        checks = _DEPLOY_CHECKS.get(provider)
        detail = checks(ctx) if checks else f"{provider} deploy with inputs {sorted(ctx.inputs)}"
        self._x.record_simulation(ctx, detail)
        ctx.log(f"SIMULATED (nothing was deployed): {detail}")
        for name, out in ctx.outputs.items():
            # CloudFormation's OutputFileName: the stand-in writes what it knows, no stack outputs.
            out.mkdir(parents=True, exist_ok=True)
            file = ctx.configuration.get("OutputFileName") or f"{name}.json"
            path = confine(
                out,
                file,
                what=setting(ctx, "OutputFileName"),
                fix="give a file name inside the output artifact, such as 'outputs.json'",
                root_name=f"output artifact {name!r}",
            )
            if path == Path(os.path.realpath(out)):
                raise ActionFailed(
                    f"{setting(ctx, 'OutputFileName')}: {file!r} names the artifact folder, not a file",
                    failure_type=FailureType.CONFIGURATION_ERROR,
                )
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"simulated": True, "detail": detail}, indent=2))
        return ActionResult(summary=f"simulated: {detail}")
