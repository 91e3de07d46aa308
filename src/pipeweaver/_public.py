"""Public classes carry the name of the module they are documented under.

Layer: foundation (imports nothing of pipeweaver). A class defined in a private module
(``pipeweaver.execution._local``) and exported by its package reports the package as its
``__module__``, so reprs, tracebacks, pickles and the API docs name the import path users
write (``pipeweaver.execution.LocalExecutor``), and a private module can move without that
name changing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["publish"]


def publish(namespace: Mapping[str, object], names: Iterable[str], module: str) -> None:
    """
    Set ``__module__`` to *module* on every class in *names* that a private module defines.

    Names not (yet) in *namespace* are skipped: ``pipeweaver`` loads the engine's names on first use.
    """
    for name in names:
        value = namespace.get(name)
        if isinstance(value, type) and any(part.startswith("_") for part in value.__module__.split(".")):
            value.__module__ = module
