"""Rules of the pipeline and its stages (P2-P11), its quotas, and what lives beside it.

What lives beside the declaration: tags and disabled transitions.
"""

from __future__ import annotations

import re
from typing import Final

from .._shapes import join_key
from .._wire import DYNAMIC_REFERENCE, is_intrinsic
from ._context import _Context, _did_you_mean, _list, _Target
from ._registry import _UG, reports, rule_info

_TRANSITION_REASON: Final = re.compile(r"[a-zA-Z0-9!@ \(\)\.\*\?\-]{1,300}")


# ---------------------------------------------------------------------------------------------
# pipeline and stages (P2-P11, quotas)


@reports(
    rule_info(
        "PW101",
        "error",
        "No artifact store",
        "P2: exactly one of artifactStore and artifactStores is required.",
        '{"name": "p", "roleArn": "...", "stages": [...]}',
        _UG + "pipeline-requirements.html",
    ),
    rule_info(
        "PW102",
        "error",
        "Both artifactStore and artifactStores",
        "P2: exactly one of artifactStore and artifactStores is allowed.",
        '{"artifactStore": {...}, "artifactStores": {...}}',
        _UG + "pipeline-requirements.html",
    ),
    rule_info(
        "PW106",
        "error",
        "Fewer than two stages",
        "P4: a pipeline has at least two stages (a source stage and one more).",
        '{"stages": [{"name": "Source", ...}]}',
        _UG + "pipeline-requirements.html",
    ),
    rule_info(
        "PW107",
        "error",
        "Duplicate stage name",
        "P5: stage names are unique in a pipeline.",
        '{"stages": [{"name": "Build"}, {"name": "Build"}]}',
        _UG + "stage-requirements.html",
    ),
    rule_info(
        "PW108",
        "error",
        "Stage has no actions",
        "P6: every stage has at least one action.",
        '{"name": "Deploy", "actions": []}',
        _UG + "stage-requirements.html",
    ),
    rule_info(
        "PW109",
        "error",
        "Non-source action in the first stage",
        "P7: the first stage contains only Source actions.",
        'stages[0].actions: [{"actionTypeId": {"category": "Build", ...}}]',
        _UG + "pipeline-requirements.html",
    ),
    rule_info(
        "PW110",
        "error",
        "Source action after the first stage",
        "P8: Source actions are allowed only in the first stage.",
        'stages[1].actions: [{"actionTypeId": {"category": "Source", ...}}]',
        _UG + "pipeline-requirements.html",
    ),
    rule_info(
        "PW601",
        "error",
        "More than 50 stages",
        "§6: a pipeline has at most 50 stages.",
        "51 stages",
        _UG + "limits.html",
    ),
    rule_info(
        "PW602",
        "error",
        "More than 50 actions in a stage",
        "§6: a stage has at most 50 actions (which also bounds parallel and sequential actions at 50).",
        "51 actions in one stage",
        _UG + "limits.html",
    ),
    rule_info(
        "PW603",
        "error",
        "More than 500 actions in a pipeline",
        "§6: a pipeline has at most 500 actions.",
        "11 stages of 46 actions",
        _UG + "limits.html",
    ),
)
def _pipeline_rules(ctx: _Context) -> None:
    d = ctx.decl
    has_store, has_stores = d.get("artifactStore") is not None, d.get("artifactStores") is not None
    if not has_store and not has_stores:
        ctx.add(
            "PW101",
            "artifactStore",
            "the pipeline has no artifact store",
            "add artifactStore {type: S3, location: <bucket>} (or artifactStores for cross-region pipelines)",
        )
    elif has_store and has_stores:
        ctx.add(
            "PW102",
            "artifactStores",
            "the pipeline has both artifactStore and artifactStores; exactly one is allowed",
            "keep artifactStores for a cross-region pipeline, otherwise keep artifactStore",
        )
    stages = _list(d.get("stages"))
    if isinstance(d.get("stages"), list | tuple) and len(stages) < 2:
        ctx.add(
            "PW106",
            "stages",
            f"Pipeline has only {len(stages)} stage(s). There should be a minimum of 2 stages in a pipeline",
            "add a stage after the source stage (build, test, deploy, ...)",
        )
    if len(stages) > 50:
        ctx.add("PW601", "stages", f"the pipeline has {len(stages)} stages; at most 50 are allowed", "split it")
    if len(ctx.actions) > 500:
        ctx.add(
            "PW603",
            "stages",
            f"the pipeline has {len(ctx.actions)} actions; at most 500 are allowed",
            "split it into several pipelines",
        )
    seen: dict[str, int] = {}
    for si, spath, stage, name in ctx.stages:
        if name is not None:
            if name in seen:
                ctx.add(
                    "PW107",
                    f"{spath}.name",
                    f"stage name {name!r} is already used by stages[{seen[name]}]",
                    "give every stage a unique name",
                )
            else:
                seen[name] = si
        actions = stage.get("actions")
        if isinstance(actions, list | tuple):
            if not actions:
                ctx.add(
                    "PW108",
                    f"{spath}.actions",
                    f"stage {name!r} has no actions",
                    "add an action or remove the stage",
                )
            elif len(actions) > 50:
                ctx.add(
                    "PW602",
                    f"{spath}.actions",
                    f"stage {name!r} has {len(actions)} actions; at most 50 are allowed",
                    "move actions to another stage",
                )
    for a in ctx.actions:
        if a.category is None:
            continue
        if a.stage == 0 and not a.is_source:
            ctx.add(
                "PW109",
                f"{a.path}.actionTypeId.category",
                f"action {a.label} in the first stage is not a Source action (category {a.category}); the first "
                "stage holds only Source actions",
                "move it to a later stage",
            )
        elif a.stage > 0 and a.is_source:
            ctx.add(
                "PW110",
                f"{a.path}.actionTypeId.category",
                f"source action {a.label} is in stages[{a.stage}]; Source actions belong to the first stage only",
                "move it to the first stage",
            )


