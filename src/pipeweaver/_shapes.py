"""Check raw API JSON against the CodePipeline shape constraints, collecting every problem.

Layer: names/limits. Imports only :mod:`pipeweaver.errors` and the generated
:mod:`pipeweaver._shapes_data`. botocore's own ``ParamValidator`` checks required members,
types and minimums but skips ``pattern``, ``max`` and ``enum``; the walk here applies all of
them, as the service does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, Final

from ._shapes_data import SHAPES
from .errors import Issue

__all__ = ["SHAPES", "ShapeCodes", "check_shape", "join_key", "join_index", "number_text", "shape_limits"]

#: Maximum nesting the walk follows; deeper input is reported, never recursed into.
MAX_DEPTH: Final = 64


class ShapeCodes:
    """Issue codes produced by the shape walk (documented in the rule catalog)."""

    UNKNOWN_FIELD: Final = "PW001"
    MISSING_FIELD: Final = "PW002"
    WRONG_TYPE: Final = "PW003"
    TOO_DEEP: Final = "PW004"
    PATTERN: Final = "PW010"
    LENGTH: Final = "PW011"
    ENUM: Final = "PW012"
    COUNT: Final = "PW013"
    RANGE: Final = "PW014"


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def join_key(path: str, key: str) -> str:
    """Extend *path* with a member or map key: ``a.b`` or ``a["us-east-1"]``."""
    if _IDENT.fullmatch(key):
        return f"{path}.{key}" if path else key
    quoted = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'{path}["{quoted}"]'


def number_text(value: int | float) -> str:
    """
    A number as text for a message: ``str(value)``, or ``a 5001-digit number`` for an integer too long to print.

    Python refuses to turn an integer of more than 4,300 digits into text (ValueError); a
    message about such a value must not fail in its own turn.
    """
    if isinstance(value, int) and value.bit_length() > 14_000:  # ~4,214 digits: below the limit
        digits = int(value.bit_length() * 0.30103) + 1
        return f"a {digits}-digit number"
    return str(value)


def join_index(path: str, index: int) -> str:
    """Extend *path* with a list index: ``a[3]``."""
    return f"{path}[{index}]"


@cache
def _pattern(text: str) -> re.Pattern[str]:
    # The service matches the whole value (Java ``matches``), so patterns are anchored here. A
    # "." outside a character class matches any character but a line break, as in Java, except
    # in ".*", AWS's way of saying "anything". DOTALL changes nothing else, so a pattern without
    # a bare "." takes it too and is the same compiled object as the model's field validator's.
    return re.compile(text, re.DOTALL if text == ".*" or not _has_bare_dot(text) else 0)


def _has_bare_dot(text: str) -> bool:
    """Whether *text* has a ``.`` outside a character class (when unsure: yes)."""
    in_class = False
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
        elif c == "[":
            in_class = True
            # a "]" first in a class (after an optional "^") is a literal one
            if text[i + 1 : i + 2] == "^":
                i += 1
            if text[i + 1 : i + 2] == "]":
                i += 1
        elif c == ".":
            return True
        i += 1
    return in_class


def _compile_patterns() -> None:
    # Every pattern is compiled once, at import, so a check never fails on (or waits for) a
    # pattern it meets for the first time.
    for shape in SHAPES.values():
        if "pattern" in shape:
            _pattern(shape["pattern"])


_compile_patterns()


def shape_limits(name: str) -> Mapping[str, Any]:
    """Return the raw constraint record of shape *name* (``min``, ``max``, ``pattern``, ...)."""
    return SHAPES[name]


_TYPE_WORDS = {
    "structure": "an object",
    "list": "a list",
    "map": "an object (map)",
    "string": "a string",
    "integer": "an integer",
    "boolean": "a boolean",
    "timestamp": "a timestamp",
    "long": "an integer",
}


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def _near(word: str, choices: list[str]) -> str | None:
    import difflib

    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if match:
        return match[0]
    lowered = {c.lower(): c for c in choices}
    return lowered.get(word.lower())


def check_shape(
    value: object,
    shape: str = "PipelineDeclaration",
    path: str = "",
    *,
    constraints: bool = True,
    skip: Callable[[object], bool] | None = None,
) -> list[Issue]:
    """
    Walk *value* against API shape *shape* and return every problem found.

    Args:
        value: Raw JSON data (dicts, lists, strings, numbers).
        shape: Name of the botocore shape to check against.
        path: Path prefix for reported issues.
        constraints: When false, report only structural problems (unknown or missing fields,
            wrong types, unknown enum values) and skip patterns, lengths and ranges.
        skip: Values for which this returns true are accepted wherever a string may stand
            (used for CloudFormation intrinsic functions).

    Returns:
        The issues, in document order.
    """
    # The compiled predicate decides; the walk explains its "no", subtree by subtree, in
    # document order (tests/test_shapes_fast_check.py holds the two to the same answers).
    if _validator(shape, constraints, skip)(value, 0):
        return []
    issues: list[Issue] = []
    _walk(value, shape, path, issues, constraints, skip, 0)
    return issues


Check = Callable[[object, int], bool]

#: A string shape compiled for the checks below: (enum, least length, greatest length, pattern).
#: Structures, lists and maps test their string members, items, keys and values with it
#: directly (:func:`_string_ok`), without a predicate of their own.
StringSpec = tuple[frozenset[str] | None, int, int | None, "re.Pattern[str] | None"]


@cache
def _string_spec(shape_name: str, constraints: bool) -> StringSpec | None:
    """The compiled checks of *shape_name* when it is a string shape, else ``None``."""
    shape = SHAPES[shape_name]
    if shape["type"] != "string":
        return None
    lo, hi = shape.get("min"), shape.get("max")
    return (
        frozenset(shape["enum"]) if "enum" in shape else None,
        lo if constraints and lo is not None else 0,
        hi if constraints and hi is not None else None,
        _pattern(shape["pattern"]) if "pattern" in shape and constraints else None,
    )


def _string_ok(value: object, spec: StringSpec, skip: Callable[[object], bool] | None) -> bool:
    """Whether *value* may stand where *spec*'s string shape is wanted (an empty string skips the pattern)."""
    if not isinstance(value, str):
        return skip is not None and skip(value)
    enum, lo_len, hi_len, pattern = spec
    if enum is not None:
        return value in enum
    if len(value) < lo_len or (hi_len is not None and len(value) > hi_len):
        return False
    return pattern is None or not value or pattern.fullmatch(value) is not None


