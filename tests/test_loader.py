"""The loaders never crash: malformed templates and declarations end in a LoadError or issues, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import pipeweaver as pw
from pipeweaver._loader import LoadFailure, compose, load_json, load_yaml
from pipeweaver.cli._lines import LineMap
from pipeweaver.synth import from_cloudformation

HEADER = "Resources:\n  P:\n    Type: AWS::CodePipeline::Pipeline\n    Properties:\n"
PROPS: dict[str, Any] = {
    "Name": "p",
    "RoleArn": "arn:aws:iam::123456789012:role/R",
    "ArtifactStore": {"Type": "S3", "Location": "b"},
    "Stages": [
        {
            "Name": "Source",
            "Actions": [
                {
                    "Name": "A",
                    "ActionTypeId": {"Category": "Source", "Owner": "AWS", "Provider": "S3", "Version": "1"},
                    "Configuration": {"S3Bucket": "b", "S3ObjectKey": "k"},
                    "OutputArtifacts": [{"Name": "o"}],
                }
            ],
        },
        {
            "Name": "Build",
            "Actions": [
                {
                    "Name": "B",
                    "ActionTypeId": {"Category": "Build", "Owner": "AWS", "Provider": "CodeBuild", "Version": "1"},
                    "Configuration": {"ProjectName": "p"},
                    "InputArtifacts": [{"Name": "o"}],
                }
            ],
        },
    ],
}


def _api() -> dict[str, Any]:
    """PROPS in the API's spelling."""
    return json.loads(
        json.dumps(PROPS)
        .replace('"Name"', '"name"')
        .replace('"RoleArn"', '"roleArn"')
        .replace('"ArtifactStore"', '"artifactStore"')
        .replace('"Type"', '"type"')
        .replace('"Location"', '"location"')
        .replace('"Stages"', '"stages"')
        .replace('"Actions"', '"actions"')
        .replace('"ActionTypeId"', '"actionTypeId"')
        .replace('"Category"', '"category"')
        .replace('"Owner"', '"owner"')
        .replace('"Provider"', '"provider"')
        .replace('"Version"', '"version"')
        .replace('"Configuration"', '"configuration"')
        .replace('"OutputArtifacts"', '"outputArtifacts"')
        .replace('"InputArtifacts"', '"inputArtifacts"')
    )


def _template(props: Any) -> dict[str, Any]:
    return {"Resources": {"P": {"Type": "AWS::CodePipeline::Pipeline", "Properties": props}}}


