"""The pipeline model: frozen, slotted, keyword-only attrs classes for every field of the
CodePipeline pipeline declaration (V1 and V2), and enums holding AWS's exact strings.

Layer: model. Imports :mod:`pipeweaver.errors`, :mod:`pipeweaver._names` and
:mod:`pipeweaver._when` (the ``when`` of conditional elements); it knows nothing of
wire formats (see :mod:`pipeweaver._codec`), graphs or execution. Construction checks single
fields; whole-pipeline rules live in :mod:`pipeweaver._validate`. ``Pipeline.graph()`` and
``Pipeline.validate()`` reach those layers through :data:`pipeweaver._services.SERVICES`, which
the package root fills, so no import points upwards (tests/test_layering.py).

Its public classes are documented as ``pipeweaver.X`` and say so in ``__module__`` from the
moment they exist (:func:`pipeweaver._public.publish` at the end), whichever way they are reached.

Over 700 lines because it holds one class per object of the CodePipeline declaration, so the
model reads in the order of AWS's API reference; each class is short.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias, TypeVar, final

import attrs

from . import _names
from ._catalog import SECRET_KEYS, lookup
from ._cfn_conditions import if_leaves
from ._names import checked, checked_count, checked_each
from ._public import publish
from ._services import SERVICES
from ._when import TemplateConditions, When
from .errors import DefinitionError

if TYPE_CHECKING:
    # networkx only names the type of Pipeline.graph(); only pipeweaver._graph imports it.
    import networkx as nx

__all__ = [
    "Action",
    "ActionCategory",
    "ActionOwner",
    "ActionType",
    "Artifact",
    "ArtifactStore",
    "BeforeEntryConditions",
    "Blocker",
    "Condition",
    "EncryptionKey",
    "EnvironmentVariable",
    "EnvironmentVariableType",
    "ExecutionMode",
    "Expression",
    "FailureConditions",
    "GitFilter",
    "GitPullRequestFilter",
    "GitPushFilter",
    "Pipeline",
    "PipelineType",
    "Plan",
    "PullRequestEvent",
    "Result",
    "RetryMode",
    "Rule",
    "RuleType",
    "Stage",
    "StagePlan",
    "SuccessConditions",
    "Text",
    "Trigger",
    "Variable",
    "plan",
]


class ActionCategory(enum.StrEnum):
    """``actionTypeId.category``."""

    SOURCE = "Source"
    BUILD = "Build"
    DEPLOY = "Deploy"
    TEST = "Test"
    INVOKE = "Invoke"
    APPROVAL = "Approval"
    COMPUTE = "Compute"


#: :class:`ActionCategory`'s values, accepted where an ``ActionCategory`` is.
CategoryName = Literal["Source", "Build", "Deploy", "Test", "Invoke", "Approval", "Compute"]


class ActionOwner(enum.StrEnum):
    """``actionTypeId.owner``."""

    AWS = "AWS"
    THIRD_PARTY = "ThirdParty"
    CUSTOM = "Custom"


#: :class:`ActionOwner`'s values, accepted where an ``ActionOwner`` is.
OwnerName = Literal["AWS", "ThirdParty", "Custom"]


class PipelineType(enum.StrEnum):
    """``pipelineType``: V2 adds variables, triggers, conditions and more execution modes."""

    V1 = "V1"
    V2 = "V2"


#: :class:`PipelineType`'s values, accepted where a ``PipelineType`` is.
PipelineTypeName = Literal["V1", "V2"]


class ExecutionMode(enum.StrEnum):
    """``executionMode``: how concurrent executions of one pipeline share its stages."""

    QUEUED = "QUEUED"
    SUPERSEDED = "SUPERSEDED"
    PARALLEL = "PARALLEL"


#: :class:`ExecutionMode`'s values, accepted where an ``ExecutionMode`` is.
ExecutionModeName = Literal["QUEUED", "SUPERSEDED", "PARALLEL"]


class Result(enum.StrEnum):
    """Result of a stage condition or of ``onFailure``."""

    ROLLBACK = "ROLLBACK"
    FAIL = "FAIL"
    RETRY = "RETRY"
    SKIP = "SKIP"


#: :class:`Result`'s values, accepted where a ``Result`` is.
ResultName = Literal["ROLLBACK", "FAIL", "RETRY", "SKIP"]


class RetryMode(enum.StrEnum):
    """``retryConfiguration.retryMode`` and the manual retry mode."""

    FAILED_ACTIONS = "FAILED_ACTIONS"
    ALL_ACTIONS = "ALL_ACTIONS"


#: :class:`RetryMode`'s values, accepted where a ``RetryMode`` is (mypy rejects a misspelt one).
RetryModeName = Literal["FAILED_ACTIONS", "ALL_ACTIONS"]


class EnvironmentVariableType(enum.StrEnum):
    """``environmentVariables[].type``."""

    PLAINTEXT = "PLAINTEXT"
    SECRETS_MANAGER = "SECRETS_MANAGER"


#: :class:`EnvironmentVariableType`'s values, accepted where an ``EnvironmentVariableType`` is.
EnvironmentVariableTypeName = Literal["PLAINTEXT", "SECRETS_MANAGER"]


class PullRequestEvent(enum.StrEnum):
    """Pull-request events a trigger filter can match (``CLOSED`` means closed or merged)."""

    OPEN = "OPEN"
    UPDATED = "UPDATED"
    CLOSED = "CLOSED"


#: :class:`PullRequestEvent`'s values, accepted where a ``PullRequestEvent`` is.
PullRequestEventName = Literal["OPEN", "UPDATED", "CLOSED"]


E = TypeVar("E", bound=enum.Enum)


def _to_enum(cls: type[E], field: str, value: Any) -> E:
    """*value* as a member of *cls*: the member itself, or the one AWS's word *value* names."""
    # AWS's word finds its member in the Enum's own value table, one dict lookup (every action
    # type built passes here twice); anything else (a member, an unknown word, another type)
    # takes the Enum's own path, whose ValueError becomes the DefinitionError below.
    if type(value) is str:
        member = cls._value2member_map_.get(value)
        if member is not None:
            # the table of cls holds members of cls
            return member  # type: ignore[return-value]
    if isinstance(value, cls):
        return value
    try:
        return cls(value)
    except ValueError:
        choices = ", ".join(str(m.value) for m in cls)
        raise DefinitionError(field, value, f"must be one of {choices}") from None