@cache
def _validator(shape_name: str, constraints: bool, skip: Callable[[object], bool] | None) -> Check:
    """Compile shape *shape_name* into a fast predicate ``(value, depth) -> is valid``."""
    shape = SHAPES[shape_name]
    kind = shape["type"]
    lo, hi = shape.get("min"), shape.get("max")
    if kind == "structure":
        members: dict[str, str] = shape["members"]
        required = tuple(shape["required"])
        # member -> the string spec of its shape, or the predicate of any other shape; filled on
        # first use (a shape may contain itself)
        children: dict[str, StringSpec | Check] = {}

        def check_structure(value: object, depth: int) -> bool:
            if depth > MAX_DEPTH or (type(value) is not dict and not isinstance(value, Mapping)):
                return False
            for req in required:
                if value.get(req) is None:
                    return False
            if not children:
                for key, member in members.items():
                    children[key] = _string_spec(member, constraints) or _validator(member, constraints, skip)
            for key, item in value.items():
                child = children.get(key) if type(key) is str or isinstance(key, str) else None
                if child is None:
                    return False
                if item is None:
                    continue
                if type(child) is tuple:
                    if not _string_ok(item, child, skip):
                        return False
                elif not child(item, depth + 1):  # type: ignore[operator]
                    return False
            return True

        return check_structure
    if kind == "list":
        member_name = shape["member"]
        # the item's string spec or predicate, looked up on first use (a shape may contain itself)
        item: list[StringSpec | Check] = []

        def check_list(value: object, depth: int) -> bool:
            if depth > MAX_DEPTH or (type(value) is not list and not isinstance(value, list | tuple)):
                return False
            if constraints and ((lo is not None and len(value) < lo) or (hi is not None and len(value) > hi)):
                return False
            if not item:
                item.append(_string_spec(member_name, constraints) or _validator(member_name, constraints, skip))
            check = item[0]
            if type(check) is tuple:
                return all(_string_ok(x, check, skip) for x in value)
            return all(check(x, depth + 1) for x in value)  # type: ignore[operator]

        return check_list
    if kind == "map":
        key_name, value_name = shape["key"], shape["value"]
        # (key spec or predicate, value spec or predicate), looked up on first use
        entry: list[tuple[StringSpec | Check, StringSpec | Check]] = []

        def check_map(value: object, depth: int) -> bool:
            if depth > MAX_DEPTH or (type(value) is not dict and not isinstance(value, Mapping)):
                return False
            if constraints and ((lo is not None and len(value) < lo) or (hi is not None and len(value) > hi)):
                return False
            if not entry:
                entry.append(
                    (
                        _string_spec(key_name, constraints) or _validator(key_name, constraints, None),
                        _string_spec(value_name, constraints) or _validator(value_name, constraints, skip),
                    )
                )
            key_check, value_check = entry[0]
            for key, item in value.items():
                if not isinstance(key, str):
                    return False
                if type(key_check) is tuple:
                    if not _string_ok(key, key_check, None):
                        return False
                elif not key_check(key, depth + 1):  # type: ignore[operator]
                    return False
                if type(value_check) is tuple:
                    if not _string_ok(item, value_check, skip):
                        return False
                elif not value_check(item, depth + 1):  # type: ignore[operator]
                    return False
            return True

        return check_map
    if kind == "string":
        spec = _string_spec(shape_name, constraints)
        assert spec is not None

        def check_string(value: object, depth: int) -> bool:
            return _string_ok(value, spec, skip)

        return check_string
    if kind in ("integer", "long"):

        def check_int(value: object, depth: int) -> bool:
            if not isinstance(value, int) or isinstance(value, bool):
                return False
            if not constraints:
                return True
            return not ((lo is not None and value < lo) or (hi is not None and value > hi))

        return check_int
    if kind == "boolean":
        return lambda value, depth: isinstance(value, bool)
    return lambda value, depth: True


