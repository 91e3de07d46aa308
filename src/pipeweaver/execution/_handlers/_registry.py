"""The handler registry: action type (or one ``Stage/Action``) -> handler.

Also each action's default timeout, read from its catalog entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ... import _catalog
from ..._model import Action, ActionCategory, ActionType, Stage
from .._base import ActionContext, ActionResult

#: ``(category, owner, provider, version)``.
HandlerKey = tuple[str, str, str, str]

#: What the registry stores: an :class:`ActionHandler` or any callable of the same shape.
HandlerFn = Callable[[ActionContext], "ActionResult | None"]


def default_timeout(action: Action) -> float:
    """AWS's timeout for *action* in seconds (reference §4.6): ``timeoutInMinutes`` for manual
    approvals, else its catalog entry's (which counts ECS's ``DeploymentTimeout``)."""
    if action.category is ActionCategory.APPROVAL and action.timeout_in_minutes:
        return action.timeout_in_minutes * 60.0
    return float(_catalog.default_timeout(action.action_type, action.configuration)) * 60.0


def handler_key(key: ActionType | tuple[str, str, str, str] | str) -> HandlerKey | str:
    """Normalize a registry key: an action type, a 4-tuple, ``"Category/Owner/Provider/Version"``
    (``*`` matches anything), or ``"Stage/Action"`` for one action."""
    if isinstance(key, ActionType):
        return (key.category.value, key.owner.value, key.provider, key.version)
    if isinstance(key, tuple):
        if len(key) != 4:
            raise ValueError(f"handler key {key!r} must be (category, owner, provider, version)")
        return (str(key[0]), str(key[1]), str(key[2]), str(key[3]))
    parts = key.split("/")
    if len(parts) == 4:
        return (parts[0], parts[1], parts[2], parts[3])
    if len(parts) == 2:
        return key
    raise ValueError(
        f"handler key {key!r} is neither 'Category/Owner/Provider/Version', 'Stage/Action', an ActionType nor a 4-tuple"
    )


class HandlerRegistry:
    """
    Action type (or one ``Stage/Action``) -> handler.

    Lookup order: the action itself (``"Stage/Action"``), then its exact type, then patterns
    with ``*`` parts.

    .. versionadded:: 0.1.0
    """

    def __init__(self, handlers: Mapping[Any, HandlerFn] | None = None) -> None:
        self._by_action: dict[str, HandlerFn] = {}
        self._by_type: dict[HandlerKey, HandlerFn] = {}
        for key, handler in (handlers or {}).items():
            self.register(key, handler)

    def register(self, key: ActionType | tuple[str, str, str, str] | str, handler: HandlerFn) -> None:
        """Register *handler* for an action type or for one ``Stage/Action``."""
        if not callable(handler):
            raise TypeError(f"handler for {key!r} must be callable (context) -> ActionResult | None")
        normal = handler_key(key)
        if isinstance(normal, str):
            self._by_action[normal] = handler
        else:
            self._by_type[normal] = handler

    def find(self, stage: Stage, action: Action) -> HandlerFn | None:
        """The handler for *action* in *stage*, or ``None``."""
        found = self._by_action.get(f"{stage.name}/{action.name}")
        if found is not None:
            return found
        t = action.action_type
        key = (t.category.value, t.owner.value, t.provider, t.version)
        found = self._by_type.get(key)
        if found is not None:
            return found
        for pattern, handler in self._by_type.items():
            if all(p in ("*", k) for p, k in zip(pattern, key, strict=True)):
                return handler
        return None

    def merged(self, other: HandlerRegistry) -> HandlerRegistry:
        """A registry where *other*'s entries win over this one's."""
        out = HandlerRegistry()
        out._by_action = {**self._by_action, **other._by_action}
        out._by_type = {**self._by_type, **other._by_type}
        return out
