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
        skip: Values for which this returns true are accepted wherever a string or an
            integer may stand (used for CloudFormation intrinsic functions).

    Returns:
        The issues, in document order.
    """
    check = _checker(shape, constraints, skip)
    issues: list[Issue] = []
    if not check(value, 0, None, ""):
        check(value, 0, issues, path)
    return issues


#: A shape compiled into one check: ``check(value, depth, issues, path) -> valid``. With
#: ``issues=None`` it only decides, and stops at the first problem; with a list it appends
#: every problem under *path*, in document order. Each container decides a child first and
#: asks it for issues only when it is invalid, so paths are written for problems alone.
Check = Callable[[object, int, "list[Issue] | None", str], bool]


@cache
def _string_checker(
    shape_name: str, constraints: bool, skip: Callable[[object], bool] | None, what: str = "value"
) -> Check:
    """
    Compile string shape *shape_name* into its :data:`Check` (*what* names the value in messages).

    Strings are most of a declaration's nodes, so the check is specialised here, once, to the
    constraints the shape has: an enum is one set lookup, a shape without limits one type
    test. An empty string skips the pattern. Values that are not strings are accepted when
    *skip* says so (CloudFormation intrinsic functions), and refused otherwise.
    """
    shape = SHAPES[shape_name]
    lo = shape["min"] if constraints and "min" in shape else 0
    hi: int | None = shape["max"] if constraints and "max" in shape else None
    pattern = _pattern(shape["pattern"]) if constraints and "pattern" in shape else None

    def not_a_string(value: object, issues: list[Issue] | None, path: str) -> bool:
        if skip is not None and skip(value):
            return True
        if issues is not None:
            issues.append(_wrong_type(path, "string", value, shape_name))
        return False

    if "enum" in shape:
        enum = frozenset(shape["enum"])

        def check_enum(value: object, depth: int, issues: list[Issue] | None, path: str) -> bool:
            if type(value) is not str and not isinstance(value, str):
                return not_a_string(value, issues, path)
            if value in enum:
                return True
            if issues is not None:
                issues.append(_enum_issue(value, shape_name, path))
            return False

        return check_enum
    if not lo and hi is None and pattern is None:

        def check_text(value: object, depth: int, issues: list[Issue] | None, path: str) -> bool:
            return type(value) is str or isinstance(value, str) or not_a_string(value, issues, path)

        return check_text

    def check_bounded(value: object, depth: int, issues: list[Issue] | None, path: str) -> bool:
        if type(value) is not str and not isinstance(value, str):
            return not_a_string(value, issues, path)
        n = len(value)
        fits = lo <= n and (hi is None or n <= hi)
        if fits and (pattern is None or not n or pattern.fullmatch(value) is not None):
            return True
        if issues is not None:
            if not fits:
                issues.append(_length_issue(value, lo, hi, shape_name, path, what))
            if pattern is not None and n and pattern.fullmatch(value) is None:
                issues.append(_pattern_issue(value, shape_name, path, what))
        return False

    return check_bounded


def _enum_issue(value: str, shape_name: str, path: str) -> Issue:
    near = _near(value, SHAPES[shape_name]["enum"])
    return Issue(
        code=ShapeCodes.ENUM,
        severity="error",
        path=path,
        message=f"{value!r} is not a valid {shape_name}",
        hint=(f"did you mean {near!r}? " if near else "") + f"allowed values: {', '.join(SHAPES[shape_name]['enum'])}",
    )


def _length_issue(value: str, lo: int, hi: int | None, shape_name: str, path: str, what: str) -> Issue:
    n = len(value)
    shown = value if n <= 60 else value[:57] + "..."
    return Issue(
        code=ShapeCodes.LENGTH,
        severity="error",
        path=path,
        message=f"{what} {shown!r} has {n} characters; {shape_name} allows {lo}..{hi if hi is not None else 'any'}",
        hint="an empty value is never allowed; leave the field out instead"
        if not value
        else f"shorten it to at most {hi} characters"
        if hi is not None and n > hi
        else f"it needs at least {lo} characters",
    )


def _pattern_issue(value: str, shape_name: str, path: str, what: str) -> Issue:
    shown = value if len(value) <= 60 else value[:57] + "..."
    text = SHAPES[shape_name]["pattern"]
    return Issue(
        code=ShapeCodes.PATTERN,
        severity="error",
        path=path,
        message=f"{what} {shown!r} does not match the {shape_name} pattern {text}",
        hint=_PATTERN_HINTS.get(shape_name, f"use only characters allowed by {text}"),
    )


def _child(item: object, check: Check, depth: int, issues: list[Issue], path: str) -> bool:
    """Decide *item*; only when it is invalid, report its problems at *path* (see :data:`Check`)."""
    if check(item, depth, None, ""):
        return True
    if depth > MAX_DEPTH:
        issues.append(_too_deep(path))
    else:
        check(item, depth, issues, path)
    return False


def _too_deep(path: str) -> Issue:
    return Issue(
        code=ShapeCodes.TOO_DEEP,
        severity="error",
        path=path,
        message=f"the definition is nested deeper than {MAX_DEPTH} levels",
        hint="a CodePipeline declaration is never this deep; check the input file",
    )


def _refuse(issues: list[Issue] | None, path: str, depth: int, kind: str, value: object, shape_name: str) -> bool:
    """A container too deep or of the wrong type: report which, and answer invalid."""
    if issues is not None:
        issues.append(_too_deep(path) if depth > MAX_DEPTH else _wrong_type(path, kind, value, shape_name))
    return False


@cache
def _checker(shape_name: str, constraints: bool, skip: Callable[[object], bool] | None) -> Check:
    """Compile shape *shape_name* into its :data:`Check`."""
    shape = SHAPES[shape_name]
    kind = shape["type"]
    lo, hi = shape.get("min"), shape.get("max")
    if kind == "structure":
        members: dict[str, str] = shape["members"]
        required = tuple(shape["required"])
        # member -> the check of its shape; filled on first use (a shape may contain itself)
        children: dict[str, Check] = {}

        def check_structure(value: object, depth: int, issues: list[Issue] | None, path: str) -> bool:
            if depth > MAX_DEPTH or (type(value) is not dict and not isinstance(value, Mapping)):
                return _refuse(issues, path, depth, kind, value, shape_name)
            if not children:
                for key, member in members.items():
                    children[key] = _checker(member, constraints, skip)
            if issues is None:
                # deciding (the common, valid case): the first problem answers, nothing is built
                for req in required:
                    if req not in value:
                        return False
                for key, item in value.items():
                    child = children.get(key) if type(key) is str or isinstance(key, str) else None
                    if child is None:
                        return False
                    if item is None:
                        # an optional member set to null is absent; a required one has the wrong type
                        if key in required:
                            return False
                        continue
                    if not child(item, depth + 1, None, ""):
                        return False
                return True
            missing = [req for req in required if req not in value]
            unknown: list[Issue] = []
            # Problems by member, reported in the shape's member order after the unknown and
            # missing fields.
            found: dict[str, list[Issue]] = {}
            for key, item in value.items():
                child = children.get(key) if type(key) is str or isinstance(key, str) else None
                if child is None:
                    near = _near(str(key), list(members))
                    unknown.append(
                        Issue(
                            code=ShapeCodes.UNKNOWN_FIELD,
                            severity="error",
                            path=join_key(path, str(key)),
                            message=f"unknown field {key!r} in {shape_name}",
                            hint=(
                                f"did you mean {near!r}?" if near else f"allowed fields: {', '.join(sorted(members))}"
                            ),
                        )
                    )
                    continue
                if item is None:
                    # An optional member set to null is absent; a required one has the wrong type.
                    if key in required:
                        member = members[key]
                        found[key] = [_wrong_type(join_key(path, key), SHAPES[member]["type"], None, member)]
                    continue
                problems: list[Issue] = []
                if not _child(item, child, depth + 1, problems, join_key(path, key)):
                    found[key] = problems
            issues.extend(unknown)
            for req in missing:
                issues.append(
                    Issue(
                        code=ShapeCodes.MISSING_FIELD,
                        severity="error",
                        path=join_key(path, req),
                        message=f"required field {req!r} of {shape_name} is missing",
                        hint=f"add {req!r}",
                    )
                )
            for key in members:
                if key in found:
                    issues.extend(found[key])
            return not (unknown or missing or found)

        return check_structure
    if kind == "list":
        member_name = shape["member"]
        # the item's check, looked up on first use (a shape may contain itself)
        item_check: list[Check] = []

        def check_list(value: object, depth: int, issues: list[Issue] | None, path: str) -> bool:
            if depth > MAX_DEPTH or (type(value) is not list and not isinstance(value, list | tuple)):
                return _refuse(issues, path, depth, kind, value, shape_name)
            valid = True
            if constraints and ((lo is not None and len(value) < lo) or (hi is not None and len(value) > hi)):
                if issues is None:
                    return False
                valid = False
                _count(len(value), shape, shape_name, path, issues)
            if not item_check:
                item_check.append(_checker(member_name, constraints, skip))
            check = item_check[0]
            if issues is None:
                for x in value:
                    if not check(x, depth + 1, None, ""):
                        return False
                return valid
            for index, x in enumerate(value):
                if not _child(x, check, depth + 1, issues, join_index(path, index)):
                    valid = False
            return valid

        return check_list
    if kind == "map":
        key_name, value_name = shape["key"], shape["value"]
        # (key check, value check), looked up on first use
        entry: list[tuple[Check, Check]] = []

        def check_map(value: object, depth: int, issues: list[Issue] | None, path: str) -> bool:
            if depth > MAX_DEPTH or (type(value) is not dict and not isinstance(value, Mapping)):
                return _refuse(issues, path, depth, kind, value, shape_name)
            valid = True
            if constraints and ((lo is not None and len(value) < lo) or (hi is not None and len(value) > hi)):
                if issues is None:
                    return False
                valid = False
                _count(len(value), shape, shape_name, path, issues)
            if not entry:
                assert SHAPES[key_name]["type"] == "string", f"{shape_name} has keys that are not strings"
                # keys are never intrinsic functions: no skip
                entry.append(
                    (_string_checker(key_name, constraints, None, "key"), _checker(value_name, constraints, skip))
                )
            key_check, value_check = entry[0]
            if issues is None:
                for key, item in value.items():
                    if not key_check(key, depth, None, "") or not value_check(item, depth + 1, None, ""):
                        return False
                return valid
            for key, item in value.items():
                sub = join_key(path, str(key))
                if not isinstance(key, str):
                    issues.append(_wrong_type(sub, "string", key, key_name))
                    valid = False
                    continue
                if not key_check(key, depth, issues, sub):
                    valid = False
                if not _child(item, value_check, depth + 1, issues, sub):
                    valid = False
            return valid

        return check_map
    if kind == "string":
        return _string_checker(shape_name, constraints, skip)
    if kind in ("integer", "long"):

        def check_int(value: object, depth: int, issues: list[Issue] | None, path: str) -> bool:
            if not isinstance(value, int) or isinstance(value, bool):
                if skip is not None and skip(value):
                    return True  # a Ref to a Number parameter, say
                if issues is not None:
                    issues.append(_wrong_type(path, kind, value, shape_name))
                return False
            if not constraints or not ((lo is not None and value < lo) or (hi is not None and value > hi)):
                return True
            if issues is not None:
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
            return False

        return check_int
    if kind == "boolean":

        def check_bool(value: object, depth: int, issues: list[Issue] | None, path: str) -> bool:
            if isinstance(value, bool):
                return True
            if issues is not None:
                issues.append(_wrong_type(path, kind, value, shape_name))
            return False

        return check_bool

    # timestamps and blobs never appear in a declaration; accept them as they are
    def check_any(value: object, depth: int, issues: list[Issue] | None, path: str) -> bool:
        return True

    return check_any


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
