"""`pipeweaver run --stack-output STACK.OUTPUT=VALUE` and `--alarm NAME=STATE`: what only AWS knows, given."""

from __future__ import annotations

import textwrap
from pathlib import Path

from .conftest import Cli

PIPELINE = textwrap.dedent(
    """\
    import pipeweaver as pw
    from pipeweaver import actions

    SRC = pw.Artifact("SourceOutput")
    pipeline = pw.Pipeline(
        name="stack-demo",
        role_arn="arn:aws:iam::123456789012:role/p",
        artifact_store=pw.ArtifactStore(location="bucket"),
        pipeline_type="V2",
        stages=[
            pw.Stage(name="Source", actions=[actions.s3_source("Source", bucket="b", object_key="k.zip")]),
            pw.Stage(
                name="Deploy",
                actions=[
                    pw.Action(
                        name="Stack",
                        action_type=pw.ActionType(category="Deploy", provider="CloudFormation"),
                        configuration={
                            "ActionMode": "CREATE_UPDATE",
                            "StackName": "web",
                            "TemplatePath": "SourceOutput::template.yaml",
                            "RoleArn": "arn:aws:iam::123456789012:role/cfn",
                        },
                        inputs=[SRC],
                        namespace="DeployVars",
                    ),
                    pw.Action(
                        name="Use",
                        action_type=pw.ActionType(category="Compute", provider="Commands"),
                        commands=["echo url=#{DeployVars.Url}"],
                        inputs=[SRC],
                        run_order=2,
                    ),
                ],
            ),
        ],
    )
    """
)

TEMPLATE = """\
Resources:
  Bucket:
    Type: AWS::S3::Bucket
Outputs:
  Url:
    Value: !GetAtt Bucket.WebsiteURL
"""


def test_stack_output_flag_fills_an_output_only_the_stack_knows(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "template.yaml").write_text(TEMPLATE)
    (tmp_path / "pipe.py").write_text(PIPELINE)

    without = cli("run", "pipe.py", "--plain", "--source", "Source=app", "--workdir", "a", cwd=tmp_path)
    given = cli(
        "run",
        "pipe.py",
        "--plain",
        "--source",
        "Source=app",
        "--stack-output",
        "web.Url=http://site.example",
        "--workdir",
        "b",
        cwd=tmp_path,
    )
    bad = cli("run", "pipe.py", "--plain", "--stack-output", "Url=x", cwd=tmp_path)

    assert 1 == without.returncode
    assert "--stack-output web.Url=VALUE" in without.stdout
    assert 0 == given.returncode, given.stdout + given.stderr
    assert "url=http://site.example" in given.stdout
    assert "--stack-output Url=x: write STACK.OUTPUT=VALUE" in bad.stderr


def test_alarm_flag_gives_a_cloudwatch_alarm_rule_its_state(cli: Cli, tmp_path: Path) -> None:
    pipeline = textwrap.dedent(
        """\
        import pipeweaver as pw
        from pipeweaver import actions

        SRC = pw.Artifact("SourceOutput")
        rule = pw.Rule(
            name="Errors", rule_type=pw.RuleType(provider="CloudWatchAlarm"), configuration={"AlarmName": "errors"}
        )
        pipeline = pw.Pipeline(
            name="alarm-demo",
            role_arn="arn:aws:iam::123456789012:role/p",
            artifact_store=pw.ArtifactStore(location="bucket"),
            pipeline_type="V2",
            stages=[
                pw.Stage(name="Source", actions=[actions.s3_source("Source", bucket="b", object_key="k.zip")]),
                pw.Stage(
                    name="Deploy",
                    actions=[
                        pw.Action(
                            name="Use",
                            action_type=pw.ActionType(category="Compute", provider="Commands"),
                            commands=["echo deployed"],
                            inputs=[SRC],
                        )
                    ],
                    before_entry=pw.BeforeEntryConditions(conditions=pw.Condition(result="FAIL", rules=[rule])),
                ),
            ],
        )
        """
    )
    (tmp_path / "app").mkdir()
    (tmp_path / "pipe.py").write_text(pipeline)
    base = ("run", "pipe.py", "--plain", "--source", "Source=app")

    ok = cli(*base, "--alarm", "errors=OK", "--workdir", "a", cwd=tmp_path)
    alarm = cli(*base, "--alarm", "errors=ALARM", "--workdir", "b", cwd=tmp_path)
    bad = cli(*base, "--alarm", "errors=RED", cwd=tmp_path)

    assert 0 == ok.returncode, ok.stdout + ok.stderr
    assert 1 == alarm.returncode
    assert "beforeEntry condition of stage Deploy failed" in alarm.stdout
    assert "--alarm: alarm_states['errors'] is 'RED'" in bad.stderr
