"""Least privilege for a custom action's job worker: its IAM policy, and an instance profile for it.

A job worker (Jenkins on an EC2 instance is the classic case) polls CodePipeline for the jobs of
one custom action type, acknowledges them, reads their details, moves artifacts through the
pipeline's artifact bucket and reports the result. :func:`worker_policy` grants exactly that:

* ``codepipeline:PollForJobs`` on the action type's ARN (the one job API that takes a resource;
  Service Authorization Reference, "Actions, resources, and condition keys for AWS CodePipeline");
* ``codepipeline:AcknowledgeJob``, ``GetJobDetails``, ``PutJobSuccessResult`` and
  ``PutJobFailureResult`` on ``*``, because these APIs accept no resource ARN;
* ``s3:GetObject``, ``s3:GetObjectVersion`` and ``s3:PutObject`` on the artifact bucket's objects
  (not the bucket itself: a worker never lists it);
* with a customer-managed key, ``kms:Decrypt`` and ``kms:GenerateDataKey`` on that key (artifacts
  are always SSE-KMS, so reading decrypts and writing asks for a data key).

Layer: synth (pure; no AWS calls). :func:`pipeweaver.aws.worker_policy` is the same function.
"""

from __future__ import annotations

from typing import Any

from .._model import ActionType

__all__ = ["add_worker_instance_profile", "worker_policy"]

#: The job APIs that take no resource ARN: IAM only matches them with ``"*"``.
_JOB_ACTIONS = (
    "codepipeline:AcknowledgeJob",
    "codepipeline:GetJobDetails",
    "codepipeline:PutJobFailureResult",
    "codepipeline:PutJobSuccessResult",
)


def _word(value: Any) -> str:
    return str(getattr(value, "value", value))


def _action_type_arn(action_type: ActionType, region: Any, account: Any, partition: Any) -> Any:
    path = "/".join(_word(part) for part in (action_type.owner, action_type.category, action_type.provider))
    path += f"/{action_type.version}"
    if all(isinstance(part, str) for part in (region, account, partition)):
        return f"arn:{partition}:codepipeline:{region}:{account}:actiontype:{path}"
    # In a template, the region, account and partition are the stack's own.
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:codepipeline:${{AWS::Region}}:${{AWS::AccountId}}:actiontype:{path}"}


def worker_policy(
    action_type: ActionType,
    artifact_bucket: Any,
    *,
    kms_key: Any | None = None,
    region: str | None = None,
    account: str | None = None,
    partition: str = "aws",
) -> dict[str, Any]:
    """
    The minimal IAM policy document for a job worker serving the custom action *action_type*.

    Args:
        action_type: The custom action type the worker polls for (owner ``Custom``).
        artifact_bucket: The pipeline's artifact bucket name (or a CloudFormation expression for it).
        kms_key: The ARN of the customer-managed key that encrypts the artifacts, if any.
        region: The action type's region; with *account*, the policy holds literal ARNs.
            Without them it holds ``Fn::Sub`` expressions for the stack's own region and account,
            ready for a CloudFormation template.
        account: The account that owns the action type.
        partition: The AWS partition (``aws``, ``aws-cn``, ``aws-us-gov``).

    Raises:
        ValueError: when *action_type* is not a custom action type (only those have workers).

    .. versionadded:: 0.1.0
    """
    if _word(action_type.owner) != "Custom":
        raise ValueError(
            f"action type {_word(action_type.category)}/{_word(action_type.owner)}/{action_type.provider}/"
            f"{action_type.version} is not owned by Custom; only custom action types are served by job workers"
        )
    literal = region is not None and account is not None
    objects: Any = (
        f"arn:{partition}:s3:::{artifact_bucket}/*"
        if isinstance(artifact_bucket, str) and literal
        else {"Fn::Sub": ["arn:${AWS::Partition}:s3:::${Bucket}/*", {"Bucket": artifact_bucket}]}
    )
    statements: list[dict[str, Any]] = [
        {
            "Sid": "PollForItsOwnActionType",
            "Effect": "Allow",
            "Action": "codepipeline:PollForJobs",
            "Resource": _action_type_arn(action_type, region, account, partition if literal else None),
        },
        {"Sid": "WorkOnJobs", "Effect": "Allow", "Action": list(_JOB_ACTIONS), "Resource": "*"},
        {
            "Sid": "MoveArtifacts",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
            "Resource": objects,
        },
    ]
    if kms_key is not None:
        statements.append(
            {
                "Sid": "UseTheArtifactKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": kms_key,
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def add_worker_instance_profile(
    template: dict[str, Any],
    action_type: ActionType,
    artifact_bucket: Any,
    *,
    kms_key: Any | None = None,
    logical_id: str = "JobWorker",
) -> None:
    """
    Add a role for EC2 instances with :func:`worker_policy`, and an instance profile holding it.

    Adds ``<logical_id>Role`` (trusted by ``ec2.amazonaws.com`` only) and
    ``<logical_id>InstanceProfile``, and exports the profile's name as an output. The policy's
    ARNs use the stack's region, account and partition.

    .. versionadded:: 0.1.0
    """
    role, profile = f"{logical_id}Role", f"{logical_id}InstanceProfile"
    resources = template.setdefault("Resources", {})
    resources[role] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            },
            "Policies": [
                {
                    "PolicyName": "custom-action-job-worker",
                    "PolicyDocument": worker_policy(action_type, artifact_bucket, kms_key=kms_key),
                }
            ],
        },
    }
    resources[profile] = {"Type": "AWS::IAM::InstanceProfile", "Properties": {"Roles": [{"Ref": role}]}}
    template.setdefault("Outputs", {})[profile] = {
        "Description": "Instance profile for the custom action's job worker",
        "Value": {"Ref": profile},
    }
