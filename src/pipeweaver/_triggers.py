"""What starts a pipeline: trigger glob matching and git-event evaluation.

Layer: graph/validate (pure; no I/O). Imports the model and errors only. The watcher and the
webhook receiver (:mod:`pipeweaver.execution`) and the CloudFormation event wiring
(:mod:`pipeweaver.synth`) build on it.

Glob syntax and matching live in :mod:`pipeweaver._glob` (re-exported here).

Schedules (``watch --schedule`` and the synthesized EventBridge Scheduler schedule) are
classic five-field cron, read by :class:`CronSchedule` of :mod:`pipeweaver._cron` (re-exported
here), the one cron module.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal, TypeAlias, final

import attrs

from . import _catalog
from ._cron import CronSchedule
from ._glob import compile_glob, glob_match
from ._model import (
    Action,
    ActionCategory,
    GitFilter,
    GitPullRequestFilter,
    GitPushFilter,
    Pipeline,
    PullRequestEvent,
    PullRequestEventName,
    Trigger,
)
from ._public import publish
from .errors import DefinitionError

__all__ = [
    "CriterionCheck",
    "check_patterns",
    "CronSchedule",
    "FilterCheck",
    "GitEvent",
    "GitPullRequest",
    "GitPush",
    "TriggerDecision",
    "compile_glob",
    "evaluate",
    "evaluate_object_change",
    "glob_match",
    "source_identity",
]

#: Source providers whose changes come from git.
GIT_PROVIDERS = frozenset(s.provider for s in _catalog.iter_specs() if s.events is not None and s.events.git)


# ---------------------------------------------------------------------------------------------
# globs of triggers


def check_patterns(pipeline: Pipeline) -> None:
    """
    Compile every glob of *pipeline*'s triggers, so a bad one fails before any event arrives.

    Raises:
        DefinitionError: naming the pattern's path, e.g. ``triggers[0].push[1].branches.includes[0]``.

    .. versionadded:: 0.1.0
    """
    for t, trigger in enumerate(pipeline.triggers):
        groups: list[tuple[str, GitPushFilter | GitPullRequestFilter]] = [
            (f"push[{i}]", f) for i, f in enumerate(trigger.push)
        ] + [(f"pullRequest[{i}]", f) for i, f in enumerate(trigger.pull_request)]
        for where, flt in groups:
            criteria = {"branches": flt.branches, "filePaths": flt.file_paths}
            if isinstance(flt, GitPushFilter):
                criteria["tags"] = flt.tags
            for name, patterns in criteria.items():
                if patterns is None:
                    continue
                for kind, values in (("includes", patterns.includes), ("excludes", patterns.excludes)):
                    for k, pattern in enumerate(values):
                        try:
                            compile_glob(pattern)
                        except DefinitionError as exc:
                            raise DefinitionError(
                                f"triggers[{t}].gitConfiguration.{where}.{name}.{kind}[{k}]", pattern, exc.rule
                            ) from None


# ---------------------------------------------------------------------------------------------
# events


def _files(value: Iterable[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(dict.fromkeys(p.lstrip("/") for p in value))


def _branch(value: str | None) -> str | None:
    return None if value is None else value.removeprefix("refs/heads/")


def _tag(value: str | None) -> str | None:
    return None if value is None else value.removeprefix("refs/tags/")


def _branch_name(value: str) -> str:
    return value.removeprefix("refs/heads/")


@final
@attrs.frozen(kw_only=True)
class GitPush:
    """
    A push of a branch or a tag.

    Attributes:
        branch: The branch pushed to (``refs/heads/`` is stripped), or ``None`` for a tag push.
        tag: The tag pushed (``refs/tags/`` is stripped), or ``None`` for a branch push.
        commit: The pushed commit (the revision the execution would use).
        changed_files: Paths changed by the push, repository-relative; ``None`` when unknown.
        repository: ``owner/repo`` (connections, GitHub) or the CodeCommit repository name;
            ``None`` matches every git source action.

    .. versionadded:: 0.1.0
    """

    branch: str | None = attrs.field(default=None, converter=_branch)
    tag: str | None = attrs.field(default=None, converter=_tag)
    commit: str = ""
    changed_files: tuple[str, ...] | None = attrs.field(default=(), converter=_files)
    repository: str | None = None

    def __attrs_post_init__(self) -> None:
        if (self.branch is None) == (self.tag is None):
            raise DefinitionError("branch", (self.branch, self.tag), "a push names exactly one of branch= or tag=")


def _pr_event(value: PullRequestEvent | PullRequestEventName) -> PullRequestEvent:
    try:
        return PullRequestEvent(value)
    except ValueError:
        raise DefinitionError("event", value, "must be one of OPEN, UPDATED, CLOSED") from None


@final
@attrs.frozen(kw_only=True)
class GitPullRequest:
    """
    A pull request opened, updated (new commits) or closed (closed or merged).

    Attributes:
        event: ``OPEN``, ``UPDATED`` or ``CLOSED``.
        source_branch: The branch the pull request comes from; its head is the revision used.
        destination_branch: The branch it targets; trigger ``branches`` filters match this.
        commit: The head commit of the source branch.
        changed_files: Paths the pull request changes; ``None`` when unknown.
        repository: As for :class:`GitPush`.

    .. versionadded:: 0.1.0
    """

    event: PullRequestEvent = attrs.field(converter=_pr_event)
    source_branch: str = attrs.field(converter=_branch_name)
    destination_branch: str = attrs.field(converter=_branch_name)
    commit: str = ""
    changed_files: tuple[str, ...] | None = attrs.field(default=(), converter=_files)
    repository: str | None = None


GitEvent: TypeAlias = GitPush | GitPullRequest


# ---------------------------------------------------------------------------------------------
# decisions

CriterionName = Literal["branches", "tags", "filePaths", "events", "branch"]


@final
@attrs.frozen(kw_only=True)
class CriterionCheck:
    """
    How one criterion of a filter (branches, tags, file paths, events) judged the event.

    Attributes:
        criterion: ``branches``, ``tags``, ``filePaths`` or ``events`` (``branch`` for the
            implicit configured-branch rule).
        matched: Whether the criterion is satisfied.
        value: The branch, tag, event or (for file paths) the file that decided.
        include: The include pattern that matched, if any.
        exclude: The exclude pattern that won, if any.
        reason: One sentence saying why.

    .. versionadded:: 0.1.0
    """

    criterion: CriterionName
    matched: bool
    value: str | None = None
    include: str | None = None
    exclude: str | None = None
    reason: str = ""


@final
@attrs.frozen(kw_only=True)
class FilterCheck:
    """
    How one filter of a trigger (or the implicit rule) judged the event.

    Attributes:
        source_action: The source action the filter belongs to.
        kind: ``push``, ``pullRequest`` or ``implicit`` (no trigger declared).
        index: Position of the filter in its list (0-based); 0 for ``implicit``.
        matched: Whether every criterion matched.
        criteria: The criteria, in evaluation order.

    .. versionadded:: 0.1.0
    """

    source_action: str
    kind: Literal["push", "pullRequest", "implicit"]
    index: int
    matched: bool
    criteria: tuple[CriterionCheck, ...] = ()

    @property
    def label(self) -> str:
        """``push[0] of 'Source'`` style label used in reasons."""
        where = "implicit rule" if self.kind == "implicit" else f"{self.kind}[{self.index}]"
        return f"{where} of {self.source_action!r}"

    @property
    def reason(self) -> str:
        """The criteria's reasons joined, or the first failing one when not matched."""
        if self.matched:
            return "; ".join(c.reason for c in self.criteria)
        failing = next((c for c in self.criteria if not c.matched), None)
        return failing.reason if failing else "no criteria"


