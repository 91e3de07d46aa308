"""Pure conversions between the model and other formats.

``to_codepipeline``/``from_codepipeline`` (API JSON) live in the model layer's codec and are
re-exported here; CloudFormation, Python code and diagrams are added beside them.
"""

from __future__ import annotations

from .._codec import dumps, from_codepipeline, loads, to_codepipeline

__all__ = ["dumps", "from_codepipeline", "loads", "to_codepipeline"]
