"""CloudFormation templates <-> API-shaped declarations: safe loading, key case and paths.

Layer: model (beside :mod:`pipeweaver._codec`). Imports the shape tables, the codec's
intrinsic test, the bounded loader (:mod:`pipeweaver._loader`) and errors.
:func:`pipeweaver.synth.from_cloudformation` and :func:`pipeweaver.lint` both read templates
through :func:`load_template` and :func:`declaration_of`, so a template path means the same
thing in every error.

Loading is safe: only the YAML core schema plus CloudFormation's short-form intrinsic tags
(``!Ref``, ``!Sub``, ``!GetAtt``, ...) are understood, alias expansion, nesting depth and text
size are bounded, and every other tag (``!!python/object`` and friends) is an error.

Normalisations applied when a pipeline resource becomes an API-shaped declaration (the forms
CloudFormation tolerates and CodePipeline's API does not):

* a number or boolean where the API wants a string becomes its text (``Version: 1`` ->
  ``"1"``, ``true`` -> ``"true"``); a digit string where it wants an integer becomes the
  integer (``RunOrder: '1'`` -> ``1``); ``"true"``/``"false"`` where it wants a boolean
  becomes the boolean;
* ``Configuration`` given as a JSON string is parsed; its non-string values become text
  (booleans ``"true"``/``"false"``, numbers as written, lists and objects as compact JSON);
* ``ArtifactStores`` (a list of ``{Region, ArtifactStore}``) becomes the API's map; a region
  given as an intrinsic function is keyed by its compact JSON text;
* a missing ``Name`` (CloudFormation then generates one) becomes the expression
  ``{"Ref": "AWS::NoValue"}``, which renders back as "no Name";
* ``Tags`` and ``DisableInboundStageTransitions`` become ``tags`` and ``disabled_transitions``.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from . import _loader
from ._cfn_conditions import if_leaves
from ._loader import LoadFailure, load_json, load_yaml
from ._shapes import SHAPES, check_shape, join_index, join_key, number_text
from ._wire import NO_NAME, cfn_key, is_intrinsic
from .errors import Issue, LoadError

if TYPE_CHECKING:
    from ._model import Expression

__all__ = [
    "MAX_ALIAS_NODES",
    "MAX_DEPTH",
    "MAX_TEXT",
    "NO_NAME",
    "PIPELINE_TYPE",
    "TemplatePipeline",
    "api_key",
    "cfn_key",
    "declaration_of",
    "find_pipelines",
    "load_template",
    "looks_like_template",
    "region_key",
    "template_path",
]

PIPELINE_TYPE: Final = "AWS::CodePipeline::Pipeline"
#: Largest template text accepted, in characters (see :data:`pipeweaver._loader.MAX_TEXT`).
MAX_TEXT: Final = _loader.MAX_TEXT
#: Deepest nesting of mappings and lists accepted.
MAX_DEPTH: Final = _loader.MAX_DEPTH
#: Most nodes a document may stand for once YAML aliases are followed.
MAX_ALIAS_NODES: Final = _loader.MAX_NODES

_EXTRAS = ("Tags", "DisableInboundStageTransitions", "RestartExecutionOnUpdate")


def _issue(path: str, message: str, hint: str | None = None, code: str = "PW000") -> Issue:
    return Issue(code=code, severity="error", path=path, message=message, hint=hint)


# ---------------------------------------------------------------------------------------------
# safe loading (the bounded loader of :mod:`pipeweaver._loader`)


class _Hostile(Exception):
    pass


def _check_depth(data: Any) -> None:
    # A mapping passed in may share sub-objects (a YAML document parsed with plain aliases): a
    # container already checked at this depth or deeper needs no second visit, which keeps
    # a "billion laughs" structure linear here instead of exponential.
    deepest: dict[int, int] = {}
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _Hostile(f"nesting deeper than {MAX_DEPTH} levels")
        if isinstance(value, Mapping | list):
            if deepest.get(id(value), 0) >= depth:
                continue
            deepest[id(value)] = depth
        if isinstance(value, Mapping):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


def _parse_json_or_yaml(text: str) -> Any:
    if not text.lstrip().startswith("{"):
        return load_yaml(text, cloudformation=True)
    try:
        return load_json(text)
    except LoadFailure as exc:
        if exc.unsafe:
            raise
        # A YAML flow mapping also starts with "{"; if it is not YAML either, the JSON error
        # is the one that helps.
        try:
            return load_yaml(text, cloudformation=True)
        except LoadFailure:
            pass
        raise exc from None


def load_template(source: str | bytes | Mapping[str, Any]) -> dict[str, Any]:
    """
    Parse a CloudFormation template given as JSON or YAML text, or pass a mapping through.

    Raises:
        LoadError: for text that is not JSON/YAML, uses a tag other than CloudFormation's
            short-form intrinsics, nests too deeply, expands too far through aliases, or is
            not a mapping.
    """
    if isinstance(source, Mapping):
        data: Any = source
    elif not isinstance(source, str | bytes):
        # e.g. a parsed JSON/YAML document that is a list: one LoadError, not an AttributeError
        raise LoadError(
            "the template is not a mapping",
            [_issue("", f"the template is a {type(source).__name__}, not a mapping or JSON/YAML text")],
        )
    else:
        text = source.decode("utf-8", errors="replace") if isinstance(source, bytes) else source
        if len(text) > MAX_TEXT:
            raise LoadError(
                "the template is too large",
                [_issue("", f"{len(text)} characters; at most {MAX_TEXT} are read", "split the template")],
            )
        try:
            data = _parse_json_or_yaml(text)
        except LoadFailure as exc:
            if exc.unsafe:
                raise LoadError("the template was rejected as unsafe", [_issue("", str(exc), exc.hint)]) from None
            what = "JSON" if text.lstrip().startswith("{") else "CloudFormation YAML"
            raise LoadError(f"the template is not valid {what}", [_issue("", str(exc), exc.hint)]) from None
    try:
        _check_depth(data)
    except _Hostile as exc:
        raise LoadError("the template was rejected as unsafe", [_issue("", str(exc))]) from None
    if not isinstance(data, Mapping):
        raise LoadError(
            "the template is not a mapping", [_issue("", f"the document is a {type(data).__name__}, not a mapping")]
        )
    return dict(data)


def looks_like_template(data: object) -> bool:
    """Whether *data* is a template (has ``Resources`` or a template version) rather than API JSON."""
    return isinstance(data, Mapping) and ("Resources" in data or "AWSTemplateFormatVersion" in data)


def find_pipelines(template: Mapping[str, Any]) -> list[str]:
    """Logical ids of the ``AWS::CodePipeline::Pipeline`` resources, in template order."""
    resources = template.get("Resources")
    if not isinstance(resources, Mapping):
        return []
    return [k for k, v in resources.items() if isinstance(v, Mapping) and v.get("Type") == PIPELINE_TYPE]


# ---------------------------------------------------------------------------------------------
# key case


def api_key(key: str) -> str:
    """The API spelling of a CloudFormation property name (``RunOrder`` -> ``runOrder``)."""
    return key[:1].lower() + key[1:]


def region_key(region: Any) -> str:
    """The ``artifactStores`` map key for a CloudFormation ``Region`` (intrinsics as compact JSON)."""
    if isinstance(region, str):
        return region
    try:
        return json.dumps(region, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):  # keys JSON cannot hold, integers too long to print
        return f"<{type(region).__name__} {id(region):x}>"


# ---------------------------------------------------------------------------------------------
# template -> API-shaped declaration


def _text_of(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        text = number_text(value)
        # an integer too long to print stays a number: the shape check reports it where text belongs
        return value if text.startswith("a ") else text
    return value


def _config_value(value: Any) -> Any:
    if isinstance(value, str) or is_intrinsic(value):
        return value
    if isinstance(value, bool | int | float):
        return _text_of(value)
    if isinstance(value, list | Mapping):
        try:
            return json.dumps(value, separators=(",", ":"))
        except (TypeError, ValueError):  # keys JSON cannot hold, integers too long to print
            return value
    return value


_A_SHAPE = {"structure": "an object", "list": "a list", "map": "a mapping"}
#: Shape kinds where an intrinsic function is kept (a ``Ref`` to a ``Number`` parameter in ``RunOrder``).
_NUMBERS = ("integer", "long")


#: Enum shapes whose value the model keeps as an ``Fn::If`` between members (see ``Pipeline.pipeline_type``).
_CHOSEN = ("PipelineType",)


def _chooses_between(value: Any, members: list[str]) -> bool:
    """Whether *value* is an ``Fn::If`` (nested ones too) whose branches are each a member or ``AWS::NoValue``."""
    leaves = if_leaves(value)
    return leaves is not None and all(leaf in members or leaf == {"Ref": "AWS::NoValue"} for leaf in leaves)


def _convert(value: Any, shape_name: str, tpath: str, issues: list[Issue]) -> Any:
    """Turn a CloudFormation value into the API's spelling, guided by the API shape."""
    shape = SHAPES[shape_name]
    kind = shape["type"]
    if is_intrinsic(value):
        if shape_name in _CHOSEN and _chooses_between(value, shape["enum"]):
            return value  # PipelineType: !If [IsProd, V2, V1], kept (pipeweaver._branches chooses it)
        if (kind != "string" and kind not in _NUMBERS) or "enum" in shape:
            function = next(iter(value))
            what = f"one of {', '.join(shape['enum'])}" if "enum" in shape else _A_SHAPE.get(kind, f"a {kind}")
            if function == "Fn::If":
                condition = value[function][0] if isinstance(value[function], list) and value[function] else "?"
                issues.append(
                    _issue(
                        tpath,
                        f"an intrinsic function (Fn::If on condition {condition}) stands where {what} "
                        f"({shape_name}) belongs; a model holds one pipeline, so the branch must be chosen",
                        "import with parameter values (from_cloudformation(..., parameters={...}), CLI "
                        "--parameter NAME=VALUE) to get the pipeline they deploy; lint checks every branch",
                        "PW003",
                    )
                )
                return value
            issues.append(
                _issue(
                    tpath,
                    f"an intrinsic function ({function}) stands where {what} ({shape_name}) belongs; "
                    "pipeweaver keeps intrinsics only where free text may stand",
                    "write the value out (e.g. one template per condition), or resolve the function first",
                    "PW003",
                )
            )
        return value
    if kind == "structure":
        if not isinstance(value, Mapping):
            return value
        members: Mapping[str, str] = shape["members"]
        by_cfn = {cfn_key(m): m for m in members}
        out: dict[str, Any] = {}
        for key, item in value.items():
            member = by_cfn.get(key) if isinstance(key, str) else None
            if member is None:
                # Reported here, in CloudFormation's spelling, and left out of the declaration:
                # kept, an API-cased key ("stages") would pass for the member it spells.
                near = difflib.get_close_matches(str(key), list(by_cfn), n=1, cutoff=0.6)
                issues.append(
                    _issue(
                        join_key(tpath, str(key)),
                        f"unknown property {str(key)!r} in {shape_name}",
                        f"did you mean {near[0]!r}?" if near else f"allowed: {', '.join(sorted(by_cfn))}",
                        "PW001",
                    )
                )
                continue
            out[member] = _convert(item, members[member], join_key(tpath, key), issues)
        return out
    if kind == "list":
        if not isinstance(value, list):
            return value
        return [_convert(item, shape["member"], join_index(tpath, i), issues) for i, item in enumerate(value)]
    if kind == "map":
        if isinstance(value, str) and shape_name.endswith("ConfigurationMap"):
            try:
                parsed = load_json(value)
            except LoadFailure as exc:
                issues.append(
                    _issue(
                        tpath,
                        f"Configuration is a string that is not a JSON object ({exc})",
                        "write it as a mapping",
                        "PW003",
                    )
                )
                return {}
            if not isinstance(parsed, Mapping) or is_intrinsic(parsed):
                issues.append(
                    _issue(
                        tpath,
                        "Configuration is a string that is not a JSON object of settings"
                        + (
                            " (CloudFormation does not run a function written inside a string)"
                            if is_intrinsic(parsed)
                            else ""
                        ),
                        "write it as a mapping",
                        "PW003",
                    )
                )
                return {}
            value = parsed
        if not isinstance(value, Mapping):
            return value
        return {k: _config_value(v) for k, v in value.items()}
    if kind in ("integer", "long"):
        if isinstance(value, str) and re.fullmatch(r"[0-9]{1,9}", value.strip()):
            return int(value)
        return value
    if kind == "boolean":
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        return value
    if kind == "string":
        return _text_of(value)
    return value


