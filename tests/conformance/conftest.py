"""Shared builders for the conformance tests: an S3 source stage, then the stage under test."""

from __future__ import annotations

from typing import Any

import pipeweaver as pw

SRC = pw.Artifact("Src")


def source_then(*stages: pw.Stage, **pipeline: Any) -> pw.Pipeline:
    """A pipeline whose first stage is an S3 source producing ``Src``, then *stages*."""
    source = pw.Action(
        name="Source",
        action_type=pw.ActionType(category="Source", provider="S3"),
        configuration={"S3Bucket": "b", "S3ObjectKey": "k.zip", "PollForSourceChanges": "false"},
        outputs=[SRC],
    )
    return pw.Pipeline(
        name=pipeline.pop("name", "p"),
        role_arn="arn:aws:iam::123456789012:role/p",
        artifact_store=pw.ArtifactStore(location="bucket"),
        stages=[pw.Stage(name="Source", actions=[source]), *stages],
        **pipeline,
    )
