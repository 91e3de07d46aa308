"""CloudFormation both ways: templates load safely, round-trip, and synthesize lint-clean."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pipeweaver as pw
from pipeweaver import _cfn
from pipeweaver._codec import is_intrinsic
from pipeweaver._loader._yaml import TemplateConstructor
from pipeweaver.synth import (
    from_cloudformation,
    from_codepipeline,
    parameter_resolver,
    resolve_parameters,
    to_cloudformation,
    to_codepipeline,
)

from ..conftest import Case, cases, corpus_case, fixture_case
from ..strategies import pipelines
from ._lint import cfn_lint
from ._strategies import pipelines_with_expressions


def _loads_as_api(case: Case) -> bool:
    try:
        from_codepipeline(case.json())
    except pw.LoadError:
        return False
    return True


#: API files that are structurally valid (the others are the codec tests' business).
API_LOADABLE = cases("api", _loads_as_api)


def _canonical(value: Any, key: str = "") -> Any:
    """The documented normalisations, written independently of the loader, for comparison."""
    if isinstance(value, dict):
        if is_intrinsic(value):
            return value
        if key == "Configuration":
            return {k: _config_text(v) for k, v in value.items()}
        out = {k: _canonical(v, k) for k, v in value.items()}
        if "ActionTypeId" in out:
            out.setdefault("RunOrder", 1)
            for empty in ("Configuration", "InputArtifacts", "OutputArtifacts"):
                if out.get(empty) in ({}, []):
                    del out[empty]
        return out
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if key == "RunOrder" and isinstance(value, str):
        return int(value)
    if key == "Version" and isinstance(value, int):
        return str(value)
    return value


def _config_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _intrinsics(value: Any) -> list[str]:
    if is_intrinsic(value):
        return [json.dumps(value, sort_keys=True)]
    if isinstance(value, dict):
        return [x for v in value.values() for x in _intrinsics(v)]
    if isinstance(value, list):
        return [x for v in value for x in _intrinsics(v)]
    return []


# -- conformance files ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", cases("cfn"))
def test_every_template_loads(case: Case) -> None:
    """Each pipeline of each template loads, or is refused with template paths only."""
    template = _cfn.load_template(case.text())
    outcomes = []
    stray_paths = []
    for logical_id in _cfn.find_pipelines(template):
        try:
            from_cloudformation(template, logical_id)
            outcomes.append("loaded")
        except pw.LoadError as exc:
            stray_paths += [i.path for i in exc.issues if not i.path.startswith(f"Resources.{logical_id}.Properties")]
            outcomes.append("refused")

    assert outcomes
    assert [] == stray_paths
    if case.valid:
        assert ["loaded"] == outcomes


@pytest.mark.parametrize("case", cases("cfn", lambda c: c.valid))
def test_valid_templates_resynthesize_to_the_original_resource(case: Case) -> None:
    """A valid template's pipeline resource comes back equal, modulo the documented normalisations."""
    template = _cfn.load_template(case.text())
    (logical_id,) = _cfn.find_pipelines(template)
    original = template["Resources"][logical_id]["Properties"]

    again = to_cloudformation(from_cloudformation(case.text()), logical_id=logical_id)

    assert _canonical(original) == again["Resources"][logical_id]["Properties"]
    assert sorted(_intrinsics(original)) == sorted(_intrinsics(again["Resources"][logical_id]["Properties"]))


#: A template with two pipelines: (case, the ids the refusal lists, the first id, where its structure breaks).
TWO_PIPELINES = [
    pytest.param(
        fixture_case("cfn/invalid-two-pipelines-one-stage.yaml"),
        "Primary, Secondary",
        "Primary",
        "Stages[0].Actions[0].OutputArtifacts[0]",
        id="fixture",
    ),
    corpus_case(
        "cfn/cfn-11-cfnlint-bad-one-stage.yaml",
        "TestPipeline, TestPipeline2",
        "TestPipeline",
        "Stages[0].Actions[0].OutputArtifacts[0]",
    ),
]


@pytest.mark.parametrize(("case", "ids", "first", "broken"), TWO_PIPELINES)
def test_template_with_two_pipelines_asks_for_the_logical_id(case: Case, ids: str, first: str, broken: str) -> None:
    """A template with several pipelines is refused with a LoadError listing their ids."""
    with pytest.raises(pw.LoadError) as info:
        from_cloudformation(case.text())

    assert "logical_id" in str(info.value)
    assert ids in info.value.issues[0].message


