"""Template-level checks: what the pipeline resource of a CloudFormation template refers to.

Layer: model (beside :mod:`pipeweaver._cfn`). CloudFormation resolves ``Ref``, ``Fn::Sub``,
``Fn::GetAtt``, ``Fn::If`` and ``Fn::FindInMap`` before CodePipeline sees a value, and refuses a
template whose references name nothing, whose functions have the wrong arguments, or that uses
YAML aliases or merge keys. :func:`pipeweaver.lint` reports those here (codes PW801-PW805), each
at the template path of the function, so the CLI prints its template line.

A template with a ``Transform`` is processed before these references are resolved: under SAM's
transform a reference to a resource SAM generates (``MyFunctionRole`` for ``MyFunction``) is
accepted, and under any other macro nothing about resources is judged.
"""

from __future__ import annotations

import difflib
import marshal
import re
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

from ._loader import LoadFailure, compose
from ._shapes import join_index, join_key
from ._wire import DYNAMIC_REFERENCE
from .errors import Issue

if TYPE_CHECKING:
    import yaml

__all__ = ["DYNAMIC_REFERENCE", "check_references", "resolved_later", "yaml_features"]


def resolved_later(declaration: Any) -> Any:
    """*declaration* with each text holding a dynamic reference standing as the function CloudFormation resolves.

    Lint judges the text of literal values (patterns, lengths, secrets written out); a value
    CloudFormation fills in at deploy time is not literal, so it is checked as an intrinsic
    function is: for where it stands, not for what it says. Parts without one are shared with
    *declaration*, not copied.
    """

    # Lint runs this over every rendered model: the walk copies only the containers on the way
    # to a dynamic reference and hands back the rest as it was (measured: 2.5x faster at 500
    # actions than rebuilding the whole declaration), so callers must not mutate the result.
    # Most declarations hold no dynamic reference at all, and marshal (C, a fraction of the
    # walk's cost: 0.2 ms against 0.8 ms at 500 actions) says so: it writes every str as its
    # UTF-8 text, so no "{{resolve:" in its bytes means no text for the walk to change. It
    # refuses what it cannot write exactly (a str or dict subclass, an object): those are walked.
    try:
        if b"{{resolve:" not in marshal.dumps(declaration):
            return declaration
    except ValueError:
        pass

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return {"Fn::Sub": value} if "{{resolve:" in value and DYNAMIC_REFERENCE.search(value) else value
        if isinstance(value, dict):
            changed: dict[Any, Any] | None = None
            for key, item in value.items():
                if isinstance(item, str) and "{{resolve:" not in item:
                    continue
                new = walk(item)
                if new is not item:
                    if changed is None:
                        changed = dict(value)
                    changed[key] = new
            return value if changed is None else changed
        if isinstance(value, list):
            replaced: list[Any] | None = None
            for i, item in enumerate(value):
                if isinstance(item, str) and "{{resolve:" not in item:
                    continue
                new = walk(item)
                if new is not item:
                    if replaced is None:
                        replaced = list(value)
                    replaced[i] = new
            return value if replaced is None else replaced
        return value

    return walk(declaration)


PSEUDO: Final = frozenset(
    {
        "AWS::AccountId",
        "AWS::NotificationARNs",
        "AWS::NoValue",
        "AWS::Partition",
        "AWS::Region",
        "AWS::StackId",
        "AWS::StackName",
        "AWS::URLSuffix",
    }
)

#: ``Fn::GetAtt`` attributes of the resource types pipeline templates use around a pipeline
#: (CloudFormation resource reference, "Return values"); other types are not judged.
ATTRIBUTES: Final[Mapping[str, frozenset[str]]] = {
    "AWS::IAM::Role": frozenset({"Arn", "RoleId"}),
    "AWS::KMS::Key": frozenset({"Arn", "KeyId"}),
    "AWS::SNS::Topic": frozenset({"TopicArn", "TopicName"}),
    "AWS::CodeBuild::Project": frozenset({"Arn"}),
    "AWS::CodePipeline::Pipeline": frozenset({"Version"}),
    "AWS::CodeStarConnections::Connection": frozenset({"ConnectionArn", "ConnectionStatus", "OwnerAccountId"}),
    "AWS::CodeConnections::Connection": frozenset({"ConnectionArn", "ConnectionStatus", "OwnerAccountId"}),
    "AWS::S3::Bucket": frozenset(
        {"Arn", "DomainName", "DualStackDomainName", "RegionalDomainName", "WebsiteURL", "MetadataTableConfiguration"}
    ),
}


