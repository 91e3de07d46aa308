"""The layering of DESIGN.md holds: each module imports only from layers to its left.

errors -> names -> model -> (graph, validate) -> (synth | execution) -> aws -> (testing, cli)
networkx is imported only by the graph module and boto3/botocore only under pipeweaver/aws/ (and
botocore inside the functions of BOTO_BRIDGE, which Lambda invokes run locally).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "pipeweaver"

#: The execution module allowed to import botocore, inside functions only (see its docstring).
BOTO_BRIDGE = "execution._handlers._boto"

#: module prefix -> (layer rank, side). Longest prefix wins.
LAYERS: dict[str, tuple[int, str]] = {
    "errors": (0, ""),
    "_public": (0, ""),
    "_services": (0, ""),
    "_shapes_data": (1, ""),
    "_shapes": (1, ""),
    "_names": (1, ""),
    "_files": (1, ""),
    "_loader": (1, ""),
    "_archives": (1, ""),
    "_catalog": (1, ""),
    "_cron": (1, ""),
    "_glob": (1, ""),
    "_wire": (1, ""),
    "_masking": (1, ""),
    "_model": (2, ""),
    "_codec": (2, ""),
    "_cfn": (2, ""),
    "_cfn_refs": (2, ""),
    "_cfn_conditions": (2, ""),
    "_when": (2, ""),
    "_branches": (2, ""),
    "actions": (2, ""),
    "_graph": (3, ""),
    "_validate": (3, ""),
    "_triggers": (3, ""),
    "triggers": (4, ""),
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
                    if f"{target}.{alias.name}" in MODULES:
                        add(f"{target}.{alias.name}", nested, typing_only)
                    elif child.module is None:
                        add(target, nested, typing_only)  # `from .. import Pipeline`: a name of the package
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
        # The one exception: the Lambda invoke handler's bridge makes boto3 clients reach the
        # local job API, and loads botocore only inside the function a Lambda invoke calls.
        bridge = module == BOTO_BRIDGE and top == "botocore" and imported.in_function
        if top in ("boto3", "botocore") and key != "aws" and not imported.type_checking and not bridge:
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


#: The private names the CLI and the testing toolkit may import, each with why it is not public
#: API. Everything else they use (the model, lint, synth, triggers, the engine) they reach
#: through public names, like any user's program.
PRIVATE_ALLOWED: dict[tuple[str, str], str] = {
    # Plumbing every public package shares, not pipeline API.
    ("pipeweaver._public", "publish"): "sets __module__ of a package's classes, as every public package does",
    ("pipeweaver._files", "write_atomic"): "the one atomic file write; writing files is the CLI's and snapshots' job",
    # Reading a user's file exactly as the library reads text: the public entry points take
    # parsed data (or a Pipeline), and the CLI must parse the file first with the same bounds.
    ("pipeweaver._loader", "load_json"): "the bounded JSON reader (depth, integer size)",
    ("pipeweaver._loader", "LoadFailure"): "what the bounded reader raises, with the line",
    ("pipeweaver._loader", "compose"): "the bounded YAML composer whose marks give issue lines",
    ("pipeweaver._cfn", "load_template"): "the bounded reader with CloudFormation's short-form tags",
    ("pipeweaver._wire", "unwrap"): "where the declaration sits in a get-pipeline envelope (for issue lines)",
    # One syntax and one catalog, shared on purpose.
    ("pipeweaver._glob", "compile_glob"): "policy path globs use the trigger filters' glob syntax",
    ("pipeweaver._validate", "RULES"): "rule metadata for SARIF and for checking policy codes",
    ("pipeweaver._validate", "RuleInfo"): "the type of RULES' entries",
    # The fakes stand in for providers: they publish what the engine would look up.
    ("pipeweaver._catalog", "lookup"): "a provider's documented output variables",
    ("pipeweaver._graph", "references"): "the variable references an action makes, as the engine resolves them",
}


def private_names(source: str, module: str, is_package: bool) -> list[tuple[str, str]]:
    """``(private module, name)`` for every name *source* imports from a private pipeweaver module.

    Every import counts: at module level, inside functions and under ``TYPE_CHECKING``.
    ``from .. import _codec`` imports the module itself (name ``*``); ``import pipeweaver._x`` too.
    """
    package = module.split(".")[1:] if is_package else module.split(".")[1:-1]
    found: list[tuple[str, str]] = []

    def private(dotted: str) -> bool:
        return dotted.startswith("pipeweaver.") and any(part.startswith("_") for part in dotted.split(".")[1:])

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(a.name, "*") for a in node.names if private(a.name)]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                target = ".".join(["pipeweaver", *base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for alias in node.names:
                if private(f"{target}.{alias.name}") and (alias.name.startswith("_") or not node.module):
                    found.append((f"{target}.{alias.name}", "*"))
                elif private(target):
                    found.append((target, alias.name))
    return found


def _own_package(module: str) -> str:
    return ".".join(module.split(".")[:2])


@pytest.mark.parametrize("package", ["pipeweaver.cli", "pipeweaver.testing"])
def test_cli_and_testing_import_no_private_name(package: str) -> None:
    """The CLI and the testing toolkit import public names, but for :data:`PRIVATE_ALLOWED`.

    Their own private modules (``pipeweaver.cli._target``) are theirs to import.
    """
    bad = [
        f"{module} imports {name} from {target}"
        for module, path in MODULES.items()
        if _own_package(module) == package
        for target, name in private_names(path.read_text(), module, path.name == "__init__.py")
        if _own_package(target) != package and (target, name) not in PRIVATE_ALLOWED
    ]

    assert [] == bad


def test_the_private_name_check_finds_private_names() -> None:
    """The check above is not vacuous: it sees each form of import, allowed or not."""
    source = """