@pytest.mark.parametrize(("case", "ids", "first", "broken"), TWO_PIPELINES)
def test_structural_problems_carry_template_paths(case: Case, ids: str, first: str, broken: str) -> None:
    """A string where an output artifact object belongs is reported at its template path."""
    with pytest.raises(pw.LoadError) as info:
        from_cloudformation(case.text(), first)

    assert [f"Resources.{first}.Properties.{broken}"] == [i.path for i in info.value.issues]


@pytest.mark.parametrize("case", cases("cfn"))
def test_model_template_model_round_trip_on_templates(case: Case) -> None:
    """Every loadable pipeline of a template survives model -> template -> model unchanged."""
    template = _cfn.load_template(case.text())
    for logical_id in _cfn.find_pipelines(template):
        try:
            pipeline = from_cloudformation(template, logical_id)
        except pw.LoadError:
            continue

        assert pipeline == from_cloudformation(to_cloudformation(pipeline, logical_id=logical_id), logical_id)


@pytest.mark.parametrize("case", API_LOADABLE)
def test_model_template_model_round_trip_on_api_definitions(case: Case) -> None:
    """API-definition pipelines survive model -> template -> model unchanged."""
    pipeline = from_codepipeline(case.json())

    assert pipeline == from_cloudformation(to_cloudformation(pipeline))


@settings(max_examples=200)
@given(pipelines())
def test_model_template_model_round_trip_hypothesis(pipeline: pw.Pipeline) -> None:
    """Generated pipelines survive model -> template -> model unchanged."""
    assert pipeline == from_cloudformation(to_cloudformation(pipeline))


# -- cfn-lint -------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", cases("api", lambda c: c.valid))
@pytest.mark.parametrize("extras", [False, True], ids=["bare", "bucket-key-role"])
def test_valid_api_pipelines_synthesize_lint_clean(case: Case, extras: bool) -> None:
    """Templates of the valid API pipelines have no cfn-lint errors or warnings."""
    pipeline = from_codepipeline(case.json())
    single = pipeline.artifact_store is not None
    template = to_cloudformation(pipeline, artifact_bucket=extras and single, kms_key=extras, pipeline_role=extras)

    assert [] == cfn_lint(template)


def _example_pipelines() -> list[tuple[str, pw.Pipeline]]:
    """Every example that exposes a pipeline builder (``build_pipeline``, ``service_pipeline``)."""
    import importlib.util

    out = []
    for path in sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.py")):
        if path.name.startswith("test_"):
            continue
        spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if hasattr(module, "build_pipeline"):
            out.append((path.stem, module.build_pipeline()))
        elif hasattr(module, "service_pipeline"):
            out.append((path.stem, module.service_pipeline("api")))
    return out


EXAMPLES = _example_pipelines()


@pytest.mark.parametrize(("name", "pipeline"), EXAMPLES, ids=[n for n, _ in EXAMPLES])
def test_example_pipelines_synthesize_lint_clean(name: str, pipeline: pw.Pipeline) -> None:
    """Each example's pipeline, bare and with every option that applies, has no cfn-lint findings."""
    single = pipeline.artifact_store is not None

    assert [] == cfn_lint(to_cloudformation(pipeline))
    assert [] == cfn_lint(to_cloudformation(pipeline, artifact_bucket=single, kms_key=single, pipeline_role=True))
    assert pipeline == from_cloudformation(to_cloudformation(pipeline))


@settings(max_examples=50)
@given(pipelines(), st.booleans())
def test_generated_pipelines_synthesize_lint_clean(pipeline: pw.Pipeline, extras: bool) -> None:
    """Templates of generated pipelines (with or without the extra resources) lint clean."""
    single = pipeline.artifact_store is not None
    template = to_cloudformation(
        pipeline, artifact_bucket=extras and single, kms_key=extras and single, pipeline_role=extras
    )

    assert [] == cfn_lint(template)


@pytest.mark.parametrize("case", cases("cfn", lambda c: c.valid))
def test_imported_templates_declare_the_parameters_they_reference(case: Case) -> None:
    """Refs to names the synthesized template lacks become String parameters."""
    template = to_cloudformation(from_cloudformation(case.text()))
    refs = {json.loads(x)["Ref"] for x in _intrinsics(template["Resources"]) if json.loads(x).get("Ref") is not None}
    defined = set(template["Resources"]) | set(template.get("Parameters", {}))

    assert set() == {r for r in refs if not r.startswith("AWS::")} - defined


