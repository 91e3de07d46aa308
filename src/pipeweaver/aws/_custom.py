"""Custom action types: a typed model of CreateCustomActionType, checked against reference §5.1.

Layer: aws. :class:`CustomActionType` is plain data (no AWS call until :meth:`register`); its
:meth:`CustomActionType.to_cloudformation` renders the ``AWS::CodePipeline::CustomActionType``
resource for teams that register types through a stack.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal, final

import attrs

from .._model import Action, ActionCategory, ActionOwner, ActionType, Artifact, CategoryName
from ..errors import DefinitionError
from ._client import Client, call, default_client

__all__ = ["ArtifactBounds", "ConfigurationProperty", "CustomActionSettings", "CustomActionType"]

_ID = re.compile(r"[0-9A-Za-z_-]+")
_TEMPLATE_REF = re.compile(r"\{Config:([^}]*)\}")
_QUERY_VALUE = re.compile(r"[A-Za-z0-9_-]{1,20}")

PropertyType = Literal["String", "Number", "Boolean"]


def _category(value: ActionCategory | CategoryName) -> ActionCategory:
    try:
        return ActionCategory(value)
    except ValueError:
        choices = ", ".join(c.value for c in ActionCategory)
        raise DefinitionError("category", value, f"must be one of {choices}") from None


@final
@attrs.frozen(kw_only=True)
class ConfigurationProperty:
    """
    One configuration property of a custom action type.

    Attributes:
        name: 1-50 characters; the key pipelines set in the action's ``configuration``.
        required: Pipelines must set it.
        key: Part of the action's identity (AWS's ``key`` flag).
        secret: Hidden by every API except the job APIs; GetPipeline shows ``****``.
        queryable: Workers poll only for jobs with a given value (at most one per type; it must
            be required and not secret).
        description: 1-160 characters.
        type: ``String``, ``Number`` or ``Boolean``.

    .. versionadded:: 0.1.0
    """

    name: str
    required: bool = False
    key: bool = False
    secret: bool = False
    queryable: bool = False
    description: str | None = None
    type: PropertyType | None = None

    def __attrs_post_init__(self) -> None:
        if not 1 <= len(self.name) <= 50:
            raise DefinitionError("name", self.name, "configuration property names are 1..50 characters")
        if self.description is not None and not 1 <= len(self.description) <= 160:
            raise DefinitionError("description", self.description, "descriptions are 1..160 characters")
        if self.type is not None and self.type not in ("String", "Number", "Boolean"):
            raise DefinitionError("type", self.type, "must be String, Number or Boolean")
        if self.queryable and (not self.required or self.secret):
            raise DefinitionError(
                "queryable",
                self.name,
                "a queryable property must be required and not secret (CreateCustomActionType rule)",
            )

    def to_api(self) -> dict[str, Any]:
        """The ``ActionConfigurationProperty`` shape."""
        out: dict[str, Any] = {"name": self.name, "required": self.required, "key": self.key, "secret": self.secret}
        if self.queryable:
            out["queryable"] = True
        if self.description is not None:
            out["description"] = self.description
        if self.type is not None:
            out["type"] = self.type
        return out

    def to_cloudformation(self) -> dict[str, Any]:
        """The CloudFormation ``ConfigurationProperties`` item."""
        return {_pascal(k): v for k, v in self.to_api().items()}


@final
@attrs.frozen
class ArtifactBounds:
    """
    How many input or output artifacts an action of the type takes (each 0-5, minimum <= maximum).

    .. versionadded:: 0.1.0
    """

    minimum: int = 0
    maximum: int = 0

    def __attrs_post_init__(self) -> None:
        for field, value in (("minimum", self.minimum), ("maximum", self.maximum)):
            if not isinstance(value, int) or not 0 <= value <= 5:
                raise DefinitionError(field, value, "artifact counts of a custom action type are 0..5")
        if self.minimum > self.maximum:
            raise DefinitionError("minimum", self.minimum, f"must not exceed maximum ({self.maximum})")

    def to_api(self) -> dict[str, int]:
        """The ``ArtifactDetails`` shape."""
        return {"minimumCount": self.minimum, "maximumCount": self.maximum}


@final
@attrs.frozen(kw_only=True)
class CustomActionSettings:
    """
    Links the console shows for actions of the type (``ActionTypeSettings``); each 1-2048 characters.

    Templates may use ``{Config:<property>}`` (a required, non-secret property) and
    ``{ExternalExecutionId}``.

    .. versionadded:: 0.1.0
    """

    third_party_configuration_url: str | None = None
    entity_url_template: str | None = None
    execution_url_template: str | None = None
    revision_url_template: str | None = None

    def to_api(self) -> dict[str, str]:
        """The ``ActionTypeSettings`` shape."""
        names = {
            "thirdPartyConfigurationUrl": self.third_party_configuration_url,
            "entityUrlTemplate": self.entity_url_template,
            "executionUrlTemplate": self.execution_url_template,
            "revisionUrlTemplate": self.revision_url_template,
        }
        return {k: v for k, v in names.items() if v is not None}


def _pascal(name: str) -> str:
    return name[:1].upper() + name[1:]


def _properties(value: Iterable[ConfigurationProperty]) -> tuple[ConfigurationProperty, ...]:
    return tuple(value)


@final
@attrs.frozen(kw_only=True)
class CustomActionType:
    """
    A custom action type (owner ``Custom``) served by a :class:`~pipeweaver.aws.JobWorker`.

    Checked on construction: provider and version patterns, at most 10 properties with unique
    names, at most one queryable property (required, not secret), artifact bounds 0-5, settings
    lengths, and ``{Config:X}`` templates naming a required, non-secret property.

    Attributes:
        category: The action category.
        provider: 1-35 characters ``[0-9A-Za-z_-]``.
        version: 1-9 characters ``[0-9A-Za-z_-]``.
        configuration_properties: Up to 10 properties.
        inputs: Input artifact bounds.
        outputs: Output artifact bounds.
        settings: Console links.
        tags: Resource tags for CreateCustomActionType.

    .. versionadded:: 0.1.0
    """

    category: ActionCategory = attrs.field(converter=_category)
    provider: str
    version: str = "1"
    configuration_properties: tuple[ConfigurationProperty, ...] = attrs.field(default=(), converter=_properties)
    inputs: ArtifactBounds = ArtifactBounds(0, 0)
    outputs: ArtifactBounds = ArtifactBounds(0, 0)
    settings: CustomActionSettings | None = None
    tags: Mapping[str, str] = attrs.field(factory=dict, converter=dict, hash=False)

    def __attrs_post_init__(self) -> None:
        if not (1 <= len(self.provider) <= 35 and _ID.fullmatch(self.provider)):
            raise DefinitionError("provider", self.provider, "providers are 1..35 characters of A-Z a-z 0-9 _ -")
        if not (1 <= len(self.version) <= 9 and _ID.fullmatch(self.version)):
            raise DefinitionError("version", self.version, "versions are 1..9 characters of A-Z a-z 0-9 _ -")
        props = self.configuration_properties
        if len(props) > 10:
            raise DefinitionError(
                "configuration_properties", len(props), "a custom action type has at most 10 properties"
            )
        names = [p.name for p in props]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise DefinitionError("configuration_properties", duplicates, "property names must be unique")
        queryable = [p.name for p in props if p.queryable]
        if len(queryable) > 1:
            raise DefinitionError(
                "configuration_properties",
                queryable,
                "at most one property may be queryable (CreateCustomActionType rule)",
            )
        if self.settings is not None:
            by_name = {p.name: p for p in props}
            for field, url in self.settings.to_api().items():
                if not 1 <= len(url) <= 2048:
                    raise DefinitionError(field, url, "settings URLs are 1..2048 characters")
                for ref in _TEMPLATE_REF.findall(url):
                    prop = by_name.get(ref)
                    if prop is None or not prop.required or prop.secret:
                        raise DefinitionError(
                            field,
                            url,
                            f"{{Config:{ref}}} must name a required, non-secret configuration property "
                            f"(properties: {names})",
                        )

    # -- views -----------------------------------------------------------------------------

    @property
    def action_type(self) -> ActionType:
        """The ``actionTypeId`` of actions of this type (owner ``Custom``)."""
        return ActionType(
            category=self.category, owner=ActionOwner.CUSTOM, provider=self.provider, version=self.version
        )

    def action_type_id(self) -> dict[str, str]:
        """The ``ActionTypeId`` shape the job APIs take."""
        return {"category": self.category.value, "owner": "Custom", "provider": self.provider, "version": self.version}

    @property
    def queryable_property(self) -> ConfigurationProperty | None:
        """The queryable property, if any."""
        return next((p for p in self.configuration_properties if p.queryable), None)

    @property
    def secret_properties(self) -> frozenset[str]:
        """Names of the secret properties (their values never reach logs)."""
        return frozenset(p.name for p in self.configuration_properties if p.secret)

    def action(
        self,
        name: str,
        *,
        configuration: Mapping[str, str] | None = None,
        inputs: Iterable[Artifact] = (),
        outputs: Iterable[Artifact] = (),
        run_order: int = 1,
        namespace: str | None = None,
    ) -> Action:
        """
        An :class:`~pipeweaver.Action` of this type, checked against the type.

        Raises:
            DefinitionError: a required property is missing, a property is unknown, the
                artifact counts are out of bounds, or the queryable value breaks its pattern.
        """
        config = dict(configuration or {})
        known = {p.name for p in self.configuration_properties}
        unknown = sorted(set(config) - known)
        if unknown:
            raise DefinitionError(
                "configuration", unknown, f"not properties of {self.provider}; it has {sorted(known)}"
            )
        missing = [p.name for p in self.configuration_properties if p.required and p.name not in config]
        if missing:
            raise DefinitionError("configuration", missing, f"required by {self.provider}")
        query = self.queryable_property
        if query is not None and not _QUERY_VALUE.fullmatch(config.get(query.name, "")):
            raise DefinitionError(
                f"configuration[{query.name!r}]",
                config.get(query.name),
                "the queryable property's value is 1..20 characters of A-Z a-z 0-9 _ -",
            )
        ins, outs = tuple(inputs), tuple(outputs)
        for field, count, bounds in (("inputs", len(ins), self.inputs), ("outputs", len(outs), self.outputs)):
            if not bounds.minimum <= count <= bounds.maximum:
                raise DefinitionError(
                    field, count, f"{self.provider} takes {bounds.minimum}..{bounds.maximum} {field} artifacts"
                )
        return Action(
            name=name,
            action_type=self.action_type,
            configuration=config,
            inputs=ins,
            outputs=outs,
            run_order=run_order,
            namespace=namespace,
        )

    # -- rendering and registration --------------------------------------------------------

    def to_api(self) -> dict[str, Any]:
        """The CreateCustomActionType request."""
        out: dict[str, Any] = {"category": self.category.value, "provider": self.provider, "version": self.version}
        if self.settings is not None and self.settings.to_api():
            out["settings"] = self.settings.to_api()
        if self.configuration_properties:
            out["configurationProperties"] = [p.to_api() for p in self.configuration_properties]
        out["inputArtifactDetails"] = self.inputs.to_api()
        out["outputArtifactDetails"] = self.outputs.to_api()
        if self.tags:
            out["tags"] = [{"key": k, "value": v} for k, v in self.tags.items()]
        return out

    def to_cloudformation(self) -> dict[str, Any]:
        """The ``AWS::CodePipeline::CustomActionType`` resource (``Type`` and ``Properties``)."""
        props: dict[str, Any] = {"Category": self.category.value, "Provider": self.provider, "Version": self.version}
        if self.settings is not None and self.settings.to_api():
            props["Settings"] = {_pascal(k): v for k, v in self.settings.to_api().items()}
        if self.configuration_properties:
            props["ConfigurationProperties"] = [p.to_cloudformation() for p in self.configuration_properties]
        props["InputArtifactDetails"] = {"MinimumCount": self.inputs.minimum, "MaximumCount": self.inputs.maximum}
        props["OutputArtifactDetails"] = {"MinimumCount": self.outputs.minimum, "MaximumCount": self.outputs.maximum}
        if self.tags:
            props["Tags"] = [{"Key": k, "Value": v} for k, v in self.tags.items()]
        return {"Type": "AWS::CodePipeline::CustomActionType", "Properties": props}

    def register(self, client: Client | None = None) -> dict[str, Any]:
        """
        CreateCustomActionType; return AWS's ``actionType`` description.

        Raises:
            AwsError: e.g. ``LimitExceededException`` (50 custom types per region).
        """
        client = client if client is not None else default_client("codepipeline")
        response = call(client, "CreateCustomActionType", **self.to_api())
        action_type: dict[str, Any] = response["actionType"]
        return action_type
