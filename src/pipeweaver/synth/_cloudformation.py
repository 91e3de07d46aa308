"""CloudFormation both ways: ``to_cloudformation`` and ``from_cloudformation``.

Layer: synth. The template reading (safe YAML, case conversion, normalisations, template
paths) lives in :mod:`pipeweaver._cfn`, shared with :func:`pipeweaver.lint`; this module adds
the model on either side and the optional supporting resources (artifact bucket, KMS key,
pipeline role) with their parameters and outputs.

Over 700 lines because it is the pipeline resource both ways plus the supporting resources
built around it (about 350 lines, from ``add_kms_key`` to ``add_pipeline_role``); those are
the part to move into a module of their own once the renderer work here has landed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from .. import _branches, _catalog, _cfn, _cfn_conditions
from .._codec import ExpressionResolver, Renderer, build_pipeline, is_intrinsic, resolve_conditions, to_codepipeline
from .._codec import raw_expressions as _raw
from .._loader import load_json
from .._model import (
    Action,
    Expression,
    Pipeline,
    Stage,
)
from .._shapes import join_key
from .._when import TemplateConditions, When
from ..errors import Issue, LoadError, SynthesisError
from ._events import EventWiring, add_event_wiring

__all__ = [
    "TemplateExtension",
    "add_artifact_bucket",
    "add_kms_key",
    "add_pipeline_role",
    "from_cloudformation",
    "parameter_resolver",
    "pipeline_properties",
    "to_cloudformation",
]

#: A step that adds resources to a template being built: ``(template, pipeline, logical_id)``.
#: The template already holds the pipeline resource under ``Resources[logical_id]``.
TemplateExtension = Callable[[dict[str, Any], Pipeline, str], object]

#: ``OnFailure.Result`` values the CloudFormation schema accepts (the API also has FAIL, SKIP).
CFN_ON_FAILURE_RESULTS = ("ROLLBACK", "RETRY")

_PIPELINE_ARN = "arn:${AWS::Partition}:codepipeline:${AWS::Region}:${AWS::AccountId}:"
BUCKET_ID = "ArtifactBucket"
BUCKET_POLICY_ID = "ArtifactBucketPolicy"
KEY_ID = "ArtifactKey"
ROLE_ID = "PipelineRole"


# ---------------------------------------------------------------------------------------------
# model -> template


def _region(key: str) -> Any:
    if key.startswith("{"):
        try:
            value = load_json(key)
        except ValueError:
            return key
        if is_intrinsic(value):
            return value
    return key


def _check_cfn_limits(pipeline: Pipeline) -> None:
    for i, stage in enumerate(pipeline.stages):
        path = f"stages[{i}]"
        failure = stage.on_failure
        if failure is not None and failure.result is not None and failure.result.value not in CFN_ON_FAILURE_RESULTS:
            raise SynthesisError(
                f"onFailure result {failure.result.value} cannot be written to CloudFormation, whose schema "
                f"allows only {' and '.join(CFN_ON_FAILURE_RESULTS)}; deploy it through the API instead",
                path=f"{path}.onFailure.result",
            )
        for where, conditions in (
            ("onFailure", () if failure is None else failure.conditions),
            ("onSuccess", () if stage.on_success is None else stage.on_success.conditions),
            ("beforeEntry", () if stage.before_entry is None else stage.before_entry.conditions),
        ):
            for c, condition in enumerate(conditions):
                for r, rule in enumerate(condition.rules):
                    if rule.timeout_in_minutes is not None:
                        raise SynthesisError(
                            "rule timeoutInMinutes has no CloudFormation property (RuleDeclaration lacks it); "
                            "remove it or deploy the pipeline through the API",
                            path=f"{path}.{where}.conditions[{c}].rules[{r}].timeoutInMinutes",
                        )


#: Renders the pipeline's properties where nothing needs noting (:func:`pipeline_properties`).
_RENDER = Renderer(cloudformation=True)


def _properties(pipeline: Pipeline, found: set[str] | None = None) -> dict[str, Any]:
    """
    The pipeline resource's properties; with *found*, note there what its ``Stages`` refer to.

    The stages, stores, variables and triggers are rendered in CloudFormation's spelling by
    the same walk as the API declaration (:class:`pipeweaver._codec.Renderer`). In the
    stages, every value that is not a plain string passes through its ``keep`` or ``text``,
    so the names that ``Ref`` and ``Fn::Sub`` refer to are noted there as the expressions are
    written, and the finished stages need no second walk (see :func:`_declare_parameters`).
    Configuration values are the exception: template steps may overwrite them (event wiring
    sets ``PollForSourceChanges``), so they are read once the template is complete, as is
    everything outside the stages (the steps replace the store and the role).
    """
    _check_cfn_limits(pipeline)
    render = stages = _RENDER
    if found is not None:

        def keep(value: Any) -> Any:
            raw = _raw(value)
            if type(raw) is not str:
                _referenced(raw, found)
            return raw

        def text(value: Any, path: str) -> Any:
            # paths are written by the renderer: "stages[0].actions[1].configuration.Key"
            return _raw(value) if ".configuration" in path else keep(value)

        stages = Renderer(cloudformation=True, keep=keep, text=text)
    props: dict[str, Any] = {}
    name = _raw(pipeline.name)
    if name != _cfn.NO_NAME:
        props["Name"] = name
    props["RoleArn"] = _raw(pipeline.role_arn)
    if pipeline.artifact_store is not None:
        props["ArtifactStore"] = render.store(pipeline.artifact_store, "artifactStore")
    props["Stages"] = [stages.stage(s, f"stages[{i}]") for i, s in enumerate(pipeline.stages)]
    if pipeline.execution_mode is not None:
        props["ExecutionMode"] = pipeline.execution_mode.value
    if pipeline.pipeline_type is not None:
        props["PipelineType"] = _raw(pipeline.pipeline_type)
    if pipeline.variables:
        props["Variables"] = [render.variable(v, f"variables[{i}]") for i, v in enumerate(pipeline.variables)]
    if pipeline.triggers:
        props["Triggers"] = [render.trigger(t, f"triggers[{i}]") for i, t in enumerate(pipeline.triggers)]
    if pipeline.artifact_stores is not None:
        # A list of {Region, ArtifactStore} in templates, where the API has a map by region.
        props["ArtifactStores"] = [
            {"Region": _region(region), "ArtifactStore": render.store(store, join_key("artifactStores", region))}
            for region, store in pipeline.artifact_stores.items()
        ]
    if pipeline.disabled_transitions:
        props["DisableInboundStageTransitions"] = [
            {"StageName": _raw(stage), "Reason": _raw(reason)}
            for stage, reason in pipeline.disabled_transitions.items()
        ]
    if pipeline.restart_execution_on_update is not None:
        props["RestartExecutionOnUpdate"] = pipeline.restart_execution_on_update
    if pipeline.tags:
        props["Tags"] = [{"Key": _raw(k), "Value": _raw(v)} for k, v in pipeline.tags.items()]
    if _branches.is_conditional(pipeline):
        _wrap_conditional(props, pipeline)
    return props


def _chain(when: When) -> _cfn_conditions.Chain:
    """*when* as :func:`pipeweaver._cfn_conditions.wrap` takes it."""
    return tuple((w.condition, w.value) if w.inside is None else (w.condition, w.value, w.inside) for w in when.chain())


def _when(chain: _cfn_conditions.Chain) -> When:
    """The inverse of :func:`_chain`."""
    when = None
    for side in chain:
        when = When(side[0], side[1], inside=side[2] if len(side) > 2 else None, under=when)
    assert when is not None
    return when


def _wrap_conditional(props: dict[str, Any], pipeline: Pipeline) -> None:
    """Write each element with a ``when`` back as the ``Fn::If`` list item it was imported from."""

    def whens(items: Any) -> list[_cfn_conditions.Chain | None]:
        return [None if i.when is None else _chain(i.when) for i in items]

    for stage, rendered in zip(pipeline.stages, props["Stages"], strict=True):
        for action, out in zip(stage.actions, rendered["Actions"], strict=True):
            for member, artifacts in (("InputArtifacts", action.inputs), ("OutputArtifacts", action.outputs)):
                if member in out:
                    out[member] = _cfn_conditions.wrap(out[member], whens(artifacts))
        rendered["Actions"] = _cfn_conditions.wrap(rendered["Actions"], whens(stage.actions))
    props["Stages"] = _cfn_conditions.wrap(props["Stages"], whens(pipeline.stages))
    for member, items in (("Variables", pipeline.variables), ("Triggers", pipeline.triggers)):
        if member in props:
            props[member] = _cfn_conditions.wrap(props[member], whens(items))
    if "DisableInboundStageTransitions" in props:
        held = pipeline.disabled_transitions_when
        props["DisableInboundStageTransitions"] = _cfn_conditions.wrap(
            props["DisableInboundStageTransitions"],
            [None if k not in held else _chain(held[k]) for k in pipeline.disabled_transitions],
        )
    if "Tags" in props:
        when = pipeline.tags_when
        props["Tags"] = _cfn_conditions.wrap(
            props["Tags"],
            [None if k not in when else _chain(when[k]) for k in pipeline.tags],
        )


def pipeline_properties(pipeline: Pipeline) -> dict[str, Any]:
    """
    The ``Properties`` of the ``AWS::CodePipeline::Pipeline`` resource for *pipeline*.

    Raises:
        SynthesisError: for settings CloudFormation cannot express, naming the API path.

    .. versionadded:: 0.1.0
    """
    return _properties(pipeline)


def to_cloudformation(
    pipeline: Pipeline,
    *,
    logical_id: str = "Pipeline",
    artifact_bucket: bool = False,
    kms_key: bool = False,
    pipeline_role: bool = False,
    parameters: Mapping[str, Mapping[str, Any]] | None = None,
    description: str | None = None,
    events: EventWiring | None = None,
) -> dict[str, Any]:
    """
    Render *pipeline* as a CloudFormation template (a dict; dump it as JSON or YAML).

    Args:
        pipeline: The model. Expressions (from imported templates) are written back as the
            intrinsic functions they hold.
        logical_id: Logical id of the pipeline resource.
        artifact_bucket: Also create the artifact bucket (versioned, KMS-encrypted, public
            access blocked, TLS-only policy) and point the pipeline's artifact store at it.
            Needs a single-region pipeline.
        kms_key: Also create a KMS key (rotation on) that encrypts the artifacts.
        pipeline_role: Also create a least-privilege pipeline role whose permissions follow
            from the action providers used, and point the pipeline at it.
        parameters: Extra template ``Parameters``. Names the pipeline refers to with ``Ref``
            or ``Fn::Sub`` that the template does not define are declared as ``String``
            parameters automatically.
        description: Template ``Description``.
        events: Event wiring (EventBridge rules, schedule, GitHub webhook, notifications);
            see :func:`pipeweaver.synth.add_event_wiring`.

    Returns:
        The template, with ``Outputs`` ``PipelineName`` and ``PipelineArn`` (and the
        bucket, key and role when created).

    Raises:
        SynthesisError: for settings CloudFormation cannot express (an ``onFailure`` result
            other than ROLLBACK/RETRY, a rule ``timeoutInMinutes``), naming the API path.

    .. versionadded:: 0.1.0
    """
    if artifact_bucket and pipeline.artifact_store is None:
        raise SynthesisError(
            "artifact_bucket=True creates one bucket, but this pipeline uses per-region artifactStores; "
            "create the regional buckets yourself",
            path="artifactStores",
        )
    found: set[str] = set()
    props = _properties(pipeline, found)
    template: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": description or f"CodePipeline pipeline {_describe(pipeline.name)} (generated by pipeweaver)",
        "Parameters": {},
        "Resources": {logical_id: {"Type": _cfn.PIPELINE_TYPE, "Properties": props}},
        "Outputs": {
            "PipelineName": {"Description": "Name of the pipeline", "Value": {"Ref": logical_id}},
            "PipelineArn": {
                "Description": "ARN of the pipeline",
                "Value": {"Fn::Sub": _PIPELINE_ARN + f"${{{logical_id}}}"},
            },
        },
    }
    steps: list[TemplateExtension] = []
    if kms_key:
        steps.append(add_kms_key)
    if artifact_bucket:
        steps.append(add_artifact_bucket)
    if pipeline_role:
        steps.append(add_pipeline_role)
    if events is not None:

        def wire(t: dict[str, Any], p: Pipeline, lid: str) -> None:
            add_event_wiring(t, p, lid, events)

        steps.append(wire)
    for step in steps:
        step(template, pipeline, logical_id)
    spec = pipeline.template_conditions
    if spec is not None:
        # the conditions the pipeline's Fn::If functions name, and the parameters they read
        template["Parameters"].update(dict(spec.parameters))
        ordered = list(template)
        ordered.insert(ordered.index("Resources"), "Conditions")
        template = {k: dict(spec.conditions) if k == "Conditions" else template[k] for k in ordered}
    template["Parameters"].update({k: dict(v) for k, v in (parameters or {}).items()})
    _declare_parameters(template, props["Stages"], found)
    if not template["Parameters"]:
        del template["Parameters"]
    return template


def _describe(name: str | Expression) -> str:
    if isinstance(name, str):
        return name
    if name.raw == _cfn.NO_NAME:
        return "(named by CloudFormation)"
    # A template's Description is literal text: a ${Var} there is never substituted, and
    # cfn-lint reports it (E1029), so a name built by Fn::Sub is described by its function.
    return f"(named by {name.function})" if "${" in name.raw_json else str(name)


_SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")


def _referenced(value: Any, found: set[str], skip: object = None) -> None:
    """Add to *found* the names that ``Ref`` and ``Fn::Sub`` refer to inside *value*, except inside *skip*."""
    # Only mappings and lists hold references; strings and numbers, most of a template's
    # nodes, are not visited.
    kind = type(value)
    if kind is dict or (kind is not list and isinstance(value, Mapping)):
        if len(value) == 1:
            if "Ref" in value and isinstance(value["Ref"], str):
                found.add(value["Ref"])
            elif "Fn::Sub" in value:
                body = value["Fn::Sub"]
                text, names = (body, {}) if isinstance(body, str) else (body[0], body[1] if len(body) > 1 else {})
                if isinstance(text, str):
                    found.update(n for n in _SUB_VARIABLE.findall(text) if "." not in n and n not in names)
        for v in value.values():
            if type(v) is not str and type(v) is not int and v is not skip:
                _referenced(v, found, skip)
    elif kind is list or isinstance(value, list):
        for v in value:
            if type(v) is not str and v is not skip:
                _referenced(v, found, skip)


def _declare_parameters(template: dict[str, Any], stages: list[dict[str, Any]], found: set[str]) -> None:
    """
    Declare as ``String`` parameters the names the template refers to that it does not define.

    The names are those of every ``Ref`` and ``Fn::Sub`` in ``Resources``, read once the
    template is complete (the template steps, event wiring among them, may add references).
    *found* holds what the pipeline's *stages* refer to outside configuration maps, noted
    while they were rendered (see :func:`_properties`), so the walk passes the stages by
    (they are most of a template's nodes) and reads only their configuration maps, which
    template steps may have changed since, and their conditions (rare, read whole).
    tests/synth/test_cloudformation_render.py checks the result against a walk of every node.
    """
    for stage in _cfn_conditions.objects(stages):
        for action in _cfn_conditions.objects(stage["Actions"]):
            config = action.get("Configuration")
            if config:
                _referenced(config, found)
        for conditions in ("BeforeEntry", "OnSuccess", "OnFailure"):
            if conditions in stage:
                _referenced(stage[conditions], found)
    resources = template["Resources"]
    _referenced(resources, found, skip=stages)
    known = set(resources) | set(template["Parameters"])
    for name in sorted(found - known):
        if not name.startswith("AWS::"):
            template["Parameters"][name] = {
                "Type": "String",
                "Description": f"Value of {name} (referenced by the pipeline)",
            }


def _resource(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    resource: dict[str, Any] = template["Resources"][logical_id]
    return resource


def add_kms_key(template: dict[str, Any], pipeline: Pipeline, logical_id: str) -> None:
    """
    Add a symmetric KMS key (rotation on, administered by the account) for the artifacts.

    The pipeline's artifact store (single-region) is set to encrypt with it.

    .. versionadded:: 0.1.0
    """
    template["Resources"][KEY_ID] = {
        "Type": "AWS::KMS::Key",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "Description": "Encrypts the pipeline's artifacts",
            "EnableKeyRotation": True,
            "KeyPolicy": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        # The account administers the key through IAM; the pipeline role's own
                        # policy then grants exactly the use it needs.
                        "Sid": "AccountAdministersKeyThroughIam",
                        "Effect": "Allow",
                        "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
                        "Action": "kms:*",
                        "Resource": "*",
                    }
                ],
            },
        },
    }
    store = _resource(template, logical_id)["Properties"].get("ArtifactStore")
    if store is not None:
        store["EncryptionKey"] = {"Id": {"Fn::GetAtt": [KEY_ID, "Arn"]}, "Type": "KMS"}
    template["Outputs"]["ArtifactKeyArn"] = {
        "Description": "ARN of the KMS key that encrypts the artifacts",
        "Value": {"Fn::GetAtt": [KEY_ID, "Arn"]},
    }


def add_artifact_bucket(template: dict[str, Any], pipeline: Pipeline, logical_id: str) -> None:
    """
    Add a versioned, KMS-encrypted, public-access-blocked, TLS-only artifact bucket.

    Uses the key added by :func:`add_kms_key` when present, otherwise the AWS-managed
    ``aws/s3`` key. The pipeline's artifact store is pointed at the bucket.

    .. versionadded:: 0.1.0
    """
    encryption: dict[str, Any] = {"SSEAlgorithm": "aws:kms"}
    if KEY_ID in template["Resources"]:
        encryption["KMSMasterKeyID"] = {"Fn::GetAtt": [KEY_ID, "Arn"]}
    template["Resources"][BUCKET_ID] = {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "VersioningConfiguration": {"Status": "Enabled"},
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": encryption, "BucketKeyEnabled": True}
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        },
    }
    template["Resources"][BUCKET_POLICY_ID] = {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": {"Ref": BUCKET_ID},
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [
                            {"Fn::GetAtt": [BUCKET_ID, "Arn"]},
                            {"Fn::Sub": f"${{{BUCKET_ID}.Arn}}/*"},
                        ],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            },
        },
    }
    store = _resource(template, logical_id)["Properties"]["ArtifactStore"]
    store["Location"] = {"Ref": BUCKET_ID}
    template["Outputs"]["ArtifactBucketName"] = {
        "Description": "Bucket that holds the pipeline's artifacts",
        "Value": {"Ref": BUCKET_ID},
    }


# -- the pipeline role ---------------------------------------------------------------------------


def _arn(service: str, resource: Any, *, region: Any = None, account: bool = True, partition_only: bool = False) -> Any:
    """An ARN as ``Fn::Sub`` text when every part is plain text, else as ``Fn::Join``."""
    region_part: Any = "" if partition_only else (region if region is not None else {"Ref": "AWS::Region"})
    account_part: Any = {"Ref": "AWS::AccountId"} if account else ""
    parts: list[Any] = [
        "arn:",
        {"Ref": "AWS::Partition"},
        f":{service}:",
        region_part,
        ":",
        account_part,
        ":",
        resource,
    ]
    flat: list[Any] = []
    for part in parts:
        if isinstance(part, list):
            flat.extend(part)
        else:
            flat.append(part)
    if all(
        isinstance(p, str) or p in ({"Ref": "AWS::Partition"}, {"Ref": "AWS::Region"}, {"Ref": "AWS::AccountId"})
        for p in flat
    ):
        text = "".join(p.replace("${", "${!") if isinstance(p, str) else "${" + str(p["Ref"]) + "}" for p in flat)
        return {"Fn::Sub": text}
    merged: list[Any] = []
    for part in flat:
        if merged and isinstance(part, str) and isinstance(merged[-1], str):
            merged[-1] += part
        elif part != "":
            merged.append(part)
    return {"Fn::Join": ["", merged]}


def _value(action: Action, key: str) -> Any:
    value = action.configuration.get(key)
    if isinstance(value, Expression):
        return value.raw
    return value


def _is_arn(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("arn:")


def _named(value: Any, service: str, kind: str, region: Any) -> Any:
    """An ARN given as such, or the ARN of the resource *kind*/*value* in this account."""
    if value is None:
        return None
    if _is_arn(value):
        return value
    return _arn(service, [kind, value], region=region)


def _resource_of(resource: _catalog.Resource, action: Action, pipeline_name: Any, region: Any) -> Any:
    """The CloudFormation value of one catalog resource, or ``None`` when a setting it names is unset."""
    if isinstance(resource, str):
        return resource
    if isinstance(resource, _catalog.Setting):
        value = _value(action, resource.key)
        return resource.default if value is None else value
    if isinstance(resource, _catalog.Named):
        return _named(_value(action, resource.key), resource.service, resource.kind, region)
    parts: list[Any] = []
    for part in resource.parts:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, _catalog.Setting):
            value = _resource_of(part, action, pipeline_name, region)
            if value is None:
                return None
            parts.append(value)
        else:
            parts.append(pipeline_name)
    if not resource.regional:
        return _arn(resource.service, parts, account=resource.account, partition_only=True)
    return _arn(resource.service, parts, region=region, account=resource.account)


def _statements_for(action: Action, pipeline_name: Any) -> tuple[list[dict[str, Any]], bool]:
    """IAM statements *action* needs from the pipeline role (its catalog entry's grants), and
    whether pipeweaver knows what its type needs."""
    spec = _catalog.lookup(action.action_type)
    if spec is None:
        # Uncatalogued custom and third-party types run outside the pipeline role (job workers).
        return [], action.owner.value != "AWS"
    if spec.iam is None:
        return [], False
    region: Any = _raw(action.region) if action.region is not None else None
    out: list[dict[str, Any]] = []
    for grant in spec.iam:
        if any(_value(action, key) is None for key in grant.when):
            continue
        resources = [
            r for r in (_resource_of(res, action, pipeline_name, region) for res in grant.resources) if r is not None
        ]
        if not resources:
            continue
        statement: dict[str, Any] = {"Effect": "Allow", "Action": sorted(grant.actions), "Resource": resources}
        if grant.passed_to is not None:
            statement["Condition"] = {"StringEquals": {"iam:PassedToService": grant.passed_to}}
        out.append(statement)
    return out, True


def _store_statements(template: dict[str, Any], pipeline: Pipeline, props: Mapping[str, Any]) -> list[dict[str, Any]]:
    stores: list[Mapping[str, Any]] = []
    if props.get("ArtifactStore") is not None:
        stores.append(props["ArtifactStore"])
    stores.extend(item["ArtifactStore"] for item in props.get("ArtifactStores") or ())
    buckets: list[Any] = []
    objects: list[Any] = []
    keys: list[Any] = []
    for store in stores:
        location = store["Location"]
        if location == {"Ref": BUCKET_ID}:
            buckets.append({"Fn::GetAtt": [BUCKET_ID, "Arn"]})
            objects.append({"Fn::Sub": f"${{{BUCKET_ID}.Arn}}/*"})
        else:
            buckets.append(_arn("s3", location, account=False, partition_only=True))
            objects.append(_arn("s3", [location, "/*"], account=False, partition_only=True))
        key = (store.get("EncryptionKey") or {}).get("Id")
        if key is not None:
            keys.append(key if not isinstance(key, str) or key.startswith("arn:") else _arn("kms", ["key/", key]))
    out: list[dict[str, Any]] = [
        {"Effect": "Allow", "Action": ["s3:GetBucketLocation", "s3:GetBucketVersioning"], "Resource": buckets},
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectAcl"],
            "Resource": objects,
        },
    ]
    if keys:
        out.append(
            {
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
                "Resource": keys,
            }
        )
    return out


def add_pipeline_role(template: dict[str, Any], pipeline: Pipeline, logical_id: str) -> None:
    """
    Add a least-privilege pipeline role and point the pipeline at it.

    Trust is limited to ``codepipeline.amazonaws.com`` acting for this account; permissions
    follow from the artifact stores and the action providers used (no ``Action: "*"``;
    ``iam:PassRole`` only with an ``iam:PassedToService`` condition). Providers without a
    known permission set are listed in the template's ``Metadata`` so that nothing is
    granted silently.

    .. versionadded:: 0.1.0
    """
    props = _resource(template, logical_id)["Properties"]
    statements = _store_statements(template, pipeline, props)
    unknown: list[str] = []
    assumed: list[Any] = []
    for _stage, action in pipeline.actions():
        # The log group name of a Commands action is the pipeline name; a Ref to the pipeline
        # itself would be circular, so it falls back to every pipeline log group then.
        pipeline_name = props.get("Name", "*")
        found, known = _statements_for(action, pipeline_name)
        if not known:
            unknown.append(str(action.action_type))
        for statement in found:
            if statement not in statements:
                statements.append(statement)
        if action.role_arn is not None:
            role = _raw(action.role_arn)
            if role not in assumed:
                assumed.append(role)
    if assumed:
        statements.append({"Effect": "Allow", "Action": ["sts:AssumeRole"], "Resource": assumed})
    template["Resources"][ROLE_ID] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": "Service role of the pipeline (least privilege, generated by pipeweaver)",
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "codepipeline.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                    }
                ],
            },
            "Policies": [
                {
                    "PolicyName": "pipeline",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                }
            ],
        },
    }
    props["RoleArn"] = {"Fn::GetAtt": [ROLE_ID, "Arn"]}
    if unknown:
        template.setdefault("Metadata", {})["pipeweaver"] = {
            "UngrantedActionTypes": sorted(set(unknown)),
            "Note": "pipeweaver knows no least-privilege permissions for these action types; "
            "add what they need to PipelineRole",
        }
    template["Outputs"]["PipelineRoleArn"] = {
        "Description": "ARN of the pipeline's service role",
        "Value": {"Fn::GetAtt": [ROLE_ID, "Arn"]},
    }


# ---------------------------------------------------------------------------------------------
# template -> model


def _expressions(value: Any) -> Any:
    if is_intrinsic(value):
        return Expression.of(value)
    if isinstance(value, Mapping):
        return {k: _expressions(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expressions(v) for v in value]
    return value


def from_cloudformation(
    template: str | bytes | Mapping[str, Any],
    logical_id: str | None = None,
    *,
    parameters: Mapping[str, str] | None = None,
) -> Pipeline:
    """
    Build a :class:`~pipeweaver.Pipeline` from a CloudFormation template.

    Args:
        template: JSON or YAML text (short-form intrinsics such as ``!Ref`` included) or a
            parsed template.
        logical_id: Which pipeline resource to read; needed when there are several.
        parameters: Values of template parameters (the others take their ``Default``): the
            template's ``Conditions`` are evaluated with them and each ``Fn::If`` in the
            pipeline becomes the branch it chooses (``AWS::NoValue`` leaves the stage, action,
            artifact, tag or property out), as CloudFormation does on deployment. Without
            them every branch is kept: an ``Fn::If`` item of the stages, actions, input or
            output artifacts, triggers, variables or tags becomes its element with a ``when``
            (:class:`~pipeweaver.When`; the pipeline carries the conditions as
            :class:`~pipeweaver.TemplateConditions`; ``Fn::If`` inside ``Fn::If`` gives a
            ``When`` with ``under``), an element whose property is chosen by ``Fn::If``
            between objects or lists becomes the element once per branch (``When`` with
            ``inside``), an ``Fn::If`` where text may stand or in ``PipelineType`` stays an
            expression, and other forms are refused, naming the condition.

    Intrinsic functions become :class:`~pipeweaver.Expression` values, written back
    unchanged by :func:`to_cloudformation`; give them values with ``resolve=`` (see
    :func:`parameter_resolver`) before :func:`~pipeweaver.synth.to_codepipeline`.
    CloudFormation-tolerated forms are normalised as listed in the synthesis docs.

    Raises:
        LoadError: for unsafe or unparsable text, no or several pipelines without
            *logical_id*, and structural problems, each with its template path; with
            *parameters*, for a condition whose value cannot be computed, naming it.

    .. versionadded:: 0.1.0
    """
    data = _cfn.load_template(template)
    places: dict[_cfn_conditions.Place, _cfn_conditions.Chain] | None = None
    if parameters is not None:
        data = _choose_branches(data, logical_id, parameters)
    else:
        data, places = _keep_branches(data, logical_id)
    found = _cfn.declaration_of(data, logical_id)
    if found.issues:
        raise LoadError(
            f"pipeline {found.logical_id} is not a valid pipeline resource ({len(found.issues)} problem(s))",
            found.issues,
        )
    declaration = _expressions(found.declaration)
    pipeline = build_pipeline(
        declaration,
        tags=_expressions(found.tags),
        disabled_transitions=_expressions(found.disabled_transitions),
        restart_execution_on_update=found.restart_execution_on_update,
    )
    if places is not None:  # None: no Fn::If left to keep (or the branches were chosen)
        pipeline = _conditional(pipeline, data, data["Resources"][found.logical_id]["Properties"], places)
    if isinstance(pipeline.name, Expression) and pipeline.name.raw == _cfn.NO_NAME:
        # CloudFormation names such a pipeline at deploy time; until then run, synth and history
        # output show it by its logical id, not as {"Ref":"AWS::NoValue"}. The value is unchanged.
        named = Expression(pipeline.name.raw_json, label=found.logical_id)
        pipeline = attrs.evolve(pipeline, name=named)
    return pipeline


def _keep_branches(
    template: dict[str, Any], logical_id: str | None
) -> tuple[dict[str, Any], dict[_cfn_conditions.Place, _cfn_conditions.Chain] | None]:
    """
    *template* with the pipeline's conditional list items lifted (:func:`pipeweaver._cfn_conditions.lift`),
    and where they were; ``None`` for a pipeline without ``Fn::If``.
    """
    ids = _cfn.find_pipelines(template)
    chosen = logical_id if logical_id is not None else ids[0] if len(ids) == 1 else None
    if chosen not in ids:
        return template, None  # no pipeline or several: the declaration says which, with its issues
    resource = template["Resources"][chosen]
    properties = resource.get("Properties") if isinstance(resource, Mapping) else None
    if not isinstance(properties, Mapping) or not _cfn_conditions.has_fn_if(properties):
        return template, None
    lifted, places = _cfn_conditions.lift(properties)
    return {**template, "Resources": {**template["Resources"], chosen: {**resource, "Properties": lifted}}}, places


def _conditional(
    pipeline: Pipeline,
    template: Mapping[str, Any],
    properties: Mapping[str, Any],
    places: Mapping[_cfn_conditions.Place, _cfn_conditions.Chain],
) -> Pipeline:
    """*pipeline* with the ``when`` of each lifted item, and the conditions the pipeline uses."""

    def when(*place: str | int) -> When | None:
        found = places.get(place)
        return None if found is None else _when(found)

    def marked(items: tuple[Any, ...], place: tuple[str | int, ...], inner: Any = None) -> list[Any]:
        out = []
        for i, item in enumerate(items):
            if inner is not None:
                item = inner(item, (*place, i))
            w = when(*place, i)
            out.append(item if w is None else attrs.evolve(item, when=w))
        return out

    def action(a: Action, place: tuple[str | int, ...]) -> Action:
        if not any(p[: len(place)] == place for p in places):
            return a
        return attrs.evolve(
            a,
            inputs=marked(a.inputs, (*place, "InputArtifacts")),
            outputs=marked(a.outputs, (*place, "OutputArtifacts")),
        )

    def stage(s: Stage, place: tuple[str | int, ...]) -> Stage:
        return attrs.evolve(s, actions=marked(s.actions, (*place, "Actions"), action))

    tags = properties.get("Tags")
    keys = [t.get("Key") if isinstance(t, Mapping) else None for t in tags] if isinstance(tags, list) else []
    used = [side[0] for chain in places.values() for side in chain]
    held = list(pipeline.disabled_transitions)
    names = [*dict.fromkeys(used + _cfn_conditions.conditions_used(properties))]
    conditions, read = _cfn_conditions.closure(template, names)
    return attrs.evolve(
        pipeline,
        stages=marked(pipeline.stages, ("Stages",), stage),
        triggers=marked(pipeline.triggers, ("Triggers",)),
        variables=marked(pipeline.variables, ("Variables",)),
        tags_when={str(keys[p[1]]): _when(w) for p, w in places.items() if p[0] == "Tags" and isinstance(p[1], int)},
        disabled_transitions_when={
            held[p[1]]: _when(w)
            for p, w in places.items()
            if p[0] == "DisableInboundStageTransitions" and isinstance(p[1], int) and p[1] < len(held)
        },
        template_conditions=TemplateConditions(conditions=conditions, parameters=read) if conditions else None,
    )


def _choose_branches(template: dict[str, Any], logical_id: str | None, values: Mapping[str, str]) -> dict[str, Any]:
    """*template* with the pipeline's ``Fn::If`` functions replaced by the branches *values* choose."""
    chosen = _cfn.declaration_of(template, logical_id).logical_id  # raises for no pipeline or several
    resource = template["Resources"][chosen]
    properties = resource.get("Properties")
    names = _cfn_conditions.conditions_used(properties)
    if not names:
        return template
    try:
        truth = _cfn_conditions.evaluate(template, names, values)
    except _cfn_conditions.ConditionUnknown as exc:
        raise LoadError(
            f"the value of condition {exc.condition} cannot be computed: {exc.reason}",
            [
                Issue(
                    code="PW002",
                    severity="error",
                    path=join_key("Conditions", exc.condition),
                    message=f"condition {exc.condition!r}: {exc.reason}",
                    hint="give the parameters it uses in parameters= (CLI: --parameter NAME=VALUE)",
                )
            ],
        ) from None
    selected, _ = _cfn_conditions.select(properties, truth)
    return {**template, "Resources": {**template["Resources"], chosen: {**resource, "Properties": selected}}}


def parameter_resolver(values: Mapping[str, str]) -> ExpressionResolver:
    """
    A ``resolve=`` for :func:`~pipeweaver.synth.to_codepipeline` that fills in parameters.

    Resolves ``Ref`` to a name in *values* and ``Fn::Sub`` whose ``${Name}`` variables are
    all in *values* (or in its own variable map). Anything else raises
    :class:`~pipeweaver.errors.SynthesisError` naming the path.

    .. versionadded:: 0.1.0
    """

    def resolve(expr: Expression, path: str) -> Any:
        raw = expr.raw
        if isinstance(raw, Mapping) and set(raw) == {"Ref"} and raw["Ref"] in values:
            return values[raw["Ref"]]
        if isinstance(raw, Mapping) and set(raw) == {"Fn::Sub"}:
            body = raw["Fn::Sub"]
            text, local = (body, {}) if isinstance(body, str) else (body[0], body[1] if len(body) > 1 else {})
            scope = {**values, **{k: v for k, v in local.items() if isinstance(v, str)}}
            for k, v in local.items():  # {Dir: !Ref App}, the common form of a Sub variable map
                if isinstance(v, Mapping) and set(v) == {"Ref"} and v["Ref"] in values:
                    scope[k] = values[v["Ref"]]
            missing = [n for n in _SUB_VARIABLE.findall(text) if n not in scope]
            if isinstance(text, str) and not missing:
                return _SUB_VARIABLE.sub(lambda m: scope[m[1]], text).replace("${!", "${")
            raise SynthesisError(f"cannot resolve {expr.raw_json}: no value for {', '.join(missing)}", path=path)
        if isinstance(raw, Mapping) and set(raw) == {"Fn::If"} and isinstance(raw["Fn::If"], list) and raw["Fn::If"]:
            raise SynthesisError(
                f"value is chosen by condition {raw['Fn::If'][0]} ({expr.raw_json}); import the template with "
                "from_cloudformation(..., parameters={...}) to choose the branch",
                path=path,
            )
        raise SynthesisError(
            f"value is the CloudFormation expression {expr.raw_json}; give its parameters in resolve=",
            path=path,
        )

    return resolve


def resolve_parameters(pipeline: Pipeline, values: Mapping[str, str]) -> Pipeline:
    """
    Return *pipeline* with the CloudFormation parameters in *values* filled in.

    Every :class:`~pipeweaver.Expression` that :func:`parameter_resolver` can resolve with
    *values* (a ``Ref`` to one of them, an ``Fn::Sub`` whose variables are all known)
    becomes its string; every other expression (``Fn::GetAtt``, ``Fn::If``, a ``Ref`` to a
    parameter not in *values*) is kept as it was. Conditional elements (a ``when``) are
    chosen by the conditions those values (and the parameters' defaults) give, or refused
    with :class:`~pipeweaver.errors.SynthesisError` naming the condition. This is how an imported template is given
    the values it would get on deployment, e.g. to run it locally
    (``pipeweaver run template.yaml --parameter Branch=main``).

    .. versionadded:: 0.1.0
    """
    strict = parameter_resolver(values)
    spec = pipeline.template_conditions
    # conditional elements chosen (or refused, naming the condition), Fn::If values given their branch
    pipeline, conditional = resolve_conditions(pipeline, strict)

    def lenient(expr: Expression, path: str) -> Any:
        try:
            return conditional(expr, path)
        except SynthesisError:
            return expr.raw  # turned back into the same Expression below

    def text(value: Any) -> Any:
        return lenient(value, "") if isinstance(value, Expression) else value

    def key(value: Any) -> Any:
        # a tag key or transition's stage named by a function: its text, or the Expression kept
        resolved = text(value)
        return value if is_intrinsic(resolved) else resolved

    declaration = _expressions(to_codepipeline(pipeline, resolve=lenient))
    resolved = build_pipeline(
        declaration,
        tags=_expressions({key(k): text(v) for k, v in pipeline.tags.items()}),
        disabled_transitions=_expressions({key(k): text(v) for k, v in pipeline.disabled_transitions.items()}),
        restart_execution_on_update=pipeline.restart_execution_on_update,
    )
    if spec is not None and _cfn_conditions.has_fn_if(_raw(declaration)):
        # an Fn::If left (its condition has no value yet) still needs the conditions it names
        resolved = attrs.evolve(resolved, template_conditions=spec)
    return resolved
