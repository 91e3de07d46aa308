"""Deploy, diff and fetch: the model against the live pipeline in CodePipeline.

Layer: aws. Comparisons work on *normalised* declarations: the bare API JSON of
:func:`pipeweaver.synth.to_codepipeline`, with AWS's own defaults made explicit on both sides,
the server-assigned ``version`` dropped, and secrets that ``GetPipeline`` masks as ``****``
handled as described in :func:`deploy`.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal, final

import attrs

from .._codec import api_tags
from .._masking import MASK, SECRET_CONFIGURATION_KEYS, is_secret
from .._model import Pipeline
from .._shapes import join_key
from .._validate import lint
from ..errors import AwsError, Issue, ValidationError
from ..synth import from_codepipeline, to_codepipeline
from ._client import Client, call, default_client

__all__ = ["MASK", "Change", "DeployResult", "PipelineDiff", "deploy", "diff", "fetch"]

ChangeKind = Literal["added", "removed", "changed", "unknown"]

_ACTION_DEFAULTS: dict[str, Any] = {"runOrder": 1, "configuration": {}, "inputArtifacts": [], "outputArtifacts": []}
_OPTIONAL_LISTS = ("variables", "triggers")
_MARKS = {"added": "+", "removed": "-", "changed": "~", "unknown": "?"}


@final
@attrs.frozen(kw_only=True)
class Change:
    """
    One difference between the model and the live pipeline.

    Attributes:
        kind: ``added`` (only in the model), ``removed`` (only live), ``changed``, or
            ``unknown``: a secret the model sets in clear while AWS shows only ``****``, so
            whether it differs cannot be known.
        path: API JSON path. Added and changed paths point into the model's declaration,
            removed paths into the live one; ``tags["k"]`` for resource tags.
        stage: The stage the change is in, if any.
        action: The action the change is in, if any.
        before: The live value (``None`` when added).
        after: The model's value (``None`` when removed).

    .. versionadded:: 0.1.0
    """

    kind: ChangeKind
    path: str
    stage: str | None = None
    action: str | None = None
    # Values stay out of repr() so that a logged Change never prints a configuration value.
    before: Any = attrs.field(default=None, eq=False, hash=False, repr=False)
    after: Any = attrs.field(default=None, eq=False, hash=False, repr=False)

    def __str__(self) -> str:
        where = self.path or "<pipeline>"
        if self.kind == "added":
            return f"+ {where}: {_short(self.after)}"
        if self.kind == "removed":
            return f"- {where}: {_short(self.before)}"
        if self.kind == "unknown":
            return f"? {where}: secret is masked by AWS; cannot tell whether it differs"
        return f"~ {where}: {_short(self.before)} -> {_short(self.after)}"


def _short(value: Any) -> str:
    if isinstance(value, Mapping) and "name" in value:
        return f"{value['name']!r} ({len(value)} field(s))"
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


@final
@attrs.frozen(kw_only=True)
class PipelineDiff:
    """
    The differences between a model and the live pipeline of the same name.

    Falsy when there is nothing to deploy. ``str()`` renders one line per change.

    Attributes:
        name: The pipeline's name.
        exists: Whether the pipeline exists in AWS (when not, deploying creates it).
        changes: Every difference, in declaration order.
        live_version: The live pipeline's version, when it exists.

    .. versionadded:: 0.1.0
    """

    name: str
    exists: bool
    changes: tuple[Change, ...] = ()
    live_version: int | None = None

    def __bool__(self) -> bool:
        return not self.exists or bool(self.changes)

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    @property
    def paths(self) -> list[str]:
        """The paths of every change, in order."""
        return [c.path for c in self.changes]

    @property
    def needs_update(self) -> bool:
        """Whether an UpdatePipeline call is needed (``unknown`` secrets alone do not need one)."""
        return any(c.kind != "unknown" and not c.path.startswith(_SIDE_PATHS) for c in self.changes)

    def __str__(self) -> str:
        if not self.exists:
            return f"pipeline {self.name} does not exist; deploying creates it"
        if not self.changes:
            return f"pipeline {self.name} (version {self.live_version}) is up to date"
        head = f"pipeline {self.name} (version {self.live_version}): {len(self.changes)} change(s)"
        return "\n".join([head, *(f"  {c}" for c in self.changes)])


@final
@attrs.frozen(kw_only=True)
class DeployResult:
    """
    What :func:`deploy` did.

    Attributes:
        name: The pipeline's name.
        version: The pipeline's version after the deploy.
        created: Whether CreatePipeline was called.
        updated: Whether UpdatePipeline was called.
        changes: What differed from the live pipeline (for a create: only the transitions
            disabled after it; empty for a no-op).
        arn: The pipeline's ARN (``None`` right after a create: CreatePipeline does not return it).

    .. versionadded:: 0.1.0
    """

    name: str
    version: int
    created: bool
    updated: bool
    changes: tuple[Change, ...] = ()
    arn: str | None = None

    @property
    def changed(self) -> bool:
        """Whether anything was sent to AWS (a create, an update, tags or transitions)."""
        return self.created or self.updated or any(c.path.startswith(_SIDE_PATHS) for c in self.changes)


# -- normalisation and comparison ----------------------------------------------------------


def normalise(declaration: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of *declaration* with AWS's defaults explicit and ``version`` dropped."""
    # A JSON round trip: a deep copy that is plain JSON, as the API returns it (tuples become
    # lists, any other value its text).
    out: dict[str, Any] = json.loads(json.dumps(declaration, default=str))
    out.pop("version", None)
    out.setdefault("executionMode", "SUPERSEDED")
    for key in _OPTIONAL_LISTS:
        if not out.get(key):
            out.pop(key, None)
    for stage in out.get("stages") or ():
        if not stage.get("blockers"):
            stage.pop("blockers", None)
        for action in stage.get("actions") or ():
            for key, default in _ACTION_DEFAULTS.items():
                if action.get(key) is None:
                    action[key] = copy.deepcopy(default)
            for key in ("commands", "outputVariables", "environmentVariables"):
                if not action.get(key) and key in action:
                    action.pop(key)
    return out


