"""A fresh clone passes its tests: nothing beside the checkout, only what the `test` extra installs."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .conftest import CORPUS_ABSENT, ROOT

TESTS = ROOT / "tests"

#: Names that reach ../shared; only tests/conftest.py may use them, behind the `corpus` marker.
_CORPUS_NAMES = {"CORPUS", "corpus_cases", "_shared"}


def _test_modules() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if p.name != "conftest.py" or p.parent != TESTS)


def test_corpus_is_read_only_through_marked_parameters() -> None:
    """No test module reads ../shared/corpus itself: it goes through cases()/corpus_case(), which mark and skip."""
    offenders = []
    for path in _test_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            names = {node.id} if isinstance(node, ast.Name) else set()
            if isinstance(node, ast.ImportFrom):
                names = {a.name for a in node.names}
            offenders += [f"{path.relative_to(ROOT)}:{node.lineno}: {n}" for n in sorted(names & _CORPUS_NAMES)]

    assert [] == offenders


def _conformance_modules() -> list[str]:
    """Test modules with corpus parameters (they import cases or corpus_case from the conftest)."""
    found = []
    for path in _test_modules():
        tree = ast.parse(path.read_text())
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
        if imported & {"cases", "corpus_case"}:
            found.append(str(path.relative_to(ROOT)))
    return found


@pytest.mark.slow
def test_without_the_corpus_its_tests_skip_with_one_line(tmp_path: Path) -> None:
    """With an empty PIPEWEAVER_SHARED, every corpus test is skipped with the one reason, and nothing fails."""
    modules = _conformance_modules()
    env = {**os.environ, "PIPEWEAVER_SHARED": str(tmp_path)}
    env.pop("PYTEST_ADDOPTS", None)

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            "-n",
            "0",
            "-m",
            "corpus",
            *modules,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    out = result.stdout + result.stderr
    skips = [line for line in out.splitlines() if line.startswith("SKIPPED")]

    assert 0 == result.returncode, out
    assert "empty parameter set" not in out
    assert re.search(r"^\d+ skipped, \d+ deselected in ", out.splitlines()[-1]), out
    assert [] == [line for line in skips if not line.endswith(f": {CORPUS_ABSENT}")]
    assert set(modules) == {line.split()[2].split(":")[0] for line in skips}


# -- the test extra -------------------------------------------------------------------------------


def _closure(requirements: list[str]) -> set[str]:
    """Every distribution that installing *requirements* brings in (as installed here)."""
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        key = (canonicalize_name(req.name), frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            continue
        for text in dist.requires or []:
            sub = Requirement(text)
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in req.extras | {""}):
                todo.append(sub)
    return {name for name, _ in seen}


def _modules_the_tests_need() -> dict[str, str]:
    """Top-level modules the tests and examples import or run with `python -m`, with one place each."""
    local = {p.stem for p in [*TESTS.rglob("*.py"), *(ROOT / "examples").glob("*.py")]} | {"pipeweaver", "tests"}
    needed: dict[str, str] = {}
    for path in sorted([*TESTS.rglob("*.py"), *(ROOT / "examples").glob("*.py")]):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "find_spec" and node.args:
                names = [node.args[0].value] if isinstance(node.args[0], ast.Constant) else []
            elif isinstance(node, ast.List | ast.Tuple) and [ast.unparse(e) for e in node.elts[:2]] == [
                "sys.executable",
                "'-m'",
            ]:
                names = [node.elts[2].value] if len(node.elts) > 2 and isinstance(node.elts[2], ast.Constant) else []
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in local:
                    needed.setdefault(top, f"{path.relative_to(ROOT)}:{node.lineno}")
    return needed


def test_the_test_extra_installs_every_module_the_tests_need() -> None:
    """Each third-party module the tests import or run comes with `pip install -e '.[test]'`."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    installed = _closure([*project["dependencies"], *project["optional-dependencies"]["test"]])
    providers = metadata.packages_distributions()

    missing = {
        module: where
        for module, where in _modules_the_tests_need().items()
        if not {canonicalize_name(d) for d in providers.get(module, [])} & installed
    }

    assert {} == missing
