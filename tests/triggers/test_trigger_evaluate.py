"""Trigger evaluation decides what starts a pipeline, as CodePipeline documents it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pipeweaver as pw
import pipeweaver.synth
from pipeweaver._triggers import GitPullRequest, GitPush, evaluate

from .conftest import aws_example_trigger, make_pipeline, source_action

# Cases against AWS's own example trigger (pipelines-filter, "Add filters ... (CLI)"):
# push: branches feature/** | release/** minus mainline, AND file paths projectA/** | common/**/*.js
# minus **/README.md, **/LICENSE, **/CONTRIBUTING.md; OR tags release-v0 | release-v1 minus release-v2.
# pull request: CLOSED into feature/** | release/** minus mainline, with the same file paths.
AWS_EXAMPLE: list[tuple[str, Any, bool, str]] = [
    (
        "branch+path match",
        GitPush(branch="release/1.2", commit="c1", changed_files=["projectA/app.py"]),
        True,
        "push[0]",
    ),
    (
        "nested feature branch",
        GitPush(branch="feature/login/v2", changed_files=["common/ui/button.js"]),
        True,
        "push[0]",
    ),
    ("branch not included", GitPush(branch="develop", changed_files=["projectA/app.py"]), False, "matches no include"),
    ("excluded branch", GitPush(branch="mainline", changed_files=["projectA/app.py"]), False, "excluded by 'mainline'"),
    (
        "path not included",
        GitPush(branch="release/1.2", changed_files=["projectB/app.py"]),
        False,
        "matches no include",
    ),
    (
        "excluded README only",
        GitPush(branch="release/1.2", changed_files=["projectA/README.md"]),
        False,
        "excluded by '**/README.md'",
    ),
    (
        "README plus a real change",
        GitPush(branch="release/1.2", changed_files=["projectA/README.md", "projectA/src/x.py"]),
        True,
        "'projectA/src/x.py' matches include 'projectA/**'",
    ),
    ("common js one level", GitPush(branch="release/2", changed_files=["common/util.js"]), False, "matches no include"),
    ("common non-js", GitPush(branch="release/2", changed_files=["common/lib/util.ts"]), False, "matches no include"),
    ("no files changed", GitPush(branch="release/2", changed_files=[]), False, "changes no files"),
    ("files unknown", GitPush(branch="release/2", changed_files=None), False, "does not list its changed files"),
    ("tag included", GitPush(tag="release-v1", commit="t1"), True, "tag 'release-v1' matches include 'release-v1'"),
    ("tag excluded", GitPush(tag="release-v2"), False, "tag 'release-v2' is excluded by 'release-v2'"),
    ("tag not included", GitPush(tag="v1.0"), False, "matches no include"),
    ("refs/ prefixes stripped", GitPush(branch="refs/heads/release/9", changed_files=["projectA/a"]), True, "push[0]"),
    (
        "closed PR into release",
        GitPullRequest(
            event="CLOSED",
            source_branch="fix-1",
            destination_branch="release/1.2",
            commit="p1",
            changed_files=["projectA/a.py"],
        ),
        True,
        "pullRequest[0]",
    ),
    (
        "opened PR is not listed",
        GitPullRequest(
            event="OPEN", source_branch="fix-1", destination_branch="release/1.2", changed_files=["projectA/a.py"]
        ),
        False,
        "event OPEN is not one of ['CLOSED']",
    ),
    (
        "PR filter matches the destination, not the source",
        GitPullRequest(
            event="CLOSED", source_branch="release/1.2", destination_branch="mainline", changed_files=["projectA/a.py"]
        ),
        False,
        "excluded by 'mainline'",
    ),
    (
        "PR touching only docs",
        GitPullRequest(
            event="CLOSED", source_branch="f", destination_branch="feature/x", changed_files=["projectA/LICENSE"]
        ),
        False,
        "excluded by '**/LICENSE'",
    ),
]


@pytest.mark.parametrize(("name", "event", "starts", "why"), AWS_EXAMPLE, ids=[c[0] for c in AWS_EXAMPLE])
def test_aws_documented_trigger_example(
    aws_example: pw.Pipeline, name: str, event: Any, starts: bool, why: str
) -> None:
    """AWS's example trigger accepts exactly the events its filters describe, and says why."""
    decision = evaluate(aws_example, event)

    assert starts == decision.starts
    assert why in decision.reason


