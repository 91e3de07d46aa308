"""Facts of the wire formats that need no model: the get-pipeline envelope, CloudFormation's
intrinsic functions and its member casing.

Layer: names (imports nothing of pipeweaver). The codec (:mod:`pipeweaver._codec`), the template
reader (:mod:`pipeweaver._cfn`) and lint's JSON path use them; keeping them apart from the codec
lets ``lint`` judge API JSON, and ``pipeweaver validate pipeline.json`` run, without loading the
model, whose attrs classes are the largest part of a cold start.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

__all__ = ["DYNAMIC_REFERENCE", "NO_NAME", "SECRET_REFERENCE", "cfn_key", "is_intrinsic", "unwrap"]

#: A CloudFormation dynamic reference (``{{resolve:ssm:/name}}``, ``ssm-secure``, ``secretsmanager``),
#: which CloudFormation replaces before CodePipeline sees the value: text that is not the value.
DYNAMIC_REFERENCE: Final = re.compile(r"\{\{resolve:(?:ssm|ssm-secure|secretsmanager):[^}]+\}\}")

#: A dynamic reference to a secret (``ssm-secure``, ``secretsmanager``): what it resolves to is a
#: secret, so the text that names it is treated as one (masked wherever values are shown).
SECRET_REFERENCE: Final = re.compile(r"\{\{resolve:(?:ssm-secure|secretsmanager):[^}]+\}\}")

_INTRINSICS = frozenset(
    {
        "Ref",
        "Condition",
        "Fn::Base64",
        "Fn::Cidr",
        "Fn::FindInMap",
        "Fn::GetAtt",
        "Fn::GetAZs",
        "Fn::If",
        "Fn::ImportValue",
        "Fn::Join",
        "Fn::Length",
        "Fn::Select",
        "Fn::Split",
        "Fn::Sub",
        "Fn::ToJsonString",
        "Fn::Transform",
        "Fn::And",
        "Fn::Equals",
        "Fn::Not",
        "Fn::Or",
    }
)


def is_intrinsic(value: object) -> bool:
    """Whether *value* is a CloudFormation intrinsic function (a one-key ``Ref``/``Fn::`` map)."""
    if type(value) is str:  # most values: a plain string is never a function
        return False
    return isinstance(value, Mapping) and len(value) == 1 and next(iter(value)) in _INTRINSICS


#: What a template pipeline without ``Name`` holds as its name (CloudFormation then generates one).
NO_NAME: Final = {"Ref": "AWS::NoValue"}


def cfn_key(member: str) -> str:
    """The CloudFormation spelling of an API member name (``runOrder`` -> ``RunOrder``)."""
    return member[:1].upper() + member[1:]


def unwrap(data: object) -> tuple[object, str]:
    """
    Return the declaration inside *data* and the path prefix it sits under.

    Accepts the bare declaration or the ``{"pipeline": ..., "metadata": ...}`` envelope that
    ``get-pipeline`` prints (and the ``{"pipeline": ..., "tags": ...}`` create-pipeline input).
    """
    if isinstance(data, Mapping) and "pipeline" in data and set(data) <= {"pipeline", "metadata", "tags"}:
        return data["pipeline"], ""
    return data, ""
