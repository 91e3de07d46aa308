"""cfn-lint run in-process, once per template, keeping only errors and warnings."""

from __future__ import annotations

import json
from typing import Any

from cfnlint.api import ManualArgs, lint


def cfn_lint(template: dict[str, Any]) -> list[str]:
    """cfn-lint's errors and warnings for *template*, as readable lines (empty when clean)."""
    matches = lint(json.dumps(template, ensure_ascii=False), config=ManualArgs(regions=["us-east-1"]))
    return [
        f"{m.rule.id} {m.rule.severity} {m.message}"
        for m in matches
        if str(m.rule.severity).lower() in ("error", "warning")
    ]
