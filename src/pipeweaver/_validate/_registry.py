"""The rule registry: each area module registers the rules it reports beside the code that
reports them, and the package collects them into :data:`pipeweaver._validate.RULES`."""

from __future__ import annotations

from typing import Final, final

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
    """One rule's documentation (registered by :func:`register`)."""
    return RuleInfo(code=code, severity=severity, title=title, why=why, example=example, source=source)


def register(*rules: RuleInfo) -> None:
    """Add the rules a module reports to the registry; a code is registered once."""
    for info in rules:
        if info.code in REGISTRY:
            raise AssertionError(f"rule {info.code} is registered twice")
        REGISTRY[info.code] = info
