"""Rules of namespaces and variables (§2.3).

Unique namespaces, references to variables that exist and are produced earlier, and commit
metadata that reaches a shell.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from .. import _catalog
from .._loader import load_json
from .._shapes import join_key
from .._wire import is_intrinsic
from ._context import _Action, _Context, _dict, _did_you_mean, _earlier, _list, _str
from ._registry import _UG, reports, rule_info

_CODEPIPELINE_KEYS: Final = ("PipelineExecutionId",)
_RESERVED_NAMESPACES: Final = ("codepipeline", "variables")
_ANY_REF: Final = re.compile(r"#\{([^}]*)\}")
_REF: Final = re.compile(r"#\{([A-Za-z0-9@\-_]+)\.([A-Za-z0-9@\-_.]+)\}")

#: Output variables of source actions that whoever pushes a commit controls (§3.1).
_COMMIT_METADATA: Final = frozenset(
    {"CommitMessage", "BranchName", "AuthorDate", "CommitterDate", "CommitUrl", "AuthorName", "AuthorEmail"}
)


# ---------------------------------------------------------------------------------------------
# namespaces and variables (§2.3)


@reports(
    rule_info(
        "PW217",
        "error",
        "Duplicate namespace",
        "A12: action namespaces are unique in a pipeline.",
        'two actions with "namespace": "SourceVariables"',
        _UG + "reference-variables.html",
    ),
    rule_info(
        "PW305",
        "error",
        "Namespace equals an artifact name",
        "A12: a namespace must not collide with an artifact name.",
        '"namespace": "SourceOutput" and an artifact SourceOutput',
        _UG + "reference-variables.html",
    ),
    rule_info(
        "PW306",
        "error",
        "Duplicate pipeline variable",
        "Pipeline variable names are unique.",
        '"variables": [{"name": "env"}, {"name": "env"}]',
        _UG + "reference-variables.html",
    ),
    rule_info(
        "PW307",
        "error",
        "Reserved namespace",
        "'codepipeline' and 'variables' are reserved namespaces.",
        '"namespace": "variables"',
        _UG + "reference-variables.html",
    ),
)
def _namespace_rules(ctx: _Context) -> None:
    for a in ctx.actions:
        ns = a.namespace
        if ns is None:
            continue
        path = f"{a.path}.namespace"
        if ns in _RESERVED_NAMESPACES:
            ctx.add("PW307", path, f"namespace {ns!r} is reserved", "choose another namespace, e.g. BuildVariables")
            continue
        if ns in ctx.namespaces:
            first = ctx.namespaces[ns]
            ctx.add(
                "PW217",
                path,
                f"namespace {ns!r} is already used by action {first.label} ({first.path})",
                "give every action a unique namespace",
            )
            continue
        ctx.namespaces[ns] = a
        if ns in ctx.producers:
            ctx.add(
                "PW305",
                path,
                f"namespace {ns!r} is also the name of an artifact",
                f"rename the namespace, e.g. {ns}Variables",
            )
    seen: set[str] = set()
    for vi, variable in enumerate(_list(ctx.decl.get("variables"))):
        name = _str(_dict(variable).get("name"))
        if name is not None:
            if name in seen:
                ctx.add("PW306", f"variables[{vi}].name", f"pipeline variable {name!r} is declared twice", None)
            seen.add(name)


@reports(
    rule_info(
        "PW713",
        "warning",
        "Multi-line command",
        "§1.4: each commands entry is one shell line; put scripts in a file in the input artifact.",
        '"commands": ["set -e\\nmake"]',
        _UG + "action-reference-Commands.html",
    ),
)
def _variable_rules(ctx: _Context) -> None:
    for a in ctx.actions:
        # paths are built only for strings that hold a reference
        shell_keys = ("EnvironmentVariables", "BuildspecOverride") if a.provider == _catalog.CODEBUILD.provider else ()
        for key, value in a.config.items():
            if type(value) is str and "#{" in value and isinstance(key, str):
                path = join_key(f"{a.path}.configuration", key)
                # A pipeline variable as an entry's value is the documented way into a build (the one
                # who starts the pipeline sets it); commit text anyone can push still warns there.
                in_values = key == "EnvironmentVariables" and key in shell_keys and _only_in_env_values(value)
                _references(ctx, path, value, key in shell_keys, a.stage, a.run_order, a, variables_safe=in_values)
        commands, envs = a.data.get("commands"), a.data.get("environmentVariables")
        for i, command in enumerate(_list(commands) if commands else ()):
            if type(command) is str and "\n" in command:
                ctx.add(
                    "PW713",
                    f"{a.path}.commands[{i}]",
                    "the command spans several lines; commands entries are single shell lines",
                    "split it into one entry per line, or run a script file",
                )
            if type(command) is str and "#{" in command:
                _references(ctx, f"{a.path}.commands[{i}]", command, True, a.stage, a.run_order, a)
        for i, env in enumerate(_list(envs) if envs else ()):
            value = _dict(env).get("value")
            if type(value) is str and "#{" in value:
                _references(ctx, f"{a.path}.environmentVariables[{i}].value", value, False, a.stage, a.run_order, a)


def _undeclared_namespace_hint(ctx: _Context, ns: str, key: str, stage: int, run_order: int) -> str | None:
    """How to make ``#{ns.key}`` resolve: most often by naming the producer's namespace, not by renaming."""
    # An earlier action without a namespace that emits *key* is almost always the one meant.
    emitters = [
        a
        for a in ctx.actions
        if a.namespace is None
        and _earlier(a, stage, run_order)
        and a.spec is not None
        and a.spec.output_variables
        and key in a.spec.output_variables
    ]
    if len(emitters) == 1:
        a = emitters[0]
        return (
            f"set namespace {ns!r} on action {a.label} ({a.provider} emits {key}): "
            f'namespace="{ns}" in Python, Namespace: {ns} in CloudFormation, "namespace": "{ns}" in JSON'
        )
    # An earlier action that emits *key* under a namespace of its own: the reference names the wrong one.
    named = {
        a.namespace
        for a in ctx.actions
        if a.namespace is not None
        and _earlier(a, stage, run_order)
        and a.spec is not None
        and a.spec.output_variables
        and key in a.spec.output_variables
    }
    if len(named) == 1:
        [other] = named
        return f"did you mean #{{{other}.{key}}}? (the action that emits {key} has namespace {other!r})"
    # A reserved namespace is a likely meaning only when it differs in case alone.
    reserved = [r for r in _RESERVED_NAMESPACES if r.lower() == ns.lower()]
    return _did_you_mean(
        ns,
        [*ctx.namespaces, *reserved],
        f"set namespace {ns!r} on the action that produces {key} (variables of an action without a "
        "namespace cannot be referenced)",
    )


