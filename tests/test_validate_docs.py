"""The committed rule catalog page is exactly what tools/gen_rule_docs.py generates."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from pipeweaver._validate import RULES

TOOL = Path(__file__).resolve().parent.parent / "tools" / "gen_rule_docs.py"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_rule_docs", TOOL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_rule_docs", module)
    spec.loader.exec_module(module)
    return module


def test_committed_page_is_current() -> None:
    """docs/rules.md equals the generated text (run python tools/gen_rule_docs.py after changing rules)."""
    tool = _tool()

    assert tool.render() == tool.PAGE.read_text()


def test_page_documents_every_code() -> None:
    """Every rule code has its own section on the page."""
    text = _tool().render()

    assert [] == [code for code in RULES if f"### {code}\n" not in text]


def test_codes_are_stable_and_grouped() -> None:
    """Codes are PW + three digits, severities match their group.

    PW7xx are the model's warnings; the template group (PW8xx) holds errors and the one
    warning about YAML CloudFormation refuses unless the template is packaged.
    """
    bad = [
        code
        for code, info in RULES.items()
        if not (len(code) == 5 and code[:2] == "PW" and code[2:].isdigit())
        or (not code.startswith("PW8") and code.startswith("PW7") != (info.severity == "warning"))
        or (code.startswith("PW8") and (info.severity == "warning") != (code == "PW805"))
    ]

    assert [] == bad