class TemplatePipeline:
    """
    One pipeline resource of a template, in the API's spelling.

    Attributes:
        logical_id: The resource's logical id.
        declaration: The camelCase declaration (intrinsic functions kept as dicts).
        tags: ``Tags`` as a mapping (a key given as an intrinsic function is an :class:`~pipeweaver.Expression`).
        disabled_transitions: ``DisableInboundStageTransitions`` as stage -> reason (a stage
            given as an intrinsic function is keyed by its :class:`~pipeweaver.Expression`).
        restart_execution_on_update: ``RestartExecutionOnUpdate``, or ``None``.
        regions: ``artifactStores`` key -> index in the template's ``ArtifactStores`` list.
        issues: Structural problems, with template paths (empty when the resource is usable).
        conversion_issues: The part of *issues* that the API shape check cannot see again
            (problems of CloudFormation-only properties and forms); :func:`pipeweaver.lint`
            reports these beside its own shape check of :attr:`declaration`.
    """

    def __init__(self, logical_id: str) -> None:
        self.logical_id = logical_id
        self.declaration: dict[str, Any] = {}
        self.tags: dict[str | Expression, Any] = {}
        self.disabled_transitions: dict[str | Expression, Any] = {}
        self.restart_execution_on_update: bool | None = None
        self.regions: dict[str, int] = {}
        self.issues: list[Issue] = []
        self.conversion_issues: list[Issue] = []

    @property
    def prefix(self) -> str:
        """The template path of the resource's ``Properties``."""
        return join_key("Resources", str(self.logical_id)) + ".Properties"

    def path(self, api_path: str) -> str:
        """The template path of an API path inside this resource."""
        return template_path(api_path, self.logical_id, self.regions)


