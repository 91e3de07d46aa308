"""The lint policy (pyproject.toml / pipeweaver.toml), inline markers, --fail-on, and lines for Python targets."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from .conftest import Cli

# Line numbers below are 1-based lines of this text; the test asserts them, so keep it in step.
PIPELINE = textwrap.dedent(
    """\
    import pipeweaver as pw

    pipeline = pw.Pipeline(
        name="demo",
        role_arn="arn:aws:iam::123456789012:role/pipeline",
        artifact_store=pw.ArtifactStore(location="my-bucket"),
        stages=[
            pw.Stage(
                name="Source",
                actions=[
                    pw.Action(
                        name="Fetch",
                        action_type=pw.ActionType(category="Source", provider="S3"),
                        configuration={"S3Bucket": "b", "S3ObjectKey": "k.zip"},
                        outputs=[pw.Artifact("Src")],
                    ),
                ],
            ),
            pw.Stage(
                name="Build",
                actions=[
                    pw.Action(
                        name="Compile",
                        action_type=pw.ActionType(category="Build", provider="CodeBuild"),
                        configuration={
                            "ProjectName": "p",
                            "Bogus": "x",{marker}
                        },
                        inputs=[pw.Artifact("Nope")],
                    ),
                ],
            ),
        ],
    )
    """
)
POLL, BOGUS, NOPE = 14, 27, 29


def _write(folder: Path, marker: str = "") -> Path:
    path = folder / "pipe.py"
    path.write_text(PIPELINE.replace("{marker}", marker))
    return path


def _sarif(text: str) -> list[dict[str, object]]:
    results: list[dict[str, object]] = json.loads(text)["runs"][0]["results"]
    return results


def test_issues_in_a_python_target_name_the_line_that_built_the_object(cli: Cli, tmp_path: Path) -> None:
    """Text, JSON and SARIF all carry the line of the configuration key or keyword at fault."""
    _write(tmp_path)

    text = cli("validate", "pipe.py")
    report = json.loads(cli("validate", "--format", "json", "pipe.py").stdout)
    sarif = _sarif(cli("validate", "--format", "sarif", "pipe.py").stdout)

    assert 1 == text.returncode
    assert f"pipe.py:{BOGUS}: error PW212 stages[1].actions[0].configuration.Bogus" in text.stdout
    assert f"pipe.py:{NOPE}: error PW208 stages[1].actions[0].inputArtifacts[0].name" in text.stdout
    assert f"pipe.py:{POLL}: warning PW702" in text.stdout
    lines = {(i["code"], i["line"]) for t in report["targets"] for i in t["issues"]}
    assert {("PW702", POLL), ("PW212", BOGUS), ("PW208", NOPE)} == lines
    regions = {(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in sarif}  # type: ignore[index]
    assert lines == regions


def test_dynamic_names_are_followed_through_the_source_structure(cli: Cli, tmp_path: Path) -> None:
    """An action named by an f-string is reached through its stage's ``actions=[...]`` list."""
    source = PIPELINE.replace("{marker}", "").replace('name="Compile"', 'name=f"Comp{1 + 1}"')
    (tmp_path / "pipe.py").write_text(source)

    report = json.loads(cli("validate", "--format", "json", "pipe.py").stdout)

    lines = {i["code"]: i["line"] for t in report["targets"] for i in t["issues"]}
    assert (BOGUS, POLL) == (lines["PW212"], lines["PW702"])


def test_values_built_elsewhere_point_at_the_deepest_member_the_source_spells_out(cli: Cli, tmp_path: Path) -> None:
    """A configuration passed as a variable: the issue points at ``configuration=config``, not nowhere."""
    source = PIPELINE.replace("{marker}", "")
    start = source.index("configuration={\n")
    end = source.index("},", start) + 2
    source = source[:start] + "configuration=config," + source[end:]
    source = source.replace(
        "pipeline = pw.Pipeline(", 'config = {"ProjectName": "p", "Bogus": "x"}\npipeline = pw.Pipeline('
    )
    (tmp_path / "pipe.py").write_text(source)
    wanted = 1 + next(i for i, line in enumerate(source.splitlines()) if "configuration=config" in line)

    report = json.loads(cli("validate", "--format", "json", "pipe.py").stdout)

    lines = {i["code"]: i["line"] for t in report["targets"] for i in t["issues"]}
    assert wanted == lines["PW212"]


