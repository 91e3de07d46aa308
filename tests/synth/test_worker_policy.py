"""The job worker's IAM policy grants exactly what a worker does, and its instance profile lints clean."""

from __future__ import annotations

from typing import Any

import pytest

import pipeweaver as pw
from pipeweaver import aws, synth

from ._lint import cfn_lint

JENKINS = pw.ActionType(category="Build", owner="Custom", provider="Jenkins", version="2")


def _grants(policy: dict[str, Any]) -> set[tuple[str, str]]:
    """Every (action, resource) pair the policy allows, as text."""
    pairs = set()
    for statement in policy["Statement"]:
        assert "Allow" == statement["Effect"]
        assert "NotAction" not in statement
        assert "NotResource" not in statement
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        pairs |= {(action, str(resource)) for action in actions for resource in resources}
    return pairs


def test_the_policy_grants_exactly_the_job_apis_the_bucket_objects_and_the_key() -> None:
    policy = aws.worker_policy(
        JENKINS,
        "my-artifacts",
        kms_key="arn:aws:kms:eu-west-1:123456789012:key/abcd",
        region="eu-west-1",
        account="123456789012",
    )

    assert "2012-10-17" == policy["Version"]
    assert {
        ("codepipeline:PollForJobs", "arn:aws:codepipeline:eu-west-1:123456789012:actiontype:Custom/Build/Jenkins/2"),
        ("codepipeline:AcknowledgeJob", "*"),
        ("codepipeline:GetJobDetails", "*"),
        ("codepipeline:PutJobSuccessResult", "*"),
        ("codepipeline:PutJobFailureResult", "*"),
        ("s3:GetObject", "arn:aws:s3:::my-artifacts/*"),
        ("s3:GetObjectVersion", "arn:aws:s3:::my-artifacts/*"),
        ("s3:PutObject", "arn:aws:s3:::my-artifacts/*"),
        ("kms:Decrypt", "arn:aws:kms:eu-west-1:123456789012:key/abcd"),
        ("kms:GenerateDataKey", "arn:aws:kms:eu-west-1:123456789012:key/abcd"),
    } == _grants(policy)


def test_without_a_customer_key_nothing_of_kms_is_granted_and_a_custom_action_type_is_accepted() -> None:
    custom = aws.CustomActionType(category="Test", provider="Selenium", version="1")

    grants = _grants(aws.worker_policy(custom, "bucket", region="us-east-1", account="111122223333", partition="aws"))

    assert not any(action.startswith("kms:") for action, _ in grants)
    assert (
        "codepipeline:PollForJobs",
        "arn:aws:codepipeline:us-east-1:111122223333:actiontype:Custom/Test/Selenium/1",
    ) in grants


@pytest.mark.parametrize("owner", ["AWS", "ThirdParty"])
def test_only_custom_action_types_have_workers(owner: str) -> None:
    with pytest.raises(ValueError, match="is not owned by Custom"):
        synth.worker_policy(pw.ActionType(category="Build", owner=owner, provider="CodeBuild"), "bucket")


def test_the_instance_profile_in_a_template_lints_clean_and_trusts_ec2_only() -> None:
    template: dict[str, Any] = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": {}}
    template["Resources"]["Artifacts"] = {"Type": "AWS::S3::Bucket"}
    template["Resources"]["Key"] = {
        "Type": "AWS::KMS::Key",
        "Properties": {
            "KeyPolicy": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
                        "Action": "kms:*",
                        "Resource": "*",
                    }
                ],
            }
        },
    }

    synth.add_worker_instance_profile(
        template, JENKINS, {"Ref": "Artifacts"}, kms_key={"Fn::GetAtt": ["Key", "Arn"]}, logical_id="Jenkins"
    )

    role = template["Resources"]["JenkinsRole"]["Properties"]
    assert [] == cfn_lint(template)
    assert [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}] == role[
        "AssumeRolePolicyDocument"
    ]["Statement"]
    assert {"Ref": "JenkinsRole"} in template["Resources"]["JenkinsInstanceProfile"]["Properties"]["Roles"]
    (policy,) = role["Policies"]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert {
        "Fn::Sub": "arn:${AWS::Partition}:codepipeline:${AWS::Region}:${AWS::AccountId}:actiontype:Custom/Build/Jenkins/2"
    } == statements["PollForItsOwnActionType"]["Resource"]
    assert {"Fn::Sub": ["arn:${AWS::Partition}:s3:::${Bucket}/*", {"Bucket": {"Ref": "Artifacts"}}]} == statements[
        "MoveArtifacts"
    ]["Resource"]