def _pick(template: Mapping[str, Any], logical_id: str | None) -> str:
    ids = find_pipelines(template)
    if logical_id is not None:
        if logical_id in ids:
            return logical_id
        raise LoadError(
            f"the template has no pipeline resource {logical_id!r}",
            [
                _issue(
                    join_key("Resources", str(logical_id)),
                    f"no {PIPELINE_TYPE} resource with this logical id",
                    f"choose one of: {', '.join(map(str, ids))}" if ids else None,
                    "PW002",
                )
            ],
        )
    if not ids:
        raise LoadError(
            "the template has no pipeline",
            [
                _issue(
                    "Resources",
                    f"no resource of type {PIPELINE_TYPE}",
                    "pass a template that defines a pipeline",
                    "PW002",
                )
            ],
        )
    if len(ids) > 1:
        raise LoadError(
            f"the template defines {len(ids)} pipelines; say which one with --logical-id ID (pipeweaver "
            "commands) or logical_id= (Python)",
            [
                _issue(
                    "Resources",
                    f"pipelines: {', '.join(map(str, ids))}",
                    f"pass --logical-id {ids[0]} or logical_id={ids[0]!r} (or another of them)",
                )
            ],
        )
    return ids[0]


def declaration_of(template: Mapping[str, Any], logical_id: str | None = None) -> TemplatePipeline:
    """
    Find a pipeline resource in *template* and convert it to an API-shaped declaration.

    Only shapes are converted (see the module docstring for the normalisations); structural
    problems end up in ``.issues`` with template paths. Rules and limits are left to
    :func:`pipeweaver.lint`.

    Raises:
        LoadError: when the template has no pipeline, several and *logical_id* is not given,
            or no pipeline called *logical_id*.
    """
    found = TemplatePipeline(_pick(template, logical_id))
    resource = template["Resources"][found.logical_id]
    props = resource.get("Properties")
    if not isinstance(props, Mapping):
        found.issues.append(
            _issue(
                found.prefix,
                "the pipeline resource has no Properties mapping",
                code="PW002",
            )
        )
        found.conversion_issues = list(found.issues)
        return found
    props = dict(props)
    extras = {k: props.pop(k) for k in _EXTRAS if k in props}
    stores = props.pop("ArtifactStores", None)
    declaration = _convert(props, "PipelineDeclaration", found.prefix, found.issues)
    if "name" not in declaration:
        declaration["name"] = dict(NO_NAME)
    if stores is not None:
        declaration["artifactStores"] = _stores(stores, found)
    found.declaration = declaration
    _extras(extras, found)
    found.conversion_issues = list(found.issues)
    shape_issues = check_shape(declaration, constraints=False, skip=is_intrinsic)
    # An intrinsic standing for a whole object is reported once above, not field by field.
    flagged = [i.path for i in found.conversion_issues if i.message.startswith("an intrinsic function")]
    for issue in shape_issues:
        where = found.path(issue.path)
        if any(where == f or where.startswith((f + ".", f + "[")) for f in flagged):
            continue
        hint = issue.hint
        if hint:
            hint = re.sub(r"'([a-z][A-Za-z]*)'", lambda m: f"'{cfn_key(m[1])}'", hint)
        found.issues.append(
            Issue(
                code=issue.code,
                severity=issue.severity,
                path=found.path(issue.path),
                message=issue.message,
                hint=hint,
            )
        )
    return found


