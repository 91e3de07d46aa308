"""Conditional elements: a stage, action, artifact, trigger, variable or tag present only when a
template condition has a value.

Layer: model (beside :mod:`pipeweaver._model`, which gives each of those elements a ``when``
attribute). A CloudFormation template may put ``Fn::If`` around a whole list item
(``- !If [IsProd, {Name: Approve, ...}, !Ref AWS::NoValue]``). Imported without parameter
values, such an item becomes the element it holds with ``when=When("IsProd")`` (``!If [C,
!Ref AWS::NoValue, B]`` gives ``B`` with ``when=When("C", False)``, and ``!If [C, A, B]`` gives
``A`` then ``B``, each with its side), and the pipeline carries the template's ``Conditions``
and the ``Parameters`` they read as :class:`TemplateConditions`, so that it can compute them.

The element types stay as they are: code that walks ``pipeline.stages`` sees every element
of every branch; :func:`pipeweaver._branches.choose` gives the pipeline one set of condition values deploys, which
is what runs and what CodePipeline JSON holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, final

import attrs

from ._public import publish
from .errors import DefinitionError

__all__ = ["TemplateConditions", "When"]


def _name(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise DefinitionError("condition", value, "must be the name of a condition of the template's Conditions")


@final
@attrs.frozen
class When:
    """
    The element holding it exists only when template condition *condition* is *value*.

    ``When("IsProd")`` is CloudFormation's ``!If [IsProd, element, !Ref AWS::NoValue]``;
    ``When("IsProd", False)`` (or ``~When("IsProd")``) is ``!If [IsProd, !Ref AWS::NoValue,
    element]``. Two neighbours with opposite values of one condition are written back as one
    ``!If [IsProd, first, second]``.

    A property chosen by ``Fn::If`` (``Configuration: !If [IsProd, {...}, {...}]``,
    ``OutputArtifacts: !If [IsProd, [...], !Ref AWS::NoValue]``, a trigger's branch filter list)
    is the same thing said inside the element: it imports as the element twice, once per
    branch, ``When("IsProd", inside="Configuration")`` then ``When("IsProd", False,
    inside="Configuration")``, and the two are written back as the one element with the
    ``Fn::If`` at that property. So lint, CodePipeline JSON and local runs treat both forms alike.

    Attributes:
        condition: A name in the template's ``Conditions`` (:class:`TemplateConditions`).
        value: The value the condition must have.
        inside: For one of two alternatives that differ only in one property, the template
            path of that property in the element (``Configuration``,
            ``GitConfiguration.Push[0].Branches.Includes``), where ``to_cloudformation`` writes
            the ``Fn::If``; ``None`` writes it around the element.
        under: For an ``Fn::If`` inside a branch of another (``!If [A, !If [B, element,
            !Ref AWS::NoValue], !Ref AWS::NoValue]`` is ``When("B", under=When("A"))``), the
            outer one: the element exists when both hold.

    .. versionadded:: 0.1.0
    """

    condition: str = attrs.field(validator=_name)
    value: bool = True
    inside: str | None = attrs.field(default=None, kw_only=True, validator=attrs.validators.optional(_name))
    under: When | None = attrs.field(default=None, kw_only=True)

    def __invert__(self) -> When:
        return When(self.condition, not self.value, inside=self.inside, under=self.under)

    def holds(self, truth: Mapping[str, bool]) -> bool:
        """Whether the element exists for the condition values *truth* (which must name the conditions)."""
        return truth[self.condition] is self.value and (self.under is None or self.under.holds(truth))

    def chain(self) -> list[When]:
        """The ``Fn::If`` functions around the element, outermost first (``under`` before this one)."""
        return [*(self.under.chain() if self.under is not None else ()), self]

    def __str__(self) -> str:
        return " and ".join(f"{w.condition} is {'true' if w.value else 'false'}" for w in self.chain())


def _mapping(value: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(value or {})


@final
@attrs.frozen(kw_only=True)
class TemplateConditions:
    """
    A template's ``Conditions`` and the ``Parameters`` they read, as plain template data.

    Carried by :attr:`pipeweaver.Pipeline.template_conditions` so that the pipeline can
    compute its conditions from parameter values (as CloudFormation does on deployment:
    ``Fn::Equals``, ``Fn::And``, ``Fn::Or``, ``Fn::Not``, ``Condition``), and written back to
    the template by :func:`pipeweaver.synth.to_cloudformation`.

    Attributes:
        conditions: Condition name -> its definition, e.g.
            ``{"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}}``.
        parameters: Parameter name -> its declaration (``Type``, ``Default``, ``AllowedValues``).

    .. versionadded:: 0.1.0
    """

    conditions: Mapping[str, Any] = attrs.field(factory=dict, converter=_mapping, hash=False)
    parameters: Mapping[str, Any] = attrs.field(factory=dict, converter=_mapping, hash=False)

    @property
    def template(self) -> dict[str, Any]:
        """The two sections as a template fragment (what :mod:`pipeweaver._cfn_conditions` reads)."""
        return {"Parameters": dict(self.parameters), "Conditions": dict(self.conditions)}

    def evaluate(self, names: list[str], values: Mapping[str, str] | None = None) -> dict[str, bool]:
        """
        The values of conditions *names* for parameter *values* (each parameter's ``Default`` fills in).

        Raises:
            ConditionUnknown: naming the condition that cannot be computed and why (the
                parameter without a value, an undeclared condition).
        """
        # imported here: the model (which loads this module) needs no condition evaluation to load
        from ._cfn_conditions import evaluate

        return evaluate(self.template, names, values)


publish(globals(), __all__, "pipeweaver")
