"""Issue paths map to the right line of a JSON or YAML file."""

from __future__ import annotations

import json

import pytest

from pipeweaver.cli._lines import LineMap, split_path

DOC = {
    "pipeline": {
        "name": "web",
        "artifactStores": {"us-east-1": {"type": "S3", "location": "a"}, "eu-west-1": {"type": "S3", "location": "b"}},
        "stages": [{"name": "Source", "actions": [{"name": "A", "configuration": {"Branch Name": "main"}}]}],
    }
}


def test_split_path_reads_members_indexes_and_quoted_keys() -> None:
    """Paths split into members, list indexes and quoted map keys (with escapes)."""
    assert ["a", "b", 2, 'x "y"', "c"] == split_path('a.b[2]["x \\"y\\""].c')


@pytest.mark.parametrize("indent", [2, "\t"], ids=["spaces", "tabs"])
@pytest.mark.parametrize(
    ("path", "needle"),
    [
        ("name", '"name": "web"'),
        ('artifactStores["eu-west-1"].location', '"location": "b"'),
        ("stages[0].actions[0].name", '"name": "A"'),
        ('stages[0].actions[0].configuration["Branch Name"]', '"Branch Name"'),
    ],
)
def test_json_paths_map_to_their_line(indent: int | str, path: str, needle: str) -> None:
    """Each path (under the get-pipeline envelope) lands on the line holding it, or its deepest existing parent."""
    text = json.dumps(DOC, indent=indent)
    lines = text.splitlines()
    expected = next(i for i, line in enumerate(lines, 1) if needle in line)

    assert expected == LineMap(text, is_json=True).line_of(path, "pipeline")


def test_missing_path_points_at_its_deepest_existing_parent() -> None:
    """A field that is not there (a missing required field) is reported at the object that lacks it."""
    lines = LineMap(json.dumps(DOC, indent=2), is_json=True)

    assert lines.line_of("stages[0].actions[0]", "pipeline") == lines.line_of(
        "stages[0].actions[0].inputArtifacts[0].name", "pipeline"
    )


def test_template_paths_accept_api_casing() -> None:
    """API field names find their PascalCase template keys."""
    text = "Resources:\n  P:\n    Type: AWS::CodePipeline::Pipeline\n    Properties:\n      Stages:\n        - Name: S\n          Actions:\n            - Name: A\n              RunOrder: 0\n"

    assert 9 == LineMap(text).line_of("stages[0].actions[0].runOrder", "Resources.P.Properties")


def test_unreadable_text_has_no_lines() -> None:
    """Text the YAML reader cannot compose yields no line numbers instead of an error."""
    assert LineMap("{ unclosed: [").line_of("a") is None
