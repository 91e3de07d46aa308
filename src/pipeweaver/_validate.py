"""Validation: every rule AWS enforces, collected in one pass, on a model or on raw JSON.

Layer: validate. Imports the model, its codec, the shape walker and the provider catalog; never
networkx, the execution side or the synth side. Rules run on the API-shaped JSON (a model is
rendered once), so a path means the same thing however the pipeline arrived, and rules still
run on the well-formed parts of a definition whose other parts are broken. ``lint`` never
raises on bad input: malformed definitions come back as issues too.

Rule sources: reference/codepipeline.md §1-§3 and §6, which cite the AWS pages; each rule's
page is in :data:`RULES` (and in the generated ``docs/rules.md``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, cast, final

import attrs

from . import _catalog, _cfn, _cfn_refs
from ._codec import is_intrinsic, to_codepipeline, unwrap
from ._loader import load_json
from ._model import SERVICES, Expression, Pipeline
from ._shapes import check_shape, join_key
from ._triggers import compile_glob
from .errors import DefinitionError, Issue, LoadError, Severity, ValidationError

__all__ = ["RULES", "RuleInfo", "lint", "validate"]

_UG: Final = "https://docs.aws.amazon.com/codepipeline/latest/userguide/"
_CFN: Final = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/"


@final
@attrs.frozen(kw_only=True)
class RuleInfo:
    """
    One documented rule: what the code means, why AWS cares, and a minimal bad example.

    .. versionadded:: 0.1.0
    """

    code: str
    severity: Severity
    title: str
    why: str
    example: str
    source: str


def _r(code: str, severity: Severity, title: str, why: str, example: str, source: str) -> RuleInfo:
    return RuleInfo(code=code, severity=severity, title=title, why=why, example=example, source=source)


def _in_code_order(*rules: RuleInfo) -> list[RuleInfo]:
    return sorted(rules, key=lambda r: r.code)


#: Every issue code pipeweaver reports, in code order (the rule catalog of the docs).
RULES: Final[Mapping[str, RuleInfo]] = {
    r.code: r
    for r in _in_code_order(
        # -- shape (reported by pipeweaver._shapes; documented here) --------------------------
        _r("PW000", "error", "Input is not JSON", "The file could not be parsed.", "{name: x}", "JSON"),
        _r(
            "PW001",
            "error",
            "Unknown field",
            "The API rejects fields it does not define (often a typo or a CloudFormation-cased key).",
            '{"stages": [{"name": "S", "Actions": []}]}',
            "botocore service model",
        ),
        _r(
            "PW002",
            "error",
            "Required field missing",
            "The API model marks the field required.",
            '{"name": "p", "stages": []}  # no roleArn',
            "botocore service model",
        ),
        _r(
            "PW003",
            "error",
            "Wrong type",
            "Each field has one JSON type (a map is not a list, a number is not a string).",
            '{"artifactStores": [{"region": "us-east-1"}]}',
            "botocore service model",
        ),
        _r(
            "PW004",
            "error",
            "Nested too deeply",
            "No declaration is this deep; the input is not a pipeline.",
            "[[[[...]]]]",
            "pipeweaver",
        ),
        _r(
            "PW010",
            "error",
            "Value breaks the field's pattern",
            "Names, ARNs and identifiers have fixed character sets.",
            '{"name": "my pipeline"}',
            "botocore service model",
        ),
        _r(
            "PW011",
            "error",
            "Value too short or too long",
            "Strings have length limits (configuration values 1-1000, names 1-100, ...).",
            '{"configuration": {"ProjectName": ""}}',
            "botocore service model",
        ),
        _r(
            "PW012",
            "error",
            "Value not in the allowed set",
            "Enumerated fields accept only AWS's exact strings.",
            '{"executionMode": "queued"}',
            "botocore service model",
        ),
        _r(
            "PW013",
            "error",
            "Too few or too many items",
            "Lists and maps have item limits (commands 1-50, rules 1-5, ...).",
            '{"outputVariables": []}',
            "botocore service model",
        ),
        _r(
            "PW014",
            "error",
            "Number out of range",
            "runOrder is 1-999, timeoutInMinutes 5-86400.",
            '{"runOrder": 1000}',
            "botocore service model",
        ),
        _r(
            "PW099",
            "error",
            "Internal validator error",
            "A rule crashed on this input; the other rules still ran. Please report it.",
            "(none)",
            "pipeweaver",
        ),
        # -- pipeline and stages --------------------------------------------------------------
        _r(
            "PW101",
            "error",
            "No artifact store",
            "P2: exactly one of artifactStore and artifactStores is required.",
            '{"name": "p", "roleArn": "...", "stages": [...]}',
            _UG + "pipeline-requirements.html",
        ),
        _r(
            "PW102",
            "error",
            "Both artifactStore and artifactStores",
            "P2: exactly one of artifactStore and artifactStores is allowed.",
            '{"artifactStore": {...}, "artifactStores": {...}}',
            _UG + "pipeline-requirements.html",
        ),
        _r(
            "PW103",
            "error",
            "Cross-region action with a single artifactStore",
            "P2: actions in other regions need artifactStores, one bucket per region.",
            '{"artifactStore": {...}, "stages": [..., {"actions": [{"region": "eu-west-1", ...}]}]}',
            _UG + "actions-create-cross-region.html",
        ),
        _r(
            "PW104",
            "error",
            "Action region has no artifact store",
            "P3: artifactStores needs an entry for every region an action runs in.",
            '{"artifactStores": {"us-east-1": {...}}, ... {"region": "eu-west-1"}}',
            _UG + "actions-create-cross-region.html",
        ),
        _r(
            "PW105",
            "error",
            "Pipeline region has no artifact store",
            "P3: artifactStores needs an entry for the pipeline's own region (checked when lint is given region=).",
            'lint(p, region="us-east-1") with artifactStores {"eu-west-1": ...}',
            _UG + "actions-create-cross-region.html",
        ),
        _r(
            "PW106",
            "error",
            "Fewer than two stages",
            "P4: a pipeline has at least two stages (a source stage and one more).",
            '{"stages": [{"name": "Source", ...}]}',
            _UG + "pipeline-requirements.html",
        ),
        _r(
            "PW107",
            "error",
            "Duplicate stage name",
            "P5: stage names are unique in a pipeline.",
            '{"stages": [{"name": "Build"}, {"name": "Build"}]}',
            _UG + "stage-requirements.html",
        ),
        _r(
            "PW108",
            "error",
            "Stage has no actions",
            "P6: every stage has at least one action.",
            '{"name": "Deploy", "actions": []}',
            _UG + "stage-requirements.html",
        ),
        _r(
            "PW109",
            "error",
            "Non-source action in the first stage",
            "P7: the first stage contains only Source actions.",
            'stages[0].actions: [{"actionTypeId": {"category": "Build", ...}}]',
            _UG + "pipeline-requirements.html",
        ),
        _r(
            "PW110",
            "error",
            "Source action after the first stage",
            "P8: Source actions are allowed only in the first stage.",
            'stages[1].actions: [{"actionTypeId": {"category": "Source", ...}}]',
            _UG + "pipeline-requirements.html",
        ),
        _r(
            "PW111",
            "error",
            "V2 feature in a V1 pipeline",
            "P11: variables, triggers, QUEUED/PARALLEL mode and stage conditions need pipelineType V2.",
            '{"pipelineType": "V1", "variables": [{"name": "env"}]}',
            _UG + "pipeline-types-planning.html",
        ),
        _r(
            "PW112",
            "error",
            "Disabled transition names no stage",
            "A disabled inbound transition must name a stage of the pipeline.",
            'Pipeline(..., disabled_transitions={"Prod": "freeze"}) without a stage Prod',
            _UG + "transitions.html",
        ),
        _r(
            "PW113",
            "error",
            "Disabled transition reason invalid",
            "The reason is 1-300 characters of letters, digits, spaces and !@().*?-.",
            'disabled_transitions={"Prod": "freeze; see #12"}',
            "botocore service model (DisableStageTransition)",
        ),
        _r(
            "PW114",
            "error",
            "Artifact store key in another region",
            "P3: the KMS key of each artifact store lives in that store's region (KMS keys are regional).",
            '{"artifactStores": {"eu-west-1": {"encryptionKey": {"id": "arn:aws:kms:us-east-1:...:key/k"}}}}',
            _UG + "actions-create-cross-region.html",
        ),
        # -- actions and artifacts ------------------------------------------------------------
        _r(
            "PW201",
            "error",
            "Duplicate action name in a stage",
            "A1: action names are unique within a stage.",
            '{"actions": [{"name": "Build"}, {"name": "Build"}]}',
            _UG + "action-requirements.html",
        ),
        _r(
            "PW202",
            "error",
            "Unknown AWS action type",
            "A2: AWS rejects an actionTypeId that does not exist (provider, category and version together).",
            '{"category": "Build", "owner": "AWS", "provider": "CodeBiuld", "version": "1"}',
            _UG + "actions-valid-providers.html",
        ),
        _r(
            "PW205",
            "error",
            "Wrong number of input artifacts",
            "A3: each action type takes a fixed range of input artifacts.",
            "a CodeBuild action with no inputArtifacts",
            _UG + "reference-action-artifacts.html",
        ),
        _r(
            "PW206",
            "error",
            "Wrong number of output artifacts",
            "A3/A17: each action type produces a fixed range of output artifacts.",
            "a Manual approval with an outputArtifacts entry",
            _UG + "reference-action-artifacts.html",
        ),
        _r(
            "PW207",
            "error",
            "Duplicate output artifact name",
            "A4: output artifact names are unique across the whole pipeline.",
            'two actions with outputArtifacts [{"name": "Out"}]',
            _UG + "welcome-introducing-artifacts.html",
        ),
        _r(
            "PW208",
            "error",
            "Input artifact not produced by any action",
            "A5: every input artifact is the output of an earlier action.",
            'inputArtifacts [{"name": "SourceOut"}] with no action producing SourceOut',
            _UG + "welcome-introducing-artifacts.html",
        ),
        _r(
            "PW209",
            "error",
            "Input artifact produced too late",
            "A5: the producer must run strictly before: an earlier stage, or a lower runOrder in the same stage.",
            "Build (runOrder 1) reads an artifact that Package (runOrder 1, same stage) writes",
            _UG + "action-requirements.html",
        ),
        _r(
            "PW210",
            "error",
            "Required configuration key missing",
            "A7: each provider has required settings.",
            '{"provider": "CodeDeploy", "configuration": {}}',
            _UG + "action-requirements.html",
        ),
        _r(
            "PW211",
            "error",
            "Conditionally required configuration key missing",
            "A7: some settings become required in a mode (ChangeSetName for change-set modes, ...).",
            '{"provider": "CloudFormation", "configuration": {"ActionMode": "CHANGE_SET_REPLACE", ...}}',
            _UG + "action-reference-CloudFormation.html",
        ),
        _r(
            "PW212",
            "error",
            "Unknown configuration key",
            "A8: AWS rejects configuration keys its action types do not define.",
            '{"provider": "CodeBuild", "configuration": {"ProjectNmae": "x"}}',
            _UG + "action-requirements.html",
        ),
        _r(
            "PW213",
            "error",
            "Configuration value not allowed",
            "A7: some settings take one of a few values (booleans as 'true'/'false', modes, types).",
            '{"configuration": {"ActionMode": "CREATE"}}',
            _UG + "action-requirements.html",
        ),
        _r(
            "PW214",
            "error",
            "Compute-only field on another action",
            "A10: commands, outputArtifacts[].files and outputVariables only on Compute actions; "
            "environmentVariables only on Commands and EKS actions.",
            '{"actionTypeId": {"category": "Build", ...}, "commands": ["make"]}',
            _UG + "action-reference-Commands.html",
        ),
        _r(
            "PW215",
            "error",
            "Commands action without commands",
            "A10: the Commands action must have a non-empty commands list.",
            '{"actionTypeId": {"category": "Compute", "provider": "Commands", ...}}',
            _UG + "action-reference-Commands.html",
        ),
        _r(
            "PW216",
            "error",
            "Region on an action that must run in the pipeline region",
            "A11: Source, ThirdParty and Custom actions cannot be cross-region (checked when lint is given region=).",
            'lint(p, region="us-east-1") with a Source action {"region": "eu-west-1"}',
            _UG + "actions-create-cross-region.html",
        ),
        _r(
            "PW217",
            "error",
            "Duplicate namespace",
            "A12: action namespaces are unique in a pipeline.",
            'two actions with "namespace": "SourceVariables"',
            _UG + "reference-variables.html",
        ),
        _r(
            "PW221",
            "error",
            "Configuration names an artifact that is not an input",
            "A16: TemplatePath, PrimarySource, TaskDefinitionTemplateArtifact, ... must name one of the "
            "action's input artifacts.",
            '{"inputArtifacts": [{"name": "Build"}], "configuration": {"TemplatePath": "Src::t.yaml"}}',
            _UG + "action-reference-CloudFormation.html",
        ),
        _r(
            "PW222",
            "error",
            "Configuration value is not valid JSON",
            "Settings such as CodeBuild EnvironmentVariables or CloudFormation ParameterOverrides are JSON text.",
            '{"configuration": {"EnvironmentVariables": "[{name: X}]"}}',
            _UG + "action-reference-CodeBuild.html",
        ),
        _r(
            "PW223",
            "error",
            "V2-only action in a V1 pipeline",
            "A18: Commands, ECRBuildAndPublish, EC2, EKS, Lambda deploy and CodePipeline invoke need V2.",
            '{"pipelineType": "V1", ... {"provider": "Commands"}}',
            _UG + "actions-valid-providers.html",
        ),
        # -- variables --------------------------------------------------------------------------
        _r(
            "PW301",
            "error",
            "Reference to an unknown namespace",
            "§2.3: #{Namespace.Key} must name the namespace of an action in the pipeline.",
            '"#{SourceVars.CommitId}" with no action in namespace SourceVars',
            _UG + "reference-variables.html",
        ),
        _r(
            "PW302",
            "error",
            "Reference to a namespace that does not run earlier",
            "§2.3: the producing action must finish first: an earlier stage, or a lower runOrder.",
            "an action referencing the namespace of a parallel action (same runOrder)",
            _UG + "reference-variables.html",
        ),
        _r(
            "PW303",
            "error",
            "Reference to an undeclared pipeline variable",
            "§2.3: #{variables.name} must name a variable declared in the pipeline.",
            '"#{variables.env}" with no variable env',
            _UG + "reference-variables.html",
        ),
        _r(
            "PW305",
            "error",
            "Namespace equals an artifact name",
            "A12: a namespace must not collide with an artifact name.",
            '"namespace": "SourceOutput" and an artifact SourceOutput',
            _UG + "reference-variables.html",
        ),
        _r(
            "PW306",
            "error",
            "Duplicate pipeline variable",
            "Pipeline variable names are unique.",
            '"variables": [{"name": "env"}, {"name": "env"}]',
            _UG + "reference-variables.html",
        ),
        _r(
            "PW307",
            "error",
            "Reserved namespace",
            "'codepipeline' and 'variables' are reserved namespaces.",
            '"namespace": "variables"',
            _UG + "reference-variables.html",
        ),
        # -- triggers ---------------------------------------------------------------------------
        _r(
            "PW401",
            "error",
            "Trigger names no action",
            "Triggers: sourceActionName must name a source action of the pipeline.",
            '"gitConfiguration": {"sourceActionName": "Sorce"}',
            _UG + "pipelines-filter.html",
        ),
        _r(
            "PW402",
            "error",
            "Trigger on an action that is not a CodeStarSourceConnection source",
            "Triggers work only on CodeStarSourceConnection source actions.",
            "a trigger whose sourceActionName is an S3 source",
            _UG + "pipelines-filter.html",
        ),
        _r(
            "PW403",
            "error",
            "Two triggers for one source action",
            "One trigger configuration per source action.",
            "two triggers with the same sourceActionName",
            _UG + "pipelines-filter.html",
        ),
        _r(
            "PW404",
            "error",
            "Invalid push filter combination",
            "A push filter is tags alone, branches alone, or branches with filePaths.",
            '"push": [{"tags": {...}, "branches": {...}}]',
            _UG + "pipelines-filter.html",
        ),
        _r(
            "PW405",
            "error",
            "Invalid pull-request filter combination",
            "A pull-request filter needs branches (optionally filePaths and events).",
            '"pullRequest": [{"filePaths": {"includes": ["src/**"]}}]',
            _UG + "pipelines-filter.html",
        ),
        # -- stage conditions -------------------------------------------------------------------
        _r(
            "PW501",
            "error",
            "Result not allowed for this condition",
            "beforeEntry: FAIL or SKIP; onSuccess: ROLLBACK or FAIL; "
            "onFailure: ROLLBACK (or RETRY without conditions).",
            '"beforeEntry": {"conditions": [{"result": "ROLLBACK", ...}]}',
            _UG + "stage-conditions.html",
        ),
        _r(
            "PW502",
            "error",
            "Rollback in a PARALLEL pipeline",
            "P12: PARALLEL execution mode does not support rollback.",
            '{"executionMode": "PARALLEL", ... "onFailure": {"result": "ROLLBACK"}}',
            _UG + "execution-modes.html",
        ),
        _r(
            "PW503",
            "error",
            "Automatic retry together with onFailure conditions",
            "P13: onFailure result RETRY cannot be combined with onFailure conditions.",
            '"onFailure": {"result": "RETRY", "conditions": [...]}',
            _UG + "stage-retry.html",
        ),
        _r(
            "PW504",
            "error",
            "SKIP with a rule that cannot skip",
            "P14: a beforeEntry SKIP condition may only use LambdaInvoke or VariableCheck rules.",
            '"beforeEntry": {"conditions": [{"result": "SKIP", "rules": [{"ruleTypeId": {"provider": '
            '"CloudWatchAlarm"}}]}]}',
            _UG + "stage-conditions.html",
        ),
        _r(
            "PW505",
            "error",
            "Condition without rules",
            "P15: each condition has 1-5 rules.",
            '"onSuccess": {"conditions": [{"result": "FAIL"}]}',
            _UG + "stage-conditions.html",
        ),
        _r(
            "PW506",
            "error",
            "Rollback on the first stage",
            "The source stage cannot be rolled back.",
            'stages[0]: {"onFailure": {"result": "ROLLBACK"}}',
            _UG + "stage-rollback.html",
        ),
        _r(
            "PW508",
            "error",
            "Unknown rule type",
            "Rule providers are CloudWatchAlarm, DeploymentWindow, LambdaInvoke, VariableCheck, Commands, CodeBuild.",
            '"ruleTypeId": {"category": "Rule", "provider": "VariableChek"}',
            _UG + "rule-reference.html",
        ),
        _r(
            "PW509",
            "error",
            "Rule configuration key missing",
            "Each rule type has required settings.",
            '{"ruleTypeId": {"provider": "CloudWatchAlarm"}, "configuration": {}}',
            _UG + "rule-reference.html",
        ),
        _r(
            "PW510",
            "error",
            "Unknown rule configuration key",
            "Rule types accept only their documented settings.",
            '{"ruleTypeId": {"provider": "DeploymentWindow"}, "configuration": {"Cron": "...", "Zone": "UTC"}}',
            _UG + "rule-reference.html",
        ),
        _r(
            "PW511",
            "error",
            "Rule commands misused",
            "The Commands rule needs commands; other rule types take none.",
            '{"ruleTypeId": {"provider": "Commands"}}',
            _UG + "rule-reference-Commands.html",
        ),
        # -- quotas -----------------------------------------------------------------------------
        _r(
            "PW601",
            "error",
            "More than 50 stages",
            "§6: a pipeline has at most 50 stages.",
            "51 stages",
            _UG + "limits.html",
        ),
        _r(
            "PW602",
            "error",
            "More than 50 actions in a stage",
            "§6: a stage has at most 50 actions (which also bounds parallel and sequential actions at 50).",
            "51 actions in one stage",
            _UG + "limits.html",
        ),
        _r(
            "PW603",
            "error",
            "More than 500 actions in a pipeline",
            "§6: a pipeline has at most 500 actions.",
            "11 stages of 46 actions",
            _UG + "limits.html",
        ),
        _r(
            "PW604",
            "error",
            "More than 50 tags",
            "§6: a pipeline has at most 50 tags.",
            "51 tags",
            _UG + "limits.html",
        ),
        _r(
            "PW605",
            "error",
            "Invalid tag",
            "§6: tag keys are 1-128 characters and may not start with 'aws:'; values are at most 256.",
            'tags {"aws:team": "x"}',
            _UG + "limits.html",
        ),
        # -- warnings ---------------------------------------------------------------------------
        _r(
            "PW701",
            "warning",
            "Commit metadata or a pipeline variable interpolated into shell text",
            "Anyone who can push a commit (or start the pipeline) controls these values; "
            "substituted into commands, BuildspecOverride or the JSON of CodeBuild's EnvironmentVariables, "
            "they can inject shell commands or variables. A pipeline variable as an EnvironmentVariables "
            "entry's value is the documented way into a build and draws no warning; commit text there still "
            "does, since a quote in it can end the value.",
            '"commands": ["echo #{SourceVariables.CommitMessage}"]',
            _UG + "reference-variables.html",
        ),
        _r(
            "PW702",
            "warning",
            "Source polls for changes by default",
            "§4.9: S3, CodeCommit and GitHub (v1) sources without PollForSourceChanges poll; with an "
            "EventBridge rule or webhook as well the pipeline starts twice.",
            '{"provider": "CodeCommit", "configuration": {"RepositoryName": "r", "BranchName": "main"}}',
            _UG + "PollForSourceChanges-defaults.html",
        ),
        _r(
            "PW703",
            "warning",
            "Cross-account action with the AWS-managed artifact key",
            "Another account's role cannot decrypt artifacts encrypted with the default aws/s3 key; "
            "give the artifact store a customer-managed KMS key.",
            '{"roleArn": "arn:aws:iam::222222222222:role/Deploy"} in a pipeline of account 111111111111',
            _UG + "pipelines-create-cross-account.html",
        ),
        _r(
            "PW704",
            "warning",
            "Unknown codepipeline variable",
            "§2.3: the codepipeline namespace documents PipelineExecutionId only.",
            '"#{codepipeline.ExecutionId}"',
            _UG + "reference-variables.html",
        ),
        _r(
            "PW705",
            "warning",
            "V2 features without pipelineType",
            "P11: V2-only features make the pipeline V2 (and billed as V2); say pipelineType V2 explicitly.",
            '{"variables": [...]} with no pipelineType',
            _UG + "pipeline-types-planning.html",
        ),
        _r(
            "PW706",
            "warning",
            "ThirdParty action type not in the catalog",
            "AWS lists the partner action types it offers; this one is not among the documented ones "
            "(it may have been retired).",
            '{"owner": "ThirdParty", "provider": "Runscope"}',
            _UG + "actions-valid-providers.html",
        ),
        _r(
            "PW707",
            "warning",
            "Unknown configuration key on a partner action",
            "The key is not documented for this ThirdParty/Custom action type.",
            '{"owner": "ThirdParty", "provider": "GitHub", "configuration": {"Token": "..."}}',
            _UG + "actions-valid-providers.html",
        ),
        _r(
            "PW708",
            "warning",
            "timeoutInMinutes on an action other than a manual approval",
            "A14: the API applies timeoutInMinutes to manual approvals only.",
            '{"provider": "CodeBuild", "timeoutInMinutes": 30}',
            _UG + "limits.html",
        ),
        _r(
            "PW709",
            "warning",
            "Reference to a variable the action does not produce",
            "§3.1: the producing provider documents a fixed set of output variables.",
            '"#{SourceVariables.Commit}" on a CodeCommit source (it produces CommitId)',
            _UG + "reference-variables.html",
        ),
        _r(
            "PW710",
            "warning",
            "Malformed variable reference",
            "§2.3: references are #{namespace.key}; this text is left as it is.",
            '"#{SourceVariables}"',
            _UG + "reference-variables.html",
        ),
        _r(
            "PW713",
            "warning",
            "Multi-line command",
            "§1.4: each commands entry is one shell line; put scripts in a file in the input artifact.",
            '"commands": ["set -e\\nmake"]',
            _UG + "action-reference-Commands.html",
        ),
        _r(
            "PW714",
            "warning",
            "Malformed glob in a trigger filter",
            "AWS stores any 1-255 character pattern, but an unclosed '[' or '{', an empty character "
            "set or a trailing backslash is not a glob: the filter can never match as intended.",
            '"branches": {"includes": ["release/{1.x"]}',
            _UG + "syntax-glob.html",
        ),
        _r(
            "PW711",
            "warning",
            "Artifact store no action uses",
            "artifactStores holds the pipeline region and the regions actions run in; other entries "
            "are unused buckets.",
            '{"artifactStores": {"us-east-1": ..., "eu-west-1": ..., "ap-south-1": ...}} and no action region',
            _UG + "actions-create-cross-region.html",
        ),
        _r(
            "PW712",
            "warning",
            "KMS alias with a cross-account action",
            "§1.2: aliases resolve only in the key's account; cross-account actions need the key ID or ARN.",
            '"encryptionKey": {"id": "alias/pipeline", "type": "KMS"} and a cross-account roleArn',
            _UG + "S3-artifact-encryption.html",
        ),
        # -- template level (reported by pipeweaver._cfn_refs) --------------------------------
        _r(
            "PW801",
            "error",
            "Reference to something the template does not declare",
            "CloudFormation refuses a template whose Ref, Fn::Sub variable, Fn::GetAtt or Fn::FindInMap names "
            "no parameter, resource, pseudo parameter or mapping.",
            "RoleArn: !GetAtt PipelineRol.Arn  # the resource is PipelineRole",
            _CFN + "intrinsic-function-reference.html",
        ),
        _r(
            "PW802",
            "error",
            "Undeclared condition",
            "Fn::If and a resource's Condition must name a condition of the template's Conditions section.",
            "!If [IsProdd, a, b]  # Conditions declares IsProd",
            _CFN + "conditions-section-structure.html",
        ),
        _r(
            "PW803",
            "error",
            "Intrinsic function with the wrong arguments",
            "Each intrinsic function takes a fixed form (Fn::If three items, Fn::Sub a string or [string, map], "
            "Fn::Join [delimiter, list], ...); CloudFormation refuses any other.",
            '!Sub ["${Env}-app"]  # the variable map is missing',
            _CFN + "intrinsic-function-reference.html",
        ),
        _r(
            "PW804",
            "error",
            "Unknown attribute for Fn::GetAtt",
            "The resource type does not return that attribute (checked for the types pipeline templates use "
            "around a pipeline: IAM roles, KMS keys, S3 buckets, SNS topics, CodeBuild projects, connections).",
            "!GetAtt PipelineRole.RoleArn  # a role returns Arn and RoleId",
            _CFN + "aws-resource-iam-role.html",
        ),
        _r(
            "PW805",
            "warning",
            "YAML alias or merge key",
            "CloudFormation refuses YAML aliases and merge keys in a template given to it directly; "
            "`aws cloudformation package` and SAM expand them first.",
            "ActionTypeId: {<<: *source, Category: Build}",
            _CFN + "template-formats.html",
        ),
    )
}

#: Output variables of source actions that whoever pushes a commit controls (§3.1).
_COMMIT_METADATA: Final = frozenset(
    {"CommitMessage", "BranchName", "AuthorDate", "CommitterDate", "CommitUrl", "AuthorName", "AuthorEmail"}
)
_REF: Final = re.compile(r"#\{([A-Za-z0-9@\-_]+)\.([A-Za-z0-9@\-_.]+)\}")
_ANY_REF: Final = re.compile(r"#\{([^}]*)\}")
_ACCOUNT: Final = re.compile(r"arn:aws[\w-]*:iam::([0-9]{12}):")
_RESERVED_NAMESPACES: Final = ("codepipeline", "variables")
_CODEPIPELINE_KEYS: Final = ("PipelineExecutionId",)
_TRANSITION_REASON: Final = re.compile(r"[a-zA-Z0-9!@ \(\)\.\*\?\-]{1,300}")
#: A position a consumer cannot see past: (stage index, runOrder); producers must be strictly lower.
_AFTER_STAGE: Final = 10**6


# Lint reads a declaration that may be malformed anywhere: a part of the wrong kind reads as
# empty. ``type(...) is`` answers for the JSON types; other mappings and sequences are accepted
# too (a loader may hand over any).
_EMPTY: Final[Mapping[str, Any]] = {}


def _dict(value: Any) -> Mapping[str, Any]:
    if type(value) is dict:
        return value
    return value if isinstance(value, Mapping) else _EMPTY


def _list(value: Any) -> Sequence[Any]:
    if type(value) is list:
        return value
    return value if isinstance(value, list | tuple) else ()


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _near(word: str, choices: Iterable[str]) -> str | None:
    options = sorted(set(choices))
    match = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if match:
        return match[0]
    lowered = {c.lower(): c for c in options}
    return lowered.get(word.lower())


def _did_you_mean(word: str, choices: Iterable[str], fallback: str | None = None) -> str | None:
    near = _near(word, choices)
    return f"did you mean {near!r}?" if near is not None else fallback


@attrs.define(slots=True)
class _Action:
    """One action of the declaration, with everything the rules need read once."""

    stage: int
    index: int
    path: str
    data: Mapping[str, Any]
    name: str | None
    category: str | None
    owner: str | None
    provider: str | None
    version: str | None
    run_order: int
    config: Mapping[str, Any]
    namespace: str | None
    region: str | None
    spec: _catalog.ProviderSpec | None
    #: (artifact name, index of the entry) for well-formed input and output artifact entries
    inputs: list[tuple[str, int]] = attrs.field(factory=list)
    outputs: list[tuple[str, int]] = attrs.field(factory=list)

    @property
    def label(self) -> str:
        return repr(self.name) if self.name is not None else f"#{self.index}"

    @property
    def is_source(self) -> bool:
        return self.category == "Source"


@attrs.define(slots=True)
class _Context:
    decl: Mapping[str, Any]
    region: str | None
    issues: list[Issue]
    stages: list[tuple[int, str, Mapping[str, Any], str | None]] = attrs.field(factory=list)
    actions: list[_Action] = attrs.field(factory=list)
    #: artifact name -> (producer, index in its outputArtifacts), first producer wins
    producers: dict[str, tuple[_Action, int]] = attrs.field(factory=dict)
    namespaces: dict[str, _Action] = attrs.field(factory=dict)
    variables: set[str] = attrs.field(factory=set)

    def add(self, code: str, path: str, message: str, hint: str | None = None) -> None:
        self.issues.append(Issue(code=code, severity=RULES[code].severity, path=path, message=message, hint=hint))


# ---------------------------------------------------------------------------------------------
# entry points


def _keep_expression(expr: Expression, _path: str) -> Any:
    return expr.raw


@attrs.frozen
class _Target:
    """
    What lint checks: an API-shaped declaration plus what lives beside it.

    Attributes:
        declaration: API-shaped data (``PipelineDeclaration`` field names).
        tags: ``(path, key, value)`` of the pipeline's tags.
        disabled_transitions: Stage name -> reason.
        relocate: Maps an API path to the input's own path (e.g. inside a template);
            ``None`` keeps API paths.
        issues: Problems found while converting the input, already in the input's paths;
            reported first.
    """

    declaration: Any
    tags: Sequence[tuple[str, str, str]] = ()
    disabled_transitions: Mapping[str, str] = attrs.field(factory=dict)
    relocate: Callable[[str], str] | None = None
    issues: Sequence[Issue] = ()


def _declaration_of(target: Any) -> _Target:
    """
    Turn whatever ``lint`` was given into the API-shaped declaration its rules read.

    The one place that knows input kinds: a :class:`Pipeline` (rendered once, CloudFormation
    expressions kept as raw intrinsic dicts), API JSON bare or in its ``{"pipeline": ...}``
    envelope, and anything else (checked as a declaration, so junk becomes shape issues).
    A new input kind adds a branch here; ``relocate`` maps API paths to the input's own.
    """
    if isinstance(target, _cfn.TemplatePipeline):
        return _Target(
            declaration=target.declaration,
            tags=[(f"tags[{i}]", k, v) for i, (k, v) in enumerate(target.tags.items()) if isinstance(v, str)],
            disabled_transitions={k: v for k, v in target.disabled_transitions.items() if isinstance(v, str)},
            relocate=target.path,
            issues=target.conversion_issues,
        )
    if isinstance(target, Pipeline):
        return _Target(
            declaration=to_codepipeline(target, resolve=_keep_expression),
            tags=[(f"tags[{k!r}]", k, v) for k, v in target.tags.items()],
            disabled_transitions=target.disabled_transitions,
        )
    declaration, _prefix = unwrap(target)
    tags: list[tuple[str, str, str]] = []
    if declaration is not target and isinstance(target, Mapping):
        for i, tag in enumerate(_list(target.get("tags"))):
            tag = _dict(tag)
            key, value = _str(tag.get("key")), _str(tag.get("value"))
            if key is not None:
                tags.append((f"tags[{i}]", key, value or ""))
    return _Target(declaration=declaration, tags=tags, issues=_api_intrinsics(declaration))


def _api_intrinsics(declaration: Any) -> list[Issue]:
    """
    CloudFormation intrinsics (``{"Ref": ...}``, ``{"Fn::Sub": ...}``) in CodePipeline API JSON.

    The rules read an intrinsic as "a value CloudFormation fills in", which is right for a
    template or a model bound for one; the API itself takes only literal values and rejects
    these objects wherever they stand, so in API JSON each one is an error.
    """
    found: list[Issue] = []
    stack: list[tuple[str, Any, int]] = [("", declaration, 0)]
    while stack:
        path, value, depth = stack.pop()
        if is_intrinsic(value):
            function = next(iter(value))
            found.append(
                Issue(
                    code="PW003",
                    severity="error",
                    path=path,
                    message=f"{{{function!r}: ...}} is a CloudFormation intrinsic function; the CodePipeline API "
                    "takes literal values here",
                    hint="deploy it with CloudFormation (as a template), or resolve it to a literal value",
                )
            )
        elif depth >= _MAX_WALK:
            continue  # deeper input is reported by the shape check (PW004)
        elif isinstance(value, Mapping):
            items = [(join_key(path, k), v, depth + 1) for k, v in value.items() if isinstance(k, str)]
            stack.extend(reversed(items))
        elif isinstance(value, list):
            stack.extend(reversed([(f"{path}[{i}]", v, depth + 1) for i, v in enumerate(value)]))
    return found


#: How deep :func:`_api_intrinsics` looks (the shape check reports nesting beyond its own limit).
_MAX_WALK: Final = 64


def lint(target: Pipeline | Mapping[str, Any] | Any, *, region: str | None = None) -> list[Issue]:
    """
    Return every problem in *target*: a :class:`~pipeweaver.Pipeline` or raw API JSON.

    Shape problems, field problems and whole-pipeline rules are all reported in one pass;
    rules still run on the well-formed parts of a partly broken definition. Never raises on
    bad input.

    Args:
        target: A pipeline model, a bare ``PipelineDeclaration`` dict, the
            ``{"pipeline": ...}`` envelope ``get-pipeline`` prints, or a CloudFormation
            template (mapping, or JSON/YAML text). Every pipeline resource of a template is
            checked, with paths such as ``Resources.Pipeline.Properties.Stages[0]``.
        region: The region the pipeline lives in, when known. Offline, the pipeline region
            cannot be read from the definition; with it, cross-region rules are exact.

    Returns:
        The issues (errors and warnings) with their paths, in the order found.

    .. versionadded:: 0.1.0
    """
    if isinstance(target, str | bytes) or _cfn.looks_like_template(target):
        return _lint_template(target, region)
    try:
        found = _declaration_of(target)
    except Exception as exc:  # a model that cannot even be rendered: report, never raise
        return [_internal("input", exc)]
    data = found.declaration
    issues = check_shape(data, skip=is_intrinsic)
    if isinstance(data, Mapping):
        ctx = _Context(decl=data, region=region, issues=issues)
        for rule in _RULE_GROUPS:
            try:
                rule(ctx)
            except Exception as exc:  # one broken rule must not hide the others
                issues.append(_internal(rule.__name__, exc))
        try:
            _check_beside(ctx, found)
        except Exception as exc:  # same: report, never raise
            issues.append(_internal("_check_beside", exc))
    if found.relocate is not None:
        relocate = found.relocate
        issues = [attrs.evolve(i, path=relocate(i.path)) for i in issues]
    return [*found.issues, *issues]


def _lint_template(target: Any, region: str | None) -> list[Issue]:
    """Text (JSON or YAML) or a CloudFormation template: each pipeline resource, in template paths."""
    try:
        # A mapping goes through the loader too: it bounds nesting before anything recurses.
        data = _cfn.load_template(target)
        if not _cfn.looks_like_template(data):
            return lint(data, region=region)
        ids: list[str | None] = [*_cfn.find_pipelines(data)] or [None]
        pipelines = [_cfn.declaration_of(data, logical_id) for logical_id in ids]
        references = [issue for found in pipelines for issue in _cfn_refs.check_references(data, found.logical_id)]
        if isinstance(target, str | bytes):
            text = target.decode("utf-8", errors="replace") if isinstance(target, bytes) else target
            references += _cfn_refs.yaml_features(text)
    except LoadError as exc:
        return list(exc.issues)
    except Exception as exc:  # report, never raise
        return [_internal("template", exc)]
    return [issue for found in pipelines for issue in lint(found, region=region)] + references


def _internal(where: str, exc: BaseException) -> Issue:
    return Issue(
        code="PW099",
        severity="error",
        path="",
        message=f"the validator failed in {where}: {type(exc).__name__}: {exc}",
        hint="this is a pipeweaver bug; the other rules still ran. Please report it with the input",
    )


def validate(pipeline: Pipeline, *, region: str | None = None) -> None:
    """
    Raise :class:`~pipeweaver.errors.ValidationError` carrying every issue, if any is an error.

    .. versionadded:: 0.1.0
    """
    issues = lint(pipeline, region=region)
    errors = sum(1 for i in issues if i.severity == "error")
    if errors:
        raise ValidationError(f"pipeline {pipeline.name!s} has {errors} error(s)", issues)


# ---------------------------------------------------------------------------------------------
# index


def _index(ctx: _Context) -> None:
    """Read stages, actions, artifacts and namespaces once (tolerating any malformed part)."""
    # A declaration may be malformed anywhere: each `x if type(x) is str else _str(x)` reads a
    # field as text when it is one, and as None when it holds anything else.
    producers = ctx.producers
    actions = ctx.actions
    specs = _catalog.PROVIDERS
    for si, stage in enumerate(_list(ctx.decl.get("stages"))):
        spath = f"stages[{si}]"
        stage = _dict(stage)
        ctx.stages.append((si, spath, stage, _str(stage.get("name"))))
        for ai, action in enumerate(_list(stage.get("actions"))):
            action = action if type(action) is dict else _dict(action)
            get = action.get
            type_id = get("actionTypeId")
            type_id = type_id if type(type_id) is dict else _dict(type_id)
            run_order = get("runOrder", 1)
            if type(run_order) is not int:
                run_order = 1
            category, owner, provider = type_id.get("category"), type_id.get("owner"), type_id.get("provider")
            ok = type(category) is str and type(owner) is str and type(provider) is str
            name, version, config = get("name"), type_id.get("version"), get("configuration")
            namespace, region = get("namespace"), get("region")
            a = _Action(
                si,
                ai,
                f"{spath}.actions[{ai}]",
                action,
                name if type(name) is str else _str(name),
                category if type(category) is str else None,
                owner if type(owner) is str else None,
                provider if type(provider) is str else None,
                version if type(version) is str else _str(version),
                run_order,
                config if type(config) is dict else _dict(config),
                None if namespace is None else _str(namespace),
                None if region is None else _str(region),
                specs.get(cast("tuple[str, str, str]", (category, owner, provider))) if ok else None,
            )
            actions.append(a)
            outputs = get("outputArtifacts")
            if outputs:
                for oi, out in enumerate(outputs if type(outputs) is list else _list(outputs)):
                    name = out.get("name") if type(out) is dict else _dict(out).get("name")
                    if type(name) is str:
                        a.outputs.append((name, oi))
                        if name not in producers:
                            producers[name] = (a, oi)
            inputs = get("inputArtifacts")
            if inputs:
                for ii, item in enumerate(inputs if type(inputs) is list else _list(inputs)):
                    name = item.get("name") if type(item) is dict else _dict(item).get("name")
                    if type(name) is str:
                        a.inputs.append((name, ii))
    for variable in _list(ctx.decl.get("variables")):
        name = _str(_dict(variable).get("name"))
        if name is not None:
            ctx.variables.add(name)


def _earlier(producer: _Action, stage: int, run_order: int) -> bool:
    return producer.stage < stage or (producer.stage == stage and producer.run_order < run_order)


# ---------------------------------------------------------------------------------------------
# pipeline and stages (P2-P11, quotas)


def _pipeline_rules(ctx: _Context) -> None:
    d = ctx.decl
    has_store, has_stores = d.get("artifactStore") is not None, d.get("artifactStores") is not None
    if not has_store and not has_stores:
        ctx.add(
            "PW101",
            "artifactStore",
            "the pipeline has no artifact store",
            "add artifactStore {type: S3, location: <bucket>} (or artifactStores for cross-region pipelines)",
        )
    elif has_store and has_stores:
        ctx.add(
            "PW102",
            "artifactStores",
            "the pipeline has both artifactStore and artifactStores; exactly one is allowed",
            "keep artifactStores for a cross-region pipeline, otherwise keep artifactStore",
        )
    stages = _list(d.get("stages"))
    if isinstance(d.get("stages"), list | tuple) and len(stages) < 2:
        ctx.add(
            "PW106",
            "stages",
            f"Pipeline has only {len(stages)} stage(s). There should be a minimum of 2 stages in a pipeline",
            "add a stage after the source stage (build, test, deploy, ...)",
        )
    if len(stages) > 50:
        ctx.add("PW601", "stages", f"the pipeline has {len(stages)} stages; at most 50 are allowed", "split it")
    if len(ctx.actions) > 500:
        ctx.add(
            "PW603",
            "stages",
            f"the pipeline has {len(ctx.actions)} actions; at most 500 are allowed",
            "split it into several pipelines",
        )
    seen: dict[str, int] = {}
    for si, spath, stage, name in ctx.stages:
        if name is not None:
            if name in seen:
                ctx.add(
                    "PW107",
                    f"{spath}.name",
                    f"stage name {name!r} is already used by stages[{seen[name]}]",
                    "give every stage a unique name",
                )
            else:
                seen[name] = si
        actions = stage.get("actions")
        if isinstance(actions, list | tuple):
            if not actions:
                ctx.add(
                    "PW108",
                    f"{spath}.actions",
                    f"stage {name!r} has no actions",
                    "add an action or remove the stage",
                )
            elif len(actions) > 50:
                ctx.add(
                    "PW602",
                    f"{spath}.actions",
                    f"stage {name!r} has {len(actions)} actions; at most 50 are allowed",
                    "move actions to another stage",
                )
    for a in ctx.actions:
        if a.category is None:
            continue
        if a.stage == 0 and not a.is_source:
            ctx.add(
                "PW109",
                f"{a.path}.actionTypeId.category",
                f"action {a.label} in the first stage is not a Source action (category {a.category}); the first "
                "stage holds only Source actions",
                "move it to a later stage",
            )
        elif a.stage > 0 and a.is_source:
            ctx.add(
                "PW110",
                f"{a.path}.actionTypeId.category",
                f"source action {a.label} is in stages[{a.stage}]; Source actions belong to the first stage only",
                "move it to the first stage",
            )


def _v2_rules(ctx: _Context) -> None:
    d = ctx.decl
    features: list[tuple[str, str]] = []
    if _list(d.get("variables")):
        features.append(("variables", "pipeline variables"))
    if _list(d.get("triggers")):
        features.append(("triggers", "triggers"))
    mode = d.get("executionMode")
    if mode in ("QUEUED", "PARALLEL"):
        features.append(("executionMode", f"executionMode {mode}"))
    for _si, spath, stage, _name in ctx.stages:
        for key in ("onFailure", "onSuccess", "beforeEntry"):
            if stage.get(key) is not None:
                features.append((f"{spath}.{key}", f"stage {key} conditions"))
    v2_actions = [a for a in ctx.actions if a.spec is not None and a.spec.v2_only]
    kind = d.get("pipelineType")
    if kind == "V1":
        for path, what in features:
            ctx.add("PW111", path, f"{what} need pipelineType V2, but the pipeline is V1", 'set "pipelineType": "V2"')
        for a in v2_actions:
            ctx.add(
                "PW223",
                f"{a.path}.actionTypeId.provider",
                f"action {a.label} uses {a.provider}, which only V2 pipelines offer",
                'set "pipelineType": "V2"',
            )
    elif kind is None and (features or v2_actions):
        used = [what for _, what in features] + [f"the {a.provider} action" for a in v2_actions]
        ctx.add(
            "PW705",
            "pipelineType",
            f"the pipeline uses V2 features ({', '.join(dict.fromkeys(used))}) but does not set pipelineType",
            'set "pipelineType": "V2" so that the type (and its pricing) is explicit',
        )


# ---------------------------------------------------------------------------------------------
# actions (A1-A18)


def _action_rules(ctx: _Context) -> None:
    names_in_stage: dict[tuple[int, str], int] = {}
    for a in ctx.actions:
        if a.name is not None:
            key = (a.stage, a.name)
            if key in names_in_stage:
                ctx.add(
                    "PW201",
                    f"{a.path}.name",
                    f"action name {a.name!r} is already used by actions[{names_in_stage[key]}] of this stage",
                    "give every action in a stage a unique name",
                )
            else:
                names_in_stage[key] = a.index
        spec = a.spec
        if spec is None or (a.version not in (None, "1") and a.owner == "AWS"):
            _action_type(ctx, a)  # it has nothing to say about a known type at version 1
        _compute_fields(ctx, a)
        if spec is not None:
            _counts(ctx, a, spec.inputs, spec.outputs)
            _configuration(ctx, a, spec)
        elif a.owner == "Custom":
            # custom action types declare 0-5 input and output artifacts (reference §5.1)
            _counts(ctx, a, (0, 5), (0, 5))
        timeout = a.data.get("timeoutInMinutes")
        if timeout is not None and not (
            a.category == _catalog.MANUAL_APPROVAL.category and a.provider == _catalog.MANUAL_APPROVAL.provider
        ):
            ctx.add(
                "PW708",
                f"{a.path}.timeoutInMinutes",
                f"timeoutInMinutes is set on action {a.label} ({a.provider}); AWS applies it to manual approvals only",
                "remove it; the action's own service timeout applies",
            )
        events = a.spec.events if a.is_source and a.spec is not None else None
        if events is not None and events.poll_key is not None and events.poll_key not in a.config:
            ctx.add(
                "PW702",
                f"{a.path}.configuration.PollForSourceChanges",
                f"source action {a.label} ({a.provider}) has no PollForSourceChanges, so it polls for changes",
                'set PollForSourceChanges to "false" and use an EventBridge rule (or webhook), '
                'or to "true" to keep polling on purpose',
            )


def _action_type(ctx: _Context, a: _Action) -> None:
    if a.spec is not None or not (a.category and a.owner and a.provider):
        if a.spec is not None and a.owner == "AWS" and a.version not in (None, "1"):
            ctx.add(
                "PW202",
                f"{a.path}.actionTypeId.version",
                f"action type {a.category}/AWS/{a.provider} has no version {a.version!r}",
                'AWS action types use version "1"',
            )
        return
    where = f"{a.path}.actionTypeId.provider"
    same_name = _catalog.providers_named(a.provider)
    if a.owner == "AWS":
        aws = [s for s in same_name if s.owner == "AWS"]
        if aws:
            cats = ", ".join(sorted({s.category for s in aws}))
            ctx.add(
                "PW202",
                f"{a.path}.actionTypeId.category",
                f"AWS offers {a.provider} as a {cats} action, not as a {a.category} action",
                f'use category "{aws[0].category}" or another provider',
            )
            return
        others = [s for s in same_name if s.owner != "AWS"]
        if others:
            ctx.add(
                "PW202",
                f"{a.path}.actionTypeId.owner",
                f"{a.provider} is a {others[0].owner} action type, not an AWS one",
                f'use owner "{others[0].owner}"',
            )
            return
        options = [s.provider for s in _catalog.PROVIDERS.values() if s.owner == "AWS" and s.category == a.category]
        ctx.add(
            "PW202",
            where,
            f"there is no AWS {a.category} action type {a.provider!r}",
            _did_you_mean(a.provider, options or [s.provider for s in _catalog.PROVIDERS.values()])
            or f"AWS {a.category} providers: {', '.join(sorted(set(options)))}",
        )
    elif a.owner == "ThirdParty":
        aws = [s for s in same_name if s.owner == "AWS" and s.category == a.category]
        hint = (
            'owner "AWS" (the action reference lists it under AWS)'
            if aws
            else "check the provider name; partner actions must be offered in the pipeline's region"
        )
        ctx.add(
            "PW706",
            where,
            f"ThirdParty {a.category} action type {a.provider!r} is not in the documented catalog",
            f"did you mean {hint}" if aws else hint,
        )


def _counts(ctx: _Context, a: _Action, inputs: tuple[int, int], outputs: tuple[int, int]) -> None:
    # Both counts within bounds: nothing to report.
    get = a.data.get
    ins, outs = get("inputArtifacts", []), get("outputArtifacts", [])
    if (
        type(ins) is list
        and type(outs) is list
        and inputs[0] <= len(ins) <= inputs[1]
        and outputs[0] <= len(outs) <= outputs[1]
    ):
        return
    for field, (lo, hi), code, word in (
        ("inputArtifacts", inputs, "PW205", "input"),
        ("outputArtifacts", outputs, "PW206", "output"),
    ):
        value = a.data.get(field, [])
        if not isinstance(value, list | tuple):
            continue
        n = len(value)
        if n < lo:
            ctx.add(
                code,
                f"{a.path}.{field}",
                f"Action {a.name} declares {n} {word} artifacts which is less than the minimum count ({lo})",
                f"{a.provider} takes {lo}..{hi} {word} artifact(s)",
            )
        elif n > hi:
            ctx.add(
                code,
                f"{a.path}.{field}",
                f"Action {a.name} declares {n} {word} artifacts which is greater than the maximum count ({hi})",
                f"{a.provider} takes {lo}..{hi} {word} artifact(s)" if hi else f"remove {field}",
            )


def _is_literal(value: Any) -> bool:
    """A plain string with no variable reference: its final value is known now."""
    return isinstance(value, str) and "#{" not in value


def _configuration(ctx: _Context, a: _Action, spec: _catalog.ProviderSpec) -> None:
    cpath = a.path + ".configuration"
    config = a.config
    known = spec.keys
    unknown = (
        []
        if known.issuperset(config)
        else [k for k in config if k not in known and isinstance(k, str) and not spec.knows_key(k)]
    )
    for key in spec.required:
        if key not in config:
            near = _near(key, unknown)
            ctx.add(
                "PW210",
                join_key(cpath, key),
                f"{spec.provider} action {a.label} is missing required configuration {key!r}",
                f"you wrote {near!r}; rename it to {key!r}" if near else f"add {key!r}",
            )
    n_inputs = len(_list(a.data.get("inputArtifacts"))) if spec.conditional else 0
    for req in spec.conditional:
        if req.key in config:
            continue
        applies = False
        if req.when_key is not None and req.when_key in config:
            value = config[req.when_key]
            applies = req.when_values is None or (isinstance(value, str) and value in req.when_values)
        if req.min_inputs is not None and n_inputs >= req.min_inputs:
            applies = True
        if req.max_inputs_below is not None and n_inputs < req.max_inputs_below:
            applies = True
        if applies:
            ctx.add(
                "PW211",
                join_key(cpath, req.key),
                f"{spec.provider} action {a.label} needs configuration {req.key!r}: {req.reason}",
                f"add {req.key!r}",
            )
    for group in spec.one_of:
        if not any(k in config for k in group):
            ctx.add(
                "PW211",
                cpath,
                f"{spec.provider} action {a.label} needs one of {', '.join(map(repr, group))}",
                f"add {group[0]!r} or {group[1]!r}" if len(group) == 2 else "add one of them",
            )
    if not spec.open_configuration:
        for key in unknown:
            if spec.owner == "AWS":
                ctx.add(
                    "PW212",
                    join_key(cpath, key),
                    f"{spec.provider} action {a.label} contains unknown configuration {key!r}",
                    _did_you_mean(key, known, f"allowed keys: {', '.join(sorted(known)) or '(none)'}"),
                )
            else:
                ctx.add(
                    "PW707",
                    join_key(cpath, key),
                    f"{spec.owner} {spec.provider} action {a.label} has undocumented configuration {key!r}",
                    _did_you_mean(key, known, f"documented keys: {', '.join(sorted(known))}"),
                )
    for key, allowed in spec.allowed.items():
        value = config.get(key)
        if value is None or not _is_literal(value):
            continue
        assert isinstance(value, str)
        ok = value.lower() in allowed if allowed is _catalog.BOOL else value in allowed
        if not ok:
            ctx.add(
                "PW213",
                join_key(cpath, key),
                f"{key} is {value!r}; allowed values are {', '.join(allowed)}",
                _did_you_mean(value, allowed, f"use one of {', '.join(allowed)}"),
            )
    for key, (lo, hi) in spec.ranges.items():
        value = config.get(key)
        if value is None or not _is_literal(value):
            continue
        number = str(value).strip()
        if not (number.isdigit() and lo <= int(number) <= hi):
            ctx.add(
                "PW213",
                join_key(cpath, key),
                f"{key} is {value!r}; it must be a whole number from {lo} to {hi}",
                f"use a number in {lo}..{hi}",
            )
    for key, pattern in spec.patterns.items():
        value = config.get(key)
        if value is not None and _is_literal(value) and not re.fullmatch(pattern, str(value)):
            ctx.add(
                "PW213",
                join_key(cpath, key),
                f"{key} is {value!r}, which does not match {pattern}",
                f"see the allowed forms at {spec.source}",
            )
    for key, items in spec.list_allowed.items():
        value = config.get(key)
        if value is None or not _is_literal(value):
            continue
        for item in str(value).split(","):
            if item.strip() not in items:
                ctx.add(
                    "PW213",
                    join_key(cpath, key),
                    f"{key} contains {item.strip()!r}",
                    _did_you_mean(item.strip(), items, f"use a comma-separated list of {', '.join(items)}"),
                )
    for key in spec.json_keys:
        value = config.get(key)
        if isinstance(value, str):
            try:
                load_json(value)
            except ValueError as exc:
                ctx.add(
                    "PW222",
                    join_key(cpath, key),
                    f"{key} must be JSON text: {exc}",
                    "write it as JSON, e.g. "
                    + (
                        '[{"name":"X","value":"1","type":"PLAINTEXT"}]'
                        if key == "EnvironmentVariables"
                        else '{"Key":"Value"}'
                    ),
                )
    # the keys that name input artifacts are rarely set: most actions stop here
    for key in spec.artifact_keys:
        if key in config:
            break
    else:
        for key in spec.artifact_path_keys:
            if key in config:
                break
        else:
            return
    input_names = [name for name, _ in a.inputs]
    for key in spec.artifact_keys:
        value = config.get(key)
        if _is_literal(value) and value not in input_names:
            ctx.add(
                "PW221",
                join_key(cpath, key),
                f"{key} is {value!r}, which is not an input artifact of action {a.label}",
                _did_you_mean(str(value), input_names, f"use one of the input artifacts: {input_names}"),
            )
    for key in spec.artifact_path_keys:
        value = config.get(key)
        if not _is_literal(value):
            continue
        assert isinstance(value, str)
        artifact, sep, _file = value.partition("::")
        if not sep:
            ctx.add(
                "PW221",
                join_key(cpath, key),
                f"{key} is {value!r}; it must be written ArtifactName::path/to/file",
                f"e.g. {(input_names or ['BuildOutput'])[0]}::template.yaml",
            )
        elif artifact not in input_names:
            ctx.add(
                "PW221",
                join_key(cpath, key),
                f"{key} reads artifact {artifact!r}, which is not an input artifact of action {a.label}",
                _missing_input_hint(ctx, a, artifact, input_names),
            )


def _missing_input_hint(ctx: _Context, a: _Action, artifact: str, input_names: list[str]) -> str | None:
    """Point at the side that is wrong: a produced artifact is right, an unproduced input is the typo."""
    produced = {name for other in ctx.actions for name, _ in other.outputs}
    if artifact in produced:
        typo = _near(artifact, [n for n in input_names if n not in produced])
        if typo is not None:
            return f"input artifact {typo!r} is produced by no action: rename it to {artifact!r}"
        return f"add {artifact!r} to the input artifacts of action {a.label}"
    return _did_you_mean(artifact, input_names, f"add {artifact!r} to inputArtifacts")


def _compute_fields(ctx: _Context, a: _Action) -> None:
    if a.category is None:
        return
    compute = a.category == "Compute"
    if not compute:
        if a.data.get("commands") is not None:
            ctx.add(
                "PW214",
                f"{a.path}.commands",
                f"The following action cannot contain a commands field: {a.name}. "
                "To use the commands field, use a compute action.",
                "use a Compute/Commands action, or a buildspec for CodeBuild",
            )
        if a.data.get("outputVariables") is not None:
            ctx.add(
                "PW214",
                f"{a.path}.outputVariables",
                f"outputVariables is only for Compute actions; {a.label} is a {a.category} action",
                "remove it; this provider's output variables are produced automatically",
            )
        outputs = a.data.get("outputArtifacts")
        for oi, out in enumerate(_list(outputs) if outputs else ()):
            if _dict(out).get("files") is not None:
                ctx.add(
                    "PW214",
                    f"{a.path}.outputArtifacts[{oi}].files",
                    f"outputArtifacts[].files is only for Compute actions; {a.label} is a {a.category} action",
                    "remove files",
                )
    if a.data.get("environmentVariables") is not None and a.provider not in (
        _catalog.COMMANDS.provider,
        _catalog.EKS_DEPLOY.provider,
    ):
        ctx.add(
            "PW214",
            f"{a.path}.environmentVariables",
            f"environmentVariables is only for Commands and EKS actions; {a.label} is {a.provider}",
            "for CodeBuild use configuration.EnvironmentVariables (JSON text)",
        )
    envs = a.data.get("environmentVariables")
    if envs and a.provider != _catalog.COMMANDS.provider:
        for i, env in enumerate(_list(envs)):
            if _dict(env).get("type") == "SECRETS_MANAGER":
                ctx.add(
                    "PW214",
                    f"{a.path}.environmentVariables[{i}].type",
                    f"environment variable type SECRETS_MANAGER is only supported by Commands actions; "
                    f"{a.label} is {a.provider}",
                    "use PLAINTEXT, or read the secret inside the action",
                )
    # an empty list is already a count problem (PW013); only a missing field is reported here
    if a.provider == _catalog.COMMANDS.provider and compute and a.data.get("commands") is None:
        ctx.add(
            "PW215",
            f"{a.path}.commands",
            f"Action {a.name} must have a non-empty commands field",
            'add "commands": ["..."]',
        )


# ---------------------------------------------------------------------------------------------
# artifacts (A4, A5)


def _artifact_rules(ctx: _Context) -> None:
    names = list(ctx.producers)
    for a in ctx.actions:
        for name, oi in a.outputs:
            first, first_index = ctx.producers[name]
            if first is not a or first_index != oi:
                ctx.add(
                    "PW207",
                    f"{a.path}.outputArtifacts[{oi}].name",
                    f"output artifact {name!r} is already produced by action {first.label} "
                    f"({first.path}.outputArtifacts[{first_index}])",
                    "give every output artifact a unique name",
                )
        for name, ii in a.inputs:
            found = ctx.producers.get(name)
            # the common case, a producer strictly earlier, needs no path at all
            if found is None or not _earlier(found[0], a.stage, a.run_order):
                _consume(ctx, name, f"{a.path}.inputArtifacts[{ii}].name", a.stage, a.run_order, a.label, names)


def _consume(ctx: _Context, name: str, path: str, stage: int, run_order: int, who: str, names: Sequence[str]) -> None:
    found = ctx.producers.get(name)
    if found is None:
        ctx.add(
            "PW208",
            path,
            f"input artifact {name!r} of {who} is not produced by any action",
            _did_you_mean(name, names, "produce it as an output artifact of an earlier action"),
        )
        return
    producer, _ = found
    if not _earlier(producer, stage, run_order):
        when = (
            "at the same time (same runOrder)"
            if (producer.stage == stage and producer.run_order == run_order)
            else "later"
        )
        ctx.add(
            "PW209",
            path,
            f"input artifact {name!r} of {who} is produced by action {producer.label} "
            f"(stages[{producer.stage}], runOrder {producer.run_order}), which runs {when}",
            "give the producer a lower runOrder or move it to an earlier stage",
        )


# ---------------------------------------------------------------------------------------------
# namespaces and variables (§2.3)


def _namespace_rules(ctx: _Context) -> None:
    for a in ctx.actions:
        ns = a.namespace
        if ns is None:
            continue
        path = f"{a.path}.namespace"
        if ns in _RESERVED_NAMESPACES:
            ctx.add("PW307", path, f"namespace {ns!r} is reserved", "choose another namespace, e.g. BuildVariables")
            continue
        if ns in ctx.namespaces:
            first = ctx.namespaces[ns]
            ctx.add(
                "PW217",
                path,
                f"namespace {ns!r} is already used by action {first.label} ({first.path})",
                "give every action a unique namespace",
            )
            continue
        ctx.namespaces[ns] = a
        if ns in ctx.producers:
            ctx.add(
                "PW305",
                path,
                f"namespace {ns!r} is also the name of an artifact",
                f"rename the namespace, e.g. {ns}Variables",
            )
    seen: set[str] = set()
    for vi, variable in enumerate(_list(ctx.decl.get("variables"))):
        name = _str(_dict(variable).get("name"))
        if name is not None:
            if name in seen:
                ctx.add("PW306", f"variables[{vi}].name", f"pipeline variable {name!r} is declared twice", None)
            seen.add(name)


def _variable_rules(ctx: _Context) -> None:
    for a in ctx.actions:
        # paths are built only for strings that hold a reference
        shell_keys = ("EnvironmentVariables", "BuildspecOverride") if a.provider == _catalog.CODEBUILD.provider else ()
        for key, value in a.config.items():
            if type(value) is str and "#{" in value and isinstance(key, str):
                path = join_key(f"{a.path}.configuration", key)
                # A pipeline variable as an entry's value is the documented way into a build (the one
                # who starts the pipeline sets it); commit text anyone can push still warns there.
                in_values = key == "EnvironmentVariables" and key in shell_keys and _only_in_env_values(value)
                _references(ctx, path, value, key in shell_keys, a.stage, a.run_order, a, variables_safe=in_values)
        commands, envs = a.data.get("commands"), a.data.get("environmentVariables")
        for i, command in enumerate(_list(commands) if commands else ()):
            if type(command) is str and "\n" in command:
                ctx.add(
                    "PW713",
                    f"{a.path}.commands[{i}]",
                    "the command spans several lines; commands entries are single shell lines",
                    "split it into one entry per line, or run a script file",
                )
            if type(command) is str and "#{" in command:
                _references(ctx, f"{a.path}.commands[{i}]", command, True, a.stage, a.run_order, a)
        for i, env in enumerate(_list(envs) if envs else ()):
            value = _dict(env).get("value")
            if type(value) is str and "#{" in value:
                _references(ctx, f"{a.path}.environmentVariables[{i}].value", value, False, a.stage, a.run_order, a)


def _undeclared_namespace_hint(ctx: _Context, ns: str, key: str, stage: int, run_order: int) -> str | None:
    """How to make ``#{ns.key}`` resolve: most often by naming the producer's namespace, not by renaming."""
    # An earlier action without a namespace that emits *key* is almost always the one meant.
    emitters = [
        a
        for a in ctx.actions
        if a.namespace is None
        and _earlier(a, stage, run_order)
        and a.spec is not None
        and a.spec.output_variables
        and key in a.spec.output_variables
    ]
    if len(emitters) == 1:
        a = emitters[0]
        return (
            f"set namespace {ns!r} on action {a.label} ({a.provider} emits {key}): "
            f'namespace="{ns}" in Python, "namespace": "{ns}" in JSON'
        )
    # A reserved namespace is a likely meaning only when it differs in case alone.
    reserved = [r for r in _RESERVED_NAMESPACES if r.lower() == ns.lower()]
    return _did_you_mean(
        ns,
        [*ctx.namespaces, *reserved],
        f"set namespace {ns!r} on the action that produces {key} (variables of an action without a "
        "namespace cannot be referenced)",
    )


