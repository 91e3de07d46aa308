"""The public namespace is explicit and complete."""

from __future__ import annotations

import importlib

import pytest

import pipeweaver


def test_all_lists_exactly_the_public_names() -> None:
    """__all__ is sorted and names every public attribute imported into the package."""
    import types

    for name in pipeweaver.__all__:  # names loaded on first use (the local engine) become attributes
        getattr(pipeweaver, name)
    # Submodules (imported by users or by other tests) are namespaces, not re-exported names.
    public = {
        n for n, v in vars(pipeweaver).items() if not n.startswith("_") and not isinstance(v, types.ModuleType)
    } - {"annotations", "Any"}

    assert sorted(pipeweaver.__all__) == pipeweaver.__all__
    assert public == set(pipeweaver.__all__)


def test_star_import_and_dir_give_every_public_name() -> None:
    """Names load on first use, yet `from pipeweaver import *` and dir() see all of them."""
    namespace: dict[str, object] = {}
    exec("from pipeweaver import *", namespace)

    assert set(pipeweaver.__all__) == set(namespace) - {"__builtins__"}
    assert set(pipeweaver.__all__) <= set(dir(pipeweaver))


def test_type_checkers_and_the_lazy_loader_see_the_same_names_from_the_same_homes() -> None:
    """The package names each public name three times (imports for type checkers, __all__,
    and the lazy loader's table); they agree name for name and module for module, so what mypy
    checks is what `pipeweaver.X` loads."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(pipeweaver))
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING"
    )
    typed = {
        alias.asname or alias.name: ("." * node.level + (node.module or ""), alias.name)
        for node in block.body
        if isinstance(node, ast.ImportFrom) and node.level
        for alias in node.names
    }
    homes = dict(pipeweaver._HOMES)
    # evaluate_trigger is `evaluate as evaluate_trigger` on both sides.
    assert set(pipeweaver.__all__) == set(homes)
    assert homes == {name: typed[name] for name in homes}


def test_version_comes_from_metadata() -> None:
    """__version__ is read from the installed distribution, never hard-coded."""
    from importlib.metadata import version

    assert version("pipeweaver") == pipeweaver.__version__


def test_public_objects_have_docstrings() -> None:
    """Every public object is documented."""
    missing = [n for n in pipeweaver.__all__ if not (getattr(pipeweaver, n).__doc__ or "").strip()]

    assert [] == missing


PACKAGES = (
    "pipeweaver",
    "pipeweaver.execution",
    "pipeweaver.aws",
    "pipeweaver.synth",
    "pipeweaver.testing",
    "pipeweaver.triggers",
)


@pytest.mark.parametrize("package", PACKAGES)
def test_public_classes_name_their_public_module(package: str) -> None:
    """A class exported by a package reports that package, not the private module defining it."""
    module = importlib.import_module(package)
    classes = {n: v for n in module.__all__ if isinstance(v := getattr(module, n), type)}
    private = {n: v.__module__ for n, v in classes.items() if any(p.startswith("_") for p in v.__module__.split("."))}

    assert classes
    assert {} == private


def test_execution_exports_no_machinery() -> None:
    """History, masking, archives, cron and timeouts are the engine's business, not its users'."""
    import pipeweaver.execution

    internals = {"History", "Masker", "safe_extract", "zip_directory", "cron_matches", "default_timeout"}

    assert set() == internals & set(pipeweaver.execution.__all__)
    assert [] == [n for n in internals if hasattr(pipeweaver.execution, n)]


@pytest.mark.parametrize("package", PACKAGES[1:])
def test_subpackage_all_lists_exactly_the_public_names(package: str) -> None:
    """Each public package's __all__ is sorted and names every public attribute it holds."""
    import types

    module = importlib.import_module(package)
    public = {n for n, v in vars(module).items() if not n.startswith("_") and not isinstance(v, types.ModuleType)}

    assert sorted(module.__all__) == module.__all__
    assert public - {"annotations"} == set(module.__all__)
