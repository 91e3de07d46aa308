"""Template conditions: evaluate a template's ``Conditions`` and choose ``Fn::If`` branches.

Layer: model (beside :mod:`pipeweaver._cfn`). CloudFormation evaluates each condition of a
template from its parameters (``Fn::Equals``, ``Fn::And``, ``Fn::Or``, ``Fn::Not`` and
``{"Condition": name}``), then replaces every ``Fn::If`` by the branch it names and drops
every ``{"Ref": "AWS::NoValue"}`` (a property, a list item) before the resource exists.
This module does the same to a pipeline resource's ``Properties``, so that

* :func:`pipeweaver.lint` checks the pipeline once for each combination of condition values
  that can occur (:func:`combinations`) and reports where each issue holds
  (:func:`describe`);
* :func:`pipeweaver.synth.from_cloudformation` given ``parameters=`` builds the pipeline that
  those parameter values deploy (:func:`evaluate`, :func:`select`); without them it keeps each
  conditional stage, action, artifact, trigger, variable or tag (:func:`lift`), and
  :func:`pipeweaver.synth.to_cloudformation` writes them back (:func:`wrap`).

Combinations: a condition is a function of parameters. A parameter with ``AllowedValues`` takes
each of them; an ``Fn::Equals`` whose operands cannot be enumerated (a parameter without
``AllowedValues``, a pseudo parameter, another function) is a free true/false. Every
assignment of those is evaluated, so only combinations that can occur are checked (``IsProd``
and ``IsNotProd: !Not [Condition: IsProd]`` are never both true). More than :data:`MAX_COMBINATIONS`
assignments fall back to one check per value of each input, the others at their first value.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

from ._shapes import _IDENT, join_index, join_key
from ._wire import is_intrinsic

__all__ = [
    "CONDITIONAL_LISTS",
    "MAX_COMBINATIONS",
    "NO_VALUE",
    "ConditionUnknown",
    "closure",
    "combinations",
    "conditions_used",
    "describe",
    "evaluate",
    "has_fn_if",
    "if_leaves",
    "lift",
    "objects",
    "select",
    "wrap",
]

#: ``AWS::NoValue``: the property or list item is left out.
NO_VALUE: Final = {"Ref": "AWS::NoValue"}
#: Most combinations of condition values lint checks one by one (then one per value of each input).
MAX_COMBINATIONS: Final = 64

_LOGIC: Final = ("Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not")
#: Longest chain of ``{"Condition": name}`` references followed (evaluation recurses along it).
_MAX_CHAIN: Final = 100


class ConditionUnknown(Exception):
    """A condition's value cannot be computed (a parameter without value, an unknown function)."""

    def __init__(self, condition: str, reason: str) -> None:
        super().__init__(f"condition {condition!r}: {reason}")
        self.condition = condition
        self.reason = reason


def _one(value: Any) -> tuple[str, Any] | None:
    if isinstance(value, Mapping) and len(value) == 1:
        (key, argument), *_ = value.items()
        if isinstance(key, str):
            return key, argument
    return None


def has_fn_if(value: Any) -> bool:
    """Whether *value* holds an ``Fn::If`` anywhere."""
    # each container once: a parsed template may share one sub-object many times over (YAML
    # aliases), and a walk of every copy would be exponential in the nesting
    seen: set[int] = set()
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping | list):
            if id(node) in seen:
                continue
            seen.add(id(node))
        if isinstance(node, Mapping):
            if "Fn::If" in node and len(node) == 1:
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def if_leaves(raw: Any) -> list[Any] | None:
    """The values an ``Fn::If`` (and the ``Fn::If`` functions in its branches) may give, else ``None``."""
    arguments = raw.get("Fn::If") if isinstance(raw, dict) and len(raw) == 1 else None
    if not (isinstance(arguments, list) and len(arguments) == 3 and isinstance(arguments[0], str)):
        return None
    out: list[Any] = []
    for branch in arguments[1:]:
        out += if_leaves(branch) or [branch]
    return out


def conditions_used(value: Any) -> list[str]:
    """The condition names the ``Fn::If`` functions inside *value* test, in first-use order."""
    found: dict[str, None] = {}
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            call = _one(node)
            if (
                call is not None
                and call[0] == "Fn::If"
                and isinstance(call[1], list)
                and call[1]
                and isinstance(call[1][0], str)
            ):
                found.setdefault(call[1][0])
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(reversed(node))
    return list(found)


# ---------------------------------------------------------------------------------------------
# evaluation


