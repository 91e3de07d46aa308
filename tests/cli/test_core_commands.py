"""validate, synth, graph and import, run as the real console script."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml

import pipeweaver as pw
from pipeweaver import synth

from .conftest import Cli

BAD_JSON = """{
  "pipeline": {
    "name": "bad pipeline!",
    "roleArn": "arn:aws:iam::123456789012:role/PipelineRole",
    "artifactStore": {"type": "S3", "location": "my-artifact-bucket"},
    "stages": [
      {"name": "Source", "actions": [
        {"name": "Fetch",
         "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
         "configuration": {"S3Bucket": "src-bucket", "S3ObjectKey": "app.zip", "PollForSourceChanges": "false"},
         "outputArtifacts": [{"name": "Out"}],
         "runOrderz": 1}
      ]},
      {"name": "Build", "actions": [
        {"name": "Compile",
         "actionTypeId": {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"},
         "configuration": {"ProjectName": "web-build"},
         "inputArtifacts": [{"name": "Out"}]}
      ]}
    ]
  }
}
"""

BAD_YAML_TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      Name: web
      RoleArn: !GetAtt PipelineRole.Arn
      ArtifactStore:
        Type: S3
        Location: my-artifact-bucket
      Stages:
        - Name: Source
          Actions:
            - Name: Fetch
              ActionTypeId: {Category: Source, Owner: AWS, Provider: S3, Version: '1'}
              Configuration: {S3Bucket: src-bucket, S3ObjectKey: app.zip, PollForSourceChanges: 'false'}
              OutputArtifacts: [{Name: Out}]
              RunOrder: 1000
        - Name: Build
          Actions:
            - Name: Compile
              ActionTypeId: {Category: Build, Owner: AWS, Provider: CodeBuild, Version: '1'}
              Configuration: {ProjectName: web-build}
              InputArtifacts: [{Name: Out}]
"""


@pytest.fixture(name="good_json")
def _good_json(tmp_path: Path, sample: pw.Pipeline) -> Path:
    path = tmp_path / "good.json"
    path.write_text(synth.dumps(sample, envelope=True))
    return path


@pytest.fixture(name="bad_json")
def _bad_json(tmp_path: Path) -> Path:
    path = tmp_path / "bad.json"
    path.write_text(BAD_JSON)
    return path


@pytest.fixture(name="module_file")
def _module_file(tmp_path: Path, sample: pw.Pipeline) -> Path:
    path = tmp_path / "release.py"
    path.write_text(
        "from pipeweaver import synth\n"
        f"pipeline = synth.loads({synth.dumps(sample)!r})\n"
        "def other():\n    return pipeline\n"
        "NOT_A_PIPELINE = 3\n"
    )
    return path


def test_help_on_every_subcommand(cli: Cli) -> None:
    """`--help` works for the group and for every subcommand, with exit 0."""
    top = cli("--help")
    commands = [line.split()[0] for line in top.stdout.split("Commands:")[1].strip().splitlines()]

    assert 0 == top.returncode
    assert {"validate", "synth", "graph", "run", "history", "retry", "approve", "reject", "import"} <= set(commands)
    for command in commands:
        result = cli(command, "--help")
        assert (0, True) == (result.returncode, "Usage:" in result.stdout), command


def test_help_reads_as_plain_text(cli: Cli) -> None:
    """Help is for a terminal: no reST/Markdown markup (backticks, roles), examples kept on one line."""
    top = cli("--help")
    commands = [line.split()[0] for line in top.stdout.split("Commands:")[1].strip().splitlines()]
    for command in ["", *commands]:
        shown = cli(*([command] if command else []), "--help").stdout
        for markup in ("`", ":class:", ":mod:", ":func:", ":meth:"):
            assert markup not in shown, f"{command or 'pipeweaver'} --help shows {markup!r}:\n{shown}"
    validate = cli("validate", "--help").stdout
    assert "    # pipeweaver: ignore[PW701]\n" in validate
    run = cli("run", "--help").stdout
    assert "    LOCAL = pipeweaver.execution.LocalEmulation(sources=..., functions=...,\n" in run


def test_validate_clean_api_json_exits_0(cli: Cli, good_json: Path) -> None:
    """A valid get-pipeline envelope validates with exit 0 and says so."""
    result = cli("validate", str(good_json))

    assert 0 == result.returncode, result.stderr
    assert f"{good_json}: ok, no issues" in result.stdout


def test_validate_reports_every_issue_with_file_line(cli: Cli, bad_json: Path) -> None:
    """Each issue is printed with file:line, severity, code, path and message; exit 1."""
    result = cli("validate", str(bad_json))

    assert 1 == result.returncode
    assert f"{bad_json}:3: error PW010 name: " in result.stdout
    assert f"{bad_json}:12: error PW001 stages[0].actions[0].runOrderz: " in result.stdout
    assert "hint: did you mean 'runOrder'?" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_validate_json_format(cli: Cli, bad_json: Path) -> None:
    """--format json gives machine-readable issues with lines and counts."""
    result = cli("validate", "--format", "json", str(bad_json))
    body = json.loads(result.stdout)
    by_code = {i["code"]: i for i in body["targets"][0]["issues"]}

    assert 1 == result.returncode
    assert ("stages[0].actions[0].runOrderz", 12, "error") == (
        by_code["PW001"]["path"],
        by_code["PW001"]["line"],
        by_code["PW001"]["severity"],
    )
    assert body["errors"] == sum(1 for i in body["targets"][0]["issues"] if i["severity"] == "error")


@pytest.mark.parametrize("fmt", ["text", "sarif"])
def test_validate_to_a_file_says_what_it_wrote(cli: Cli, bad_json: Path, tmp_path: Path, fmt: str) -> None:
    """-o FILE exits 1 for errors; stderr says so in one line, as graph and synth do."""
    out = tmp_path / f"out.{fmt}"
    result = cli("validate", "--format", fmt, "-o", str(out), str(bad_json))
    body = json.loads(cli("validate", "--format", "json", str(bad_json)).stdout)
    errors = body["errors"]

    assert 1 == result.returncode
    assert "" == result.stdout
    assert 1 == len(result.stderr.strip().splitlines()), result.stderr
    assert result.stderr.startswith(f"wrote {out}: {errors} error{'s' if errors != 1 else ''}, "), result.stderr
    assert " warning" in result.stderr


def test_validate_sarif_has_rules_and_locations(cli: Cli, bad_json: Path, tmp_path: Path) -> None:
    """--format sarif writes a SARIF 2.1.0 log: rules for each code, results with file, line and logical path."""
    out = tmp_path / "out.sarif"
    result = cli("validate", "--format", "sarif", "-o", str(out), str(bad_json))
    log = json.loads(out.read_text())
    run = log["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    unknown = next(r for r in run["results"] if r["ruleId"] == "PW001")
    location = unknown["locations"][0]

    assert 1 == result.returncode
    assert "2.1.0" == log["version"]
    assert sorted(rule_ids) == rule_ids
    assert {r["ruleId"] for r in run["results"]} == set(rule_ids)
    assert rule_ids.index("PW001") == unknown["ruleIndex"]
    assert "Unknown field" == run["tool"]["driver"]["rules"][rule_ids.index("PW001")]["shortDescription"]["text"]
    assert "error" == unknown["level"]
    assert (bad_json.as_posix(), 12) == (
        location["physicalLocation"]["artifactLocation"]["uri"],
        location["physicalLocation"]["region"]["startLine"],
    )
    assert "stages[0].actions[0].runOrderz" == location["logicalLocations"][0]["fullyQualifiedName"]


def test_validate_python_file_and_module_attribute(cli: Cli, module_file: Path, tmp_path: Path) -> None:
    """path.py, path.py:NAME and package.module:NAME targets all load the pipeline."""
    by_file = cli("validate", str(module_file))
    by_attr = cli("validate", f"{module_file}:other")
    by_module = cli("validate", "release:pipeline", cwd=tmp_path)

    assert (0, 0, 0) == (by_file.returncode, by_attr.returncode, by_module.returncode), (
        by_file.stderr + by_attr.stderr + by_module.stderr
    )


def test_validate_yaml_template_reports_template_lines(cli: Cli, tmp_path: Path) -> None:
    """Issues in a CloudFormation template point at the line inside the template."""
    path = tmp_path / "pipeline.yaml"
    path.write_text(BAD_YAML_TEMPLATE)
    result = cli("validate", str(path))

    assert 1 == result.returncode, result.stdout + result.stderr
    assert f"{path}:18: error PW014 Resources.Pipeline.Properties.Stages[0].Actions[0].RunOrder" in result.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["validate", "missing.json"], "missing.json: no such file"),
        (["validate", "missing.py"], "missing.py: no such file"),
        (["validate", "no_such_module:thing"], "importing module 'no_such_module' failed"),
        (["validate", "notatarget"], "'notatarget': no such file, and not a 'package.module:NAME' reference"),
        (["synth", "release.py:NOT_A_PIPELINE"], "release.py:NOT_A_PIPELINE is a int, not a pipeweaver.Pipeline"),
        (["synth", "release.py:absent"], "release.py has no attribute 'absent'"),
        (["validate", "--format", "xml", "x.json"], "Invalid value for '--format'"),
        (["synth"], "Missing argument 'TARGET'"),
        (["run", "release.py", "--var", "novalue"], "--var 'novalue': expected NAME=VALUE"),
    ],
)
def test_usage_errors_exit_2_with_one_message(cli: Cli, module_file: Path, args: list[str], needle: str) -> None:
    """A wrong TARGET or option is one readable message naming what was tried, exit 2, no traceback."""
    result = cli(*args)

    assert 2 == result.returncode, result.stdout + result.stderr
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


