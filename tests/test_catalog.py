"""The provider catalog: lookups, timeouts and the documented facts it encodes."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

import pipeweaver as pw
from pipeweaver import _catalog


def test_lookup_by_action_type_and_by_parts() -> None:
    """An ActionType and its parts find the same entry; unknown types find none."""
    by_type = _catalog.lookup(pw.ActionType(category="Build", provider="CodeBuild"))
    by_parts = _catalog.lookup(category="Build", owner="AWS", provider="CodeBuild")

    assert by_type is by_parts
    assert by_type is not None
    assert "ProjectName" in by_type.required
    assert None is _catalog.lookup(category="Build", provider="CodeBiuld")


def test_same_provider_in_several_categories() -> None:
    """S3 and Lambda are different action types per category; providers_named finds them all."""
    s3 = {s.category for s in _catalog.providers_named("S3")}
    lambda_ = {(s.category, s.v2_only) for s in _catalog.providers_named("Lambda")}

    assert {"Source", "Deploy"} == s3
    assert {("Invoke", False), ("Deploy", True)} == lambda_


@pytest.mark.parametrize(
    ("category", "owner", "provider", "minutes"),
    [
        ("Deploy", "AWS", "CloudFormation", 3 * 24 * 60),
        ("Deploy", "AWS", "CodeDeploy", 5 * 24 * 60),
        ("Deploy", "AWS", "CodeDeployToECS", 5 * 24 * 60),
        ("Invoke", "AWS", "Lambda", 24 * 60),
        ("Deploy", "AWS", "S3", 90),
        ("Approval", "AWS", "Manual", 7 * 24 * 60),
        ("Deploy", "AWS", "ECS", 60),
        ("Build", "AWS", "CodeBuild", 8 * 60),
        ("Invoke", "AWS", "StepFunctions", 7 * 24 * 60),
        ("Compute", "AWS", "Commands", 55),
        ("Deploy", "AWS", "ElasticBeanstalk", 60),
        ("Test", "Custom", "SomethingElse", 24 * 60),
        ("Test", "ThirdParty", "Unknown", 60),
    ],
)
def test_default_timeouts(category: str, owner: str, provider: str, minutes: int) -> None:
    """Action timeouts follow the AWS quota table (reference §4.6)."""
    action_type = pw.ActionType(category=category, owner=owner, provider=provider)

    assert minutes == _catalog.default_timeout(action_type)


def test_v2_only_providers() -> None:
    """Exactly the documented V2-only action types are flagged (reference §1.9)."""
    flagged = {(s.category, s.provider) for s in _catalog.iter_specs() if s.v2_only}

    assert {
        ("Compute", "Commands"),
        ("Build", "ECRBuildAndPublish"),
        ("Deploy", "EC2"),
        ("Deploy", "EKS"),
        ("Deploy", "Lambda"),
        ("Invoke", "CodePipeline"),
    } == flagged


@pytest.mark.parametrize("spec", list(_catalog.iter_specs()), ids=str)
def test_entries_are_consistent(spec: _catalog.ProviderSpec) -> None:
    """Each entry cites an AWS page, has sane artifact bounds and only known keys in its rules."""
    keys = spec.keys

    assert spec.source.startswith("https://docs.aws.amazon.com/codepipeline/")
    assert 0 <= spec.inputs[0] <= spec.inputs[1] <= 10
    assert 0 <= spec.outputs[0] <= spec.outputs[1] <= 5
    assert set(spec.allowed) <= keys
    assert set(spec.json_keys) <= keys
    assert {k for k in spec.artifact_keys if spec.knows_key(k)} == set(spec.artifact_keys)
    assert set(spec.artifact_path_keys) <= keys
    assert set(spec.required).isdisjoint(spec.optional)


def test_dynamic_keys() -> None:
    """CodeDeployToECS accepts Image1..Image4 keys and nothing beyond."""
    spec = _catalog.lookup(category="Deploy", provider="CodeDeployToECS")
    assert spec is not None

    assert (True, True, False) == (
        spec.knows_key("Image1ArtifactName"),
        spec.knows_key("Image4ContainerName"),
        spec.knows_key("Image5ArtifactName"),
    )


def test_output_variables() -> None:
    """Fixed output variables are listed; action-defined ones are None."""
    connection = _catalog.lookup(category="Source", provider="CodeStarSourceConnection")
    build = _catalog.lookup(category="Build", provider="CodeBuild")
    assert connection is not None
    assert build is not None

    assert "CommitMessage" in (connection.output_variables or ())
    assert None is build.output_variables


def test_rule_types() -> None:
    """Rule types of reference §3.3; only LambdaInvoke and VariableCheck may SKIP."""
    skippers = {p for p, r in _catalog.RULE_TYPES.items() if r.can_skip}

    assert {"CloudWatchAlarm", "DeploymentWindow", "LambdaInvoke", "VariableCheck", "Commands", "CodeBuild"} == set(
        _catalog.RULE_TYPES
    )
    assert {"LambdaInvoke", "VariableCheck"} == skippers
    assert None is _catalog.lookup_rule("Nope")


# -- one home per provider: every consumer reads the entry ----------------------------------------

SPECS = list(_catalog.iter_specs())


def _settings_of(grant: _catalog.Grant) -> set[str]:
    keys = set(grant.when)
    for resource in grant.resources:
        if isinstance(resource, _catalog.Setting | _catalog.Named):
            keys.add(resource.key)
        elif isinstance(resource, _catalog.Arn):
            keys |= {p.key for p in resource.parts if isinstance(p, _catalog.Setting)}
    return keys


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_entries_are_complete(spec: _catalog.ProviderSpec) -> None:
    """Every fact an entry states refers to its own documented keys, and sources say how they
    start a pipeline and what revision they take."""
    keys = spec.keys

    assert spec.version == "1"
    assert set(spec.list_allowed) <= keys
    assert set(spec.secrets) <= keys
    assert spec.timeout_key is None or spec.timeout_key in spec.ranges
    for grant in spec.iam or ():
        assert grant.actions
        assert grant.resources
        assert all(":" in action for action in grant.actions)
        assert _settings_of(grant) <= keys, f"{spec}: a grant names an undocumented key"
    if spec.category == "Source":
        assert spec.revision_type in ("COMMIT_ID", "S3_OBJECT_VERSION_ID", "IMAGE_DIGEST")
        assert spec.events is not None
        events = spec.events
        named = {events.poll_key, events.detect_key, events.branch_key, *events.repository_keys} - {None}
        assert named <= keys
        assert (events.branch_key is not None and bool(events.repository_keys)) == events.git
    else:
        assert (spec.revision_type, spec.events) == (None, None)


def test_non_aws_owners_need_nothing_from_the_pipeline_role() -> None:
    """Third-party and custom providers run outside the pipeline role (job workers, OAuth apps)."""
    assert all(s.iam == () for s in SPECS if s.owner != "AWS")


def test_every_factory_builds_its_entry_type() -> None:
    """Each typed factory call returns an action whose type is exactly its catalog entry's."""
    from .test_actions import FACTORIES, SRC

    for key, make in FACTORIES.items():
        made = make(SRC)
        spec = _catalog.PROVIDERS[key]
        assert (spec.category, spec.owner, spec.provider, spec.version) == (
            str(made.category),
            str(made.owner),
            made.provider,
            made.action_type.version,
        )


