"""pipeweaver.lint on CloudFormation templates: the same rules, reported at template paths."""

from __future__ import annotations

import json

import pytest

import pipeweaver as pw
from pipeweaver.synth import to_cloudformation

from ..conftest import Case, cases, corpus_case, fixture_case


@pytest.mark.parametrize("case", cases("cfn"))
def test_templates_lint_as_the_manifest_says(case: Case) -> None:
    """Valid templates have no errors; invalid ones have some; every path is a template path."""
    issues = pw.lint(case.text())
    errors = [i for i in issues if i.is_error]

    assert [] == [i.path for i in issues if not i.path.startswith("Resources.")]
    assert case.valid == (not errors)


@pytest.mark.parametrize(
    ("case", "logical_ids"),
    [
        pytest.param(fixture_case("cfn/invalid-two-pipelines-one-stage.yaml"), {"Primary", "Secondary"}, id="fixture"),
        corpus_case("cfn/cfn-11-cfnlint-bad-one-stage.yaml", {"TestPipeline", "TestPipeline2"}),
    ],
)
def test_every_pipeline_of_a_template_is_checked(case: Case, logical_ids: set[str]) -> None:
    """A template with two pipelines gets issues for both, each under its own logical id."""
    issues = pw.lint(case.text())

    assert logical_ids == {i.path.split(".")[1] for i in issues}


@pytest.mark.parametrize(
    ("case", "logical_id"),
    [
        pytest.param(fixture_case("cfn/invalid-duplicate-stage-names.yaml"), "Pipeline", id="fixture"),
        corpus_case("cfn/cfn-12-cfnlint-bad-stages-non-unique.yaml", "TestPipeline"),
    ],
)
def test_rule_issue_points_into_the_template(case: Case, logical_id: str) -> None:
    """A duplicate stage name is reported at Resources.<Id>.Properties.Stages[1].Name."""
    issues = pw.lint(case.text())

    assert [f"Resources.{logical_id}.Properties.Stages[1].Name"] == [i.path for i in issues if i.code == "PW107"]


def test_template_dict_and_text_give_the_same_issues(sample: pw.Pipeline) -> None:
    """lint of a synthesized template, as a dict or as JSON text, finds the same issues as the model."""
    broken = pw.Pipeline(
        name=sample.name, role_arn=sample.role_arn, stages=sample.stages[1:], artifact_store=sample.artifact_store
    )
    template = to_cloudformation(broken)

    from_model = [(i.code, i.path) for i in pw.lint(broken)]
    from_dict = [(i.code, i.path) for i in pw.lint(template)]
    from_text = [(i.code, i.path) for i in pw.lint(json.dumps(template))]

    assert from_dict == from_text
    assert [code for code, _ in from_model] == [code for code, _ in from_dict]
    assert all(path.startswith("Resources.Pipeline.Properties") for _, path in from_dict)


def test_cloudformation_only_properties_are_checked() -> None:
    """A Tags property that is not a list is reported at its template path."""
    template = to_cloudformation(pw.synth.from_codepipeline(fixture_case("api/s3-codedeploy-v1.json").json()))
    template["Resources"]["Pipeline"]["Properties"]["Tags"] = {"team": "web"}

    assert [("PW003", "Resources.Pipeline.Properties.Tags")] == [
        (i.code, i.path) for i in pw.lint(template) if i.is_error
    ]


@pytest.mark.parametrize(
    "text",
    [
        "a: &a [1]\nb: [*a, *a, *a"
        + ", *a" * 10
        + "]\n"
        + "".join(f"c{i}: &c{i} [" + ",".join([f"*{'a' if i == 0 else f'c{i - 1}'}"] * 10) + "]\n" for i in range(8)),
        "Resources: !!python/object/apply:os.system ['true']\n",
        "{not json",
    ],
    ids=["billion-laughs", "python-tag", "broken"],
)
def test_hostile_text_becomes_issues_not_exceptions(text: str) -> None:
    """lint never raises on hostile or broken text; it reports one PW000 issue."""
    issues = pw.lint(text)

    assert ["PW000"] == [i.code for i in issues]


def test_api_json_text_is_linted_as_a_declaration() -> None:
    """JSON text of an API declaration is linted with API paths."""
    text = fixture_case("api/invalid-template-placeholder-name.json").text()

    assert pw.lint(json.loads(text)) == pw.lint(text)


def test_template_without_pipeline_says_so() -> None:
    """A template with no pipeline resource yields one issue at Resources."""
    issues = pw.lint({"Resources": {"B": {"Type": "AWS::S3::Bucket"}}})

    assert [("PW002", "Resources")] == [(i.code, i.path) for i in issues]
