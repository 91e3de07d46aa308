"""Action handlers: the registry and the built-in local handlers.

Layer: execution. Built-ins: git sources (CodeStarSourceConnection, CodeCommit, GitHub v1),
S3 and ECR sources, ``Commands``, CodeBuild build/test (buildspec phases), Lambda invoke
through Python callables, S3 deploy into a local folder, and **simulated** stand-ins for the
deploy providers that need AWS (CloudFormation, CodeDeploy, ECS, ...): they check their inputs
and record what they would deploy, and their summary says ``simulated``. Manual approvals are
answered by the executor (see :mod:`pipeweaver.execution._local`).

One module per provider family (``_sources``, ``_build``, ``_invoke``, ``_deploy``), their
shared helpers in ``_common``, the registry in ``_registry``; ``_builtins`` binds them together.
"""

from ._builtins import Builtins as Builtins
from ._builtins import builtin_handlers
from ._common import HandlerServices
from ._common import InputOrigin as InputOrigin
from ._invoke import call_function as call_function
from ._invoke import job_event as job_event
from ._registry import HandlerFn as HandlerFn
from ._registry import HandlerKey, HandlerRegistry, default_timeout, handler_key

__all__ = [
    "HandlerKey",
    "HandlerRegistry",
    "HandlerServices",
    "builtin_handlers",
    "default_timeout",
    "handler_key",
]