def _only_in_env_values(text: str) -> bool:
    """Every reference in CodeBuild's EnvironmentVariables JSON sits inside an entry's ``value``.

    That is the documented way to hand a variable to a build: it reaches the build as the
    value of an environment variable, which a script reads as ``"$NAME"``, never as shell text.
    """
    try:
        entries = load_json(text)
    except ValueError:  # PW222 reports the broken JSON (LoadFailure is a ValueError)
        return False
    if not isinstance(entries, list):
        return False
    in_values: int = sum(
        e["value"].count("#{") for e in entries if isinstance(e, dict) and isinstance(e.get("value"), str)
    )
    return in_values == text.count("#{")


@reports(
    rule_info(
        "PW301",
        "error",
        "Reference to an unknown namespace",
        "§2.3: #{Namespace.Key} must name the namespace of an action in the pipeline.",
        '"#{SourceVars.CommitId}" with no action in namespace SourceVars',
        _UG + "reference-variables.html",
    ),
    rule_info(
        "PW302",
        "error",
        "Reference to a namespace that does not run earlier",
        "§2.3: the producing action must finish first: an earlier stage, or a lower runOrder.",
        "an action referencing the namespace of a parallel action (same runOrder)",
        _UG + "reference-variables.html",
    ),
    rule_info(
        "PW303",
        "error",
        "Reference to an undeclared pipeline variable",
        "§2.3: #{variables.name} must name a variable declared in the pipeline.",
        '"#{variables.env}" with no variable env',
        _UG + "reference-variables.html",
    ),
    rule_info(
        "PW704",
        "warning",
        "Unknown codepipeline variable",
        "§2.3: the codepipeline namespace documents PipelineExecutionId only.",
        '"#{codepipeline.ExecutionId}"',
        _UG + "reference-variables.html",
    ),
    rule_info(
        "PW709",
        "warning",
        "Reference to a variable the action does not produce",
        "§3.1: the producing provider documents a fixed set of output variables.",
        '"#{SourceVariables.Commit}" on a CodeCommit source (it produces CommitId)',
        _UG + "reference-variables.html",
    ),
    rule_info(
        "PW710",
        "warning",
        "Malformed variable reference",
        "§2.3: references are #{namespace.key}; this text is left as it is.",
        '"#{SourceVariables}"',
        _UG + "reference-variables.html",
    ),
)
def _named_by_functions(items: object) -> bool:
    """Whether a pipeline variable's name is an intrinsic function (so any name may be declared)."""
    return any(is_intrinsic(_dict(item).get("name")) for item in _list(items))