def test_an_import_error_points_into_the_users_files_in_a_folder_named_pipeweaver(cli: Cli, tmp_path: Path) -> None:
    """In a project folder named pipeweaver, the error is placed at the user's deepest line (a helper
    beside the target, which called into the standard library), and --format json fills the
    target file's line."""
    project = tmp_path / "pipeweaver"
    project.mkdir()
    (project / "helper.py").write_text("import json\n\n\ndef settings():\n    return json.loads('{')\n")
    path = project / "broken.py"
    path.write_text("import pipeweaver as pw\nimport helper\n\nSETTINGS = helper.settings()\n")

    text = cli("validate", str(path), cwd=project)
    body = json.loads(cli("validate", "--format", "json", str(path), cwd=project).stdout)
    issue = body["targets"][0]["issues"][0]

    assert 1 == text.returncode
    assert "raised JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1) " in (
        text.stdout
    )
    assert f"(at {project / 'helper.py'}:5)" in text.stdout, text.stdout
    assert 4 == issue["line"], issue
    assert f"(at {project / 'helper.py'}:5)" in issue["message"]


def test_broken_python_target_is_one_message(cli: Cli, tmp_path: Path) -> None:
    """A target whose code raises reports the exception and its line, exit 1, no traceback."""
    path = tmp_path / "broken.py"
    path.write_text("import pipeweaver as pw\n\nx = 1\npipeline = {}['missing']\n")
    result = cli("validate", str(path))

    assert 1 == result.returncode
    # validate shows the line apart, as for its other findings; synth says it in the message.
    assert f"{path}:4: error PW000 <pipeline>: importing {path} raised KeyError: 'missing'\n" in result.stdout
    assert "Traceback" not in result.stderr
    synth = cli("synth", str(path))
    assert f"importing {path} raised KeyError: 'missing' (at {path}:4)" in synth.stderr


