"""The layering of DESIGN.md holds: each module imports only from layers to its left.

errors -> names -> model -> (graph, validate) -> (synth | execution) -> aws -> (testing, cli)
networkx is imported only by the graph module and boto3/botocore only under pipeweaver/aws/.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "pipeweaver"

#: module prefix -> (layer rank, side). Longest prefix wins.
LAYERS: dict[str, tuple[int, str]] = {
    "errors": (0, ""),
    "_public": (0, ""),
    "_shapes_data": (1, ""),
    "_shapes": (1, ""),
    "_names": (1, ""),
    "_files": (1, ""),
    "_loader": (1, ""),
    "_archives": (1, ""),
    "_catalog": (1, ""),
    "_cron": (1, ""),
    "_glob": (1, ""),
    "_masking": (1, ""),
    "_model": (2, ""),
    "_codec": (2, ""),
    "_cfn": (2, ""),
    "_cfn_refs": (2, ""),
    "_cfn_conditions": (2, ""),
    "actions": (2, ""),
    "_graph": (3, ""),
    "_validate": (3, ""),
    "_triggers": (3, ""),
    "synth": (4, "synth"),
    "execution": (4, "execution"),
    "aws": (5, ""),
    "testing": (6, ""),
    "cli": (6, ""),
    "report": (6, ""),
    "__main__": (7, ""),
    "__init__": (7, ""),
}


def layer_of(module: str) -> tuple[int, str, str]:
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in LAYERS:
            rank, side = LAYERS[key]
            return rank, side, key
    raise AssertionError(f"module {module!r} is not in the layering table of tests/test_layering.py")


def modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        out.append((".".join(parts), path))
    return out


@attrs.frozen
class Imported:
    """One import: the module (pipeweaver's, or a third-party top name) and where it is made."""

    name: str
    in_function: bool
    type_checking: bool


def imports(path: Path, module: str) -> list[Imported]:
    """Every import of *path*: at module level, inside functions, and under ``if TYPE_CHECKING:``.

    ``from .x import y`` records ``x``, and ``x.y`` too when that is a module of pipeweaver.
    """
    tree = ast.parse(path.read_text())
    found: list[Imported] = []
    package = [] if module in ("", "__init__") else module.split(".")
    is_pkg = path.name == "__init__.py"

    def add(name: str, in_func: bool, typing_only: bool) -> None:
        found.append(Imported(name, in_func, typing_only))

    def visit(node: ast.AST, in_func: bool, typing_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_func or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    add(alias.name, nested, typing_only)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package if is_pkg else package[:-1]
                    base = base[: len(base) - (child.level - 1)] if child.level > 1 else base
                    target = "pipeweaver." + ".".join([*base, child.module] if child.module else base)
                    target = target.strip(".")
                else:
                    target = child.module or ""
                if child.module is not None:
                    add(target, nested, typing_only)
                for alias in child.names:
                    if f"{target}.{alias.name}" in MODULES or child.module is None:
                        add(f"{target}.{alias.name}", nested, typing_only)
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                visit(child, nested, True)
                continue
            visit(child, nested, typing_only)

    visit(tree, False, False)
    return found


#: pipeweaver's modules by dotted name (``pipeweaver.execution`` for the package's __init__).
MODULES: dict[str, Path] = {
    ("pipeweaver." + name if name != "__init__" else "pipeweaver"): path for name, path in modules()
}
OWN = {
    name: imports(path, "__init__" if name == "pipeweaver" else name.removeprefix("pipeweaver."))
    for name, path in MODULES.items()
}


@pytest.mark.parametrize(("module", "path"), modules(), ids=[m for m, _ in modules()])
def test_imports_respect_layers(module: str, path: Path) -> None:
    """No module imports from a layer to its right, or across the synth/execution divide.

    This holds for every import: at module level, inside a function (no lazy upward call) and
    under ``TYPE_CHECKING`` (no upward reference hidden from the run time).
    """
    rank, side, key = layer_of(module) if module else (7, "", "__init__")
    bad = []
    for imported in imports(path, module):
        name = imported.name
        top = name.split(".")[0]
        # Third-party imports cost time at run time only; a typing-only one is free.
        if top in ("networkx",) and key != "_graph" and not imported.type_checking:
            bad.append(f"{name} (networkx is for _graph only)")
        if top in ("boto3", "botocore") and key != "aws" and not imported.type_checking:
            bad.append(f"{name} (boto3/botocore are for pipeweaver.aws only)")
        if top != "pipeweaver" or name == "pipeweaver":
            continue
        target = name.removeprefix("pipeweaver.")
        t_rank, t_side, t_key = layer_of(target)
        if t_rank > rank or (t_rank == rank and side and t_side and side != t_side):
            bad.append(f"{name} (layer {t_key}={t_rank} from {key}={rank})")

    assert [] == bad


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycles() -> None:
    """No two modules import each other, directly or through others, even inside functions or
    under ``TYPE_CHECKING`` (a package's ``__init__`` counts as a module of its own)."""
    graph = {module: {i.name for i in found if i.name in MODULES and i.name != module} for module, found in OWN.items()}

    assert [] == _cycles(graph)


def test_the_cycle_check_finds_a_cycle() -> None:
    """The check above is not vacuous."""
    assert [["a", "b", "c"]] == _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})


def _package(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def test_only_execution_imports_its_private_modules() -> None:
    """Outside ``pipeweaver.execution``, the engine is reached through its public names only."""
    bad = [
        f"{module} imports {i.name}"
        for module, found in OWN.items()
        if _package(module) != "pipeweaver.execution"
        for i in found
        if i.name.startswith("pipeweaver.execution._")
    ]

    assert [] == bad


@pytest.mark.parametrize("package", ["pipeweaver.cli", "pipeweaver.testing"])
def test_cli_and_testing_import_no_private_module_of_another_package(package: str) -> None:
    """The CLI and the testing toolkit use the public names of execution, synth and aws.

    (They do use the foundation's private modules, ``pipeweaver._model`` and the like, which
    are the model layer the public ``pipeweaver`` package is made of.)
    """
    bad = [
        f"{module} imports {i.name}"
        for module, found in OWN.items()
        if _package(module) == package
        for i in found
        if i.name.count(".") >= 2 and i.name.split(".")[2].startswith("_") and _package(i.name) != package
    ]

    assert [] == bad


def test_import_pipeweaver_does_not_import_boto3() -> None:
    """`import pipeweaver` stays light: no boto3, botocore or networkx."""
    code = (
        "import sys, pipeweaver, pipeweaver.synth; print(sorted(m for m in ('boto3','botocore') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout

    assert "[]" == out.strip()
