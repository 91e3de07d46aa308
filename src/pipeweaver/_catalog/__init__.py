"""The provider catalog: one home per action provider and rule type, as data.

Layer: names/limits. Imports nothing above :mod:`pipeweaver.errors`. Each
:class:`ProviderSpec` holds everything pipeweaver knows about one action type: its type id,
artifact bounds, configuration keys, output variables, default timeout, IAM grants, revision
type, event source and local handler key (see :mod:`._spec`). The typed factories in
:mod:`pipeweaver.actions`, lint's configuration rules, the pipeline-role synthesis, masking,
the AWS executor and the local handler registry all read these entries, so adding a provider
is adding one entry to its family module (docs/contributing.md shows how).

The entries are grouped by family (``_source``, ``_build``, ``_deploy``, ``_invoke``); each
cites the page it comes from (reference/codepipeline.md §3.1-§3.3 for the table, §4.6 for
timeouts). Every entry is also a constant here (``CODEBUILD``, ``CONNECTION_SOURCE``, ...),
so code that selects behaviour by provider names the entry instead of spelling its strings.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Final, Protocol

from . import _build, _deploy, _invoke, _source
from ._build import (
    CODEBUILD,
    CODEBUILD_TEST,
    COMMANDS,
    DEVICE_FARM,
    ECR_BUILD_AND_PUBLISH,
    JENKINS_BUILD,
    JENKINS_TEST,
)
from ._deploy import (
    ALEXA_SKILLS_KIT,
    APPCONFIG,
    CAPABILITIES,
    CLOUDFORMATION,
    CLOUDFORMATION_STACK_INSTANCES,
    CLOUDFORMATION_STACKSET,
    CODEDEPLOY,
    EC2_DEPLOY,
    ECS_BLUE_GREEN,
    ECS_DEPLOY,
    EKS_DEPLOY,
    ELASTIC_BEANSTALK,
    LAMBDA_DEPLOY,
    OPSWORKS,
    S3_DEPLOY,
    SERVICE_CATALOG,
    ActionMode,
    Capability,
)
from ._invoke import (
    INSPECTOR_SCAN,
    LAMBDA_INVOKE,
    MANUAL_APPROVAL,
    PIPELINE_INVOKE,
    SNYK,
    STEP_FUNCTIONS,
)
from ._rules import RULE_TYPES
from ._source import (
    CODECOMMIT_SOURCE,
    COMMIT_MESSAGE_LIMIT,
    CONNECTION_SOURCE,
    ECR_SOURCE,
    GITHUB_V1_SOURCE,
    S3_SOURCE,
    OutputArtifactFormat,
)
from ._spec import (
    BOOL,
    PIPELINE_NAME,
    Arn,
    EventSource,
    Grant,
    Named,
    ProviderSpec,
    Requirement,
    Resource,
    RuleTypeSpec,
    Setting,
)

__all__ = [
    "ActionMode",
    "Capability",
    "OutputArtifactFormat",
    "ALEXA_SKILLS_KIT",
    "APPCONFIG",
    "Arn",
    "BOOL",
    "CAPABILITIES",
    "CLOUDFORMATION",
    "CLOUDFORMATION_STACKSET",
    "CLOUDFORMATION_STACK_INSTANCES",
    "CODEBUILD",
    "CODEBUILD_TEST",
    "CODECOMMIT_SOURCE",
    "COMMIT_MESSAGE_LIMIT",
    "CODEDEPLOY",
    "COMMANDS",
    "CONNECTION_SOURCE",
    "DEVICE_FARM",
    "EC2_DEPLOY",
    "ECR_BUILD_AND_PUBLISH",
    "ECR_SOURCE",
    "ECS_BLUE_GREEN",
    "ECS_DEPLOY",
    "EKS_DEPLOY",
    "ELASTIC_BEANSTALK",
    "EventSource",
    "GITHUB_V1_SOURCE",
    "Grant",
    "INSPECTOR_SCAN",
    "JENKINS_BUILD",
    "JENKINS_TEST",
    "LAMBDA_DEPLOY",
    "LAMBDA_INVOKE",
    "MANUAL_APPROVAL",
    "Named",
    "OPSWORKS",
    "PIPELINE_INVOKE",
    "PIPELINE_NAME",
    "PROVIDERS",
    "ProviderSpec",
    "RULE_TYPES",
    "Requirement",
    "Resource",
    "RuleTypeSpec",
    "S3_DEPLOY",
    "S3_SOURCE",
    "SECRET_KEYS",
    "SERVICE_CATALOG",
    "SNYK",
    "STEP_FUNCTIONS",
    "Setting",
    "default_timeout",
    "iter_specs",
    "lookup",
    "lookup_rule",
    "providers_named",
    "revision_type",
    "revision_variable",
    "source_spec",
]


class _TypeId(Protocol):
    @property
    def category(self) -> str: ...

    @property
    def owner(self) -> str: ...

    @property
    def provider(self) -> str: ...


#: Every action type of reference §3.1, keyed by ``(category, owner, provider)``, in table order.
PROVIDERS: Final[Mapping[tuple[str, str, str], ProviderSpec]] = {
    (s.category, s.owner, s.provider): s for s in (*_source.SPECS, *_build.SPECS, *_deploy.SPECS, *_invoke.SPECS)
}

_BY_PROVIDER: Final[dict[str, list[ProviderSpec]]] = {}
for _spec in PROVIDERS.values():
    _BY_PROVIDER.setdefault(_spec.provider, []).append(_spec)

#: Source entries by provider: each source provider string has one entry, whatever its owner.
_SOURCES: Final[dict[str, ProviderSpec]] = {s.provider: s for s in _source.SPECS}


#: Every configuration key that AWS masks as ``****`` for some provider.
SECRET_KEYS: Final[frozenset[str]] = frozenset(k for spec in PROVIDERS.values() for k in spec.secrets)


def lookup(action_type: _TypeId | None = None, /, **parts: str) -> ProviderSpec | None:
    """
    Return the catalog entry of an action type, or ``None`` when AWS documents no such type.

    Args:
        action_type: Anything with ``category``, ``owner`` and ``provider`` (an
            :class:`~pipeweaver.ActionType`); or pass ``category=``, ``owner=``, ``provider=``.

    .. versionadded:: 0.1.0
    """
    if action_type is not None:
        key = (str(action_type.category), str(action_type.owner), str(action_type.provider))
    else:
        key = (parts.get("category", ""), parts.get("owner", "AWS"), parts.get("provider", ""))
    return PROVIDERS.get(key)


def providers_named(provider: str) -> list[ProviderSpec]:
    """Every catalog entry whose provider string is *provider* (any category or owner).

    .. versionadded:: 0.1.0
    """
    return list(_BY_PROVIDER.get(provider, ()))


def lookup_rule(provider: str) -> RuleTypeSpec | None:
    """Return the catalog entry of a rule type (``ruleTypeId.provider``), or ``None``.

    .. versionadded:: 0.1.0
    """
    return RULE_TYPES.get(provider)


def default_timeout(action_type: _TypeId, configuration: Mapping[str, object] | None = None) -> int:
    """
    Minutes AWS lets an action of this type run before failing it (reference §4.6).

    With *configuration*, a setting that replaces the timeout (ECS ``DeploymentTimeout``)
    counts. Uncatalogued custom action types get the 24-hour custom-action timeout; anything
    else unknown gets AWS's one-hour default.

    .. versionadded:: 0.1.0
    """
    spec = lookup(action_type)
    if spec is not None:
        return spec.timeout(configuration or {})
    return 24 * 60 if str(action_type.owner) == "Custom" else 60


def source_spec(provider: str) -> ProviderSpec | None:
    """The ``Source`` entry whose provider string is *provider*, whatever the owner.

    .. versionadded:: 0.1.0
    """
    return _SOURCES.get(provider)


def revision_type(provider: str) -> str | None:
    """The ``sourceRevisions`` revision type of *provider*'s source, or ``None`` if it has none.

    .. versionadded:: 0.1.0
    """
    spec = _SOURCES.get(provider)
    return spec.revision_type if spec is not None else None


#: The output variable that holds a source's revision, by revision type (the value a
#: ``sourceRevisions`` override gives, and CodeBuild's CODEBUILD_RESOLVED_SOURCE_VERSION).
_REVISION_VARIABLES: Final = {
    "COMMIT_ID": "CommitId",
    "S3_OBJECT_VERSION_ID": "VersionId",
    "IMAGE_DIGEST": "ImageDigest",
}


def revision_variable(provider: str) -> str | None:
    """The output variable of *provider*'s source that holds its revision (``CommitId``, ...), or ``None``.

    .. versionadded:: 0.1.0
    """
    kind = revision_type(provider)
    return _REVISION_VARIABLES.get(kind) if kind is not None else None


def iter_specs() -> Iterator[ProviderSpec]:
    """Every catalog entry, in table order.

    .. versionadded:: 0.1.0
    """
    return iter(PROVIDERS.values())
