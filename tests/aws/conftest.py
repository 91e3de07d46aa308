"""Fixtures for the AWS layer: fake credentials, moto (in-process) and botocore Stubbers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

import pipeweaver as pw

REGION = "us-east-1"
ACCOUNT = "123456789012"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "codepipeline.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


@pytest.fixture(autouse=True)
def _fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test can reach a real account: fake credentials and region, no profile files."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(name="aws")
def _aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture(name="role_arn")
def _role_arn(aws: None) -> str:
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="PipelineRole", AssumeRolePolicyDocument=json.dumps(TRUST))
    return str(role["Role"]["Arn"])


@pytest.fixture(name="cp")
def _cp(aws: None) -> Any:
    return boto3.client("codepipeline", region_name=REGION)


@pytest.fixture(name="s3")
def _s3(aws: None) -> Any:
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket="my-artifact-bucket")
    return client


@pytest.fixture(name="kms_key")
def _kms_key(aws: None) -> str:
    kms = boto3.client("kms", region_name=REGION)
    return str(kms.create_key(Description="artifacts")["KeyMetadata"]["Arn"])


def stubbed(service: str) -> Any:
    """A real client with fake credentials, for use under a botocore Stubber."""
    return boto3.client(service, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")


def deployed_sample(sample: pw.Pipeline, role_arn: str) -> pw.Pipeline:
    """The conftest sample pipeline pointed at the moto role."""
    import attrs

    return attrs.evolve(sample, role_arn=role_arn)
