"""The tiny application the quick-start pipeline builds, tests and (locally, simulated) deploys."""

from __future__ import annotations

__version__ = "1.4.0"


def greet(name: str) -> str:
    """Greet *name* politely; blank names get a generic greeting."""
    name = name.strip()
    return f"Hello, {name}!" if name else "Hello, world!"
