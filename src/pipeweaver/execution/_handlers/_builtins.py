"""The built-in handlers as one object bound to an executor, and the registry built from the
catalog's handler keys.
"""

from __future__ import annotations

from ... import _catalog
from ._build import BuildHandlers
from ._common import HandlerServices
from ._deploy import DeployHandlers
from ._invoke import InvokeHandlers
from ._registry import HandlerFn, HandlerKey, HandlerRegistry
from ._sources import SourceHandlers


class Builtins(SourceHandlers, BuildHandlers, InvokeHandlers, DeployHandlers):
    """The built-in handlers, bound to one executor's options (sources, functions, secrets...)."""


#: Action types AWS does not document that the local engine has always run (a connection
#: source owned by ``ThirdParty``, ``Commands`` in a ``Build`` stage), with their handler keys.
_LOCAL_ONLY: tuple[tuple[HandlerKey, str], ...] = (
    (("Source", "ThirdParty", _catalog.CONNECTION_SOURCE.provider, "1"), "git_source"),
    (("Build", "AWS", _catalog.COMMANDS.provider, "1"), "commands"),
)


def builtin_handlers(executor: HandlerServices) -> HandlerRegistry:
    """The built-in registry bound to *executor*: each catalog entry names its handler by key
    (approvals are wired by the executor)."""
    b = Builtins(executor)
    by_key: dict[str, HandlerFn] = {
        "git_source": b.git_source,
        "s3_source": b.s3_source,
        "ecr_source": b.ecr_source,
        "commands": b.commands,
        "codebuild": b.codebuild,
        "lambda_invoke": b.lambda_invoke,
        "s3_deploy": b.s3_deploy,
        "simulated_deploy": b.simulated_deploy,
    }
    reg = HandlerRegistry()
    for spec in _catalog.iter_specs():
        if spec.handler is not None:
            reg.register((spec.category, spec.owner, spec.provider, spec.version), by_key[spec.handler])
    for key, name in _LOCAL_ONLY:
        reg.register(key, by_key[name])
    return reg
