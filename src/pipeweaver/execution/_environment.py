"""The environment a local action's commands start from: an allow-list, never the whole host's.

Layer: execution. pipeweaver runs code from pushed commits; the shell that started it usually
holds tokens (``AWS_SECRET_ACCESS_KEY``, ``GITHUB_TOKEN``, ``pipeweaver serve``'s webhook
secret). Commands, buildspecs, Commands rules and the git reads of local sources therefore
get only :data:`HOST_VARIABLES` (plus ``LC_*``) from the host, the names a user passes
through explicitly (``LocalExecutor(env_passthrough=...)``, ``--pass-env NAME``), and what the
action itself declares (its environment variables, CodeBuild's ``CODEBUILD_*`` variables).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Final

__all__ = ["HOST_VARIABLES", "base_environment", "check_passthrough"]

#: Host variables every action gets (when set): what a shell and common tools need to work.
HOST_VARIABLES: Final = ("PATH", "HOME", "LANG", "TMPDIR")

#: Host variables passed by prefix: the locale categories.
_HOST_PREFIXES: Final = ("LC_",)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_passthrough(names: Iterable[str]) -> tuple[str, ...]:
    """*names* as a tuple, each checked to be an environment variable name (``ValueError`` if not)."""
    out = tuple(names)
    for name in out:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ValueError(
                f"env_passthrough: {name!r} is not an environment variable name "
                "(letters, digits and _, not starting with a digit)"
            )
    return out


def base_environment(passthrough: Iterable[str] = (), *, host: Mapping[str, str] | None = None) -> dict[str, str]:
    """
    The allow-listed part of *host* (default ``os.environ``) that an action starts from.

    Args:
        passthrough: More host variable names to pass when set (the user's explicit choice).
        host: The environment to read (for tests).

    ``PATH`` falls back to :data:`os.defpath` when the host has none, so ``bash`` still finds
    the usual tools.
    """
    source = os.environ if host is None else host
    wanted = set(HOST_VARIABLES) | set(passthrough)
    env = {k: v for k, v in source.items() if k in wanted or k.startswith(_HOST_PREFIXES)}
    env.setdefault("PATH", os.defpath)
    return env