def _scalar(value: Any) -> str | None:
    """A literal operand of ``Fn::Equals`` as the text CloudFormation compares, else ``None``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _section(template: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = template.get(name)
    return value if isinstance(value, Mapping) else {}


def parameter_values(template: Mapping[str, Any], given: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Each parameter's value: the one *given*, else its ``Default`` (as CloudFormation passes it, as text)."""
    out: dict[str, str] = {}
    for name, spec in _section(template, "Parameters").items():
        default = spec.get("Default") if isinstance(spec, Mapping) else None
        text = _scalar(default)
        if text is not None and isinstance(name, str):
            out[name] = text
    for name, value in (given or {}).items():
        out[name] = str(value)
    return out


class _Evaluator:
    """Conditions of one template, evaluated once each for one set of parameter values."""

    def __init__(self, template: Mapping[str, Any], operand: Any) -> None:
        self.conditions = _section(template, "Conditions")
        self.parameters = _section(template, "Parameters")
        #: (condition, Fn::Equals operand) -> its text; raises ConditionUnknown when it has none.
        self.operand = operand
        self.memo: dict[str, bool] = {}
        self.active: list[str] = []

    def condition(self, name: str) -> bool:
        if name in self.memo:
            return self.memo[name]
        if name not in self.conditions:
            raise ConditionUnknown(name, "the template's Conditions do not declare it")
        if name in self.active:
            raise ConditionUnknown(name, f"it refers to itself ({' -> '.join([*self.active, name])})")
        if len(self.active) >= _MAX_CHAIN:
            raise ConditionUnknown(name, f"conditions refer to conditions more than {_MAX_CHAIN} deep")
        self.active.append(name)
        try:
            value = self.value(name, self.conditions[name])
        finally:
            self.active.pop()
        self.memo[name] = value
        return value

    def value(self, name: str, node: Any) -> bool:
        if isinstance(node, bool):
            return node
        call = _one(node)
        if call is None:
            raise ConditionUnknown(name, f"{json.dumps(node, default=str)[:80]} is not a condition function")
        function, argument = call
        if function == "Condition" and isinstance(argument, str):
            return self.condition(argument)
        if function == "Fn::Not" and isinstance(argument, list) and len(argument) == 1:
            return not self.value(name, argument[0])
        if function in ("Fn::And", "Fn::Or") and isinstance(argument, list) and argument:
            values = [self.value(name, item) for item in argument]
            return all(values) if function == "Fn::And" else any(values)
        if function == "Fn::Equals" and isinstance(argument, list) and len(argument) == 2:
            left, right = (self.operand(name, item, node) for item in argument)
            return bool(left == right)
        raise ConditionUnknown(name, f"{function} with these arguments is not a condition CloudFormation evaluates")


def evaluate(
    template: Mapping[str, Any], names: Sequence[str], values: Mapping[str, Any] | None = None
) -> dict[str, bool]:
    """
    The values of the conditions *names* for parameter *values* (defaults fill in the rest).

    ``values`` may also give pseudo parameters (``{"AWS::Region": "eu-west-1"}``).

    Raises:
        ConditionUnknown: naming the condition whose value cannot be computed, and why.
    """
    known = parameter_values(template, values)

    def operand(condition: str, item: Any, _equals: Any) -> str:
        text = _scalar(item)
        if text is not None:
            return text
        call = _one(item)
        if call is not None and call[0] == "Ref" and isinstance(call[1], str):
            if call[1] in known:
                return known[call[1]]
            raise ConditionUnknown(condition, f"parameter {call[1]} has no value (and no Default); give one")
        raise ConditionUnknown(condition, f"cannot compute {json.dumps(item, default=str)[:80]} offline")

    evaluator = _Evaluator(template, operand)
    return {name: evaluator.condition(name) for name in names}


# ---------------------------------------------------------------------------------------------
# combinations


