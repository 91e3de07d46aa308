"""The rule registry: each check registers the rules it reports with :func:`reports`, beside its
code, and the package collects them into :data:`pipeweaver._validate.RULES`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar, final

import attrs

from ..errors import Severity

_UG: Final = "https://docs.aws.amazon.com/codepipeline/latest/userguide/"
_CFN: Final = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/"


@final
@attrs.frozen(kw_only=True)
class RuleInfo:
    """
    One documented rule: what the code means, why AWS cares, and a minimal bad example.

    .. versionadded:: 0.1.0
    """

    code: str
    severity: Severity
    title: str
    why: str
    example: str
    source: str


#: Every registered rule by code, in registration order; ``RULES`` is this in code order.
REGISTRY: Final[dict[str, RuleInfo]] = {}


def rule_info(code: str, severity: Severity, title: str, why: str, example: str, source: str) -> RuleInfo:
    """One rule's documentation (registered by :func:`reports`)."""
    return RuleInfo(code=code, severity=severity, title=title, why=why, example=example, source=source)


def register(*rules: RuleInfo) -> None:
    """Add the rules a module reports to the registry; a code is registered once."""
    for info in rules:
        if info.code in REGISTRY:
            raise AssertionError(f"rule {info.code} is registered twice")
        REGISTRY[info.code] = info


_Check = TypeVar("_Check", bound=Callable[..., Any])


def reports(*rules: RuleInfo) -> Callable[[_Check], _Check]:
    """Decorate a check with the rules it reports: they are registered when its module loads."""
    register(*rules)

    def unchanged(check: _Check) -> _Check:
        return check

    return unchanged
