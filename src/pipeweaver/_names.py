"""Field validators for the model, built from the API's shape constraints.

Layer: names/limits. Each validator checks one field when a model object is built and raises
:class:`~pipeweaver.errors.DefinitionError` naming the field, the value and the rule. Loaders of
existing definitions switch them off with :func:`unchecked` so that a definition AWS would
reject can still be loaded and then reported in full by :func:`pipeweaver.lint`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, Final

from ._shapes import SHAPES
from ._wire import DYNAMIC_REFERENCE
from .errors import DefinitionError

__all__ = ["checked", "is_checking", "unchecked"]

_CHECKING: ContextVar[bool] = ContextVar("pipeweaver_checking", default=True)

#: Limits that the API model does not encode but the service enforces
#: (reference/codepipeline.md §6, UG limits page).
MAX_STAGES: Final = 50
MIN_STAGES: Final = 2
MAX_ACTIONS_PER_STAGE: Final = 50
MAX_ACTIONS_PER_PIPELINE: Final = 500


@contextlib.contextmanager
def unchecked() -> Iterator[None]:
    """Build model objects without per-field checks (for loading existing definitions)."""
    token = _CHECKING.set(False)
    try:
        yield
    finally:
        _CHECKING.reset(token)


def is_checking() -> bool:
    """Whether per-field construction checks are on in this context."""
    return _CHECKING.get()


Validator = Callable[[Any, Any, Any], None]


def checked(shape_name: str, *, optional: bool = False) -> Validator:
    """
    Return an attrs validator that applies the constraints of API shape *shape_name*.

    A string shape checks the length and pattern of ``str`` values (subclasses included); an
    integer shape checks the range of ``int`` values other than booleans. A string holding a
    CloudFormation dynamic reference (``{{resolve:ssm:/ci/name}}``) is not the value the field
    will hold, so it is not checked either. Any other value
    passes: ``None`` (an absent optional field; *optional* says so at the call site), an
    :class:`~pipeweaver.Expression` from an imported template, or a value of the wrong type,
    which the field's converter or :func:`pipeweaver.lint` reports. Nothing is checked while
    :func:`unchecked` is in effect.

    Raises:
        ValueError: for a shape that is neither a string nor an integer (a model field has no
            other kind to check).
    """
    del optional  # None passes every validator; the flag documents the field at its call site
    shape = SHAPES[shape_name]
    kind = shape["type"]
    lo, hi = shape.get("min"), shape.get("max")
    pattern = re.compile(shape["pattern"], re.DOTALL) if "pattern" in shape else None
    least = lo if lo is not None else 0

    def validate_string(_instance: Any, attribute: Any, value: Any) -> None:
        # `type(...) is str` answers for plain strings; isinstance admits str subclasses.
        if type(value) is not str and not isinstance(value, str):
            return
        if not _CHECKING.get():
            return
        n = len(value)
        if n < least or (hi is not None and n > hi):
            if DYNAMIC_REFERENCE.search(value):
                return
            raise DefinitionError(
                attribute.name, value, f"length must be {lo or 0}..{hi or 'any'} characters ({shape_name})"
            )
        if pattern is not None and not pattern.fullmatch(value):
            if DYNAMIC_REFERENCE.search(value):
                return
            raise DefinitionError(attribute.name, value, f"must match {shape['pattern']} ({shape_name})")

    def validate_integer(_instance: Any, attribute: Any, value: Any) -> None:
        # bool is an int subclass, but True is not a run order.
        if type(value) is not int and (not isinstance(value, int) or isinstance(value, bool)):
            return
        if not _CHECKING.get():
            return
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise DefinitionError(attribute.name, value, f"must be in {lo}..{hi} ({shape_name})")

    if kind == "string":
        return validate_string
    if kind == "integer":
        return validate_integer
    raise ValueError(f"checked() applies string and integer shapes; {shape_name} is a {kind}")


def checked_each(shape_name: str) -> Validator:
    """Like :func:`checked`, for every item of a tuple field."""
    inner = checked(shape_name)

    def validate(instance: Any, attribute: Any, value: Any) -> None:
        for item in value:
            inner(instance, attribute, item)

    return validate


def checked_count(shape_name: str) -> Validator:
    """Validate the item count of a tuple field against a list shape (an empty tuple means absent)."""
    shape = SHAPES[shape_name]
    lo, hi = shape.get("min"), shape.get("max")

    def validate(_instance: Any, attribute: Any, value: Any) -> None:
        if not value or not _CHECKING.get():
            return
        n = len(value)
        if (lo is not None and n < lo) or (hi is not None and n > hi):
            raise DefinitionError(attribute.name, value, f"must hold {lo or 0}..{hi} items ({shape_name})")

    return validate