def _only_in_env_values(text: str) -> bool:
    """Every reference in CodeBuild's EnvironmentVariables JSON sits inside an entry's ``value``.

    That is the documented way to hand a variable to a build: it reaches the build as the
    value of an environment variable, which a script reads as ``"$NAME"``, never as shell text.
    """
    try:
        entries = load_json(text)
    except ValueError:  # PW222 reports the broken JSON (LoadFailure is a ValueError)
        return False
    if not isinstance(entries, list):
        return False
    in_values: int = sum(
        e["value"].count("#{") for e in entries if isinstance(e, dict) and isinstance(e.get("value"), str)
    )
    return in_values == text.count("#{")


def _references(
    ctx: _Context,
    path: str,
    text: str,
    shell: bool,
    stage: int,
    run_order: int,
    who: _Action | None,
    *,
    variables_safe: bool = False,
) -> None:
    for m in _ANY_REF.finditer(text):
        ref = _REF.fullmatch(m.group(0))
        if ref is None:
            ctx.add(
                "PW710",
                path,
                f"{m.group(0)!r} is not a variable reference (#{{namespace.key}}), so it is passed on literally",
                "write #{Namespace.Key}, #{variables.name} or #{codepipeline.PipelineExecutionId}",
            )
            continue
        ns, key = ref.group(1), ref.group(2)
        if ns == "codepipeline":
            if key not in _CODEPIPELINE_KEYS:
                ctx.add(
                    "PW704",
                    path,
                    f"#{{codepipeline.{key}}} is not a documented codepipeline variable",
                    _did_you_mean(key, _CODEPIPELINE_KEYS, "the documented key is PipelineExecutionId"),
                )
            continue
        if ns == "variables":
            if key not in ctx.variables:
                ctx.add(
                    "PW303",
                    path,
                    f"#{{variables.{key}}} refers to pipeline variable {key!r}, which is not declared",
                    _did_you_mean(key, ctx.variables, f'declare it: "variables": [{{"name": "{key}"}}]'),
                )
            elif shell and not variables_safe:
                _injection(ctx, path, m.group(0), "a pipeline variable anyone starting the pipeline can override")
            continue
        producer = ctx.namespaces.get(ns)
        if producer is None:
            ctx.add(
                "PW301",
                path,
                f"{m.group(0)} refers to namespace {ns!r}, which no action declares",
                _undeclared_namespace_hint(ctx, ns, key, stage, run_order),
            )
            continue
        if producer is who or not _earlier(producer, stage, run_order):
            ctx.add(
                "PW302",
                path,
                f"{m.group(0)} refers to action {producer.label} (stages[{producer.stage}], runOrder "
                f"{producer.run_order}), which does not finish before this one starts",
                "give the producer a lower runOrder or move it to an earlier stage",
            )
            continue
        outputs: Sequence[str] | None = None
        if producer.provider == _catalog.COMMANDS.provider and producer.category == _catalog.COMMANDS.category:
            outputs = [v for v in _list(producer.data.get("outputVariables")) if isinstance(v, str)]
        elif producer.spec is not None:
            outputs = producer.spec.output_variables
        if outputs is not None and key not in outputs:
            ctx.add(
                "PW709",
                path,
                f"{m.group(0)}: action {producer.label} ({producer.provider}) does not produce {key!r}",
                _did_you_mean(key, outputs, f"it produces: {', '.join(outputs) or 'no variables'}"),
            )
        elif shell and producer.is_source and key in _COMMIT_METADATA:
            _injection(ctx, path, m.group(0), "commit metadata whoever pushes a commit controls")