def test_push_runs_the_destination_commit_and_pull_request_the_source_branch(aws_example: pw.Pipeline) -> None:
    """A push uses the pushed branch's commit; a pull request uses its source branch head."""
    push = evaluate(aws_example, GitPush(branch="release/1", commit="abc", changed_files=["projectA/x"]))
    pull = evaluate(
        aws_example,
        GitPullRequest(
            event="CLOSED",
            source_branch="fix/7",
            destination_branch="release/1",
            commit="def",
            changed_files=["projectA/x"],
        ),
    )

    assert ("ApplicationSource", "abc", "release/1", "WebhookV2") == (
        push.source_action,
        push.revision,
        push.branch,
        push.trigger_type,
    )
    assert ("def", "fix/7") == (pull.revision, pull.branch)


def test_every_filter_is_reported_when_nothing_matches(aws_example: pw.Pipeline) -> None:
    """A rejected push lists each push filter's verdict: the branch filter and the tag filter."""
    decision = evaluate(aws_example, GitPush(branch="mainline", changed_files=["projectA/x"]))

    assert [("push", 0, False), ("push", 1, False)] == [(c.kind, c.index, c.matched) for c in decision.checks]
    assert "mainline" == decision.checks[0].criteria[0].exclude
    assert "this is a branch push" in decision.checks[1].reason


def test_same_pattern_in_includes_and_excludes_excludes() -> None:
    """AWS: 'If the include and exclude both have the same pattern, then the default is to exclude'."""
    trigger = pw.Trigger(
        source_action_name="ApplicationSource",
        push=[pw.GitPushFilter(branches=pw.GitFilter(includes=["main*"], excludes=["main*"]))],
    )
    pipeline = make_pipeline(source_action(), triggers=(trigger,))

    assert not evaluate(pipeline, GitPush(branch="main")).starts


def test_pull_request_without_events_accepts_all_three() -> None:
    """A pull-request filter that lists no events reacts to OPEN, UPDATED and CLOSED."""
    trigger = pw.Trigger(
        source_action_name="ApplicationSource",
        pull_request=[pw.GitPullRequestFilter(branches=["main"])],
    )
    pipeline = make_pipeline(source_action(), triggers=(trigger,))
    starts = [
        evaluate(pipeline, GitPullRequest(event=e, source_branch="f", destination_branch="main")).starts
        for e in ("OPEN", "UPDATED", "CLOSED")
    ]

    assert [True, True, True] == starts


def test_a_trigger_with_only_push_filters_ignores_pull_requests() -> None:
    """Declaring a trigger turns off default detection: pull requests need pullRequest filters."""
    trigger = pw.Trigger(source_action_name="ApplicationSource", push=[pw.GitPushFilter(branches=["**"])])
    pipeline = make_pipeline(source_action(), triggers=(trigger,))
    decision = evaluate(pipeline, GitPullRequest(event="OPEN", source_branch="f", destination_branch="mainline"))

    assert not decision.starts
    assert "no pullRequest filters" in decision.reason


def test_a_trigger_replaces_the_configured_branch_default() -> None:
    """With a trigger declared, a push to BranchName only starts if a filter accepts it."""
    trigger = pw.Trigger(source_action_name="ApplicationSource", push=[pw.GitPushFilter(branches=["release/*"])])
    pipeline = make_pipeline(source_action(), triggers=(trigger,))

    assert not evaluate(pipeline, GitPush(branch="mainline")).starts


# -- implicit behaviour: no trigger declared ---------------------------------------------------

