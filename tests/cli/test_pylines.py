"""Lines of a Python TARGET built with the typed factories, shared names and computed names."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from pipeweaver.cli._pylines import PythonLineMap
from pipeweaver.cli._target import load_target

from .conftest import Cli

# Line numbers below are 1-based lines of this text; the tests assert them, so keep it in step.
RELEASE = textwrap.dedent(
    """\
    import pipeweaver as pw
    from pipeweaver import actions

    app = "web"
    source = actions.github_source(
        "Source",
        connection_arn="arn:aws:codeconnections:us-east-1:123456789012:connection/abc",
        repository="acme/web",
        branch="main",
        namespace="SourceVariables",
    )
    build = actions.codebuild(
        "Build",
        project_name="web",
        input=source.output(),
        environment_variables={"MSG": "#{SourceVariables.CommitMessage}"},{marker}
    )

    pipeline = pw.Pipeline(
        name={name},
        role_arn="arn:aws:iam::123456789012:role/pipeline",
        artifact_store=pw.ArtifactStore(location="my-bucket"),
        variables=[pw.Variable(name="Env", default_value="dev")],
        stages=[
            pw.Stage(name="Source", actions=[source]),
            pw.Stage(name="Build", actions=[build]),
        ],
    )
    """
)
ENV_LINE, PIPELINE_LINE = 16, 19


def _write(folder: Path, *, name: str = '"web-release"', marker: str = "") -> Path:
    path = folder / "release.py"
    path.write_text(RELEASE.replace("{name}", name).replace("{marker}", marker))
    return path


def _lines(cli: Cli, *extra: str) -> dict[str, int | None]:
    report = json.loads(cli("validate", "--format", "json", *extra, "release.py").stdout)
    return {i["code"]: i["line"] for t in report["targets"] for i in t["issues"]}


def _regions(cli: Cli) -> dict[str, int]:
    results = json.loads(cli("validate", "--format", "sarif", "release.py").stdout)["runs"][0]["results"]
    return {r["ruleId"]: r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results}


def test_an_action_named_like_its_stage_points_at_the_action(tmp_path: Path) -> None:
    """Stage "Build" holding action "Build": the action's issue names the factory call, not pw.Stage(...)."""
    path = _write(tmp_path)
    loaded = load_target(str(path))
    assert loaded.pipeline_obj is not None

    lines = PythonLineMap(path.read_text(), loaded.pipeline_obj)

    assert 12 == lines.line_of("stages[1].actions[0]")
    assert 26 == lines.line_of("stages[1]")


def test_factory_keywords_carry_the_configuration_key_line_in_every_format(cli: Cli, tmp_path: Path) -> None:
    """``EnvironmentVariables`` is the factory's ``environment_variables=`` line in text, JSON and SARIF."""
    _write(tmp_path)

    text = cli("validate", "release.py").stdout

    assert f"release.py:{ENV_LINE}: warning PW701 stages[1].actions[0].configuration.EnvironmentVariables" in text
    assert {"PW701": ENV_LINE, "PW705": PIPELINE_LINE} == _lines(cli)
    assert {"PW701": ENV_LINE, "PW705": PIPELINE_LINE} == _regions(cli)


def test_an_inline_marker_on_a_factory_keyword_line_silences_the_issue(cli: Cli, tmp_path: Path) -> None:
    _write(tmp_path, marker="  # pipeweaver: ignore[PW701]")

    text = cli("validate", "release.py").stdout
    sarif = json.loads(cli("validate", "--format", "sarif", "release.py").stdout)["runs"][0]["results"]

    assert "PW701" not in text
    assert "(1 suppressed)" in text
    (silenced,) = [r for r in sarif if "suppressions" in r]
    assert [{"kind": "inSource", "justification": f"# pipeweaver: ignore[PW701] on line {ENV_LINE}"}] == silenced[
        "suppressions"
    ]


def test_an_inline_marker_on_a_one_line_factory_call_silences_the_issue(cli: Cli, tmp_path: Path) -> None:
    """Written on one line, the factory call is the line reported, so its marker counts."""
    source = RELEASE.replace("{name}", '"web-release"').replace("{marker}", "")
    start = source.index("build = actions.codebuild(")
    end = source.index("\n)\n", start) + 3
    one_line = (
        'build = actions.codebuild("Build", project_name="web", input=source.output(), '
        'environment_variables={"MSG": "#{SourceVariables.CommitMessage}"})  # pipeweaver: ignore[PW701]\n'
    )
    (tmp_path / "release.py").write_text(source[:start] + one_line + source[end:])

    report = json.loads(cli("validate", "--format", "json", "release.py").stdout)

    assert ["PW705"] == [i["code"] for t in report["targets"] for i in t["issues"]]
    assert 1 == report["suppressed"]