from .. import Pipeline, _codec
from .._model import Pipeline as P
from .._files import write_atomic
from . import _target
import pipeweaver._validate
def later():
    from ..execution._local import LocalExecutor
if TYPE_CHECKING:
    from .._graph import build_graph
"""
    found = private_names(source, "pipeweaver.cli._x", False)

    assert found == [
        ("pipeweaver._codec", "*"),
        ("pipeweaver._model", "Pipeline"),
        ("pipeweaver._files", "write_atomic"),
        ("pipeweaver.cli._target", "*"),
        ("pipeweaver._validate", "*"),
        ("pipeweaver.execution._local", "LocalExecutor"),
        ("pipeweaver._graph", "build_graph"),
    ]
    assert [t for t in found if _own_package(t[0]) != "pipeweaver.cli" and t not in PRIVATE_ALLOWED] == [
        ("pipeweaver._codec", "*"),
        ("pipeweaver._model", "Pipeline"),
        ("pipeweaver._validate", "*"),
        ("pipeweaver.execution._local", "LocalExecutor"),
        ("pipeweaver._graph", "build_graph"),
    ]


def test_every_allowed_private_name_is_used() -> None:
    """An exception that nothing needs any more is dropped, so the list stays the real one."""
    used = {
        found
        for module, path in MODULES.items()
        if _own_package(module) in ("pipeweaver.cli", "pipeweaver.testing")
        for found in private_names(path.read_text(), module, path.name == "__init__.py")
    }

    assert set() == set(PRIVATE_ALLOWED) - used


def test_import_pipeweaver_does_not_import_boto3() -> None:
    """`import pipeweaver` stays light: no boto3, botocore or networkx."""
    code = (
        "import sys, pipeweaver, pipeweaver.synth; print(sorted(m for m in ('boto3','botocore') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout

    assert "[]" == out.strip()


def _modules_after(code: str) -> set[str]:
    """The modules loaded once *code* ran in a fresh interpreter (its last line of output)."""
    script = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    return set(out.strip().splitlines()[-1].split())


def test_import_pipeweaver_loads_no_layer() -> None:
    """`import pipeweaver` loads its names on first use only (PEP 562): no model, rules or attrs yet."""
    loaded = _modules_after("import pipeweaver")

    assert {"pipeweaver", "pipeweaver._services"} == {m for m in loaded if m.startswith("pipeweaver")}
    assert "attrs" not in loaded


def test_model_conveniences_load_their_layer_on_first_call() -> None:
    """Pipeline.graph() and Pipeline.validate() work with only the model loaded, and load their layer then."""
    fixture = SRC.parent.parent / "tests" / "fixtures" / "conformance" / "api" / "codecommit-codebuild.json"
    code = (
        "import json, sys\n"
        "from pipeweaver.synth import from_codepipeline\n"
        f"p = from_codepipeline(json.loads(open({str(fixture)!r}).read()))\n"
        "assert 'pipeweaver._graph' not in sys.modules and 'pipeweaver._validate' not in sys.modules\n"
        "p.validate()\n"
        "assert len(p.graph()) == sum(len(s.actions) for s in p.stages)"
    )
    loaded = _modules_after(code)

    assert {"pipeweaver._graph", "pipeweaver._validate", "networkx"} <= loaded


def test_validate_on_a_json_file_loads_only_what_it_needs() -> None:
    """`pipeweaver validate pipeline.json` loads the rules and the CLI, nothing else heavy.

    The rules read API JSON, so a JSON file is judged without the model (its attrs classes are
    the largest import of all), the codec, PyYAML or the graph.
    """
    fixture = SRC.parent.parent / "tests" / "fixtures" / "conformance" / "api" / "codecommit-codebuild.json"
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['pipeweaver', 'validate', {str(fixture)!r}]\n"
        "try:\n"
        "    runpy.run_module('pipeweaver', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass"
    )
    loaded = _modules_after(code)
    heavy = {
        "yaml",
        "networkx",
        "boto3",
        "tomllib",
        "secrets",
        "pipeweaver._model",
        "pipeweaver._codec",
        "pipeweaver._graph",
        "pipeweaver._triggers",
        "pipeweaver._masking",
        "pipeweaver.execution",
        "pipeweaver.synth",
        "pipeweaver.cli._lines",
        "pipeweaver.cli._run",
    }

    assert {"pipeweaver._validate", "pipeweaver.cli._commands"} <= loaded
    assert set() == heavy & loaded