def test_definition_error_in_python_target(cli: Cli, tmp_path: Path) -> None:
    """A model field AWS would reject, raised while importing, is reported with the rule."""
    path = tmp_path / "bad_field.py"
    path.write_text(
        "import pipeweaver as pw\n"
        "a = pw.Action(name='Build', run_order=0, action_type=pw.ActionType(category='Build', provider='CodeBuild'))\n"
    )
    result = cli("synth", str(path))

    assert 1 == result.returncode
    assert "run_order=0 is invalid" in result.stderr
    assert "Traceback" not in result.stderr


def test_hostile_yaml_tag_is_refused(cli: Cli, tmp_path: Path) -> None:
    """A YAML tag beyond CloudFormation's short forms is refused, never constructed."""
    path = tmp_path / "evil.yaml"
    path.write_text("Resources: !!python/object/apply:os.system ['touch pwned']\n")
    result = cli("validate", str(path))

    assert 1 == result.returncode
    assert "could not determine a constructor" in result.stdout
    assert not (tmp_path / "pwned").exists()


def test_syntax_error_in_yaml_names_the_line(cli: Cli, tmp_path: Path) -> None:
    """Unparseable YAML reports the file, line and column, exit 1."""
    path = tmp_path / "broken.yaml"
    path.write_text("Resources:\n  Pipeline: [unclosed\n")
    result = cli("validate", str(path))

    assert 1 == result.returncode
    assert f"{path}: the template is not valid CloudFormation YAML" in result.stdout
    assert "at line 3, column 1" in result.stdout


