"""CustomActionType: the §5.1 rules on construction, a request botocore accepts, a template cfn-lint accepts."""

from __future__ import annotations

import json

import pytest
from botocore.stub import Stubber
from cfnlint.api import ManualArgs, lint

import pipeweaver as pw
from pipeweaver.aws import ArtifactBounds, ConfigurationProperty, CustomActionSettings, CustomActionType

from .conftest import stubbed


def acme(**overrides: object) -> CustomActionType:
    fields: dict[str, object] = {
        "category": "Deploy",
        "provider": "AcmeDeploy",
        "version": "2",
        "configuration_properties": [
            ConfigurationProperty(name="Environment", required=True, key=True, queryable=True, description="Target"),
            ConfigurationProperty(name="ApiToken", required=True, secret=True),
            ConfigurationProperty(name="Verbose", type="Boolean"),
        ],
        "inputs": ArtifactBounds(1, 1),
        "outputs": ArtifactBounds(0, 1),
        "settings": CustomActionSettings(
            entity_url_template="https://acme.example/{Config:Environment}",
            execution_url_template="https://acme.example/deploys/{ExternalExecutionId}",
        ),
    }
    fields.update(overrides)
    return CustomActionType(**fields)  # type: ignore[arg-type]


def test_register_sends_a_request_the_api_model_accepts() -> None:
    """register() sends CreateCustomActionType with every field, checked by botocore's Stubber."""
    client = stubbed("codepipeline")
    expected = {
        "category": "Deploy",
        "provider": "AcmeDeploy",
        "version": "2",
        "settings": {
            "entityUrlTemplate": "https://acme.example/{Config:Environment}",
            "executionUrlTemplate": "https://acme.example/deploys/{ExternalExecutionId}",
        },
        "configurationProperties": [
            {
                "name": "Environment",
                "required": True,
                "key": True,
                "secret": False,
                "queryable": True,
                "description": "Target",
            },
            {"name": "ApiToken", "required": True, "key": False, "secret": True},
            {"name": "Verbose", "required": False, "key": False, "secret": False, "type": "Boolean"},
        ],
        "inputArtifactDetails": {"minimumCount": 1, "maximumCount": 1},
        "outputArtifactDetails": {"minimumCount": 0, "maximumCount": 1},
    }
    described = {
        "id": {"category": "Deploy", "owner": "Custom", "provider": "AcmeDeploy", "version": "2"},
        "inputArtifactDetails": {"minimumCount": 1, "maximumCount": 1},
        "outputArtifactDetails": {"minimumCount": 0, "maximumCount": 1},
    }
    with Stubber(client) as stub:
        stub.add_response("create_custom_action_type", {"actionType": described}, expected)
        result = acme().register(client)
        stub.assert_no_pending_responses()

    assert "Custom" == result["id"]["owner"]


def test_cloudformation_resource_passes_cfn_lint() -> None:
    """to_cloudformation() renders an AWS::CodePipeline::CustomActionType that cfn-lint reports nothing on."""
    template = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"AcmeDeploy": acme().to_cloudformation()}}

    assert [] == [str(m) for m in lint(json.dumps(template), config=ManualArgs(regions=["us-east-1"]))]
    assert {"Name": "ApiToken", "Required": True, "Key": False, "Secret": True} == (
        template["Resources"]["AcmeDeploy"]["Properties"]["ConfigurationProperties"][1]
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {
                "configuration_properties": [
                    ConfigurationProperty(name="A", required=True, queryable=True),
                    ConfigurationProperty(name="B", required=True, queryable=True),
                ]
            },
            "at most one property may be queryable",
        ),
        ({"configuration_properties": [ConfigurationProperty(name="A")] * 2}, "must be unique"),
        ({"configuration_properties": [ConfigurationProperty(name=f"P{i}") for i in range(11)]}, "at most 10"),
        ({"provider": "Acme Deploy"}, "providers are 1..35"),
        ({"version": "1234567890"}, "versions are 1..9"),
        ({"category": "Release"}, "must be one of Source"),
        (
            {"settings": CustomActionSettings(entity_url_template="https://x/{Config:ApiToken}")},
            "must name a required, non-secret",
        ),
    ],
)
def test_type_rules_are_checked_on_construction(overrides: dict[str, object], message: str) -> None:
    """Each §5.1 rule raises DefinitionError with a message naming it."""
    with pytest.raises(pw.DefinitionError, match=message):
        acme(**overrides)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "Q", "queryable": True}, "must be required and not secret"),
        ({"name": "Q", "required": True, "secret": True, "queryable": True}, "must be required and not secret"),
        ({"name": "x" * 51}, "1..50"),
        ({"name": "Q", "description": ""}, "1..160"),
    ],
)
def test_property_rules_are_checked_on_construction(kwargs: dict[str, object], message: str) -> None:
    """A queryable property that is optional or secret, or a bad name/description, is refused."""
    with pytest.raises(pw.DefinitionError, match=message):
        ConfigurationProperty(**kwargs)  # type: ignore[arg-type]


def test_artifact_bounds_are_zero_to_five() -> None:
    """Bounds outside 0..5 or min > max are refused."""
    with pytest.raises(pw.DefinitionError, match=r"0\.\.5"):
        ArtifactBounds(0, 6)
    with pytest.raises(pw.DefinitionError, match="must not exceed maximum"):
        ArtifactBounds(2, 1)


def test_action_checks_configuration_and_artifacts_against_the_type() -> None:
    """action() builds a Custom-owned Action and refuses missing, unknown or malformed properties."""
    art = pw.Artifact("BuildOutput")
    kind = acme()

    ok = kind.action("Ship", configuration={"Environment": "prod", "ApiToken": "t"}, inputs=[art])

    assert ("Custom", "AcmeDeploy", "2") == (ok.owner.value, ok.provider, ok.action_type.version)
    with pytest.raises(pw.DefinitionError, match="required by AcmeDeploy"):
        kind.action("Ship", configuration={"Environment": "prod"}, inputs=[art])
    with pytest.raises(pw.DefinitionError, match="not properties of AcmeDeploy"):
        kind.action("Ship", configuration={"Environment": "prod", "ApiToken": "t", "Region": "x"}, inputs=[art])
    with pytest.raises(pw.DefinitionError, match=r"1\.\.20 characters"):
        kind.action("Ship", configuration={"Environment": "prod east", "ApiToken": "t"}, inputs=[art])
    with pytest.raises(pw.DefinitionError, match=r"takes 1\.\.1 inputs"):
        kind.action("Ship", configuration={"Environment": "prod", "ApiToken": "t"})
