"""Hints point at the fix a user would make, not at a rename that would make things worse."""

from __future__ import annotations

import pytest

import pipeweaver as pw
from pipeweaver import actions, lint

ROLE = "arn:aws:iam::123456789012:role/R"


def _pipeline(*stages: list[pw.Action]) -> pw.Pipeline:
    return pw.Pipeline(
        name="p",
        role_arn=ROLE,
        artifact_store=pw.ArtifactStore(location="bkt-artifacts"),
        stages=[pw.Stage(name=f"S{i}", actions=acts) for i, acts in enumerate(stages)],
    )


def _hints(pipeline: pw.Pipeline, code: str) -> list[str | None]:
    return [i.hint for i in lint(pipeline) if i.code == code]


def test_undeclared_namespace_names_the_action_that_emits_the_variable() -> None:
    """#{SourceVariables.ETag} with an S3 source lacking a namespace: set the namespace, not 'variables'."""
    source = actions.s3_source("Source", bucket="bkt-a", object_key="k.zip")
    build = actions.codebuild(
        "Build", project_name="p", input=source.output(), environment_variables={"E": "#{SourceVariables.ETag}"}
    )
    hints = _hints(_pipeline([source], [build]), "PW301")

    assert [
        "set namespace 'SourceVariables' on action 'Source' (S3 emits ETag): "
        'namespace="SourceVariables" in Python, Namespace: SourceVariables in CloudFormation, '
        '"namespace": "SourceVariables" in JSON'
    ] == hints


def test_a_reference_under_the_wrong_namespace_names_the_right_one() -> None:
    """#{Build.VersionId} where the S3 source emits VersionId under 'SourceVars': use that namespace."""
    source = actions.s3_source("Source", bucket="bkt-a", object_key="k.zip", namespace="SourceVars")
    build = actions.codebuild(
        "Build", project_name="p", input=source.output(), environment_variables={"V": "#{Build.VersionId}"}
    )

    assert [
        "did you mean #{SourceVars.VersionId}? (the action that emits VersionId has namespace 'SourceVars')"
    ] == _hints(_pipeline([source], [build]), "PW301")


def test_undeclared_namespace_suggests_reserved_names_only_for_a_case_slip() -> None:
    """#{Variables.env} is a case slip of 'variables'; #{SourceVariables.X} with no emitter is not."""
    source = actions.s3_source("Source", bucket="bkt-a", object_key="k.zip")
    build = actions.codebuild(
        "Build",
        project_name="p",
        input=source.output(),
        environment_variables={"A": "#{Variables.env}", "B": "#{SourceVariables.Nothing}"},
    )
    hints = _hints(_pipeline([source], [build]), "PW301")

    assert "did you mean 'variables'?" in hints
    unrelated = [h for h in hints if h != "did you mean 'variables'?"]
    assert 1 == len(unrelated)
    assert unrelated[0] is not None
    assert "set namespace 'SourceVariables' on the action that produces Nothing" in unrelated[0]


def test_artifact_path_and_input_typos_point_the_same_way() -> None:
    """TemplatePath App::x with input 'Ap' (App is produced): both hints say the input should be 'App'."""
    source = actions.s3_source("Source", bucket="bkt-a", object_key="k.zip")
    build = actions.codebuild("Build", project_name="p", input=source.output(), outputs=["App"])
    deploy = pw.Action(
        name="Deploy",
        action_type=pw.ActionType(category="Deploy", provider="CloudFormation"),
        configuration={"ActionMode": "CREATE_UPDATE", "StackName": "s", "TemplatePath": "App::x.yaml", "RoleArn": ROLE},
        inputs=[pw.Artifact("Ap")],
    )
    pipeline = _pipeline([source], [build], [deploy])

    assert ["input artifact 'Ap' is produced by no action: rename it to 'App'"] == _hints(pipeline, "PW221")
    assert ["did you mean 'App'?"] == _hints(pipeline, "PW208")


def test_artifact_path_to_a_produced_artifact_missing_from_inputs_says_add_it() -> None:
    """With the right inputs but App left out, the hint says to add App to the action's inputs."""
    source = actions.s3_source("Source", bucket="bkt-a", object_key="k.zip")
    build = actions.codebuild("Build", project_name="p", input=source.output(), outputs=["App"])
    deploy = pw.Action(
        name="Deploy",
        action_type=pw.ActionType(category="Deploy", provider="CloudFormation"),
        configuration={"ActionMode": "CREATE_UPDATE", "StackName": "s", "TemplatePath": "App::x.yaml", "RoleArn": ROLE},
        inputs=[source.output()],
    )
    assert ["add 'App' to the input artifacts of action 'Deploy'"] == _hints(
        _pipeline([source], [build], [deploy]), "PW221"
    )


