"""The model's conveniences that layers above it implement: ``Pipeline.graph()`` and ``Pipeline.validate()``.

Layer: foundation (imports nothing of pipeweaver). The model cannot import the graph or the
validation layer, which import it. The package root (``pipeweaver/__init__.py``, above every
layer, and always loaded before any of its modules) installs both services when it loads, as
functions that import their layer on first call: no import points upwards, and no module fills
a slot as a side effect of being imported, so ``import pipeweaver`` loads neither layer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, final

__all__ = ["SERVICES", "Services"]

T = TypeVar("T")


@final
class Services:
    """The slots :class:`pipeweaver.Pipeline` calls through; each takes the pipeline."""

    __slots__ = ("build_graph", "validate")

    def __init__(self) -> None:
        # Typed loosely: naming the model's types here would import the model from below it.
        self.build_graph: Callable[[Any], Any] | None = None
        self.validate: Callable[[Any], None] | None = None

    @staticmethod
    def need(method: str, service: T | None) -> T:
        """*service*, or a sentence saying what is missing when it was never installed."""
        if service is None:
            raise RuntimeError(f"Pipeline.{method}() needs the pipeweaver package loaded: import pipeweaver first")
        return service


#: The one instance, filled by ``pipeweaver/__init__.py``.
SERVICES = Services()