def _injection(ctx: _Context, path: str, ref: str, what: str) -> None:
    # The substitution is textual in all three places; what differs is what the text becomes.
    if path.endswith("EnvironmentVariables"):
        into = (
            "substituted into the JSON text of CodeBuild's environment variables "
            "(a quote in it can end the value and add or change variables)"
        )
    elif path.endswith("BuildspecOverride"):
        into = "substituted into the buildspec text before CodeBuild reads it"
    else:
        into = "substituted into shell text before it runs"
    if path.endswith("EnvironmentVariables"):
        fix = (
            "pass #{Namespace.CommitId} instead and read the text in the build (git log -1 --format=%B), "
            "where no quote in it can reach the JSON"
        )
    else:
        fix = (
            'pass it as an environment variable and quote it in the script ("$VAR"), or validate it in the script first'
        )
    ctx.add("PW701", path, f"{ref} is {what}, {into}", fix)


# ---------------------------------------------------------------------------------------------
# triggers


def _trigger_rules(ctx: _Context) -> None:
    by_name: dict[str, list[_Action]] = {}
    for a in ctx.actions:
        if a.name is not None:
            by_name.setdefault(a.name, []).append(a)
    seen: dict[str, int] = {}
    for ti, trigger in enumerate(_list(ctx.decl.get("triggers"))):
        git = _dict(_dict(trigger).get("gitConfiguration"))
        gpath = f"triggers[{ti}].gitConfiguration"
        name = _str(git.get("sourceActionName"))
        if name is not None:
            npath = f"{gpath}.sourceActionName"
            found = by_name.get(name, [])
            if not found:
                sources = [a.name for a in ctx.actions if a.is_source and a.name]
                ctx.add(
                    "PW401",
                    npath,
                    f"trigger source action {name!r} does not exist",
                    _did_you_mean(name, sources, f"source actions: {', '.join(sources) or '(none)'}"),
                )
            elif all(a.category is not None for a in found) and not any(
                a.is_source and a.provider == _catalog.CONNECTION_SOURCE.provider for a in found
            ):
                a = found[0]
                ctx.add(
                    "PW402",
                    npath,
                    f"trigger source action {name!r} is a {a.category}/{a.provider} action; triggers need a "
                    "CodeStarSourceConnection source action",
                    "use a CodeStarSourceConnection (GitHub, GitLab, Bitbucket) source, or remove the trigger",
                )
            if name in seen:
                ctx.add(
                    "PW403",
                    npath,
                    f"source action {name!r} already has a trigger (triggers[{seen[name]}])",
                    "merge the filters into one trigger (push and pullRequest lists are OR'ed)",
                )
            else:
                seen[name] = ti
        for pi, push in enumerate(_list(git.get("push"))):
            push = _dict(push)
            present = tuple(k for k in ("tags", "branches", "filePaths") if push.get(k) is not None)
            if present not in (("tags",), ("branches",), ("branches", "filePaths")):
                ctx.add(
                    "PW404",
                    f"{gpath}.push[{pi}]",
                    f"push filter has {' + '.join(present) or 'no criteria'}; allowed: tags alone, branches "
                    "alone, or branches + filePaths",
                    "split tags into their own push filter; add branches to a filePaths filter",
                )
        for kind in ("push", "pullRequest"):
            for fi, flt in enumerate(_list(git.get(kind))):
                _glob_rules(ctx, f"{gpath}.{kind}[{fi}]", _dict(flt))
        for pi, pull in enumerate(_list(git.get("pullRequest"))):
            pull = _dict(pull)
            present = tuple(k for k in ("branches", "filePaths") if pull.get(k) is not None)
            if present not in (("branches",), ("branches", "filePaths")):
                ctx.add(
                    "PW405",
                    f"{gpath}.pullRequest[{pi}]",
                    f"pull-request filter has {' + '.join(present) or 'no branches'}; it needs branches "
                    "(optionally with filePaths and events)",
                    'add "branches": {"includes": ["main"]}',
                )


