"""Fuzzing lint: it never raises, on anything, and every issue it reports points into the input."""

from __future__ import annotations

from typing import Any

from hypothesis import given

import pipeweaver as pw
from pipeweaver.synth import from_codepipeline

from ._hostile import FUZZ, assert_issues_point_into, assert_no_internal_error, deep, inputs
from .test_fuzz_cloudformation import templates


@FUZZ
@given(inputs)
def test_lint_never_raises_and_paths_point_into_input(data: Any) -> None:
    """lint() on junk, mutated or valid declarations returns Issues whose paths name places in the input."""
    issues = pw.lint(data)

    assert all(isinstance(i, pw.Issue) and i.severity in ("error", "warning") for i in issues)
    assert_no_internal_error(issues)
    assert_issues_point_into(data, issues)


@FUZZ
@given(inputs)
def test_lint_reports_an_error_wherever_loading_fails(data: Any) -> None:
    """When from_codepipeline rejects an input, lint on the same input reports at least one error."""
    try:
        from_codepipeline(data)
    except pw.LoadError:
        loaded = False
    else:
        loaded = True

    issues = pw.lint(data)

    if not loaded:
        assert any(i.is_error for i in issues)


@FUZZ
@given(templates)
def test_lint_on_templates_never_raises_and_paths_point_into_the_template(template: Any) -> None:
    """lint() on mutated CloudFormation templates returns Issues whose paths name places in the template."""
    issues = pw.lint(template)

    assert all(isinstance(i, pw.Issue) for i in issues)
    assert_no_internal_error(issues)
    assert_issues_point_into(template, issues)


def test_lint_on_a_template_mapping_with_a_deep_value_reports_it() -> None:
    """A template passed as a mapping is depth-checked like text: a 2,000-deep Region is an issue, not a crash."""
    template = {
        "Resources": {
            "Pipeline": {
                "Type": "AWS::CodePipeline::Pipeline",
                "Properties": {
                    "Name": "p",
                    "RoleArn": "arn:aws:iam::123456789012:role/r",
                    "ArtifactStores": [
                        {"Region": deep(2000), "ArtifactStore": {"Type": "S3", "Location": "artifacts"}}
                    ],
                    "Stages": [],
                },
            }
        }
    }

    issues = pw.lint(template)

    assert ["nesting deeper than 64 levels"] == [i.message for i in issues]
