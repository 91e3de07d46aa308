"""Template-level checks (PW801-PW805): what a pipeline resource refers to, and YAML CloudFormation refuses."""

from __future__ import annotations

import textwrap

import pytest

import pipeweaver as pw
from pipeweaver import synth

HEAD = """\
Parameters:
  Env: {Type: String}
  Bucket: {Type: String}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Mappings:
  Sizes: {prod: {build: LARGE}}
Resources:
  Role: {Type: AWS::IAM::Role, Properties: {AssumeRolePolicyDocument: {}}}
  Pipe:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      RoleArn: ROLE
      ArtifactStore: {Type: S3, Location: !Ref Bucket}
      Stages:
        - Name: Source
          Actions:
            - Name: Fetch
              ActionTypeId: {Category: Source, Owner: AWS, Provider: S3, Version: "1"}
              Configuration: {S3Bucket: !Ref Bucket, S3ObjectKey: src.zip, PollForSourceChanges: false}
              OutputArtifacts: [{Name: Src}]
        - Name: Build
          Actions:
            - Name: Compile
              ActionTypeId: {Category: Build, Owner: AWS, Provider: CodeBuild, Version: "1"}
              Configuration: {ProjectName: PROJECT}
              InputArtifacts: [{Name: Src}]
"""


def _template(role: str = "!GetAtt Role.Arn", project: str = "app", head: str = HEAD) -> str:
    return head.replace("ROLE", role).replace("PROJECT", project)


def _codes(text: str) -> list[tuple[str, str, str]]:
    return [(i.code, i.severity, i.path) for i in pw.lint(text) if i.code.startswith("PW8")]


def test_a_template_whose_references_all_resolve_has_no_template_issues() -> None:
    text = _template(project='!Sub ["${AWS::StackName}-${Env}-${Size}", {Size: !FindInMap [Sizes, prod, build]}]')

    assert [] == _codes(text)


@pytest.mark.parametrize(
    ("role", "project", "expected"),
    [
        ("!GetAtt Rolee.Arn", "app", ("PW801", "RoleArn", "names the resource 'Rolee'")),
        ("!GetAtt Env.Arn", "app", ("PW801", "RoleArn", "'Env', which is a parameter, not a resource")),
        ("!GetAtt Role.RoleArn", "app", ("PW804", "RoleArn", "'Role' (AWS::IAM::Role) has no attribute 'RoleArn'")),
        ("!GetAtt Role.Arn", "!Ref Envv", ("PW801", "ProjectName", "Ref names 'Envv'")),
        ("!GetAtt Role.Arn", '!Sub "${Missing}-app"', ("PW801", "ProjectName", "${Missing} in Fn::Sub names")),
        ("!GetAtt Role.Arn", '!Sub "${Rol.Arn}-app"', ("PW801", "ProjectName", "names the resource 'Rol'")),
        ("!GetAtt Role.Arn", "!If [IsProdd, a, b]", ("PW802", "ProjectName", "condition 'IsProdd' is not declared")),
        ("!GetAtt Role.Arn", "!If [IsProd, a]", ("PW803", "ProjectName", "Fn::If takes [condition name")),
        ("!GetAtt Role.Arn", '!Sub ["${Env}"]', ("PW803", "ProjectName", "Fn::Sub takes a string, or [string")),
        ("!GetAtt Role.Arn", "!Join [a, b, c]", ("PW803", "ProjectName", "Fn::Join takes [delimiter, [values]]")),
        ("!GetAtt Role.Arn", "!FindInMap [Size, prod, build]", ("PW801", "ProjectName", "the mapping 'Size'")),
        ("!GetAtt Role.Arn", "{Fn::Subb: x}", ("PW803", "ProjectName", "Fn::Subb is not an intrinsic function")),
    ],
)
def test_each_wrong_reference_is_one_issue_at_its_template_path(
    role: str, project: str, expected: tuple[str, str, str]
) -> None:
    code, where, words = expected

    found = [i for i in pw.lint(_template(role, project)) if i.code.startswith("PW8")]

    assert [code] == [i.code for i in found]
    assert found[0].path.startswith("Resources.Pipe.Properties.")
    assert where in found[0].path
    assert words in found[0].message
    assert found[0].hint