IMPLICIT = [
    (
        "connection, configured branch",
        "CodeStarSourceConnection",
        {},
        GitPush(branch="mainline"),
        False,
        True,
        "WebhookV2",
    ),
    ("connection, other branch", "CodeStarSourceConnection", {}, GitPush(branch="dev"), False, False, None),
    ("connection, tag push", "CodeStarSourceConnection", {}, GitPush(tag="v1"), False, False, None),
    (
        "connection, DetectChanges false",
        "CodeStarSourceConnection",
        {"DetectChanges": "false"},
        GitPush(branch="mainline"),
        False,
        False,
        None,
    ),
    (
        "connection, pull request",
        "CodeStarSourceConnection",
        {},
        GitPullRequest(event="OPEN", source_branch="x", destination_branch="mainline"),
        False,
        False,
        None,
    ),
    ("CodeCommit polls by default", "CodeCommit", {}, GitPush(branch="mainline"), False, True, "PollForSourceChanges"),
    (
        "CodeCommit polling off",
        "CodeCommit",
        {"PollForSourceChanges": "false"},
        GitPush(branch="mainline"),
        False,
        False,
        None,
    ),
    (
        "CodeCommit rule deployed",
        "CodeCommit",
        {"PollForSourceChanges": "false"},
        GitPush(branch="mainline"),
        True,
        True,
        "CloudWatchEvent",
    ),
    ("GitHub v1 polls by default", "GitHub", {}, GitPush(branch="mainline"), False, True, "PollForSourceChanges"),
    (
        "GitHub v1 webhook",
        "GitHub",
        {"PollForSourceChanges": "false"},
        GitPush(branch="mainline"),
        True,
        True,
        "Webhook",
    ),
    ("GitHub v1 other branch", "GitHub", {}, GitPush(branch="dev"), False, False, None),
]


@pytest.mark.parametrize(
    ("name", "provider", "config", "event", "wiring", "starts", "trigger_type"), IMPLICIT, ids=[c[0] for c in IMPLICIT]
)
def test_implicit_change_detection(
    name: str, provider: str, config: dict[str, str], event: Any, wiring: bool, starts: bool, trigger_type: str | None
) -> None:
    """Without a trigger, a push to the configured branch starts the pipeline when detection is on."""
    pipeline = make_pipeline(source_action(provider=provider, config=config))
    decision = evaluate(pipeline, event, event_wiring=wiring)

    assert (starts, trigger_type) == (decision.starts, decision.trigger_type)
    assert decision.reason


def test_events_for_another_repository_are_ignored() -> None:
    """An event names its repository; only source actions reading it are judged."""
    pipeline = make_pipeline(source_action())

    assert not evaluate(pipeline, GitPush(branch="mainline", repository="acme/other")).starts
    assert evaluate(pipeline, GitPush(branch="mainline", repository="acme/monorepo-example")).starts


def test_second_source_action_is_found_by_repository() -> None:
    """With two git sources, the one reading the event's repository is the one that starts."""
    app = source_action()
    lib = source_action("LibSource", config={"FullRepositoryId": "acme/lib", "BranchName": "main"}, artifact="LibOut")
    pipeline = make_pipeline(app, lib)
    decision = evaluate(pipeline, GitPush(branch="main", repository="acme/lib", commit="9"))

    assert ("LibSource", "9") == (decision.source_action, decision.revision)


def test_push_needs_exactly_one_of_branch_or_tag() -> None:
    """A push without a branch or tag, or with both, is a definition error."""
    with pytest.raises(pw.DefinitionError):
        GitPush(commit="x")
    with pytest.raises(pw.DefinitionError):
        GitPush(branch="a", tag="b")


def test_unknown_pull_request_event_is_rejected() -> None:
    """Pull-request events are OPEN, UPDATED or CLOSED only."""
    with pytest.raises(pw.DefinitionError, match="OPEN, UPDATED, CLOSED"):
        GitPullRequest(event="MERGED", source_branch="a", destination_branch="b")


# -- properties --------------------------------------------------------------------------------

NAMES = st.text(alphabet="abm/-1", min_size=1, max_size=8)
PATTERNS = st.sampled_from(["*", "**", "m*", "a/**", "*/*", "b?", "[ab]*", "{a,b}/**", "**/1", "m", "a-1"])


@given(st.lists(PATTERNS, max_size=4), st.lists(PATTERNS, min_size=1, max_size=4), NAMES)
def test_excludes_always_win(includes: list[str], excludes: list[str], branch: str) -> None:
    """A branch matching any exclude never starts the pipeline, whatever the includes."""
    trigger = pw.Trigger(
        source_action_name="ApplicationSource",
        push=[pw.GitPushFilter(branches=pw.GitFilter(includes=[*includes, "**"], excludes=excludes))],
    )
    pipeline = make_pipeline(source_action(), triggers=(trigger,))
    decision = evaluate(pipeline, GitPush(branch=branch))
    excluded = any(pw_glob(p, branch) for p in excludes)

    assert (not excluded) == decision.starts