# -- CloudFormation specifics -----------------------------------------------------------------


def test_cloudformation_only_settings_round_trip(sample: pw.Pipeline) -> None:
    """Tags, disabled transitions and RestartExecutionOnUpdate are written and read back."""
    pipeline = pw.Pipeline(
        name=sample.name,
        role_arn=sample.role_arn,
        stages=sample.stages,
        artifact_store=sample.artifact_store,
        tags={"team": "web"},
        disabled_transitions={"Deploy": "freeze"},
        restart_execution_on_update=True,
    )

    props = to_cloudformation(pipeline)["Resources"]["Pipeline"]["Properties"]

    assert [{"Key": "team", "Value": "web"}] == props["Tags"]
    assert [{"StageName": "Deploy", "Reason": "freeze"}] == props["DisableInboundStageTransitions"]
    assert props["RestartExecutionOnUpdate"] is True
    assert pipeline == from_cloudformation(to_cloudformation(pipeline))


def test_artifact_stores_become_a_region_list() -> None:
    """Cross-region stores are written as CloudFormation's list of {Region, ArtifactStore}."""
    pipeline = from_codepipeline(fixture_case("api/cross-region-artifact-stores.json").json())

    stores = to_cloudformation(pipeline)["Resources"]["Pipeline"]["Properties"]["ArtifactStores"]

    assert sorted(pipeline.artifact_stores or {}) == sorted(s["Region"] for s in stores)
    assert all(set(s["ArtifactStore"]) >= {"Type", "Location"} for s in stores)


def test_failure_result_cloudformation_lacks_is_refused(sample: pw.Pipeline) -> None:
    """An onFailure result of FAIL raises SynthesisError naming its path (CFN allows ROLLBACK/RETRY)."""
    stages = list(sample.stages)
    stages[1] = pw.Stage(name=stages[1].name, actions=stages[1].actions, on_failure=pw.FailureConditions(result="FAIL"))
    pipeline = pw.Pipeline(
        name="p", role_arn=sample.role_arn, stages=stages, artifact_store=sample.artifact_store, pipeline_type="V2"
    )

    with pytest.raises(pw.SynthesisError) as info:
        to_cloudformation(pipeline)

    assert "stages[1].onFailure.result" == info.value.path


def test_rule_timeout_is_refused(sample: pw.Pipeline) -> None:
    """A rule timeoutInMinutes (absent from the CFN schema) raises SynthesisError naming its path."""
    rule = pw.Rule(name="Check", rule_type=pw.RuleType(provider="VariableCheck"), timeout_in_minutes=10)
    stages = list(sample.stages)
    stages[2] = pw.Stage(
        name=stages[2].name,
        actions=stages[2].actions,
        before_entry=pw.BeforeEntryConditions(conditions=[pw.Condition(result="FAIL", rules=[rule])]),
    )
    pipeline = pw.Pipeline(
        name="p", role_arn=sample.role_arn, stages=stages, artifact_store=sample.artifact_store, pipeline_type="V2"
    )

    with pytest.raises(pw.SynthesisError) as info:
        to_cloudformation(pipeline)

    assert "stages[2].beforeEntry.conditions[0].rules[0].timeoutInMinutes" == info.value.path


def test_artifact_bucket_needs_a_single_store() -> None:
    """artifact_bucket=True on a cross-region pipeline raises SynthesisError."""
    pipeline = from_codepipeline(fixture_case("api/cross-region-artifact-stores.json").json())

    with pytest.raises(pw.SynthesisError) as info:
        to_cloudformation(pipeline, artifact_bucket=True)

    assert "artifactStores" == info.value.path


def _statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    policies = template["Resources"]["PipelineRole"]["Properties"]["Policies"]
    return [s for p in policies for s in p["PolicyDocument"]["Statement"]]


