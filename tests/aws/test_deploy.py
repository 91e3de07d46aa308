"""deploy, diff and fetch against moto's CodePipeline, IAM, S3 and KMS (in-process, no network)."""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

import attrs
import pytest
from botocore.stub import Stubber

import pipeweaver as pw
from pipeweaver import _names
from pipeweaver.aws import deploy, diff, fetch
from pipeweaver.aws._deploy import compare
from pipeweaver.synth import to_codepipeline

from .conftest import stubbed


def count_calls(client: Any) -> Counter[str]:
    """Count every operation the client sends, through botocore's own event hooks."""
    calls: Counter[str] = Counter()

    def hook(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    client.meta.events.register("before-call.codepipeline", hook)
    return calls


@pytest.fixture(name="pipeline")
def _pipeline(sample: pw.Pipeline, role_arn: str, s3: Any) -> pw.Pipeline:
    return attrs.evolve(sample, role_arn=role_arn, tags={"team": "web"})


def with_project(pipeline: pw.Pipeline, project: str) -> pw.Pipeline:
    stage = pipeline.stage("Build")
    build = attrs.evolve(stage.action("Build"), configuration={"ProjectName": project})
    new_stage = attrs.evolve(stage, actions=[build, stage.action("UnitTest")])
    return attrs.evolve(pipeline, stages=[new_stage if s.name == "Build" else s for s in pipeline.stages])


def test_deploy_then_fetch_gives_an_equal_model(pipeline: pw.Pipeline, cp: Any) -> None:
    """A created pipeline reads back as a model equal to the one deployed, tags included."""
    result = deploy(pipeline, client=cp)

    assert (True, False, 1) == (result.created, result.updated, result.version)
    assert pipeline == fetch("web", client=cp)
    assert {"team": "web"} == fetch("web", client=cp).tags


def test_second_deploy_of_the_same_model_sends_no_update(pipeline: pw.Pipeline, cp: Any) -> None:
    """Deploying an unchanged model twice makes exactly one CreatePipeline and no UpdatePipeline."""
    calls = count_calls(cp)
    deploy(pipeline, client=cp)
    again = deploy(pipeline, client=cp)

    assert (False, False, 1, ()) == (again.created, again.updated, again.version, again.changes)
    assert 1 == calls["CreatePipeline"]
    assert 0 == calls["UpdatePipeline"]
    assert 0 == calls["TagResource"]
    assert ["web"] == [p["name"] for p in cp.list_pipelines()["pipelines"]]


def test_diff_names_exactly_the_changed_paths(pipeline: pw.Pipeline, cp: Any) -> None:
    """After one configuration value and the execution mode change, diff lists those two paths only."""
    deploy(pipeline, client=cp)
    changed = attrs.evolve(with_project(pipeline, "web-build-v2"), execution_mode="QUEUED", pipeline_type="V2")

    found = diff(changed, client=cp)

    assert ["executionMode", "pipelineType", "stages[1].actions[0].configuration.ProjectName"] == sorted(found.paths)
    project = next(c for c in found if c.path.endswith("ProjectName"))
    assert ("changed", "Build", "Build", "web-build", "web-build-v2") == (
        project.kind,
        project.stage,
        project.action,
        project.before,
        project.after,
    )
    assert "~ stages[1].actions[0].configuration.ProjectName: 'web-build' -> 'web-build-v2'" in str(found)


def test_update_bumps_the_version_and_leaves_nothing_to_diff(pipeline: pw.Pipeline, cp: Any) -> None:
    """A changed model is sent with UpdatePipeline; afterwards diff is empty and fetch matches."""
    deploy(pipeline, client=cp)
    changed = with_project(pipeline, "web-build-v2")

    result = deploy(changed, client=cp)

    assert (False, True, 2) == (result.created, result.updated, result.version)
    assert ["stages[1].actions[0].configuration.ProjectName"] == [c.path for c in result.changes]
    assert not diff(changed, client=cp)
    assert changed == fetch("web", client=cp)


def test_diff_reports_added_and_removed_stages_and_actions(pipeline: pw.Pipeline, cp: Any) -> None:
    """Stages and actions are matched by name: new ones are added, missing ones removed."""
    deploy(pipeline, client=cp)
    approve = pw.Action(name="Approve", action_type=pw.ActionType(category="Approval", provider="Manual"))
    gate = pw.Stage(name="Gate", actions=[approve])
    build = pipeline.stage("Build")
    slim = attrs.evolve(build, actions=[build.action("Build")])
    changed = attrs.evolve(pipeline, stages=[pipeline.stages[0], slim, gate, pipeline.stages[2]])

    found = diff(changed, client=cp)

    assert [("removed", "stages[1].actions[1]", "UnitTest"), ("added", "stages[2]", None)] == [
        (c.kind, c.path, c.action) for c in found
    ]
    assert "Gate" == found.changes[1].stage


def test_diff_of_a_missing_pipeline_says_it_would_be_created(pipeline: pw.Pipeline, cp: Any) -> None:
    """Before the first deploy the diff is truthy and says deploying creates the pipeline."""
    found = diff(pipeline, client=cp)

    assert (False, True) == (found.exists, bool(found))
    assert "pipeline web does not exist; deploying creates it" == str(found)


def test_invalid_pipeline_is_refused_before_any_call(pipeline: pw.Pipeline, cp: Any) -> None:
    """A pipeline breaking AWS's rules raises ValidationError listing the issue; nothing is sent."""
    calls = count_calls(cp)
    with _names.unchecked():
        bad = attrs.evolve(pipeline, name="web pipeline!")

    with pytest.raises(pw.ValidationError) as info:
        deploy(bad, client=cp)

    assert ["name"] == [i.path for i in info.value.issues if i.is_error]
    assert "was not deployed" in str(info.value)
    assert 0 == sum(calls.values())


def test_missing_role_becomes_a_readable_aws_error(sample: pw.Pipeline, cp: Any) -> None:
    """A role CodePipeline cannot assume surfaces as AwsError naming the operation and AWS's code."""
    with pytest.raises(pw.AwsError) as info:
        deploy(sample, client=cp)

    assert ("CreatePipeline", "InvalidStructureException") == (info.value.operation, info.value.code)
    assert "CodePipeline is not authorized to perform AssumeRole on role" in str(info.value)


def test_tags_are_added_to_an_existing_pipeline(pipeline: pw.Pipeline, cp: Any) -> None:
    """Tags passed to a later deploy are added with TagResource, without an UpdatePipeline."""
    deploy(pipeline, client=cp)
    calls = count_calls(cp)

    result = deploy(pipeline, client=cp, tags={"cost-center": "42"})

    assert (1, 0) == (calls["TagResource"], calls["UpdatePipeline"])
    assert ['tags["cost-center"]'] == [c.path for c in result.changes]
    assert {"team": "web", "cost-center": "42"} == fetch("web", client=cp).tags


def test_deleted_pipeline_cannot_be_fetched_and_deploys_again(pipeline: pw.Pipeline, cp: Any) -> None:
    """After DeletePipeline, fetch raises PipelineNotFoundException and deploy creates it anew."""
    deploy(pipeline, client=cp)
    cp.delete_pipeline(name="web")

    with pytest.raises(pw.AwsError) as info:
        fetch("web", client=cp)

    assert ("GetPipeline", "PipelineNotFoundException") == (info.value.operation, info.value.code)
    assert deploy(pipeline, client=cp).created


# -- secrets masked by GetPipeline ---------------------------------------------------------


def github_pipeline(role_arn: str, token: str) -> pw.Pipeline:
    src = pw.Artifact("Src")
    source = pw.Action(
        name="GitHub",
        action_type=pw.ActionType(category="Source", owner="ThirdParty", provider="GitHub"),
        configuration={"Owner": "acme", "Repo": "web", "Branch": "main", "OAuthToken": token},
        outputs=[src],
    )
    build = pw.Action(
        name="Build",
        action_type=pw.ActionType(category="Build", provider="CodeBuild"),
        configuration={"ProjectName": "web"},
        inputs=[src],
    )
    return pw.Pipeline(
        name="gh",
        role_arn=role_arn,
        artifact_store=pw.ArtifactStore(location="my-artifact-bucket"),
        stages=[pw.Stage(name="Source", actions=[source]), pw.Stage(name="Build", actions=[build])],
    )


ROLE = "arn:aws:iam::123456789012:role/PipelineRole"


def live_masked(pipeline: pw.Pipeline, version: int = 3) -> dict[str, Any]:
    """What GetPipeline returns for *pipeline*: defaults filled, the secret masked."""
    declaration = copy.deepcopy(to_codepipeline(pipeline))
    declaration["stages"][0]["actions"][0]["configuration"]["OAuthToken"] = "****"
    declaration["version"] = version
    return {"pipeline": declaration, "metadata": {"pipelineArn": "arn:aws:codepipeline:us-east-1:123456789012:gh"}}


def test_masked_secret_sent_back_as_mask_is_no_change() -> None:
    """A local `****` against a live `****` compares equal."""
    masked = github_pipeline(ROLE, "****")

    assert [] == compare(to_codepipeline(masked), live_masked(masked)["pipeline"])


def test_clear_secret_against_a_mask_is_unknown_and_never_printed() -> None:
    """A clear local secret against `****` is an `unknown` change whose record holds no secret."""
    clear = github_pipeline(ROLE, "ghp_supersecret")

    changes = compare(to_codepipeline(clear), live_masked(clear)["pipeline"])

    assert [("unknown", "stages[0].actions[0].configuration.OAuthToken")] == [(c.kind, c.path) for c in changes]
    assert "ghp_supersecret" not in repr(changes) + str(changes[0])


def test_unknown_secret_alone_does_not_update_but_can_be_forced() -> None:
    """Only `update_secrets=True` sends UpdatePipeline when a masked secret is the sole difference."""
    clear = github_pipeline(ROLE, "ghp_supersecret")
    client = stubbed("codepipeline")
    with Stubber(client) as stub:
        stub.add_response("get_pipeline", live_masked(clear), {"name": "gh"})
        result = deploy(clear, client=client)
        stub.assert_no_pending_responses()

        updated = {**to_codepipeline(clear), "version": 4}
        stub.add_response("get_pipeline", live_masked(clear), {"name": "gh"})
        stub.add_response("update_pipeline", {"pipeline": updated}, {"pipeline": to_codepipeline(clear)})
        forced = deploy(clear, client=client, update_secrets=True)
        stub.assert_no_pending_responses()

    assert (False, 3) == (result.updated, result.version)
    assert (True, 4) == (forced.updated, forced.version)


def test_mask_on_a_new_action_is_refused_with_aws_message(role_arn: str, cp: Any) -> None:
    """`****` on an action that does not exist live is refused before CreatePipeline is sent."""
    calls = count_calls(cp)

    with pytest.raises(pw.AwsError) as info:
        deploy(github_pipeline(role_arn, "****"), client=cp)

    assert (
        'CreatePipeline was not sent: Action configuration for the new action "GitHub" contains an invalid '
        'configuration for the secret property "OAuthToken". "****" may be used in secret properties only when '
        "updating an existing action."
    ) == str(info.value)
    assert 0 == calls["CreatePipeline"]


def test_disabled_transitions_are_applied_once(sample: pw.Pipeline) -> None:
    """A listed transition enabled live is disabled after the create; a later deploy finds it disabled and sends nothing."""
    gated = attrs.evolve(sample, disabled_transitions={"Deploy": "Freeze until Monday"})
    declaration = to_codepipeline(gated)
    client = stubbed("codepipeline")

    def state(enabled: bool) -> dict[str, Any]:
        stages = [
            {"stageName": s.name, "inboundTransitionState": {"enabled": enabled or s.name != "Deploy"}}
            for s in gated.stages
        ]
        return {"pipelineName": "web", "stageStates": stages}

    with Stubber(client) as stub:
        stub.add_client_error(
            "get_pipeline", "PipelineNotFoundException", "no pipeline web", expected_params={"name": "web"}
        )
        stub.add_response("create_pipeline", {"pipeline": {**declaration, "version": 1}}, {"pipeline": declaration})
        stub.add_response("get_pipeline_state", state(True), {"name": "web"})
        stub.add_response(
            "disable_stage_transition",
            {},
            {
                "pipelineName": "web",
                "stageName": "Deploy",
                "transitionType": "Inbound",
                "reason": "Freeze until Monday",
            },
        )
        created = deploy(gated, client=client)
        stub.add_response("get_pipeline", {"pipeline": {**declaration, "version": 1}}, {"name": "web"})
        stub.add_response("get_pipeline_state", state(False), {"name": "web"})
        again = deploy(gated, client=client)
        stub.assert_no_pending_responses()

    assert ["disabledTransitions.Deploy"] == [c.path for c in created.changes]
    assert (True, False, ()) == (created.changed, again.changed, again.changes)


def test_added_action_records_never_hold_a_documented_secret() -> None:
    """An added GitHub v1 action's OAuthToken is masked in its Change, and repr() shows no values."""
    live = to_codepipeline(github_pipeline(ROLE, "****"))
    live["stages"][0]["actions"] = []
    changes = compare(to_codepipeline(github_pipeline(ROLE, "ghp_supersecret")), live)

    added = next(c for c in changes if c.kind == "added")
    assert ("stages[0].actions[0]", "****") == (added.path, added.after["configuration"]["OAuthToken"])
    assert "ghp_supersecret" not in repr(changes) + "".join(str(c) for c in changes)


def without_token(pipeline: pw.Pipeline) -> pw.Pipeline:
    """*pipeline* with the GitHub action's OAuthToken left out (a live action that has none)."""
    stage = pipeline.stages[0]
    source = stage.actions[0]
    config = {k: v for k, v in source.configuration.items() if k != "OAuthToken"}
    return attrs.evolve(
        pipeline,
        stages=[attrs.evolve(stage, actions=[attrs.evolve(source, configuration=config)]), *pipeline.stages[1:]],
    )


def test_adding_a_secret_to_a_live_action_never_prints_it(role_arn: str, cp: Any, s3: Any) -> None:
    """diff and deploy of an OAuthToken added to a live action (moto) hold `****`, never the token, in every record."""
    # the live action has no token yet (created directly: lint requires one in a model)
    cp.create_pipeline(pipeline=to_codepipeline(without_token(github_pipeline(role_arn, "x"))))
    clear = github_pipeline(role_arn, "ghp_CANARYadded42")

    found = diff(clear, client=cp)
    result = deploy(clear, client=cp)

    token = next(c for c in found if c.path.endswith("OAuthToken"))
    assert ("added", "****") == (token.kind, token.after)
    printed = str(found) + repr(found) + "".join(f"{c}{c.before}{c.after}" for c in [*found, *result.changes])
    assert "CANARYadded42" not in printed
    assert result.updated


def test_custom_secret_properties_are_masked_in_every_record() -> None:
    """A custom action type's secret property is `****` in added, changed and removed records (Stubber)."""
    custom = pw.ActionType(category="Deploy", owner="Custom", provider="Vault", version="1")

    def pipeline(key: str, extra: bool) -> pw.Pipeline:
        base = github_pipeline(ROLE, "****")
        config = {"Target": "prod", "ApiKey": key}
        actions = [pw.Action(name="Push", action_type=custom, configuration=config, inputs=[pw.Artifact("Src")])]
        if extra:
            actions.append(attrs.evolve(actions[0], name="Push2", run_order=2))
        return attrs.evolve(base, stages=[*base.stages, pw.Stage(name="Ship", actions=actions)])

    live = {"pipeline": {**to_codepipeline(pipeline("key-CANARYold11", extra=True)), "version": 2}}
    live["pipeline"]["stages"][0]["actions"][0]["configuration"]["OAuthToken"] = "****"
    client = stubbed("codepipeline")
    with Stubber(client) as stub:
        stub.add_response("get_pipeline", live, {"name": "gh"})
        found = diff(pipeline("key-CANARYnew22", extra=False), client=client, secret_properties={"ApiKey"})
        stub.add_response("get_pipeline", live, {"name": "gh"})
        bare = diff(pipeline("key-CANARYnew22", extra=False), client=client)
        stub.assert_no_pending_responses()

    kinds = sorted((c.kind, c.path) for c in found)
    assert ("changed", "stages[2].actions[0].configuration.ApiKey") in kinds
    assert ("removed", "stages[2].actions[1]") in kinds
    printed = str(found) + "".join(f"{c.before}{c.after}" for c in found)
    assert "CANARY" not in printed, printed
    assert "CANARYnew22" in "".join(f"{c.after}" for c in bare)  # only named secret properties are masked
