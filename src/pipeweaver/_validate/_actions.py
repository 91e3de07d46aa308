"""Rules of actions (A1-A18) and artifacts (A4, A5).

The action type, artifact counts, each provider's configuration read from the catalog,
compute fields, and who produces what a consumer reads.
"""

from __future__ import annotations

import re

from .. import _catalog
from .._loader import load_json
from .._shapes import join_key
from ._context import (
    _Action,
    _Context,
    _dict,
    _did_you_mean,
    _earlier,
    _is_expression_key,
    _is_literal,
    _list,
    _near,
)
from ._registry import _UG, reports, rule_info

# ---------------------------------------------------------------------------------------------
# actions (A1-A18)


@reports(
    rule_info(
        "PW201",
        "error",
        "Duplicate action name in a stage",
        "A1: action names are unique within a stage.",
        '{"actions": [{"name": "Build"}, {"name": "Build"}]}',
        _UG + "action-requirements.html",
    ),
    rule_info(
        "PW702",
        "warning",
        "Source polls for changes by default",
        "§4.9: S3, CodeCommit and GitHub (v1) sources without PollForSourceChanges poll; with an "
        "EventBridge rule or webhook as well the pipeline starts twice.",
        '{"provider": "CodeCommit", "configuration": {"RepositoryName": "r", "BranchName": "main"}}',
        _UG + "PollForSourceChanges-defaults.html",
    ),
    rule_info(
        "PW708",
        "warning",
        "timeoutInMinutes on an action other than a manual approval",
        "A14: the API applies timeoutInMinutes to manual approvals only.",
        '{"provider": "CodeBuild", "timeoutInMinutes": 30}',
        _UG + "limits.html",
    ),
)
def _action_rules(ctx: _Context) -> None:
    names_in_stage: dict[tuple[int, str], int] = {}
    for a in ctx.actions:
        if a.name is not None:
            key = (a.stage, a.name)
            if key in names_in_stage:
                ctx.add(
                    "PW201",
                    f"{a.path}.name",
                    f"action name {a.name!r} is already used by actions[{names_in_stage[key]}] of this stage",
                    "give every action in a stage a unique name",
                )
            else:
                names_in_stage[key] = a.index
        spec = a.spec
        if spec is None or (a.version not in (None, "1") and a.owner == "AWS"):
            _action_type(ctx, a)  # it has nothing to say about a known type at version 1
        _compute_fields(ctx, a)
        if spec is not None:
            _counts(ctx, a, spec.inputs, spec.outputs)
            _configuration(ctx, a, spec)
        elif a.owner == "Custom":
            # custom action types declare 0-5 input and output artifacts (reference §5.1)
            _counts(ctx, a, (0, 5), (0, 5))
        timeout = a.data.get("timeoutInMinutes")
        if timeout is not None and not (
            a.category == _catalog.MANUAL_APPROVAL.category and a.provider == _catalog.MANUAL_APPROVAL.provider
        ):
            ctx.add(
                "PW708",
                f"{a.path}.timeoutInMinutes",
                f"timeoutInMinutes is set on action {a.label} ({a.provider}); AWS applies it to manual approvals only",
                "remove it; the action's own service timeout applies",
            )
        events = a.spec.events if a.is_source and a.spec is not None else None
        if events is not None and events.poll_key is not None and events.poll_key not in a.config:
            ctx.add(
                "PW702",
                f"{a.path}.configuration.PollForSourceChanges",
                f"source action {a.label} ({a.provider}) has no PollForSourceChanges, so it polls for changes",
                'set PollForSourceChanges to "false" and use an EventBridge rule (or webhook), '
                'or to "true" to keep polling on purpose',
            )