@pytest.mark.parametrize("case", cases("api", lambda c: c.valid))
def test_pipeline_role_is_least_privilege(case: Case) -> None:
    """The generated role never grants Action '*', scopes PassRole and trusts only CodePipeline."""
    template = to_cloudformation(from_codepipeline(case.json()), pipeline_role=True)
    statements = _statements(template)
    trust = template["Resources"]["PipelineRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]

    assert [] == [s for s in statements if "*" in s["Action"] or any(a.endswith(":*") for a in s["Action"])]
    assert [] == [s for s in statements if "iam:PassRole" in s["Action"] and "iam:PassedToService" not in json.dumps(s)]
    assert [{"Service": "codepipeline.amazonaws.com"}] == [t["Principal"] for t in trust]
    assert {"Fn::GetAtt": ["PipelineRole", "Arn"]} == template["Resources"]["Pipeline"]["Properties"]["RoleArn"]


def test_role_permissions_follow_the_providers(sample: pw.Pipeline) -> None:
    """CodeBuild and CodeDeploy actions get their own permissions, scoped to their resources."""
    statements = _statements(to_cloudformation(sample, pipeline_role=True))
    actions = {a for s in statements for a in s["Action"]}
    builds = [s for s in statements if "codebuild:StartBuild" in s["Action"]]

    assert {"codebuild:StartBuild", "codedeploy:CreateDeployment", "codestar-connections:UseConnection"} <= actions
    assert "ecs:UpdateService" not in actions
    assert [
        [{"Fn::Sub": "arn:${AWS::Partition}:codebuild:${AWS::Region}:${AWS::AccountId}:project/web-build"}],
        [{"Fn::Sub": "arn:${AWS::Partition}:codebuild:${AWS::Region}:${AWS::AccountId}:project/web-test"}],
    ] == [s["Resource"] for s in builds]


def test_bucket_and_key_options(sample: pw.Pipeline) -> None:
    """The bucket is versioned, KMS-encrypted with the new key, public-access-blocked and TLS-only."""
    template = to_cloudformation(sample, artifact_bucket=True, kms_key=True)
    bucket = template["Resources"]["ArtifactBucket"]["Properties"]
    policy = template["Resources"]["ArtifactBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    store = template["Resources"]["Pipeline"]["Properties"]["ArtifactStore"]
    sse = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]

    assert {"Status": "Enabled"} == bucket["VersioningConfiguration"]
    assert {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": ["ArtifactKey", "Arn"]}} == sse
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert [{"Bool": {"aws:SecureTransport": "false"}}] == [s["Condition"] for s in policy if s["Effect"] == "Deny"]
    assert {
        "Location": {"Ref": "ArtifactBucket"},
        "Type": "S3",
        "EncryptionKey": {"Id": {"Fn::GetAtt": ["ArtifactKey", "Arn"]}, "Type": "KMS"},
    } == store
    assert {"PipelineName", "PipelineArn", "ArtifactBucketName", "ArtifactKeyArn"} == set(template["Outputs"])


# -- expressions and normalisations ----------------------------------------------------------

TEMPLATE = """
AWSTemplateFormatVersion: 2010-09-09
Parameters:
  Env: {Type: String}
Resources:
  Pipe:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      Name: !Sub '${Env}-web'
      RoleArn: !GetAtt Role.Arn
      ArtifactStore: {Type: S3, Location: !Ref Bucket}
      Stages:
        - Name: Source
          Actions:
            - Name: Src
              ActionTypeId: {Category: Source, Owner: AWS, Provider: S3, Version: 1}
              Configuration: '{"S3Bucket": "b", "S3ObjectKey": "k.zip", "PollForSourceChanges": false}'
              OutputArtifacts: [{Name: Out}]
              RunOrder: '2'
        - Name: Build
          Actions:
            - Name: Build
              ActionTypeId: {Category: Build, Owner: AWS, Provider: CodeBuild, Version: '1'}
              Configuration:
                ProjectName: !Join ['-', [!Ref Env, build]]
                BatchEnabled: true
                Retries: 3
              InputArtifacts: [{Name: Out}]
"""


def test_tolerated_forms_are_normalised() -> None:
    """RunOrder '2', Version 1, Configuration as a JSON string and non-string values are normalised."""
    pipeline = from_cloudformation(TEMPLATE)
    source = pipeline.stages[0].actions[0]
    build = pipeline.stages[1].actions[0]

    assert 2 == source.run_order
    assert "1" == source.action_type.version
    assert {"S3Bucket": "b", "S3ObjectKey": "k.zip", "PollForSourceChanges": "false"} == dict(source.configuration)
    assert "true" == build.configuration["BatchEnabled"]
    assert "3" == build.configuration["Retries"]


def test_short_form_intrinsics_become_expressions() -> None:
    """!Sub, !GetAtt, !Ref and !Join load as Expression objects in their long form."""
    pipeline = from_cloudformation(TEMPLATE)

    assert pw.Expression.of({"Fn::Sub": "${Env}-web"}) == pipeline.name
    assert pw.Expression.of({"Fn::GetAtt": ["Role", "Arn"]}) == pipeline.role_arn
    assert pipeline.artifact_store is not None
    assert pw.Expression.of({"Ref": "Bucket"}) == pipeline.artifact_store.location
    assert (
        pw.Expression.of({"Fn::Join": ["-", [{"Ref": "Env"}, "build"]]})
        == (pipeline.stages[1].actions[0].configuration["ProjectName"])
    )


def test_expressions_make_codepipeline_json_fail_naming_the_path() -> None:
    """to_codepipeline refuses an unresolved expression and names where it stands."""
    with pytest.raises(pw.SynthesisError) as info:
        to_codepipeline(from_cloudformation(TEMPLATE))

    assert "name" == info.value.path


def test_parameter_resolver_fills_refs_and_subs() -> None:
    """parameter_resolver resolves Ref and simple Fn::Sub, and names the path of what it cannot."""
    pipeline = from_cloudformation(TEMPLATE)
    values = {"Env": "prod", "Bucket": "artifacts", "Role": "unused"}

    with pytest.raises(pw.SynthesisError) as info:
        to_codepipeline(pipeline, resolve=parameter_resolver(values))
    assert "roleArn" == info.value.path

    fixed = pw.Pipeline(
        name=pipeline.name,
        role_arn="arn:aws:iam::123456789012:role/R",
        stages=[
            pipeline.stages[0],
            pw.Stage(
                name="Build",
                actions=[
                    pw.Action(
                        name="Build",
                        action_type=pipeline.stages[1].actions[0].action_type,
                        configuration={"ProjectName": pw.Expression.of({"Ref": "Env"})},
                        inputs=pipeline.stages[1].actions[0].inputs,
                    )
                ],
            ),
        ],
        artifact_store=pipeline.artifact_store,
    )
    data = to_codepipeline(fixed, resolve=parameter_resolver(values))
    assert ("prod-web", "artifacts", "prod") == (
        data["name"],
        data["artifactStore"]["location"],
        data["stages"][1]["actions"][0]["configuration"]["ProjectName"],
    )


def test_missing_name_round_trips_as_absent() -> None:
    """A pipeline without Name (CloudFormation names it) is written back without Name."""
    template = _cfn.load_template(fixture_case("cfn/github-integer-versions-no-name.yaml").text())
    pipeline = from_cloudformation(template)

    props = to_cloudformation(pipeline)["Resources"]["Pipeline"]["Properties"]

    assert pw.Expression.of(_cfn.NO_NAME) == pipeline.name
    assert "Name" not in props


def test_unknown_property_is_reported_at_its_template_path() -> None:
    """A misspelt property yields a LoadError with the template path and a PascalCase hint."""
    bad = TEMPLATE.replace("RunOrder: '2'", "RunOrdr: 2")

    with pytest.raises(pw.LoadError) as info:
        from_cloudformation(bad)

    assert ["Resources.Pipe.Properties.Stages[0].Actions[0].RunOrdr"] == [i.path for i in info.value.issues]
    assert "RunOrder" in (info.value.issues[0].hint or "")


def test_unknown_logical_id_lists_the_choices() -> None:
    """Asking for a logical id that is not a pipeline names the ones that are."""
    with pytest.raises(pw.LoadError) as info:
        from_cloudformation(TEMPLATE, "Nope")

    assert "Pipe" in (info.value.issues[0].hint or "")


# -- hostile input --------------------------------------------------------------------------------


def _laughs(levels: int) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        refs = ",".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (_laughs(10), "aliases"),
        ("a: " + "[" * 50_000 + "]" * 50_000, "nesting"),
        ('{"a": ' + "[" * 50_000 + "]" * 50_000 + "}", "nesting"),
        ("a:\n" + "".join("  " * i + f"  k{i}:\n" for i in range(300)), "nesting"),
        ("Resources: !!python/object/apply:os.system ['echo owned']\n", "constructor"),
        ("Resources: !!python/name:os.system\n", "constructor"),
        ("Resources: !Custom thing\n", "constructor"),
        ("Resources: [unclosed\n", "line"),
        ("[1, 2]\n", "not a mapping"),
        ("a: &a [*a]\n", "contains it"),
        ("a: &a {b: [1, *a]}\n", "contains it"),
        ("a: 1\n---\nb: 2\n", "single document"),
        ("a: *nowhere\n", "undefined alias"),
    ],
    ids=[
        "billion-laughs",
        "deep-flow-yaml",
        "deep-json",
        "deep-block-yaml",
        "python-object",
        "python-name",
        "unknown-tag",
        "syntax",
        "not-mapping",
        "recursive-alias",
        "recursive-alias-map",
        "two-documents",
        "undefined-alias",
    ],
)
def test_hostile_yaml_is_rejected_quickly(text: str, words: str) -> None:
    """Hostile or broken text raises one LoadError saying what is wrong, without expanding the document."""
    with pytest.raises(pw.LoadError) as info:
        from_cloudformation(text)

    assert words in str(info.value)


