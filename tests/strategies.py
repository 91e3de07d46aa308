"""Hypothesis strategies that generate valid pipelines (V1 and V2).

Generated pipelines respect AWS's whole-pipeline rules: a source-only first stage, artifacts
produced strictly earlier, unique names and namespaces, parallel waves, cross-region stores,
and (for V2) variables, triggers on CodeStarSourceConnection sources and stage conditions.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

import pipeweaver as pw

NAME_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
names = st.text(alphabet=NAME_CHARS, min_size=1, max_size=12)
values = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=40)
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"]


@st.composite
def pipelines(draw: st.DrawFn, *, v2: bool | None = None, max_stages: int = 5) -> pw.Pipeline:
    """A valid pipeline: one source stage, then build/test/deploy/approval/invoke stages."""
    is_v2 = draw(st.booleans()) if v2 is None else v2
    counter = iter(range(10_000))

    def unique(prefix: str) -> str:
        return f"{prefix}{next(counter)}{draw(names)}"[:100]

    cross_region = draw(st.booleans())
    home = "us-east-1"

    # source stage
    sources: list[pw.Action] = []
    available: list[pw.Artifact] = []
    for _ in range(draw(st.integers(1, 2))):
        out = pw.Artifact(unique("Src"))
        kind = draw(st.sampled_from(["connection", "s3", "codecommit"]))
        if kind == "connection":
            action = pw.Action(
                name=unique("Source"),
                action_type=pw.ActionType(category="Source", provider="CodeStarSourceConnection"),
                configuration={
                    "ConnectionArn": "arn:aws:codeconnections:us-east-1:123456789012:connection/abc",
                    "FullRepositoryId": "owner/repo",
                    "BranchName": draw(st.sampled_from(["main", "develop"])),
                },
                outputs=[out],
                namespace=unique("SourceVars") if draw(st.booleans()) else None,
            )
        elif kind == "s3":
            action = pw.Action(
                name=unique("Source"),
                action_type=pw.ActionType(category="Source", provider="S3"),
                configuration={"S3Bucket": "my-bucket", "S3ObjectKey": "src.zip", "PollForSourceChanges": "false"},
                outputs=[out],
            )
        else:
            action = pw.Action(
                name=unique("Source"),
                action_type=pw.ActionType(category="Source", provider="CodeCommit"),
                configuration={"RepositoryName": "repo", "BranchName": "main", "PollForSourceChanges": "false"},
                outputs=[out],
                namespace=unique("CC"),
            )
        sources.append(action)
        available.append(out)
    stages = [pw.Stage(name=unique("Source"), actions=sources)]
    namespaces = [a for a in sources if a.namespace]

    regions_used: set[str] = set()
    for _ in range(draw(st.integers(1, max_stages - 1))):
        actions: list[pw.Action] = []
        produced_here: list[pw.Artifact] = []
        for run_order in sorted(draw(st.lists(st.integers(1, 999), min_size=1, max_size=3, unique=True))):
            wave_outputs: list[pw.Artifact] = []
            for _ in range(draw(st.integers(1, 3))):
                kind = draw(
                    st.sampled_from(["build", "approval", "lambda", "deploy"] + (["commands"] if is_v2 else []))
                )
                config: dict[str, str | pw.Expression] = {}
                # EnvironmentVariables is a CodeBuild setting; other providers reject it (PW212)
                if kind == "build" and namespaces and draw(st.booleans()):
                    producer = draw(st.sampled_from(namespaces))
                    config["EnvironmentVariables"] = (
                        f'[{{"name":"C","value":"{producer.variable("CommitId")}","type":"PLAINTEXT"}}]'
                    )
                if kind == "build":
                    inputs = draw(st.lists(st.sampled_from(available), min_size=1, max_size=2, unique=True))
                    out = pw.Artifact(unique("Out"))
                    config["ProjectName"] = draw(names)
                    if len(inputs) > 1:
                        config["PrimarySource"] = inputs[0].name
                    region = draw(st.sampled_from(REGIONS[1:])) if cross_region and draw(st.booleans()) else None
                    if region:
                        regions_used.add(region)
                    action = pw.Action(
                        name=unique("Build"),
                        action_type=pw.ActionType(
                            category=draw(st.sampled_from(["Build", "Test"])), provider="CodeBuild"
                        ),
                        run_order=run_order,
                        configuration=config,
                        inputs=inputs,
                        outputs=[out],
                        namespace=unique("B") if draw(st.booleans()) else None,
                        region=region,
                    )
                    wave_outputs.append(out)
                elif kind == "commands":
                    out = pw.Artifact(unique("Cmd"), files=["dist/**/*"])
                    action = pw.Action(
                        name=unique("Cmd"),
                        action_type=pw.ActionType(category="Compute", provider="Commands"),
                        run_order=run_order,
                        commands=draw(st.lists(values, min_size=1, max_size=3)),
                        inputs=[draw(st.sampled_from(available))],
                        outputs=[out],
                        output_variables=["VERSION"],
                        namespace=unique("C"),
                        environment_variables=[pw.EnvironmentVariable(name="STAGE", value="test")],
                    )
                    wave_outputs.append(out)
                elif kind == "approval":
                    action = pw.Action(
                        name=unique("Approve"),
                        action_type=pw.ActionType(category="Approval", provider="Manual"),
                        run_order=run_order,
                        configuration={"CustomData": draw(values)} if draw(st.booleans()) else {},
                        timeout_in_minutes=draw(st.one_of(st.none(), st.integers(5, 86400))),
                    )
                elif kind == "lambda":
                    config["FunctionName"] = draw(names)
                    if draw(st.booleans()):
                        config["UserParameters"] = draw(values)
                    action = pw.Action(
                        name=unique("Invoke"),
                        action_type=pw.ActionType(category="Invoke", provider="Lambda"),
                        run_order=run_order,
                        configuration=config,
                        inputs=draw(st.lists(st.sampled_from(available), max_size=2, unique=True)),
                        namespace=unique("L") if draw(st.booleans()) else None,
                    )
                else:
                    action = pw.Action(
                        name=unique("Deploy"),
                        action_type=pw.ActionType(category="Deploy", provider="CodeDeploy"),
                        run_order=run_order,
                        configuration={"ApplicationName": draw(names), "DeploymentGroupName": draw(names)},
                        inputs=[draw(st.sampled_from(available))],
                    )
                actions.append(action)
            produced_here.extend(wave_outputs)
            # outputs become available to later waves and stages
            available.extend(wave_outputs)
            namespaces.extend(a for a in actions if a.namespace and a not in namespaces and a.run_order == run_order)
        stage_kwargs: dict[str, Any] = {}
        if is_v2 and draw(st.booleans()):
            rule = pw.Rule(
                name=unique("Check"),
                rule_type=pw.RuleType(provider="VariableCheck"),
                configuration={"Variable": "#{codepipeline.PipelineExecutionId}", "Value": "x", "Operator": "NE"},
            )
            choice = draw(st.sampled_from(["retry", "before", "success"]))
            if choice == "retry":
                stage_kwargs["on_failure"] = pw.FailureConditions(
                    result="RETRY", retry_mode=draw(st.sampled_from(["FAILED_ACTIONS", "ALL_ACTIONS"]))
                )
            elif choice == "before":
                stage_kwargs["before_entry"] = pw.BeforeEntryConditions(
                    conditions=[pw.Condition(result="FAIL", rules=[rule])]
                )
            else:
                stage_kwargs["on_success"] = pw.SuccessConditions(
                    conditions=[pw.Condition(result="FAIL", rules=[rule])]
                )
        stages.append(pw.Stage(name=unique("Stage"), actions=actions, **stage_kwargs))

    kwargs: dict[str, Any] = {}
    if cross_region:
        kwargs["artifact_stores"] = {
            region: pw.ArtifactStore(
                location=f"artifacts-{region}",
                encryption_key=pw.EncryptionKey(id=f"arn:aws:kms:{region}:123456789012:key/k"),
            )
            for region in sorted({home, *regions_used})
        }
    else:
        kwargs["artifact_store"] = pw.ArtifactStore(location="my-artifact-bucket")
    if is_v2:
        kwargs["pipeline_type"] = "V2"
        kwargs["execution_mode"] = draw(st.sampled_from(["QUEUED", "SUPERSEDED", "PARALLEL"]))
        if kwargs["execution_mode"] == "PARALLEL":
            stages = [s if s.on_failure is None else pw.Stage(name=s.name, actions=s.actions) for s in stages]
        kwargs["variables"] = [
            pw.Variable(name=unique("v"), default_value=draw(st.one_of(st.none(), values)))
            for _ in range(draw(st.integers(0, 3)))
        ]
        connection_sources = [a for a in sources if a.provider == "CodeStarSourceConnection"]
        if connection_sources and draw(st.booleans()):
            kwargs["triggers"] = [
                pw.Trigger(
                    source_action_name=connection_sources[0],
                    push=[
                        pw.GitPushFilter(branches=pw.GitFilter(includes=["main", "release/**"]), file_paths=["src/**"])
                    ],
                    pull_request=[pw.GitPullRequestFilter(events=["OPEN"], branches=["main"])],
                )
            ]
    elif draw(st.booleans()):
        kwargs["pipeline_type"] = "V1"
    return pw.Pipeline(
        name=unique("pipe"),
        role_arn="arn:aws:iam::123456789012:role/PipelineRole",
        stages=stages,
        **kwargs,
    )
