"""Pure conversions between the model and other formats.

``to_codepipeline``/``from_codepipeline`` (API JSON) live in the model layer's codec and are
re-exported here; CloudFormation, Python code and diagrams are added beside them.
"""

from __future__ import annotations

from .._codec import dumps, from_codepipeline, loads, to_codepipeline
from .._public import publish as _publish
from ._cloudformation import (
    TemplateExtension,
    add_artifact_bucket,
    add_kms_key,
    add_pipeline_role,
    from_cloudformation,
    parameter_resolver,
    pipeline_properties,
    resolve_parameters,
    to_cloudformation,
)
from ._diagram import to_dot, to_mermaid, to_png, to_svg
from ._events import EventWiring, add_event_wiring
from ._python import to_python
from ._worker import add_worker_instance_profile, worker_policy

__all__ = [
    "EventWiring",
    "TemplateExtension",
    "add_artifact_bucket",
    "add_event_wiring",
    "add_kms_key",
    "add_pipeline_role",
    "add_worker_instance_profile",
    "dumps",
    "from_cloudformation",
    "from_codepipeline",
    "loads",
    "parameter_resolver",
    "pipeline_properties",
    "resolve_parameters",
    "to_cloudformation",
    "to_codepipeline",
    "to_dot",
    "to_mermaid",
    "to_png",
    "to_python",
    "to_svg",
    "worker_policy",
]

_publish(globals(), __all__, __name__)