def test_provider_strings_live_in_the_catalog() -> None:
    """The modules that select behaviour by provider name it through catalog constants, never by
    spelling the provider string (docstrings and messages aside)."""
    import ast

    providers = {s.provider for s in SPECS} | set(_catalog.RULE_TYPES)
    root = Path(pw.__file__).parent
    offenders = []
    for rel in (
        *(f"actions/{p.name}" for p in sorted((root / "actions").glob("*.py"))),
        *(f"_validate/{p.name}" for p in sorted((root / "_validate").glob("*.py"))),
        "_triggers.py",
        "synth/_cloudformation.py",
        "synth/_events.py",
        "aws/_executor.py",
        "aws/_handle.py",
        *(f"execution/_handlers/{p.name}" for p in sorted((root / "execution" / "_handlers").glob("*.py"))),
        "execution/_watch.py",
    ):
        tree = ast.parse((root / rel).read_text())
        # annotations spell allowed values (Literal["EC2", ...]), not providers
        skip = {
            id(n)
            for node in ast.walk(tree)
            for ann in (getattr(node, "annotation", None), getattr(node, "returns", None))
            if ann is not None
            for n in ast.walk(ann)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare | ast.Dict | ast.Tuple | ast.Set | ast.keyword) and id(node) not in skip:
                for child in ast.walk(node):
                    if isinstance(child, ast.Constant) and child.value in providers:
                        offenders.append(f"{rel}:{child.lineno} {child.value!r}")
    assert [] == offenders


def test_secret_keys_reach_masking_through_the_entries() -> None:
    """Masking's and the model's secret keys are the union of the entries' secrets, and a
    secret is masked in an action's repr."""
    from pipeweaver import _masking

    declared = {k for s in SPECS for k in s.secrets}

    assert declared == _catalog.SECRET_KEYS
    assert _masking.SECRET_CONFIGURATION_KEYS is _catalog.SECRET_KEYS
    for spec in SPECS:
        for key in spec.secrets:
            action = pw.Action(
                name="A",
                action_type=pw.ActionType(category=spec.category, owner=spec.owner, provider=spec.provider),
                configuration={key: "hunter2-secret"},
            )
            assert "hunter2-secret" not in repr(action)