def _equals_atoms(template: Mapping[str, Any], names: Sequence[str]) -> tuple[dict[str, list[str]], list[str]]:
    """
    What the conditions *names* depend on: enumerable parameters (name -> AllowedValues) and
    the free ``Fn::Equals`` atoms (their compact JSON), in first-use order.
    """
    conditions = _section(template, "Conditions")
    parameters = _section(template, "Parameters")
    enumerable: dict[str, list[str]] = {}
    atoms: dict[str, None] = {}
    seen: set[str] = set()
    stack: list[Any] = [{"Condition": n} for n in reversed(names)]
    while stack:
        node = stack.pop()
        call = _one(node)
        if call is None:
            continue
        function, argument = call
        if function == "Condition" and isinstance(argument, str):
            if argument not in seen:
                seen.add(argument)
                stack.append(conditions.get(argument))
        elif function == "Fn::Equals" and isinstance(argument, list):
            free = False
            for item in argument:
                ref = _one(item)
                if _scalar(item) is not None:
                    continue
                if ref is not None and ref[0] == "Ref" and isinstance(ref[1], str):
                    spec = parameters.get(ref[1])
                    allowed = spec.get("AllowedValues") if isinstance(spec, Mapping) else None
                    if isinstance(allowed, list) and allowed and all(_scalar(a) is not None for a in allowed):
                        enumerable.setdefault(ref[1], [str(_scalar(a)) for a in allowed])
                        continue
                free = True
            if free:
                atoms.setdefault(json.dumps(node, sort_keys=True, default=str))
        elif function in _LOGIC and isinstance(argument, list):
            stack.extend(reversed(argument))
    return enumerable, list(atoms)


def combinations(template: Mapping[str, Any], names: Sequence[str]) -> list[dict[str, bool]]:
    """
    The distinct combinations of values of the conditions *names* that can occur, in a stable order.

    A condition whose value cannot be computed even so (undeclared, circular, an unknown
    function) is taken as free true/false.
    """
    if not names:
        return [{}]
    enumerable, atoms = _equals_atoms(template, names)
    inputs: list[tuple[str, list[Any]]] = [(p, values) for p, values in enumerable.items()]
    inputs += [(atom, [False, True]) for atom in atoms]
    total = 1
    for _, values in inputs:
        total *= len(values)
    assignments: Iterator[tuple[Any, ...]]
    if total <= MAX_COMBINATIONS:
        assignments = itertools.product(*(values for _, values in inputs))
    else:
        assignments = _one_at_a_time([values for _, values in inputs])
    out: list[dict[str, bool]] = []
    free: set[str] = set()
    for assignment in assignments:
        chosen = dict(zip((key for key, _ in inputs), assignment, strict=True))
        params = {k: v for k, v in chosen.items() if k in enumerable}

        def operand(
            condition: str, item: Any, equals: Any, chosen: dict[str, Any] = chosen, params: dict[str, Any] = params
        ) -> Any:
            key = json.dumps(equals, sort_keys=True, default=str)
            if key in chosen:
                # a free atom: its operands are equal exactly when the assignment says so
                return True if chosen[key] else id(item)
            text = _scalar(item)
            if text is not None:
                return text
            call = _one(item)
            if call is not None and call[0] == "Ref" and call[1] in params:
                return params[call[1]]
            raise ConditionUnknown(condition, "cannot be enumerated")

        evaluator = _Evaluator(template, operand)
        combo: dict[str, bool] = {}
        for name in names:
            try:
                combo[name] = evaluator.condition(name)
            except ConditionUnknown:
                # undeclared, circular or not computable: CloudFormation or lint says why; here
                # it is free to be either
                combo[name] = False
                free.add(name)
        if combo not in out:
            out.append(combo)
    for name in names:
        if name in free:
            out += [c for c in ({**c, name: True} for c in list(out)) if c not in out]
    return out


def _one_at_a_time(choices: list[list[Any]]) -> Iterator[tuple[Any, ...]]:
    base = tuple(values[0] for values in choices)
    yield base
    for i, values in enumerate(choices):
        for value in values[1:]:
            yield (*base[:i], value, *base[i + 1 :])


def describe(holds: Sequence[dict[str, bool]], every: Sequence[dict[str, bool]]) -> str:
    """
    Words for the combinations *holds* among *every* one: ``IsProd is false``, or the
    combinations spelt out (``IsProd is true and UseGitHub is false, or ...``).
    """
    if not holds:
        return ""
    names = list(every[0])
    for name in names:
        for value in (True, False):
            if [c for c in every if c[name] is value] == list(holds):
                return f"{name} is {'true' if value else 'false'}"
    return ", or ".join(" and ".join(f"{n} is {'true' if c[n] else 'false'}" for n in names) for c in holds)


# ---------------------------------------------------------------------------------------------
# branch selection


def select(value: Any, truth: Mapping[str, bool], path: str = "") -> tuple[Any, dict[str, str]]:
    """
    *value* as CloudFormation leaves it for condition values *truth*, and where each part came from.

    Every ``Fn::If`` whose condition is in *truth* becomes the branch it names; a branch that
    is ``AWS::NoValue`` removes the property or list item. Returns the new value and a map
    from paths in it (under *path*) to the path of the same part in *value*, at each place
    where they part (a chosen branch, a list item after a removed one): :func:`relocate`
    maps any path through it.
    """
    moved: dict[str, str] = {}
    out = _select(value, truth, path, path, moved)
    return (None if out is _GONE else out), moved