# Every action type built converts its category and owner: AWS's word is looked up in the
# Enum's own value table right here (the table _to_enum reads), without the call into it.
_CATEGORIES: Final[Mapping[Any, ActionCategory]] = ActionCategory._value2member_map_  # type: ignore[assignment]
_OWNERS: Final[Mapping[Any, ActionOwner]] = ActionOwner._value2member_map_  # type: ignore[assignment]


def _category(value: ActionCategory | CategoryName) -> ActionCategory:
    member = _CATEGORIES.get(value) if type(value) is str else None
    return member if member is not None else _to_enum(ActionCategory, "category", value)


def _owner(value: ActionOwner | OwnerName) -> ActionOwner:
    member = _OWNERS.get(value) if type(value) is str else None
    return member if member is not None else _to_enum(ActionOwner, "owner", value)


def _env_type(value: EnvironmentVariableType | EnvironmentVariableTypeName | None) -> EnvironmentVariableType | None:
    return None if value is None else _to_enum(EnvironmentVariableType, "type", value)


def _result(value: Result | ResultName | None) -> Result | None:
    return None if value is None else _to_enum(Result, "result", value)


def _retry_mode(value: RetryMode | RetryModeName | None) -> RetryMode | None:
    return None if value is None else _to_enum(RetryMode, "retry_mode", value)


def _pipeline_type(
    value: PipelineType | PipelineTypeName | Expression | None,
) -> PipelineType | Expression | None:
    if isinstance(value, Expression):
        # PipelineType: !If [IsProd, V2, V1]: each branch a type (or AWS::NoValue), chosen by the conditions
        leaves = if_leaves(value.raw)
        if leaves is None:
            raise DefinitionError("pipeline_type", value, "must be V1, V2 or an Fn::If choosing between them")
        for leaf in leaves:
            if leaf != {"Ref": "AWS::NoValue"}:
                _to_enum(PipelineType, "pipeline_type", leaf)
        return value
    return None if value is None else _to_enum(PipelineType, "pipeline_type", value)


def _execution_mode(value: ExecutionMode | ExecutionModeName | None) -> ExecutionMode | None:
    return None if value is None else _to_enum(ExecutionMode, "execution_mode", value)


@final
@attrs.frozen
class Expression:
    """
    A CloudFormation intrinsic function kept exactly as written, e.g. ``{"Ref": "RoleArn"}``.

    Templates imported with :func:`pipeweaver.synth.from_cloudformation` keep intrinsic values as
    expressions wherever a string may stand; they render back unchanged to CloudFormation and
    must be given values before rendering CodePipeline JSON.

    .. versionadded:: 0.1.0
    """

    raw_json: str
    #: What messages, run output and history show instead of the raw function, when set: a
    #: template's pipeline without ``Name`` is shown by its logical id. Not part of the value
    #: (equality, hashing, rendering).
    label: str | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> Expression:
        """Wrap an intrinsic function given as a one-key mapping."""
        return cls(json.dumps(raw, sort_keys=True, separators=(",", ":")))

    @property
    def raw(self) -> Any:
        """The intrinsic function as plain data."""
        return json.loads(self.raw_json)

    @property
    def function(self) -> str:
        """The function name, e.g. ``"Ref"`` or ``"Fn::Sub"``."""
        raw = self.raw
        return next(iter(raw)) if isinstance(raw, dict) and raw else ""

    def __str__(self) -> str:
        return self.label if self.label is not None else self.raw_json


#: A value that is a plain string or, in imported templates, an intrinsic function.
Text: TypeAlias = "str | Expression"


