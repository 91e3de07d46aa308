"""A pipeline's conditional elements (those with a ``when``, :class:`pipeweaver.When`): which
there are, what their conditions are worth for given parameter values, and the pipeline those
values deploy.

Layer: model (on :mod:`pipeweaver._model`; :mod:`pipeweaver._when` holds the classes the model
refers to). Rendering to CodePipeline JSON (:func:`pipeweaver._codec.choose_branches`), local
runs and :func:`pipeweaver.lint` (once per combination of condition values) use these.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeGuard

import attrs

from ._cfn_conditions import NO_VALUE, conditions_used
from ._model import Expression, Pipeline, PipelineType
from ._shapes import join_index, join_key
from ._when import TemplateConditions, When
from ._wire import is_intrinsic

__all__ = ["choose", "condition_names", "is_conditional", "parameter_values", "where"]


def _elements(pipeline: Pipeline) -> list[tuple[str, When]]:
    """Every ``(API path, When)`` of *pipeline*, in declaration order (tags by key at the end)."""
    out: list[tuple[str, When]] = []
    if isinstance(pipeline.pipeline_type, Expression):  # PipelineType: !If [IsProd, V2, V1]
        out += [("pipelineType", When(name)) for name in conditions_used(pipeline.pipeline_type.raw)]
    for i, stage in enumerate(pipeline.stages):
        path = join_index("stages", i)
        if stage.when is not None:
            out.append((path, stage.when))
        for j, action in enumerate(stage.actions):
            here = join_index(join_key(path, "actions"), j)
            if action.when is not None:
                out.append((here, action.when))
            for key, value in action.configuration.items() if pipeline.template_conditions else ():
                if _is_fn_if(value):  # PrimarySource: !If [IsProd, Code, !Ref AWS::NoValue]
                    at = join_key(join_key(here, "configuration"), key)
                    out += [(at, When(name)) for name in conditions_used(value.raw)]
            for member, artifacts in (("inputArtifacts", action.inputs), ("outputArtifacts", action.outputs)):
                out += [(join_index(join_key(here, member), k), a.when) for k, a in enumerate(artifacts) if a.when]
    out += [(join_index("variables", i), v.when) for i, v in enumerate(pipeline.variables) if v.when is not None]
    out += [(join_index("triggers", i), t.when) for i, t in enumerate(pipeline.triggers) if t.when is not None]
    out += [(f"tags[{key!r}]", when) for key, when in pipeline.tags_when.items()]  # as lint names a tag
    held = pipeline.disabled_transitions_when
    out += [(f"disabledTransitions[{str(key)!r}]", when) for key, when in held.items()]
    return out


def is_conditional(pipeline: Pipeline) -> bool:
    """Whether *pipeline* has an element with a ``when`` or a value its template conditions choose."""
    # asked on every rendering: a scan without the paths _elements builds
    if pipeline.tags_when or pipeline.disabled_transitions_when or isinstance(pipeline.pipeline_type, Expression):
        return True
    for stage in pipeline.stages:
        if stage.when is not None:
            return True
        for action in stage.actions:
            if action.when is not None or (
                pipeline.template_conditions and any(_is_fn_if(v) for v in action.configuration.values())
            ):
                return True
            for artifact in action.inputs:
                if artifact.when is not None:
                    return True
            for artifact in action.outputs:
                if artifact.when is not None:
                    return True
    return any(v.when is not None for v in pipeline.variables) or any(t.when is not None for t in pipeline.triggers)


def condition_names(pipeline: Pipeline) -> list[str]:
    """The conditions the elements of *pipeline* depend on, in first-use order."""
    return list(dict.fromkeys(w.condition for _, when in _elements(pipeline) for w in when.chain()))


def where(pipeline: Pipeline, condition: str) -> str:
    """The API path of the first element that depends on *condition* (for messages)."""
    found = (path for path, when in _elements(pipeline) if any(w.condition == condition for w in when.chain()))
    return next(found, "")


def parameter_values(pipeline: Pipeline, lookup: Callable[[str], str | None]) -> dict[str, str]:
    """
    The values *lookup* gives for the parameters the conditions of *pipeline* read.

    *lookup* answers ``None`` for a parameter it has no value for (its ``Default`` then
    applies when the conditions are evaluated, :meth:`TemplateConditions.evaluate`).
    """
    spec = pipeline.template_conditions or TemplateConditions()
    wanted: set[str] = set(spec.parameters)
    stack: list[Any] = list(spec.conditions.values())
    while stack:  # Refs to undeclared parameters and pseudo parameters (AWS::Region) too
        node = stack.pop()
        if isinstance(node, Mapping):
            if isinstance(node.get("Ref"), str):
                wanted.add(node["Ref"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return {name: value for name in sorted(wanted) if (value := lookup(name)) is not None}


def choose(pipeline: Pipeline, truth: Mapping[str, bool]) -> tuple[Pipeline, dict[str, str]]:
    """
    *pipeline* as condition values *truth* deploy it, and where its parts were.

    Elements whose ``when`` does not hold are left out, the others lose their ``when``, and
    the result carries no :class:`TemplateConditions`. The map goes from API paths in the
    result to the same part's path in *pipeline*, at each place where they part (as
    :func:`pipeweaver._cfn_conditions.select` gives; :func:`pipeweaver._cfn_conditions.relocate`
    maps any path through it).
    """
    moved: dict[str, str] = {}

    def keep(items: tuple[Any, ...], new: str, old: str) -> list[tuple[Any, str, str]]:
        kept: list[tuple[Any, str, str]] = []
        for i, item in enumerate(items):
            if item.when is not None and not item.when.holds(truth):
                continue
            here, there = join_index(new, len(kept)), join_index(old, i)
            if len(kept) != i:  # a moved parent is in the map already; relocate follows it
                moved[here] = there
            kept.append((attrs.evolve(item, when=None) if item.when is not None else item, here, there))
        return kept

    stages = []
    for stage, new, old in keep(pipeline.stages, "stages", "stages"):
        actions = []
        for action, a_new, a_old in keep(stage.actions, join_key(new, "actions"), join_key(old, "actions")):
            inputs = keep(action.inputs, join_key(a_new, "inputArtifacts"), join_key(a_old, "inputArtifacts"))
            outputs = keep(action.outputs, join_key(a_new, "outputArtifacts"), join_key(a_old, "outputArtifacts"))
            # an Fn::If value of a template's conditions (without them, resolve= decides, as before)
            configuration = (
                _chosen_configuration(action.configuration, truth)
                if pipeline.template_conditions
                else action.configuration
            )
            actions.append(
                attrs.evolve(
                    action,
                    inputs=[a for a, _, _ in inputs],
                    outputs=[a for a, _, _ in outputs],
                    configuration=configuration,
                )
            )
        stages.append(attrs.evolve(stage, actions=actions))
    chosen = attrs.evolve(
        pipeline,
        stages=stages,
        variables=[v for v, _, _ in keep(pipeline.variables, "variables", "variables")],
        triggers=[t for t, _, _ in keep(pipeline.triggers, "triggers", "triggers")],
        tags={
            k: v for k, v in pipeline.tags.items() if k not in pipeline.tags_when or pipeline.tags_when[k].holds(truth)
        },
        tags_when={},
        disabled_transitions={
            k: v
            for k, v in pipeline.disabled_transitions.items()
            if k not in pipeline.disabled_transitions_when or pipeline.disabled_transitions_when[k].holds(truth)
        },
        disabled_transitions_when={},
        template_conditions=None,
        pipeline_type=_chosen_type(pipeline.pipeline_type, truth),
    )
    return chosen, moved


def _is_fn_if(value: Any) -> TypeGuard[Expression]:
    # an Expression's JSON has sorted keys and one function: its text starts with the name
    return isinstance(value, Expression) and value.raw_json.startswith('{"Fn::If":')


def _chosen_configuration(configuration: Mapping[str, Any], truth: Mapping[str, bool]) -> Mapping[str, Any]:
    """
    *configuration* with each ``Fn::If`` value replaced by the branch *truth* chooses, as
    CloudFormation passes it (text; ``AWS::NoValue`` leaves the key out).
    """
    if not any(_is_fn_if(v) for v in configuration.values()):
        return configuration
    out: dict[str, Any] = {}
    for key, value in configuration.items():
        if not _is_fn_if(value):
            out[key] = value
            continue
        raw = value.raw
        while isinstance(raw, dict) and list(raw) == ["Fn::If"] and raw["Fn::If"][0] in truth:
            condition, yes, no = raw["Fn::If"]
            raw = yes if truth[condition] else no
        if raw == NO_VALUE:
            continue
        if isinstance(raw, bool):
            out[key] = "true" if raw else "false"
        elif isinstance(raw, int | float | str):
            out[key] = str(raw)
        elif is_intrinsic(raw):
            out[key] = Expression.of(raw)
        else:  # a list or object: the JSON text CloudFormation passes for it
            out[key] = json.dumps(raw, separators=(",", ":"))
    return out


def _chosen_type(value: Any, truth: Mapping[str, bool]) -> Any:
    """A pipeline type *value*, or for an ``Fn::If`` the branch *truth* chooses (``None`` for AWS::NoValue)."""
    if not isinstance(value, Expression):
        return value
    raw = value.raw
    while isinstance(raw, dict) and list(raw) == ["Fn::If"]:
        condition, yes, no = raw["Fn::If"]
        raw = yes if truth[condition] else no
    return None if raw == NO_VALUE else PipelineType(raw)