_GONE: Final = object()


def _select(value: Any, truth: Mapping[str, bool], new: str, old: str, moved: dict[str, str]) -> Any:
    call = _one(value)
    if call is not None and call[0] == "Fn::If":
        argument = call[1]
        if isinstance(argument, list) and len(argument) == 3 and argument[0] in truth:
            branch = 1 if truth[argument[0]] else 2
            old = join_index(join_key(old, "Fn::If"), branch)
            moved[new] = old  # the parts inside follow from here (see relocate)
            out = _select(argument[branch], truth, new, old, moved)
            if out is _GONE:
                moved.pop(new, None)
            return out
    if value == NO_VALUE:
        return _GONE
    return _select_children(value, truth, new, old, moved)


def _select_children(value: Any, truth: Mapping[str, bool], new: str, old: str, moved: dict[str, str]) -> Any:
    if isinstance(value, Mapping):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            k = str(key)
            chosen = _select(item, truth, join_key(new, k), join_key(old, k), moved)
            if chosen is not _GONE:
                out[key] = chosen
        return out
    if isinstance(value, list):
        items: list[Any] = []
        for i, item in enumerate(value):
            here = join_index(new, len(items))
            if len(items) != i:  # an item before this one was removed
                moved[here] = join_index(old, i)
            chosen = _select(item, truth, here, join_index(old, i), moved)
            if chosen is not _GONE:
                items.append(chosen)
        return items
    return value


def relocate(path: str, moved: Mapping[str, str]) -> str:
    """*path* (in a value :func:`select` returned) as the path of the same part in the original."""
    if not moved:
        return path
    cut = len(path)
    while cut > 0:
        head = path[:cut]
        if head in moved and (cut == len(path) or path[cut] in ".["):
            return moved[head] + path[cut:]
        cut = max(path.rfind(".", 0, cut), path.rfind("[", 0, cut))
    return path


# ---------------------------------------------------------------------------------------------
# conditional list items, kept (import without parameter values) and written back

#: The lists of a pipeline's ``Properties`` whose items may be conditional, by their parent:
#: ``()`` the properties themselves, ``("Stages",)`` a stage, ``("Stages", "Actions")`` an action.
CONDITIONAL_LISTS: Final = {
    (): ("Stages", "Triggers", "Variables", "Tags", "DisableInboundStageTransitions"),
    ("Stages",): ("Actions",),
    ("Stages", "Actions"): ("InputArtifacts", "OutputArtifacts"),
}

#: The lists of :data:`CONDITIONAL_LISTS` that the model holds as maps, with their key.
_KEYED: Final = {"Tags": "Key", "DisableInboundStageTransitions": "StageName"}

#: Where a kept item sits: the list names and indexes down to it, ``("Stages", 2, "Actions", 0)``.
Place = tuple[str | int, ...]
#: The condition a kept item needs and its value, and for an item whose property was chosen
#: by ``Fn::If``, that property's template path in the item: ``("C", True)``, ``("C", False, "Configuration")``.
Side = tuple[str, bool] | tuple[str, bool, str]
#: The ``Fn::If`` functions around a kept item, outermost first (one for most items).
Chain = tuple[Side, ...]


def _branches(item: Any) -> list[tuple[Any, Chain]] | None:
    """
    The objects of an ``Fn::If`` list item with the condition values each needs (outermost
    first: ``!If [A, !If [B, X, !Ref AWS::NoValue], Y]`` gives X with ``(A, True), (B,
    True)`` and Y with ``(A, False)``), else ``None``.
    """
    call = _one(item)
    if call is None or call[0] != "Fn::If":
        return None
    argument = call[1]
    if not (isinstance(argument, list) and len(argument) == 3 and isinstance(argument[0], str)):
        return None
    out: list[tuple[Any, Chain]] = []
    for branch, value in ((argument[1], True), (argument[2], False)):
        side: Side = (argument[0], value)
        if branch == NO_VALUE:
            continue
        inner = _branches(branch) if _is_if(branch) else None
        if inner is not None:
            out += [(b, (side, *chain)) for b, chain in inner]
        elif isinstance(branch, Mapping) and not is_intrinsic(branch):
            out.append((branch, (side,)))
        else:  # another function, a nested Fn::If of another form: stays as written
            return None
    return out or None