def compare(local: Mapping[str, Any], live: Mapping[str, Any], secret_properties: Iterable[str] = ()) -> list[Change]:
    """
    Every difference between two declarations (normalised here), stages and actions matched by name.

    A live ``****`` secret equals a local ``****``; against a clear local value it is reported
    as an ``unknown`` change. No record holds a secret value: the values of AWS's secret keys,
    of *secret_properties* (a custom action type's ``secret`` properties) and of every key
    that GetPipeline shows as ``****`` are ``****`` in every change record.
    """
    want, have = normalise(local), normalise(live)
    if "pipelineType" not in want:
        # Left out in the model means "AWS's default", whatever the live pipeline reports.
        have.pop("pipelineType", None)
    changes: list[Change] = []
    for key in _union(want, have):
        if key in ("stages", "name"):
            continue
        changes.extend(_diff_value(have.get(key), want.get(key), key, key in have, key in want))
    changes.extend(_diff_stages(want.get("stages") or [], have.get("stages") or []))
    keys = SECRET_CONFIGURATION_KEYS | frozenset(secret_properties) | _live_masked_keys(have)
    return [_mask_change(c, keys) for c in changes]


def _live_masked_keys(declaration: Mapping[str, Any]) -> frozenset[str]:
    """Configuration keys GetPipeline masks: AWS's word on which properties are secret."""
    return frozenset(
        key
        for stage in declaration.get("stages") or ()
        for action in stage.get("actions") or ()
        for key, value in (action.get("configuration") or {}).items()
        if value == MASK
    )


_CONFIGURATION_KEY = re.compile(r'\.configuration(?:\.([A-Za-z_][A-Za-z0-9_]*)|\["((?:[^"\\]|\\.)*)"\])$')


def _mask_change(change: Change, keys: frozenset[str]) -> Change:
    """*change* with the value of every secret configuration key in it replaced by ``****``."""
    match = _CONFIGURATION_KEY.search(change.path)
    if match is not None:
        key = match.group(1) or re.sub(r"\\(.)", r"\1", match.group(2) or "")
        if key in keys or is_secret(key, change.before) or is_secret(key, change.after):
            return attrs.evolve(
                change,
                before=None if change.before is None else MASK,
                after=None if change.after is None else MASK,
            )
    return attrs.evolve(change, before=_masked(change.before, keys), after=_masked(change.after, keys))