def _walk(
    value: object,
    shape_name: str,
    path: str,
    issues: list[Issue],
    constraints: bool,
    skip: Callable[[object], bool] | None,
    depth: int,
) -> None:
    if depth and _validator(shape_name, constraints, skip)(value, depth):
        return
    shape = SHAPES[shape_name]
    kind = shape["type"]
    if depth > MAX_DEPTH:
        issues.append(
            Issue(
                code=ShapeCodes.TOO_DEEP,
                severity="error",
                path=path,
                message=f"the definition is nested deeper than {MAX_DEPTH} levels",
                hint="a CodePipeline declaration is never this deep; check the input file",
            )
        )
        return
    if kind == "structure":
        if not isinstance(value, Mapping):
            issues.append(_wrong_type(path, kind, value, shape_name))
            return
        members: dict[str, str] = shape["members"]
        for key in value:
            if not isinstance(key, str) or key not in members:
                near = _near(str(key), list(members))
                issues.append(
                    Issue(
                        code=ShapeCodes.UNKNOWN_FIELD,
                        severity="error",
                        path=join_key(path, str(key)),
                        message=f"unknown field {key!r} in {shape_name}",
                        hint=(f"did you mean {near!r}?" if near else f"allowed fields: {', '.join(sorted(members))}"),
                    )
                )
        for req in shape["required"]:
            if req not in value:
                issues.append(
                    Issue(
                        code=ShapeCodes.MISSING_FIELD,
                        severity="error",
                        path=join_key(path, req),
                        message=f"required field {req!r} of {shape_name} is missing",
                        hint=f"add {req!r}",
                    )
                )
        for key, member_shape in members.items():
            if key in value and not (value[key] is None and key not in shape["required"]):
                _walk(
                    value[key],
                    member_shape,
                    join_key(path, key),
                    issues,
                    constraints,
                    skip,
                    depth + 1,
                )
            elif key in value and key in shape["required"]:
                issues.append(_wrong_type(join_key(path, key), SHAPES[member_shape]["type"], None, member_shape))
        return
    if kind == "list":
        if not isinstance(value, list | tuple):
            issues.append(_wrong_type(path, kind, value, shape_name))
            return
        if constraints:
            _count(len(value), shape, shape_name, path, issues)
        for index, item in enumerate(value):
            _walk(item, shape["member"], join_index(path, index), issues, constraints, skip, depth + 1)
        return
    if kind == "map":
        if not isinstance(value, Mapping):
            issues.append(_wrong_type(path, kind, value, shape_name))
            return
        if constraints:
            _count(len(value), shape, shape_name, path, issues)
        for key, item in value.items():
            sub = join_key(path, str(key))
            if not isinstance(key, str):
                issues.append(_wrong_type(sub, "string", key, shape["key"]))
                continue
            if constraints:
                _string(key, SHAPES[shape["key"]], shape["key"], sub, issues, is_key=True)
            _walk(item, shape["value"], sub, issues, constraints, skip, depth + 1)
        return
    if kind == "string":
        if skip is not None and skip(value):
            return
        if not isinstance(value, str):
            issues.append(_wrong_type(path, kind, value, shape_name))
            return
        if "enum" in shape:
            if value not in shape["enum"]:
                near = _near(value, shape["enum"])
                issues.append(
                    Issue(
                        code=ShapeCodes.ENUM,
                        severity="error",
                        path=path,
                        message=f"{value!r} is not a valid {shape_name}",
                        hint=(f"did you mean {near!r}? " if near else "")
                        + f"allowed values: {', '.join(shape['enum'])}",
                    )
                )
            return
        if constraints:
            _string(value, shape, shape_name, path, issues)
        return
    if kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            issues.append(_wrong_type(path, kind, value, shape_name))
            return
        if constraints:
            lo, hi = shape.get("min"), shape.get("max")
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                bounds = f"{lo}..{hi}" if hi is not None else f">= {lo}"
                issues.append(
                    Issue(
                        code=ShapeCodes.RANGE,
                        severity="error",
                        path=path,
                        message=f"{number_text(value)} is outside the allowed range {bounds} for {shape_name}",
                        hint=f"use a value in {bounds}",
                    )
                )
        return
    if kind == "boolean":
        if not isinstance(value, bool):
            issues.append(_wrong_type(path, kind, value, shape_name))
        return
    # timestamps and blobs never appear in a declaration; accept them as they are