def _masked_repr(configuration: Mapping[str, str | Expression]) -> str:
    # A repr ends up in logs, tracebacks and bug reports; keys AWS itself masks as ``****``
    # (OAuthToken, ClientSecret, ...) are masked here too, whatever the provider, and so is a
    # dynamic reference to a secret under any key. The masker's module (html, base64,
    # threading) loads with the first repr, not with the model.
    from ._masking import MASK, is_secret

    return repr({k: MASK if is_secret(k, v, SECRET_KEYS) else v for k, v in configuration.items()})


def _texts(value: Mapping[str, Any] | None) -> dict[str, str | Expression]:
    return dict(value or {})


def _items(count_shape: str, item_shape: str) -> _names.Validator:
    """The item count of a tuple field, then each item: one validator, skipped when it is empty.

    The same checks, in the same order, as ``[checked_count(...), checked_each(...)]``, without
    attrs' composite validator and two calls per field when (as usual) the field is empty.
    """
    count, each = checked_count(count_shape), checked_each(item_shape)

    def validate(instance: Any, attribute: Any, value: Any) -> None:
        if value:
            count(instance, attribute, value)
            each(instance, attribute, value)

    return validate


def _strs(value: Iterable[str] | str | None) -> tuple[str, ...]:
    if type(value) is tuple:  # the default (), or a tuple already: tuple(value) is value itself
        return value
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


@final
@attrs.frozen
class Artifact:
    """
    A named, zipped bundle of files passed between actions.

    Create one as an action's output and pass the same object as a later action's input.

    Attributes:
        name: 1-100 characters: letters, digits, ``-`` and ``_``. Unique in the pipeline.
        files: For Compute (``Commands``) outputs only: the paths to collect (1-10).
        when: In an imported template, the condition under which this input or output is
            listed (``!If [IsProd, {Name: Binary}, !Ref AWS::NoValue]``); see :class:`When`.

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(validator=checked("ArtifactName"))
    files: tuple[str, ...] = attrs.field(
        default=(),
        converter=_strs,
        validator=_items("FilePathList", "FilePath"),
        kw_only=True,
    )
    when: When | None = attrs.field(default=None, kw_only=True)


@final
@attrs.frozen(kw_only=True)
class ActionType:
    """
    ``actionTypeId``: which kind of action this is.

    .. versionadded:: 0.1.0
    """

    category: ActionCategory = attrs.field(converter=_category)
    owner: ActionOwner = attrs.field(default=ActionOwner.AWS, converter=_owner)
    provider: str = attrs.field(validator=checked("ActionProvider"))
    version: str = attrs.field(default="1", validator=checked("Version"))

    def __str__(self) -> str:
        return f"{self.category}/{self.owner}/{self.provider}/{self.version}"


@final
@attrs.frozen(kw_only=True)
class EnvironmentVariable:
    """
    One entry of an action's ``environmentVariables`` (Commands and EKS actions).

    Attributes:
        type: ``SECRETS_MANAGER`` makes *value* the name of a secret; ``None`` means the
            default (``PLAINTEXT``) and is left out of the JSON.

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(validator=checked("EnvironmentVariableName"))
    value: str | Expression = attrs.field(validator=checked("EnvironmentVariableValue"))
    type: EnvironmentVariableType | None = attrs.field(default=None, converter=_env_type)


def _artifacts(value: Iterable[Artifact] | Artifact | None) -> tuple[Artifact, ...]:
    if value is None:
        return ()
    if isinstance(value, Artifact):
        return (value,)
    items = tuple(value)
    for item in items:
        if not isinstance(item, Artifact):
            raise DefinitionError(
                "artifacts", item, "must be Artifact objects (wire artifacts by object: Artifact('name'))"
            )
    return items


def _env(value: Iterable[EnvironmentVariable] | Mapping[str, str] | None) -> tuple[EnvironmentVariable, ...]:
    if type(value) is tuple:  # the default (), or a tuple already: tuple(value) is value itself
        return value
    if value is None:
        return ()
    if isinstance(value, Mapping):
        return tuple(EnvironmentVariable(name=k, value=v) for k, v in value.items())
    return tuple(value)


def _check_configuration(_instance: Any, attribute: Any, value: Mapping[str, Any]) -> None:
    if not _names.is_checking():
        return
    for key, item in value.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 50:
            raise DefinitionError(attribute.name, key, "configuration keys must be 1..50 characters")
        if isinstance(item, str):
            if not 1 <= len(item) <= 1000:
                raise DefinitionError(
                    f"{attribute.name}[{key!r}]",
                    item if len(item) < 80 else item[:77] + "...",
                    "configuration values must be 1..1000 characters (leave the key out instead of an empty value)",
                )
        elif not isinstance(item, Expression):
            raise DefinitionError(
                f"{attribute.name}[{key!r}]",
                item,
                "configuration values are strings; write booleans as 'true'/'false' and lists as JSON text",
            )