@reports(
    rule_info(
        "PW202",
        "error",
        "Unknown AWS action type",
        "A2: AWS rejects an actionTypeId that does not exist (provider, category and version together).",
        '{"category": "Build", "owner": "AWS", "provider": "CodeBiuld", "version": "1"}',
        _UG + "actions-valid-providers.html",
    ),
    rule_info(
        "PW706",
        "warning",
        "ThirdParty action type not in the catalog",
        "AWS lists the partner action types it offers; this one is not among the documented ones "
        "(it may have been retired).",
        '{"owner": "ThirdParty", "provider": "Runscope"}',
        _UG + "actions-valid-providers.html",
    ),
)
def _action_type(ctx: _Context, a: _Action) -> None:
    if a.spec is not None or not (a.category and a.owner and a.provider):
        if a.spec is not None and a.owner == "AWS" and a.version not in (None, "1"):
            ctx.add(
                "PW202",
                f"{a.path}.actionTypeId.version",
                f"action type {a.category}/AWS/{a.provider} has no version {a.version!r}",
                'AWS action types use version "1"',
            )
        return
    where = f"{a.path}.actionTypeId.provider"
    same_name = _catalog.providers_named(a.provider)
    if a.owner == "AWS":
        aws = [s for s in same_name if s.owner == "AWS"]
        if aws:
            cats = ", ".join(sorted({s.category for s in aws}))
            ctx.add(
                "PW202",
                f"{a.path}.actionTypeId.category",
                f"AWS offers {a.provider} as a {cats} action, not as a {a.category} action",
                f'use category "{aws[0].category}" or another provider',
            )
            return
        others = [s for s in same_name if s.owner != "AWS"]
        if others:
            ctx.add(
                "PW202",
                f"{a.path}.actionTypeId.owner",
                f"{a.provider} is a {others[0].owner} action type, not an AWS one",
                f'use owner "{others[0].owner}"',
            )
            return
        options = [s.provider for s in _catalog.PROVIDERS.values() if s.owner == "AWS" and s.category == a.category]
        ctx.add(
            "PW202",
            where,
            f"there is no AWS {a.category} action type {a.provider!r}",
            _did_you_mean(a.provider, options or [s.provider for s in _catalog.PROVIDERS.values()])
            or f"AWS {a.category} providers: {', '.join(sorted(set(options)))}",
        )
    elif a.owner == "ThirdParty":
        aws = [s for s in same_name if s.owner == "AWS" and s.category == a.category]
        hint = (
            'owner "AWS" (the action reference lists it under AWS)'
            if aws
            else "check the provider name; partner actions must be offered in the pipeline's region"
        )
        ctx.add(
            "PW706",
            where,
            f"ThirdParty {a.category} action type {a.provider!r} is not in the documented catalog",
            f"did you mean {hint}" if aws else hint,
        )


@reports(
    rule_info(
        "PW205",
        "error",
        "Wrong number of input artifacts",
        "A3: each action type takes a fixed range of input artifacts.",
        "a CodeBuild action with no inputArtifacts",
        _UG + "reference-action-artifacts.html",
    ),
    rule_info(
        "PW206",
        "error",
        "Wrong number of output artifacts",
        "A3/A17: each action type produces a fixed range of output artifacts.",
        "a Manual approval with an outputArtifacts entry",
        _UG + "reference-action-artifacts.html",
    ),
)
def _counts(ctx: _Context, a: _Action, inputs: tuple[int, int], outputs: tuple[int, int]) -> None:
    # Both counts within bounds: nothing to report.
    get = a.data.get
    ins, outs = get("inputArtifacts", []), get("outputArtifacts", [])
    if (
        type(ins) is list
        and type(outs) is list
        and inputs[0] <= len(ins) <= inputs[1]
        and outputs[0] <= len(outs) <= outputs[1]
    ):
        return
    for field, (lo, hi), code, word in (
        ("inputArtifacts", inputs, "PW205", "input"),
        ("outputArtifacts", outputs, "PW206", "output"),
    ):
        value = a.data.get(field, [])
        if not isinstance(value, list | tuple):
            continue
        n = len(value)
        if n < lo:
            ctx.add(
                code,
                f"{a.path}.{field}",
                f"Action {a.name} declares {n} {word} artifacts which is less than the minimum count ({lo})",
                f"{a.provider} takes {lo}..{hi} {word} artifact(s)",
            )
        elif n > hi:
            ctx.add(
                code,
                f"{a.path}.{field}",
                f"Action {a.name} declares {n} {word} artifacts which is greater than the maximum count ({hi})",
                f"{a.provider} takes {lo}..{hi} {word} artifact(s)" if hi else f"remove {field}",
            )


