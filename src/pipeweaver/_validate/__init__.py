"""Validation: every rule AWS enforces, collected in one pass, on a model or on raw JSON.

Layer: validate. Imports the model, its codec, the shape walker and the provider catalog; never
networkx, the execution side or the synth side. Rules run on the API-shaped JSON (a model is
rendered once), so a path means the same thing however the pipeline arrived, and rules still
run on the well-formed parts of a definition whose other parts are broken. ``lint`` never
raises on bad input: malformed definitions come back as issues too.

Rule sources: reference/codepipeline.md §1-§3 and §6, which cite the AWS pages; each rule's
page is in :data:`RULES` (and in the generated ``docs/rules.md``).

Each area module (``_pipeline``, ``_regions``, ``_actions``, ``_variables``, ``_triggers``,
``_conditions``) documents the rules a check reports on the check itself, with
``@reports(rule_info(...), ...)`` from ``_registry``; ``_lint`` holds the entry points and the
rules reported outside the groups (shape, template level); ``_context`` the declaration
indexed once, which every group reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ._lint import lint, validate
from ._registry import REGISTRY, RuleInfo

__all__ = ["RULES", "RuleInfo", "lint", "validate"]

#: Every issue code pipeweaver reports, in code order (the rule catalog of the docs).
RULES: Final[Mapping[str, RuleInfo]] = {code: REGISTRY[code] for code in sorted(REGISTRY)}