@final
@attrs.frozen(kw_only=True)
class TriggerDecision:
    """
    Whether an event starts an execution, for which source action and revision, and why.

    Attributes:
        starts: Whether an execution starts.
        source_action: The source action whose trigger accepted the event.
        revision: The commit the execution uses (push: the pushed commit; pull request: the
            source branch head).
        branch: The branch the execution builds (push: destination; pull request: source).
        trigger_type: AWS's ``ExecutionTrigger`` type for the start: ``WebhookV2`` for
            connection sources, ``PollForSourceChanges``, ``CloudWatchEvent`` or ``Webhook``.
        reason: One line: which filter matched, or why nothing did.
        checks: Every filter evaluated, in order.

    .. versionadded:: 0.1.0
    """

    starts: bool
    source_action: str | None = None
    revision: str | None = None
    branch: str | None = None
    trigger_type: str | None = None
    reason: str = ""
    checks: tuple[FilterCheck, ...] = ()

    def __bool__(self) -> bool:
        return self.starts


# ---------------------------------------------------------------------------------------------
# evaluation


def _judge(criterion: CriterionName, value: str, patterns: GitFilter) -> CriterionCheck:
    """Excludes win; then an include must match (no includes = everything is included)."""
    for pattern in patterns.excludes:
        if glob_match(pattern, value):
            return CriterionCheck(
                criterion=criterion,
                matched=False,
                value=value,
                exclude=pattern,
                reason=f"{_noun(criterion)} {value!r} is excluded by {pattern!r}",
            )
    if not patterns.includes:
        return CriterionCheck(
            criterion=criterion,
            matched=True,
            value=value,
            reason=f"{_noun(criterion)} {value!r} is not excluded (no includes listed)",
        )
    for pattern in patterns.includes:
        if glob_match(pattern, value):
            return CriterionCheck(
                criterion=criterion,
                matched=True,
                value=value,
                include=pattern,
                reason=f"{_noun(criterion)} {value!r} matches include {pattern!r}",
            )
    return CriterionCheck(
        criterion=criterion,
        matched=False,
        value=value,
        reason=f"{_noun(criterion)} {value!r} matches no include of {list(patterns.includes)}",
    )