# -- expressions everywhere ----------------------------------------------------------------------


@settings(max_examples=100)
@given(pipelines_with_expressions())
def test_expressions_survive_model_template_model(pipeline: pw.Pipeline) -> None:
    """Pipelines holding expressions come back equal from their template; each expression is written raw."""
    template = to_cloudformation(pipeline)

    dumped = json.dumps(template)
    assert pipeline == from_cloudformation(template)
    # written as the function itself: no repr, and no JSON text of it inside a string (a Ref
    # may well name a parameter "Expression", so the bare word proves nothing)
    assert "Expression(" not in dumped
    assert '"{\\"Ref\\"' not in dumped
    assert '"{\\"Fn::' not in dumped


def test_structural_intrinsic_is_one_clear_problem() -> None:
    """An Fn::If standing for a whole stage is kept as a conditional stage; one whose branch is
    another function (what the stage holds is unknown) is reported once, at the stage, with a hint."""
    stage = (
        "        - !If\n"
        "          - Prod\n"
        "          - Name: Approve\n"
        "            Actions:\n"
        "              - Name: A\n"
        "                ActionTypeId: {Category: Approval, Owner: AWS, Provider: Manual, Version: 1}\n"
        "          - !Ref AWS::NoValue\n"
    )

    kept = from_cloudformation(TEMPLATE + stage)
    with pytest.raises(pw.LoadError) as info:
        from_cloudformation(TEMPLATE + "        - !If [Prod, !ImportValue SharedStage, !Ref AWS::NoValue]\n")

    assert pw.When("Prod") == kept.stage("Approve").when
    assert ["Resources.Pipe.Properties.Stages[2]"] == [i.path for i in info.value.issues]
    assert "Fn::If" in info.value.issues[0].message


