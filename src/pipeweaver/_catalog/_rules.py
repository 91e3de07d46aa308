"""Stage-condition rule types (``ruleTypeId``, category ``Rule``, owner ``AWS``).

Layer: names/limits. Entries of the provider catalog (see :mod:`pipeweaver._catalog`); each
cites the AWS page it comes from (reference/codepipeline.md §3.3).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ._spec import UG, RuleTypeSpec

__all__ = ["RULE_TYPES"]

#: Stage-condition rule types of reference §3.3, keyed by provider.
RULE_TYPES: Final[Mapping[str, RuleTypeSpec]] = {
    r.provider: r
    for r in (
        RuleTypeSpec(
            provider="CloudWatchAlarm",
            required=("AlarmName",),
            optional=("AlarmStates", "WaitTime"),
            source=UG + "rule-reference-CloudWatchAlarm.html",
        ),
        RuleTypeSpec(
            provider="DeploymentWindow",
            required=("Cron",),
            optional=("TimeZone",),
            cron_keys=("Cron",),
            source=UG + "rule-reference-DeploymentWindow.html",
        ),
        RuleTypeSpec(
            provider="LambdaInvoke",
            required=("FunctionName",),
            optional=("UserParameters",),
            can_skip=True,
            source=UG + "rule-reference-LambdaInvoke.html",
        ),
        RuleTypeSpec(
            provider="VariableCheck",
            required=("Variable", "Value", "Operator"),
            allowed={"Operator": ("EQ", "CONTAINS", "MATCHES", "NE")},
            can_skip=True,
            source=UG + "rule-reference-VariableCheck.html",
        ),
        RuleTypeSpec(
            provider="Commands",
            needs_commands=True,
            source=UG + "rule-reference-Commands.html",
        ),
        # The CodeBuild rule page was not retrieved (reference §8): its keys are not checked.
        RuleTypeSpec(provider="CodeBuild", open_configuration=True, source=UG + "rule-reference.html"),
    )
}