@reports(
    rule_info(
        "PW210",
        "error",
        "Required configuration key missing",
        "A7: each provider has required settings.",
        '{"provider": "CodeDeploy", "configuration": {}}',
        _UG + "action-requirements.html",
    ),
    rule_info(
        "PW211",
        "error",
        "Conditionally required configuration key missing",
        "A7: some settings become required in a mode (ChangeSetName for change-set modes, ...).",
        '{"provider": "CloudFormation", "configuration": {"ActionMode": "CHANGE_SET_REPLACE", ...}}',
        _UG + "action-reference-CloudFormation.html",
    ),
    rule_info(
        "PW212",
        "error",
        "Unknown configuration key",
        "A8: AWS rejects configuration keys its action types do not define.",
        '{"provider": "CodeBuild", "configuration": {"ProjectNmae": "x"}}',
        _UG + "action-requirements.html",
    ),
    rule_info(
        "PW213",
        "error",
        "Configuration value not allowed",
        "A7: some settings take one of a few values (booleans as 'true'/'false', modes, types).",
        '{"configuration": {"ActionMode": "CREATE"}}',
        _UG + "action-requirements.html",
    ),
    rule_info(
        "PW221",
        "error",
        "Configuration names an artifact that is not an input",
        "A16: TemplatePath, PrimarySource, TaskDefinitionTemplateArtifact, ... must name one of the "
        "action's input artifacts.",
        '{"inputArtifacts": [{"name": "Build"}], "configuration": {"TemplatePath": "Src::t.yaml"}}',
        _UG + "action-reference-CloudFormation.html",
    ),
    rule_info(
        "PW222",
        "error",
        "Configuration value is not valid JSON",
        "Settings such as CodeBuild EnvironmentVariables or CloudFormation ParameterOverrides are JSON text.",
        '{"configuration": {"EnvironmentVariables": "[{name: X}]"}}',
        _UG + "action-reference-CodeBuild.html",
    ),
    rule_info(
        "PW707",
        "warning",
        "Unknown configuration key on a partner action",
        "The key is not documented for this ThirdParty/Custom action type.",
        '{"owner": "ThirdParty", "provider": "GitHub", "configuration": {"Token": "..."}}',
        _UG + "actions-valid-providers.html",
    ),
)
def _configuration(ctx: _Context, a: _Action, spec: _catalog.ProviderSpec) -> None:
    cpath = a.path + ".configuration"
    config = a.config
    known = spec.keys
    unknown = (
        []
        if known.issuperset(config)
        else [k for k in config if k not in known and isinstance(k, str) and not spec.knows_key(k)]
    )
    for key in spec.required:
        if key not in config:
            near = _near(key, unknown)
            ctx.add(
                "PW210",
                join_key(cpath, key),
                f"{spec.provider} action {a.label} is missing required configuration {key!r}",
                f"you wrote {near!r}; rename it to {key!r}" if near else f"add {key!r}",
            )
    n_inputs = len(_list(a.data.get("inputArtifacts"))) if spec.conditional else 0
    for req in spec.conditional:
        if req.key in config:
            continue
        applies = False
        if req.when_key is not None and req.when_key in config:
            value = config[req.when_key]
            applies = req.when_values is None or (isinstance(value, str) and value in req.when_values)
        if req.min_inputs is not None and n_inputs >= req.min_inputs:
            applies = True
        if req.max_inputs_below is not None and n_inputs < req.max_inputs_below:
            applies = True
        if applies:
            ctx.add(
                "PW211",
                join_key(cpath, req.key),
                f"{spec.provider} action {a.label} needs configuration {req.key!r}: {req.reason}",
                f"add {req.key!r}",
            )
    for group in spec.one_of:
        if not any(k in config for k in group):
            ctx.add(
                "PW211",
                cpath,
                f"{spec.provider} action {a.label} needs one of {', '.join(map(repr, group))}",
                f"add {group[0]!r} or {group[1]!r}" if len(group) == 2 else "add one of them",
            )
    if not spec.open_configuration:
        for key in unknown:
            if spec.owner == "AWS":
                ctx.add(
                    "PW212",
                    join_key(cpath, key),
                    f"{spec.provider} action {a.label} contains unknown configuration {key!r}",
                    _did_you_mean(key, known, f"allowed keys: {', '.join(sorted(known)) or '(none)'}"),
                )
            else:
                ctx.add(
                    "PW707",
                    join_key(cpath, key),
                    f"{spec.owner} {spec.provider} action {a.label} has undocumented configuration {key!r}",
                    _did_you_mean(key, known, f"documented keys: {', '.join(sorted(known))}"),
                )
    for key, allowed in spec.allowed.items():
        value = config.get(key)
        if value is None or not _is_literal(value):
            continue
        assert isinstance(value, str)
        ok = value.lower() in allowed if allowed is _catalog.BOOL else value in allowed
        if not ok:
            ctx.add(
                "PW213",
                join_key(cpath, key),
                f"{key} is {value!r}; allowed values are {', '.join(allowed)}",
                _did_you_mean(value, allowed, f"use one of {', '.join(allowed)}"),
            )
    for key, (lo, hi) in spec.ranges.items():
        value = config.get(key)
        if value is None or not _is_literal(value):
            continue
        number = str(value).strip()
        if not (number.isdigit() and lo <= int(number) <= hi):
            ctx.add(
                "PW213",
                join_key(cpath, key),
                f"{key} is {value!r}; it must be a whole number from {lo} to {hi}",
                f"use a number in {lo}..{hi}",
            )
    for key, pattern in spec.patterns.items():
        value = config.get(key)
        if value is not None and _is_literal(value) and not re.fullmatch(pattern, str(value)):
            ctx.add(
                "PW213",
                join_key(cpath, key),
                f"{key} is {value!r}, which does not match {pattern}",
                f"see the allowed forms at {spec.source}",
            )
    for key, items in spec.list_allowed.items():
        value = config.get(key)
        if value is None or not _is_literal(value):
            continue
        for item in str(value).split(","):
            if item.strip() not in items:
                ctx.add(
                    "PW213",
                    join_key(cpath, key),
                    f"{key} contains {item.strip()!r}",
                    _did_you_mean(item.strip(), items, f"use a comma-separated list of {', '.join(items)}"),
                )
    for key in spec.json_keys:
        value = config.get(key)
        if isinstance(value, str):
            try:
                load_json(value)
            except ValueError as exc:
                ctx.add(
                    "PW222",
                    join_key(cpath, key),
                    f"{key} must be JSON text: {exc}",
                    "write it as JSON, e.g. "
                    + (
                        '[{"name":"X","value":"1","type":"PLAINTEXT"}]'
                        if key == "EnvironmentVariables"
                        else '{"Key":"Value"}'
                    ),
                )
    # the keys that name input artifacts are rarely set: most actions stop here
    for key in spec.artifact_keys:
        if key in config:
            break
    else:
        for key in spec.artifact_path_keys:
            if key in config:
                break
        else:
            return
    input_names = [name for name, _ in a.inputs]
    if any(_is_expression_key(name) for name in input_names):
        return  # an input named by a function may be any artifact the configuration names
    for key in spec.artifact_keys:
        value = config.get(key)
        if _is_literal(value) and value not in input_names:
            ctx.add(
                "PW221",
                join_key(cpath, key),
                f"{key} is {value!r}, which is not an input artifact of action {a.label}",
                _did_you_mean(str(value), input_names, f"use one of the input artifacts: {input_names}"),
            )
    for key in spec.artifact_path_keys:
        value = config.get(key)
        if not _is_literal(value):
            continue
        assert isinstance(value, str)
        artifact, sep, _file = value.partition("::")
        if not sep:
            ctx.add(
                "PW221",
                join_key(cpath, key),
                f"{key} is {value!r}; it must be written ArtifactName::path/to/file",
                f"e.g. {(input_names or ['BuildOutput'])[0]}::template.yaml",
            )
        elif artifact not in input_names:
            ctx.add(
                "PW221",
                join_key(cpath, key),
                f"{key} reads artifact {artifact!r}, which is not an input artifact of action {a.label}",
                _missing_input_hint(ctx, a, artifact, input_names),
            )