def test_duplicate_yaml_keys_are_refused() -> None:
    """A key given twice in one mapping is an error naming it (CloudFormation refuses it too)."""
    with pytest.raises(pw.LoadError) as info:
        from_cloudformation(
            TEMPLATE.replace("      RoleArn: !GetAtt Role.Arn\n", "      RoleArn: a\n      RoleArn: b\n")
        )

    assert "duplicate key 'RoleArn'" in str(info.value)


def test_region_given_as_intrinsic_round_trips() -> None:
    """An ArtifactStores Region written as !Ref AWS::Region is kept and written back as the function."""
    text = TEMPLATE.replace(
        "      ArtifactStore: {Type: S3, Location: !Ref Bucket}\n",
        "      ArtifactStores:\n        - Region: !Ref AWS::Region\n          ArtifactStore: {Type: S3, Location: !Ref Bucket}\n"
        "        - Region: eu-west-1\n          ArtifactStore: {Type: S3, Location: other-bucket}\n",
    )
    pipeline = from_cloudformation(text)

    stores = to_cloudformation(pipeline)["Resources"]["Pipeline"]["Properties"]["ArtifactStores"]

    assert [{"Ref": "AWS::Region"}, "eu-west-1"] == [s["Region"] for s in stores]
    assert pipeline == from_cloudformation(to_cloudformation(pipeline))


