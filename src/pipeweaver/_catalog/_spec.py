"""The records of the provider catalog: what one action type or rule type is, as data.

Layer: names/limits (no pipeweaver imports). A :class:`ProviderSpec` holds everything
pipeweaver knows about one action provider: its type id, artifact bounds, configuration keys
(required, optional, conditional, allowed values, secrets), emitted variables, default
timeout, the IAM grants it needs from the pipeline role, its revision type, how its changes
start a pipeline, and the key of the local handler that runs it. The providers differ only in
data, so one record type serves them all; the family modules (``_source``, ``_build``,
``_deploy``, ``_invoke``) hold the entries.

IAM grants are written with :class:`Setting`, :class:`Arn` and :class:`Named` so that the
catalog says *which* configuration values a permission is scoped to, while the synthesis
layer decides how an ARN is spelled in CloudFormation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final, final

import attrs

__all__ = [
    "BOOL",
    "PIPELINE_NAME",
    "UG",
    "Arn",
    "EventSource",
    "Grant",
    "Named",
    "ProviderSpec",
    "Requirement",
    "Resource",
    "RuleTypeSpec",
    "Setting",
    "entries",
    "pass_role",
]

#: The CodePipeline user guide, which every entry cites.
UG: Final = "https://docs.aws.amazon.com/codepipeline/latest/userguide/"

#: Allowed values of boolean configuration keys (AWS writes them as strings).
BOOL: Final = ("true", "false")


@final
@attrs.frozen(kw_only=True)
class Requirement:
    """
    A configuration key that is required only in some situations.

    Attributes:
        key: The key that becomes required.
        when_key: Required when this key is set ...
        when_values: ... to one of these values (``None``: to any value).
        max_inputs_below: Required when the action has fewer input artifacts than this.
        min_inputs: Required when the action has at least this many input artifacts.
        reason: Why, in words, for messages.

    .. versionadded:: 0.1.0
    """

    key: str
    when_key: str | None = None
    when_values: tuple[str, ...] | None = None
    max_inputs_below: int | None = None
    min_inputs: int | None = None
    reason: str


# -- IAM ------------------------------------------------------------------------------------------


@final
@attrs.frozen
class Setting:
    """
    The value of one configuration key, inside an IAM resource.

    A resource that refers to a key the action does not set is left out (and a grant left
    with no resource is not written), unless *default* stands in for the missing value.

    .. versionadded:: 0.1.0
    """

    key: str
    default: str | None = None


@final
class _PipelineName:
    """The pipeline's own name (``PIPELINE_NAME``), as the synthesis layer spells it."""

    def __repr__(self) -> str:
        return "PIPELINE_NAME"


#: Stands for the pipeline's name inside an :class:`Arn` (the Commands log group).
PIPELINE_NAME: Final = _PipelineName()


@final
@attrs.frozen(kw_only=True)
class Arn:
    """
    An ARN in this account and the action's region: ``arn:<partition>:<service>:<region>:<account>:<parts>``.

    Attributes:
        service: The ARN's service part.
        parts: The resource part, joined: literal text, :class:`Setting` values and
            :data:`PIPELINE_NAME`.
        account: Whether the ARN names the account (S3 ARNs do not).
        regional: Whether the ARN names the region (S3 ARNs do not).

    .. versionadded:: 0.1.0
    """

    service: str
    parts: tuple[str | Setting | _PipelineName, ...]
    account: bool = True
    regional: bool = True


@final
@attrs.frozen
class Named:
    """
    A resource named by a configuration key: the value itself when it is an ARN, else the
    ARN of ``<kind><value>`` of *service* in this account and the action's region.

    .. versionadded:: 0.1.0
    """

    key: str
    service: str
    kind: str


#: What one IAM resource is built from; a plain string is written as is (``"*"``).
Resource = str | Setting | Arn | Named


