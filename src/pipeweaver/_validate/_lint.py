"""The entry points ``lint`` and ``validate``, and the rules reported outside the rule groups.

What each input kind becomes, the order the groups run in, and the documentation of the
rules reported elsewhere: shape (by :mod:`pipeweaver._shapes`), template level (by
:mod:`pipeweaver._cfn_refs`) and a rule that crashed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs

from .. import _cfn, _cfn_conditions, _cfn_refs
from .._shapes import check_shape, join_key
from .._wire import is_intrinsic, unwrap
from ..errors import Issue, LoadError, ValidationError
from ._actions import _action_rules, _artifact_rules
from ._conditions import _condition_rules
from ._context import _Context, _dict, _index, _list, _str, _Target
from ._pipeline import _check_beside, _pipeline_rules, _v2_rules
from ._regions import _account_rules, _key_regions, _region_rules
from ._registry import _CFN, reports, rule_info
from ._triggers import _trigger_rules
from ._variables import _namespace_rules, _variable_rules

if TYPE_CHECKING:
    from .._model import Expression, Pipeline

# ---------------------------------------------------------------------------------------------
# entry points


def _keep_expression(expr: Expression, _path: str) -> Any:
    return expr.raw


def _is_pipeline(target: object) -> bool:
    # API JSON (a Mapping, the common case of `pipeweaver validate FILE`) never needs the model:
    # the rules read JSON, and the model's attrs classes are most of a cold start's imports.
    from .._model import Pipeline

    return isinstance(target, Pipeline)


def _is_conditional(pipeline: Pipeline) -> bool:
    from .._branches import is_conditional  # loaded with the model

    return is_conditional(pipeline)


def _declaration_of(target: Any) -> _Target:
    """
    Turn whatever ``lint`` was given into the API-shaped declaration its rules read.

    The one place that knows input kinds: a :class:`Pipeline` (rendered once, CloudFormation
    expressions kept as raw intrinsic dicts), API JSON bare or in its ``{"pipeline": ...}``
    envelope, and anything else (checked as a declaration, so junk becomes shape issues).
    A new input kind adds a branch here; ``relocate`` maps API paths to the input's own.
    """
    if isinstance(target, _cfn.TemplatePipeline):
        return _Target(
            declaration=_cfn_refs.resolved_later(target.declaration),
            tags=[(f"tags[{i}]", k, v) for i, (k, v) in enumerate(target.tags.items())],
            disabled_transitions=_literal(target.disabled_transitions),
            relocate=target.path,
            issues=[*target.conversion_issues, *_dynamic_name(target.declaration, target.path)],
        )
    if not isinstance(target, Mapping) and _is_pipeline(target):
        from .._codec import to_codepipeline

        # A model holds what a template holds (its expressions, its dynamic references) and
        # is checked as one: a dynamic reference is a value CloudFormation fills in.
        rendered = to_codepipeline(target, resolve=_keep_expression)
        return _Target(
            declaration=_cfn_refs.resolved_later(rendered),
            tags=[(f"tags[{str(k)!r}]", k, v) for k, v in target.tags.items()],
            disabled_transitions=_literal(target.disabled_transitions),
            issues=_dynamic_name(rendered, str),
        )
    declaration, _prefix = unwrap(target)
    tags: list[tuple[str, str, str]] = []
    if declaration is not target and isinstance(target, Mapping):
        for i, tag in enumerate(_list(target.get("tags"))):
            tag = _dict(tag)
            key, value = _str(tag.get("key")), _str(tag.get("value"))
            if key is not None:
                tags.append((f"tags[{i}]", key, value or ""))
    return _Target(declaration=declaration, tags=tags, issues=_api_intrinsics(declaration))


def _literal(transitions: Mapping[Any, Any]) -> dict[str, str]:
    """The disabled transitions whose stage and reason are text (an intrinsic is CloudFormation's to fill in)."""
    return {
        k: v
        for k, v in transitions.items()
        if isinstance(k, str) and isinstance(v, str) and not _cfn_refs.DYNAMIC_REFERENCE.search(k + v)
    }


@reports(
    rule_info(
        "PW715",
        "warning",
        "Dynamic reference in the pipeline name",
        "CloudFormation resolves {{resolve:...}} in Name, but AWS recommends against dynamic references in a "
        "property of the resource's primary identifier: the resolved value may appear wherever the name does.",
        "Name: '{{resolve:ssm:/ci/pipeline-name}}'",
        _CFN + "dynamic-references.html",
    ),
)
def _dynamic_name(declaration: Any, relocate: Callable[[str], str]) -> list[Issue]:
    """A warning for a pipeline ``name`` that is a dynamic reference (never an error: AWS does not forbid it)."""
    name = declaration.get("name") if isinstance(declaration, Mapping) else None
    if not (isinstance(name, str) and _cfn_refs.DYNAMIC_REFERENCE.search(name)):
        return []
    return [
        Issue(
            code="PW715",
            severity="warning",
            path=relocate("name"),
            message="the pipeline name is a dynamic reference; the name is the pipeline's primary identifier, "
            "where AWS recommends against dynamic references (the resolved value may show wherever the name does)",
            hint="give the name as text or a parameter (!Ref PipelineName), and keep dynamic references for values",
        )
    ]


def _api_intrinsics(declaration: Any) -> list[Issue]:
    """
    CloudFormation intrinsics (``{"Ref": ...}``, ``{"Fn::Sub": ...}``) in CodePipeline API JSON.

    The rules read an intrinsic as "a value CloudFormation fills in", which is right for a
    template or a model bound for one; the API itself takes only literal values and rejects
    these objects wherever they stand, so in API JSON each one is an error.
    """
    found: list[Issue] = []
    stack: list[tuple[str, Any, int]] = [("", declaration, 0)]
    while stack:
        path, value, depth = stack.pop()
        if is_intrinsic(value):
            function = next(iter(value))
            found.append(
                Issue(
                    code="PW003",
                    severity="error",
                    path=path,
                    message=f"{{{function!r}: ...}} is a CloudFormation intrinsic function; the CodePipeline API "
                    "takes literal values here",
                    hint="deploy it with CloudFormation (as a template), or resolve it to a literal value",
                )
            )
        elif depth >= _MAX_WALK:
            continue  # deeper input is reported by the shape check (PW004)
        elif isinstance(value, Mapping):
            items = [(join_key(path, k), v, depth + 1) for k, v in value.items() if isinstance(k, str)]
            stack.extend(reversed(items))
        elif isinstance(value, list):
            stack.extend(reversed([(f"{path}[{i}]", v, depth + 1) for i, v in enumerate(value)]))
    return found


#: How deep :func:`_api_intrinsics` looks (the shape check reports nesting beyond its own limit).
_MAX_WALK: Final = 64


@reports(
    rule_info("PW000", "error", "Input is not JSON", "The file could not be parsed.", "{name: x}", "JSON"),
    rule_info(
        "PW001",
        "error",
        "Unknown field",
        "The API rejects fields it does not define (often a typo or a CloudFormation-cased key).",
        '{"stages": [{"name": "S", "Actions": []}]}',
        "botocore service model",
    ),
    rule_info(
        "PW002",
        "error",
        "Required field missing",
        "The API model marks the field required.",
        '{"name": "p", "stages": []}  # no roleArn',
        "botocore service model",
    ),
    rule_info(
        "PW003",
        "error",
        "Wrong type",
        "Each field has one JSON type (a map is not a list, a number is not a string).",
        '{"artifactStores": [{"region": "us-east-1"}]}',
        "botocore service model",
    ),
    rule_info(
        "PW004",
        "error",
        "Nested too deeply",
        "No declaration is this deep; the input is not a pipeline.",
        "[[[[...]]]]",
        "pipeweaver",
    ),
    rule_info(
        "PW010",
        "error",
        "Value breaks the field's pattern",
        "Names, ARNs and identifiers have fixed character sets.",
        '{"name": "my pipeline"}',
        "botocore service model",
    ),
    rule_info(
        "PW011",
        "error",
        "Value too short or too long",
        "Strings have length limits (configuration values 1-1000, names 1-100, ...).",
        '{"configuration": {"ProjectName": ""}}',
        "botocore service model",
    ),
    rule_info(
        "PW012",
        "error",
        "Value not in the allowed set",
        "Enumerated fields accept only AWS's exact strings.",
        '{"executionMode": "queued"}',
        "botocore service model",
    ),
    rule_info(
        "PW013",
        "error",
        "Too few or too many items",
        "Lists and maps have item limits (commands 1-50, rules 1-5, ...).",
        '{"outputVariables": []}',
        "botocore service model",
    ),
    rule_info(
        "PW014",
        "error",
        "Number out of range",
        "runOrder is 1-999, timeoutInMinutes 5-86400.",
        '{"runOrder": 1000}',
        "botocore service model",
    ),
)
def lint(target: Pipeline | Mapping[str, Any] | Any, *, region: str | None = None) -> list[Issue]:
    """
    Return every problem in *target*: a :class:`~pipeweaver.Pipeline` or raw API JSON.

    Shape problems, field problems and whole-pipeline rules are all reported in one pass;
    rules still run on the well-formed parts of a partly broken definition. Never raises on
    bad input.

    Args:
        target: A pipeline model, a bare ``PipelineDeclaration`` dict, the
            ``{"pipeline": ...}`` envelope ``get-pipeline`` prints, or a CloudFormation
            template (mapping, or JSON/YAML text). Every pipeline resource of a template is
            checked, with paths such as ``Resources.Pipeline.Properties.Stages[0]``.
        region: The region the pipeline lives in, when known. Offline, the pipeline region
            cannot be read from the definition; with it, cross-region rules are exact.

    Returns:
        The issues (errors and warnings) with their paths, in the order found.

    .. versionadded:: 0.1.0
    """
    if isinstance(target, str | bytes) or _cfn.looks_like_template(target):
        return _lint_template(target, region)
    if not isinstance(target, Mapping) and _is_pipeline(target) and _is_conditional(target):
        try:
            return _lint_model_branches(target, region)
        except Exception as exc:  # report, never raise
            return [_internal("conditions", exc)]
    try:
        found = _declaration_of(target)
    except Exception as exc:  # a model that cannot even be rendered: report, never raise
        return [_internal("input", exc)]
    data = found.declaration
    issues = check_shape(data, skip=is_intrinsic)
    if isinstance(data, Mapping):
        ctx = _Context(decl=data, region=region, issues=issues)
        for rule in _RULE_GROUPS:
            try:
                rule(ctx)
            except Exception as exc:  # one broken rule must not hide the others
                issues.append(_internal(rule.__name__, exc))
        try:
            _check_beside(ctx, found)
        except Exception as exc:  # same: report, never raise
            issues.append(_internal("_check_beside", exc))
    if found.relocate is not None:
        relocate = found.relocate
        issues = [attrs.evolve(i, path=relocate(i.path)) for i in issues]
        issues = _beside_intrinsics(issues, found.issues)
    return [*found.issues, *issues]


def _beside_intrinsics(issues: list[Issue], conversion: Sequence[Issue]) -> list[Issue]:
    """
    *issues* without those at or inside an intrinsic function that stands for an object, a
    list or an enumerated value: the conversion reported it once (PW003), and what the
    function will hold is not known, so "unknown field 'Fn::ImportValue'", "required field
    'Name' missing" and the like at that place would be a cascade from the one problem.
    """
    flagged = [i.path for i in conversion if i.code == "PW003" and i.message.startswith("an intrinsic function")]
    if not flagged:
        return issues
    return [i for i in issues if not any(i.path == f or i.path.startswith((f + ".", f + "[")) for f in flagged)]


@reports(
    rule_info(
        "PW801",
        "error",
        "Reference to something the template does not declare",
        "CloudFormation refuses a template whose Ref, Fn::Sub variable, Fn::GetAtt or Fn::FindInMap names "
        "no parameter, resource, pseudo parameter or mapping.",
        "RoleArn: !GetAtt PipelineRol.Arn  # the resource is PipelineRole",
        _CFN + "intrinsic-function-reference.html",
    ),
    rule_info(
        "PW802",
        "error",
        "Undeclared condition",
        "Fn::If and a resource's Condition must name a condition of the template's Conditions section.",
        "!If [IsProdd, a, b]  # Conditions declares IsProd",
        _CFN + "conditions-section-structure.html",
    ),
    rule_info(
        "PW803",
        "error",
        "Intrinsic function with the wrong arguments",
        "Each intrinsic function takes a fixed form (Fn::If three items, Fn::Sub a string or [string, map], "
        "Fn::Join [delimiter, list], ...); CloudFormation refuses any other.",
        '!Sub ["${Env}-app"]  # the variable map is missing',
        _CFN + "intrinsic-function-reference.html",
    ),
    rule_info(
        "PW804",
        "error",
        "Unknown attribute for Fn::GetAtt",
        "The resource type does not return that attribute (checked for the types pipeline templates use "
        "around a pipeline: IAM roles, KMS keys, S3 buckets, SNS topics, CodeBuild projects, connections).",
        "!GetAtt PipelineRole.RoleArn  # a role returns Arn and RoleId",
        _CFN + "aws-resource-iam-role.html",
    ),
    rule_info(
        "PW805",
        "warning",
        "YAML alias or merge key",
        "CloudFormation refuses YAML aliases and merge keys in a template given to it directly; "
        "`aws cloudformation package` and SAM expand them first.",
        "ActionTypeId: {<<: *source, Category: Build}",
        _CFN + "template-formats.html",
    ),
)
def _lint_template(target: Any, region: str | None) -> list[Issue]:
    """Text (JSON or YAML) or a CloudFormation template: each pipeline resource, in template paths."""
    try:
        # A mapping goes through the loader too: it bounds nesting before anything recurses.
        data = _cfn.load_template(target)
        if not _cfn.looks_like_template(data):
            return lint(data, region=region)
        ids: list[str | None] = [*_cfn.find_pipelines(data)] or [None]
        pipelines = [_cfn.declaration_of(data, logical_id) for logical_id in ids]
        references = [issue for found in pipelines for issue in _cfn_refs.check_references(data, found.logical_id)]
        if isinstance(target, str | bytes):
            text = target.decode("utf-8", errors="replace") if isinstance(target, bytes) else target
            references += _cfn_refs.yaml_features(text)
        issues = []
        for found in pipelines:
            properties = data["Resources"][found.logical_id].get("Properties") if found.logical_id else None
            if _cfn_conditions.has_fn_if(properties):
                issues += _lint_branches(data, found.logical_id, region)
            else:
                issues += lint(found, region=region)
    except LoadError as exc:
        return list(exc.issues)
    except Exception as exc:  # report, never raise
        return [_internal("template", exc)]
    return issues + references


def _lint_branches(template: Mapping[str, Any], logical_id: str, region: str | None) -> list[Issue]:
    """
    Lint the pipeline *logical_id* once per combination of the condition values its ``Fn::If``
    functions test, as CloudFormation would deploy it (see :mod:`pipeweaver._cfn_conditions`).

    An issue that holds in every combination is reported once, as it is; one that holds in
    some says when (``when IsProd is false: ...``). Paths are those of the template as written
    (``Stages[2]["Fn::If"][1].Actions[0]``), never of the chosen branch.
    """
    resource = template["Resources"][logical_id]
    properties = resource["Properties"]

    def one(truth: dict[str, bool]) -> list[Issue]:
        chosen, moved = _cfn_conditions.select(properties, truth)
        branch = {**template, "Resources": {**template["Resources"], logical_id: {**resource, "Properties": chosen}}}
        found = _cfn.declaration_of(branch, logical_id)
        prefix = found.prefix + "."
        return [
            attrs.evolve(issue, path=prefix + _cfn_conditions.relocate(issue.path[len(prefix) :], moved))
            if issue.path.startswith(prefix)
            else issue
            for issue in lint(found, region=region)
        ]

    return _per_combination(_cfn_conditions.combinations(template, _cfn_conditions.conditions_used(properties)), one)


def _lint_model_branches(pipeline: Pipeline, region: str | None) -> list[Issue]:
    """
    Lint a model with conditional elements (a ``when``) once per combination of the values of
    the conditions they name that can occur, as :func:`_lint_branches` does for a template.
    Paths are those of the model as it is, every element of every branch in it.
    """
    from .. import _branches, _when

    def one(truth: dict[str, bool]) -> list[Issue]:
        chosen, moved = _branches.choose(pipeline, truth)
        return [attrs.evolve(i, path=_cfn_conditions.relocate(i.path, moved)) for i in lint(chosen, region=region)]

    spec = pipeline.template_conditions or _when.TemplateConditions()
    return _per_combination(_cfn_conditions.combinations(spec.template, _branches.condition_names(pipeline)), one)


def _per_combination(
    combinations: list[dict[str, bool]], lint_one: Callable[[dict[str, bool]], list[Issue]]
) -> list[Issue]:
    """
    The issues *lint_one* finds under each combination of condition values: one that holds in
    every combination once, as it is; one that holds in some saying when (``when IsProd is
    false: ...``).
    """
    holds: dict[Issue, list[int]] = {}
    for n, truth in enumerate(combinations):
        for issue in lint_one(truth):
            holds.setdefault(issue, []).append(n)
    out = []
    for issue, where in holds.items():
        if len(where) < len(combinations):
            when = _cfn_conditions.describe([combinations[n] for n in where], combinations)
            issue = attrs.evolve(issue, message=f"when {when}: {issue.message}")
        out.append(issue)
    return out


@reports(
    rule_info(
        "PW099",
        "error",
        "Internal validator error",
        "A rule crashed on this input; the other rules still ran. Please report it.",
        "(none)",
        "pipeweaver",
    ),
)
def _internal(where: str, exc: BaseException) -> Issue:
    return Issue(
        code="PW099",
        severity="error",
        path="",
        message=f"the validator failed in {where}: {type(exc).__name__}: {exc}",
        hint="this is a pipeweaver bug; the other rules still ran. Please report it with the input",
    )


def validate(pipeline: Pipeline, *, region: str | None = None) -> None:
    """
    Raise :class:`~pipeweaver.errors.ValidationError` carrying every issue, if any is an error.

    .. versionadded:: 0.1.0
    """
    issues = lint(pipeline, region=region)
    errors = sum(1 for i in issues if i.severity == "error")
    if errors:
        raise ValidationError(f"pipeline {pipeline.name!s} has {errors} error(s)", issues)


_RULE_GROUPS: Final[tuple[Callable[[_Context], None], ...]] = (
    _index,
    _pipeline_rules,
    _v2_rules,
    _action_rules,
    _artifact_rules,
    _namespace_rules,
    _variable_rules,
    _trigger_rules,
    _condition_rules,
    _region_rules,
    _key_regions,
    _account_rules,
)