def _pair(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2


def _single(value: Any) -> bool:
    return not isinstance(value, list)


#: The fixed form of each function checked by shape: (whether an argument has it, how to say it).
_FORMS: Final[Mapping[str, tuple[Callable[[Any], bool], str]]] = {
    "Fn::Join": (_pair, "[delimiter, [values]]"),
    "Fn::Select": (_pair, "[index, [values]]"),
    "Fn::Split": (_pair, "[delimiter, text]"),
    "Fn::Cidr": (lambda value: isinstance(value, list) and len(value) == 3, "[ip block, count, cidr bits]"),
    "Fn::ImportValue": (_single, "one export name"),
    "Fn::Base64": (_single, "one value"),
    "Fn::GetAZs": (_single, "a region name (or '')"),
}
#: Functions CloudFormation knows whose arguments are not judged here (conditions, language extensions).
_OTHERS: Final = frozenset(
    {
        "Fn::Transform",
        "Fn::ToJsonString",
        "Fn::Length",
        "Fn::ForEach",
        "Fn::And",
        "Fn::Or",
        "Fn::Not",
        "Fn::Equals",
        "Fn::Contains",
        "Fn::EachMemberEquals",
        "Fn::EachMemberIn",
        "Fn::RefAll",
        "Fn::ValueOf",
        "Fn::ValueOfAll",
        "Fn::Implies",
    }
)
_SAM: Final = "AWS::Serverless"
_SUB_VARIABLE: Final = re.compile(r"\$\{([^}!][^}]*)\}")
_DOCS: Final = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html"


def _issue(code: str, path: str, message: str, hint: str, severity: str = "error") -> Issue:
    return Issue(code=code, severity=severity, path=path, message=message, hint=hint)  # type: ignore[arg-type]


class _Names:
    """What a template declares, and how much may be judged under its transforms."""

    def __init__(self, template: Mapping[str, Any]) -> None:
        def keys(section: str) -> frozenset[str]:
            value = template.get(section)
            return frozenset(k for k in value if isinstance(k, str)) if isinstance(value, Mapping) else frozenset()

        self.parameters = keys("Parameters")
        self.resources = keys("Resources")
        self.conditions = keys("Conditions")
        self.mappings = keys("Mappings")
        resources = template.get("Resources")
        self.types: dict[str, str] = {}
        if isinstance(resources, Mapping):
            for name, body in resources.items():
                if isinstance(name, str) and isinstance(body, Mapping) and isinstance(body.get("Type"), str):
                    self.types[name] = body["Type"]
        transform = template.get("Transform")
        transforms = transform if isinstance(transform, list) else [transform] if transform is not None else []
        names = [t for t in transforms if isinstance(t, str)]
        self.sam = any(t.startswith(_SAM) for t in names)
        # A macro may add resources, parameters or conditions of its own: judge nothing then.
        self.opaque = len(names) != len(transforms) or any(
            not t.startswith(_SAM) and t != "AWS::LanguageExtensions" for t in names
        )

    def resource(self, name: str) -> bool:
        if name in self.resources or self.opaque:
            return True
        # SAM names what it generates after the resource it comes from (MyFunctionRole, MyApiStage).
        return self.sam and any(name.startswith(r) for r, t in self.types.items() if t.startswith(_SAM))

    def referable(self, name: str) -> bool:
        return name in self.parameters or name in PSEUDO or self.resource(name)


def check_references(template: Mapping[str, Any], logical_id: str) -> list[Issue]:
    """Problems with what the pipeline resource *logical_id* refers to, in template paths."""
    names = _Names(template)
    resource = template.get("Resources", {}).get(logical_id)
    if not isinstance(resource, Mapping):
        return []
    where = join_key("Resources", logical_id)
    issues: list[Issue] = []
    condition = resource.get("Condition")
    if isinstance(condition, str) and condition not in names.conditions and not names.opaque:
        issues.append(_undeclared_condition(join_key(where, "Condition"), condition, names))
    for path, function, argument in _functions(resource, where):
        issues.extend(_check(path, function, argument, names))
    return issues


def _functions(value: Any, path: str) -> Iterator[tuple[str, str, Any]]:
    """Every intrinsic function call inside *value*: (its path, its name, its argument)."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        here, node = stack.pop()
        if isinstance(node, Mapping):
            if len(node) == 1:
                (key, argument), *_ = node.items()
                if isinstance(key, str) and (key == "Ref" or key.startswith("Fn::") or key == "Condition"):
                    if key != "Condition":
                        yield here, key, argument
                    stack.append((join_key(here, key), argument))
                    continue
            stack.extend((join_key(here, str(k)), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((join_index(here, i), v) for i, v in enumerate(node))


def _check(path: str, function: str, argument: Any, names: _Names) -> list[Issue]:
    at = join_key(path, function)
    if function == "Ref":
        if not isinstance(argument, str):
            return [_arity(at, function, "the name of a parameter, resource or pseudo parameter")]
        return [] if names.referable(argument) else [_undeclared(at, argument, names)]
    if function == "Fn::Sub":
        return _check_sub(at, argument, names)
    if function == "Fn::GetAtt":
        return _check_getatt(at, argument, names)
    if function == "Fn::If":
        if not (isinstance(argument, list) and len(argument) == 3):
            return [_arity(at, function, "[condition name, value if true, value if false]")]
        condition = argument[0]
        if not isinstance(condition, str):
            return [_arity(join_index(at, 0), function, "a condition name as its first item")]
        if condition in names.conditions or names.opaque:
            return []
        return [_undeclared_condition(join_index(at, 0), condition, names)]
    if function == "Fn::FindInMap":
        if not (isinstance(argument, list) and len(argument) in (3, 4)):
            return [_arity(at, function, "[map name, top-level key, second-level key]")]
        mapping = argument[0]
        if isinstance(mapping, str) and mapping not in names.mappings and not names.opaque:
            return [
                _issue(
                    "PW801",
                    join_index(at, 0),
                    f"Fn::FindInMap names the mapping {mapping!r}, which the template's Mappings do not declare",
                    _choices("declare it under Mappings", names.mappings, mapping),
                )
            ]
        return []
    if function in _FORMS:
        ok, wanted = _FORMS[function]
        return [] if ok(argument) else [_arity(at, function, wanted)]
    if function in _OTHERS or names.opaque:
        return []
    return [
        _issue(
            "PW803",
            at,
            f"{function} is not an intrinsic function CloudFormation knows",
            f"check the spelling against {_DOCS}",
        )
    ]


def _check_sub(at: str, argument: Any, names: _Names) -> list[Issue]:
    local: Mapping[str, Any]
    if isinstance(argument, str):
        text, local = argument, {}
    elif (
        isinstance(argument, list)
        and len(argument) == 2
        and isinstance(argument[0], str)
        and isinstance(argument[1], Mapping)
    ):
        text, local = argument[0], argument[1]
    else:
        return [_arity(at, "Fn::Sub", "a string, or [string, {variable: value}]")]
    issues = []
    text_at = at if isinstance(argument, str) else join_index(at, 0)
    for match in _SUB_VARIABLE.finditer(text):
        variable = match.group(1).strip()
        if variable in local:
            continue
        if "." in variable:
            resource, attribute = variable.split(".", 1)
            issues.extend(_check_getatt(text_at, [resource, attribute], names, within=f"${{{variable}}}"))
        elif not names.referable(variable):
            issues.append(_undeclared(text_at, variable, names, within=f"${{{variable}}}"))
    return issues


def _check_getatt(at: str, argument: Any, names: _Names, within: str | None = None) -> list[Issue]:
    if isinstance(argument, str) and "." in argument:
        argument = argument.split(".", 1)
    if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)):
        return [_arity(at, "Fn::GetAtt", "[resource, attribute] or 'resource.attribute'")]
    resource, attribute = argument
    what = within or "Fn::GetAtt"
    if resource in names.parameters:
        return [
            _issue(
                "PW801",
                at,
                f"{what} reads an attribute of {resource!r}, which is a parameter, not a resource",
                f"use !Ref {resource} for a parameter's value",
            )
        ]
    if not names.resource(resource):
        return [
            _issue(
                "PW801",
                at,
                f"{what} names the resource {resource!r}, which the template does not declare",
                _choices("declare the resource", names.resources, resource),
            )
        ]
    known = ATTRIBUTES.get(names.types.get(resource, ""))
    if known is None or not isinstance(attribute, str) or attribute.split(".", 1)[0] in known:
        return []
    return [
        _issue(
            "PW804",
            at,
            f"{what}: {resource!r} ({names.types[resource]}) has no attribute {attribute!r}",
            f"its attributes are {', '.join(sorted(known))}",
        )
    ]


def _undeclared(at: str, name: str, names: _Names, within: str | None = None) -> Issue:
    what = f"{within} in Fn::Sub" if within else "Ref"
    return _issue(
        "PW801",
        at,
        f"{what} names {name!r}, which is not a parameter, resource or pseudo parameter of the template",
        _choices("declare it under Parameters or Resources", names.parameters | names.resources, name),
    )


def _undeclared_condition(at: str, name: str, names: _Names) -> Issue:
    return _issue(
        "PW802",
        at,
        f"the condition {name!r} is not declared in the template's Conditions",
        _choices("declare it under Conditions", names.conditions, name),
    )


def _arity(at: str, function: str, wanted: str) -> Issue:
    return _issue("PW803", at, f"{function} takes {wanted}", f"see {_DOCS}")


def _choices(fix: str, declared: frozenset[str], name: str) -> str:
    near = difflib.get_close_matches(name, sorted(declared), n=1)
    return f"did you mean {near[0]!r}?" if near else fix


def yaml_features(text: str) -> list[Issue]:
    """YAML aliases and merge keys in *text*, which CloudFormation refuses unless the template is packaged."""
    if text.lstrip().startswith("{") or ("*" not in text and "<<" not in text):
        return []  # JSON, or YAML without an alias or merge key: nothing to compose for
    import yaml  # here: linting JSON never loads PyYAML

    try:
        root = compose(text)
    except LoadFailure:
        return []  # the template loader reports what is wrong with the text
    issues: list[Issue] = []
    seen: set[int] = set()
    stack: list[tuple[str, yaml.Node]] = [("", root)] if root is not None else []
    while stack:
        path, node = stack.pop()
        if id(node) in seen:
            # The same node reached twice: the second place is an alias of the first.
            issues.append(_packaged(path, "a YAML alias (*name)"))
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            # Children in reverse, so that the stack visits the document in order: an anchor is
            # always reached before the aliases that repeat it.
            children = []
            for key, value in node.value:
                name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
                if name == "<<":
                    issues.append(_packaged(join_key(path, "<<") if path else "<<", "a YAML merge key (<<)"))
                    continue
                children.append((join_key(path, name) if path else name, value))
            stack.extend(reversed(children))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed([(join_index(path, i), child) for i, child in enumerate(node.value)]))
    return issues


def _packaged(path: str, what: str) -> Issue:
    return _issue(
        "PW805",
        path,
        f"{what}: CloudFormation refuses YAML aliases and merge keys in a template it is given directly",
        "write the values out, or deploy through `aws cloudformation package` or SAM, which expand them first",
        severity="warning",
    )
