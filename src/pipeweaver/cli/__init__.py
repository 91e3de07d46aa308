"""The ``pipeweaver`` command line.

Layer: cli (the top). Each ``_*.py`` module defines subcommands on :data:`main`; importing them
here registers them.
"""

from __future__ import annotations

from ._app import main

# The command modules (_commands, _run, _aws, _triggers) register their subcommands on `main`
# when imported; `main` imports each only when one of its commands is used (see _app.COMMANDS).

__all__ = ["main"]