def _glob_rules(ctx: _Context, path: str, flt: Mapping[str, Any]) -> None:
    for criterion in ("branches", "tags", "filePaths"):
        for side in ("includes", "excludes"):
            for k, pattern in enumerate(_list(_dict(flt.get(criterion)).get(side))):
                if type(pattern) is not str:
                    continue  # the shape walk reports it
                try:
                    compile_glob(pattern)
                except DefinitionError as exc:
                    ctx.add(
                        "PW714",
                        f"{path}.{criterion}.{side}[{k}]",
                        f"glob {pattern!r} is malformed: {exc.rule.split(';')[0]}",
                        "escape special characters with a backslash, e.g. '\\{' for a literal brace, or close "
                        "the group or set",
                    )


# ---------------------------------------------------------------------------------------------
# stage conditions (P12-P15)

_ALLOWED_RESULTS: Final = {
    "beforeEntry": ("FAIL", "SKIP"),
    "onSuccess": ("ROLLBACK", "FAIL"),
    "onFailure": ("ROLLBACK",),
}


def _condition_rules(ctx: _Context) -> None:
    parallel = ctx.decl.get("executionMode") == "PARALLEL"
    names = list(ctx.producers)
    for si, spath, stage, sname in ctx.stages:
        failure = stage.get("onFailure")
        if isinstance(failure, Mapping):
            result = failure.get("result")
            fpath = f"{spath}.onFailure"
            if isinstance(result, str) and result not in ("ROLLBACK", "RETRY"):
                ctx.add(
                    "PW501",
                    f"{fpath}.result",
                    f"onFailure result {result!r} is not allowed; use ROLLBACK or RETRY",
                    "leave result out to let the stage simply fail",
                )
            if result == "RETRY" and _list(failure.get("conditions")):
                ctx.add(
                    "PW503",
                    f"{fpath}.conditions",
                    "automatic retry (result RETRY) cannot be combined with onFailure conditions",
                    "remove the conditions or use result ROLLBACK",
                )
            if result == "ROLLBACK":
                _rollback(ctx, f"{fpath}.result", si, parallel)
        for kind in ("onFailure", "onSuccess", "beforeEntry"):
            block = stage.get(kind)
            if not isinstance(block, Mapping):
                continue
            for ci, cond in enumerate(_list(block.get("conditions"))):
                cond = _dict(cond)
                cpath = f"{spath}.{kind}.conditions[{ci}]"
                result = cond.get("result")
                if isinstance(result, str) and result not in _ALLOWED_RESULTS[kind]:
                    ctx.add(
                        "PW501",
                        f"{cpath}.result",
                        f"{kind} condition result {result!r} is not allowed; use {' or '.join(_ALLOWED_RESULTS[kind])}",
                        None,
                    )
                if result == "ROLLBACK":
                    _rollback(ctx, f"{cpath}.result", si, parallel)
                rules = cond.get("rules")
                if rules is None:
                    ctx.add(
                        "PW505",
                        f"{cpath}.rules",
                        f"the {kind} condition of stage {sname!r} has no rules",
                        "add 1-5 rules",
                    )
                # beforeEntry rules run before any action of the stage; the others after them
                position = (si, 0) if kind == "beforeEntry" else (si, _AFTER_STAGE)
                for ri, rule in enumerate(_list(rules)):
                    _rule(ctx, _dict(rule), f"{cpath}.rules[{ri}]", kind, result, position, names)