@final
@attrs.frozen(kw_only=True)
class Action:
    """
    One action in a stage (``ActionDeclaration``).

    Attributes:
        name: Unique within its stage.
        action_type: Category, owner, provider and version.
        run_order: 1-999; equal values in a stage run in parallel, lower values first. In an
            imported template, an expression (``!Ref`` to a ``Number`` parameter).
        configuration: Provider settings, all string values.
        commands: Shell commands (Compute ``Commands`` actions only).
        inputs: Artifacts this action reads; each must be produced by an earlier action.
        outputs: Artifacts this action writes.
        output_variables: Environment variables a Compute action exports.
        role_arn: Role assumed through the pipeline role (cross-account actions).
        region: Region the action runs in, when not the pipeline's.
        namespace: Variable namespace; ``#{namespace.Key}`` references this action's outputs.
        timeout_in_minutes: 5-86400; used by manual approvals.
        environment_variables: Environment for Commands/EKS actions.
        when: The template condition under which the action exists (:class:`When`).

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(validator=checked("ActionName"))
    action_type: ActionType
    run_order: int | Expression = attrs.field(default=1, validator=checked("ActionRunOrder"))
    configuration: Mapping[str, str | Expression] = attrs.field(
        factory=dict, converter=_texts, hash=False, validator=_check_configuration, repr=_masked_repr
    )
    commands: tuple[str, ...] = attrs.field(default=(), converter=_strs, validator=_items("CommandList", "Command"))
    inputs: tuple[Artifact, ...] = attrs.field(default=(), converter=_artifacts)
    outputs: tuple[Artifact, ...] = attrs.field(default=(), converter=_artifacts)
    output_variables: tuple[str, ...] = attrs.field(
        default=(),
        converter=_strs,
        validator=_items("OutputVariableList", "OutputVariable"),
    )
    role_arn: str | Expression | None = attrs.field(default=None, validator=checked("RoleArn", optional=True))
    region: str | Expression | None = attrs.field(default=None, validator=checked("AWSRegionName", optional=True))
    namespace: str | None = attrs.field(default=None, validator=checked("ActionNamespace", optional=True))
    timeout_in_minutes: int | None = attrs.field(default=None, validator=checked("ActionTimeout", optional=True))
    environment_variables: tuple[EnvironmentVariable, ...] = attrs.field(
        default=(), converter=_env, validator=checked_count("EnvironmentVariableList")
    )
    when: When | None = None

    @property
    def category(self) -> ActionCategory:
        """Shortcut for ``action_type.category``."""
        return self.action_type.category

    @property
    def provider(self) -> str:
        """Shortcut for ``action_type.provider``."""
        return self.action_type.provider

    @property
    def owner(self) -> ActionOwner:
        """Shortcut for ``action_type.owner``."""
        return self.action_type.owner

    def output(self, name: str | None = None) -> Artifact:
        """
        Return this action's output artifact (the only one, or the one called *name*).

        Raises:
            DefinitionError: when the action has no such output.
        """
        if name is None:
            if len(self.outputs) == 1:
                return self.outputs[0]
            if not self.outputs:
                raise self._no_output()
            names = [a.name for a in self.outputs]
            raise DefinitionError(
                "outputs", names, f"action {self.name!r} has {len(names)} outputs; pick one with output(name=...)"
            )
        for artifact in self.outputs:
            if artifact.name == name:
                return artifact
        raise DefinitionError("outputs", name, f"action {self.name!r} has no output artifact {name!r}")

    def _no_output(self) -> DefinitionError:
        """Why ``output()`` has nothing to return, and a fix that fits this action's provider."""
        kind = f"{self.category}/{self.owner}/{self.provider}"
        spec = lookup(self.action_type)
        message = f"output() of action {self.name!r} ({kind}): the action declares no output artifact"
        if spec is not None and spec.outputs[1] == 0:
            # Declaring an output would only move the error to lint (PW2xx): say it can never have one.
            return DefinitionError(
                "outputs",
                self.outputs,
                "no output artifact",
                message=f"output() of action {self.name!r} ({kind}): {self.provider} {self.category.lower()} "
                "actions produce no output artifact, so there is nothing to pass on",
                hint="give the next action an artifact made by an earlier action (a source's or a build's "
                ".output()) instead",
            )
        example = f"{self.name}Output" if re.fullmatch(r"[A-Za-z0-9_\-]{1,90}", self.name) else "Output"
        if spec is not None and spec.outputs[1] == 1:
            # The typed factories of one-output providers take one artifact: output=..., not outputs=[...].
            factory = f"output={example!r}"
        else:
            factory = f"outputs=[{example!r}]"
        return DefinitionError(
            "outputs",
            self.outputs,
            "no output artifact",
            message=message,
            hint=f"declare it where the action is made: {factory} in its typed factory from pipeweaver.actions, "
            f"or outputs=[pw.Artifact({example!r})] in pw.Action(...)",
        )

    def variable(self, key: str) -> str:
        """
        Return the ``#{Namespace.key}`` reference to one of this action's output variables.

        Raises:
            DefinitionError: when the action has no namespace, since variables of an action
                without a namespace cannot be referenced.
        """
        if not self.namespace:
            raise DefinitionError(
                "namespace",
                None,
                f"action {self.name!r} has no namespace, so its variables cannot be referenced; "
                f"build it with namespace='...' first",
            )
        if not re.fullmatch(r"[A-Za-z0-9@\-_]+", key):
            raise DefinitionError("key", key, "variable keys use letters, digits, @ - _ only")
        return f"#{{{self.namespace}.{key}}}"