@final
@attrs.frozen(kw_only=True)
class Grant:
    """
    One ``Allow`` statement an action needs in the pipeline role.

    Attributes:
        actions: IAM actions (written sorted).
        resources: What they apply to, in order.
        passed_to: For ``iam:PassRole``: the service the role may be passed to (the statement
            gets an ``iam:PassedToService`` condition).
        when: Keys the action must set for the grant to apply at all.

    .. versionadded:: 0.1.0
    """

    actions: tuple[str, ...]
    resources: tuple[Resource, ...]
    passed_to: str | None = None
    when: tuple[str, ...] = ()


def pass_role(resource: Resource, service: str) -> Grant:
    """``iam:PassRole`` of *resource*, only to *service*."""
    return Grant(actions=("iam:PassRole",), resources=(resource,), passed_to=service)


# -- events ---------------------------------------------------------------------------------------


@final
@attrs.frozen(kw_only=True)
class EventSource:
    """
    How a change in a source action's location starts the pipeline on AWS.

    Attributes:
        rule: The EventBridge rule the synthesis layer writes for it (``"s3"``,
            ``"codecommit"``, ``"ecr"``), or ``None``.
        webhook: Whether a webhook (GitHub v1) can replace polling.
        poll_key: The setting that turns polling on; a rule or webhook sets it to ``false``.
        detect_key: The setting that turns a connection's change detection on.
        git: Whether changes are git pushes and pull requests (triggers, filters).
        branch_key: The setting that names the branch (git sources).
        repository_keys: The settings that name the repository, joined with ``/``.

    .. versionadded:: 0.1.0
    """

    rule: str | None = None
    webhook: bool = False
    poll_key: str | None = None
    detect_key: str | None = None
    git: bool = False
    branch_key: str | None = None
    repository_keys: tuple[str, ...] = ()


def _default_iam(spec: ProviderSpec) -> tuple[Grant, ...] | None:
    # Third-party and custom actions run outside the pipeline role (job workers, OAuth apps).
    return () if spec.owner != "AWS" else None