def _rollback(ctx: _Context, path: str, stage: int, parallel: bool) -> None:
    if parallel:
        ctx.add(
            "PW502",
            path,
            "rollback is not available in PARALLEL execution mode",
            "use executionMode QUEUED or SUPERSEDED, or result FAIL",
        )
    if stage == 0:
        ctx.add("PW506", path, "the first (source) stage cannot be rolled back", "remove the rollback")


def _rule(
    ctx: _Context,
    rule: Mapping[str, Any],
    path: str,
    kind: str,
    result: Any,
    position: tuple[int, int],
    names: Sequence[str],
) -> None:
    provider = _str(_dict(rule.get("ruleTypeId")).get("provider"))
    config = _dict(rule.get("configuration"))
    spec = _catalog.lookup_rule(provider) if provider is not None else None
    if provider is not None and spec is None:
        ctx.add(
            "PW508",
            f"{path}.ruleTypeId.provider",
            f"there is no rule type {provider!r}",
            _did_you_mean(provider, _catalog.RULE_TYPES, f"rule types: {', '.join(_catalog.RULE_TYPES)}"),
        )
    if spec is not None:
        if kind == "beforeEntry" and result == "SKIP" and not spec.can_skip:
            ctx.add(
                "PW504",
                f"{path}.ruleTypeId.provider",
                f"a SKIP condition cannot use a {provider} rule; only LambdaInvoke and VariableCheck rules can skip",
                "use result FAIL, or a VariableCheck/LambdaInvoke rule",
            )
        for key in spec.required:
            if key not in config:
                ctx.add(
                    "PW509", join_key(f"{path}.configuration", key), f"{provider} rule needs {key!r}", f"add {key!r}"
                )
        if not spec.open_configuration:
            for key in config:
                if isinstance(key, str) and key not in spec.keys:
                    ctx.add(
                        "PW510",
                        join_key(f"{path}.configuration", key),
                        f"{provider} rule has unknown configuration {key!r}",
                        _did_you_mean(key, spec.keys, f"allowed keys: {', '.join(sorted(spec.keys)) or '(none)'}"),
                    )
        for key, allowed in spec.allowed.items():
            value = config.get(key)
            if _is_literal(value) and value not in allowed:
                ctx.add(
                    "PW213",
                    join_key(f"{path}.configuration", key),
                    f"{key} is {value!r}; allowed values are {', '.join(allowed)}",
                    _did_you_mean(str(value), allowed, None),
                )
        has_commands = rule.get("commands") is not None
        if spec.needs_commands and not has_commands:
            ctx.add("PW511", f"{path}.commands", "the Commands rule needs a commands list", 'add "commands": [...]')
        elif has_commands and not spec.needs_commands:
            ctx.add("PW511", f"{path}.commands", f"a {provider} rule takes no commands", "remove commands")
    for ii, item in enumerate(_list(rule.get("inputArtifacts"))):
        name = _str(_dict(item).get("name"))
        if name is not None:
            _consume(ctx, name, f"{path}.inputArtifacts[{ii}].name", position[0], position[1], "this rule", names)
    for key, value in config.items():
        if isinstance(value, str) and isinstance(key, str) and "#{" in value:
            _references(ctx, join_key(f"{path}.configuration", key), value, False, *position, None)
    for i, command in enumerate(_list(rule.get("commands"))):
        if isinstance(command, str) and "#{" in command:
            _references(ctx, f"{path}.commands[{i}]", command, True, *position, None)