@final
@attrs.frozen(kw_only=True)
class Blocker:
    """A stage blocker (reserved by AWS; kept so that definitions round-trip).

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(validator=checked("BlockerName"))
    #: AWS's only blocker type (BlockerType); another value is reported by validation.
    type: Literal["Schedule"] = "Schedule"


@final
@attrs.frozen(kw_only=True)
class RuleType:
    """``ruleTypeId`` of a condition rule (owner and version may be left out, as in the API).

    .. versionadded:: 0.1.0
    """

    provider: str = attrs.field(validator=checked("RuleProvider"))
    #: AWS's only rule category (RuleCategory) and owner (RuleOwner); other values are reported by validation.
    category: Literal["Rule"] = "Rule"
    owner: Literal["AWS"] | None = "AWS"
    version: str | None = attrs.field(default="1", validator=checked("Version", optional=True))


@final
@attrs.frozen(kw_only=True)
class Rule:
    """
    A rule of a stage condition (``RuleDeclaration``), e.g. ``VariableCheck``.

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(validator=checked("RuleName"))
    rule_type: RuleType
    configuration: Mapping[str, str | Expression] = attrs.field(factory=dict, converter=_texts, hash=False)
    commands: tuple[str, ...] = attrs.field(default=(), converter=_strs)
    inputs: tuple[Artifact, ...] = attrs.field(default=(), converter=_artifacts)
    role_arn: str | Expression | None = attrs.field(default=None, validator=checked("RoleArn", optional=True))
    region: str | None = attrs.field(default=None, validator=checked("AWSRegionName", optional=True))
    timeout_in_minutes: int | None = attrs.field(default=None, validator=checked("RuleTimeout", optional=True))


def _rules(value: Iterable[Rule]) -> tuple[Rule, ...]:
    return tuple(value)


@final
@attrs.frozen(kw_only=True)
class Condition:
    """
    A condition: a result applied when its rules fail (``result`` may be left out).

    .. versionadded:: 0.1.0
    """

    result: Result | None = attrs.field(default=None, converter=_result)
    rules: tuple[Rule, ...] = attrs.field(default=(), converter=_rules, validator=checked_count("RuleDeclarationList"))


def _conditions(value: Iterable[Condition] | Condition | None) -> tuple[Condition, ...]:
    if value is None:
        return ()
    if isinstance(value, Condition):
        return (value,)
    return tuple(value)


@final
@attrs.frozen(kw_only=True)
class FailureConditions:
    """
    ``onFailure`` of a stage (V2): automatic ``RETRY`` or ``ROLLBACK``, or conditions.

    Attributes:
        retry_mode: With ``result=RETRY``: ``FAILED_ACTIONS`` or ``ALL_ACTIONS``
            (``retryConfiguration.retryMode``). ``None`` leaves ``retryConfiguration`` out.
        has_retry_configuration: With no *retry_mode*: write an empty ``retryConfiguration: {}``
            (kept only so that such definitions round-trip).

    .. versionadded:: 0.1.0
    """

    result: Result | None = attrs.field(default=None, converter=_result)
    retry_mode: RetryMode | None = attrs.field(default=None, converter=_retry_mode)
    has_retry_configuration: bool = False
    conditions: tuple[Condition, ...] = attrs.field(
        default=(), converter=_conditions, validator=checked_count("ConditionList")
    )


@final
@attrs.frozen(kw_only=True)
class SuccessConditions:
    """``onSuccess`` of a stage (V2): exactly one condition checked after the actions succeed.

    .. versionadded:: 0.1.0
    """

    conditions: tuple[Condition, ...] = attrs.field(converter=_conditions, validator=checked_count("ConditionList"))


@final
@attrs.frozen(kw_only=True)
class BeforeEntryConditions:
    """``beforeEntry`` of a stage (V2): exactly one condition checked before the stage starts.

    .. versionadded:: 0.1.0
    """

    conditions: tuple[Condition, ...] = attrs.field(converter=_conditions, validator=checked_count("ConditionList"))


def _actions(value: Iterable[Action]) -> tuple[Action, ...]:
    return tuple(value)


def _blockers(value: Iterable[Blocker]) -> tuple[Blocker, ...]:
    return tuple(value)