def _missing_input_hint(ctx: _Context, a: _Action, artifact: str, input_names: list[str]) -> str | None:
    """Point at the side that is wrong: a produced artifact is right, an unproduced input is the typo."""
    produced = {name for other in ctx.actions for name, _ in other.outputs}
    if artifact in produced:
        typo = _near(artifact, [n for n in input_names if n not in produced])
        if typo is not None:
            return f"input artifact {typo!r} is produced by no action: rename it to {artifact!r}"
        return f"add {artifact!r} to the input artifacts of action {a.label}"
    return _did_you_mean(artifact, input_names, f"add {artifact!r} to inputArtifacts")


@reports(
    rule_info(
        "PW214",
        "error",
        "Compute-only field on another action",
        "A10: commands, outputArtifacts[].files and outputVariables only on Compute actions; "
        "environmentVariables only on Commands and EKS actions.",
        '{"actionTypeId": {"category": "Build", ...}, "commands": ["make"]}',
        _UG + "action-reference-Commands.html",
    ),
    rule_info(
        "PW215",
        "error",
        "Commands action without commands",
        "A10: the Commands action must have a non-empty commands list.",
        '{"actionTypeId": {"category": "Compute", "provider": "Commands", ...}}',
        _UG + "action-reference-Commands.html",
    ),
)
def _compute_fields(ctx: _Context, a: _Action) -> None:
    if a.category is None:
        return
    compute = a.category == "Compute"
    if not compute:
        if a.data.get("commands") is not None:
            ctx.add(
                "PW214",
                f"{a.path}.commands",
                f"The following action cannot contain a commands field: {a.name}. "
                "To use the commands field, use a compute action.",
                "use a Compute/Commands action, or a buildspec for CodeBuild",
            )
        if a.data.get("outputVariables") is not None:
            ctx.add(
                "PW214",
                f"{a.path}.outputVariables",
                f"outputVariables is only for Compute actions; {a.label} is a {a.category} action",
                "remove it; this provider's output variables are produced automatically",
            )
        outputs = a.data.get("outputArtifacts")
        for oi, out in enumerate(_list(outputs) if outputs else ()):
            if _dict(out).get("files") is not None:
                ctx.add(
                    "PW214",
                    f"{a.path}.outputArtifacts[{oi}].files",
                    f"outputArtifacts[].files is only for Compute actions; {a.label} is a {a.category} action",
                    "remove files",
                )
    if a.data.get("environmentVariables") is not None and a.provider not in (
        _catalog.COMMANDS.provider,
        _catalog.EKS_DEPLOY.provider,
    ):
        ctx.add(
            "PW214",
            f"{a.path}.environmentVariables",
            f"environmentVariables is only for Commands and EKS actions; {a.label} is {a.provider}",
            "for CodeBuild use configuration.EnvironmentVariables (JSON text)",
        )
    envs = a.data.get("environmentVariables")
    if envs and a.provider != _catalog.COMMANDS.provider:
        for i, env in enumerate(_list(envs)):
            if _dict(env).get("type") == "SECRETS_MANAGER":
                ctx.add(
                    "PW214",
                    f"{a.path}.environmentVariables[{i}].type",
                    f"environment variable type SECRETS_MANAGER is only supported by Commands actions; "
                    f"{a.label} is {a.provider}",
                    "use PLAINTEXT, or read the secret inside the action",
                )
    # an empty list is already a count problem (PW013); only a missing field is reported here
    if a.provider == _catalog.COMMANDS.provider and compute and a.data.get("commands") is None:
        ctx.add(
            "PW215",
            f"{a.path}.commands",
            f"Action {a.name} must have a non-empty commands field",
            'add "commands": ["..."]',
        )


