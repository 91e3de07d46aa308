"""The one bounded loader for the YAML and JSON text pipeweaver reads.

Layer: names (imports nothing of pipeweaver), so the model's template reader
(:mod:`pipeweaver._cfn`), the execution engine's buildspec and template readers and the
CLI's line maps all read YAML through :func:`load_yaml` / :func:`compose`, and JSON that
is nested inside a value (``Configuration`` given as a JSON string, ``EnvironmentVariables``)
through :func:`load_json`.

Bounded means: text longer than :data:`MAX_TEXT`, nesting deeper than :data:`MAX_DEPTH`,
documents whose YAML aliases stand for more than :data:`MAX_NODES` values (a "billion
laughs"), integers longer than :data:`MAX_DIGITS` digits and duplicate mapping keys are each
one :class:`LoadFailure` naming the line, never a hang, a 50 MB document or a
``RecursionError``. Composition is iterative (from parser events), so no input recurses.

Two schemas are offered. The default is YAML's safe core schema (what ``yaml.safe_load``
reads, minus timestamps, which stay text). ``cloudformation=True`` adds CloudFormation's
short-form intrinsic tags (``!Ref``, ``!Sub``, ``!GetAtt``, ...) and reads every plain
mapping key as its text, as CloudFormation does (``123456789012:`` is the key
``"123456789012"``, not a number). Any other tag is refused; ``!!python/...`` never runs.

The YAML half lives in :mod:`._yaml` and loads with the first YAML read (PyYAML costs several
milliseconds to import, and ``pipeweaver validate pipeline.json`` reads none); the bounds and
:class:`LoadFailure` are in :mod:`._bounds`, which both halves import.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from ._bounds import MAX_DEPTH, MAX_DIGITS, MAX_NODES, MAX_TEXT, LoadFailure, bounded_int

if TYPE_CHECKING:
    import yaml

__all__ = [
    "MAX_DEPTH",
    "MAX_DIGITS",
    "MAX_NODES",
    "MAX_TEXT",
    "LoadFailure",
    "compose",
    "json_depth",
    "load_json",
    "load_yaml",
]


# ---------------------------------------------------------------------------------------------
# JSON


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]')


def json_depth(text: str, limit: int = MAX_DEPTH) -> int:
    """
    How deeply the arrays and objects of JSON *text* nest, counting no further than *limit* + 1.

    One linear scan that skips strings; it does not check the syntax (``json.loads`` does).
    """
    depth = deepest = 0
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        elif token in ("]", "}"):
            depth -= 1
    return deepest


def load_json(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """
    Parse JSON text, refusing nesting deeper than *max_depth* and integers past :data:`MAX_DIGITS`.

    Raises:
        LoadFailure: for text that is not JSON (with line and column), nests too deeply or
            holds an integer too long to read.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if json_depth(text, max_depth) > max_depth:
        raise LoadFailure(
            f"nesting deeper than {max_depth} levels",
            hint="flatten the document; no pipeline definition nests this deeply",
            unsafe=True,
        )
    try:
        return json.loads(text, parse_int=bounded_int)
    except json.JSONDecodeError as exc:
        raise LoadFailure(exc.msg, line=exc.lineno, column=exc.colno) from None
    except RecursionError:  # unreachable after the depth scan; kept so no input can crash
        raise LoadFailure(f"nesting deeper than {max_depth} levels", unsafe=True) from None


# ---------------------------------------------------------------------------------------------
# YAML (in ._yaml, which loads PyYAML: imported on first use, so reading JSON never pays for it)


def compose(text: str, *, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> yaml.Node | None:
    """The node graph of one YAML document, within the bounds: :func:`pipeweaver._loader._yaml.compose`."""
    from ._yaml import compose as compose_yaml

    return compose_yaml(text, max_depth=max_depth, max_nodes=max_nodes)


def load_yaml(text: str, *, cloudformation: bool = False) -> Any:
    """One YAML document, within the bounds: :func:`pipeweaver._loader._yaml.load_yaml`."""
    from ._yaml import load_yaml as load

    return load(text, cloudformation=cloudformation)