@final
@attrs.frozen(kw_only=True)
class Stage:
    """
    A stage: actions run by ``run_order`` (``StageDeclaration``).

    ``when`` (:class:`When`): in an imported template, the condition under which the stage exists.

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(validator=checked("StageName"))
    actions: tuple[Action, ...] = attrs.field(converter=_actions)
    blockers: tuple[Blocker, ...] = attrs.field(default=(), converter=_blockers)
    on_failure: FailureConditions | None = None
    on_success: SuccessConditions | None = None
    before_entry: BeforeEntryConditions | None = None
    when: When | None = None

    def action(self, name: str) -> Action:
        """Return the action called *name* (``KeyError`` naming the choices if absent)."""
        for action in self.actions:
            if action.name == name:
                return action
        raise KeyError(f"stage {self.name!r} has no action {name!r}; it has {[a.name for a in self.actions]}")

    def waves(self) -> tuple[tuple[Action, ...], ...]:
        """Actions grouped by ``run_order``, lowest first: each group runs in parallel."""
        groups: dict[int | Expression, list[Action]] = {}
        for action in self.actions:
            groups.setdefault(action.run_order, []).append(action)
        # An expression (an unresolved template parameter) has no place yet: after the numbers.
        return tuple(
            tuple(groups[k]) for k in sorted(groups, key=lambda k: (1, str(k)) if isinstance(k, Expression) else (0, k))
        )


@final
@attrs.frozen(kw_only=True, repr=False)
class StagePlan:
    """One stage of an execution plan: waves of actions that run together, in order.

    .. versionadded:: 0.1.0
    """

    stage: Stage
    waves: tuple[tuple[Action, ...], ...]

    def __repr__(self) -> str:
        # Names, not the whole Stage and Action objects: a plan is read for its shape.
        waves = [[a.name for a in wave] for wave in self.waves]
        return f"StagePlan(stage={self.stage.name!r}, waves={waves!r})"


@final
@attrs.frozen(kw_only=True, repr=False)
class Plan:
    """The execution plan of a pipeline: stages in order.

    .. versionadded:: 0.1.0
    """

    stages: tuple[StagePlan, ...]

    def __iter__(self) -> Iterator[StagePlan]:
        return iter(self.stages)

    def __repr__(self) -> str:
        return f"Plan(stages=[{', '.join(map(repr, self.stages))}])"

    def describe(self) -> str:
        """A short text view: one line per wave."""
        lines = []
        for sp in self.stages:
            lines.append(str(sp.stage.name))  # str(): an imported template's name may be an Expression
            for i, wave in enumerate(sp.waves, 1):
                lines.append(f"  {i}: " + ", ".join(str(a.name) for a in wave))
        return "\n".join(lines)


def plan(pipeline: Pipeline) -> Plan:
    """Return the execution plan: every stage with its actions grouped into runOrder waves."""
    return Plan(stages=tuple(StagePlan(stage=s, waves=s.waves()) for s in pipeline.stages))


@final
@attrs.frozen(kw_only=True)
class EncryptionKey:
    """KMS key of an artifact store (id, key ARN or alias ARN).

    .. versionadded:: 0.1.0
    """

    id: str | Expression = attrs.field(validator=checked("EncryptionKeyId"))
    #: AWS's only key type (EncryptionKeyType); another value is reported by validation.
    type: Literal["KMS"] = "KMS"


@final
@attrs.frozen(kw_only=True)
class ArtifactStore:
    """The S3 bucket that holds a pipeline's artifacts in one region.

    .. versionadded:: 0.1.0
    """

    location: str | Expression = attrs.field(validator=checked("ArtifactStoreLocation"))
    #: AWS's only artifact store type (ArtifactStoreType); another value is reported by validation.
    type: Literal["S3"] = "S3"
    encryption_key: EncryptionKey | None = None


@final
@attrs.frozen(kw_only=True)
class Variable:
    """A pipeline-level variable (V2), referenced as ``#{variables.name}``.

    ``when`` (:class:`When`): in an imported template, the condition under which it is declared.

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(validator=checked("PipelineVariableName"))
    default_value: str | Expression | None = attrs.field(
        default=None, validator=checked("PipelineVariableValue", optional=True)
    )
    description: str | None = attrs.field(default=None, validator=checked("PipelineVariableDescription", optional=True))
    when: When | None = None

    @property
    def ref(self) -> str:
        """The ``#{variables.name}`` reference to this variable."""
        return f"#{{variables.{self.name}}}"


@final
@attrs.frozen(kw_only=True)
class GitFilter:
    """Include/exclude glob patterns for branches, tags or file paths.

    .. versionadded:: 0.1.0
    """

    includes: tuple[str, ...] = attrs.field(
        default=(), converter=_strs, validator=checked_count("GitBranchPatternList")
    )
    excludes: tuple[str, ...] = attrs.field(
        default=(), converter=_strs, validator=checked_count("GitBranchPatternList")
    )


def _git_filter(value: GitFilter | Iterable[str] | str | None) -> GitFilter | None:
    if value is None or isinstance(value, GitFilter):
        return value
    return GitFilter(includes=_strs(value))


@final
@attrs.frozen(kw_only=True)
class GitPushFilter:
    """One push filter: ``tags`` alone, ``branches`` alone, or ``branches`` + ``file_paths``.

    A plain list of patterns is taken as ``includes``.

    .. versionadded:: 0.1.0
    """

    tags: GitFilter | None = attrs.field(default=None, converter=_git_filter)
    branches: GitFilter | None = attrs.field(default=None, converter=_git_filter)
    file_paths: GitFilter | None = attrs.field(default=None, converter=_git_filter)


