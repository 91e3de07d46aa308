"""Shared pieces of the typed factories: argument types and the helpers that turn typed
arguments into AWS's configuration strings.

Layer: model. See :mod:`pipeweaver.actions`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypedDict

from .. import _catalog
from .._model import Action, ActionCategory, ActionOwner, ActionType, Artifact, Expression

__all__ = [
    "ArtifactFile",
    "ArtifactLike",
    "CodeBuildEnvironmentVariable",
    "Text",
]

Text = str | Expression
ArtifactLike = Artifact | str
#: ``(artifact, "path/in/artifact")``, rendered ``ArtifactName::path`` (the artifact becomes an input).
ArtifactFile = tuple[Artifact, str]


class CodeBuildEnvironmentVariable(TypedDict, total=False):
    """One entry of CodeBuild's ``EnvironmentVariables`` setting.

    .. versionadded:: 0.1.0
    """

    name: str
    value: str
    type: Literal["PLAINTEXT", "PARAMETER_STORE", "SECRETS_MANAGER"]


# ---------------------------------------------------------------------------------------------
# helpers


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _csv(values: Sequence[str] | str) -> str:
    return values if isinstance(values, str) else ",".join(values)


def _artifact(value: ArtifactLike) -> Artifact:
    return value if isinstance(value, Artifact) else Artifact(value)


def _file(value: ArtifactFile) -> str:
    artifact, path = value
    return f"{artifact.name}::{path}"


def _put(config: dict[str, Text], key: str, value: Text | bool | Sequence[str] | int | None) -> None:
    """Set *key* unless *value* is None, converting booleans, lists and numbers to AWS's strings."""
    if value is None:
        return
    if isinstance(value, bool):
        config[key] = _bool(value)
    elif isinstance(value, int):
        config[key] = str(value)
    elif isinstance(value, str | Expression):
        config[key] = value
    else:
        config[key] = _csv(value)


def _inputs(*groups: ArtifactLike | Sequence[ArtifactLike] | None) -> tuple[Artifact, ...]:
    out: list[Artifact] = []
    for group in groups:
        if group is None:
            continue
        items = [group] if isinstance(group, Artifact | str) else list(group)
        for item in items:
            artifact = _artifact(item)
            if artifact not in out:
                out.append(artifact)
    return tuple(out)


def _make(
    name: str,
    spec: _catalog.ProviderSpec,
    configuration: Mapping[str, Text],
    *,
    inputs: Sequence[Artifact] = (),
    outputs: Sequence[Artifact] = (),
    common: Mapping[str, Any],
    **extra: Any,
) -> Action:
    """An action of the catalog entry *spec*'s type."""
    action_type = ActionType(
        category=ActionCategory(spec.category),
        owner=ActionOwner(spec.owner),
        provider=spec.provider,
        version=spec.version,
    )
    return _action(name, action_type, configuration, inputs=inputs, outputs=outputs, common=common, **extra)


def _action(
    name: str,
    action_type: ActionType,
    configuration: Mapping[str, Text],
    *,
    inputs: Sequence[Artifact] = (),
    outputs: Sequence[Artifact] = (),
    common: Mapping[str, Any],
    **extra: Any,
) -> Action:
    return Action(
        name=name,
        action_type=action_type,
        configuration=dict(configuration),
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        **common,
        **extra,
    )


def _common(run_order: int, namespace: str | None, role_arn: Text | None, region: Text | None) -> dict[str, Any]:
    return {"run_order": run_order, "namespace": namespace, "role_arn": role_arn, "region": region}
