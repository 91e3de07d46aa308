"""The bounds of :mod:`pipeweaver._loader` and the failure it raises, shared by its JSON and YAML halves.

Layer: names (imports nothing of pipeweaver).
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["MAX_DEPTH", "MAX_DIGITS", "MAX_NODES", "MAX_TEXT", "LoadFailure", "bounded_int"]

#: Largest text accepted, in characters: CloudFormation's own limit for a template body
#: (1 MB, read from S3), which also bounds the pure-Python YAML parse to seconds.
MAX_TEXT: Final = 1_048_576
#: Deepest nesting of mappings and lists accepted.
MAX_DEPTH: Final = 64
#: Most nodes a document may stand for once YAML aliases are followed (a 1 MB document of
#: ordinary YAML has far fewer; a "billion laughs" document far more).
MAX_NODES: Final = 1_000_000
#: Longest integer accepted, in digits: Python's own limit for converting text to an integer
#: (``sys.get_int_max_str_digits()``), below which every integer also prints back as text.
MAX_DIGITS: Final = 4300


class LoadFailure(ValueError):
    """
    Text that the bounded loader refuses: what is wrong, where (1-based line and column) and a fix.

    Attributes:
        problem: What is wrong, without the position.
        line: 1-based line, or ``None`` when the position is not known.
        column: 1-based column, or ``None``.
        hint: How to fix it, or ``None``.
        unsafe: Whether a bound was hit (nesting, alias expansion, size) rather than a syntax error.
    """

    def __init__(
        self,
        problem: str,
        *,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
        unsafe: bool = False,
    ) -> None:
        self.problem = problem
        self.line = line
        self.column = column
        self.hint = hint
        self.unsafe = unsafe
        super().__init__(str(self))

    @classmethod
    def at(cls, problem: str, mark: Any, *, hint: str | None = None, unsafe: bool = False) -> LoadFailure:
        """A failure at a PyYAML mark (which counts lines and columns from 0)."""
        if mark is None:
            return cls(problem, hint=hint, unsafe=unsafe)
        return cls(problem, line=mark.line + 1, column=mark.column + 1, hint=hint, unsafe=unsafe)

    def __str__(self) -> str:
        if self.line is None:
            return self.problem
        where = f"line {self.line}" + (f", column {self.column}" if self.column is not None else "")
        return f"{self.problem} at {where}"


def bounded_int(text: str) -> int:
    """*text* as an int, or a :class:`LoadFailure` past :data:`MAX_DIGITS` digits."""
    digits = len(text.lstrip("-"))
    if digits > MAX_DIGITS:
        raise LoadFailure(
            f"an integer of {digits} digits ({text[:12]}...); at most {MAX_DIGITS} are read",
            hint="quote it to keep it as text, or use a smaller number",
        )
    return int(text)
