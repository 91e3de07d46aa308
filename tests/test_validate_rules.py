"""One minimal bad pipeline per rule (code and path asserted) and valid twins that raise nothing.

Every case starts from :func:`base`, a V2 pipeline that lints clean, and breaks one thing.
The messages of all cases are snapshot-tested in ``tests/snapshots/rule_messages.txt``
(regenerate with ``PIPEWEAVER_UPDATE_SNAPSHOTS=1``).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

import pipeweaver as pw
from pipeweaver._validate import RULES
from pipeweaver.synth import from_codepipeline

ROLE = "arn:aws:iam::123456789012:role/PipelineRole"
CONN = "arn:aws:codeconnections:us-east-1:123456789012:connection/abc"
SNAPSHOT = Path(__file__).parent / "snapshots" / "rule_messages.txt"


def t(category: str, provider: str, owner: str = "AWS") -> dict[str, str]:
    return {"category": category, "owner": owner, "provider": provider, "version": "1"}


def base() -> dict[str, Any]:
    """A V2 pipeline with a connection source, a build and a deploy: lints without any issue."""
    return {
        "name": "web",
        "roleArn": ROLE,
        "artifactStore": {"type": "S3", "location": "artifact-bucket"},
        "pipelineType": "V2",
        "stages": [
            {
                "name": "Source",
                "actions": [
                    {
                        "name": "Source",
                        "actionTypeId": t("Source", "CodeStarSourceConnection"),
                        "configuration": {"ConnectionArn": CONN, "FullRepositoryId": "acme/web", "BranchName": "main"},
                        "outputArtifacts": [{"name": "SourceOutput"}],
                        "namespace": "SourceVariables",
                    }
                ],
            },
            {
                "name": "Build",
                "actions": [
                    {
                        "name": "Build",
                        "actionTypeId": t("Build", "CodeBuild"),
                        "configuration": {"ProjectName": "web"},
                        "inputArtifacts": [{"name": "SourceOutput"}],
                        "outputArtifacts": [{"name": "BuildOutput"}],
                        "namespace": "BuildVariables",
                    }
                ],
            },
            {
                "name": "Deploy",
                "actions": [
                    {
                        "name": "Deploy",
                        "actionTypeId": t("Deploy", "CodeDeploy"),
                        "configuration": {"ApplicationName": "web", "DeploymentGroupName": "prod"},
                        "inputArtifacts": [{"name": "BuildOutput"}],
                    }
                ],
            },
        ],
    }


def action(d: dict[str, Any], stage: int, index: int = 0) -> dict[str, Any]:
    result: dict[str, Any] = d["stages"][stage]["actions"][index]
    return result


def add(d: dict[str, Any], stage: int, item: dict[str, Any]) -> dict[str, Any]:
    d["stages"][stage]["actions"].append(item)
    return item


def commands_action(**extra: Any) -> dict[str, Any]:
    item = {
        "name": "Cmd",
        "actionTypeId": t("Compute", "Commands"),
        "inputArtifacts": [{"name": "SourceOutput"}],
        "commands": ["make test"],
    }
    item.update(extra)
    return item


def rule(provider: str, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": "Check", "ruleTypeId": {"category": "Rule", "owner": "AWS", "provider": provider}}
    out.update(extra)
    return out


VARIABLE_CHECK = rule(
    "VariableCheck", configuration={"Variable": "#{BuildVariables.X}", "Value": "1", "Operator": "EQ"}
)


def trigger(name: str = "Source", **git: Any) -> dict[str, Any]:
    return {
        "providerType": "CodeStarSourceConnection",
        "gitConfiguration": {"sourceActionName": name, **git},
    }


Mutation = Callable[[dict[str, Any]], Any]


def case(code: str, path: str, mutate: Mutation, *, region: str | None = None, id: str | None = None) -> Any:
    return pytest.param(code, path, mutate, region, id=id or code)


def _set(obj: dict[str, Any], key: str, value: Any) -> None:
    obj[key] = value


def _model(d: dict[str, Any], **kwargs: Any) -> pw.Pipeline:
    return attrs.evolve(from_codepipeline(d), **kwargs)


def _stages(n: int, per_stage: int) -> Mutation:
    def mutate(d: dict[str, Any]) -> None:
        d["stages"] = d["stages"][:1]
        for s in range(n - 1):
            d["stages"].append(
                {
                    "name": f"S{s}",
                    "actions": [
                        {"name": f"A{i}", "actionTypeId": t("Approval", "Manual"), "runOrder": 1 + i % 3}
                        for i in range(per_stage)
                    ],
                }
            )

    return mutate


def _cfn(d: dict[str, Any], **config: str) -> None:
    add(
        d,
        2,
        {
            "name": "Stack",
            "actionTypeId": t("Deploy", "CloudFormation"),
            "configuration": {"StackName": "web", **config},
            "inputArtifacts": [{"name": "BuildOutput"}],
        },
    )


ACCOUNT_2 = "arn:aws:iam::222222222222:role/Deploy"

CASES = [
    # -- shape -------------------------------------------------------------------------------
    case("PW001", "stages[0].Actions", lambda d: _set(d["stages"][0], "Actions", [])),
    case("PW002", "roleArn", lambda d: d.pop("roleArn")),
    case("PW003", "artifactStores", lambda d: (d.pop("artifactStore"), _set(d, "artifactStores", [{}]))),
    case("PW010", "name", lambda d: _set(d, "name", "my pipeline")),
    case(
        "PW011",
        "stages[1].actions[0].configuration.ProjectName",
        lambda d: _set(action(d, 1)["configuration"], "ProjectName", ""),
    ),
    case("PW012", "executionMode", lambda d: _set(d, "executionMode", "queued")),
    case("PW013", "triggers[0].gitConfiguration.push", lambda d: _set(d, "triggers", [trigger(push=[])])),
    case("PW014", "stages[1].actions[0].runOrder", lambda d: _set(action(d, 1), "runOrder", 1000)),
    # -- pipeline and stages -----------------------------------------------------------------
    case("PW101", "artifactStore", lambda d: d.pop("artifactStore")),
    case(
        "PW102",
        "artifactStores",
        lambda d: _set(d, "artifactStores", {"us-east-1": {"type": "S3", "location": "bucket-a"}}),
    ),
    case(
        "PW103",
        "artifactStore",
        lambda d: (_set(action(d, 1), "region", "eu-west-1"), _set(action(d, 2), "region", "us-west-2")),
        id="PW103-two-regions",
    ),
    case(
        "PW103",
        "stages[2].actions[0].region",
        lambda d: _set(action(d, 2), "region", "us-west-2"),
        region="us-east-1",
        id="PW103-known-region",
    ),
    case(
        "PW104",
        "stages[1].actions[0].region",
        lambda d: (
            d.pop("artifactStore"),
            _set(d, "artifactStores", {"us-east-1": {"type": "S3", "location": "bucket-a"}}),
            _set(action(d, 1), "region", "eu-west-1"),
        ),
    ),
    case(
        "PW105",
        "artifactStores",
        lambda d: (
            d.pop("artifactStore"),
            _set(d, "artifactStores", {"eu-west-1": {"type": "S3", "location": "bucket-a"}}),
            _set(action(d, 1), "region", "eu-west-1"),
        ),
        region="us-east-1",
    ),
    case(
        "PW104",
        "stages[2].onSuccess.conditions[0].rules[0].region",
        lambda d: (
            d.pop("artifactStore"),
            _set(d, "artifactStores", {"us-east-1": {"type": "S3", "location": "bucket-a"}}),
            _set(
                d["stages"][2],
                "onSuccess",
                {"conditions": [{"result": "FAIL", "rules": [{**VARIABLE_CHECK, "region": "eu-west-1"}]}]},
            ),
        ),
        id="PW104-rule",
    ),
    case("PW106", "stages", lambda d: _set(d, "stages", d["stages"][:1])),
    case("PW107", "stages[2].name", lambda d: _set(d["stages"][2], "name", "Build")),
    case("PW108", "stages[2].actions", lambda d: _set(d["stages"][2], "actions", [])),
    case(
        "PW109",
        "stages[0].actions[1].actionTypeId.category",
        lambda d: add(d, 0, {"name": "Approve", "actionTypeId": t("Approval", "Manual")}),
    ),
    case(
        "PW110",
        "stages[1].actions[1].actionTypeId.category",
        lambda d: add(
            d,
            1,
            {
                "name": "More",
                "actionTypeId": t("Source", "S3"),
                "configuration": {"S3Bucket": "b", "S3ObjectKey": "k.zip", "PollForSourceChanges": "false"},
                "outputArtifacts": [{"name": "More"}],
            },
        ),
    ),
    case(
        "PW111",
        "variables",
        lambda d: (_set(d, "pipelineType", "V1"), _set(d, "variables", [{"name": "env"}])),
    ),
    case(
        "PW112",
        "disabledTransitions.Prod",
        lambda d: _model(d, disabled_transitions={"Prod": "release freeze"}),
    ),
    case(
        "PW113",
        "disabledTransitions.Deploy",
        lambda d: _model(d, disabled_transitions={"Deploy": "freeze; see #12"}),
    ),
    case(
        "PW114",
        'artifactStores["eu-west-1"].encryptionKey.id',
        lambda d: (
            d.pop("artifactStore"),
            _set(
                d,
                "artifactStores",
                {
                    r: {
                        "type": "S3",
                        "location": f"bucket-{r}",
                        "encryptionKey": {"id": "arn:aws:kms:us-east-1:123456789012:key/k", "type": "KMS"},
                    }
                    for r in ("us-east-1", "eu-west-1")
                },
            ),
            _set(action(d, 2), "region", "eu-west-1"),
        ),
    ),
    # -- actions and artifacts ---------------------------------------------------------------
    case(
        "PW201",
        "stages[2].actions[1].name",
        lambda d: add(d, 2, copy.deepcopy(action(d, 2))),
    ),
    case(
        "PW202",
        "stages[1].actions[0].actionTypeId.provider",
        lambda d: _set(action(d, 1)["actionTypeId"], "provider", "CodeBiuld"),
    ),
    case(
        "PW202",
        "stages[1].actions[0].actionTypeId.category",
        lambda d: _set(action(d, 1)["actionTypeId"], "category", "Deploy"),
        id="PW202-wrong-category",
    ),
    case("PW205", "stages[1].actions[0].inputArtifacts", lambda d: _set(action(d, 1), "inputArtifacts", [])),
    case(
        "PW206",
        "stages[2].actions[1].outputArtifacts",
        lambda d: add(
            d, 2, {"name": "Approve", "actionTypeId": t("Approval", "Manual"), "outputArtifacts": [{"name": "X"}]}
        ),
    ),
    case(
        "PW207",
        "stages[1].actions[1].outputArtifacts[0].name",
        lambda d: add(d, 1, {**copy.deepcopy(action(d, 1)), "name": "Build2", "namespace": "B2"}),
    ),
    case(
        "PW208",
        "stages[2].actions[0].inputArtifacts[0].name",
        lambda d: _set(action(d, 2), "inputArtifacts", [{"name": "BuildOutptu"}]),
    ),
    case(
        "PW209",
        "stages[1].actions[1].inputArtifacts[0].name",
        lambda d: add(
            d,
            1,
            {
                "name": "Test",
                "actionTypeId": t("Test", "CodeBuild"),
                "configuration": {"ProjectName": "t"},
                "inputArtifacts": [{"name": "BuildOutput"}],
            },
        ),
    ),
    case(
        "PW210",
        "stages[2].actions[0].configuration.DeploymentGroupName",
        lambda d: action(d, 2)["configuration"].pop("DeploymentGroupName"),
    ),
    case(
        "PW211",
        "stages[2].actions[1].configuration.ChangeSetName",
        lambda d: _cfn(d, ActionMode="CHANGE_SET_EXECUTE"),
    ),
    case(
        "PW212",
        "stages[1].actions[0].configuration.Timeout",
        lambda d: _set(action(d, 1)["configuration"], "Timeout", "5"),
    ),
    case(
        "PW213",
        "stages[2].actions[0].configuration.Extract",
        lambda d: (
            _set(
                action(d, 2),
                "actionTypeId",
                t("Deploy", "S3"),
            )
            or _set(action(d, 2), "configuration", {"BucketName": "site", "Extract": "yes"})
        ),
    ),
    case(
        "PW213",
        "stages[2].actions[0].configuration.DeploymentTimeout",
        lambda d: (
            _set(action(d, 2), "actionTypeId", t("Deploy", "ECS")),
            _set(action(d, 2), "configuration", {"ClusterName": "c", "ServiceName": "s", "DeploymentTimeout": "90"}),
        ),
        id="PW213-range",
    ),
    case(
        "PW213",
        "stages[2].actions[0].configuration.DeployStrategy",
        lambda d: (
            _set(action(d, 2), "actionTypeId", t("Deploy", "Lambda")),
            _set(
                action(d, 2),
                "configuration",
                {"FunctionName": "fn", "FunctionAlias": "live", "DeployStrategy": "Canary10Percent"},
            ),
        ),
        id="PW213-pattern",
    ),
    case("PW214", "stages[1].actions[0].commands", lambda d: _set(action(d, 1), "commands", ["make"])),
    case(
        "PW214",
        "stages[2].actions[1].environmentVariables[0].type",
        lambda d: add(
            d,
            2,
            {
                "name": "Eks",
                "actionTypeId": t("Deploy", "EKS"),
                "configuration": {"ClusterName": "c", "ManifestFiles": "k8s.yaml"},
                "inputArtifacts": [{"name": "BuildOutput"}],
                "environmentVariables": [{"name": "TOKEN", "value": "token", "type": "SECRETS_MANAGER"}],
            },
        ),
        id="PW214-secrets",
    ),
    case("PW215", "stages[1].actions[1].commands", lambda d: add(d, 1, commands_action(commands=None))),
    case(
        "PW216",
        "stages[0].actions[0].region",
        lambda d: (
            d.pop("artifactStore"),
            _set(
                d,
                "artifactStores",
                {r: {"type": "S3", "location": f"bucket-{r}"} for r in ("us-east-1", "eu-west-1")},
            ),
            _set(action(d, 0), "region", "eu-west-1"),
        ),
        region="us-east-1",
    ),
    case("PW217", "stages[2].actions[0].namespace", lambda d: _set(action(d, 2), "namespace", "BuildVariables")),
    case(
        "PW221",
        "stages[2].actions[1].configuration.TemplatePath",
        lambda d: _cfn(d, ActionMode="CREATE_UPDATE", RoleArn=ROLE, TemplatePath="SourceOutput::t.yaml"),
    ),
    case(
        "PW222",
        "stages[1].actions[0].configuration.EnvironmentVariables",
        lambda d: _set(action(d, 1)["configuration"], "EnvironmentVariables", "[{name: X}]"),
    ),
    case(
        "PW223",
        "stages[1].actions[1].actionTypeId.provider",
        lambda d: (_set(d, "pipelineType", "V1"), add(d, 1, commands_action())),
    ),
    # -- variables ---------------------------------------------------------------------------
    case(
        "PW301",
        "stages[2].actions[0].configuration.DeploymentGroupName",
        lambda d: _set(action(d, 2)["configuration"], "DeploymentGroupName", "#{Sourcevariables.BranchName}"),
    ),
    case(
        "PW302",
        "stages[1].actions[0].configuration.ProjectName",
        lambda d: _set(action(d, 1)["configuration"], "ProjectName", "#{BuildVariables.Name}"),
    ),
    case(
        "PW303",
        "stages[2].actions[0].configuration.DeploymentGroupName",
        lambda d: _set(action(d, 2)["configuration"], "DeploymentGroupName", "#{variables.env}"),
    ),
    case("PW305", "stages[2].actions[0].namespace", lambda d: _set(action(d, 2), "namespace", "SourceOutput")),
    case(
        "PW306",
        "variables[1].name",
        lambda d: _set(d, "variables", [{"name": "env"}, {"name": "env"}]),
    ),
    case("PW307", "stages[2].actions[0].namespace", lambda d: _set(action(d, 2), "namespace", "variables")),
    # -- triggers ----------------------------------------------------------------------------
    case(
        "PW401",
        "triggers[0].gitConfiguration.sourceActionName",
        lambda d: _set(d, "triggers", [trigger("Sorce")]),
    ),
    case(
        "PW402",
        "triggers[0].gitConfiguration.sourceActionName",
        lambda d: _set(d, "triggers", [trigger("Build")]),
    ),
    case(
        "PW403",
        "triggers[1].gitConfiguration.sourceActionName",
        lambda d: _set(d, "triggers", [trigger(), trigger()]),
    ),
    case(
        "PW404",
        "triggers[0].gitConfiguration.push[0]",
        lambda d: _set(
            d, "triggers", [trigger(push=[{"tags": {"includes": ["v*"]}, "branches": {"includes": ["main"]}}])]
        ),
    ),
    case(
        "PW405",
        "triggers[0].gitConfiguration.pullRequest[0]",
        lambda d: _set(d, "triggers", [trigger(pullRequest=[{"filePaths": {"includes": ["src/**"]}}])]),
    ),
    case(
        "PW715",
        "name",
        lambda d: _model(d, name="{{resolve:ssm:/ci/pipeline-name}}"),
        id="PW715-dynamic-reference-name",
    ),
    case(
        "PW714",
        "triggers[0].gitConfiguration.push[0].filePaths.excludes[1]",
        lambda d: _set(
            d,
            "triggers",
            [
                trigger(
                    push=[
                        {
                            "branches": {"includes": ["release/{1,2}.x", "main"]},
                            "filePaths": {"excludes": ["docs/**", "src/[a-z"]},
                        }
                    ]
                )
            ],
        ),
    ),
    # -- stage conditions --------------------------------------------------------------------
    case(
        "PW501",
        "stages[2].beforeEntry.conditions[0].result",
        lambda d: _set(
            d["stages"][2], "beforeEntry", {"conditions": [{"result": "ROLLBACK", "rules": [VARIABLE_CHECK]}]}
        ),
    ),
    case(
        "PW502",
        "stages[2].onFailure.result",
        lambda d: (_set(d, "executionMode", "PARALLEL"), _set(d["stages"][2], "onFailure", {"result": "ROLLBACK"})),
    ),
    case(
        "PW503",
        "stages[2].onFailure.conditions",
        lambda d: _set(
            d["stages"][2],
            "onFailure",
            {
                "result": "RETRY",
                "retryConfiguration": {"retryMode": "FAILED_ACTIONS"},
                "conditions": [{"result": "ROLLBACK", "rules": [VARIABLE_CHECK]}],
            },
        ),
    ),
    case(
        "PW504",
        "stages[2].beforeEntry.conditions[0].rules[0].ruleTypeId.provider",
        lambda d: _set(
            d["stages"][2],
            "beforeEntry",
            {"conditions": [{"result": "SKIP", "rules": [rule("CloudWatchAlarm", configuration={"AlarmName": "a"})]}]},
        ),
    ),
    case(
        "PW505",
        "stages[2].onSuccess.conditions[0].rules",
        lambda d: _set(d["stages"][2], "onSuccess", {"conditions": [{"result": "FAIL"}]}),
    ),
    case(
        "PW506",
        "stages[0].onFailure.result",
        lambda d: _set(d["stages"][0], "onFailure", {"result": "ROLLBACK"}),
    ),
    case(
        "PW508",
        "stages[2].onSuccess.conditions[0].rules[0].ruleTypeId.provider",
        lambda d: _set(
            d["stages"][2], "onSuccess", {"conditions": [{"result": "FAIL", "rules": [rule("VariableChek")]}]}
        ),
    ),
    case(
        "PW509",
        "stages[2].onSuccess.conditions[0].rules[0].configuration.AlarmName",
        lambda d: _set(
            d["stages"][2], "onSuccess", {"conditions": [{"result": "FAIL", "rules": [rule("CloudWatchAlarm")]}]}
        ),
    ),
    case(
        "PW510",
        "stages[2].beforeEntry.conditions[0].rules[0].configuration.Zone",
        lambda d: _set(
            d["stages"][2],
            "beforeEntry",
            {
                "conditions": [
                    {
                        "result": "FAIL",
                        "rules": [
                            rule("DeploymentWindow", configuration={"Cron": "0 0 9 ? * MON-FRI *", "Zone": "UTC"})
                        ],
                    }
                ]
            },
        ),
    ),
    case(
        "PW511",
        "stages[2].onSuccess.conditions[0].rules[0].commands",
        lambda d: _set(d["stages"][2], "onSuccess", {"conditions": [{"result": "FAIL", "rules": [rule("Commands")]}]}),
    ),
    case(
        "PW512",
        "stages[2].beforeEntry.conditions[0].rules[0].configuration.Cron",
        lambda d: _set(
            d["stages"][2],
            "beforeEntry",
            {
                "conditions": [
                    {"result": "FAIL", "rules": [rule("DeploymentWindow", configuration={"Cron": "0 9 ? * MON-FRI *"})]}
                ]
            },
        ),
    ),
    # -- quotas ------------------------------------------------------------------------------
    case("PW601", "stages", _stages(51, 1)),
    case("PW602", "stages[1].actions", _stages(2, 51)),
    case("PW603", "stages", _stages(12, 46)),
    case(
        "PW604",
        "tags",
        lambda d: {"pipeline": d, "tags": [{"key": f"k{i}", "value": "v"} for i in range(51)]},
    ),
    case("PW605", "tags[0]", lambda d: {"pipeline": d, "tags": [{"key": "aws:team", "value": "x"}]}),
    # -- warnings ----------------------------------------------------------------------------
    case(
        "PW701",
        "stages[1].actions[1].commands[0]",
        lambda d: add(d, 1, commands_action(commands=["echo #{SourceVariables.CommitMessage}"])),
    ),
    case(
        "PW702",
        "stages[0].actions[0].configuration.PollForSourceChanges",
        lambda d: (
            _set(action(d, 0), "actionTypeId", t("Source", "CodeCommit")),
            _set(action(d, 0), "configuration", {"RepositoryName": "web", "BranchName": "main"}),
        ),
    ),
    case("PW703", "artifactStore", lambda d: _set(action(d, 2), "roleArn", ACCOUNT_2)),
    case(
        "PW704",
        "stages[2].actions[0].configuration.DeploymentGroupName",
        lambda d: _set(action(d, 2)["configuration"], "DeploymentGroupName", "#{codepipeline.ExecutionId}"),
    ),
    case("PW705", "pipelineType", lambda d: (d.pop("pipelineType"), _set(d, "executionMode", "QUEUED"))),
    case(
        "PW706",
        "stages[2].actions[1].actionTypeId.provider",
        lambda d: add(
            d,
            2,
            {"name": "ApiTest", "actionTypeId": t("Test", "Runscope", "ThirdParty"), "configuration": {"TestId": "x"}},
        ),
    ),
    case(
        "PW707",
        "stages[0].actions[0].configuration.Token",
        lambda d: (
            _set(action(d, 0), "actionTypeId", t("Source", "GitHub", "ThirdParty")),
            _set(
                action(d, 0),
                "configuration",
                {
                    "Owner": "acme",
                    "Repo": "web",
                    "Branch": "main",
                    "OAuthToken": "****",
                    "PollForSourceChanges": "false",
                    "Token": "x",
                },
            ),
            action(d, 0).pop("namespace"),
        ),
    ),
    case("PW708", "stages[1].actions[0].timeoutInMinutes", lambda d: _set(action(d, 1), "timeoutInMinutes", 30)),
    case(
        "PW709",
        "stages[2].actions[0].configuration.DeploymentGroupName",
        lambda d: _set(action(d, 2)["configuration"], "DeploymentGroupName", "#{SourceVariables.Commit}"),
    ),
    case(
        "PW710",
        "stages[2].actions[0].configuration.DeploymentGroupName",
        lambda d: _set(action(d, 2)["configuration"], "DeploymentGroupName", "prod-#{SourceVariables}"),
    ),
    case(
        "PW713",
        "stages[1].actions[1].commands[0]",
        lambda d: add(d, 1, commands_action(commands=["set -e\nmake"])),
    ),
    case(
        "PW711",
        "artifactStores",
        lambda d: (
            d.pop("artifactStore"),
            _set(
                d,
                "artifactStores",
                {r: {"type": "S3", "location": f"bucket-{r}"} for r in ("us-east-1", "eu-west-1", "ap-south-1")},
            ),
        ),
    ),
    case(
        "PW712",
        "artifactStore.encryptionKey.id",
        lambda d: (
            _set(d["artifactStore"], "encryptionKey", {"id": "alias/pipeline", "type": "KMS"}),
            _set(action(d, 2), "roleArn", ACCOUNT_2),
        ),
    ),
]

#: Codes without a minimal-pipeline case, and why.
UNTESTABLE = {
    "PW000": "raised by the JSON text loader (pipeweaver.synth.loads), not by lint",
    "PW004": "the shape walk follows the schema, which is never 64 levels deep; a guard only",
    "PW099": "reported only when a rule crashes; the fuzz tests assert it never appears",
    # Template-level rules read a whole CloudFormation template, not a declaration: their cases
    # (one per wrong reference, and the YAML forms) are in tests/test_template_refs.py.
    **dict.fromkeys(("PW801", "PW802", "PW803"), "template level: cases in tests/test_template_refs.py"),
    **dict.fromkeys(("PW804", "PW805"), "template level: cases in tests/test_template_refs.py"),
}


def _target(mutate: Mutation) -> Any:
    """Apply *mutate* to a fresh base; it may return a model or an envelope to lint instead."""
    d = base()
    result = mutate(d)
    if isinstance(result, pw.Pipeline) or (isinstance(result, dict) and "pipeline" in result):
        return result
    return d


def test_base_is_clean() -> None:
    """The base pipeline of every case lints without any issue, so each case shows one rule."""
    assert [] == pw.lint(base())


@pytest.mark.parametrize(("code", "path", "mutate", "region"), CASES)
def test_rule(code: str, path: str, mutate: Mutation, region: str | None) -> None:
    """Each minimal bad pipeline gets its rule's code at the expected path, with the rule's severity."""
    issues = pw.lint(_target(mutate), region=region)

    found = [(i.code, i.path, i.severity) for i in issues if i.code == code]
    assert (code, path, RULES[code].severity) in found, [str(i) for i in issues]


def test_every_rule_has_a_case() -> None:
    """Every documented code is exercised by a case above (or is listed with a reason why not)."""
    covered = {p.values[0] for p in CASES}

    assert set(RULES) - set(UNTESTABLE) == covered


def _snapshot() -> str:
    lines = []
    for p in CASES:
        code, _path, mutate, region = p.values
        lines.append(f"## {p.id}")
        lines.extend(str(i) for i in pw.lint(_target(mutate), region=region) if i.code == code)
    return "\n".join(lines) + "\n"


def test_messages_snapshot() -> None:
    """Messages and hints of every rule case match the reviewed snapshot."""
    text = _snapshot()
    if os.environ.get("PIPEWEAVER_UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(text)

    assert SNAPSHOT.read_text() == text


def test_hints_name_near_misses() -> None:
    """Near-miss names get a "did you mean" hint naming the intended value."""
    expectations = {
        "PW202": "did you mean 'CodeBuild'?",
        "PW208": "did you mean 'BuildOutput'?",
        "PW301": "did you mean #{SourceVariables.BranchName}? (the action that emits BranchName has namespace 'SourceVariables')",
        "PW401": "did you mean 'Source'?",
        "PW508": "did you mean 'VariableCheck'?",
    }
    hints = {}
    for p in CASES:
        code, _path, mutate, region = p.values
        if code in expectations and p.id == code:
            hints[code] = next(i.hint for i in pw.lint(_target(mutate), region=region) if i.code == code)

    assert expectations == hints