# ---------------------------------------------------------------------------------------------
# regions and accounts (P2, P3, A11)


def _region_rules(ctx: _Context) -> None:
    home = ctx.region
    store = ctx.decl.get("artifactStore")
    stores = ctx.decl.get("artifactStores")
    used: list[tuple[str, str, _Action]] = [(f"{a.path}.region", a.region, a) for a in ctx.actions if a.region]
    regions = {r for _, r, _ in used}
    rule_regions: list[tuple[str, str]] = []
    for _si, spath, stage, _name in ctx.stages:
        for kind in ("onFailure", "onSuccess", "beforeEntry"):
            for ci, cond in enumerate(_list(_dict(stage.get(kind)).get("conditions"))):
                for ri, rule in enumerate(_list(_dict(cond).get("rules"))):
                    region = _str(_dict(rule).get("region"))
                    if region:
                        rule_regions.append((f"{spath}.{kind}.conditions[{ci}].rules[{ri}].region", region))
    if isinstance(store, Mapping) and stores is None:
        if home is not None:
            for path, r, a in used:
                if r != home:
                    ctx.add(
                        "PW103",
                        path,
                        f"action {a.label} runs in {r}, outside the pipeline region {home}, but the pipeline has a "
                        "single artifactStore",
                        f"replace artifactStore with artifactStores holding {home!r} and {r!r}",
                    )
        elif len(regions) > 1:
            ctx.add(
                "PW103",
                "artifactStore",
                f"actions run in {len(regions)} regions ({', '.join(sorted(regions))}) but the pipeline has a "
                "single artifactStore, which serves only the pipeline region",
                "replace artifactStore with artifactStores, one entry per region",
            )
    if isinstance(stores, Mapping):
        keys = [k for k in stores if isinstance(k, str)]
        for path, r, a in used:
            if r not in keys:
                ctx.add(
                    "PW104",
                    path,
                    f"action {a.label} runs in {r}, which has no entry in artifactStores",
                    f'add artifactStores["{r}"] with a bucket in {r}',
                )
        for path, r in rule_regions:
            if r not in keys:
                ctx.add(
                    "PW104",
                    path,
                    f"the rule runs in {r}, which has no entry in artifactStores",
                    f'add artifactStores["{r}"] with a bucket in {r}',
                )
        if home is not None and home not in keys:
            ctx.add(
                "PW105",
                "artifactStores",
                f"artifactStores has no entry for the pipeline region {home}",
                f'add artifactStores["{home}"]',
            )
        unused = [k for k in keys if k not in regions and k != home]
        if home is not None:
            for k in unused:
                ctx.add(
                    "PW711",
                    join_key("artifactStores", k),
                    f"no action runs in {k} and it is not the pipeline region {home}",
                    "remove the entry",
                )
        elif len(unused) >= 2:
            ctx.add(
                "PW711",
                "artifactStores",
                f"no action runs in {', '.join(unused)}; at most one of them can be the pipeline region",
                "remove the stores no action uses (call lint(..., region=) to name the pipeline region)",
            )
    if home is not None:
        for path, r, a in used:
            if r != home and (a.is_source or a.owner in ("ThirdParty", "Custom")):
                what = "source" if a.is_source else a.owner
                ctx.add(
                    "PW216",
                    path,
                    f"{what} action {a.label} cannot run in another region ({r}; the pipeline is in {home})",
                    "remove region",
                )