@final
@attrs.frozen(kw_only=True)
class ProviderSpec:
    """
    What pipeweaver knows about one action type.

    Attributes:
        category: ``actionTypeId.category``.
        owner: ``actionTypeId.owner``.
        provider: ``actionTypeId.provider``.
        version: ``actionTypeId.version`` the typed factory writes.
        inputs: Allowed number of input artifacts ``(min, max)``.
        outputs: Allowed number of output artifacts ``(min, max)``.
        required: Configuration keys that must be present.
        optional: Other keys AWS accepts.
        conditional: Keys required only in some situations.
        one_of: Groups of keys of which at least one must be present.
        key_patterns: Regular expressions for keys with a variable part (``Image1ArtifactName``).
        allowed: Key -> allowed values (:data:`BOOL` for booleans).
        list_allowed: Key -> allowed items of a comma-separated list (``Capabilities``).
        ranges: Key -> inclusive integer range of a numeric setting.
        patterns: Key -> regular expression the whole value matches.
        json_keys: Keys whose value must be JSON text.
        artifact_keys: Keys whose value names one of the action's input artifacts.
        artifact_path_keys: Keys written ``ArtifactName::path`` (the artifact is an input).
        secrets: Keys AWS masks as ``****`` in ``get-pipeline`` output.
        output_variables: Variables the action produces; ``None`` when they depend on the
            action itself (CodeBuild exports, Lambda results, stack outputs, ...).
        v2_only: Whether only ``V2`` pipelines may use it.
        timeout_minutes: The action timeout AWS applies (reference §4.6).
        timeout_key: A setting (minutes, bounded by :attr:`ranges`) that replaces the timeout.
        open_configuration: Whether configuration keys are not documented (no unknown-key check).
        iam: The grants the action needs in the pipeline role; ``()`` for none (the default
            for third-party and custom owners), ``None`` when pipeweaver knows no
            least-privilege set (the synthesized template lists the type instead).
        revision_type: ``sourceRevisions`` revision type of a source (``COMMIT_ID``, ...).
        events: How its changes start a pipeline (sources only).
        handler: Key of the built-in local handler that runs it (the execution layer's
            registry resolves it); ``None`` when none does.
        source: The AWS page the entry comes from.

    .. versionadded:: 0.1.0
    """

    category: str
    owner: str
    provider: str
    version: str = "1"
    inputs: tuple[int, int]
    outputs: tuple[int, int]
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    conditional: tuple[Requirement, ...] = ()
    one_of: tuple[tuple[str, ...], ...] = ()
    key_patterns: tuple[str, ...] = ()
    allowed: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict, hash=False)
    list_allowed: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict, hash=False)
    ranges: Mapping[str, tuple[int, int]] = attrs.field(factory=dict, hash=False)
    patterns: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    json_keys: tuple[str, ...] = ()
    artifact_keys: tuple[str, ...] = ()
    artifact_path_keys: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    output_variables: tuple[str, ...] | None = ()
    v2_only: bool = False
    timeout_minutes: int = 60
    timeout_key: str | None = None
    open_configuration: bool = False
    iam: tuple[Grant, ...] | None = attrs.field(
        default=attrs.Factory(_default_iam, takes_self=True), hash=False, eq=False
    )
    revision_type: str | None = None
    events: EventSource | None = None
    handler: str | None = None
    source: str

    #: Every configuration key AWS documents for this type (required, conditional, optional).
    keys: frozenset[str] = attrs.field(init=False, hash=False, eq=False)

    def __attrs_post_init__(self) -> None:
        keys = (
            frozenset(self.required)
            | frozenset(self.optional)
            | {r.key for r in self.conditional}
            | {k for group in self.one_of for k in group}
        )
        # computed once: the validator asks for every action of every pipeline
        object.__setattr__(self, "keys", keys)

    def knows_key(self, key: str) -> bool:
        """Whether *key* is a documented configuration key of this type."""
        return key in self.keys or any(re.fullmatch(p, key) for p in self.key_patterns)

    def timeout(self, configuration: Mapping[str, object]) -> int:
        """
        Minutes AWS lets an action of this type with *configuration* run (reference §4.6).

        .. versionadded:: 0.1.0
        """
        if self.timeout_key is not None:
            value = configuration.get(self.timeout_key)
            if isinstance(value, str) and value.isdigit():
                return min(int(value), self.ranges[self.timeout_key][1])
        return self.timeout_minutes

    def __str__(self) -> str:
        return f"{self.category}/{self.owner}/{self.provider}"


@final
@attrs.frozen(kw_only=True)
class RuleTypeSpec:
    """
    What AWS documents about one stage-condition rule type (``category: Rule``, owner ``AWS``).

    Attributes:
        provider: ``ruleTypeId.provider``.
        required: Configuration keys that must be present.
        optional: Other keys AWS accepts.
        allowed: Key -> allowed values.
        needs_commands: Whether the rule runs top-level ``commands`` (the ``Commands`` rule).
        can_skip: Whether a ``beforeEntry`` condition with result ``SKIP`` may use it.
        open_configuration: Whether configuration keys are not documented.
        cron_keys: Keys holding a cron expression in AWS's window dialect (``DeploymentWindow``).
        source: The AWS page the entry comes from.

    .. versionadded:: 0.1.0
    """

    provider: str
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    allowed: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict, hash=False)
    needs_commands: bool = False
    can_skip: bool = False
    open_configuration: bool = False
    cron_keys: tuple[str, ...] = ()
    source: str

    @property
    def keys(self) -> frozenset[str]:
        """Every configuration key AWS documents for this rule type."""
        return frozenset(self.required) | frozenset(self.optional)


def entries(namespace: Mapping[str, object]) -> tuple[ProviderSpec, ...]:
    """Every :class:`ProviderSpec` a family module defines, in definition order: a new entry
    is one new constant, with no list to keep in step."""
    return tuple(v for v in namespace.values() if isinstance(v, ProviderSpec))