def _union(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    return [*a, *(k for k in b if k not in a)]


def _diff_value(
    before: Any, after: Any, path: str, in_before: bool = True, in_after: bool = True, **where: str | None
) -> list[Change]:
    if not in_before:
        return [Change(kind="added", path=path, after=after, **where)]
    if not in_after:
        return [Change(kind="removed", path=path, before=before, **where)]
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        out: list[Change] = []
        for key in _union(after, before):
            out.extend(
                _diff_value(before.get(key), after.get(key), join_key(path, key), key in before, key in after, **where)
            )
        return out
    if before != after:
        return [Change(kind="changed", path=path, before=before, after=after, **where)]
    return []


def _diff_stages(want: list[dict[str, Any]], have: list[dict[str, Any]]) -> list[Change]:
    changes: list[Change] = []
    live = {s["name"]: (j, s) for j, s in enumerate(have)}
    local_names = [s["name"] for s in want]
    for i, stage in enumerate(want):
        path = f"stages[{i}]"
        name = stage["name"]
        if name not in live:
            changes.append(Change(kind="added", path=path, stage=name, after=_masked(stage)))
            continue
        old = live[name][1]
        for key in _union(stage, old):
            if key in ("name", "actions"):
                continue
            changes.extend(
                _diff_value(old.get(key), stage.get(key), f"{path}.{key}", key in old, key in stage, stage=name)
            )
        changes.extend(_diff_actions(stage["actions"], old["actions"], path, name))
    for j, stage in enumerate(have):
        if stage["name"] not in local_names:
            changes.append(Change(kind="removed", path=f"stages[{j}]", stage=stage["name"], before=stage))
    common_local = [n for n in local_names if n in live]
    common_live = [s["name"] for s in have if s["name"] in local_names]
    if common_local != common_live:
        changes.append(Change(kind="changed", path="stages", before=common_live, after=common_local))
    return changes


def _diff_actions(want: list[dict[str, Any]], have: list[dict[str, Any]], stage_path: str, stage: str) -> list[Change]:
    changes: list[Change] = []
    live = {a["name"]: a for a in have}
    local_names = [a["name"] for a in want]
    for k, action in enumerate(want):
        path = f"{stage_path}.actions[{k}]"
        name = action["name"]
        old = live.get(name)
        if old is None:
            changes.append(Change(kind="added", path=path, stage=stage, action=name, after=_masked(action)))
            continue
        config = dict(action.get("configuration") or {})
        for key, value in (old.get("configuration") or {}).items():
            if value == MASK and key in config and config[key] != MASK:
                changes.append(
                    Change(
                        kind="unknown",
                        path=join_key(f"{path}.configuration", key),
                        stage=stage,
                        action=name,
                        before=MASK,
                        after=MASK,  # never carry the clear secret into a printable record
                    )
                )
                config[key] = MASK
        action = {**action, "configuration": config}
        for key in _union(action, old):
            if key == "name":
                continue
            changes.extend(
                _diff_value(
                    old.get(key), action.get(key), f"{path}.{key}", key in old, key in action, stage=stage, action=name
                )
            )
    for j, action in enumerate(have):
        if action["name"] not in local_names:
            changes.append(
                Change(
                    kind="removed",
                    path=f"{stage_path}.actions[{j}]",
                    stage=stage,
                    action=action["name"],
                    before=action,
                )
            )
    common_local = [n for n in local_names if n in live]
    common_live = [a["name"] for a in have if a["name"] in local_names]
    if common_local != common_live:
        changes.append(
            Change(kind="changed", path=f"{stage_path}.actions", stage=stage, before=common_live, after=common_local)
        )
    return changes


def _masked(value: Any, keys: frozenset[str] = SECRET_CONFIGURATION_KEYS) -> Any:
    """A copy of *value* with the values of the secret configuration *keys* masked, at any depth."""
    if isinstance(value, Mapping):
        return {
            k: MASK if (k in keys and isinstance(v, str)) or is_secret(k, v, keys) else _masked(v, keys)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_masked(v, keys) for v in value]
    return value


def _masked_new_actions(local: Mapping[str, Any], live: Mapping[str, Any] | None) -> list[str]:
    existing = set()
    for stage in (live or {}).get("stages") or ():
        for action in stage.get("actions") or ():
            existing.add((stage["name"], action["name"]))
    messages = []
    for stage in local.get("stages") or ():
        for action in stage.get("actions") or ():
            if (stage["name"], action["name"]) in existing:
                continue
            for key, value in (action.get("configuration") or {}).items():
                if value == MASK:
                    messages.append(
                        f'Action configuration for the new action "{action["name"]}" contains an invalid '
                        f'configuration for the secret property "{key}". "{MASK}" may be used in secret '
                        "properties only when updating an existing action."
                    )
    return messages


# -- calls ---------------------------------------------------------------------------------


def _client(client: Client | None) -> Client:
    return client if client is not None else default_client("codepipeline")


def _get_live(client: Client, name: str) -> dict[str, Any] | None:
    try:
        return call(client, "GetPipeline", name=name)
    except AwsError as exc:
        if exc.code == "PipelineNotFoundException":
            return None
        raise


def _live_tags(client: Client, arn: str | None) -> dict[str, str]:
    if not arn:
        return {}
    tags: dict[str, str] = {}
    params: dict[str, Any] = {"resourceArn": arn}
    while True:
        page = call(client, "ListTagsForResource", **params)
        tags.update({t["key"]: t.get("value", "") for t in page.get("tags") or ()})
        if not page.get("nextToken"):
            return tags
        params["nextToken"] = page["nextToken"]


def _tag_changes(want: Mapping[str, str], have: Mapping[str, str]) -> list[Change]:
    out = []
    for key, value in want.items():
        path = join_key("tags", key)
        if key not in have:
            out.append(Change(kind="added", path=path, after=value))
        elif have[key] != value:
            out.append(Change(kind="changed", path=path, before=have[key], after=value))
    return out


_SIDE_PATHS = ("tags", "disabledTransitions")


def _transition_changes(client: Client, name: str, wanted: Mapping[str, str], *, apply: bool) -> list[Change]:
    """Disable the inbound transitions the model lists that are enabled live (never re-enables one)."""
    state = call(client, "GetPipelineState", name=name)
    live = {s.get("stageName"): s.get("inboundTransitionState") or {} for s in state.get("stageStates") or ()}
    out = []
    for stage, reason in wanted.items():
        if not live.get(stage, {}).get("enabled", True):
            continue
        if apply:
            call(
                client,
                "DisableStageTransition",
                pipelineName=name,
                stageName=stage,
                transitionType="Inbound",
                reason=reason,
            )
        out.append(
            Change(
                kind="changed",
                path=join_key("disabledTransitions", stage),
                stage=stage,
                before="enabled",
                after=f"disabled: {reason}",
            )
        )
    return out


def _declaration(pipeline: Pipeline) -> dict[str, Any]:
    # The tags travel beside the declaration: a tag given by an expression is refused here too.
    api_tags(pipeline.tags)
    return to_codepipeline(pipeline)


def diff(pipeline: Pipeline, *, client: Client | None = None, secret_properties: Iterable[str] = ()) -> PipelineDiff:
    """
    Compare *pipeline* with the live pipeline of the same name.

    Resource tags set on the model are compared too (tags set live but not in the model are
    not reported: deploy never removes them). No change record holds a secret: values of
    AWS's secret keys (``OAuthToken``...), of *secret_properties* and of keys GetPipeline
    shows as ``****`` are ``****`` in ``before`` and ``after``.

    Args:
        pipeline: The model.
        client: A boto3 CodePipeline client (default: a new one from the default session).
        secret_properties: Configuration properties your custom action types mark ``secret``
            (e.g. ``my_type.secret_properties``).

    Raises:
        AwsError: when GetPipeline fails for another reason than a missing pipeline.
        SynthesisError: when the model holds CloudFormation expressions.

    .. versionadded:: 0.1.0
    """
    client = _client(client)
    local = _declaration(pipeline)
    live = _get_live(client, local["name"])
    if live is None:
        return PipelineDiff(name=local["name"], exists=False)
    changes = compare(local, live["pipeline"], secret_properties)
    if pipeline.tags:
        changes.extend(_tag_changes(pipeline.tags, _live_tags(client, live.get("metadata", {}).get("pipelineArn"))))
    if pipeline.disabled_transitions:
        changes.extend(_transition_changes(client, local["name"], pipeline.disabled_transitions, apply=False))
    return PipelineDiff(
        name=local["name"], exists=True, changes=tuple(changes), live_version=live["pipeline"].get("version")
    )


def fetch(name: str, *, client: Client | None = None, tags: bool = True) -> Pipeline:
    """
    The live pipeline *name* as a :class:`~pipeweaver.Pipeline` (with its resource tags).

    Secrets come back as ``****``, as GetPipeline returns them; deploying the fetched model
    again keeps the stored secrets.

    Raises:
        AwsError: when the pipeline does not exist (code ``PipelineNotFoundException``).

    .. versionadded:: 0.1.0
    """
    client = _client(client)
    live = call(client, "GetPipeline", name=name)
    envelope: dict[str, Any] = {"pipeline": live["pipeline"]}
    if tags:
        found = _live_tags(client, live.get("metadata", {}).get("pipelineArn"))
        envelope["tags"] = [{"key": k, "value": v} for k, v in found.items()]
    return from_codepipeline(envelope)


def deploy(
    pipeline: Pipeline,
    *,
    client: Client | None = None,
    tags: Mapping[str, str] | None = None,
    update_secrets: bool = False,
    secret_properties: Iterable[str] = (),
) -> DeployResult:
    """
    Create or update *pipeline* in CodePipeline, doing nothing when the live one already matches.

    The pipeline is linted first and never sent when it has errors. Secrets that GetPipeline
    masks as ``****``:

    * ``****`` in the model for an existing action keeps the stored secret (AWS's rule);
    * ``****`` on a new action is refused before sending, with AWS's own message;
    * a clear value in the model against ``****`` live is an ``unknown`` change: it alone does
      not trigger an update (so deploys stay idempotent), but any other change sends the clear
      value along. Pass ``update_secrets=True`` to send it regardless (e.g. after a rotation).

    Inbound transitions listed in ``pipeline.disabled_transitions`` are disabled after the
    create or update when they are enabled live; other transitions are left alone.

    Args:
        pipeline: The model.
        client: A boto3 CodePipeline client (default: a new one from the default session).
        tags: Resource tags added to the model's own ``tags``; sent with CreatePipeline, or
            added with TagResource to an existing pipeline (tags are never removed).
        update_secrets: Send clear secrets even when nothing else changed.
        secret_properties: Configuration properties your custom action types mark ``secret``;
            their values are ``****`` in the returned change records, like AWS's secret keys.

    Raises:
        ValidationError: the pipeline breaks AWS's rules (every issue listed); nothing is sent.
        AwsError: AWS refused a call, or ``****`` stands on a new action.

    .. versionadded:: 0.1.0
    """
    issues: list[Issue] = lint(pipeline)
    errors = [i for i in issues if i.is_error]
    if errors:
        raise ValidationError(f"pipeline {pipeline.name!s} was not deployed: it has {len(errors)} error(s)", issues)
    client = _client(client)
    local = _declaration(pipeline)
    name: str = local["name"]
    want_tags = {**pipeline.tags, **(tags or {})}
    live = _get_live(client, name)
    operation = "CreatePipeline" if live is None else "UpdatePipeline"
    refused = _masked_new_actions(local, None if live is None else live["pipeline"])
    if refused:
        raise AwsError(
            f"{operation} was not sent: " + " ".join(refused),
            operation=operation,
            code="InvalidActionDeclarationException",
        )
    if live is None:
        params: dict[str, Any] = {"pipeline": local}
        if want_tags:
            params["tags"] = [{"key": k, "value": v} for k, v in want_tags.items()]
        created = call(client, "CreatePipeline", **params)
        transitions = (
            _transition_changes(client, name, pipeline.disabled_transitions, apply=True)
            if pipeline.disabled_transitions
            else []
        )
        return DeployResult(
            name=name,
            version=int(created["pipeline"].get("version", 1)),
            created=True,
            updated=False,
            changes=tuple(transitions),
        )
    changes = compare(local, live["pipeline"], secret_properties)
    arn = live.get("metadata", {}).get("pipelineArn")
    version = int(live["pipeline"].get("version", 1))
    updated = False
    if any(c.kind != "unknown" for c in changes) or (update_secrets and changes):
        response = call(client, "UpdatePipeline", pipeline=local)
        version = int(response["pipeline"].get("version", version + 1))
        updated = True
    if want_tags:
        have_tags = _live_tags(client, arn)
        missing = {k: v for k, v in want_tags.items() if have_tags.get(k) != v}
        if missing:
            call(client, "TagResource", resourceArn=arn, tags=[{"key": k, "value": v} for k, v in missing.items()])
            changes.extend(_tag_changes(want_tags, have_tags))
    if pipeline.disabled_transitions:
        changes.extend(_transition_changes(client, name, pipeline.disabled_transitions, apply=True))
    return DeployResult(name=name, version=version, created=False, updated=updated, changes=tuple(changes), arn=arn)
