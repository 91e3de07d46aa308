"""What every rule reads: the declaration indexed once, and where issues go.

Stages, actions, producers and namespaces are read once by ``_index``; the tolerant readers
(``_dict``, ``_list``, ``_str``) read a possibly malformed declaration.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, cast

import attrs

from .. import _catalog
from .._wire import is_intrinsic
from ..errors import Issue
from ._registry import REGISTRY

# Lint reads a declaration that may be malformed anywhere: a part of the wrong kind reads as
# empty. ``type(...) is`` answers for the JSON types; other mappings and sequences are accepted
# too (a loader may hand over any).
_EMPTY: Final[Mapping[str, Any]] = {}


def _dict(value: Any) -> Mapping[str, Any]:
    if type(value) is dict:
        return value
    return value if isinstance(value, Mapping) else _EMPTY


def _list(value: Any) -> Sequence[Any]:
    if type(value) is list:
        return value
    return value if isinstance(value, list | tuple) else ()


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _near(word: str, choices: Iterable[str]) -> str | None:
    options = sorted(set(choices))
    match = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if match:
        return match[0]
    lowered = {c.lower(): c for c in options}
    return lowered.get(word.lower())


def _did_you_mean(word: str, choices: Iterable[str], fallback: str | None = None) -> str | None:
    near = _near(word, choices)
    return f"did you mean {near!r}?" if near is not None else fallback


def _artifact_key(value: Any) -> str | None:
    """
    An artifact name as the rules index it: its text, or for an intrinsic function (a name
    CloudFormation fills in, ``!Sub '${App}-source'``) the function's compact JSON, so that
    two references written the same way match. No literal name starts with ``{``.
    """
    if type(value) is str:
        return value
    if is_intrinsic(value):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return None


def _is_expression_key(name: str) -> bool:
    """Whether an indexed artifact name stands for an intrinsic function (its value is not known)."""
    return name.startswith('{"')


@attrs.define(slots=True)
class _Action:
    """One action of the declaration, with everything the rules need read once."""

    stage: int
    index: int
    path: str
    data: Mapping[str, Any]
    name: str | None
    category: str | None
    owner: str | None
    provider: str | None
    version: str | None
    run_order: int
    config: Mapping[str, Any]
    namespace: str | None
    region: str | None
    spec: _catalog.ProviderSpec | None
    #: (artifact name, index of the entry) for well-formed input and output artifact entries
    inputs: list[tuple[str, int]] = attrs.field(factory=list)
    outputs: list[tuple[str, int]] = attrs.field(factory=list)

    @property
    def label(self) -> str:
        return repr(self.name) if self.name is not None else f"#{self.index}"

    @property
    def is_source(self) -> bool:
        return self.category == "Source"


@attrs.define(slots=True)
class _Context:
    decl: Mapping[str, Any]
    region: str | None
    issues: list[Issue]
    stages: list[tuple[int, str, Mapping[str, Any], str | None]] = attrs.field(factory=list)
    actions: list[_Action] = attrs.field(factory=list)
    #: artifact name -> (producer, index in its outputArtifacts), first producer wins
    producers: dict[str, tuple[_Action, int]] = attrs.field(factory=dict)
    namespaces: dict[str, _Action] = attrs.field(factory=dict)
    variables: set[str] = attrs.field(factory=set)

    def add(self, code: str, path: str, message: str, hint: str | None = None) -> None:
        self.issues.append(Issue(code=code, severity=REGISTRY[code].severity, path=path, message=message, hint=hint))


# ---------------------------------------------------------------------------------------------
# index


def _index(ctx: _Context) -> None:
    """Read stages, actions, artifacts and namespaces once (tolerating any malformed part)."""
    # A declaration may be malformed anywhere: each `x if type(x) is str else _str(x)` reads a
    # field as text when it is one, and as None when it holds anything else.
    producers = ctx.producers
    actions = ctx.actions
    specs = _catalog.PROVIDERS
    for si, stage in enumerate(_list(ctx.decl.get("stages"))):
        spath = f"stages[{si}]"
        stage = _dict(stage)
        ctx.stages.append((si, spath, stage, _str(stage.get("name"))))
        for ai, action in enumerate(_list(stage.get("actions"))):
            action = action if type(action) is dict else _dict(action)
            get = action.get
            type_id = get("actionTypeId")
            type_id = type_id if type(type_id) is dict else _dict(type_id)
            run_order = get("runOrder", 1)
            if type(run_order) is not int:
                run_order = 1
            category, owner, provider = type_id.get("category"), type_id.get("owner"), type_id.get("provider")
            ok = type(category) is str and type(owner) is str and type(provider) is str
            name, version, config = get("name"), type_id.get("version"), get("configuration")
            namespace, region = get("namespace"), get("region")
            a = _Action(
                si,
                ai,
                f"{spath}.actions[{ai}]",
                action,
                name if type(name) is str else _str(name),
                category if type(category) is str else None,
                owner if type(owner) is str else None,
                provider if type(provider) is str else None,
                version if type(version) is str else _str(version),
                run_order,
                config if type(config) is dict else _dict(config),
                None if namespace is None else _str(namespace),
                None if region is None else _str(region),
                specs.get(cast("tuple[str, str, str]", (category, owner, provider))) if ok else None,
            )
            actions.append(a)
            outputs = get("outputArtifacts")
            if outputs:
                for oi, out in enumerate(outputs if type(outputs) is list else _list(outputs)):
                    name = out.get("name") if type(out) is dict else _dict(out).get("name")
                    if type(name) is not str:
                        name = _artifact_key(name)
                    if name is not None:
                        a.outputs.append((name, oi))
                        if name not in producers:
                            producers[name] = (a, oi)
            inputs = get("inputArtifacts")
            if inputs:
                for ii, item in enumerate(inputs if type(inputs) is list else _list(inputs)):
                    name = item.get("name") if type(item) is dict else _dict(item).get("name")
                    if type(name) is not str:
                        name = _artifact_key(name)
                    if name is not None:
                        a.inputs.append((name, ii))
    for variable in _list(ctx.decl.get("variables")):
        name = _str(_dict(variable).get("name"))
        if name is not None:
            ctx.variables.add(name)


def _earlier(producer: _Action, stage: int, run_order: int) -> bool:
    return producer.stage < stage or (producer.stage == stage and producer.run_order < run_order)


def _is_literal(value: Any) -> bool:
    """A plain string with no variable reference: its final value is known now."""
    return isinstance(value, str) and "#{" not in value


@attrs.frozen
class _Target:
    """
    What lint checks: an API-shaped declaration plus what lives beside it.

    Attributes:
        declaration: API-shaped data (``PipelineDeclaration`` field names).
        tags: ``(path, key, value)`` of the pipeline's tags (a key or value may be an intrinsic).
        disabled_transitions: Stage name -> reason.
        relocate: Maps an API path to the input's own path (e.g. inside a template);
            ``None`` keeps API paths.
        issues: Problems found while converting the input, already in the input's paths;
            reported first.
    """

    declaration: Any
    tags: Sequence[tuple[str, Any, Any]] = ()
    disabled_transitions: Mapping[str, str] = attrs.field(factory=dict)
    relocate: Callable[[str], str] | None = None
    issues: Sequence[Issue] = ()
