"""The committed fidelity page is exactly what tools/gen_fidelity_docs.py generates from the
conformance suite, and every conformance test follows the page's convention."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

TOOL = Path(__file__).resolve().parent.parent / "tools" / "gen_fidelity_docs.py"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_fidelity_docs", TOOL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_fidelity_docs", module)
    spec.loader.exec_module(module)
    return module


def test_committed_page_is_current() -> None:
    """docs/fidelity.md equals the generated text (run python tools/gen_fidelity_docs.py after changing tests/conformance)."""
    tool = _tool()

    assert tool.render() == tool.PAGE.read_text(encoding="utf-8")


def test_every_conformance_test_is_a_row() -> None:
    """Each test function of tests/conformance is one row: none is left out of the page."""
    tool = _tool()
    tests = rows = 0
    for path in sorted(tool.SUITE.glob("test_*.py")):
        _, found = tool.rows_of(path)
        rows += len(found)
        tests += path.read_text(encoding="utf-8").count("\ndef test_")

    assert tests == rows


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        ('"""Checks that it works."""', "must start with '<AWS page title> (<URL constant>): <behaviour>.'"),
        ('"""Some page (NOWHERE): x."""', "NOWHERE is not a module-level constant holding the page's URL"),
        ('"""Some page (PAGE): x.\n\n    Local: different: y.\n    """', "the local result is one of matches"),
        ('"""Some page (PAGE): x.\n\n    Local: y.\n    """', "write 'Local: simulated: <how>'"),
    ],
)
def test_a_test_outside_the_convention_stops_the_page(tmp_path: Path, doc: str, problem: str) -> None:
    """Nothing is silently different: a test that does not cite its page and result cannot be listed."""
    tool = _tool()
    path = tool.SUITE / "test_zz_convention_probe.py"
    source = f'PAGE = "https://docs.aws.amazon.com/x.html"\n\n\ndef test_probe() -> None:\n    {doc}\n'
    probe = tmp_path / "tests" / "conformance" / path.name
    probe.parent.mkdir(parents=True)
    probe.write_text(source)
    original = tool.ROOT
    tool.ROOT = tmp_path
    try:
        with pytest.raises(tool.ConventionError, match=problem.replace("(", r"\(").replace(")", r"\)")):
            tool.rows_of(probe)
    finally:
        tool.ROOT = original