def test_an_inline_marker_silences_one_code_on_its_line_only(cli: Cli, tmp_path: Path) -> None:
    """`# pipeweaver: ignore[PW212]` on the reported line silences PW212 there; other findings stay."""
    _write(tmp_path, "  # pipeweaver: ignore[PW212, PW999]")

    text = cli("validate", "pipe.py")
    sarif = _sarif(cli("validate", "--format", "sarif", "pipe.py").stdout)

    assert "PW212" not in text.stdout
    assert "PW208" in text.stdout
    assert text.stdout.rstrip().endswith("1 error(s), 1 warning(s) in 1 target(s) (1 suppressed)")
    (silenced,) = [r for r in sarif if "suppressions" in r]
    assert "PW212" == silenced["ruleId"]
    assert [{"kind": "inSource", "justification": f"# pipeweaver: ignore[PW212] on line {BOGUS}"}] == silenced[
        "suppressions"
    ]


def test_a_marker_inside_a_string_is_data_not_a_request(cli: Cli, tmp_path: Path) -> None:
    """Only comments count: the same text inside a string literal silences nothing."""
    _write(tmp_path, ' "# pipeweaver: ignore[PW212]": "y",')

    assert "PW212" in cli("validate", "pipe.py").stdout


def test_a_yaml_template_honours_inline_markers(cli: Cli, tmp_path: Path) -> None:
    template = tmp_path / "t.yaml"
    template.write_text(
        textwrap.dedent(
            """\
            Resources:
              Pipe:
                Type: AWS::CodePipeline::Pipeline
                Properties:
                  RoleArn: arn:aws:iam::123456789012:role/p
                  ArtifactStore: {Type: S3, Location: b}
                  Stages:
                    - Name: Source
                      Actions:
                        - Name: Fetch
                          ActionTypeId: {Category: Source, Owner: AWS, Provider: S3, Version: "1"}
                          Configuration: {S3Bucket: b, S3ObjectKey: k.zip}  # pipeweaver: ignore[PW702]
                          OutputArtifacts: [{Name: Src}]
                    - Name: Build
                      Actions:
                        - Name: Compile
                          ActionTypeId: {Category: Build, Owner: AWS, Provider: CodeBuild, Version: "1"}
                          Configuration: {ProjectName: p}
                          InputArtifacts: [{Name: Src}]
            """
        )
    )
    plain = template.read_text().replace("  # pipeweaver: ignore[PW702]", "")
    (tmp_path / "plain.yaml").write_text(plain)

    assert "PW702" in cli("validate", "plain.yaml").stdout
    marked = cli("validate", "t.yaml")
    assert "PW702" not in marked.stdout
    assert "(1 suppressed)" in marked.stdout


