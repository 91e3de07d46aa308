"""The exception tree and the :class:`Issue` record.

This module is the bottom layer: it imports nothing from pipeweaver, so every other module can
raise these errors without import cycles.

.. code-block:: text

    PipeweaverError
    ├── DefinitionError(ValueError)     a field rejected when a model object is built
    ├── LoadError(ValueError)           API JSON / template that cannot become a model
    ├── ValidationError(ValueError)     a whole pipeline breaks AWS's rules (.issues)
    ├── SynthesisError(ValueError)      a model that cannot be rendered to a target
    ├── ExecutionError                  a local or remote run cannot start or continue
    │   ├── HandlerNotFoundError        no handler for an action type (found before the run)
    │   ├── ArtifactError               a stored artifact is corrupt or an archive is hostile
    │   └── HistoryError                the execution history is damaged, locked or unreadable
    └── AwsError                        an AWS call failed (wraps botocore's ClientError)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import attrs

__all__ = [
    "ArtifactError",
    "AwsError",
    "DefinitionError",
    "ExecutionError",
    "HandlerNotFoundError",
    "HistoryError",
    "Issue",
    "LoadError",
    "PipeweaverError",
    "Severity",
    "SynthesisError",
    "ValidationError",
    "format_issues",
]

Severity = Literal["error", "warning"]


@attrs.frozen(kw_only=True)
class Issue:
    """
    One problem found in a pipeline definition.

    Attributes:
        code: Stable rule code such as ``PW301``; see the rule catalog in the docs.
        severity: ``"error"`` when AWS would reject the definition or it cannot run;
            ``"warning"`` otherwise.
        path: Where, in the API JSON's own field names, e.g.
            ``stages[1].actions[0].inputArtifacts[0].name``. ``""`` means the whole pipeline.
        message: What is wrong and why, naming the offending value.
        hint: How to fix it, or ``None`` when there is nothing useful to add.

    .. versionadded:: 0.1.0
    """

    code: str
    severity: Severity
    path: str
    message: str
    hint: str | None = None

    @property
    def is_error(self) -> bool:
        """Whether this issue makes the definition unusable (``severity == "error"``)."""
        return self.severity == "error"

    def __str__(self) -> str:
        where = self.path or "<pipeline>"
        text = f"{where}: {self.message} [{self.code}]"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


def format_issues(issues: Iterable[Issue]) -> str:
    """Render issues one per line (with their hints), errors before warnings."""
    ordered = sorted(issues, key=lambda i: (i.severity != "error",))
    return "\n".join(f"  - {issue}" for issue in ordered)


class PipeweaverError(Exception):
    """Base class of every error pipeweaver raises on purpose.

    .. versionadded:: 0.1.0
    """


class DefinitionError(PipeweaverError, ValueError):
    """
    A model object was built with a field value AWS would never accept.

    Raised at construction time for problems visible in one field (a name that breaks the
    pattern, ``run_order=0``, an unknown enum value). Whole-pipeline rules are checked by
    :func:`pipeweaver.lint` instead.

    Attributes:
        field: The Python name of the field, e.g. ``"run_order"``.
        value: The rejected value.
        rule: The rule it broke, in words.
        hint: How to fix it, or ``None``; the text of the error ends with it.
        message: The text without the hint: ``field=value is invalid: rule`` unless the raiser
            said it better (a method called on an object that cannot answer it).

    .. versionadded:: 0.1.0
    """

    def __init__(
        self, field: str, value: object, rule: str, *, hint: str | None = None, message: str | None = None
    ) -> None:
        self.field = field
        self.value = value
        self.rule = rule
        self.hint = hint
        self.message = message if message is not None else f"{field}={value!r} is invalid: {rule}"
        super().__init__(f"{self.message}\n    hint: {hint}" if hint else self.message)


class _IssuesError(PipeweaverError, ValueError):
    def __init__(self, summary: str, issues: Iterable[Issue]) -> None:
        self.issues: tuple[Issue, ...] = tuple(issues)
        self.summary = summary
        body = format_issues(self.issues)
        super().__init__(f"{summary}\n{body}" if body else summary)


class LoadError(_IssuesError):
    """
    Input (API JSON, a CloudFormation template, a file) could not be turned into a model.

    Carries every structural problem found (unknown keys, wrong types, missing required
    fields) in :attr:`issues`, each with a path.

    .. versionadded:: 0.1.0
    """


class ValidationError(_IssuesError):
    """
    A pipeline breaks one or more of AWS's rules.

    Raised by :meth:`pipeweaver.Pipeline.validate` with every issue found in one pass; the
    full list is in :attr:`issues`.

    .. versionadded:: 0.1.0
    """


class SynthesisError(PipeweaverError, ValueError):
    """
    A model cannot be rendered to the requested format.

    Attributes:
        path: Where in the output the problem is (API JSON field names).

    .. versionadded:: 0.1.0
    """

    def __init__(self, message: str, *, path: str = "") -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class ExecutionError(PipeweaverError):
    """A pipeline run cannot start or continue.

    .. versionadded:: 0.1.0
    """


class HandlerNotFoundError(ExecutionError):
    """No action handler is registered for an action's type; raised before anything runs.

    .. versionadded:: 0.1.0
    """


class ArtifactError(ExecutionError):
    """An artifact failed its hash check, or an archive tried to escape its workspace.

    .. versionadded:: 0.1.0
    """


class HistoryError(ExecutionError):
    """
    The execution history (``history.sqlite3`` in a work directory) cannot be used.

    Raised instead of SQLite's own errors: the file is damaged or is not a database (the
    message gives the ``mv`` command that moves it aside, so the next run starts a new one),
    another process kept it locked too long, or one recorded execution cannot be decoded.

    Attributes:
        path: The history file.
        reason: What is wrong, without the file name.
        execution_id: The execution whose rows cannot be decoded, or ``None`` when the
            whole file is unusable.

    .. versionadded:: 0.1.0
    """

    def __init__(self, message: str, *, path: str = "", reason: str = "", execution_id: str | None = None) -> None:
        self.path = path
        self.reason = reason or message
        self.execution_id = execution_id
        super().__init__(message)


class AwsError(PipeweaverError):
    """
    A call to AWS failed.

    Attributes:
        operation: The API operation, e.g. ``"UpdatePipeline"``.
        code: AWS's error code, e.g. ``"InvalidStructureException"``.

    .. versionadded:: 0.1.0
    """

    def __init__(self, message: str, *, operation: str = "", code: str = "") -> None:
        self.operation = operation
        self.code = code
        super().__init__(message)