def test_the_hint_suggests_the_nearest_declared_name() -> None:
    (issue,) = [i for i in pw.lint(_template(project="!If [IsProdd, a, b]")) if i.code == "PW802"]

    assert "did you mean 'IsProd'?" == issue.hint


def test_escaped_sub_variables_and_sub_maps_are_not_references() -> None:
    assert [] == _codes(_template(project='!Sub ["${!Literal}-${Local}", {Local: x}]'))


def test_sam_generated_resources_are_referable_and_macros_are_not_judged() -> None:
    sam = "Transform: AWS::Serverless-2016-10-31\n" + HEAD.replace(
        "  Role: {Type: AWS::IAM::Role, Properties: {AssumeRolePolicyDocument: {}}}",
        "  Fn: {Type: AWS::Serverless::Function, Properties: {Handler: a, Runtime: python3.12, CodeUri: .}}",
    )
    macro = "Transform: [MyMacro]\n" + HEAD

    assert [] == _codes(_template("!GetAtt FnRole.Arn", head=sam))
    assert ["PW801"] == [c for c, _, _ in _codes(_template("!GetAtt Other.Arn", head=sam))]
    assert [] == _codes(_template("!GetAtt Anything.Arn", project="!Ref Whatever", head=macro))


def test_yaml_aliases_and_merge_keys_are_warned_about_where_they_stand() -> None:
    text = _template().replace(
        'ActionTypeId: {Category: Source, Owner: AWS, Provider: S3, Version: "1"}',
        'ActionTypeId: &src {Category: Source, Owner: AWS, Provider: S3, Version: "1"}',
    )
    text = text.replace(
        'ActionTypeId: {Category: Build, Owner: AWS, Provider: CodeBuild, Version: "1"}',
        "ActionTypeId: {<<: *src, Category: Build, Provider: CodeBuild}",
    )
    text = text.replace("OutputArtifacts: [{Name: Src}]", "OutputArtifacts: [{Name: Src}]\n              Region: *src")

    found = _codes(text)

    assert [
        ("PW805", "warning", "Resources.Pipe.Properties.Stages[0].Actions[0].Region"),
        ("PW805", "warning", 'Resources.Pipe.Properties.Stages[1].Actions[0].ActionTypeId["<<"]'),
    ] == found


def test_a_list_or_mapping_where_text_belongs_is_refused() -> None:
    text = _template() + textwrap.indent(
        "Tags:\n  - {Key: team, Value: [a, b]}\nDisableInboundStageTransitions:\n  - {StageName: Build, Reason: {a: 1}}\n",
        " " * 6,
    )

    found = [(i.code, i.path) for i in pw.lint(text) if i.code == "PW003"]

    assert [
        ("PW003", "Resources.Pipe.Properties.Tags[0].Value"),
        ("PW003", "Resources.Pipe.Properties.DisableInboundStageTransitions[0].Reason"),
    ] == found


def test_dynamic_references_are_values_cloudformation_fills_in_not_text_to_judge() -> None:
    """`{{resolve:...}}` is replaced before CodePipeline sees the value: no pattern or literal-secret issue."""
    text = _template().replace(
        "      RoleArn: !GetAtt Role.Arn\n",
        "      RoleArn: !GetAtt Role.Arn\n      Name: '{{resolve:ssm:/ci/pipeline-name}}'\n",
    )
    text = text.replace(
        "Configuration: {ProjectName: app}", "Configuration: {ProjectName: '{{resolve:ssm:/ci/project}}'}"
    )

    assert [] == [i for i in pw.lint(text) if i.is_error]


def test_in_api_json_a_dynamic_reference_is_literal_text() -> None:
    """The CodePipeline API resolves nothing: there the same text breaks the name pattern."""
    declaration = synth.to_codepipeline(
        synth.from_cloudformation(
            _template()
            .replace("!GetAtt Role.Arn", "arn:aws:iam::123456789012:role/p")
            .replace("!Ref Bucket", "bucket"),
            "Pipe",
        ),
        resolve=lambda e, p: "x",
    )
    declaration["name"] = "{{resolve:ssm:/ci/pipeline-name}}"

    assert ["PW010"] == [i.code for i in pw.lint(declaration) if i.path == "name"]