def test_synth_codepipeline_round_trips(cli: Cli, module_file: Path, sample: pw.Pipeline, tmp_path: Path) -> None:
    """synth --format codepipeline -o FILE writes JSON that loads back to the same pipeline."""
    out = tmp_path / "out.json"
    result = cli("synth", str(module_file), "-o", str(out))

    assert 0 == result.returncode, result.stderr
    assert sample == synth.loads(out.read_text())
    assert [] == [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_synth_refuses_invalid_pipeline_and_leaves_no_file(cli: Cli, bad_json: Path, tmp_path: Path) -> None:
    """An invalid pipeline is not synthesized: exit 1, the issues listed, no output file."""
    out = tmp_path / "never.json"
    result = cli("synth", str(bad_json), "-o", str(out))

    assert 1 == result.returncode
    assert "not a valid CodePipeline declaration" in result.stderr
    assert "stages[0].actions[0].runOrderz: unknown field 'runOrderz'" in result.stderr
    assert not out.exists()


def test_synth_refusal_lists_each_error_with_its_line(cli: Cli, tmp_path: Path) -> None:
    """A .py target with an error: synth names file:line as validate does, and how to write anyway,
    running the user's module once."""
    target = tmp_path / "broken.py"
    runs = tmp_path / "runs.txt"
    target.write_text(
        f"open({str(runs)!r}, 'a').write('ran\\n')\n"
        "import pipeweaver as pw\n"
        "from pipeweaver import actions\n"
        "source = actions.s3_source('Source', bucket='bkt-a', object_key='k.zip')\n"
        "build = actions.codebuild('Build', project_name='p', input=pw.Artifact('Nope'))\n"
        "pipeline = pw.Pipeline(name='broken', role_arn='arn:aws:iam::123456789012:role/R',\n"
        "    artifact_store=pw.ArtifactStore(location='bkt-artifacts'),\n"
        "    stages=[pw.Stage(name='Source', actions=[source]), pw.Stage(name='Build', actions=[build])])\n"
    )
    result = cli("synth", str(target))

    assert 1 == result.returncode
    assert "(--no-validate writes it anyway)" in result.stderr
    assert f"{target}:5: error PW208 stages[1].actions[0].inputArtifacts[0].name" in result.stderr
    assert "Traceback" not in result.stderr
    assert "ran\n" == runs.read_text()


def test_synth_to_missing_folder_fails_cleanly(cli: Cli, module_file: Path, tmp_path: Path) -> None:
    """Writing into a folder that does not exist is one message, exit 1."""
    result = cli("synth", str(module_file), "-o", str(tmp_path / "nope" / "out.json"))

    assert 1 == result.returncode
    assert "does not exist" in result.stderr


def test_graph_svg_is_drawn_without_graphviz(cli: Cli, module_file: Path, tmp_path: Path) -> None:
    """graph --format svg writes a standalone SVG with one box per action, with no dot binary on PATH."""
    out = tmp_path / "graph.svg"
    result = cli(
        "graph", str(module_file), "--format", "svg", "-o", str(out), env={"PATH": os.path.dirname(os.sys.executable)}
    )
    text = out.read_text()

    assert 0 == result.returncode, result.stderr
    assert text.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert 4 == text.count('<g class="action"')
    # A drawing of the definition has no run to report: actions carry their category, not "not run".
    assert "not run" not in text
    # A long provider name is cut, never the category after it.
    labels = re.findall(r'class="provider"[^>]*>([^<]*)<', text)
    assert ["CodeStarSourceCon… · Source", "CodeBuild · Build", "CodeBuild · Test", "CodeDeploy · Deploy"] == labels


def test_import_rejects_python_and_missing_files(cli: Cli, module_file: Path) -> None:
    """import reads data files only: a .py file or a missing file is a usage error."""
    py = cli("import", str(module_file))
    missing = cli("import", "nothing.json")

    assert (2, 2) == (py.returncode, missing.returncode)
    assert "not Python" in py.stderr
    assert "no such file" in missing.stderr


def test_graph_mermaid_and_dot(cli: Cli, module_file: Path) -> None:
    """graph --format mermaid/dot print diagrams naming every action."""
    mermaid = cli("graph", str(module_file))
    dot = cli("graph", str(module_file), "--format", "dot")

    assert (0, 0) == (mermaid.returncode, dot.returncode), mermaid.stderr + dot.stderr
    assert mermaid.stdout.lstrip().startswith(("flowchart", "graph"))
    assert dot.stdout.lstrip().startswith(("digraph", "strict digraph"))
    for name in ("Source", "Build", "UnitTest", "Deploy"):
        assert name in mermaid.stdout
        assert name in dot.stdout


def test_synth_cloudformation_yaml_and_json(cli: Cli, module_file: Path, tmp_path: Path) -> None:
    """synth --format cloudformation writes a template (YAML for .yaml names) that imports back to the pipeline."""
    as_yaml = tmp_path / "template.yaml"
    as_json = tmp_path / "template.json"
    first = cli("synth", str(module_file), "--format", "cloudformation", "-o", str(as_yaml))
    second = cli("synth", str(module_file), "--format", "cloudformation", "-o", str(as_json))

    assert (0, 0) == (first.returncode, second.returncode), first.stderr + second.stderr
    assert as_yaml.read_text().startswith(("AWSTemplateFormatVersion", "Resources", "Description"))
    assert synth.from_cloudformation(as_yaml.read_text()) == synth.from_cloudformation(json.loads(as_json.read_text()))


def test_import_template_to_python_that_rebuilds_it(
    cli: Cli, module_file: Path, tmp_path: Path, sample: pw.Pipeline
) -> None:
    """import turns a template into Python code; running that code rebuilds the same pipeline."""
    template = tmp_path / "template.json"
    cli("synth", str(module_file), "--format", "cloudformation", "-o", str(template))
    result = cli("import", str(template))
    namespace: dict[str, object] = {}
    exec(compile(result.stdout, "imported.py", "exec"), namespace)

    assert 0 == result.returncode, result.stderr
    assert sample == namespace["pipeline"]


def test_validate_several_targets_reports_each(cli: Cli, good_json: Path, bad_json: Path) -> None:
    """Several targets are checked in one call; one bad target makes the exit code 1 and the good one is still reported."""
    result = cli("validate", str(good_json), str(bad_json))

    assert 1 == result.returncode
    assert f"{good_json}: ok, no issues" in result.stdout
    assert f"{bad_json}:3: error PW010" in result.stdout
    assert result.stdout.rstrip().endswith("in 2 target(s)")


def test_api_declaration_written_as_yaml(cli: Cli, tmp_path: Path) -> None:
    """API JSON written as YAML (no Resources) is read as a declaration, with YAML line numbers."""
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(json.loads(BAD_JSON), sort_keys=False))
    result = cli("validate", str(path))

    assert 1 == result.returncode
    assert f"{path}:2: error PW010 name:" in result.stdout