def test_a_computed_pipeline_name_points_at_the_pipeline_call(cli: Cli, tmp_path: Path) -> None:
    """``name=f"{app}-release"`` is not in the source; pipeline-level issues name the Pipeline(...) line."""
    _write(tmp_path, name='f"{app}-release"')

    text = cli("validate", "release.py").stdout

    assert f"release.py:{PIPELINE_LINE}: warning PW705 pipelineType" in text
    assert {"PW701": ENV_LINE, "PW705": PIPELINE_LINE} == _lines(cli)
    assert {"PW701": ENV_LINE, "PW705": PIPELINE_LINE} == _regions(cli)


def test_a_pipeline_named_by_a_variable_points_at_the_pipeline_call(cli: Cli, tmp_path: Path) -> None:
    _write(tmp_path, name='app + "-release"')

    assert {"PW701": ENV_LINE, "PW705": PIPELINE_LINE} == _lines(cli)


def test_a_computed_name_among_several_pipeline_calls_is_not_guessed(tmp_path: Path) -> None:
    """Two Pipeline(...) calls with computed names: no line rather than the wrong one."""
    source = RELEASE.replace("{name}", "app").replace("{marker}", "")
    source += "other = pw.Pipeline(name=app + '2', role_arn='arn:aws:iam::123456789012:role/p', stages=[])\n"
    path = tmp_path / "release.py"
    path.write_text(source)
    loaded = load_target(f"{path}:pipeline")
    assert loaded.pipeline_obj is not None

    assert PythonLineMap(source, loaded.pipeline_obj).line_of("pipelineType") is None


APPROVAL = textwrap.dedent(
    """\
    import pipeweaver as pw
    from pipeweaver import actions

    source = actions.s3_source("Source", bucket="b", object_key="k.zip", output="Src")
    {made}
    deploy = actions.s3_deploy("Ship", bucket="site", input={made_name}.output())

    pipeline = pw.Pipeline(
        name="web",
        role_arn="arn:aws:iam::123456789012:role/pipeline",
        artifact_store=pw.ArtifactStore(location="my-bucket"),
        stages=[pw.Stage(name="Source", actions=[source]), pw.Stage(name="Ship", actions=[{made_name}, deploy])],
    )
    """
)


def test_output_of_an_approval_is_one_error_at_the_line_that_called_it(cli: Cli, tmp_path: Path) -> None:
    """approve.output(): text, JSON and SARIF name the line and the action, with a hint that fits an approval."""
    made = 'approve = actions.manual_approval("Approve")'
    (tmp_path / "release.py").write_text(APPROVAL.replace("{made}", made).replace("{made_name}", "approve"))

    text = cli("validate", "release.py")
    report = json.loads(cli("validate", "--format", "json", "release.py").stdout)
    sarif = json.loads(cli("validate", "--format", "sarif", "release.py").stdout)["runs"][0]["results"]

    assert 1 == text.returncode
    assert "Traceback" not in text.stderr
    assert text.stdout.startswith(
        "release.py:6: error PW000 <pipeline>: output() of action 'Approve' (Approval/AWS/Manual): "
        "Manual approval actions produce no output artifact, so there is nothing to pass on\n"
        "    hint: give the next action an artifact made by an earlier action"
    )
    (issue,) = [i for t in report["targets"] for i in t["issues"]]
    assert (6, "PW000") == (issue["line"], issue["code"])
    assert "'Approve'" in issue["message"]
    assert "release.py" not in issue["message"]
    assert issue["hint"].startswith("give the next action an artifact made by an earlier action")
    assert 6 == sarif[0]["locations"][0]["physicalLocation"]["region"]["startLine"]


def test_output_of_a_build_without_outputs_names_the_keyword_to_declare_one(cli: Cli, tmp_path: Path) -> None:
    made = 'build = actions.codebuild("Build", project_name="p", input=source.output())'
    (tmp_path / "release.py").write_text(APPROVAL.replace("{made}", made).replace("{made_name}", "build"))

    text = cli("validate", "release.py").stdout
    synth = cli("synth", "release.py")

    assert "release.py:6: error PW000 <pipeline>: output() of action 'Build' (Build/AWS/CodeBuild)" in text
    assert "    hint: declare it where the action is made: outputs=['BuildOutput'] in its typed factory" in text
    assert 1 == synth.returncode
    assert synth.stderr.startswith("Error: release.py:6: output() of action 'Build'")
    assert "Traceback" not in synth.stderr


def test_output_in_a_pipeline_function_names_the_line_inside_it(cli: Cli, tmp_path: Path) -> None:
    """A TARGET that builds its pipeline in a function: the line is the one inside the function."""
    source = APPROVAL.replace("{made}", 'approve = actions.manual_approval("Approve")').replace(
        "{made_name}", "approve"
    )
    body = textwrap.indent(source.split("\n", 2)[2], "    ")
    (tmp_path / "release.py").write_text(
        source.split("\n", 2)[0]
        + "\n"
        + source.split("\n", 2)[1]
        + "\n\ndef make():\n"
        + body
        + "    return pipeline\n"
    )

    text = cli("validate", "release.py:make").stdout

    assert "release.py:8: error PW000 <pipeline>: make() failed: output() of action 'Approve'" in text
