"""CodePipeline API JSON <-> model: the lossless codec every loader and renderer shares.

Layer: model (the wire format of the model itself). Imports the model, the shape walker and
errors. :mod:`pipeweaver.synth` re-exports these functions as its public API; validation uses
the same loader so that a path means the same thing whichever way a pipeline arrived.

Round trip: ``to_codepipeline(from_codepipeline(d)) == d`` for every structurally valid
declaration, with only AWS's own defaults made explicit (``runOrder: 1``, empty
``configuration``, ``inputArtifacts`` and ``outputArtifacts``) and the server-assigned
``version`` and ``metadata`` dropped.

Over 700 lines because :class:`Renderer` writes every member of the declaration, in both
spellings, with the path of each value an imported template may give as an expression (so
that ``resolve=`` can fill it in and an error can name it); the loading half is short.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Final

from . import _branches, _names
from ._cfn_conditions import NO_VALUE, ConditionUnknown
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
from ._shapes import SHAPES, check_shape, join_key
from ._when import TemplateConditions

# Model-free facts of the wire formats, kept importable from here for the codec's users.
from ._wire import NO_NAME, cfn_key, is_intrinsic, unwrap
from .errors import Issue, LoadError, SynthesisError

__all__ = [
    "ExpressionResolver",
    "api_tags",
    "build_pipeline",
    "choose_branches",
    "resolve_conditions",
    "dumps",
    "from_codepipeline",
    "is_intrinsic",
    "loads",
    "unwrap",
    "to_codepipeline",
]

#: Called with an :class:`Expression` and the path where it stands; returns the string to emit.
ExpressionResolver = Callable[[Expression, str], Any]

# ---------------------------------------------------------------------------------------------
# model -> JSON


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
            templates) into strings; by default an expression raises. It also gives the
            parameters that conditional elements (a ``when``) are decided by: see
            :func:`choose_branches` (which also gives each ``Fn::If`` expression its branch).

    Raises:
        SynthesisError: naming the path of a value that cannot be rendered, or the condition
            whose value cannot be computed.
    """
    pipeline, r = resolve_conditions(pipeline, resolve or _fail_on_expression)

    def text(value: str | Expression, path: str) -> Any:
        return r(value, path) if isinstance(value, Expression) else value

    render = Renderer(text=text)
    out: dict[str, Any] = {"name": text(pipeline.name, "name"), "roleArn": text(pipeline.role_arn, "roleArn")}
    if pipeline.artifact_store is not None:
        out["artifactStore"] = render.store(pipeline.artifact_store, "artifactStore")
    if pipeline.artifact_stores is not None:
        out["artifactStores"] = {
            region: render.store(store, join_key("artifactStores", region))
            for region, store in pipeline.artifact_stores.items()
        }
    out["stages"] = [render.stage(stage, f"stages[{i}]") for i, stage in enumerate(pipeline.stages)]
    if pipeline.execution_mode is not None:
        out["executionMode"] = pipeline.execution_mode.value
    if isinstance(pipeline.pipeline_type, Expression):  # not chosen: an Fn::If without its conditions
        out["pipelineType"] = text(pipeline.pipeline_type, "pipelineType")
    elif pipeline.pipeline_type is not None:
        out["pipelineType"] = pipeline.pipeline_type.value
    if pipeline.variables:
        out["variables"] = [render.variable(v, f"variables[{i}]") for i, v in enumerate(pipeline.variables)]
    if pipeline.triggers:
        out["triggers"] = [render.trigger(t, f"triggers[{i}]") for i, t in enumerate(pipeline.triggers)]
    return out


#: How to give a parameter its value, as a SynthesisError for an uncomputable condition says.
_GIVE_PARAMETERS: Final = "pass resolve=parameter_resolver({...}) with its parameters"


def choose_branches(
    pipeline: Pipeline, resolve: ExpressionResolver | None = None, *, way_out: str = _GIVE_PARAMETERS
) -> Pipeline:
    """
    *pipeline* as its parameter values deploy it: the elements whose ``when`` holds, and no other.

    Each condition of :attr:`Pipeline.template_conditions` is computed as CloudFormation
    does, from the parameters it reads: *resolve* is asked for ``{"Ref": name}`` (as
    :func:`pipeweaver.synth.parameter_resolver` answers), and a parameter it does not resolve
    takes its ``Default``. A pipeline without conditional elements is returned as it is.

    Raises:
        SynthesisError: naming the condition (and the parameter without a value), at the path
            of the first element it decides, and *way_out*: how the caller gives values.
    """
    return resolve_conditions(pipeline, resolve or _fail_on_expression, way_out=way_out)[0]