_KMS_REGION: Final = re.compile(r"arn:aws[\w-]*:kms:([a-z0-9-]+):")


def _key_regions(ctx: _Context) -> None:
    """P3: a store's KMS key ARN names the store's region (aliases and key IDs name none)."""
    stores: list[tuple[str, str | None, Any]] = []
    if isinstance(ctx.decl.get("artifactStore"), Mapping):
        stores.append(("artifactStore", ctx.region, ctx.decl["artifactStore"]))
    for k, v in _dict(ctx.decl.get("artifactStores")).items():
        if isinstance(k, str):
            stores.append((join_key("artifactStores", k), k, v))
    for path, region, store in stores:
        kid = _dict(_dict(store).get("encryptionKey")).get("id")
        m = _KMS_REGION.match(kid) if isinstance(kid, str) else None
        if m is not None and region is not None and m.group(1) != region:
            ctx.add(
                "PW114",
                f"{path}.encryptionKey.id",
                f"the artifact store for {region} uses a KMS key in {m.group(1)}",
                f"use a KMS key created in {region}",
            )


def _account_rules(ctx: _Context) -> None:
    role = ctx.decl.get("roleArn")
    m = _ACCOUNT.match(role) if isinstance(role, str) else None
    if m is None:
        return
    home = m.group(1)
    foreign = []
    for a in ctx.actions:
        arn = a.data.get("roleArn")
        am = _ACCOUNT.match(arn) if isinstance(arn, str) else None
        if am is not None and am.group(1) != home:
            foreign.append((a, am.group(1)))
    if not foreign:
        return
    stores: list[tuple[str, Mapping[str, Any]]] = []
    if isinstance(ctx.decl.get("artifactStore"), Mapping):
        stores.append(("artifactStore", ctx.decl["artifactStore"]))
    for k, v in _dict(ctx.decl.get("artifactStores")).items():
        if isinstance(v, Mapping) and isinstance(k, str):
            stores.append((join_key("artifactStores", k), v))
    for spath, store in stores:
        key = store.get("encryptionKey")
        a, account = foreign[0]
        if key is None:
            ctx.add(
                "PW703",
                spath,
                f"action {a.label} uses a role in account {account} (the pipeline is in {home}), but this artifact "
                "store uses the AWS-managed aws/s3 key, which other accounts cannot use",
                "add encryptionKey with a customer-managed KMS key that the other account may use",
            )
        else:
            kid = _dict(key).get("id")
            if isinstance(kid, str) and (kid.startswith("alias/") or ":alias/" in kid):
                ctx.add(
                    "PW712",
                    f"{spath}.encryptionKey.id",
                    f"the artifact key is the alias {kid!r}; action {a.label} runs in account {account}, where "
                    "the alias does not resolve",
                    "use the key ARN instead of the alias",
                )


