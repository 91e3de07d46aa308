"""`pipeweaver run` runs anything: a file-level LOCAL = LocalEmulation(...), or --handler / --function flags."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from .conftest import Cli

PIPELINE = textwrap.dedent(
    """\
    import pipeweaver as pw
    from pipeweaver import actions

    pipeline = pw.Pipeline(
        name="custom-demo",
        role_arn="arn:aws:iam::123456789012:role/p",
        artifact_store=pw.ArtifactStore(location="bucket"),
        stages=[
            pw.Stage(name="Source", actions=[actions.s3_source("Source", bucket="b", object_key="k.zip")]),
            pw.Stage(
                name="Build",
                actions=[
                    pw.Action(
                        name="Jenkins",
                        action_type=pw.ActionType(category="Build", owner="Custom", provider="Jenkins"),
                        inputs=[pw.Artifact("SourceOutput")],
                        configuration={"ProjectName": "app"},
                    ),
                    actions.lambda_invoke("Notify", function_name="notify", run_order=2),
                ],
            ),
        ],
    )
    """
)

HOOKS = textwrap.dedent(
    """\
    def jenkins(ctx):
        ctx.log("built by the local stand-in for Jenkins")


    import boto3

    code_pipeline = boto3.client("codepipeline", region_name="us-east-1")


    def notify(event, context=None):
        job_id = event["CodePipeline.job"]["id"]
        code_pipeline.put_job_success_result(jobId=job_id, outputVariables={"status": "ok"})
    """
)

LOCAL = textwrap.dedent(
    """\

    from pipeweaver.execution import LocalEmulation
    import hooks

    LOCAL = LocalEmulation(
        sources={"Source": "app"},
        functions={"notify": hooks.notify},
        handlers={"Build/Custom/Jenkins/1": hooks.jenkins},
    )
    """
)


@pytest.fixture(name="project")
def _project(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "index.html").write_text("<h1>hi</h1>\n")
    (tmp_path / "hooks.py").write_text(HOOKS)
    return tmp_path


def test_a_local_emulation_in_the_file_runs_custom_actions_and_functions(cli: Cli, project: Path) -> None:
    """LOCAL's relative source folder is the file's neighbour, whatever the current folder is."""
    (project / "pipe.py").write_text(PIPELINE + LOCAL)
    elsewhere = project / "elsewhere"
    elsewhere.mkdir()

    done = cli("run", str(project / "pipe.py"), "--plain", "--workdir", str(project / ".pw"), cwd=elsewhere)

    assert 0 == done.returncode, done.stdout + done.stderr
    assert "Build/Jenkins: Succeeded" in done.stdout
    assert "Build/Notify: Succeeded" in done.stdout


def test_flags_give_what_the_file_does_not(cli: Cli, project: Path) -> None:
    (project / "pipe.py").write_text(PIPELINE)

    done = cli(
        "run",
        "pipe.py",
        "--plain",
        "--source",
        "Source=app",
        "--handler",
        "Build/Custom/Jenkins/1=hooks:jenkins",
        "--function",
        "notify=hooks:notify",
        cwd=project,
    )

    assert 0 == done.returncode, done.stdout + done.stderr
    assert "built by the local stand-in for Jenkins" in done.stdout


def test_a_missing_handler_names_the_flag_and_the_file_setting(cli: Cli, project: Path) -> None:
    (project / "pipe.py").write_text(PIPELINE)

    done = cli("run", "pipe.py", "--plain", "--source", "Source=app", cwd=project)

    assert 1 == done.returncode
    assert "--handler Build/Custom/Jenkins/1=module:callable" in done.stderr
    assert "LOCAL = LocalEmulation(handlers=" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_missing_function_names_the_flag_and_the_file_setting(cli: Cli, project: Path) -> None:
    (project / "pipe.py").write_text(PIPELINE)

    done = cli(
        "run", "pipe.py", "--plain", "--source", "Source=app", "--handler", "Build/Jenkins=hooks:jenkins", cwd=project
    )

    assert 1 == done.returncode
    assert "--function notify=module:callable" in done.stdout + done.stderr
    assert "LOCAL = LocalEmulation(functions=" in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("notify=hooks", "--function notify=hooks: write MODULE:CALLABLE"),
        ("notify=nosuchmodule:f", "--function notify=nosuchmodule:f: cannot import nosuchmodule"),
        ("notify=hooks:missing", "--function notify=hooks:missing: hooks has no callable 'missing'"),
    ],
)
def test_a_bad_function_flag_is_one_usage_error(cli: Cli, project: Path, flag: str, message: str) -> None:
    (project / "pipe.py").write_text(PIPELINE)

    done = cli("run", "pipe.py", "--function", flag, cwd=project)

    assert 2 == done.returncode
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_local_must_be_a_local_emulation(cli: Cli, project: Path) -> None:
    (project / "pipe.py").write_text(PIPELINE + "\nLOCAL = {'sources': {}}\n")

    done = cli("run", "pipe.py", cwd=project)

    assert 0 != done.returncode
    assert "LOCAL must be a pipeweaver.execution.LocalEmulation(" in done.stderr