def _events(value: Iterable[PullRequestEvent | PullRequestEventName] | None) -> tuple[PullRequestEvent, ...]:
    if value is None:
        return ()
    out = []
    for item in value:
        try:
            out.append(PullRequestEvent(item))
        except ValueError:
            raise DefinitionError("events", item, "must be one of OPEN, UPDATED, CLOSED") from None
    return tuple(out)


@final
@attrs.frozen(kw_only=True)
class GitPullRequestFilter:
    """One pull-request filter: ``branches`` (+ ``file_paths``), optionally limited to events.

    .. versionadded:: 0.1.0
    """

    events: tuple[PullRequestEvent, ...] = attrs.field(default=(), converter=_events)
    branches: GitFilter | None = attrs.field(default=None, converter=_git_filter)
    file_paths: GitFilter | None = attrs.field(default=None, converter=_git_filter)


def _action_name(value: Action | str) -> str:
    return value.name if isinstance(value, Action) else value


def _push(value: Iterable[GitPushFilter] | GitPushFilter | None) -> tuple[GitPushFilter, ...]:
    if value is None:
        return ()
    if isinstance(value, GitPushFilter):
        return (value,)
    return tuple(value)


def _pull(value: Iterable[GitPullRequestFilter] | GitPullRequestFilter | None) -> tuple[GitPullRequestFilter, ...]:
    if value is None:
        return ()
    if isinstance(value, GitPullRequestFilter):
        return (value,)
    return tuple(value)


@final
@attrs.frozen(kw_only=True)
class Trigger:
    """
    A V2 git trigger on a ``CodeStarSourceConnection`` source action.

    Attributes:
        source_action_name: The source action it applies to (an :class:`Action` is accepted).
        push: Push filters (OR'ed), 1-3.
        pull_request: Pull-request filters (OR'ed), 1-3.
        when: The template condition under which the trigger exists (:class:`When`).

    .. versionadded:: 0.1.0
    """

    source_action_name: str = attrs.field(converter=_action_name, validator=checked("ActionName"))
    push: tuple[GitPushFilter, ...] = attrs.field(
        default=(), converter=_push, validator=checked_count("GitPushFilterList")
    )
    pull_request: tuple[GitPullRequestFilter, ...] = attrs.field(
        default=(), converter=_pull, validator=checked_count("GitPullRequestFilterList")
    )
    #: AWS's only trigger provider (PipelineTriggerProviderType); another value is reported by validation.
    provider_type: Literal["CodeStarSourceConnection"] = "CodeStarSourceConnection"
    when: When | None = None


def _stages(value: Iterable[Stage]) -> tuple[Stage, ...]:
    return tuple(value)


def _variables(value: Iterable[Variable]) -> tuple[Variable, ...]:
    return tuple(value)


def _triggers(value: Iterable[Trigger] | Trigger) -> tuple[Trigger, ...]:
    if isinstance(value, Trigger):
        return (value,)
    return tuple(value)


def _stores(value: Mapping[str, ArtifactStore] | None) -> dict[str, ArtifactStore] | None:
    return None if value is None else dict(value)


def _strmap(value: Mapping[str, str] | None) -> dict[str, str]:
    return dict(value or {})


def _whens(value: Mapping[str, When] | None) -> dict[str, When]:
    return dict(value or {})


def _tagged(instance: Any, _attribute: Any, value: Mapping[str, When]) -> None:
    unknown = sorted(set(value) - set(instance.tags)) if value else None
    if unknown:
        raise DefinitionError(
            "tags_when", unknown, f"names tags that tags does not set (it sets {sorted(instance.tags)})"
        )


def _held(instance: Any, _attribute: Any, value: Mapping[str, When]) -> None:
    unknown = [str(k) for k in value if k not in instance.disabled_transitions] if value else None
    if unknown:
        held = [str(k) for k in instance.disabled_transitions]
        raise DefinitionError(
            "disabled_transitions_when", unknown, f"names stages that disabled_transitions does not hold ({held})"
        )


