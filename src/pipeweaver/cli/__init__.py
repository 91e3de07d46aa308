"""The ``pipeweaver`` command line.

Layer: cli (the top). Each ``_*.py`` module defines subcommands on :data:`main`; importing them
here registers them.
"""

from __future__ import annotations

import importlib

from ._app import main

# Command modules, in help order. Each registers its subcommands on `main` when imported.
_COMMAND_MODULES = ("_commands", "_run", "_aws", "_triggers")

for _name in _COMMAND_MODULES:
    importlib.import_module(f"{__name__}.{_name}")

__all__ = ["main"]