def _stores(stores: Any, found: TemplatePipeline) -> Any:
    path = f"{found.prefix}.ArtifactStores"
    if not isinstance(stores, list):
        found.issues.append(
            _issue(
                path,
                f"ArtifactStores must be a list of {{Region, ArtifactStore}}, not {type(stores).__name__}",
                code="PW003",
            )
        )
        return {}
    out: dict[str, Any] = {}
    for i, item in enumerate(stores):
        if not isinstance(item, Mapping) or "Region" not in item or "ArtifactStore" not in item:
            found.issues.append(_issue(f"{path}[{i}]", "each item needs Region and ArtifactStore", code="PW002"))
            continue
        unknown = set(item) - {"Region", "ArtifactStore"}
        if unknown:
            found.issues.append(_issue(f"{path}[{i}]", f"unknown key(s) {sorted(unknown)}", code="PW001"))
        key = region_key(item["Region"])
        if key in out:
            found.issues.append(_issue(f"{path}[{i}].Region", f"region {key} appears twice", code="PW003"))
        found.regions[key] = i
        out[key] = _convert(item["ArtifactStore"], "ArtifactStore", f"{path}[{i}].ArtifactStore", found.issues)
    return out


def _must_be_text(value: Any, path: str, found: TemplatePipeline) -> None:
    """A list or mapping (not an intrinsic function) where CloudFormation takes text is refused."""
    if isinstance(value, list | Mapping) and not is_intrinsic(value):
        found.issues.append(
            _issue(
                path,
                f"a {'list' if isinstance(value, list) else 'mapping'} stands where text belongs; CloudFormation "
                "refuses the template",
                "write the value as a string",
                "PW003",
            )
        )


