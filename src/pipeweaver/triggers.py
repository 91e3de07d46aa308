"""What starts a pipeline: would a git event, or a new S3 object, start it, and why.

:func:`evaluate` judges a :class:`GitPush` or :class:`GitPullRequest` against a pipeline's V2
triggers (or the implicit "any commit on the configured branch" rule) as CodePipeline would;
:func:`evaluate_object_change` does the same for an S3 source; :func:`check_patterns` fails
early on a trigger glob that cannot match; :func:`glob_match` is the glob syntax of trigger
filters; :class:`CronSchedule` reads the five-field cron of ``watch --schedule``. The guide is
docs/triggers.md. (``pipeweaver.evaluate_trigger`` is :func:`evaluate`.)

Layer: a public face of the graph/validate layer's trigger module; pure, no I/O.
"""

from __future__ import annotations

from ._public import publish as _publish
from ._triggers import (
    CriterionCheck,
    CronSchedule,
    FilterCheck,
    GitEvent,
    GitPullRequest,
    GitPush,
    TriggerDecision,
    check_patterns,
    evaluate,
    evaluate_object_change,
    glob_match,
)

__all__ = [
    "CriterionCheck",
    "CronSchedule",
    "FilterCheck",
    "GitEvent",
    "GitPullRequest",
    "GitPush",
    "TriggerDecision",
    "check_patterns",
    "evaluate",
    "evaluate_object_change",
    "glob_match",
]

_publish(globals(), __all__, __name__)
