"""Property tests: for any valid pipeline, deploy -> fetch is the identity and a redeploy sends nothing."""

from __future__ import annotations

import json
from typing import Any

import attrs
import boto3
from hypothesis import given, settings
from moto import mock_aws

import pipeweaver as pw
from pipeweaver.aws import deploy, diff, fetch
from pipeweaver.aws._deploy import compare
from pipeweaver.synth import to_codepipeline

from ..strategies import pipelines
from .conftest import REGION, TRUST


@settings(max_examples=100)
@given(pipelines())
def test_a_declaration_equals_itself(pipeline: pw.Pipeline) -> None:
    """compare() finds nothing between a declaration and itself with AWS's defaults made explicit."""
    declaration = to_codepipeline(pipeline)
    live: dict[str, Any] = json.loads(json.dumps(declaration))
    live["version"] = 9
    live.setdefault("executionMode", "SUPERSEDED")

    assert [] == compare(declaration, live)


@settings(max_examples=25)
@given(pipelines())
def test_deploy_fetch_round_trip_on_moto(pipeline: pw.Pipeline) -> None:
    """Any valid pipeline deployed to moto fetches back equal, diffs empty and redeploys without an update."""
    with mock_aws():
        iam = boto3.client("iam", region_name=REGION)
        role = iam.create_role(RoleName="PipelineRole", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
        client = boto3.client("codepipeline", region_name=REGION)
        model = attrs.evolve(pipeline, role_arn=role)
        calls: list[str] = []
        client.meta.events.register("before-call.codepipeline", lambda model, **_: calls.append(model.name))

        first = deploy(model, client=client)
        fetched = fetch(str(model.name), client=client)
        changes = diff(model, client=client).changes
        again = deploy(model, client=client)

    assert (True, model, ()) == (first.created, fetched, changes)
    assert (False, False) == (again.created, again.updated)
    assert 0 == calls.count("UpdatePipeline")