def _expression(raw: Any) -> Expression:
    """An intrinsic function that keys a mapping (a tag's key, a disabled transition's stage)."""
    # imported here: `validate` on a template lints its data without the model
    from ._model import Expression

    return Expression.of(raw)


def _extras(extras: Mapping[str, Any], found: TemplatePipeline) -> None:
    tags = extras.get("Tags")
    if tags is not None:
        if not isinstance(tags, list):
            found.issues.append(_issue(f"{found.prefix}.Tags", "Tags must be a list of {Key, Value}", code="PW003"))
        else:
            for i, tag in enumerate(tags):
                key = tag.get("Key") if isinstance(tag, Mapping) else None
                if not (isinstance(key, str) or is_intrinsic(key)):
                    found.issues.append(
                        _issue(f"{found.prefix}.Tags[{i}]", "each tag needs a string Key and a Value", code="PW002")
                    )
                    continue
                found.tags[key if isinstance(key, str) else _expression(key)] = _text_of(tag.get("Value", ""))
                _must_be_text(tag.get("Value", ""), f"{found.prefix}.Tags[{i}].Value", found)
    disabled = extras.get("DisableInboundStageTransitions")
    if disabled is not None:
        if not isinstance(disabled, list):
            found.issues.append(
                _issue(
                    f"{found.prefix}.DisableInboundStageTransitions",
                    "DisableInboundStageTransitions must be a list of {StageName, Reason}",
                    code="PW003",
                )
            )
        else:
            for i, item in enumerate(disabled):
                stage = item.get("StageName") if isinstance(item, Mapping) else None
                if not (isinstance(stage, str) or is_intrinsic(stage)) or "Reason" not in item:
                    found.issues.append(
                        _issue(
                            f"{found.prefix}.DisableInboundStageTransitions[{i}]",
                            "each item needs a StageName and a Reason",
                            code="PW002",
                        )
                    )
                    continue
                # a stage named by a function (!Sub, !Ref) is keyed by its expression
                found.disabled_transitions[stage if isinstance(stage, str) else _expression(stage)] = _text_of(
                    item["Reason"]
                )
                _must_be_text(item["Reason"], f"{found.prefix}.DisableInboundStageTransitions[{i}].Reason", found)
    restart = extras.get("RestartExecutionOnUpdate")
    if restart is not None:
        if isinstance(restart, str) and restart.lower() in ("true", "false"):
            restart = restart.lower() == "true"
        if not isinstance(restart, bool):
            found.issues.append(
                _issue(
                    f"{found.prefix}.RestartExecutionOnUpdate",
                    "RestartExecutionOnUpdate must be a boolean",
                    code="PW003",
                )
            )
        else:
            found.restart_execution_on_update = restart