def _deep_json(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


MALFORMED_YAML = {
    "5000-digit-integer": ("RoleArn: " + "1" * 5000, "an integer of 5000 digits; at most 4300 are read at line 5"),
    "int-abc": ("RoleArn: !!int abc", "'abc' is not an integer (tag !!int) at line 5"),
    "float-abc": ("RoleArn: !!float abc", "'abc' is not a number (tag !!float) at line 5"),
    "bool-maybe": ("RoleArn: !!bool maybe", "'maybe' is not a boolean (tag !!bool) at line 5"),
    "map-of-list": ("RoleArn: !!map [1]", "expected a mapping for tag 'tag:yaml.org,2002:map', found a sequence"),
    "set-of-list": ("RoleArn: !!set [a]", "expected a mapping for tag 'tag:yaml.org,2002:set', found a sequence"),
    "timestamp-of-list": ("RoleArn: !!timestamp [1]", "expected a scalar node"),
    "list-key": ("? [a]\n      : x", "found a list or mapping used as a mapping key at line 5"),
}


@pytest.mark.parametrize(("line", "words"), list(MALFORMED_YAML.values()), ids=list(MALFORMED_YAML))
def test_malformed_yaml_scalars_are_a_load_error_naming_the_line(line: str, words: str) -> None:
    """Values their tag cannot hold, and integers too long to read, are one LoadError with line and fix."""
    text = HEADER + "      " + line + "\n"

    with pytest.raises(pw.LoadError) as info:
        from_cloudformation(text)
    issues = pw.lint(text)

    assert words in str(info.value)
    assert [issue.code for issue in issues] == ["PW000"]
    assert words in issues[0].message


def test_5000_digit_integer_in_json_template_is_a_load_error() -> None:
    """A JSON template holding a 5,000-digit number is refused by the loader with a hint, not a ValueError."""
    text = json.dumps(_template({**PROPS, "Name": 7})).replace("7", "1" * 5000)

    with pytest.raises(pw.LoadError) as info:
        from_cloudformation(text)

    assert "an integer of 5000 digits" in str(info.value)
    assert "quote it" in str(info.value)
    assert ["PW000"] == [i.code for i in pw.lint(text)]


def test_non_string_logical_ids_are_listed_not_crashed_on() -> None:
    """Two pipelines, one keyed by the number 1, ask for logical_id= and list both ids."""
    template = {"Resources": {1: _template(PROPS)["Resources"]["P"], "P": _template(PROPS)["Resources"]["P"]}}

    with pytest.raises(pw.LoadError) as info:
        from_cloudformation(template)

    assert "pipelines: 1, P" in str(info.value)


def test_plain_yaml_keys_are_read_as_text_like_cloudformation() -> None:
    """An unquoted numeric key (an account id in Mappings, a configuration key) is the string CloudFormation reads."""
    text = "Mappings:\n  Accounts:\n    123456789012: {Env: prod}\n" + HEADER + "      Name: p\n"

    data = load_yaml(text, cloudformation=True)

    assert {"123456789012": {"Env": "prod"}} == data["Mappings"]["Accounts"]


@pytest.mark.parametrize("value", [_deep_json(5000), "[" * 5000 + "]" * 5000, '{"Ref":"X"}'])
def test_configuration_json_string_in_a_template_is_an_issue(value: str) -> None:
    """Configuration given as a JSON string nested 5,000 deep, or holding an intrinsic, is a LoadError at its path."""
    props = json.loads(json.dumps(PROPS))
    props["Stages"][1]["Actions"][0]["Configuration"] = value

    with pytest.raises(pw.LoadError) as info:
        from_cloudformation(_template(props))
    issues = pw.lint(_template(props))

    assert ["Resources.P.Properties.Stages[1].Actions[0].Configuration"] == [i.path for i in info.value.issues]
    assert "PW099" not in {i.code for i in issues}
    assert "Resources.P.Properties.Stages[1].Actions[0].Configuration" in {i.path for i in issues}


def test_deeply_nested_json_configuration_value_is_a_pw222_issue() -> None:
    """EnvironmentVariables as JSON nested 5,000 deep is reported as bad JSON text, not an internal error."""
    api = _api()
    api["stages"][1]["actions"][0]["configuration"]["EnvironmentVariables"] = _deep_json(5000)

    issues = pw.lint(api)

    assert "PW099" not in {i.code for i in issues}
    assert [("PW222", "stages[1].actions[0].configuration.EnvironmentVariables", True)] == [
        (i.code, i.path, "nesting deeper than 64 levels" in i.message) for i in issues if i.code == "PW222"
    ]


def test_lint_on_a_5001_digit_run_order_reports_the_range() -> None:
    """A runOrder too long to print is reported out of range, described by its length."""
    api = _api()
    api["stages"][1]["actions"][0]["runOrder"] = 10**5000

    issues = pw.lint(api)

    assert [("stages[1].actions[0].runOrder", "a 5001-digit number is outside the allowed range 1..999")] == [
        (i.path, i.message.split(" for ")[0]) for i in issues if i.code == "PW014"
    ]


# -- the one bounded YAML loader ----------------------------------------------------------------------


def _laughs(levels: int = 9, width: int = 9) -> str:
    lines = ["a0: &a0 [" + ",".join(['"lol"'] * width) + "]"]
    lines += [f"a{n}: &a{n} [" + ",".join([f"*a{n - 1}"] * width) + "]" for n in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("cloudformation", [False, True])
def test_yaml_alias_bomb_and_duplicate_keys_are_refused_in_both_schemas(cloudformation: bool) -> None:
    """Both schemas refuse an alias bomb and a repeated key, naming the line."""
    with pytest.raises(LoadFailure) as bomb:
        load_yaml(_laughs(), cloudformation=cloudformation)
    with pytest.raises(LoadFailure) as twice:
        load_yaml("a: 1\nb: 2\na: 3\n", cloudformation=cloudformation)

    assert bomb.value.unsafe
    assert "aliases" in str(bomb.value)
    assert "duplicate key 'a' at line 3, column 1" == str(twice.value)
    assert twice.value.hint is not None


def test_yaml_nesting_and_size_are_bounded() -> None:
    """Nesting past 64 levels and text past 1 MB are refused before anything is built."""
    with pytest.raises(LoadFailure, match="nesting deeper than 64 levels"):
        compose("[" * 65 + "]" * 65)
    with pytest.raises(LoadFailure, match="at most 1048576 are read"):
        compose("a: " + "x" * 1_048_576)
    assert compose("[" * 64 + "]" * 64) is not None


def test_json_loader_bounds_depth_and_digits() -> None:
    """load_json refuses deep nesting (by a scan, before json recurses) and integers past 4,300 digits."""
    with pytest.raises(LoadFailure, match="nesting deeper than 64 levels"):
        load_json("[" * 200_000 + "]" * 200_000)
    with pytest.raises(LoadFailure, match="an integer of 4301 digits"):
        load_json("[" + "9" * 4301 + "]")
    assert ["[[", {"a": "}"}] == load_json('["[[", {"a": "}"}]')


def test_cli_line_map_does_not_expand_an_alias_bomb() -> None:
    """The CLI's line map composes through the bounded loader: a bomb yields no line numbers, at once."""
    start = time.perf_counter()

    lines = LineMap(_laughs(levels=12, width=9))

    assert lines.line_of("a0") is None
    assert time.perf_counter() - start < 1
    assert 3 == LineMap("a: 1\nb:\n  - x\n").line_of("b[0]")


# -- CloudFormation intrinsics in CodePipeline API JSON ------------------------------------------------


def test_intrinsics_in_api_json_are_errors_with_a_hint() -> None:
    """Ref, Fn::Sub and Fn::GetAtt where the API wants literal values are PW003 errors at their paths."""
    api = _api()
    api["roleArn"] = {"Fn::GetAtt": ["Role", "Arn"]}
    api["artifactStore"]["location"] = {"Ref": "Bucket"}
    api["stages"][1]["actions"][0]["configuration"]["ProjectName"] = {"Fn::Sub": "${AWS::StackName}-build"}
    api["stages"][1]["actions"][0]["runOrder"] = {"Fn::If": ["C", 1, 2]}

    issues = [i for i in pw.lint({"pipeline": api}) if "intrinsic" in i.message]

    assert [
        "roleArn",
        "artifactStore.location",
        "stages[1].actions[0].configuration.ProjectName",
        "stages[1].actions[0].runOrder",
    ] == [i.path for i in issues]
    assert all(i.is_error and i.code == "PW003" for i in issues)
    assert "deploy it with CloudFormation" in (issues[0].hint or "")


def test_intrinsics_stay_allowed_in_templates_and_models() -> None:
    """The same intrinsics in a template, or in a model loaded from one, are not API errors."""
    props = json.loads(json.dumps(PROPS))
    props["Stages"][1]["Actions"][0]["Configuration"]["ProjectName"] = {"Fn::Sub": "${AWS::StackName}-build"}

    template_issues = pw.lint(_template(props))
    model_issues = pw.lint(from_cloudformation(_template(props)))

    assert not [i for i in template_issues + model_issues if "intrinsic" in i.message]


def test_cli_validate_refuses_api_json_with_an_intrinsic(tmp_path: Path) -> None:
    """`pipeweaver validate` on API JSON holding a Ref exits 1 naming the path and the fix."""
    api = _api()
    api["stages"][1]["actions"][0]["configuration"]["ProjectName"] = {"Ref": "Project"}
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps({"pipeline": api}, indent=2))

    result = subprocess.run(
        [sys.executable, "-m", "pipeweaver", "validate", str(path)], capture_output=True, text=True, timeout=60
    )

    assert 1 == result.returncode, result.stdout + result.stderr
    assert "stages[1].actions[0].configuration.ProjectName" in result.stdout
    assert "CloudFormation intrinsic" in result.stdout
    assert "Traceback" not in result.stderr


def test_cli_reads_a_5000_digit_number_in_api_json_as_a_readable_error(tmp_path: Path) -> None:
    """`pipeweaver validate` on API JSON holding a 5,000-digit runOrder names the problem, not an internal error."""
    api = _api()
    api["stages"][1]["actions"][0]["runOrder"] = 7
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps(api).replace('"runOrder": 7', '"runOrder": ' + "1" * 5000))

    result = subprocess.run(
        [sys.executable, "-m", "pipeweaver", "validate", str(path)], capture_output=True, text=True, timeout=60
    )

    assert 1 == result.returncode
    assert "an integer of 5000 digits" in result.stdout
    assert "internal error" not in result.stdout + result.stderr