def test_pyproject_policy_in_a_parent_ignores_regrades_and_fails_on_warnings(cli: Cli, tmp_path: Path) -> None:
    """[tool.pipeweaver.lint] is found from a subfolder; globs are relative to the pyproject's folder."""
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [project]
            name = "app"

            [tool.pipeweaver.lint]
            ignore = ["PW702"]
            fail-on = "warning"

            [tool.pipeweaver.lint.per-file-ignores]
            "pipelines/*.py" = ["PW212"]

            [tool.pipeweaver.lint.per-file-severity]
            "pipelines/**" = { PW208 = "warning" }
            "elsewhere/*.py" = { PW702 = "error" }
            """
        )
    )
    work = tmp_path / "pipelines"
    work.mkdir()
    _write(work)

    text = cli("validate", "pipe.py", cwd=work)
    report = json.loads(cli("validate", "--format", "json", "pipe.py", cwd=work).stdout)
    sarif = _sarif(cli("validate", "--format", "sarif", "pipe.py", cwd=work).stdout)

    assert 1 == text.returncode  # only a warning is left, and fail-on = "warning"
    assert f"pipe.py:{NOPE}: warning PW208" in text.stdout
    assert "PW212" not in text.stdout
    assert "PW702" not in text.stdout
    assert (0, 1, 2) == (report["errors"], report["warnings"], report["suppressed"])
    kinds = {r["ruleId"]: r.get("suppressions") for r in sarif}
    assert [{"kind": "external", "justification": "pyproject.toml: ignore"}] == kinds["PW702"]
    assert [{"kind": "external", "justification": "pyproject.toml: per-file-ignores 'pipelines/*.py'"}] == kinds[
        "PW212"
    ]
    assert kinds["PW208"] is None


def test_fail_on_flag_overrides_the_policy(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "pipeweaver.toml").write_text('[lint]\nignore = ["PW212", "PW208"]\nfail-on = "warning"\n')
    _write(tmp_path)

    assert 1 == cli("validate", "pipe.py").returncode
    assert 0 == cli("validate", "--fail-on", "error", "pipe.py").returncode


def test_pipeweaver_toml_wins_over_pyproject_in_the_same_folder(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.pipeweaver.lint]\nignore = ["PW212"]\n')
    (tmp_path / "pipeweaver.toml").write_text('[lint]\nignore = ["PW208"]\n')
    _write(tmp_path)

    out = cli("validate", "pipe.py").stdout

    assert "PW212" in out
    assert "PW208" not in out


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ('[lint]\nignor = ["PW702"]\n', "[lint]: unknown key 'ignor' (did you mean 'ignore'?)"),
        ('[lint]\nignore = ["PW72"]\n', "[lint] ignore: 'PW72' is not a pipeweaver rule code (did you mean 'PW712'?)"),
        ('[lint]\nignore = "PW702"\n', '[lint] ignore must be a list of rule codes, like ["PW701"]'),
        ('[lint]\nseverity = { PW702 = "fatal" }\n', "[lint] severity.PW702: 'fatal' is not one of error, warning"),
        ('[lint]\nfail-on = "never"\n', "[lint] fail-on: 'never' is not one of error, warning"),
        ("[lint\nignore = 1\n", "not valid TOML"),
        ('[lint.per-file-ignores]\n"pipes/[a" = ["PW208"]\n', "[lint] per-file-ignores.'pipes/[a':"),
        ('[lint]\nignore = ["PW7O1"]\n', "'PW7O1' is not a pipeweaver rule code (did you mean 'PW701'?)"),
        ('[lint]\nseverity = { pw7l4 = "error" }\n', "'pw7l4' is not a pipeweaver rule code (did you mean 'PW714'?)"),
        ('ignore = ["PW702"]\n', "top level: unknown key 'ignore' (did you mean [lint] ignore = ...?)"),
        ('fail-on = "warning"\n', "top level: unknown key 'fail-on' (did you mean [lint] fail-on = ...?)"),
        ('[lints]\nignore = ["PW702"]\n', "top level: unknown key 'lints' (did you mean [lint]?)"),
        ("[output]\nformat = 'json'\n", "top level: unknown key 'output'; pipeweaver reads only [lint], whose keys"),
    ],
)
def test_a_malformed_policy_is_one_line_naming_the_file_and_key(
    cli: Cli, tmp_path: Path, policy: str, message: str
) -> None:
    (tmp_path / "pipeweaver.toml").write_text(policy)
    _write(tmp_path)

    done = cli("validate", "pipe.py")

    assert 2 == done.returncode
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(f"Error: {tmp_path / 'pipeweaver.toml'}: ")
    assert 1 == len(done.stderr.strip().splitlines())
    assert message in done.stderr


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ('[tool.pipeweaver]\nignore = ["PW702"]\n', "[tool.pipeweaver]: unknown key 'ignore' (did you mean "),
        ('[tool.pipeweaver]\nseverity = { PW702 = "error" }\n', "[tool.pipeweaver.lint] severity = ...?)"),
        ('[tool.pipeweaver.lnt]\nignore = ["PW702"]\n', "[tool.pipeweaver]: unknown key 'lnt' (did you mean "),
        ("[tool.pipeweaver]\ncolour = true\n", "pipeweaver reads only [tool.pipeweaver.lint], whose keys are ignore"),
        ("[tool.pipeweaver]\nlint = 3\n", "[tool.pipeweaver.lint] must be a table"),
    ],
)
def test_a_pyproject_setting_outside_the_lint_table_is_an_error(
    cli: Cli, tmp_path: Path, policy: str, message: str
) -> None:
    """[tool.pipeweaver] ignore = [...] used to be read as no policy at all; now it says where it belongs."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n\n[tool.ruff]\nline-length = 120\n\n' + policy)
    _write(tmp_path)

    done = cli("validate", "pipe.py")

    assert 2 == done.returncode
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(f"Error: {tmp_path / 'pyproject.toml'}: ")
    assert 1 == len(done.stderr.strip().splitlines())
    assert message in done.stderr


def test_other_tools_tables_in_a_pyproject_are_not_pipeweavers_business(cli: Cli, tmp_path: Path) -> None:
    """Only [tool.pipeweaver] is checked: [project], [tool.ruff] and friends pass untouched."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\n\n[tool.ruff]\nignore = ["E501"]\n\n[tool.pipeweaver.lint]\nignore = ["PW212"]\n'
    )
    _write(tmp_path)

    done = cli("validate", "pipe.py")

    assert "PW212" not in done.stdout
    assert "PW208" in done.stdout