def _inside(item: Mapping[str, Any], children: Sequence[str]) -> tuple[str, Any] | None:
    """
    The one ``Fn::If`` in *item* that chooses a whole object or list (its template path in
    *item* and the function), else ``None``.

    Not looked for: inside the *children* lists (their items are elements of their own), inside
    ``Configuration`` (whose values are text, an ``Fn::If`` there an expression) and inside
    branches. An item with two such functions is left as written (its import refuses them).
    """
    found: list[tuple[str, Any]] = []

    def look(node: Any, path: str, top: bool) -> None:
        call = _one(node)
        if call is not None and call[0] == "Fn::If":
            argument = call[1]
            if (
                isinstance(argument, list)
                and len(argument) == 3
                and isinstance(argument[0], str)
                and not top
                and any(isinstance(b, list) or (isinstance(b, Mapping) and not is_intrinsic(b)) for b in argument[1:])
                and all(b == NO_VALUE or not is_intrinsic(b) for b in argument[1:])
            ):
                found.append((path, node))
            return
        if isinstance(node, Mapping) and not is_intrinsic(node):
            for key, value in node.items():
                if not (isinstance(key, str) and _IDENT.fullmatch(key)):
                    continue
                if top and key in children and isinstance(value, list):
                    continue  # the items are elements of their own
                if key == "Configuration" and not _is_if(value):
                    continue  # text values: an Fn::If there is an expression
                look(value, join_key(path, key), False)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                look(value, join_index(path, i), False)

    look(item, "", True)
    return found[0] if len(found) == 1 else None


def _is_if(value: Any) -> bool:
    call = _one(value)
    return call is not None and call[0] == "Fn::If"


_STEP: Final = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def _steps(path: str) -> list[str | int]:
    return [key if key else int(index) for key, index in _STEP.findall(path)]


def _at(value: Any, path: str) -> Any:
    """The part of *value* at template *path* (as :func:`_inside` gives it), or :data:`NO_VALUE`."""
    for step in _steps(path):
        if isinstance(step, int):
            if not (isinstance(value, list) and step < len(value)):
                return NO_VALUE
        elif not (isinstance(value, Mapping) and step in value):
            return NO_VALUE
        value = value[step]
    return value


def _put(value: Any, path: str, part: Any) -> Any:
    """A copy of *value* with *part* at *path* (:data:`NO_VALUE` removes the property)."""
    steps = _steps(path)

    def put(node: Any, rest: list[str | int]) -> Any:
        step, *more = rest
        if isinstance(node, list) and isinstance(step, int):
            out_list = list(node)
            out_list[step] = put(node[step], more) if more else part
            return out_list
        out = dict(node)
        if more:
            out[step] = put(node[step], more)
        elif part == NO_VALUE:
            out.pop(step, None)
        else:
            out[step] = part
        return out

    return put(value, steps)


def lift(properties: Mapping[str, Any]) -> tuple[dict[str, Any], dict[Place, Chain]]:
    """
    *properties* with each conditional list item replaced by the objects it may hold.

    ``- !If [C, A, B]`` becomes ``A`` then ``B``, ``- !If [C, A, !Ref AWS::NoValue]`` becomes
    ``A`` (and ``!If [C, !Ref AWS::NoValue, B]`` ``B``), in the lists of
    :data:`CONDITIONAL_LISTS`; the map says, for the place of each such object in the result,
    the condition and the value it needs. An item (not itself conditional) with one property
    chosen by ``Fn::If`` between objects or lists (``Configuration: !If [C, {...}, {...}]``,
    ``OutputArtifacts: !If [C, [...], !Ref AWS::NoValue]``) becomes the item with each branch,
    and the map adds the property's path in the item: ``(C, True, "Configuration")``. Two tags
    of one key (``!If [C, {Key: k, ...}, {Key: k, ...}]``) and other forms are left as written
    (the import refuses them, naming the condition).
    """
    places: dict[Place, Chain] = {}

    def walk(node: Mapping[str, Any], kind: tuple[str, ...], place: Place) -> dict[str, Any]:
        out = dict(node)
        for name in CONDITIONAL_LISTS.get(kind, ()):
            items = node.get(name)
            if not isinstance(items, list):
                continue
            kept: list[Any] = []
            for item in items:
                branches: list[tuple[Any, Chain | None]] | None = list(_branches(item) or ()) or None
                # one key in both branches: the model's tags (and transitions) hold one value per key
                key = _KEYED.get(name)
                if branches is not None and key and len({str(b.get(key)) for b, _ in branches}) == 1 < len(branches):
                    branches = None
                if branches is None and isinstance(item, Mapping) and not key:
                    found = _inside(item, CONDITIONAL_LISTS.get((*kind, name), ()))
                    if found is not None:
                        path, (condition, yes, no) = found[0], found[1]["Fn::If"]
                        branches = [(_put(item, path, yes), ((condition, True, path),))]
                        branches.append((_put(item, path, no), ((condition, False, path),)))
                for branch, side in branches if branches is not None else [(item, None)]:
                    here = (*place, name, len(kept))
                    if side is not None:
                        places[here] = side
                    kept.append(walk(branch, (*kind, name), here) if isinstance(branch, Mapping) else branch)
            out[name] = kept
        return out

    return walk(properties, (), ()), places


