"""Deploy handlers: S3 deploy into a local folder, and **simulated** stand-ins for the deploy
providers that need AWS (CloudFormation, CodeDeploy, ECS, ...): they check their inputs and
record what they would deploy, and their summary says ``simulated``.
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ... import _catalog
from ..._loader import LoadFailure
from .._artifacts import zip_directory
from .._base import ActionContext, ActionFailed, ActionResult, FailureType
from .._paths import confine, setting
from ._common import _artifact_file, _Bound, _copy_tree, _load_structured, _require
from ._stack import OUTPUT_MODES, Unknown, Value, stack_outputs, template_parameters


def _check_cfn(ctx: ActionContext) -> str:
    return _read_cfn(ctx)[0]


def _read_cfn(ctx: ActionContext) -> tuple[str, dict[str, Any] | None]:
    """What the simulated CloudFormation action would deploy, and the template (if it has one)."""
    mode, stack = _require(ctx, "ActionMode", "StackName")
    body: dict[str, Any] | None = None
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
    return " ".join(parts), body


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


#: The stand-in a simulated Lambda deploy gives as the version it would publish.
LOCAL_FUNCTION_VERSION = "1"


def _deploy_variables(ctx: ActionContext) -> tuple[dict[str, str], list[str]]:
    """The output variables a simulated deploy publishes (its catalog entry's), and which of
    them are stand-ins of AWS's shape rather than values AWS would give."""
    provider, config = ctx.action.provider, ctx.configuration
    if provider in (_catalog.CLOUDFORMATION_STACKSET.provider, _catalog.CLOUDFORMATION_STACK_INSTANCES.provider):
        name = config.get("StackSetName", "")
        # A stack set's id is its name and a UUID; one name keeps one id across runs.
        stack_set_id = f"{name}:{uuid.uuid5(uuid.NAMESPACE_URL, 'pipeweaver:stack-set:' + name)}"
        return {"StackSetId": stack_set_id, "OperationId": str(uuid.uuid4())}, ["StackSetId", "OperationId"]
    if provider == _catalog.EKS_DEPLOY.provider:
        return {"EKSClusterName": config.get("ClusterName", "")}, []
    if provider == _catalog.LAMBDA_DEPLOY.provider:
        published = config.get("PublishedTargetVersion")
        if published:
            return {"FunctionVersion": published}, []
        return {"FunctionVersion": LOCAL_FUNCTION_VERSION}, ["FunctionVersion"]
    return {}, []


def _pseudo(ctx: ActionContext, stack: str) -> dict[str, Value]:
    """The pseudo parameters a local run knows: the stack's name, and the account and partition
    of the action's (or the pipeline's) role; the region when the action or the host names one."""
    role = str(ctx.configuration.get("RoleArn") or ctx.action.role_arn or ctx.pipeline.role_arn or "")
    m = re.match(r"arn:([^:]+):iam::(\d{12}):", role)
    region = ctx.action.region if isinstance(ctx.action.region, str) else None
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    partition = m.group(1) if m else "aws"
    return {
        "AWS::StackName": stack,
        "AWS::AccountId": m.group(2) if m else Unknown("AWS::AccountId (no role ARN names the account)"),
        "AWS::Partition": partition,
        "AWS::URLSuffix": "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com",
        "AWS::Region": region or Unknown("AWS::Region (set the action's region, or AWS_REGION)"),
        "AWS::StackId": Unknown("AWS::StackId (made when the stack is created)"),
        "AWS::NotificationARNs": Unknown("AWS::NotificationARNs"),
    }


def _unknown_output(stack: str, key: str, why: str) -> str:
    return (
        f"output {key} of stack {stack} comes from {why}, which a simulated deploy cannot know; give it with "
        f"LocalExecutor(stack_outputs={{{stack!r}: {{{key!r}: '...'}}}}), LocalEmulation(stack_outputs=...) or "
        f"pipeweaver run --stack-output {stack}.{key}=VALUE"
    )


class DeployHandlers(_Bound):
    """The S3 deploy and simulated deploy handlers, bound to one executor's buckets."""

    def __init__(self, executor: Any) -> None:
        super().__init__(executor)
        # What each CHANGE_SET_REPLACE prepared, for the CHANGE_SET_EXECUTE that runs it.
        self._change_sets: dict[tuple[str, str], dict[str, str | Unknown]] = {}
        self._lock = threading.Lock()

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

    def _stack_outputs(self, ctx: ActionContext, template: dict[str, Any] | None) -> dict[str, str | Unknown] | None:
        """The stack's outputs after this action (``None``: the mode publishes none, or, with
        ``{"*": ...}``, outputs a local run cannot name)."""
        mode, stack = ctx.configuration["ActionMode"], ctx.configuration["StackName"]
        if mode not in OUTPUT_MODES:
            return None
        computed: dict[str, str | Unknown] = {}
        if template is not None:
            bucket = getattr(ctx.pipeline.artifact_store, "location", None)
            parameters = template_parameters(ctx, template, bucket=bucket if isinstance(bucket, str) else None)
            computed = stack_outputs(template, parameters=parameters, pseudo=_pseudo(ctx, stack))
        change_set = (stack, ctx.configuration.get("ChangeSetName", ""))
        if mode == "CHANGE_SET_REPLACE":
            # The action's variables are the stack's outputs as they are now; the change set's
            # outputs are the ones its CHANGE_SET_EXECUTE publishes.
            with self._lock:
                self._change_sets[change_set] = computed
            computed = {"*": Unknown("the stack as it is before its change set executes")}
        elif mode == "CHANGE_SET_EXECUTE":
            with self._lock:
                prepared = self._change_sets.get(change_set)
            computed = (
                prepared
                if prepared is not None
                else {"*": Unknown(f"change set {change_set[1]!r}, which no CHANGE_SET_REPLACE prepared in this run")}
            )
        return computed

    def _cloudformation(self, ctx: ActionContext) -> tuple[str, dict[str, str], dict[str, str]]:
        """The simulated CloudFormation action: detail, output variables and unknown variables."""
        detail, template = _read_cfn(ctx)
        outputs = self._stack_outputs(ctx, template)
        if outputs is None:
            return detail, {}, {}
        stack = ctx.configuration["StackName"]
        given: Mapping[str, str] = self._x.stack_outputs_for(stack)
        values = {k: v for k, v in outputs.items() if isinstance(v, str)}
        values.update(given)
        unknown = {
            k: _unknown_output(stack, k, v.why) for k, v in outputs.items() if isinstance(v, Unknown) and k not in given
        }
        if values or unknown:
            ctx.log(
                f"SIMULATED stack outputs of {stack}: "
                + ", ".join(
                    [f"{k} (from the template)" for k in sorted(values) if k not in given]
                    + [f"{k} (given in stack_outputs)" for k in sorted(given)]
                    + [f"{k} unknown: {unknown[k]}" for k in sorted(unknown)]
                )
            )
        return detail, values, unknown

    def simulated_deploy(self, ctx: ActionContext) -> ActionResult:
        """A local stand-in for a deploy provider that needs AWS: checks inputs, records intent.

        A CloudFormation action also publishes its stack's outputs, worked out from the template
        with the run's parameters (see :mod:`._stack`) or given in ``stack_outputs``.
        """
        provider = ctx.action.provider
        variables: dict[str, str] = {}
        unknown: dict[str, str] = {}
        if provider == _catalog.CLOUDFORMATION.provider:
            detail, variables, unknown = self._cloudformation(ctx)
        else:
            checks = _DEPLOY_CHECKS.get(provider)
            detail = checks(ctx) if checks else f"{provider} deploy with inputs {sorted(ctx.inputs)}"
            variables, stand_ins = _deploy_variables(ctx)
            if stand_ins:
                detail += f"; stand-in variables {stand_ins} (AWS gives the real ones)"
        if variables:
            detail += f"; simulated stack outputs {sorted(variables)}"
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
            if provider == _catalog.CLOUDFORMATION.provider:
                # CloudFormation writes the stack's outputs there: the simulated ones.
                path.write_text(json.dumps(variables, indent=2))
            else:
                path.write_text(json.dumps({"simulated": True, "detail": detail}, indent=2))
        return ActionResult(summary=f"simulated: {detail}", output_variables=variables, unknown_variables=unknown)
