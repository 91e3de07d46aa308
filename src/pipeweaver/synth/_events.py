"""CloudFormation event wiring around a pipeline: what starts it and who hears about it.

Layer: synth (pure dict building; never imports execution). Adds to a template made by
:func:`pipeweaver.synth.to_cloudformation`:

* EventBridge rules that start the pipeline on CodeCommit pushes, S3 object writes (with the
  CloudTrail data-event trail and its log bucket that S3 needs) and ECR image pushes, and sets
  ``PollForSourceChanges: 'false'`` on those sources so a change does not start it twice;
* an EventBridge Scheduler schedule (from five-field cron) for timed starts;
* an ``AWS::CodePipeline::Webhook`` for GitHub (v1) sources, whose secret is a Secrets
  Manager dynamic reference or a NoEcho parameter, never a literal;
* a CodeStar Notifications rule sending execution, stage and action state changes to SNS;
* one role per starter (events, scheduler), each allowed only
  ``codepipeline:StartPipelineExecution`` on this pipeline and assumable only by its service
  from this account.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal, final

import attrs

from .. import _catalog, _cfn_conditions
from .._cron import aws_cron
from .._model import Action, ActionCategory, Expression, Pipeline
from .._wire import SECRET_REFERENCE
from ..errors import DefinitionError, SynthesisError

__all__ = ["NOTIFICATION_EVENTS", "EventWiring", "add_event_wiring", "aws_cron"]

_PIPELINE_ARN = "arn:${AWS::Partition}:codepipeline:${AWS::Region}:${AWS::AccountId}:${%s}"

#: Every CodePipeline notification event type id (CodeStar Notifications).
NOTIFICATION_EVENTS = (
    "codepipeline-pipeline-action-execution-succeeded",
    "codepipeline-pipeline-action-execution-failed",
    "codepipeline-pipeline-action-execution-canceled",
    "codepipeline-pipeline-action-execution-started",
    "codepipeline-pipeline-stage-execution-started",
    "codepipeline-pipeline-stage-execution-succeeded",
    "codepipeline-pipeline-stage-execution-resumed",
    "codepipeline-pipeline-stage-execution-canceled",
    "codepipeline-pipeline-stage-execution-failed",
    "codepipeline-pipeline-pipeline-execution-failed",
    "codepipeline-pipeline-pipeline-execution-canceled",
    "codepipeline-pipeline-pipeline-execution-started",
    "codepipeline-pipeline-pipeline-execution-resumed",
    "codepipeline-pipeline-pipeline-execution-succeeded",
    "codepipeline-pipeline-pipeline-execution-superseded",
    "codepipeline-pipeline-manual-approval-failed",
    "codepipeline-pipeline-manual-approval-needed",
    "codepipeline-pipeline-manual-approval-succeeded",
)

_SECRET_REF = re.compile(r"^secretsmanager:(?P<id>[A-Za-z0-9/_+=.@:-]+?)(?::(?P<key>[A-Za-z0-9_.-]+))?$")


def _dynamic_secret(value: str) -> bool:
    """A CloudFormation dynamic reference to a Secrets Manager secret, written out whole."""
    return value.startswith("{{resolve:secretsmanager:") and SECRET_REFERENCE.fullmatch(value) is not None


def _secret(value: str | None) -> str | None:
    if value is None:
        return None
    if not (_SECRET_REF.fullmatch(value) or _dynamic_secret(value)):
        raise DefinitionError(
            "github_secret",
            "<hidden>",
            "give a Secrets Manager reference 'secretsmanager:<secret-id>[:<json-key>]' or a dynamic reference "
            "'{{resolve:secretsmanager:...}}' (never the secret itself), or leave it out to get a NoEcho parameter",
        )
    return value


@final
@attrs.frozen(kw_only=True)
class EventWiring:
    """
    Which event resources :func:`add_event_wiring` adds.

    Attributes:
        source_rules: EventBridge rules for CodeCommit, S3 (with a CloudTrail trail) and ECR
            sources, with ``PollForSourceChanges: 'false'`` set on those sources.
        schedule: Five-field cron (UTC unless *schedule_timezone*) for an EventBridge
            Scheduler schedule that starts the pipeline; ``None`` for none.
        schedule_timezone: IANA time zone of *schedule*.
        github_webhooks: For GitHub (v1) sources, an ``AWS::CodePipeline::Webhook`` (and
            ``PollForSourceChanges: 'false'``).
        github_secret: ``secretsmanager:<secret-id>[:<json-key>]`` for the webhook secret, or
            the ``{{resolve:secretsmanager:...}}`` dynamic reference itself (written as given);
            ``None`` declares a NoEcho parameter ``GitHubWebhookSecret`` instead.
        detect_changes: Set ``DetectChanges`` on connection sources (``None`` leaves it).
        notifications: Add an SNS topic (with its policy) and a notification rule for the
            pipeline's execution, stage and action state changes.
        notification_events: Event type ids to notify; all of them by default.
        notification_detail: ``FULL`` or ``BASIC`` message detail.

    .. versionadded:: 0.1.0
    """

    source_rules: bool = True
    schedule: str | None = None
    schedule_timezone: str = "UTC"
    github_webhooks: bool = True
    github_secret: str | None = attrs.field(default=None, converter=_secret, repr=False)
    detect_changes: bool | None = None
    notifications: bool = False
    notification_events: tuple[str, ...] = NOTIFICATION_EVENTS
    notification_detail: Literal["FULL", "BASIC"] = "FULL"

    def __attrs_post_init__(self) -> None:
        unknown = sorted(set(self.notification_events) - set(NOTIFICATION_EVENTS))
        if unknown:
            raise DefinitionError("notification_events", unknown, f"must be among {list(NOTIFICATION_EVENTS)}")
        if self.schedule is not None:
            aws_cron(self.schedule)


# ---------------------------------------------------------------------------------------------


def _raw(value: str | Expression | None) -> Any:
    return value.raw if isinstance(value, Expression) else value


def _logical(template: Mapping[str, Any], base: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9]", "", base) or "Resource"
    name, n = stem, 2
    while name in template["Resources"]:
        name, n = f"{stem}{n}", n + 1
    return name


def _pipeline_arn(logical_id: str) -> dict[str, Any]:
    return {"Fn::Sub": _PIPELINE_ARN % logical_id}


def _config_of(template: dict[str, Any], logical_id: str, stage: str, action: str) -> dict[str, Any]:
    props = template["Resources"][logical_id]["Properties"]
    for s in _cfn_conditions.objects(props.get("Stages", [])):
        if s.get("Name") != stage:
            continue
        for a in _cfn_conditions.objects(s.get("Actions", [])):
            if a.get("Name") == action:
                config = a.setdefault("Configuration", {})
                if not isinstance(config, dict):
                    raise SynthesisError(
                        "the action's Configuration is not an object, so event wiring cannot set it",
                        path=f"Resources.{logical_id}.Properties.Stages[{stage}].Actions[{action}].Configuration",
                    )
                return config
    raise SynthesisError(f"action {stage}/{action} is not in the template", path=f"Resources.{logical_id}")


def _start_role(template: dict[str, Any], logical_id: str, key: str, service: str, description: str) -> dict[str, Any]:
    """A role *service* can assume (from this account only) to start this pipeline only."""
    role_id = _logical(template, f"{logical_id}{key}Role")
    template["Resources"][role_id] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": description,
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": service},
                        "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                    }
                ],
            },
            "Policies": [
                {
                    "PolicyName": "start-pipeline-execution",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "codepipeline:StartPipelineExecution",
                                "Resource": _pipeline_arn(logical_id),
                            }
                        ],
                    },
                }
            ],
        },
    }
    return {"Fn::GetAtt": [role_id, "Arn"]}


def _rule(
    template: dict[str, Any], logical_id: str, action: Action, pattern: dict[str, Any], role: dict[str, Any]
) -> None:
    rule_id = _logical(template, f"{action.name}StartRule")
    template["Resources"][rule_id] = {
        "Type": "AWS::Events::Rule",
        "Properties": {
            "Description": {"Fn::Sub": f"Starts ${{{logical_id}}} when source {action.name} changes"},
            "State": "ENABLED",
            "EventPattern": pattern,
            "Targets": [{"Arn": _pipeline_arn(logical_id), "RoleArn": role, "Id": "codepipeline-start"}],
        },
    }


def _codecommit(template: dict[str, Any], logical_id: str, action: Action, role: dict[str, Any]) -> None:
    repo, branch = _raw(action.configuration.get("RepositoryName")), _raw(action.configuration.get("BranchName"))
    _rule(
        template,
        logical_id,
        action,
        {
            "source": ["aws.codecommit"],
            "detail-type": ["CodeCommit Repository State Change"],
            "resources": [
                {
                    "Fn::Sub": [
                        "arn:${AWS::Partition}:codecommit:${AWS::Region}:${AWS::AccountId}:${Repo}",
                        {"Repo": repo},
                    ]
                }
            ],
            "detail": {
                "event": ["referenceCreated", "referenceUpdated"],
                "referenceType": ["branch"],
                "referenceName": [branch],
            },
        },
        role,
    )


def _ecr(template: dict[str, Any], logical_id: str, action: Action, role: dict[str, Any]) -> None:
    repo = _raw(action.configuration.get("RepositoryName"))
    tag = _raw(action.configuration.get("ImageTag")) or "latest"
    _rule(
        template,
        logical_id,
        action,
        {
            "source": ["aws.ecr"],
            "detail-type": ["ECR Image Action"],
            "detail": {"action-type": ["PUSH"], "image-tag": [tag], "repository-name": [repo], "result": ["SUCCESS"]},
        },
        role,
    )


def _s3(template: dict[str, Any], logical_id: str, action: Action, role: dict[str, Any], trail: dict[str, Any]) -> None:
    bucket, key = _raw(action.configuration.get("S3Bucket")), _raw(action.configuration.get("S3ObjectKey"))
    trail["Properties"]["EventSelectors"][0]["DataResources"][0]["Values"].append(
        {"Fn::Sub": ["arn:${AWS::Partition}:s3:::${Bucket}/${Key}", {"Bucket": bucket, "Key": key}]}
    )
    _rule(
        template,
        logical_id,
        action,
        {
            "source": ["aws.s3"],
            "detail-type": ["AWS API Call via CloudTrail"],
            "detail": {
                "eventSource": ["s3.amazonaws.com"],
                "eventName": ["CopyObject", "CompleteMultipartUpload", "PutObject"],
                "requestParameters": {"bucketName": [bucket], "key": [key]},
            },
        },
        role,
    )


def _trail(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    """A trail logging S3 write data events to its own private, encrypted, TLS-only bucket."""
    bucket_id = _logical(template, f"{logical_id}SourceTrailBucket")
    policy_id = _logical(template, f"{logical_id}SourceTrailBucketPolicy")
    trail_id = _logical(template, f"{logical_id}SourceTrail")
    trail_arn = {
        "Fn::Sub": "arn:${AWS::Partition}:cloudtrail:${AWS::Region}:${AWS::AccountId}:trail/"
        + f"${{{logical_id}}}-source-trail"
    }
    template["Resources"][bucket_id] = {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "VersioningConfiguration": {"Status": "Enabled"},
        },
    }
    bucket_arn = {"Fn::GetAtt": [bucket_id, "Arn"]}
    template["Resources"][policy_id] = {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": {"Ref": bucket_id},
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "CloudTrailAclCheck",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudtrail.amazonaws.com"},
                        "Action": "s3:GetBucketAcl",
                        "Resource": bucket_arn,
                        "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}},
                    },
                    {
                        "Sid": "CloudTrailWrite",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudtrail.amazonaws.com"},
                        "Action": "s3:PutObject",
                        "Resource": {"Fn::Sub": f"${{{bucket_id}.Arn}}/AWSLogs/${{AWS::AccountId}}/*"},
                        "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}},
                    },
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [bucket_arn, {"Fn::Sub": f"${{{bucket_id}.Arn}}/*"}],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                ],
            },
        },
    }
    trail: dict[str, Any] = {
        "Type": "AWS::CloudTrail::Trail",
        "DependsOn": [policy_id],
        "Properties": {
            "TrailName": {"Fn::Sub": f"${{{logical_id}}}-source-trail"},
            "IsLogging": True,
            "S3BucketName": {"Ref": bucket_id},
            "EnableLogFileValidation": True,
            "IncludeGlobalServiceEvents": False,
            "IsMultiRegionTrail": False,
            "EventSelectors": [
                {
                    "ReadWriteType": "WriteOnly",
                    "IncludeManagementEvents": False,
                    "DataResources": [{"Type": "AWS::S3::Object", "Values": []}],
                }
            ],
        },
    }
    template["Resources"][trail_id] = trail
    return trail


def _github_webhook(template: dict[str, Any], logical_id: str, action: Action, wiring: EventWiring) -> None:
    if wiring.github_secret is not None and _dynamic_secret(wiring.github_secret):
        secret: Any = wiring.github_secret
    elif wiring.github_secret is not None:
        match = _SECRET_REF.fullmatch(wiring.github_secret)
        assert match is not None
        secret_id, key = match.group("id"), match.group("key")
        secret = f"{{{{resolve:secretsmanager:{secret_id}:SecretString" + (f":{key}}}}}" if key else "}}")
    else:
        param = "GitHubWebhookSecret"
        template.setdefault("Parameters", {})[param] = {
            "Type": "String",
            "NoEcho": True,
            "MinLength": 1,
            "Description": "Secret shared with GitHub to sign webhook deliveries (never stored in the template)",
        }
        secret = {"Ref": param}
    branch = _raw(action.configuration.get("Branch"))
    match_equals: Any = (
        f"refs/heads/{branch}" if isinstance(branch, str) else {"Fn::Sub": ["refs/heads/${B}", {"B": branch}]}
    )
    hook_id = _logical(template, f"{action.name}Webhook")
    template["Resources"][hook_id] = {
        "Type": "AWS::CodePipeline::Webhook",
        "Properties": {
            "Authentication": "GITHUB_HMAC",
            "AuthenticationConfiguration": {"SecretToken": secret},
            "Filters": [{"JsonPath": "$.ref", "MatchEquals": match_equals}],
            "TargetPipeline": {"Ref": logical_id},
            "TargetAction": action.name,
            "TargetPipelineVersion": {"Fn::GetAtt": [logical_id, "Version"]},
            "RegisterWithThirdParty": True,
        },
    }


def _notifications(template: dict[str, Any], logical_id: str, wiring: EventWiring) -> None:
    topic_id = _logical(template, f"{logical_id}NotificationsTopic")
    policy_id = _logical(template, f"{logical_id}NotificationsTopicPolicy")
    rule_id = _logical(template, f"{logical_id}NotificationRule")
    template["Resources"][topic_id] = {
        "Type": "AWS::SNS::Topic",
        "Properties": {"DisplayName": {"Fn::Sub": f"${{{logical_id}}} state changes"}},
    }
    template["Resources"][policy_id] = {
        "Type": "AWS::SNS::TopicPolicy",
        "Properties": {
            "Topics": [{"Ref": topic_id}],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "CodeStarNotificationsPublish",
                        "Effect": "Allow",
                        "Principal": {"Service": "codestar-notifications.amazonaws.com"},
                        "Action": "sns:Publish",
                        "Resource": {"Ref": topic_id},
                        "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                    }
                ],
            },
        },
    }
    template["Resources"][rule_id] = {
        "Type": "AWS::CodeStarNotifications::NotificationRule",
        "DependsOn": [policy_id],
        "Properties": {
            "Name": {"Fn::Sub": f"${{{logical_id}}}-state-changes"},
            "DetailType": wiring.notification_detail,
            "Resource": _pipeline_arn(logical_id),
            "EventTypeIds": list(wiring.notification_events),
            "Targets": [{"TargetType": "SNS", "TargetAddress": {"Ref": topic_id}}],
            "Status": "ENABLED",
        },
    }
    template.setdefault("Outputs", {})["NotificationTopicArn"] = {
        "Description": "SNS topic receiving the pipeline's state-change notifications",
        "Value": {"Ref": topic_id},
    }


def add_event_wiring(
    template: dict[str, Any], pipeline: Pipeline, logical_id: str = "Pipeline", wiring: EventWiring | None = None
) -> dict[str, Any]:
    """
    Add the event resources *wiring* asks for to *template* (in place) and return it.

    *template* must hold *pipeline*'s resource under ``Resources[logical_id]``, as
    :func:`pipeweaver.synth.to_cloudformation` makes it; ``to_cloudformation(...,
    events=EventWiring(...))`` calls this for you.

    Raises:
        SynthesisError: when the template lacks the pipeline or an action, or the schedule
            cannot be written as AWS cron.

    .. versionadded:: 0.1.0
    """
    wiring = wiring or EventWiring()
    if logical_id not in template.get("Resources", {}):
        raise SynthesisError(f"the template has no resource {logical_id!r} to wire", path="Resources")
    events_role: dict[str, Any] | None = None
    trail: dict[str, Any] | None = None

    def role() -> dict[str, Any]:
        nonlocal events_role
        if events_role is None:
            events_role = _start_role(
                template, logical_id, "Events", "events.amazonaws.com", "Lets EventBridge start the pipeline"
            )
        return events_role

    for stage, action in pipeline.actions():
        if action.category is not ActionCategory.SOURCE:
            continue
        spec = _catalog.source_spec(action.provider)
        events = spec.events if spec is not None else None
        if events is None:
            continue
        if wiring.source_rules and events.rule is not None:
            if events.rule == "codecommit":
                _codecommit(template, logical_id, action, role())
            elif events.rule == "ecr":
                _ecr(template, logical_id, action, role())
            else:
                trail = trail or _trail(template, logical_id)
                _s3(template, logical_id, action, role(), trail)
        elif wiring.github_webhooks and events.webhook:
            _github_webhook(template, logical_id, action, wiring)
        else:
            if events.detect_key is not None and wiring.detect_changes is not None:
                _config_of(template, logical_id, stage.name, action.name)[events.detect_key] = (
                    "true" if wiring.detect_changes else "false"
                )
            continue
        if events.poll_key is not None:
            # The rule or webhook replaces polling; both at once would start the pipeline twice.
            _config_of(template, logical_id, stage.name, action.name)[events.poll_key] = "false"
    if wiring.schedule is not None:
        scheduler_role = _start_role(
            template,
            logical_id,
            "Scheduler",
            "scheduler.amazonaws.com",
            "Lets EventBridge Scheduler start the pipeline",
        )
        schedule_id = _logical(template, f"{logical_id}Schedule")
        template["Resources"][schedule_id] = {
            "Type": "AWS::Scheduler::Schedule",
            "Properties": {
                "Description": f"Starts the pipeline on cron '{wiring.schedule}' ({wiring.schedule_timezone})",
                "ScheduleExpression": aws_cron(wiring.schedule),
                "ScheduleExpressionTimezone": wiring.schedule_timezone,
                "FlexibleTimeWindow": {"Mode": "OFF"},
                "State": "ENABLED",
                "Target": {"Arn": _pipeline_arn(logical_id), "RoleArn": scheduler_role},
            },
        }
    if wiring.notifications:
        _notifications(template, logical_id, wiring)
    return template