def _noun(criterion: CriterionName) -> str:
    return {"branches": "branch", "tags": "tag", "filePaths": "file", "events": "event", "branch": "branch"}[criterion]


def _judge_files(files: tuple[str, ...] | None, patterns: GitFilter) -> CriterionCheck:
    """The criterion holds when at least one changed file is included and not excluded."""
    if files is None:
        return CriterionCheck(
            criterion="filePaths",
            matched=False,
            reason="the event does not list its changed files, so a file-path filter cannot match "
            "(give changed_files=..., or map the source to a local clone so they can be computed)",
        )
    if not files:
        return CriterionCheck(criterion="filePaths", matched=False, reason="the event changes no files")
    first_failure: CriterionCheck | None = None
    for path in files:
        check = _judge("filePaths", path, patterns)
        if check.matched:
            return check
        first_failure = first_failure or check
    assert first_failure is not None
    more = f" (and {len(files) - 1} more file(s) are not included either)" if len(files) > 1 else ""
    return attrs.evolve(first_failure, reason=first_failure.reason + more)


def _push_filter(action: str, index: int, flt: GitPushFilter, event: GitPush) -> FilterCheck:
    criteria: list[CriterionCheck] = []
    if flt.tags is not None:
        if event.tag is None:
            criteria.append(
                CriterionCheck(
                    criterion="tags", matched=False, reason="the filter is on tags and this is a branch push"
                )
            )
        else:
            criteria.append(_judge("tags", event.tag, flt.tags))
    if flt.branches is not None:
        if event.branch is None:
            criteria.append(
                CriterionCheck(
                    criterion="branches", matched=False, reason="the filter is on branches and this is a tag push"
                )
            )
        else:
            criteria.append(_judge("branches", event.branch, flt.branches))
    if flt.file_paths is not None:
        criteria.append(_judge_files(event.changed_files, flt.file_paths))
    if not criteria:
        criteria.append(CriterionCheck(criterion="branches", matched=False, reason="the filter has no criteria"))
    return FilterCheck(
        source_action=action,
        kind="push",
        index=index,
        matched=all(c.matched for c in criteria),
        criteria=tuple(criteria),
    )


def _pr_filter(action: str, index: int, flt: GitPullRequestFilter, event: GitPullRequest) -> FilterCheck:
    criteria: list[CriterionCheck] = []
    events = flt.events or tuple(PullRequestEvent)
    if event.event in events:
        criteria.append(
            CriterionCheck(
                criterion="events",
                matched=True,
                value=str(event.event),
                include=str(event.event) if flt.events else None,
                reason=f"event {event.event} is "
                + ("listed" if flt.events else "accepted (no events listed means OPEN, UPDATED and CLOSED)"),
            )
        )
    else:
        criteria.append(
            CriterionCheck(
                criterion="events",
                matched=False,
                value=str(event.event),
                reason=f"event {event.event} is not one of {[str(e) for e in events]}",
            )
        )
    if flt.branches is not None:
        # Pull-request branch filters name the destination branch.
        criteria.append(_judge("branches", event.destination_branch, flt.branches))
    if flt.file_paths is not None:
        criteria.append(_judge_files(event.changed_files, flt.file_paths))
    return FilterCheck(
        source_action=action,
        kind="pullRequest",
        index=index,
        matched=all(c.matched for c in criteria),
        criteria=tuple(criteria),
    )


def source_identity(action: Action) -> str | None:
    """
    The repository a git source action reads: ``FullRepositoryId`` (connections),
    ``Owner/Repo`` (GitHub v1) or ``RepositoryName`` (CodeCommit); ``None`` otherwise.

    .. versionadded:: 0.1.0
    """
    events = _git_events(action)
    if events is None:
        return None
    parts = [action.configuration.get(key) for key in events.repository_keys]
    texts = [p for p in parts if isinstance(p, str)]
    return "/".join(texts) if len(texts) == len(parts) else None


