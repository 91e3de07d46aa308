"""Synthesized event wiring: rules, trail, schedule, webhook and notifications pass cfn-lint."""

from __future__ import annotations

import json
from typing import Any

import pytest

import pipeweaver as pw
from pipeweaver.synth import EventWiring, add_event_wiring, to_cloudformation
from pipeweaver.synth._events import NOTIFICATION_EVENTS, aws_cron

from ..synth._lint import cfn_lint
from .conftest import make_pipeline, source_action

S3_SOURCE = pw.Action(
    name="S3Src",
    action_type=pw.ActionType(category="Source", provider="S3"),
    configuration={"S3Bucket": "src-bucket", "S3ObjectKey": "app/src.zip"},
    outputs=[pw.Artifact("S3Out")],
)
ECR_SOURCE = pw.Action(
    name="Image",
    action_type=pw.ActionType(category="Source", provider="ECR"),
    configuration={"RepositoryName": "web", "ImageTag": "prod"},
    outputs=[pw.Artifact("ImgOut")],
)


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def action_config(template: dict[str, Any], name: str) -> dict[str, str]:
    for stage in template["Resources"]["Pipeline"]["Properties"]["Stages"]:
        for action in stage["Actions"]:
            if action["Name"] == name:
                config: dict[str, str] = action["Configuration"]
                return config
    raise KeyError(name)


def _expression_pipeline() -> pw.Pipeline:
    """Sources whose names come from template parameters (as imported CloudFormation keeps them)."""
    branch = pw.Expression.of({"Ref": "Branch"})
    codecommit = source_action(
        provider="CodeCommit", config={"RepositoryName": pw.Expression.of({"Ref": "RepoName"}), "BranchName": branch}
    )
    s3 = pw.Action(
        name="S3Src",
        action_type=pw.ActionType(category="Source", provider="S3"),
        configuration={"S3Bucket": pw.Expression.of({"Ref": "Bucket"}), "S3ObjectKey": "k.zip"},
        outputs=[pw.Artifact("S3Out")],
    )
    github = source_action("GH", provider="GitHub", artifact="GhOut", config={"Branch": branch})
    return make_pipeline(codecommit, s3, github)