def pw_glob(pattern: str, name: str) -> bool:
    from pipeweaver._triggers import glob_match

    return glob_match(pattern, name)


FILTERS = st.builds(
    pw.GitPushFilter,
    branches=st.builds(pw.GitFilter, includes=st.lists(PATTERNS, max_size=3), excludes=st.lists(PATTERNS, max_size=2)),
    file_paths=st.one_of(
        st.none(),
        st.builds(
            pw.GitFilter, includes=st.lists(PATTERNS, min_size=1, max_size=3), excludes=st.lists(PATTERNS, max_size=2)
        ),
    ),
)


@given(st.lists(FILTERS, min_size=1, max_size=3), st.randoms(use_true_random=False), NAMES, st.lists(NAMES, max_size=3))
def test_filter_and_pattern_order_does_not_matter(
    filters: list[pw.GitPushFilter], rnd: Any, branch: str, files: list[str]
) -> None:
    """Shuffling filters and the patterns inside them never changes whether the pipeline starts."""

    def shuffled(values: tuple[str, ...]) -> list[str]:
        out = list(values)
        rnd.shuffle(out)
        return out

    def shuffle_filter(f: pw.GitPushFilter) -> pw.GitPushFilter:
        assert f.branches is not None
        paths = f.file_paths
        return pw.GitPushFilter(
            branches=pw.GitFilter(includes=shuffled(f.branches.includes), excludes=shuffled(f.branches.excludes)),
            file_paths=None
            if paths is None
            else pw.GitFilter(includes=shuffled(paths.includes), excludes=shuffled(paths.excludes)),
        )

    reordered = [shuffle_filter(f) for f in filters]
    rnd.shuffle(reordered)
    event = GitPush(branch=branch, changed_files=files)
    original = evaluate(
        make_pipeline(source_action(), triggers=(pw.Trigger(source_action_name="ApplicationSource", push=filters),)),
        event,
    )
    other = evaluate(
        make_pipeline(source_action(), triggers=(pw.Trigger(source_action_name="ApplicationSource", push=reordered),)),
        event,
    )

    assert original.starts == other.starts


def test_the_aws_example_trigger_is_valid_model_input() -> None:
    """The example trigger used above builds and renders to CodePipeline JSON."""
    pipeline = make_pipeline(source_action(), triggers=(aws_example_trigger(),))
    rendered = pipeweaver.synth.to_codepipeline(pipeline)

    assert "ApplicationSource" == rendered["triggers"][0]["gitConfiguration"]["sourceActionName"]


@given(st.lists(PATTERNS, min_size=1, max_size=3), st.lists(NAMES, min_size=1, max_size=4))
def test_an_excluded_file_never_starts_the_pipeline_on_its_own(excludes: list[str], files: list[str]) -> None:
    """A push starts exactly when some changed file escapes every exclude (includes: everything)."""
    trigger = pw.Trigger(
        source_action_name="ApplicationSource",
        push=[pw.GitPushFilter(branches=["**"], file_paths=pw.GitFilter(includes=["**"], excludes=excludes))],
    )
    pipeline = make_pipeline(source_action(), triggers=(trigger,))
    decision = evaluate(pipeline, GitPush(branch="main", changed_files=files))
    escaping = [f.lstrip("/") for f in files if not any(pw_glob(p, f.lstrip("/")) for p in excludes)]

    assert bool(escaping) == decision.starts


@given(st.lists(PATTERNS, min_size=1, max_size=3), NAMES)
def test_an_excluded_tag_never_starts_the_pipeline(excludes: list[str], tag: str) -> None:
    """Tags follow the same rule: any matching exclude wins over the catch-all include."""
    trigger = pw.Trigger(
        source_action_name="ApplicationSource",
        push=[pw.GitPushFilter(tags=pw.GitFilter(includes=["**"], excludes=excludes))],
    )
    pipeline = make_pipeline(source_action(), triggers=(trigger,))

    assert (not any(pw_glob(p, tag) for p in excludes)) == evaluate(pipeline, GitPush(tag=tag)).starts
