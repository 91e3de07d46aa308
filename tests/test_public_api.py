"""The public namespace is explicit and complete."""

from __future__ import annotations

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


def test_version_comes_from_metadata() -> None:
    """__version__ is read from the installed distribution, never hard-coded."""
    from importlib.metadata import version

    assert version("pipeweaver") == pipeweaver.__version__


def test_public_objects_have_docstrings() -> None:
    """Every public object is documented."""
    missing = [n for n in pipeweaver.__all__ if not (getattr(pipeweaver, n).__doc__ or "").strip()]

    assert [] == missing