@final
@attrs.frozen(kw_only=True)
class Pipeline:
    """
    A whole pipeline (``PipelineDeclaration``) plus the few settings that live beside it.

    Attributes:
        name: 1-100 characters, unique per account and region.
        role_arn: The service role CodePipeline assumes.
        stages: 2-50 stages, run in order.
        artifact_store: The artifact bucket (single-region pipelines).
        artifact_stores: Region -> artifact bucket (cross-region pipelines); exactly one of
            *artifact_store* and *artifact_stores* is set.
        pipeline_type: ``V1`` or ``V2``; ``None`` leaves it out of the JSON. In an imported
            template, an ``Fn::If`` :class:`Expression` choosing between them (``!If [IsProd,
            V2, V1]``), chosen by the parameters as conditional elements are.
        execution_mode: ``SUPERSEDED`` (AWS's default), ``QUEUED`` or ``PARALLEL``.
        variables: Pipeline-level variables (V2).
        triggers: Git triggers (V2).
        tags: Resource tags (sent beside the declaration, never inside it).
        disabled_transitions: Stage name -> reason, for stages whose inbound transition is
            disabled (``DisableInboundStageTransitions`` in CloudFormation).
        restart_execution_on_update: CloudFormation's ``RestartExecutionOnUpdate``.
        tags_when: Tag key -> the template condition under which that tag is set (:class:`When`).
        disabled_transitions_when: Stage name (a key of ``disabled_transitions``) -> the
            template condition under which that transition is disabled (:class:`When`).
        template_conditions: The template's ``Conditions`` (and the ``Parameters`` they read)
            that the ``when`` of its elements name; see :class:`TemplateConditions`.

    An imported template's conditional elements stay in the model (each with its ``when``);
    :func:`pipeweaver.synth.to_codepipeline` and local runs keep those the parameter values choose.

    .. versionadded:: 0.1.0
    """

    name: str | Expression = attrs.field(validator=checked("PipelineName"))
    role_arn: str | Expression = attrs.field(validator=checked("RoleArn"))
    stages: tuple[Stage, ...] = attrs.field(converter=_stages)
    artifact_store: ArtifactStore | None = None
    artifact_stores: Mapping[str, ArtifactStore] | None = attrs.field(default=None, converter=_stores, hash=False)
    pipeline_type: PipelineType | Expression | None = attrs.field(default=None, converter=_pipeline_type)
    execution_mode: ExecutionMode | None = attrs.field(default=None, converter=_execution_mode)
    variables: tuple[Variable, ...] = attrs.field(
        default=(), converter=_variables, validator=checked_count("PipelineVariableDeclarationList")
    )
    triggers: tuple[Trigger, ...] = attrs.field(
        default=(), converter=_triggers, validator=checked_count("PipelineTriggerDeclarationList")
    )
    tags: Mapping[str, str] = attrs.field(factory=dict, converter=_strmap, hash=False)
    disabled_transitions: Mapping[str, str] = attrs.field(factory=dict, converter=_strmap, hash=False)
    restart_execution_on_update: bool | None = None
    tags_when: Mapping[str, When] = attrs.field(factory=dict, converter=_whens, hash=False, validator=_tagged)
    disabled_transitions_when: Mapping[str, When] = attrs.field(
        factory=dict, converter=_whens, hash=False, validator=_held
    )
    template_conditions: TemplateConditions | None = None

    # -- navigation -------------------------------------------------------------------------

    def stage(self, name: str) -> Stage:
        """Return the stage called *name* (``KeyError`` naming the choices if absent)."""
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(f"pipeline has no stage {name!r}; it has {[s.name for s in self.stages]}")

    def actions(self) -> Iterable[tuple[Stage, Action]]:
        """Every ``(stage, action)`` pair in declaration order."""
        for stage in self.stages:
            for action in stage.actions:
                yield stage, action

    def find_action(self, name: str) -> tuple[Stage, Action]:
        """Return ``(stage, action)`` for *name* (``"Stage/Action"`` or a unique action name)."""
        stage_name, _, action_name = name.rpartition("/")
        found = [
            (s, a) for s, a in self.actions() if a.name == action_name and (not stage_name or s.name == stage_name)
        ]
        if len(found) != 1:
            known = [f"{s.name}/{a.name}" for s, a in self.actions()]
            if not found:
                # A misspelt name is the likely mistake: name the close action, not only the syntax.
                import difflib

                names = sorted({*known, *(a.name for _, a in self.actions())})
                near = difflib.get_close_matches(name, names, n=1)
                if near:
                    raise KeyError(f"the pipeline has no action {name!r}; did you mean {near[0]!r}? (actions: {known})")
            raise KeyError(f"{name!r} names {len(found)} actions; use 'Stage/Action' with one of {known}")
        return found[0]

    @property
    def effective_type(self) -> PipelineType:
        """``pipeline_type``, or ``V1`` when it is left out (for a type chosen by a condition, choose first)."""
        if isinstance(self.pipeline_type, Expression):
            raise DefinitionError("pipeline_type", self.pipeline_type, "is chosen by a template condition")
        return self.pipeline_type or PipelineType.V1

    @property
    def effective_execution_mode(self) -> ExecutionMode:
        """``execution_mode``, or AWS's default ``SUPERSEDED`` when it is left out."""
        return self.execution_mode or ExecutionMode.SUPERSEDED

    # -- conveniences served by the layers above (through SERVICES: nothing is imported upwards) --

    def graph(self) -> nx.DiGraph[tuple[str, str]]:
        """The action DAG; see :func:`pipeweaver.build_graph`."""
        graph: nx.DiGraph[tuple[str, str]] = SERVICES.need("graph", SERVICES.build_graph)(self)
        return graph

    def plan(self) -> Plan:
        """The execution plan: stages in order, each a list of parallel waves."""
        return plan(self)

    def validate(self) -> None:
        """
        Check every rule AWS enforces; raise if any error is found.

        Raises:
            ValidationError: carrying every issue (errors and warnings) in ``.issues``.
        """
        SERVICES.need("validate", SERVICES.validate)(self)


# Every class here is exported by the package root, which loads this module on first use only.
publish(globals(), __all__, "pipeweaver")
