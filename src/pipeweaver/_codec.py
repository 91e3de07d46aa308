"""CodePipeline API JSON <-> model: the lossless codec every loader and renderer shares.

Layer: model (the wire format of the model itself). Imports the model, the shape walker and
errors. :mod:`pipeweaver.synth` re-exports these functions as its public API; validation uses
the same loader so that a path means the same thing whichever way a pipeline arrived.

Round trip: ``to_codepipeline(from_codepipeline(d)) == d`` for every structurally valid
declaration, with only AWS's own defaults made explicit (``runOrder: 1``, empty
``configuration``, ``inputArtifacts`` and ``outputArtifacts``) and the server-assigned
``version`` and ``metadata`` dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Final

from . import _names
from ._model import (
    Action,
    ActionType,
    Artifact,
    ArtifactStore,
    BeforeEntryConditions,
    Blocker,
    Condition,
    EncryptionKey,
    EnvironmentVariable,
    Expression,
    FailureConditions,
    GitFilter,
    GitPullRequestFilter,
    GitPushFilter,
    Pipeline,
    Rule,
    RuleType,
    Stage,
    SuccessConditions,
    Trigger,
    Variable,
)
from ._shapes import check_shape, join_key
from .errors import Issue, LoadError, SynthesisError

__all__ = [
    "ExpressionResolver",
    "build_pipeline",
    "dumps",
    "from_codepipeline",
    "is_intrinsic",
    "loads",
    "unwrap",
    "to_codepipeline",
]

#: Called with an :class:`Expression` and the path where it stands; returns the string to emit.
ExpressionResolver = Callable[[Expression, str], Any]

_INTRINSICS = frozenset(
    {
        "Ref",
        "Condition",
        "Fn::Base64",
        "Fn::Cidr",
        "Fn::FindInMap",
        "Fn::GetAtt",
        "Fn::GetAZs",
        "Fn::If",
        "Fn::ImportValue",
        "Fn::Join",
        "Fn::Length",
        "Fn::Select",
        "Fn::Split",
        "Fn::Sub",
        "Fn::ToJsonString",
        "Fn::Transform",
        "Fn::And",
        "Fn::Equals",
        "Fn::Not",
        "Fn::Or",
    }
)


def is_intrinsic(value: object) -> bool:
    """Whether *value* is a CloudFormation intrinsic function (a one-key ``Ref``/``Fn::`` map)."""
    if type(value) is str:  # the common case, ahead of the slow ABC check (bench/run.py synth)
        return False
    return isinstance(value, Mapping) and len(value) == 1 and next(iter(value)) in _INTRINSICS


# ---------------------------------------------------------------------------------------------
# model -> JSON


#: What a template pipeline without ``Name`` holds as its name (CloudFormation then generates one).
NO_NAME: Final = {"Ref": "AWS::NoValue"}


def _fail_on_expression(expr: Expression, path: str) -> Any:
    if path == "name" and expr.raw == NO_NAME:
        # The importer's stand-in for a template without Name: the user never wrote AWS::NoValue.
        raise SynthesisError(
            "the template gives the pipeline no Name (CloudFormation generates one at deploy time); set a name, "
            "or pass resolve= to supply one",
            path=path,
        )
    raise SynthesisError(
        f"value is the CloudFormation expression {expr.raw_json}, which CodePipeline JSON cannot hold",
        path=path,
    )


def to_codepipeline(pipeline: Pipeline, *, resolve: ExpressionResolver | None = None) -> dict[str, Any]:
    """
    Render *pipeline* as the bare declaration ``create-pipeline``/``update-pipeline`` take.

    Args:
        pipeline: The model.
        resolve: Turns :class:`~pipeweaver.Expression` values (from imported CloudFormation
            templates) into strings; by default an expression raises.

    Raises:
        SynthesisError: naming the path of a value that cannot be rendered.
    """
    r = resolve or _fail_on_expression

    def text(value: str | Expression, path: str) -> Any:
        return r(value, path) if isinstance(value, Expression) else value

    out: dict[str, Any] = {"name": text(pipeline.name, "name"), "roleArn": text(pipeline.role_arn, "roleArn")}
    if pipeline.artifact_store is not None:
        out["artifactStore"] = _store(pipeline.artifact_store, "artifactStore", text)
    if pipeline.artifact_stores is not None:
        out["artifactStores"] = {
            region: _store(store, join_key("artifactStores", region), text)
            for region, store in pipeline.artifact_stores.items()
        }
    out["stages"] = [_stage(stage, f"stages[{i}]", text) for i, stage in enumerate(pipeline.stages)]
    if pipeline.execution_mode is not None:
        out["executionMode"] = pipeline.execution_mode.value
    if pipeline.pipeline_type is not None:
        out["pipelineType"] = pipeline.pipeline_type.value
    if pipeline.variables:
        out["variables"] = [_variable(v, f"variables[{i}]", text) for i, v in enumerate(pipeline.variables)]
    if pipeline.triggers:
        out["triggers"] = [_trigger(t) for t in pipeline.triggers]
    return out


Text = Callable[[Any, str], Any]


def _store(store: ArtifactStore, path: str, text: Text) -> dict[str, Any]:
    out: dict[str, Any] = {"type": store.type, "location": text(store.location, f"{path}.location")}
    if store.encryption_key is not None:
        out["encryptionKey"] = {
            "id": text(store.encryption_key.id, f"{path}.encryptionKey.id"),
            "type": store.encryption_key.type,
        }
    return out


def _config(config: Mapping[str, Any], path: str, text: Text) -> dict[str, Any]:
    # Paths are built only for values that are not plain strings (the rare expression).
    return {key: value if type(value) is str else text(value, join_key(path, key)) for key, value in config.items()}


def _stage(stage: Stage, path: str, text: Text) -> dict[str, Any]:
    out: dict[str, Any] = {"name": text(stage.name, f"{path}.name")}
    if stage.blockers:
        out["blockers"] = [{"name": b.name, "type": b.type} for b in stage.blockers]
    out["actions"] = [_action(a, path, i, text) for i, a in enumerate(stage.actions)]
    if stage.on_failure is not None:
        f = stage.on_failure
        failure: dict[str, Any] = {}
        if f.result is not None:
            failure["result"] = f.result.value
        if f.retry_mode is not None or f.has_retry_configuration:
            failure["retryConfiguration"] = {} if f.retry_mode is None else {"retryMode": f.retry_mode.value}
        if f.conditions:
            failure["conditions"] = _conditions(f.conditions, f"{path}.onFailure.conditions", text)
        out["onFailure"] = failure
    if stage.on_success is not None:
        out["onSuccess"] = {
            "conditions": _conditions(stage.on_success.conditions, f"{path}.onSuccess.conditions", text)
        }
    if stage.before_entry is not None:
        out["beforeEntry"] = {
            "conditions": _conditions(stage.before_entry.conditions, f"{path}.beforeEntry.conditions", text)
        }
    return out


def _conditions(conditions: tuple[Condition, ...], path: str, text: Text) -> list[dict[str, Any]]:
    out = []
    for i, c in enumerate(conditions):
        item: dict[str, Any] = {}
        if c.result is not None:
            item["result"] = c.result.value
        if c.rules:
            item["rules"] = [_rule(rule, f"{path}[{i}].rules[{j}]", text) for j, rule in enumerate(c.rules)]
        out.append(item)
    return out


def _rule(rule: Rule, path: str, text: Text) -> dict[str, Any]:
    type_id: dict[str, Any] = {"category": rule.rule_type.category}
    if rule.rule_type.owner is not None:
        type_id["owner"] = rule.rule_type.owner
    type_id["provider"] = rule.rule_type.provider
    if rule.rule_type.version is not None:
        type_id["version"] = rule.rule_type.version
    out: dict[str, Any] = {"name": rule.name, "ruleTypeId": type_id}
    if rule.configuration:
        out["configuration"] = _config(rule.configuration, f"{path}.configuration", text)
    if rule.commands:
        out["commands"] = list(rule.commands)
    if rule.inputs:
        out["inputArtifacts"] = [{"name": a.name} for a in rule.inputs]
    if rule.role_arn is not None:
        out["roleArn"] = text(rule.role_arn, f"{path}.roleArn")
    if rule.region is not None:
        out["region"] = rule.region
    if rule.timeout_in_minutes is not None:
        out["timeoutInMinutes"] = rule.timeout_in_minutes
    return out


def _action(action: Action, stage_path: str, index: int, text: Text) -> dict[str, Any]:
    # Hot path (every action of every render): plain strings skip ``text`` and the path,
    # which is built only for a value that is not one (an expression to resolve).
    path = ""
    t = action.action_type
    name, provider, version = action.name, t.provider, t.version
    if type(name) is not str:
        path = f"{stage_path}.actions[{index}]"
        name = text(name, f"{path}.name")
    config: dict[str, Any] = {}
    for key, value in action.configuration.items():
        if type(value) is not str:
            path = path or f"{stage_path}.actions[{index}]"
            value = text(value, join_key(f"{path}.configuration", key))
        config[key] = value
    out: dict[str, Any] = {
        "name": name,
        "actionTypeId": {
            "category": t.category._value_,
            "owner": t.owner._value_,
            "provider": provider,
            "version": version,
        },
        "runOrder": action.run_order,
        "configuration": config,
    }
    if action.commands:
        out["commands"] = list(action.commands)
    # loops rather than comprehensions: on Python 3.11 each comprehension is a function call
    outputs: list[dict[str, Any]] = []
    for a in action.outputs:
        outputs.append({"name": a.name, "files": list(a.files)} if a.files else {"name": a.name})
    out["outputArtifacts"] = outputs
    inputs: list[dict[str, Any]] = []
    for a in action.inputs:
        inputs.append({"name": a.name})
    out["inputArtifacts"] = inputs
    if action.output_variables:
        out["outputVariables"] = list(action.output_variables)
    if action.role_arn is not None:
        path = path or f"{stage_path}.actions[{index}]"
        out["roleArn"] = text(action.role_arn, f"{path}.roleArn")
    if action.region is not None:
        path = path or f"{stage_path}.actions[{index}]"
        out["region"] = text(action.region, f"{path}.region")
    if action.namespace is not None:
        out["namespace"] = action.namespace
    if action.timeout_in_minutes is not None:
        out["timeoutInMinutes"] = action.timeout_in_minutes
    if action.environment_variables:
        path = path or f"{stage_path}.actions[{index}]"
        envs = []
        for i, e in enumerate(action.environment_variables):
            item: dict[str, Any] = {"name": e.name, "value": text(e.value, f"{path}.environmentVariables[{i}].value")}
            if e.type is not None:
                item["type"] = e.type.value
            envs.append(item)
        out["environmentVariables"] = envs
    return out


def _variable(v: Variable, path: str, text: Text) -> dict[str, Any]:
    out: dict[str, Any] = {"name": v.name}
    if v.default_value is not None:
        out["defaultValue"] = text(v.default_value, f"{path}.defaultValue")
    if v.description is not None:
        out["description"] = v.description
    return out


def _criteria(f: GitFilter) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if f.includes:
        out["includes"] = list(f.includes)
    if f.excludes:
        out["excludes"] = list(f.excludes)
    return out


def _trigger(t: Trigger) -> dict[str, Any]:
    git: dict[str, Any] = {"sourceActionName": t.source_action_name}
    if t.push:
        pushes = []
        for p in t.push:
            item: dict[str, Any] = {}
            if p.tags is not None:
                item["tags"] = _criteria(p.tags)
            if p.branches is not None:
                item["branches"] = _criteria(p.branches)
            if p.file_paths is not None:
                item["filePaths"] = _criteria(p.file_paths)
            pushes.append(item)
        git["push"] = pushes
    if t.pull_request:
        pulls = []
        for pr in t.pull_request:
            item = {}
            if pr.events:
                item["events"] = [e.value for e in pr.events]
            if pr.branches is not None:
                item["branches"] = _criteria(pr.branches)
            if pr.file_paths is not None:
                item["filePaths"] = _criteria(pr.file_paths)
            pulls.append(item)
        git["pullRequest"] = pulls
    return {"providerType": t.provider_type, "gitConfiguration": git}


# ---------------------------------------------------------------------------------------------
# JSON -> model


def unwrap(data: object) -> tuple[object, str]:
    """
    Return the declaration inside *data* and the path prefix it sits under.

    Accepts the bare declaration or the ``{"pipeline": ..., "metadata": ...}`` envelope that
    ``get-pipeline`` prints (and the ``{"pipeline": ..., "tags": ...}`` create-pipeline input).
    """
    if isinstance(data, Mapping) and "pipeline" in data and set(data) <= {"pipeline", "metadata", "tags"}:
        return data["pipeline"], ""
    return data, ""


def from_codepipeline(data: Mapping[str, Any] | Any) -> Pipeline:
    """
    Build a :class:`~pipeweaver.Pipeline` from API JSON (bare or the ``get-pipeline`` envelope).

    Only structure is checked here: unknown keys, wrong types, missing required fields and
    unknown enum values raise :class:`~pipeweaver.errors.LoadError` listing every problem with
    its path. Values that break a pattern or limit still load, so that
    :func:`pipeweaver.lint` can report them all.

    Raises:
        LoadError: when the input is not a structurally valid declaration.
    """
    declaration, _ = unwrap(data)
    issues = check_shape(declaration, constraints=False)
    if issues:
        raise LoadError(f"not a valid CodePipeline declaration ({len(issues)} problem(s))", issues)
    assert isinstance(declaration, Mapping)
    tags: dict[str, str] = {}
    if isinstance(data, Mapping) and isinstance(data.get("tags"), list):
        tags = {str(t.get("key")): str(t.get("value", "")) for t in data["tags"] if isinstance(t, Mapping)}
    return build_pipeline(declaration, tags=tags)


def build_pipeline(
    d: Mapping[str, Any],
    *,
    tags: Mapping[str, str] | None = None,
    disabled_transitions: Mapping[str, str] | None = None,
    restart_execution_on_update: bool | None = None,
) -> Pipeline:
    """
    Build a model from a structurally checked declaration, without per-field checks.

    Values that are CloudFormation intrinsic functions become :class:`Expression` objects.
    Input artifacts are linked to the output artifact object of the same name, so that a
    loaded pipeline equals one wired by object in Python.
    """
    with _names.unchecked():
        outputs: dict[str, Artifact] = {}
        for stage in d.get("stages", []):
            for action in stage.get("actions", []):
                for art in action.get("outputArtifacts") or []:
                    files = art.get("files")
                    outputs.setdefault(art["name"], Artifact(art["name"], files=files or ()))

        def artifact_in(item: Mapping[str, Any]) -> Artifact:
            name = item["name"]
            return outputs.get(name) or Artifact(name)

        stores = d.get("artifactStores")
        return Pipeline(
            name=_text(d["name"]),
            role_arn=_text(d["roleArn"]),
            stages=[_build_stage(s, artifact_in) for s in d["stages"]],
            artifact_store=_build_store(d["artifactStore"]) if d.get("artifactStore") is not None else None,
            artifact_stores=None if stores is None else {k: _build_store(v) for k, v in stores.items()},
            pipeline_type=d.get("pipelineType"),
            execution_mode=d.get("executionMode"),
            variables=[
                Variable(
                    name=v["name"],
                    default_value=_opt_text(v.get("defaultValue")),
                    description=v.get("description"),
                )
                for v in d.get("variables") or ()
            ],
            triggers=[_build_trigger(t) for t in d.get("triggers") or ()],
            tags=tags or {},
            disabled_transitions=disabled_transitions or {},
            restart_execution_on_update=restart_execution_on_update,
        )


def _text(value: Any) -> Any:
    if is_intrinsic(value):
        return Expression.of(value)
    return value


def _opt_text(value: Any) -> Any:
    return None if value is None else _text(value)


def _build_store(s: Mapping[str, Any]) -> ArtifactStore:
    key = s.get("encryptionKey")
    return ArtifactStore(
        location=_text(s["location"]),
        type=s.get("type", "S3"),
        encryption_key=None if key is None else EncryptionKey(id=_text(key["id"]), type=key.get("type", "KMS")),
    )


def _build_stage(s: Mapping[str, Any], artifact_in: Callable[[Mapping[str, Any]], Artifact]) -> Stage:
    on_failure = s.get("onFailure")
    failure = None
    if on_failure is not None:
        retry = on_failure.get("retryConfiguration")
        failure = FailureConditions(
            result=on_failure.get("result"),
            retry_mode=(retry or {}).get("retryMode"),
            has_retry_configuration=retry is not None and not retry.get("retryMode"),
            conditions=[_build_condition(c, artifact_in) for c in on_failure.get("conditions") or ()],
        )
    on_success = s.get("onSuccess")
    before = s.get("beforeEntry")
    return Stage(
        name=s["name"],
        actions=[_build_action(a, artifact_in) for a in s["actions"]],
        blockers=[Blocker(name=b["name"], type=b["type"]) for b in s.get("blockers") or ()],
        on_failure=failure,
        on_success=None
        if on_success is None
        else SuccessConditions(conditions=[_build_condition(c, artifact_in) for c in on_success["conditions"]]),
        before_entry=None
        if before is None
        else BeforeEntryConditions(conditions=[_build_condition(c, artifact_in) for c in before["conditions"]]),
    )


def _build_condition(c: Mapping[str, Any], artifact_in: Callable[[Mapping[str, Any]], Artifact]) -> Condition:
    rules = []
    for r in c.get("rules") or ():
        t = r["ruleTypeId"]
        rules.append(
            Rule(
                name=r["name"],
                rule_type=RuleType(
                    category=t["category"], owner=t.get("owner"), provider=t["provider"], version=t.get("version")
                ),
                configuration={k: _text(v) for k, v in (r.get("configuration") or {}).items()},
                commands=r.get("commands") or (),
                inputs=[artifact_in(a) for a in r.get("inputArtifacts") or ()],
                role_arn=_opt_text(r.get("roleArn")),
                region=r.get("region"),
                timeout_in_minutes=r.get("timeoutInMinutes"),
            )
        )
    return Condition(result=c.get("result"), rules=rules)


def _build_action(a: Mapping[str, Any], artifact_in: Callable[[Mapping[str, Any]], Artifact]) -> Action:
    t = a["actionTypeId"]
    outputs = []
    for o in a.get("outputArtifacts") or ():
        shared = artifact_in(o)
        files = tuple(o.get("files") or ())
        outputs.append(shared if shared.files == files else Artifact(o["name"], files=files))
    return Action(
        name=a["name"],
        action_type=ActionType(category=t["category"], owner=t["owner"], provider=t["provider"], version=t["version"]),
        run_order=a.get("runOrder", 1) if a.get("runOrder") is not None else 1,
        configuration={k: _text(v) for k, v in (a.get("configuration") or {}).items()},
        commands=a.get("commands") or (),
        inputs=[artifact_in(i) for i in a.get("inputArtifacts") or ()],
        outputs=outputs,
        output_variables=a.get("outputVariables") or (),
        role_arn=_opt_text(a.get("roleArn")),
        region=_opt_text(a.get("region")),
        namespace=a.get("namespace"),
        timeout_in_minutes=a.get("timeoutInMinutes"),
        environment_variables=[
            EnvironmentVariable(name=e["name"], value=_text(e["value"]), type=e.get("type"))
            for e in a.get("environmentVariables") or ()
        ],
    )


def _build_criteria(c: Mapping[str, Any] | None) -> GitFilter | None:
    if c is None:
        return None
    return GitFilter(includes=c.get("includes") or (), excludes=c.get("excludes") or ())


def _build_trigger(t: Mapping[str, Any]) -> Trigger:
    git = t["gitConfiguration"]
    return Trigger(
        provider_type=t["providerType"],
        source_action_name=git["sourceActionName"],
        push=[
            GitPushFilter(
                tags=_build_criteria(p.get("tags")),
                branches=_build_criteria(p.get("branches")),
                file_paths=_build_criteria(p.get("filePaths")),
            )
            for p in git.get("push") or ()
        ],
        pull_request=[
            GitPullRequestFilter(
                events=pr.get("events") or (),
                branches=_build_criteria(pr.get("branches")),
                file_paths=_build_criteria(pr.get("filePaths")),
            )
            for pr in git.get("pullRequest") or ()
        ],
    )


# ---------------------------------------------------------------------------------------------
# text


def dumps(pipeline: Pipeline, *, envelope: bool = False, indent: int | None = 2) -> str:
    """
    Render *pipeline* as JSON text in a stable key order (AWS's member order).

    Args:
        envelope: Wrap as ``{"pipeline": ...}``, the shape ``create-pipeline --cli-input-json``
            takes (with ``tags`` when the pipeline has any).
    """
    body: Any = to_codepipeline(pipeline)
    if envelope:
        body = {"pipeline": body}
        if pipeline.tags:
            body["tags"] = [{"key": k, "value": v} for k, v in pipeline.tags.items()]
    return json.dumps(body, indent=indent, ensure_ascii=False) + "\n"


def loads(text: str | bytes) -> Pipeline:
    """
    Parse JSON text into a model (bare declaration or ``get-pipeline`` output).

    Raises:
        LoadError: for text that is not JSON (with line and column) or not a declaration.
    """
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        where = f"line {exc.lineno}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise LoadError(
            "the text is not valid JSON",
            [Issue(code="PW000", severity="error", path="", message=f"invalid JSON {where}: {exc}".strip(), hint=None)],
        ) from None
    return from_codepipeline(data)