def _wrong_type(path: str, kind: str, value: object, shape_name: str) -> Issue:
    return Issue(
        code=ShapeCodes.WRONG_TYPE,
        severity="error",
        path=path,
        message=f"expected {_TYPE_WORDS.get(kind, kind)} ({shape_name}), got {_kind(value)}",
        hint=f"write {_TYPE_WORDS.get(kind, kind)} here",
    )


def _count(n: int, shape: Mapping[str, Any], shape_name: str, path: str, issues: list[Issue]) -> None:
    lo, hi = shape.get("min"), shape.get("max")
    if lo is not None and n < lo:
        issues.append(
            Issue(
                code=ShapeCodes.COUNT,
                severity="error",
                path=path,
                message=f"{shape_name} has {n} item(s); at least {lo} required",
                hint="add items or leave the field out" if lo == 1 else f"give at least {lo} items",
            )
        )
    elif hi is not None and n > hi:
        issues.append(
            Issue(
                code=ShapeCodes.COUNT,
                severity="error",
                path=path,
                message=f"{shape_name} has {n} items; at most {hi} allowed",
                hint=f"keep at most {hi} items",
            )
        )


def _string(
    value: str,
    shape: Mapping[str, Any],
    shape_name: str,
    path: str,
    issues: list[Issue],
    *,
    is_key: bool = False,
) -> None:
    lo, hi = shape.get("min"), shape.get("max")
    what = "key" if is_key else "value"
    if (lo is not None and len(value) < lo) or (hi is not None and len(value) > hi):
        shown = value if len(value) <= 60 else value[:57] + "..."
        issues.append(
            Issue(
                code=ShapeCodes.LENGTH,
                severity="error",
                path=path,
                message=(
                    f"{what} {shown!r} has {len(value)} characters; {shape_name} allows "
                    f"{lo if lo is not None else 0}..{hi if hi is not None else 'any'}"
                ),
                hint="an empty value is never allowed; leave the field out instead"
                if not value
                else f"shorten it to at most {hi} characters"
                if hi is not None and len(value) > hi
                else f"it needs at least {lo} characters",
            )
        )
    pattern = shape.get("pattern")
    if pattern and value and not _pattern(pattern).fullmatch(value):
        shown = value if len(value) <= 60 else value[:57] + "..."
        issues.append(
            Issue(
                code=ShapeCodes.PATTERN,
                severity="error",
                path=path,
                message=f"{what} {shown!r} does not match the {shape_name} pattern {pattern}",
                hint=_PATTERN_HINTS.get(shape_name, f"use only characters allowed by {pattern}"),
            )
        )


_PATTERN_HINTS: Final = {
    "PipelineName": "use letters, digits and . @ - _ only",
    "StageName": "use letters, digits and . @ - _ only",
    "ActionName": "use letters, digits and . @ - _ only",
    "RuleName": "use letters, digits and . @ - _ only",
    "ArtifactName": "use letters, digits, - and _ only (no '.', '@' or spaces)",
    "ActionNamespace": "use letters, digits, @ - _ only (no '.')",
    "RoleArn": "give a full IAM role ARN with a 12-digit account id, "
    "e.g. arn:aws:iam::123456789012:role/MyPipelineRole",
    "ArtifactStoreLocation": "give an S3 bucket name (3-63 letters, digits, '-' and '.')",
    "PipelineVariableName": "use letters, digits, @ - _ only",
    "EnvironmentVariableName": "use letters, digits and _ only",
}
