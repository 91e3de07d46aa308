"""Regenerate ``src/pipeweaver/_shapes_data.py`` from botocore's CodePipeline service model.

The package never imports botocore at run time (DESIGN.md: boto3/botocore live under
``pipeweaver.aws`` only), so the shape constraints are frozen into a data module here and
``tests/test_shapes.py`` checks that the frozen copy still equals the installed model.

Usage: ``python tools/gen_shapes.py > src/pipeweaver/_shapes_data.py``
"""

from __future__ import annotations

import pprint
import sys
from typing import Any

ROOTS = ("PipelineDeclaration",)


def collect(roots: tuple[str, ...] = ROOTS) -> dict[str, dict[str, Any]]:
    """Walk the service model from *roots* and return every reachable shape as plain data."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("codepipeline")
    out: dict[str, dict[str, Any]] = {}

    def walk(name: str) -> None:
        if name in out:
            return
        shape = model.shape_for(name)
        entry: dict[str, Any] = {"type": shape.type_name}
        for key in ("min", "max", "pattern", "enum"):
            if key in shape.metadata:
                entry[key] = shape.metadata[key]
        out[name] = entry
        if shape.type_name == "structure":
            entry["members"] = {m: s.name for m, s in shape.members.items()}
            entry["required"] = list(shape.required_members)
            for s in shape.members.values():
                walk(s.name)
        elif shape.type_name == "list":
            entry["member"] = shape.member.name
            walk(shape.member.name)
        elif shape.type_name == "map":
            entry["key"] = shape.key.name
            entry["value"] = shape.value.name
            walk(shape.key.name)
            walk(shape.value.name)

    for root in roots:
        walk(root)
    return out


def render() -> str:
    """Return the source text of the generated module."""
    import botocore

    head = (
        '"""Shape constraints of the CodePipeline API (generated; do not edit).\n\n'
        f"Source: botocore {botocore.__version__} ``data/codepipeline/2015-07-09/service-2.json``.\n"
        'Regenerate with ``python tools/gen_shapes.py``.\n"""\n\n'
        "from typing import Any, Final\n\n"
    )
    body = pprint.pformat(collect(), width=100, sort_dicts=True)
    return head + f"SHAPES: Final[dict[str, dict[str, Any]]] = {body}\n"


if __name__ == "__main__":
    sys.stdout.write(render())