def test_validate_skips_python_files_without_a_pipeline(
    cli: Cli, module_file: Path, bad_json: Path, tmp_path: Path
) -> None:
    """`validate *.py` over a folder with helper modules checks every pipeline file and names the skipped ones."""
    helper = tmp_path / "helpers.py"
    helper.write_text("RETRIES = 3\n")
    result = cli("validate", str(helper), str(module_file), str(bad_json))
    as_json = cli("validate", "--format", "json", str(helper), str(module_file))

    assert 1 == result.returncode, result.stderr
    assert f"{helper}: skipped, defines no pipeline" in result.stdout
    assert f"{module_file}: ok, no issues" in result.stdout
    assert f"{bad_json}:3: error PW010" in result.stdout
    assert result.stdout.rstrip().endswith("in 2 target(s)")
    assert [{"target": str(helper), "reason": "defines no pipeline"}] == json.loads(as_json.stdout)["skipped"]


def test_validate_of_only_files_without_a_pipeline_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    """Checking nothing is not success: exit 2 with one line."""
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text("X = 1\n")
    result = cli("validate", "a.py", "b.py", cwd=tmp_path)

    assert 2 == result.returncode
    assert "none of the 2 targets defines a pipeline" in result.stderr


def test_sarif_message_reads_as_sentences(cli: Cli, tmp_path: Path) -> None:
    """A hint follows its message as a second sentence ('...declares. Hint: ...'), never run into it."""
    module = tmp_path / "release.py"
    module.write_text(
        "import pipeweaver as pw\n"
        "src = pw.Artifact('Src')\n"
        "pipeline = pw.Pipeline(name='p', role_arn='arn:aws:iam::123456789012:role/R',\n"
        "    artifact_store=pw.ArtifactStore(location='bucket-a'), stages=[\n"
        "    pw.Stage(name='Source', actions=[pw.Action(name='Source', outputs=[src],\n"
        "        action_type=pw.ActionType(category='Source', provider='S3'),\n"
        "        configuration={'S3Bucket': 'b', 'S3ObjectKey': 'k.zip'})]),\n"
        "    pw.Stage(name='Build', actions=[pw.Action(name='Build', inputs=[pw.Artifact('Srcc')],\n"
        "        action_type=pw.ActionType(category='Build', provider='CodeBuild'),\n"
        "        configuration={'ProjectName': 'p'})])])\n"
    )
    result = cli("validate", "--format", "sarif", str(module))
    texts = [r["message"]["text"] for r in json.loads(result.stdout)["runs"][0]["results"]]
    hinted = [t for t in texts if " Hint: " in t]

    assert hinted, texts
    for text in hinted:
        message, _, hint = text.partition(" Hint: ")
        assert message.endswith((".", "?", "!")), text
        assert hint.endswith((".", "?", "!")), text


def test_validate_loads_neither_the_engine_nor_the_terminal_ui(tmp_path: Path) -> None:
    """Cold start: `pipeweaver validate` imports only what validation needs (commands load lazily)."""
    import subprocess
    import sys

    target = tmp_path / "p.json"
    target.write_text('{"name": "p"}')
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['pipeweaver', 'validate', sys.argv[1]]\n"
        "try:\n"
        "    runpy.run_module('pipeweaver', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = [m for m in ('pipeweaver.execution', 'pipeweaver.aws', 'rich', 'boto3', 'networkx') if m in sys.modules]\n"
        "print('LOADED', loaded)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, str(target)], capture_output=True, text=True, timeout=60)

    assert "LOADED []" in done.stdout, done.stdout + done.stderr