# ---------------------------------------------------------------------------------------------
# what lives beside the declaration (tags, disabled transitions)


def _check_beside(ctx: _Context, found: _Target) -> None:
    if len(found.tags) > 50:
        ctx.add("PW604", "tags", f"the pipeline has {len(found.tags)} tags; at most 50 are allowed", None)
    for path, key, value in found.tags:
        if key.startswith("aws:"):
            ctx.add("PW605", path, f"tag key {key!r} uses the reserved prefix 'aws:'", "remove the prefix")
        elif not 1 <= len(key) <= 128 or len(value) > 256:
            ctx.add("PW605", path, f"tag {key!r} is too long (keys 1-128, values 0-256 characters)", None)
    stage_names = [name for _, _, _, name in ctx.stages if name is not None]
    for stage, reason in found.disabled_transitions.items():
        path = join_key("disabledTransitions", stage)
        if stage not in stage_names:
            ctx.add(
                "PW112",
                path,
                f"the disabled transition names stage {stage!r}, which the pipeline does not have",
                _did_you_mean(stage, stage_names, f"stages: {', '.join(stage_names)}"),
            )
        if not _TRANSITION_REASON.fullmatch(reason):
            ctx.add(
                "PW113",
                path,
                f"the reason {reason!r} must be 1-300 characters of letters, digits, spaces and !@().*?-",
                None,
            )


_RULE_GROUPS: Final[tuple[Callable[[_Context], None], ...]] = (
    _index,
    _pipeline_rules,
    _v2_rules,
    _action_rules,
    _artifact_rules,
    _namespace_rules,
    _variable_rules,
    _trigger_rules,
    _condition_rules,
    _region_rules,
    _key_regions,
    _account_rules,
)


# Pipeline.validate() reaches this layer through the model's service slot.
SERVICES.validate = validate