def test_template_paths_map_every_kind_of_step() -> None:
    """API paths map to template paths: members capitalised, config keys kept, regions by list index."""
    assert "Resources.P.Properties.Stages[1].Actions[0].Configuration.ProjectName" == _cfn.template_path(
        "stages[1].actions[0].configuration.ProjectName", "P"
    )
    assert 'Resources.P.Properties.Stages[0].Actions[0].Configuration["odd key"]' == _cfn.template_path(
        'stages[0].actions[0].configuration["odd key"]', "P"
    )
    assert "Resources.P.Properties.ArtifactStores[1].ArtifactStore.EncryptionKey.Id" == _cfn.template_path(
        'artifactStores["eu-west-1"].encryptionKey.id', "P", {"us-east-1": 0, "eu-west-1": 1}
    )
    assert "Resources.P.Properties.Triggers[0].GitConfiguration.PullRequest[0].Events" == _cfn.template_path(
        "triggers[0].gitConfiguration.pullRequest[0].events", "P"
    )


def test_parameters_and_description_options(sample: pw.Pipeline) -> None:
    """Given parameters are declared as written, and the description is used."""
    template = to_cloudformation(
        sample, parameters={"Env": {"Type": "String", "AllowedValues": ["dev", "prod"]}}, description="web release"
    )

    assert {"Env": {"Type": "String", "AllowedValues": ["dev", "prod"]}} == template["Parameters"]
    assert "web release" == template["Description"]


@pytest.mark.parametrize("case", cases("cfn", lambda c: c.valid))
def test_resynthesized_resource_adds_no_cfn_lint_findings(case: Case) -> None:
    """The re-synthesized pipeline and its generated role, put back into the template, add no cfn-lint finding."""
    template = _cfn.load_template(case.text())
    (logical_id,) = _cfn.find_pipelines(template)
    synthesized = to_cloudformation(from_cloudformation(template), logical_id=logical_id, pipeline_role=True)
    swapped = json.loads(json.dumps(template))
    for key in (logical_id, "PipelineRole"):
        swapped["Resources"][key] = synthesized["Resources"][key]

    assert set() == set(cfn_lint(swapped)) - set(cfn_lint(template))


_YAML_SAMPLES = [
    "a: &x {b: [1, 2.5, true, null, '3']}\nc: *x\nd: !Sub '${A}-x'\ne: !GetAtt R.Arn\n",
    "Version: 2012-10-17\nlist: [a, {b: c}, [d]]\nmerge:\n  <<: {k: v}\n  z: 1\n",
    'text: |\n  line one\n  line two\nfolded: >\n  a\n  b\nq: "quoted \\u00e9"\n',
    "f: !If [C, !Ref A, !Ref 'AWS::NoValue']\ng: !Join ['', [a, !Ref B]]\nh: !Select [0, !GetAZs '']\n",
]


@pytest.mark.parametrize("text", [*cases("cfn", lambda c: c.name.endswith(".yaml")), *_YAML_SAMPLES])
def test_composer_agrees_with_pyyaml(text: Case | str) -> None:
    """The iterative event composer builds the same data as PyYAML's own composer would."""
    import yaml

    source = text if isinstance(text, str) else text.text()

    assert yaml.load(source, Loader=TemplateConstructor) == _cfn.load_template(source)


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=20), st.floats(allow_nan=False, allow_infinity=False)
)
_data = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=30,
)


@settings(max_examples=100)
@given(st.dictionaries(st.text(min_size=1, max_size=8), _data, min_size=1, max_size=5), st.booleans())
def test_composer_agrees_with_pyyaml_on_generated_documents(data: dict[str, Any], flow: bool) -> None:
    """For any YAML PyYAML writes, the event composer and PyYAML's composer build equal data."""
    import yaml

    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True)

    assert yaml.load(text, Loader=TemplateConstructor) == _cfn.load_template(text)


def test_providers_without_known_permissions_are_listed_not_guessed() -> None:
    """A Lambda deploy action gets no invented permissions; its type is listed in Metadata instead."""
    source_output = pw.Artifact("Src")
    pipeline = pw.Pipeline(
        name="p",
        role_arn="arn:aws:iam::123456789012:role/R",
        artifact_store=pw.ArtifactStore(location="bucket"),
        pipeline_type="V2",
        stages=[
            pw.Stage(
                name="Source",
                actions=[
                    pw.Action(
                        name="S",
                        action_type=pw.ActionType(category="Source", provider="S3"),
                        configuration={"S3Bucket": "b", "S3ObjectKey": "k"},
                        outputs=[source_output],
                    )
                ],
            ),
            pw.Stage(
                name="Deploy",
                actions=[
                    pw.Action(
                        name="L",
                        action_type=pw.ActionType(category="Deploy", provider="Lambda"),
                        configuration={"FunctionName": "f"},
                        inputs=[source_output],
                    )
                ],
            ),
        ],
    )

    template = to_cloudformation(pipeline, pipeline_role=True)

    assert ["Deploy/AWS/Lambda/1"] == template["Metadata"]["pipeweaver"]["UngrantedActionTypes"]
    assert not any(a.startswith("lambda:") for s in _statements(template) for a in s["Action"])