def _references(
    ctx: _Context,
    path: str,
    text: str,
    shell: bool,
    stage: int,
    run_order: int,
    who: _Action | None,
    *,
    variables_safe: bool = False,
) -> None:
    for m in _ANY_REF.finditer(text):
        ref = _REF.fullmatch(m.group(0))
        if ref is None:
            ctx.add(
                "PW710",
                path,
                f"{m.group(0)!r} is not a variable reference (#{{namespace.key}}), so it is passed on literally",
                "write #{Namespace.Key}, #{variables.name} or #{codepipeline.PipelineExecutionId}",
            )
            continue
        ns, key = ref.group(1), ref.group(2)
        if ns == "codepipeline":
            if key not in _CODEPIPELINE_KEYS:
                ctx.add(
                    "PW704",
                    path,
                    f"#{{codepipeline.{key}}} is not a documented codepipeline variable",
                    _did_you_mean(key, _CODEPIPELINE_KEYS, "the documented key is PipelineExecutionId"),
                )
            continue
        if ns == "variables":
            if key not in ctx.variables and not _named_by_functions(ctx.decl.get("variables")):
                ctx.add(
                    "PW303",
                    path,
                    f"#{{variables.{key}}} refers to pipeline variable {key!r}, which is not declared",
                    _did_you_mean(key, ctx.variables, f'declare it: "variables": [{{"name": "{key}"}}]'),
                )
            elif shell and not variables_safe:
                _injection(ctx, path, m.group(0), "a pipeline variable anyone starting the pipeline can override")
            continue
        producer = ctx.namespaces.get(ns)
        if producer is None:
            if any(is_intrinsic(a.data.get("namespace")) for a in ctx.actions):
                continue  # a namespace CloudFormation fills in may be this one
            ctx.add(
                "PW301",
                path,
                f"{m.group(0)} refers to namespace {ns!r}, which no action declares",
                _undeclared_namespace_hint(ctx, ns, key, stage, run_order),
            )
            continue
        if producer is who or not _earlier(producer, stage, run_order):
            ctx.add(
                "PW302",
                path,
                f"{m.group(0)} refers to action {producer.label} (stages[{producer.stage}], runOrder "
                f"{producer.run_order}), which does not finish before this one starts",
                "give the producer a lower runOrder or move it to an earlier stage",
            )
            continue
        outputs: Sequence[str] | None = None
        if producer.provider == _catalog.COMMANDS.provider and producer.category == _catalog.COMMANDS.category:
            declared = _list(producer.data.get("outputVariables"))
            # an output variable named by a function may be any key: then none is judged
            outputs = None if any(is_intrinsic(v) for v in declared) else [v for v in declared if isinstance(v, str)]
        elif producer.spec is not None:
            outputs = producer.spec.output_variables
        if outputs is not None and key not in outputs:
            ctx.add(
                "PW709",
                path,
                f"{m.group(0)}: action {producer.label} ({producer.provider}) does not produce {key!r}",
                _did_you_mean(key, outputs, f"it produces: {', '.join(outputs) or 'no variables'}"),
            )
        elif shell and producer.is_source and key in _COMMIT_METADATA:
            _injection(ctx, path, m.group(0), "commit metadata whoever pushes a commit controls")


@reports(
    rule_info(
        "PW701",
        "warning",
        "Commit metadata or a pipeline variable interpolated into shell text",
        "Anyone who can push a commit (or start the pipeline) controls these values; "
        "substituted into commands, BuildspecOverride or the JSON of CodeBuild's EnvironmentVariables, "
        "they can inject shell commands or variables. A pipeline variable as an EnvironmentVariables "
        "entry's value is the documented way into a build and draws no warning; commit text there still "
        "does, since a quote in it can end the value.",
        '"commands": ["echo #{SourceVariables.CommitMessage}"]',
        _UG + "reference-variables.html",
    ),
)
def _injection(ctx: _Context, path: str, ref: str, what: str) -> None:
    # The substitution is textual in all three places; what differs is what the text becomes.
    if path.endswith("EnvironmentVariables"):
        into = (
            "substituted into the JSON text of CodeBuild's environment variables "
            "(a quote in it can end the value and add or change variables)"
        )
    elif path.endswith("BuildspecOverride"):
        into = "substituted into the buildspec text before CodeBuild reads it"
    else:
        into = "substituted into shell text before it runs"
    if path.endswith("EnvironmentVariables"):
        fix = (
            "pass #{Namespace.CommitId} instead and read the text in the build (git log -1 --format=%B), "
            "where no quote in it can reach the JSON"
        )
    else:
        fix = (
            'pass it as an environment variable and quote it in the script ("$VAR"), or validate it in the script first'
        )
    ctx.add("PW701", path, f"{ref} is {what}, {into}", fix)