# ---------------------------------------------------------------------------------------------
# paths

_TOKEN = re.compile(r'\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]')


def template_path(api_path: str, logical_id: str, regions: Mapping[str, int] | None = None) -> str:
    """
    Map a path in API spelling to the same place in a template.

    ``stages[1].actions[0].inputArtifacts[0].name`` ->
    ``Resources.Pipeline.Properties.Stages[1].Actions[0].InputArtifacts[0].Name``;
    configuration keys are kept as written and ``artifactStores["us-east-1"]`` becomes the
    matching ``ArtifactStores[i].ArtifactStore`` (*regions* gives the list index).
    """
    out = join_key("Resources", str(logical_id)) + ".Properties"
    if not api_path:
        return out
    text = api_path if api_path.startswith(("[", ".")) else "." + api_path
    shape: Mapping[str, Any] | None = SHAPES["PipelineDeclaration"]
    pos = 0
    for match in _TOKEN.finditer(text):
        if match.start() != pos:
            break
        pos = match.end()
        member, index, key = match.group(1), match.group(2), match.group(3)
        kind = shape["type"] if shape is not None else None
        if member is not None:
            if kind == "map":
                out = join_key(out, member)
                shape = SHAPES.get(shape["value"]) if shape is not None else None
            elif kind == "structure" and shape is not None and member in shape["members"]:
                if member == "artifactStores" and shape is SHAPES["PipelineDeclaration"]:
                    out += ".ArtifactStores"
                    shape = {"type": "regions"}
                    continue
                out += "." + cfn_key(member)
                shape = SHAPES.get(shape["members"][member])
            else:
                out += "." + cfn_key(member)
                shape = None
        elif index is not None:
            out += f"[{index}]"
            shape = SHAPES.get(shape["member"]) if shape is not None and kind == "list" else None
        else:
            unquoted = re.sub(r"\\(.)", r"\1", key)
            if kind == "regions":
                i = (regions or {}).get(unquoted)
                out += f"[{i}].ArtifactStore" if i is not None else f"[{json.dumps(unquoted)}].ArtifactStore"
                shape = SHAPES["ArtifactStore"]
            else:
                out = join_key(out, unquoted)
                shape = SHAPES.get(shape["value"]) if shape is not None and kind == "map" else None
    if pos != len(text):
        out += text[pos:]
    return out