@reports(
    rule_info(
        "PW111",
        "error",
        "V2 feature in a V1 pipeline",
        "P11: variables, triggers, QUEUED/PARALLEL mode and stage conditions need pipelineType V2.",
        '{"pipelineType": "V1", "variables": [{"name": "env"}]}',
        _UG + "pipeline-types-planning.html",
    ),
    rule_info(
        "PW223",
        "error",
        "V2-only action in a V1 pipeline",
        "A18: Commands, ECRBuildAndPublish, EC2, EKS, Lambda deploy and CodePipeline invoke need V2.",
        '{"pipelineType": "V1", ... {"provider": "Commands"}}',
        _UG + "actions-valid-providers.html",
    ),
    rule_info(
        "PW705",
        "warning",
        "V2 features without pipelineType",
        "P11: V2-only features make the pipeline V2 (and billed as V2); say pipelineType V2 explicitly.",
        '{"variables": [...]} with no pipelineType',
        _UG + "pipeline-types-planning.html",
    ),
)
def _v2_rules(ctx: _Context) -> None:
    d = ctx.decl
    features: list[tuple[str, str]] = []
    if _list(d.get("variables")):
        features.append(("variables", "pipeline variables"))
    if _list(d.get("triggers")):
        features.append(("triggers", "triggers"))
    mode = d.get("executionMode")
    if mode in ("QUEUED", "PARALLEL"):
        features.append(("executionMode", f"executionMode {mode}"))
    for _si, spath, stage, _name in ctx.stages:
        for key in ("onFailure", "onSuccess", "beforeEntry"):
            if stage.get(key) is not None:
                features.append((f"{spath}.{key}", f"stage {key} conditions"))
    v2_actions = [a for a in ctx.actions if a.spec is not None and a.spec.v2_only]
    kind = d.get("pipelineType")
    if kind == "V1":
        for path, what in features:
            ctx.add("PW111", path, f"{what} need pipelineType V2, but the pipeline is V1", 'set "pipelineType": "V2"')
        for a in v2_actions:
            ctx.add(
                "PW223",
                f"{a.path}.actionTypeId.provider",
                f"action {a.label} uses {a.provider}, which only V2 pipelines offer",
                'set "pipelineType": "V2"',
            )
    elif kind is None and (features or v2_actions):
        used = [what for _, what in features] + [f"the {a.provider} action" for a in v2_actions]
        ctx.add(
            "PW705",
            "pipelineType",
            f"the pipeline uses V2 features ({', '.join(dict.fromkeys(used))}) but does not set pipelineType",
            'set "pipelineType": "V2" so that the type (and its pricing) is explicit',
        )


# ---------------------------------------------------------------------------------------------
# what lives beside the declaration (tags, disabled transitions)


@reports(
    rule_info(
        "PW112",
        "error",
        "Disabled transition names no stage",
        "A disabled inbound transition must name a stage of the pipeline.",
        'Pipeline(..., disabled_transitions={"Prod": "freeze"}) without a stage Prod',
        _UG + "transitions.html",
    ),
    rule_info(
        "PW113",
        "error",
        "Disabled transition reason invalid",
        "The reason is 1-300 characters of letters, digits, spaces and !@().*?-.",
        'disabled_transitions={"Prod": "freeze; see #12"}',
        "botocore service model (DisableStageTransition)",
    ),
    rule_info(
        "PW604",
        "error",
        "More than 50 tags",
        "§6: a pipeline has at most 50 tags.",
        "51 tags",
        _UG + "limits.html",
    ),
    rule_info(
        "PW605",
        "error",
        "Invalid tag",
        "§6: tag keys are 1-128 characters and may not start with 'aws:'; values are at most 256.",
        'tags {"aws:team": "x"}',
        _UG + "limits.html",
    ),
)
def _check_beside(ctx: _Context, found: _Target) -> None:
    if len(found.tags) > 50:
        ctx.add("PW604", "tags", f"the pipeline has {len(found.tags)} tags; at most 50 are allowed", None)
    for path, key, value in found.tags:
        # A key or value CloudFormation fills in (an intrinsic, a dynamic reference) is not text to judge.
        literal_key = isinstance(key, str) and not DYNAMIC_REFERENCE.search(key)
        literal_value = isinstance(value, str) and not DYNAMIC_REFERENCE.search(value)
        if literal_key and key.startswith("aws:"):
            ctx.add("PW605", path, f"tag key {key!r} uses the reserved prefix 'aws:'", "remove the prefix")
        elif (literal_key and not 1 <= len(key) <= 128) or (literal_value and len(value) > 256):
            ctx.add("PW605", path, f"tag {key!r} is too long (keys 1-128, values 0-256 characters)", None)
    stage_names = [name for _, _, _, name in ctx.stages if name is not None]
    # A stage named by a function may be the one a transition names.
    unknown = any(is_intrinsic(stage.get("name")) for _, _, stage, _ in ctx.stages)
    for stage, reason in found.disabled_transitions.items():
        path = join_key("disabledTransitions", stage)
        if stage not in stage_names and not unknown:
            ctx.add(
                "PW112",
                path,
                f"the disabled transition names stage {stage!r}, which the pipeline does not have",
                _did_you_mean(stage, stage_names, f"stages: {', '.join(stage_names)}"),
            )
        if not _TRANSITION_REASON.fullmatch(reason):
            ctx.add(
                "PW113",
                path,
                f"the reason {reason!r} must be 1-300 characters of letters, digits, spaces and !@().*?-",
                None,
            )