PARAMETERISED = """\
Resources:
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      Name: !Sub '${App}-release'
      RoleArn: !GetAtt PipelineRole.Arn
      ArtifactStore: {Type: S3, Location: !Ref Bucket}
      Tags: [{Key: team, Value: !Ref Team}]
      Stages:
        - Name: Source
          Actions:
            - Name: Fetch
              ActionTypeId: {Category: Source, Owner: AWS, Provider: S3, Version: '1'}
              Configuration: {S3Bucket: !Ref Bucket, S3ObjectKey: !Sub ['${Dir}/app.zip', {Dir: !Ref App}]}
              OutputArtifacts: [{Name: Out}]
        - Name: Build
          Actions:
            - Name: Compile
              ActionTypeId: {Category: Build, Owner: AWS, Provider: CodeBuild, Version: '1'}
              Configuration: {ProjectName: !Ref Project}
              InputArtifacts: [{Name: Out}]
"""


def test_resolve_parameters_fills_in_what_it_can_and_keeps_the_rest() -> None:
    """Refs and Subs with known names become strings; GetAtt and unknown Refs stay expressions."""
    pipeline = from_cloudformation(PARAMETERISED)

    resolved = resolve_parameters(pipeline, {"App": "web", "Bucket": "artifacts-web", "Team": "core"})
    fetch, compile_ = resolved.stages[0].actions[0], resolved.stages[1].actions[0]

    assert "web-release" == resolved.name
    assert "artifacts-web" == resolved.artifact_store.location  # type: ignore[union-attr]
    assert {"team": "core"} == dict(resolved.tags)
    assert {"S3Bucket": "artifacts-web", "S3ObjectKey": "web/app.zip"} == {
        k: fetch.configuration[k] for k in ("S3Bucket", "S3ObjectKey")
    }
    assert pw.Expression.of({"Ref": "Project"}) == compile_.configuration["ProjectName"]
    assert pipeline.role_arn == resolved.role_arn
    assert compile_.inputs == fetch.outputs  # still wired by object
    assert pipeline == resolve_parameters(pipeline, {})


def test_to_codepipeline_of_a_template_without_name_says_so() -> None:
    """The importer's stand-in for a missing Name is not shown as an expression the user never wrote."""
    template = {
        "Resources": {
            "Pipe": {
                "Type": "AWS::CodePipeline::Pipeline",
                "Properties": {
                    "RoleArn": "arn:aws:iam::123456789012:role/p",
                    "ArtifactStore": {"Type": "S3", "Location": "bucket"},
                    "Stages": [
                        {
                            "Name": "Source",
                            "Actions": [
                                {
                                    "Name": "Get",
                                    "ActionTypeId": {
                                        "Category": "Source",
                                        "Owner": "AWS",
                                        "Provider": "S3",
                                        "Version": "1",
                                    },
                                    "Configuration": {"S3Bucket": "b", "S3ObjectKey": "k.zip"},
                                    "OutputArtifacts": [{"Name": "Src"}],
                                }
                            ],
                        }
                    ],
                },
            }
        }
    }

    with pytest.raises(pw.SynthesisError) as raised:
        to_codepipeline(from_cloudformation(template))

    assert "name" == raised.value.path
    assert "the template gives the pipeline no Name (CloudFormation generates one at deploy time)" in str(raised.value)
    assert "AWS::NoValue" not in str(raised.value)


def test_a_pipeline_without_name_is_labelled_by_its_logical_id_but_keeps_its_value() -> None:
    """The label is for display only: the name still equals (and hashes as) AWS::NoValue."""
    pipeline = from_cloudformation(TEMPLATE.replace("      Name: !Sub '${Env}-web'\n", ""))

    assert "Pipe" == str(pipeline.name)
    assert pw.Expression.of(_cfn.NO_NAME) == pipeline.name
    assert hash(pw.Expression.of(_cfn.NO_NAME)) == hash(pipeline.name)