# ---------------------------------------------------------------------------------------------
# artifacts (A4, A5)


@reports(
    rule_info(
        "PW207",
        "error",
        "Duplicate output artifact name",
        "A4: output artifact names are unique across the whole pipeline.",
        'two actions with outputArtifacts [{"name": "Out"}]',
        _UG + "welcome-introducing-artifacts.html",
    ),
)
def _artifact_rules(ctx: _Context) -> None:
    for a in ctx.actions:
        for name, oi in a.outputs:
            first, first_index = ctx.producers[name]
            if first is not a or first_index != oi:
                ctx.add(
                    "PW207",
                    f"{a.path}.outputArtifacts[{oi}].name",
                    f"output artifact {name!r} is already produced by action {first.label} "
                    f"({first.path}.outputArtifacts[{first_index}])",
                    "give every output artifact a unique name",
                )
        for name, ii in a.inputs:
            found = ctx.producers.get(name)
            # the common case, a producer strictly earlier, needs no path at all
            if found is None or not _earlier(found[0], a.stage, a.run_order):
                _consume(ctx, name, f"{a.path}.inputArtifacts[{ii}].name", a.stage, a.run_order, a.label)


@reports(
    rule_info(
        "PW208",
        "error",
        "Input artifact not produced by any action",
        "A5: every input artifact is the output of an earlier action.",
        'inputArtifacts [{"name": "SourceOut"}] with no action producing SourceOut',
        _UG + "welcome-introducing-artifacts.html",
    ),
    rule_info(
        "PW209",
        "error",
        "Input artifact produced too late",
        "A5: the producer must run strictly before: an earlier stage, or a lower runOrder in the same stage.",
        "Build (runOrder 1) reads an artifact that Package (runOrder 1, same stage) writes",
        _UG + "action-requirements.html",
    ),
)
def _consume(ctx: _Context, name: str, path: str, stage: int, run_order: int, who: str) -> None:
    found = ctx.producers.get(name)
    if found is None:
        if _is_expression_key(name) or any(_is_expression_key(n) for n in ctx.producers):
            # A name CloudFormation fills in may be one that no reference spells the same way.
            return
        # (so every produced name is literal: each may be the one meant)
        ctx.add(
            "PW208",
            path,
            f"input artifact {name!r} of {who} is not produced by any action",
            _did_you_mean(name, ctx.producers, "produce it as an output artifact of an earlier action"),
        )
        return
    producer, _ = found
    if not _earlier(producer, stage, run_order):
        when = (
            "at the same time (same runOrder)"
            if (producer.stage == stage and producer.run_order == run_order)
            else "later"
        )
        ctx.add(
            "PW209",
            path,
            f"input artifact {name!r} of {who} is produced by action {producer.label} "
            f"(stages[{producer.stage}], runOrder {producer.run_order}), which runs {when}",
            "give the producer a lower runOrder or move it to an earlier stage",
        )