def resolve_conditions(
    pipeline: Pipeline, resolve: ExpressionResolver, *, way_out: str = _GIVE_PARAMETERS
) -> tuple[Pipeline, ExpressionResolver]:
    """
    :func:`choose_branches`, and a *resolve* that also gives an ``Fn::If`` expression (of a
    condition of :attr:`Pipeline.template_conditions`) the branch the same values choose.
    """
    spec = pipeline.template_conditions
    conditional = _branches.is_conditional(pipeline)
    if spec is None and not conditional:
        return pipeline, resolve

    def lookup(name: str) -> str | None:
        try:
            value = resolve(Expression.of({"Ref": name}), join_key("Parameters", name))
        except SynthesisError:
            return None  # the Default, if the template declares one
        return value if isinstance(value, str) else None

    values = _branches.parameter_values(pipeline, lookup)
    spec = spec or TemplateConditions()
    if conditional:
        try:
            truth = spec.evaluate(_branches.condition_names(pipeline), values)
        except ConditionUnknown as exc:
            raise SynthesisError(
                f"present only for some values of condition {exc.condition}, whose value cannot be computed: "
                f"{exc.reason} ({way_out})",
                path=_branches.where(pipeline, exc.condition),
            ) from None
        pipeline = _branches.choose(pipeline, truth)[0]
    if not spec.conditions:
        return pipeline, resolve
    conditions = spec

    def chosen(expr: Expression, path: str) -> Any:
        raw = expr.raw
        arguments = raw.get("Fn::If") if isinstance(raw, dict) and len(raw) == 1 else None
        if not (isinstance(arguments, list) and len(arguments) == 3 and isinstance(arguments[0], str)):
            return resolve(expr, path)
        name = arguments[0]
        try:
            branch = arguments[1] if conditions.evaluate([name], values)[name] else arguments[2]
        except ConditionUnknown as exc:
            raise SynthesisError(
                f"value is chosen by condition {name}, whose value cannot be computed: {exc.reason} ({way_out})",
                path=path,
            ) from None
        if branch == NO_VALUE:
            raise SynthesisError(
                f"condition {name} chooses AWS::NoValue here, which leaves out a property this model holds a value "
                "for; import the template with from_cloudformation(..., parameters={...}) instead",
                path=path,
            )
        return chosen(Expression.of(branch), path) if is_intrinsic(branch) else branch

    return pipeline, chosen


Text = Callable[[Any, str], Any]