def _git_events(action: Action) -> _catalog.EventSource | None:
    """How *action*'s provider reports git changes (its catalog entry), or ``None``."""
    spec = _catalog.source_spec(action.provider)
    return spec.events if spec is not None and spec.events is not None and spec.events.git else None


def _is_false(value: object) -> bool:
    return isinstance(value, str) and value.strip().lower() == "false"


def _implicit(action: Action, event: GitEvent, event_wiring: bool) -> tuple[FilterCheck, str | None]:
    """No trigger declared: any push to the configured branch, if change detection is on."""
    config = action.configuration
    provider = action.provider
    events = _git_events(action)
    # only git sources are candidates, and every git source names its branch
    assert events is not None
    assert events.branch_key is not None
    branch_key = events.branch_key
    configured = config.get(branch_key)

    def fail(reason: str) -> tuple[FilterCheck, None]:
        check = CriterionCheck(criterion="branch", matched=False, reason=reason)
        return FilterCheck(source_action=action.name, kind="implicit", index=0, matched=False, criteria=(check,)), None

    if events.detect_key is not None:
        if _is_false(config.get(events.detect_key)):
            return fail("DetectChanges is 'false' and no trigger is declared, so changes never start the pipeline")
        trigger_type = "WebhookV2"
    else:
        polling = events.poll_key is not None and not _is_false(config.get(events.poll_key))
        if polling:
            trigger_type = "PollForSourceChanges"
        elif event_wiring:
            trigger_type = "Webhook" if events.webhook else "CloudWatchEvent"
        else:
            return fail(
                "PollForSourceChanges is 'false', so only an EventBridge rule "
                + ("or webhook " if events.webhook else "")
                + "starts the pipeline (pass event_wiring=True when that wiring is deployed)"
            )
    if not isinstance(event, GitPush):
        return fail(f"without a trigger, {provider} sources start on pushes only, not on pull requests")
    if event.branch is None:
        return fail(f"without a trigger, {provider} sources start on branch pushes only, not on tag {event.tag!r}")
    if not isinstance(configured, str):
        return fail(f"the action has no {branch_key} to compare with")
    if event.branch != configured:
        return fail(f"branch {event.branch!r} is not the configured {branch_key} {configured!r}")
    check = CriterionCheck(
        criterion="branch",
        matched=True,
        value=event.branch,
        reason=f"no trigger is declared and branch {event.branch!r} is the configured {branch_key}",
    )
    return FilterCheck(
        source_action=action.name, kind="implicit", index=0, matched=True, criteria=(check,)
    ), trigger_type


def _candidates(pipeline: Pipeline, event: GitEvent, source_action: str | None) -> list[Action]:
    out = []
    for _stage, action in pipeline.actions():
        if action.category is not ActionCategory.SOURCE or action.provider not in GIT_PROVIDERS:
            continue
        if source_action is not None and action.name != source_action:
            continue
        if event.repository is not None and source_identity(action) not in (None, event.repository):
            continue
        out.append(action)
    return out


def evaluate(
    pipeline: Pipeline,
    event: GitEvent,
    *,
    source_action: str | None = None,
    event_wiring: bool = False,
) -> TriggerDecision:
    """
    Decide whether *event* starts *pipeline*, as CodePipeline would.

    Each git source action (limited to *source_action*, and to actions reading
    ``event.repository`` when it is set) is judged by its trigger if it has one, else by the
    implicit rule. In a trigger, filters are OR'ed, the criteria of one filter AND'ed, and in
    each criterion excludes win over includes. Without a trigger a push to the configured
    branch starts the pipeline when change detection is on (``DetectChanges`` for
    connections; ``PollForSourceChanges`` for CodeCommit and GitHub v1).

    Args:
        pipeline: The pipeline.
        event: A :class:`GitPush` or :class:`GitPullRequest`.
        source_action: Judge only this source action.
        event_wiring: Assume the EventBridge rules / webhooks of
            :func:`pipeweaver.synth.add_event_wiring` are deployed, so sources with
            ``PollForSourceChanges: 'false'`` still start (as ``CloudWatchEvent``/``Webhook``).

    .. versionadded:: 0.1.0
    """
    triggers: dict[str, Trigger] = {t.source_action_name: t for t in pipeline.triggers}
    checks: list[FilterCheck] = []
    actions = _candidates(pipeline, event, source_action)
    if not actions:
        what = f"source action {source_action!r}" if source_action else "git source action"
        repo = f" reading {event.repository!r}" if event.repository else ""
        return TriggerDecision(starts=False, reason=f"the pipeline has no {what}{repo}")
    for action in actions:
        trigger = triggers.get(action.name)
        if trigger is None:
            check, trigger_type = _implicit(action, event, event_wiring)
            checks.append(check)
            if check.matched:
                return _started(action, event, check, trigger_type or "WebhookV2", checks)
            continue
        own: list[FilterCheck] = []
        if isinstance(event, GitPush):
            own = [_push_filter(action.name, i, f, event) for i, f in enumerate(trigger.push)]
            if not trigger.push:
                own.append(_no_filters(action.name, "push"))
        else:
            own = [_pr_filter(action.name, i, f, event) for i, f in enumerate(trigger.pull_request)]
            if not trigger.pull_request:
                own.append(_no_filters(action.name, "pullRequest"))
        checks.extend(own)
        matched = next((c for c in own if c.matched), None)
        if matched is not None:
            return _started(action, event, matched, "WebhookV2", checks)
    summary = "; ".join(f"{c.label}: {c.reason}" for c in checks)
    return TriggerDecision(starts=False, reason=f"no filter matched — {summary}", checks=tuple(checks))


