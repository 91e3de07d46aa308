"""Rules of triggers: one per source action, git filters and their glob patterns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import _catalog
from .._glob import compile_glob
from .._wire import is_intrinsic
from ..errors import DefinitionError
from ._context import _Action, _Context, _dict, _did_you_mean, _list, _str
from ._registry import _UG, reports, rule_info

# ---------------------------------------------------------------------------------------------
# triggers


@reports(
    rule_info(
        "PW401",
        "error",
        "Trigger names no action",
        "Triggers: sourceActionName must name a source action of the pipeline.",
        '"gitConfiguration": {"sourceActionName": "Sorce"}',
        _UG + "pipelines-filter.html",
    ),
    rule_info(
        "PW402",
        "error",
        "Trigger on an action that is not a CodeStarSourceConnection source",
        "Triggers work only on CodeStarSourceConnection source actions.",
        "a trigger whose sourceActionName is an S3 source",
        _UG + "pipelines-filter.html",
    ),
    rule_info(
        "PW403",
        "error",
        "Two triggers for one source action",
        "One trigger configuration per source action.",
        "two triggers with the same sourceActionName",
        _UG + "pipelines-filter.html",
    ),
    rule_info(
        "PW404",
        "error",
        "Invalid push filter combination",
        "A push filter is tags alone, branches alone, or branches with filePaths.",
        '"push": [{"tags": {...}, "branches": {...}}]',
        _UG + "pipelines-filter.html",
    ),
    rule_info(
        "PW405",
        "error",
        "Invalid pull-request filter combination",
        "A pull-request filter needs branches (optionally filePaths and events).",
        '"pullRequest": [{"filePaths": {"includes": ["src/**"]}}]',
        _UG + "pipelines-filter.html",
    ),
)
def _trigger_rules(ctx: _Context) -> None:
    triggers = _list(ctx.decl.get("triggers"))
    by_name: dict[str, list[_Action]] = {}
    if triggers:  # (most pipelines have none: no index of the actions then)
        for a in ctx.actions:
            if a.name is not None:
                by_name.setdefault(a.name, []).append(a)
    seen: dict[str, int] = {}
    for ti, trigger in enumerate(triggers):
        git = _dict(_dict(trigger).get("gitConfiguration"))
        gpath = f"triggers[{ti}].gitConfiguration"
        name = _str(git.get("sourceActionName"))
        if name is not None:
            npath = f"{gpath}.sourceActionName"
            found = by_name.get(name, [])
            if not found:
                sources = [a.name for a in ctx.actions if a.is_source and a.name]
                # An action named by a function (!Ref SourceActionName) may be the one a trigger names.
                if not any(is_intrinsic(a.data.get("name")) for a in ctx.actions):
                    ctx.add(
                        "PW401",
                        npath,
                        f"trigger source action {name!r} does not exist",
                        _did_you_mean(name, sources, f"source actions: {', '.join(sources) or '(none)'}"),
                    )
            elif all(a.category is not None for a in found) and not any(
                a.is_source and a.provider == _catalog.CONNECTION_SOURCE.provider for a in found
            ):
                a = found[0]
                ctx.add(
                    "PW402",
                    npath,
                    f"trigger source action {name!r} is a {a.category}/{a.provider} action; triggers need a "
                    "CodeStarSourceConnection source action",
                    "use a CodeStarSourceConnection (GitHub, GitLab, Bitbucket) source, or remove the trigger",
                )
            if name in seen:
                ctx.add(
                    "PW403",
                    npath,
                    f"source action {name!r} already has a trigger (triggers[{seen[name]}])",
                    "merge the filters into one trigger (push and pullRequest lists are OR'ed)",
                )
            else:
                seen[name] = ti
        for pi, push in enumerate(_list(git.get("push"))):
            push = _dict(push)
            present = tuple(k for k in ("tags", "branches", "filePaths") if push.get(k) is not None)
            if present not in (("tags",), ("branches",), ("branches", "filePaths")):
                ctx.add(
                    "PW404",
                    f"{gpath}.push[{pi}]",
                    f"push filter has {' + '.join(present) or 'no criteria'}; allowed: tags alone, branches "
                    "alone, or branches + filePaths",
                    "split tags into their own push filter; add branches to a filePaths filter",
                )
        for kind in ("push", "pullRequest"):
            for fi, flt in enumerate(_list(git.get(kind))):
                _glob_rules(ctx, f"{gpath}.{kind}[{fi}]", _dict(flt))
        for pi, pull in enumerate(_list(git.get("pullRequest"))):
            pull = _dict(pull)
            present = tuple(k for k in ("branches", "filePaths") if pull.get(k) is not None)
            if present not in (("branches",), ("branches", "filePaths")):
                ctx.add(
                    "PW405",
                    f"{gpath}.pullRequest[{pi}]",
                    f"pull-request filter has {' + '.join(present) or 'no branches'}; it needs branches "
                    "(optionally with filePaths and events)",
                    'add "branches": {"includes": ["main"]}',
                )


@reports(
    rule_info(
        "PW714",
        "warning",
        "Malformed glob in a trigger filter",
        "AWS stores any 1-255 character pattern, but an unclosed '[' or '{', an empty character "
        "set or a trailing backslash is not a glob: the filter can never match as intended.",
        '"branches": {"includes": ["release/{1.x"]}',
        _UG + "syntax-glob.html",
    ),
)
def _glob_rules(ctx: _Context, path: str, flt: Mapping[str, Any]) -> None:
    for criterion in ("branches", "tags", "filePaths"):
        for side in ("includes", "excludes"):
            for k, pattern in enumerate(_list(_dict(flt.get(criterion)).get(side))):
                if type(pattern) is not str:
                    continue  # the shape walk reports it
                try:
                    compile_glob(pattern)
                except DefinitionError as exc:
                    ctx.add(
                        "PW714",
                        f"{path}.{criterion}.{side}[{k}]",
                        f"glob {pattern!r} is malformed: {exc.rule.split(';')[0]}",
                        "escape special characters with a backslash, e.g. '\\{' for a literal brace, or close "
                        "the group or set",
                    )