CONFIGS = {
    "intrinsic-source-names": (_expression_pipeline, EventWiring()),
    "codecommit": (lambda: make_pipeline(source_action(provider="CodeCommit")), EventWiring()),
    "s3-trail": (lambda: make_pipeline(S3_SOURCE), EventWiring()),
    "ecr": (lambda: make_pipeline(ECR_SOURCE), EventWiring()),
    "github-noecho": (lambda: make_pipeline(source_action(provider="GitHub")), EventWiring()),
    "github-secretsmanager": (
        lambda: make_pipeline(source_action(provider="GitHub")),
        EventWiring(github_secret="secretsmanager:ci/github-webhook:token"),
    ),
    "schedule": (lambda: make_pipeline(source_action()), EventWiring(schedule="30 6 * * MON-FRI")),
    "notifications": (lambda: make_pipeline(source_action()), EventWiring(notifications=True)),
    "everything-with-role-bucket-key": (
        lambda: make_pipeline(
            source_action(provider="CodeCommit"),
            S3_SOURCE,
            ECR_SOURCE,
            source_action("GH", provider="GitHub", artifact="GhOut"),
        ),
        EventWiring(schedule="*/30 * * * *", schedule_timezone="Europe/Berlin", notifications=True),
    ),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_event_wiring_templates_pass_cfn_lint(name: str) -> None:
    """Every event-wiring template has 0 cfn-lint errors and 0 warnings."""
    make, wiring = CONFIGS[name]
    extra = name.startswith("everything")
    template = to_cloudformation(make(), events=wiring, pipeline_role=extra, artifact_bucket=extra, kms_key=extra)

    assert [] == cfn_lint(template)


def test_codecommit_rule_matches_the_branch_and_turns_polling_off() -> None:
    """A CodeCommit source gets a rule on its repository and branch, and PollForSourceChanges 'false'."""
    template = to_cloudformation(make_pipeline(source_action(provider="CodeCommit")), events=EventWiring())
    (rule,) = of_type(template, "AWS::Events::Rule").values()
    pattern = rule["Properties"]["EventPattern"]

    assert ["aws.codecommit"] == pattern["source"]
    assert ["mainline"] == pattern["detail"]["referenceName"]
    assert "false" == action_config(template, "ApplicationSource")["PollForSourceChanges"]


def test_s3_source_gets_a_data_event_trail_for_its_object() -> None:
    """An S3 source gets a CloudTrail trail logging writes to its object, and a rule on PutObject."""
    template = to_cloudformation(make_pipeline(S3_SOURCE), events=EventWiring())
    (trail,) = of_type(template, "AWS::CloudTrail::Trail").values()
    (rule,) = of_type(template, "AWS::Events::Rule").values()
    values = trail["Properties"]["EventSelectors"][0]["DataResources"][0]["Values"]

    assert [
        {"Fn::Sub": ["arn:${AWS::Partition}:s3:::${Bucket}/${Key}", {"Bucket": "src-bucket", "Key": "app/src.zip"}]}
    ] == values
    assert {"bucketName": ["src-bucket"], "key": ["app/src.zip"]} == rule["Properties"]["EventPattern"]["detail"][
        "requestParameters"
    ]
    assert trail["DependsOn"][0] in of_type(template, "AWS::S3::BucketPolicy")
    assert "false" == action_config(template, "S3Src")["PollForSourceChanges"]


def test_ecr_rule_matches_the_configured_tag() -> None:
    """An ECR source's rule matches successful pushes of its tag to its repository."""
    template = to_cloudformation(make_pipeline(ECR_SOURCE), events=EventWiring())
    (rule,) = of_type(template, "AWS::Events::Rule").values()

    assert {"action-type": ["PUSH"], "image-tag": ["prod"], "repository-name": ["web"], "result": ["SUCCESS"]} == (
        rule["Properties"]["EventPattern"]["detail"]
    )


def test_starter_roles_may_only_start_this_pipeline() -> None:
    """Events and scheduler roles allow exactly StartPipelineExecution on this pipeline, from this account."""
    template = to_cloudformation(
        make_pipeline(source_action(provider="CodeCommit")), events=EventWiring(schedule="0 * * * *")
    )
    roles = of_type(template, "AWS::IAM::Role")
    statements = [
        st
        for role in roles.values()
        for policy in role["Properties"]["Policies"]
        for st in policy["PolicyDocument"]["Statement"]
    ]
    trusts = [role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0] for role in roles.values()]

    assert 2 == len(roles)
    assert all("codepipeline:StartPipelineExecution" == st["Action"] for st in statements)
    assert all(
        {"Fn::Sub": "arn:${AWS::Partition}:codepipeline:${AWS::Region}:${AWS::AccountId}:${Pipeline}"} == st["Resource"]
        for st in statements
    )
    assert {"events.amazonaws.com", "scheduler.amazonaws.com"} == {t["Principal"]["Service"] for t in trusts}
    assert all({"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}} == t["Condition"] for t in trusts)


def test_github_webhook_secret_is_never_a_literal() -> None:
    """The webhook secret is a NoEcho parameter or a Secrets Manager reference; a plain value is refused."""
    pipeline = make_pipeline(source_action(provider="GitHub"))
    by_param = to_cloudformation(pipeline, events=EventWiring())
    by_ref = to_cloudformation(pipeline, events=EventWiring(github_secret="secretsmanager:ci/hook"))
    (hook,) = of_type(by_param, "AWS::CodePipeline::Webhook").values()
    (hook_ref,) = of_type(by_ref, "AWS::CodePipeline::Webhook").values()

    assert {"Ref": "GitHubWebhookSecret"} == hook["Properties"]["AuthenticationConfiguration"]["SecretToken"]
    assert by_param["Parameters"]["GitHubWebhookSecret"]["NoEcho"] is True
    assert (
        "{{resolve:secretsmanager:ci/hook:SecretString}}"
        == hook_ref["Properties"]["AuthenticationConfiguration"]["SecretToken"]
    )
    assert [{"JsonPath": "$.ref", "MatchEquals": "refs/heads/mainline"}] == hook["Properties"]["Filters"]
    with pytest.raises(pw.DefinitionError) as info:
        EventWiring(github_secret="hunter2-plain-text")
    assert "hunter2" not in str(info.value)


def test_notifications_cover_execution_stage_and_action_changes() -> None:
    """The notification rule targets an SNS topic whose policy lets CodeStar Notifications publish."""
    template = to_cloudformation(make_pipeline(source_action()), events=EventWiring(notifications=True))
    (rule,) = of_type(template, "AWS::CodeStarNotifications::NotificationRule").values()
    (policy,) = of_type(template, "AWS::SNS::TopicPolicy").values()
    kinds = {e.split("-")[2] for e in rule["Properties"]["EventTypeIds"]}

    assert list(NOTIFICATION_EVENTS) == rule["Properties"]["EventTypeIds"]
    assert {"action", "stage", "pipeline", "manual"} == kinds
    assert (
        "codestar-notifications.amazonaws.com"
        == policy["Properties"]["PolicyDocument"]["Statement"][0]["Principal"]["Service"]
    )


def test_connection_detect_changes_is_set_when_asked() -> None:
    """detect_changes=False writes DetectChanges 'false' on connection sources."""
    template = to_cloudformation(make_pipeline(source_action()), events=EventWiring(detect_changes=False))

    assert "false" == action_config(template, "ApplicationSource")["DetectChanges"]


@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        ("30 6 * * MON-FRI", "cron(30 6 ? * MON-FRI *)"),
        ("0 9 * * 1-5", "cron(0 9 ? * 2-6 *)"),
        ("0 0 * * 0", "cron(0 0 ? * 1 *)"),
        ("*/15 * * * *", "cron(0/15 * * * ? *)"),
        ("0 3 1 * *", "cron(0 3 1 * ? *)"),
    ],
)
def test_five_field_cron_becomes_aws_cron(cron: str, expected: str) -> None:
    """Standard cron converts to AWS's six fields, '?' for the unused day and Sunday = 1."""
    assert expected == aws_cron(cron)


def test_cron_restricting_both_day_fields_cannot_be_synthesized() -> None:
    """AWS cron cannot restrict both day of month and day of week: a readable SynthesisError."""
    with pytest.raises(pw.SynthesisError, match="needs one of them to be"):
        to_cloudformation(make_pipeline(source_action()), events=EventWiring(schedule="0 0 13 * FRI"))


def test_wiring_a_template_without_the_pipeline_fails_clearly() -> None:
    """add_event_wiring names the missing logical id instead of failing deep inside."""
    with pytest.raises(pw.SynthesisError, match="no resource 'Nope'"):
        add_event_wiring({"Resources": {}}, make_pipeline(source_action()), "Nope", EventWiring())


def test_templates_are_json_serializable_and_deterministic() -> None:
    """The same inputs give byte-identical JSON."""
    make, wiring = CONFIGS["everything-with-role-bucket-key"]
    first = json.dumps(to_cloudformation(make(), events=wiring), sort_keys=True)
    second = json.dumps(to_cloudformation(make(), events=wiring), sort_keys=True)

    assert first == second