def _no_filters(action: str, kind: Literal["push", "pullRequest"]) -> FilterCheck:
    other = "pull requests" if kind == "push" else "pushes"
    noun = "pushes" if kind == "push" else "pull requests"
    check = CriterionCheck(
        criterion="events",
        matched=False,
        reason=f"the trigger has no {kind} filters, so {noun} do not start it (it only reacts to {other})",
    )
    return FilterCheck(source_action=action, kind=kind, index=0, matched=False, criteria=(check,))


def evaluate_object_change(
    pipeline: Pipeline, source_action: str, *, detail: str = "", event_wiring: bool = False
) -> TriggerDecision:
    """
    Decide whether a new version of an S3 source's object starts *pipeline*.

    S3 sources detect changes by polling unless ``PollForSourceChanges`` is ``'false'``, in
    which case only an EventBridge rule (over a CloudTrail trail) starts the pipeline: pass
    *event_wiring* when that wiring is deployed.

    Raises:
        DefinitionError: when *source_action* is not an S3 source action of *pipeline*.

    .. versionadded:: 0.1.0
    """
    found = [a for _s, a in pipeline.actions() if a.name == source_action]
    if not found or found[0].provider != _catalog.S3_SOURCE.provider or found[0].category is not ActionCategory.SOURCE:
        raise DefinitionError("source_action", source_action, "must name an S3 source action of the pipeline")
    action = found[0]
    polling = not _is_false(action.configuration.get("PollForSourceChanges"))
    what = f"the object of {source_action!r} changed" + (f" ({detail})" if detail else "")
    if polling or event_wiring:
        kind = "PollForSourceChanges" if polling else "CloudWatchEvent"
        check = CriterionCheck(
            criterion="branch",
            matched=True,
            reason=f"{what}; {'polling is on' if polling else 'its EventBridge rule is assumed deployed'}",
        )
        matched = FilterCheck(source_action=source_action, kind="implicit", index=0, matched=True, criteria=(check,))
        return TriggerDecision(
            starts=True,
            source_action=source_action,
            trigger_type=kind,
            reason=f"{matched.label} matched: {check.reason}",
            checks=(matched,),
        )
    check = CriterionCheck(
        criterion="branch",
        matched=False,
        reason=f"{what}, but PollForSourceChanges is 'false' and no EventBridge rule is assumed (event_wiring=False)",
    )
    failed = FilterCheck(source_action=source_action, kind="implicit", index=0, matched=False, criteria=(check,))
    return TriggerDecision(starts=False, reason=check.reason, checks=(failed,))


def _started(
    action: Action, event: GitEvent, matched: FilterCheck, trigger_type: str, checks: Sequence[FilterCheck]
) -> TriggerDecision:
    if isinstance(event, GitPush):
        branch = event.branch
    else:
        branch = event.source_branch
    return TriggerDecision(
        starts=True,
        source_action=action.name,
        revision=event.commit or None,
        branch=branch,
        trigger_type=trigger_type,
        reason=f"{matched.label} matched: {matched.reason}",
        checks=tuple(checks),
    )


# Exported by the package root (which loads this module on first use only) and by
# pipeweaver.triggers; named for their home from the moment they exist, however they are reached.
publish(globals(), ["GitPullRequest", "GitPush", "TriggerDecision"], "pipeweaver")
publish(globals(), ["CriterionCheck", "FilterCheck"], "pipeweaver.triggers")