def raw_expressions(value: Any) -> Any:
    """*value* with every :class:`~pipeweaver.Expression` inside it replaced by its intrinsic function."""
    if type(value) is str:  # most values: a string holds no expression (and is no Mapping to walk)
        return value
    if isinstance(value, Expression):
        return value.raw
    if isinstance(value, Mapping):
        return {k: raw_expressions(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [raw_expressions(v) for v in value]
    return value


def _as_is(value: Any) -> Any:
    return value


def _raw_text(value: Any, _path: str) -> Any:
    return raw_expressions(value)


#: Every member name of the API's structures, as the API and as CloudFormation spell it.
_API_KEYS: Final = {m: m for shape in SHAPES.values() if shape["type"] == "structure" for m in shape["members"]}
_CFN_KEYS: Final = {m: cfn_key(m) for m in _API_KEYS}


#: The members :meth:`Renderer.action` writes, in the order it unpacks their spellings.
_ACTION_MEMBERS: Final = (
    "name",
    "actionTypeId",
    "category",
    "owner",
    "provider",
    "version",
    "runOrder",
    "configuration",
    "commands",
    "outputArtifacts",
    "files",
    "inputArtifacts",
    "outputVariables",
    "roleArn",
    "region",
    "namespace",
    "timeoutInMinutes",
    "environmentVariables",
    "value",
    "type",
)


class Renderer:
    """
    One walk over the model's stages, stores, variables and triggers, in a target's spelling.

    The API declaration and CloudFormation's ``AWS::CodePipeline::Pipeline`` properties are
    the same document: the same members in the same order, spelt in camelCase by the API and
    with a capital first letter by CloudFormation (both taken from the shapes table). They
    differ in two ways, which the renderer's settings carry:

    * expressions: the API renders a value through *text* (with the path where it stands)
      only where the model allows an expression, and writes every other value as it is; a
      template writes every expression back as its intrinsic function (``cloudformation``);
    * AWS's implicit defaults: the API declaration spells out an action's empty
      configuration and artifact lists; templates leave them out, as people write them.
    """

    __slots__ = ("_action_keys", "cloudformation", "keep", "keep_all", "key", "text")

    def __init__(
        self, *, text: Text = _raw_text, cloudformation: bool = False, keep: Callable[[Any], Any] | None = None
    ) -> None:
        self.cloudformation = cloudformation
        #: API member name -> this target's spelling.
        self.key = _CFN_KEYS if cloudformation else _API_KEYS
        #: Renders a value where the model allows an expression: (value, path) -> value.
        self.text = text
        #: Renders every other value (a plain string or integer is the same in both spellings,
        #: so callers write those as they are); by default as it is for the API and with its
        #: expressions written back as intrinsic functions for CloudFormation.
        self.keep: Callable[[Any], Any] = keep or (raw_expressions if cloudformation else _as_is)
        #: Renders a list of such values (one call for the list, not one per item).
        self.keep_all: Callable[[Any], list[Any]] = (
            (lambda values: [self.keep(v) for v in values]) if keep else raw_expressions if cloudformation else list
        )
        #: The spellings of an action's members, resolved once here rather than per action.
        self._action_keys = tuple(self.key[m] for m in _ACTION_MEMBERS)

    def _free(self, value: Any, path: str) -> Any:
        """A text field an imported template may give as an intrinsic (an artifact or trigger's name):
        rendered through *text* with its path, so the API resolves it or names where it stands."""
        if type(value) is str:
            return value
        return self.text(value, path) if isinstance(value, Expression) else self.keep(value)

    def _free_all(self, values: Any, path: str) -> list[Any]:
        """A list of such fields (one call for a list of plain strings, the usual case)."""
        if all(type(v) is str for v in values):
            return self.keep_all(values)
        return [self._free(v, f"{path}[{i}]") for i, v in enumerate(values)]

    def store(self, store: ArtifactStore, path: str) -> dict[str, Any]:
        """An ``ArtifactStore`` at *path*."""
        k, keep, text = self.key, self.keep, self.text
        out: dict[str, Any] = {k["type"]: keep(store.type), k["location"]: text(store.location, f"{path}.location")}
        if store.encryption_key is not None:
            out[k["encryptionKey"]] = {
                k["id"]: text(store.encryption_key.id, f"{path}.encryptionKey.id"),
                k["type"]: keep(store.encryption_key.type),
            }
        return out

    def _config(self, config: Mapping[str, Any], path: str) -> dict[str, Any]:
        text = self.text
        # Paths are built only for values that are not plain strings (the rare expression).
        return {key: value if type(value) is str else text(value, join_key(path, key)) for key, value in config.items()}

    def stage(self, stage: Stage, path: str) -> dict[str, Any]:
        """A ``StageDeclaration`` at *path*."""
        k, keep = self.key, self.keep
        name = stage.name
        out: dict[str, Any] = {k["name"]: name if type(name) is str else self.text(name, f"{path}.name")}
        if stage.blockers:
            out[k["blockers"]] = [
                {k["name"]: self._free(b.name, f"{path}.blockers[{i}].name"), k["type"]: keep(b.type)}
                for i, b in enumerate(stage.blockers)
            ]
        out[k["actions"]] = [self.action(a, path, i) for i, a in enumerate(stage.actions)]
        if stage.on_failure is not None:
            f = stage.on_failure
            failure: dict[str, Any] = {}
            if f.result is not None:
                failure[k["result"]] = f.result.value
            if f.retry_mode is not None or f.has_retry_configuration:
                failure[k["retryConfiguration"]] = {} if f.retry_mode is None else {k["retryMode"]: f.retry_mode.value}
            if f.conditions:
                failure[k["conditions"]] = self._conditions(f.conditions, f"{path}.onFailure.conditions")
            out[k["onFailure"]] = failure
        if stage.on_success is not None:
            out[k["onSuccess"]] = {
                k["conditions"]: self._conditions(stage.on_success.conditions, f"{path}.onSuccess.conditions")
            }
        if stage.before_entry is not None:
            out[k["beforeEntry"]] = {
                k["conditions"]: self._conditions(stage.before_entry.conditions, f"{path}.beforeEntry.conditions")
            }
        return out

    def _conditions(self, conditions: tuple[Condition, ...], path: str) -> list[dict[str, Any]]:
        k = self.key
        out = []
        for i, c in enumerate(conditions):
            item: dict[str, Any] = {}
            if c.result is not None:
                item[k["result"]] = c.result.value
            if c.rules:
                item[k["rules"]] = [self._rule(rule, f"{path}[{i}].rules[{j}]") for j, rule in enumerate(c.rules)]
            out.append(item)
        return out

    def _rule(self, rule: Rule, path: str) -> dict[str, Any]:
        k, keep = self.key, self.keep
        t = rule.rule_type
        type_id: dict[str, Any] = {k["category"]: keep(t.category)}
        if t.owner is not None:
            type_id[k["owner"]] = keep(t.owner)
        type_id[k["provider"]] = self._free(t.provider, f"{path}.ruleTypeId.provider")
        if t.version is not None:
            type_id[k["version"]] = self._free(t.version, f"{path}.ruleTypeId.version")
        out: dict[str, Any] = {k["name"]: self._free(rule.name, f"{path}.name"), k["ruleTypeId"]: type_id}
        if rule.configuration:
            out[k["configuration"]] = self._config(rule.configuration, f"{path}.configuration")
        if rule.commands:
            out[k["commands"]] = self._free_all(rule.commands, f"{path}.commands")
        if rule.inputs:
            out[k["inputArtifacts"]] = [
                {k["name"]: self._free(a.name, f"{path}.inputArtifacts[{i}].name")} for i, a in enumerate(rule.inputs)
            ]
        if rule.role_arn is not None:
            out[k["roleArn"]] = self.text(rule.role_arn, f"{path}.roleArn")
        if rule.region is not None:
            out[k["region"]] = self._free(rule.region, f"{path}.region")
        if rule.timeout_in_minutes is not None:
            out[k["timeoutInMinutes"]] = keep(rule.timeout_in_minutes)
        return out

    def action(self, action: Action, stage_path: str, index: int) -> dict[str, Any]:
        """The *index*-th ``ActionDeclaration`` of the stage at *stage_path*."""
        keep, text = self.keep, self.text
        (
            NAME,
            TYPE_ID,
            CATEGORY,
            OWNER,
            PROVIDER,
            VERSION,
            RUN_ORDER,
            CONFIGURATION,
            COMMANDS,
            OUTPUTS,
            FILES,
            INPUTS,
            OUTPUT_VARIABLES,
            ROLE_ARN,
            REGION,
            NAMESPACE,
            TIMEOUT,
            ENVIRONMENT,
            VALUE,
            TYPE,
        ) = self._action_keys
        # The action's path is written out only where a value may be an expression to resolve.
        path = ""
        t = action.action_type
        name, provider, version, run_order = action.name, t.provider, t.version, action.run_order
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
            NAME: name,
            TYPE_ID: {
                CATEGORY: t.category._value_,
                OWNER: t.owner._value_,
                PROVIDER: provider
                if type(provider) is str
                else self._free(provider, f"{stage_path}.actions[{index}].actionTypeId.provider"),
                VERSION: version
                if type(version) is str
                else self._free(version, f"{stage_path}.actions[{index}].actionTypeId.version"),
            },
            RUN_ORDER: run_order
            if type(run_order) is int
            else self._run_order(run_order, f"{stage_path}.actions[{index}]"),
        }
        cloudformation = self.cloudformation
        if config or not cloudformation:
            out[CONFIGURATION] = config
        if action.commands:
            out[COMMANDS] = self._free_all(action.commands, f"{stage_path}.actions[{index}].commands")
        # loops rather than comprehensions: on Python 3.11 each comprehension is a function call
        if action.outputs or not cloudformation:
            outputs: list[dict[str, Any]] = []
            for i, a in enumerate(action.outputs):
                name = a.name
                if type(name) is not str:
                    name = self._free(name, f"{stage_path}.actions[{index}].outputArtifacts[{i}].name")
                item: dict[str, Any] = {NAME: name}
                if a.files:
                    item[FILES] = self._free_all(a.files, f"{stage_path}.actions[{index}].outputArtifacts[{i}].files")
                outputs.append(item)
            out[OUTPUTS] = outputs
        if action.inputs or not cloudformation:
            inputs: list[dict[str, Any]] = []
            for i, a in enumerate(action.inputs):
                name = a.name
                if type(name) is not str:
                    name = self._free(name, f"{stage_path}.actions[{index}].inputArtifacts[{i}].name")
                inputs.append({NAME: name})
            out[INPUTS] = inputs
        if action.output_variables:
            out[OUTPUT_VARIABLES] = self._free_all(
                action.output_variables, f"{stage_path}.actions[{index}].outputVariables"
            )
        if action.role_arn is not None:
            path = path or f"{stage_path}.actions[{index}]"
            out[ROLE_ARN] = text(action.role_arn, f"{path}.roleArn")
        if action.region is not None:
            path = path or f"{stage_path}.actions[{index}]"
            out[REGION] = text(action.region, f"{path}.region")
        if action.namespace is not None:
            out[NAMESPACE] = self._free(action.namespace, f"{stage_path}.actions[{index}].namespace")
        if action.timeout_in_minutes is not None:
            out[TIMEOUT] = keep(action.timeout_in_minutes)
        if action.environment_variables:
            path = path or f"{stage_path}.actions[{index}]"
            envs = []
            for i, e in enumerate(action.environment_variables):
                item = {
                    NAME: self._free(e.name, f"{path}.environmentVariables[{i}].name"),
                    VALUE: text(e.value, f"{path}.environmentVariables[{i}].value"),
                }
                if e.type is not None:
                    item[TYPE] = e.type.value
                envs.append(item)
            out[ENVIRONMENT] = envs
        return out

    def _run_order(self, run_order: Any, path: str) -> Any:
        if not isinstance(run_order, Expression):
            return self.keep(run_order)
        value = self.text(run_order, f"{path}.runOrder")
        # a resolved Number parameter arrives as its text, as CloudFormation passes it
        return int(value) if isinstance(value, str) and value.isdigit() else value

    def variable(self, v: Variable, path: str) -> dict[str, Any]:
        """A ``PipelineVariableDeclaration`` at *path*."""
        k = self.key
        out: dict[str, Any] = {k["name"]: self._free(v.name, f"{path}.name")}
        if v.default_value is not None:
            out[k["defaultValue"]] = self.text(v.default_value, f"{path}.defaultValue")
        if v.description is not None:
            out[k["description"]] = self._free(v.description, f"{path}.description")
        return out

    def _criteria(self, f: GitFilter, path: str) -> dict[str, Any]:
        k = self.key
        out: dict[str, Any] = {}
        if f.includes:
            out[k["includes"]] = self._free_all(f.includes, f"{path}.includes")
        if f.excludes:
            out[k["excludes"]] = self._free_all(f.excludes, f"{path}.excludes")
        return out

    def trigger(self, t: Trigger, path: str = "triggers[0]") -> dict[str, Any]:
        """A ``PipelineTriggerDeclaration`` (at *path*, where its values may need resolving)."""
        k, keep, criteria = self.key, self.keep, self._criteria
        path = f"{path}.gitConfiguration"
        git: dict[str, Any] = {k["sourceActionName"]: self._free(t.source_action_name, f"{path}.sourceActionName")}
        if t.push:
            pushes = []
            for i, p in enumerate(t.push):
                item: dict[str, Any] = {}
                if p.tags is not None:
                    item[k["tags"]] = criteria(p.tags, f"{path}.push[{i}].tags")
                if p.branches is not None:
                    item[k["branches"]] = criteria(p.branches, f"{path}.push[{i}].branches")
                if p.file_paths is not None:
                    item[k["filePaths"]] = criteria(p.file_paths, f"{path}.push[{i}].filePaths")
                pushes.append(item)
            git[k["push"]] = pushes
        if t.pull_request:
            pulls = []
            for i, pr in enumerate(t.pull_request):
                item = {}
                if pr.events:
                    item[k["events"]] = [e.value for e in pr.events]
                if pr.branches is not None:
                    item[k["branches"]] = criteria(pr.branches, f"{path}.pullRequest[{i}].branches")
                if pr.file_paths is not None:
                    item[k["filePaths"]] = criteria(pr.file_paths, f"{path}.pullRequest[{i}].filePaths")
                pulls.append(item)
            git[k["pullRequest"]] = pulls
        return {k["providerType"]: keep(t.provider_type), k["gitConfiguration"]: git}


# ---------------------------------------------------------------------------------------------
# JSON -> model


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


def api_tags(tags: Mapping[Any, Any], resolve: ExpressionResolver | None = None) -> list[dict[str, Any]]:
    """
    *tags* as the API takes them (``[{"key": ..., "value": ...}]``), a key or value given as an
    expression rendered through *resolve* (by default it raises naming ``tags["key"]``).
    """
    r = resolve or _fail_on_expression
    out = []
    for key, value in tags.items():
        path = join_key("tags", str(key))
        out.append(
            {
                "key": r(key, path + ".key") if isinstance(key, Expression) else key,
                "value": r(value, path) if isinstance(value, Expression) else value,
            }
        )
    return out


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
            body["tags"] = api_tags(pipeline.tags)
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
