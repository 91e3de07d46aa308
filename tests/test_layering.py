"""The layering of DESIGN.md holds: each module imports only from layers to its left.

errors -> names -> model -> (graph, validate) -> (synth | execution) -> aws -> (testing, cli)
networkx is imported only by the graph module and boto3/botocore only under pipeweaver/aws/.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "pipeweaver"

#: module prefix -> (layer rank, side). Longest prefix wins.
LAYERS: dict[str, tuple[int, str]] = {
    "errors": (0, ""),
    "_shapes_data": (1, ""),
    "_shapes": (1, ""),
    "_names": (1, ""),
    "_files": (1, ""),
    "_loader": (1, ""),
    "_catalog": (1, ""),
    "_cron": (1, ""),
    "_masking": (1, ""),
    "_model": (2, ""),
    "_codec": (2, ""),
    "_cfn": (2, ""),
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

#: Conveniences on the model that delegate upwards lazily, inside a function body.
LAZY_ALLOWED = {("_model", "_graph"), ("_model", "_validate")}


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


def imports(path: Path, module: str) -> list[tuple[str, bool]]:
    """(imported pipeweaver module or third-party top name, inside a function?)"""
    tree = ast.parse(path.read_text())
    found: list[tuple[str, bool]] = []
    package = module.split(".")
    is_pkg = path.name == "__init__.py"

    def visit(node: ast.AST, in_func: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_func or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append((alias.name, nested))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package if is_pkg else package[:-1]
                    base = base[: len(base) - (child.level - 1)] if child.level > 1 else base
                    target = ".".join([*base, child.module] if child.module else base)
                    if child.module is None:
                        for alias in child.names:
                            found.append(("pipeweaver." + ".".join([*base, alias.name]).strip("."), nested))
                        continue
                    found.append(("pipeweaver." + target.strip("."), nested))
                elif child.module:
                    found.append((child.module, nested))
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            visit(child, nested)

    visit(tree, False)
    return found


@pytest.mark.parametrize(("module", "path"), modules(), ids=[m for m, _ in modules()])
def test_imports_respect_layers(module: str, path: Path) -> None:
    """No module imports from a layer to its right, or across the synth/execution divide."""
    rank, side, key = layer_of(module) if module else (7, "", "__init__")
    bad = []
    for name, in_func in imports(path, module):
        top = name.split(".")[0]
        if top in ("networkx",) and key != "_graph":
            bad.append(f"{name} (networkx is for _graph only)")
        if top in ("boto3", "botocore") and key != "aws":
            bad.append(f"{name} (boto3/botocore are for pipeweaver.aws only)")
        if top != "pipeweaver" or name == "pipeweaver":
            continue
        target = name.removeprefix("pipeweaver.")
        t_rank, t_side, t_key = layer_of(target)
        if in_func and (key, t_key) in LAZY_ALLOWED:
            continue
        if t_rank > rank or (t_rank == rank and side and t_side and side != t_side):
            bad.append(f"{name} (layer {t_key}={t_rank} from {key}={rank})")

    assert [] == bad


def test_import_pipeweaver_does_not_import_boto3() -> None:
    """`import pipeweaver` stays light: no boto3, botocore or networkx."""
    code = (
        "import sys, pipeweaver, pipeweaver.synth; print(sorted(m for m in ('boto3','botocore') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout

    assert "[]" == out.strip()
