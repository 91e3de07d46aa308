"""A simulated CloudFormation deploy publishes its stack's outputs as variables, as CodePipeline does.

Locally no stack exists: each output is worked out from the template with the run's parameters,
or given by the user (``stack_outputs``); one that only the real stack knows is never an empty
value: a reference to it fails, naming the setting that supplies it.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pipeweaver as pw
from pipeweaver.execution import ActionStatus, LocalExecutor

from .conftest import SRC, source_then

ACTION = "https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CloudFormation.html"
OVERRIDES = (
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/"
    "continuous-delivery-codepipeline-parameter-override-functions.html"
)
PROPERTIES = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/continuous-delivery-codepipeline-action-reference.html"

TEMPLATE = textwrap.dedent(
    """\
    Parameters:
      Env:
        Type: String
        Default: dev
      Domain:
        Type: String
      Tier:
        Type: String
        Default: small
    Mappings:
      Sizes:
        small: {Memory: "512"}
        large: {Memory: "2048"}
    Resources:
      Api:
        Type: AWS::ApiGateway::RestApi
        Properties:
          Name: !Sub "${AWS::StackName}-api"
    Outputs:
      ApiUrl:
        Value: !Sub "https://${Env}.${Domain}/v1"
      Stack:
        Value: !Ref AWS::StackName
      Memory:
        Value: !FindInMap [Sizes, !Ref Tier, Memory]
      Hosts:
        Value: !Join [",", [!Ref Env, !Select [0, !Split [".", !Ref Domain]]]]
      ApiId:
        Value: !Ref Api
      ApiArn:
        Value: !GetAtt Api.Arn
    """
)


def _deploy(mode: str = "CREATE_UPDATE", run_order: int = 1, **configuration: str) -> pw.Action:
    config = {"ActionMode": mode, "StackName": "web", "RoleArn": "arn:aws:iam::123456789012:role/cfn"}
    if mode != "CHANGE_SET_EXECUTE":
        config["TemplatePath"] = "Src::template.yaml"
    return pw.Action(
        name="Deploy",
        action_type=pw.ActionType(category="Deploy", provider="CloudFormation"),
        configuration={**config, **configuration},
        inputs=[SRC],
        namespace="DeployVars",
        outputs=[pw.Artifact("StackOut")] if "OutputFileName" in configuration else [],
        run_order=run_order,
    )


def _use(*references: str) -> pw.Action:
    return pw.Action(
        name="Use",
        action_type=pw.ActionType(category="Compute", provider="Commands"),
        commands=[f"echo {ref}" for ref in references],
        inputs=[SRC],
    )


def _run(tmp_path: Path, *stages: pw.Stage, **kwargs: Any) -> pw.execution.Execution:
    src = tmp_path / "src"
    src.mkdir()
    (src / "template.yaml").write_text(TEMPLATE)
    (src / "config.json").write_text(json.dumps({"Parameters": {"Domain": "example.org", "Env": "stage"}}))
    with LocalExecutor(tmp_path / "wd", sources={"Source": src}, **kwargs) as x:
        return x.run(source_then(*stages, pipeline_type="V2"))


def test_outputs_are_worked_out_from_the_template_with_the_runs_parameters(tmp_path: Path) -> None:
    """AWS CloudFormation deploy action reference (ACTION): the action's variables are the stack's outputs.

    Parameters come from the template's defaults, then TemplateConfiguration, then
    ParameterOverrides, which override the file (OVERRIDES); Sub, Ref, FindInMap, Join, Select
    and Split are evaluated.

    Local: simulated: no stack is deployed; the outputs are worked out from the template with the
    run's parameters, and the action's summary says so.
    """
    deploy = _deploy(TemplateConfiguration="Src::config.json", ParameterOverrides='{"Env": "prod"}')

    e = _run(
        tmp_path,
        pw.Stage(name="Deploy", actions=[deploy]),
        pw.Stage(name="Use", actions=[_use("#{DeployVars.ApiUrl}")]),
    )

    assert e.succeeded, e.status_summary
    record = e.action("Deploy", "Deploy")
    assert {
        "ApiUrl": "https://prod.example.org/v1",
        "Stack": "web",
        "Memory": "512",
        "Hosts": "prod,example",
    } == dict(record.output_variables)
    assert "simulated stack outputs ['ApiUrl', 'Hosts', 'Memory', 'Stack']" in (record.summary or "")
    assert "https://prod.example.org/v1" in Path(e.action("Use", "Use").log_file or "").read_text()


def test_an_output_only_the_stack_knows_fails_its_reference_naming_the_override(tmp_path: Path) -> None:
    """AWS CloudFormation deploy action reference (ACTION): a resource's Fn::GetAtt is known only once deployed.

    The deploy succeeds; the action that reads ``#{DeployVars.ApiArn}`` fails saying where the
    value comes from and the setting that gives it, never reading an empty value.

    Local: refused: a reference to an output only the real stack knows fails, naming the
    ``stack_outputs=`` / ``--stack-output`` setting that gives it.
    """
    deploy = _deploy(ParameterOverrides='{"Domain": "example.org"}')

    e = _run(
        tmp_path,
        pw.Stage(name="Deploy", actions=[deploy]),
        pw.Stage(name="Use", actions=[_use("#{DeployVars.ApiArn}")]),
    )

    assert ActionStatus.SUCCEEDED == e.action("Deploy", "Deploy").status
    assert (
        "variable #{DeployVars.ApiArn} cannot be resolved: output ApiArn of stack web comes from Fn::GetAtt "
        "Api.Arn (an attribute of a deployed resource), which a simulated deploy cannot know; give it with "
        "LocalExecutor(stack_outputs={'web': {'ApiArn': '...'}}), LocalEmulation(stack_outputs=...) or "
        "pipeweaver run --stack-output web.ApiArn=VALUE"
    ) == e.action("Use", "Use").error


def test_outputs_given_by_the_user_are_published_beside_the_computed_ones(tmp_path: Path) -> None:
    """AWS CloudFormation deploy action reference (ACTION): the action's variables are the stack's outputs.

    Local: simulated: outputs the user gives (``stack_outputs=``) are published beside the computed
    ones, and a given value wins over a computed one.
    """
    deploy = _deploy(ParameterOverrides='{"Domain": "example.org"}')
    given = {"web": {"ApiArn": "arn:aws:apigateway:us-east-1::/restapis/abc", "ApiId": "abc", "Stack": "real-web"}}

    e = _run(
        tmp_path,
        pw.Stage(name="Deploy", actions=[deploy]),
        pw.Stage(name="Use", actions=[_use("#{DeployVars.ApiArn}", "#{DeployVars.ApiId}")]),
        stack_outputs=given,
    )

    assert e.succeeded, e.status_summary
    variables = dict(e.action("Deploy", "Deploy").output_variables)
    assert ("abc", "real-web", "https://dev.example.org/v1") == (
        variables["ApiId"],
        variables["Stack"],
        variables["ApiUrl"],
    )


def test_a_parameter_without_a_value_fails_the_deploy_as_cloudformation_does(tmp_path: Path) -> None:
    """AWS CloudFormation configuration properties (PROPERTIES): a parameter with no default needs a value."""
    e = _run(tmp_path, pw.Stage(name="Deploy", actions=[_deploy()]))

    assert (
        "Parameters: ['Domain'] must have values (give them in ParameterOverrides or TemplateConfiguration)"
    ) == e.action("Deploy", "Deploy").error


def test_a_change_set_publishes_its_outputs_when_it_executes(tmp_path: Path) -> None:
    """AWS CloudFormation deploy action reference (ACTION): CHANGE_SET_REPLACE prepares, CHANGE_SET_EXECUTE deploys.

    The replace action's variables are the stack as it is (unknown locally); the execute
    action's are the outputs of the template its change set holds.
    """
    prepare = pw.Action(
        name="Prepare",
        action_type=pw.ActionType(category="Deploy", provider="CloudFormation"),
        configuration={
            "ActionMode": "CHANGE_SET_REPLACE",
            "StackName": "web",
            "ChangeSetName": "next",
            "TemplatePath": "Src::template.yaml",
            "ParameterOverrides": '{"Domain": "example.org"}',
            "RoleArn": "arn:aws:iam::123456789012:role/cfn",
        },
        inputs=[SRC],
        namespace="Prepared",
    )
    execute = _deploy("CHANGE_SET_EXECUTE", run_order=2, ChangeSetName="next")

    e = _run(
        tmp_path,
        pw.Stage(name="Deploy", actions=[prepare, execute]),
        pw.Stage(name="Use", actions=[_use("#{DeployVars.ApiUrl}")]),
    )

    assert e.succeeded, e.status_summary
    assert {} == dict(e.action("Deploy", "Prepare").output_variables)
    assert "https://dev.example.org/v1" == e.action("Deploy", "Deploy").output_variables["ApiUrl"]


def test_output_file_name_holds_the_simulated_outputs(tmp_path: Path) -> None:
    """AWS CloudFormation configuration properties (PROPERTIES): OutputFileName receives the stack's outputs as JSON.

    Local: simulated: the file holds the outputs worked out from the template.
    """
    check = pw.Action(
        name="Check",
        action_type=pw.ActionType(category="Compute", provider="Commands"),
        commands=['grep -q \'"ApiUrl": "https://dev.example.org/v1"\' outputs.json'],
        inputs=[pw.Artifact("StackOut")],
    )

    e = _run(
        tmp_path,
        pw.Stage(
            name="Deploy",
            actions=[_deploy(ParameterOverrides='{"Domain": "example.org"}', OutputFileName="outputs.json")],
        ),
        pw.Stage(name="Use", actions=[check]),
    )

    assert e.succeeded, e.status_summary