@pytest.mark.parametrize(
    "action",
    [
        actions.manual_approval("Approve"),
        actions.s3_deploy("Ship", bucket="bkt-site", extract=True, input="Site"),
        actions.pipeline_invoke("Next", pipeline_name="other"),
    ],
    ids=["manual-approval", "s3-deploy", "pipeline-invoke"],
)
def test_output_of_an_action_that_can_never_have_one_says_so(action: pw.Action) -> None:
    """A Manual approval or an S3 deploy produces no artifact: no advice to declare one, or to name one."""
    with pytest.raises(pw.DefinitionError) as info:
        action.output()

    kind = f"{action.category}/{action.owner}/{action.provider}"
    assert f"output() of action {action.name!r} ({kind}): " in info.value.message
    assert "produce no output artifact, so there is nothing to pass on" in info.value.message
    assert info.value.hint is not None
    assert "earlier action" in info.value.hint
    assert "output=" not in str(info.value)
    assert "output(name=" not in str(info.value)


@pytest.mark.parametrize(
    ("action", "keyword"),
    [
        (actions.codebuild("Build", project_name="p", input="Src"), "outputs=['BuildOutput']"),
        (actions.commands("Cmd", commands=["make"], input="Src"), "output='CmdOutput'"),
        (
            pw.Action(name="Mine", action_type=pw.ActionType(category="Build", owner="Custom", provider="Mine")),
            "outputs=['MineOutput']",
        ),
    ],
    ids=["codebuild", "commands", "custom"],
)
def test_output_of_an_action_that_may_have_one_names_the_keyword_to_declare_it(action: pw.Action, keyword: str) -> None:
    """The factory keyword fits the provider (output= for one artifact, outputs= for several), and pw.Action's too."""
    with pytest.raises(pw.DefinitionError) as info:
        action.output()

    assert f"action {action.name!r}" in info.value.message
    assert "declares no output artifact" in info.value.message
    assert info.value.hint is not None
    assert f"{keyword} in its typed factory" in info.value.hint
    assert f"outputs=[pw.Artifact('{action.name}Output')] in pw.Action(...)" in info.value.hint
    assert str(info.value).endswith(f"\n    hint: {info.value.hint}")


def test_output_of_an_action_with_several_outputs_asks_for_a_name() -> None:
    """Several outputs: pick one by name."""
    source = actions.s3_source("Source", bucket="bkt-a", object_key="k.zip")
    build = actions.codebuild("Build", project_name="p", input=source.output(), outputs=["App", "Docs"])
    with pytest.raises(pw.DefinitionError, match=r"has 2 outputs; pick one with output\(name=\.\.\.\)"):
        build.output()
    assert "Docs" == build.output("Docs").name


def test_pipeline_variable_as_a_codebuild_environment_value_is_not_an_injection() -> None:
    """environment_variables={"DEPLOY_ENV": env.ref} is the documented channel: no PW701 there."""
    env = pw.Variable(name="deploy_env", default_value="staging")
    source = actions.s3_source("Source", bucket="bkt-a", object_key="k.zip", namespace="SourceVariables")
    build = actions.codebuild(
        "Build",
        project_name="p",
        input=source.output(),
        environment_variables={"DEPLOY_ENV": env.ref, "MSG": source.variable("ETag")},
    )
    pipeline = pw.Pipeline(
        name="p",
        pipeline_type="V2",
        variables=[env],
        role_arn=ROLE,
        artifact_store=pw.ArtifactStore(location="bkt-artifacts"),
        stages=[pw.Stage(name="Source", actions=[source]), pw.Stage(name="Build", actions=[build])],
    )
    assert [] == [i for i in lint(pipeline) if i.code == "PW701"]


def test_variable_in_shell_text_is_still_an_injection() -> None:
    """The same variable interpolated into a buildspec override or outside a value still warns."""
    source = actions.s3_source("Source", bucket="bkt-a", object_key="k.zip", namespace="SourceVariables")
    build = pw.Action(
        name="Build",
        action_type=pw.ActionType(category="Build", provider="CodeBuild"),
        configuration={
            "ProjectName": "p",
            "BuildspecOverride": "version: 0.2\\nphases:\\n  build:\\n    commands:\\n      - echo #{variables.x}",
            "EnvironmentVariables": '[{"name":"#{variables.x}","value":"v","type":"PLAINTEXT"}]',
        },
        inputs=[source.output()],
    )
    pipeline = pw.Pipeline(
        name="p",
        pipeline_type="V2",
        variables=[pw.Variable(name="x", default_value="1")],
        role_arn=ROLE,
        artifact_store=pw.ArtifactStore(location="bkt-artifacts"),
        stages=[pw.Stage(name="Source", actions=[source]), pw.Stage(name="Build", actions=[build])],
    )
    flagged = sorted(i.path.rsplit(".", 1)[-1] for i in lint(pipeline) if i.code == "PW701")
    assert ["BuildspecOverride", "EnvironmentVariables"] == flagged