def wrap(items: Sequence[Any], chains: Sequence[Chain | None]) -> list[Any]:
    """
    The inverse of :func:`lift` for one list: each item with a condition becomes an ``Fn::If``
    item (``Fn::If`` inside ``Fn::If`` for a chain), two neighbours with opposite values of one
    condition one ``!If [C, A, B]``, and when both name the property they differ in, the one
    item with ``Fn::If`` at that property.
    """
    out: list[Any] = []
    i = 0
    while i < len(items):
        item, used = _unit(items, [c or () for c in chains], i)
        out.append(item)
        i += used
    return out


def _unit(items: Sequence[Any], chains: Sequence[Chain], i: int) -> tuple[Any, int]:
    """The template item the items from *i* on make (one ``Fn::If`` with its branches), and how many it took."""
    if not chains[i]:
        return items[i], 1
    condition, value = chains[i][0][0], chains[i][0][1]
    first, used = _side(items, chains, i, (condition, value))
    if not value:
        return {"Fn::If": [condition, NO_VALUE, first]}, used
    k = i + used
    if not (k < len(items) and chains[k] and chains[k][0][:2] == (condition, False)):
        return {"Fn::If": [condition, first, NO_VALUE]}, used
    second, more = _side(items, chains, k, (condition, False))
    head = chains[i][0]
    path = head[2] if len(chains[i]) == 1 and len(head) == 3 else None
    if (
        path is not None
        and chains[k] == ((condition, False, path),)
        and _put(first, path, NO_VALUE) == _put(second, path, NO_VALUE)
    ):
        return _put(first, path, {"Fn::If": [condition, _at(first, path), _at(second, path)]}), used + more
    return {"Fn::If": [condition, first, second]}, used + more


def _side(items: Sequence[Any], chains: Sequence[Chain], i: int, head: tuple[str, bool]) -> tuple[Any, int]:
    """One branch of the ``Fn::If`` *head*: the item at *i*, or the ``Fn::If`` the next items make inside it."""
    if len(chains[i]) == 1:
        return items[i], 1
    end = i
    while end < len(items) and chains[end] and chains[end][0][:2] == head:
        end += 1
    return _unit(items[i:end], [c[1:] for c in chains[i:end]], 0)


def objects(items: Any) -> Iterator[Any]:
    """The objects a template list may hold: its items, and both branches of an ``Fn::If`` item."""
    for item in items if isinstance(items, list) else ():
        if type(item) is dict and "Fn::If" not in item:  # most items: read on every template written
            yield item
            continue
        branches = _branches(item)
        if branches is None:
            yield item
        else:
            yield from (branch for branch, _ in branches)


def closure(template: Mapping[str, Any], names: Sequence[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The conditions *names* and those they refer to, and the parameters they read, as declared in *template*."""
    conditions, parameters = _section(template, "Conditions"), _section(template, "Parameters")
    kept: dict[str, Any] = {}
    read: dict[str, Any] = {}
    todo = list(names)
    while todo:
        name = todo.pop(0)
        if name in kept or name not in conditions:
            continue
        kept[name] = conditions[name]
        stack = [conditions[name]]
        while stack:
            node = stack.pop()
            call = _one(node)
            if call is not None and call[0] == "Condition" and isinstance(call[1], str):
                todo.append(call[1])
            elif call is not None and call[0] == "Ref" and isinstance(call[1], str) and call[1] in parameters:
                read[call[1]] = parameters[call[1]]
            elif isinstance(node, Mapping):
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
    order = list(conditions)
    return {n: kept[n] for n in order if n in kept}, {p: read[p] for p in parameters if p in read}