def _role_statements(action: pw.Action) -> tuple[list[dict[str, object]], list[str]]:
    from pipeweaver import synth

    if action.category == "Source":
        stages = [pw.Stage(name="Source", actions=[action]), pw.Stage(name="Hold", actions=[_HOLD])]
    else:
        stages = [pw.Stage(name="Source", actions=[_SOURCE]), pw.Stage(name="Work", actions=[action])]
    pipeline = pw.Pipeline(
        name="p",
        role_arn="arn:aws:iam::123456789012:role/PipelineRole",
        artifact_store=pw.ArtifactStore(location="artifact-bucket"),
        pipeline_type="V2",
        stages=stages,
    )
    template = synth.to_cloudformation(pipeline, pipeline_role=True)
    role = template["Resources"]["PipelineRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    ungranted = template.get("Metadata", {}).get("pipeweaver", {}).get("UngrantedActionTypes", [])
    return role[2:], ungranted  # the first two statements are the artifact store's


_SOURCE = pw.Action(
    name="Src",
    action_type=pw.ActionType(category="Source", provider="S3"),
    configuration={"S3Bucket": "b", "S3ObjectKey": "k.zip", "PollForSourceChanges": "false"},
    outputs=[pw.Artifact("SourceOutput")],
)
_HOLD = pw.Action(name="Hold", action_type=pw.ActionType(category="Approval", provider="Manual"))


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_pipeline_role_grants_come_from_the_entry(spec: _catalog.ProviderSpec) -> None:
    """With every setting the grants name, the pipeline role holds one statement per grant of
    the entry, with its actions and passed-to service; entries without grants are listed as
    ungranted instead."""
    from .test_actions import FACTORIES, SRC

    made = FACTORIES[(spec.category, spec.owner, spec.provider)](SRC)
    needed = {k for g in spec.iam or () for k in _settings_of(g)}
    configuration = {k: made.configuration.get(k, f"value-{k}") for k in needed}
    action = attrs.evolve(made, configuration={**made.configuration, **configuration})

    statements, ungranted = _role_statements(action)

    if spec.iam is None:
        assert [str(action.action_type)] == ungranted
        return
    assert [] == ungranted
    expected = [(sorted(g.actions), g.passed_to) for g in spec.iam]
    found = [
        (s["Action"], (s.get("Condition") or {}).get("StringEquals", {}).get("iam:PassedToService")) for s in statements
    ]
    for item in expected:
        assert item in found


@pytest.mark.parametrize(
    ("configuration", "seconds"),
    [({}, 3600.0), ({"DeploymentTimeout": "15"}, 900.0), ({"DeploymentTimeout": "600"}, 3600.0)],
)
def test_timeout_setting_of_the_entry(configuration: dict[str, str], seconds: float) -> None:
    """ECS's DeploymentTimeout (minutes, at most 60) replaces its default timeout."""
    from pipeweaver.execution._handlers import default_timeout

    action = pw.Action(
        name="Ecs",
        action_type=pw.ActionType(category="Deploy", provider="ECS"),
        configuration={"ClusterName": "c", "ServiceName": "s", **configuration},
        inputs=[pw.Artifact("SourceOutput")],
    )

    assert seconds == default_timeout(action)


def test_revision_types_come_from_the_entries() -> None:
    """sourceRevisions for StartPipelineExecution take each source's revision type."""
    from pipeweaver.aws._executor import source_revisions_param

    from .test_actions import FACTORIES

    sources = [make(pw.Artifact("x")) for key, make in FACTORIES.items() if key[0] == "Source"]
    pipeline = pw.Pipeline(
        name="p",
        role_arn="arn:aws:iam::123456789012:role/PipelineRole",
        artifact_store=pw.ArtifactStore(location="artifact-bucket"),
        stages=[pw.Stage(name="Source", actions=sources), pw.Stage(name="Hold", actions=[_HOLD])],
    )
    found = {
        p["actionName"]: p["revisionType"] for p in source_revisions_param(pipeline, {a.name: "v" for a in sources})
    }

    assert {a.name: _catalog.lookup(a.action_type).revision_type for a in sources} == found


def test_handler_keys_resolve_in_the_local_registry(tmp_path: Path) -> None:
    """Each entry's handler key names a built-in handler; entries without one have none (manual
    approvals are answered by the engine itself)."""
    from pipeweaver.execution import LocalExecutor
    from pipeweaver.execution._handlers import builtin_handlers

    registry = builtin_handlers(LocalExecutor(tmp_path / "wd"))
    stage = pw.Stage(name="S", actions=[_HOLD])
    for spec in SPECS:
        action = pw.Action(
            name="A", action_type=pw.ActionType(category=spec.category, owner=spec.owner, provider=spec.provider)
        )
        found = registry.find(stage, action)
        assert (found is not None) == (spec.handler is not None), str(spec)
        if found is not None:
            assert spec.handler == getattr(found, "__name__", None), str(spec)
