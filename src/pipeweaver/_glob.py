"""Glob patterns of trigger filters: ``compile_glob`` and ``glob_match``.

Layer: names (pure; imports errors only). Glob semantics follow AWS's "Working with glob
patterns in syntax" page word for word; its rules are those of Java's ``PathMatcher`` glob
syntax, so that is the reading used where the page is brief: ``*`` stays inside one path
segment, ``**`` crosses ``/``, ``?`` is one character other than ``/``, ``[...]`` is a set
(``!`` negates, ``-`` is a range unless it comes first), ``{a,b}`` is alternation (never
nested), ``\\`` escapes, and a leading dot is an ordinary character. Matching is
case-sensitive and always against the whole name.
"""

from __future__ import annotations

import functools
import re

from .errors import DefinitionError

__all__ = ["compile_glob", "glob_match"]


def _glob_error(pattern: str, index: int, problem: str) -> DefinitionError:
    return DefinitionError(
        "pattern",
        pattern,
        f"{problem} at character {index + 1}; escape special characters with a backslash "
        f"(see https://docs.aws.amazon.com/codepipeline/latest/userguide/syntax-glob.html)",
    )


def _bracket(pattern: str, start: int) -> tuple[str, int]:
    """Translate the set that opens at ``pattern[start] == '['``; return (regex, next index)."""
    i = start + 1
    negate = i < len(pattern) and pattern[i] == "!"
    if negate:
        i += 1
    members: list[str] = []
    # A '-' right after '[' or '[!' is itself, not a range.
    if i < len(pattern) and pattern[i] == "-":
        members.append(re.escape("-"))
        i += 1
    last: str | None = None
    while i < len(pattern):
        c = pattern[i]
        if c == "]":
            if not members:
                raise _glob_error(pattern, i, "empty character set '[]'")
            # A set never matches the name separator, negated or not.
            body = "".join(members)
            return (f"[^/{body}]" if negate else f"(?!/)[{body}]"), i + 1
        if c == "/":
            raise _glob_error(pattern, i, "'/' cannot appear inside a character set")
        if c == "-":
            if last is None:
                raise _glob_error(pattern, i, "invalid range in character set")
            if i + 1 >= len(pattern):
                break
            end = pattern[i + 1]
            if end == "]":
                # "[a-]": the trailing '-' is literal.
                members.append(re.escape("-"))
                i += 1
                continue
            if end < last:
                raise _glob_error(pattern, i, f"invalid range {last}-{end} in character set")
            members.append("-" + re.escape(end))
            last = None
            i += 2
            continue
        # Inside a set '*', '?' and '\' are ordinary characters.
        members.append(re.escape(c))
        last = c
        i += 1
    raise _glob_error(pattern, start, "character set '[' is never closed with ']'")


@functools.lru_cache(maxsize=4096)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """
    Compile an AWS trigger glob into an anchored regular expression (cached).

    Raises:
        DefinitionError: for a malformed pattern (unclosed ``[`` or ``{``, nested ``{``,
            a trailing ``\\``, a ``/`` inside ``[...]``, a reversed range).

    .. versionadded:: 0.1.0
    """
    out: list[str] = []
    in_group = False
    group_start = 0
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise _glob_error(pattern, i, "'\\' at the end has nothing to escape")
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if c == "*":
            if i + 1 < n and pattern[i + 1] == "*":
                out.append(".*")
                i += 2
            else:
                out.append("[^/]*")
                i += 1
            continue
        if c == "?":
            out.append("[^/]")
        elif c == "[":
            regex, i = _bracket(pattern, i)
            out.append(regex)
            continue
        elif c == "{":
            if in_group:
                raise _glob_error(pattern, i, "groups '{...}' cannot be nested")
            in_group, group_start = True, i
            out.append("(?:(?:")
        elif c == "}" and in_group:
            in_group = False
            out.append("))")
        elif c == "," and in_group:
            out.append(")|(?:")
        else:
            out.append(re.escape(c))
        i += 1
    if in_group:
        raise _glob_error(pattern, group_start, "group '{' is never closed with '}'")
    return re.compile("".join(out), re.DOTALL)


def glob_match(pattern: str, name: str) -> bool:
    """
    Whether *name* (a branch, tag or file path) matches the glob *pattern* as a whole.

    .. versionadded:: 0.1.0
    """
    return compile_glob(pattern).fullmatch(name) is not None
