"""Hostile branch names, commit messages and variables: nothing runs where pipeweaver does the quoting.

Every hostile value carries a command that would create its own canary file. The values flow
through real git repositories (branch names, commit messages), pipeline variables, buildspec
variables and environment variables into real shell commands run by the local executor. The
test then checks that no canary exists and that each value arrived byte for byte. A positive
control shows the canaries do fire when the user's own command interpolates a value, and the
validator warns (PW701) exactly there.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import pipeweaver as pw
from pipeweaver.execution import ExecutionStatus, LocalExecutor

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Mallory $(touch /tmp/pw-never)",
    "GIT_AUTHOR_EMAIL": "m@example.com",
    "GIT_COMMITTER_NAME": "Mallory",
    "GIT_COMMITTER_EMAIL": "m@example.com",
    "PATH": "/usr/bin:/bin:/usr/local/bin",
    "HOME": "/tmp",
}
ROLE = "arn:aws:iam::123456789012:role/pipeline"
CONNECTION = "arn:aws:codeconnections:us-east-1:123456789012:connection/abc"

FORMS = [
    "$(touch {c})",
    "`touch {c}`",
    "; touch {c}",
    "&& touch {c}",
    "|| touch {c}",
    "| touch {c}",
    "\ntouch {c}\n",
    "'; touch {c}; '",
    '"; touch {c}; "',
    "$(touch${{IFS}}{c})",
    "${{PWX:-$(touch {c})}}",
    "\\$(touch {c})",
    "\\`touch {c}\\`",
    "' \"$(touch {c})\" '",
    "$((0))$(touch {c})",
    "<(touch {c})",
    "& touch {c} &",
    "\r\ntouch {c}",
    "#{{variables.v0}}; touch {c}",
    "*; touch {c} #",
]
PREFIXES = ["", "fix: ", "release/", "\U0001f4a5 ", "a\tb ", "x\x1b[31m", "'", '"', "\\", "%s%n "]
BRANCH_FORMS = [
    "$(touch${{IFS}}{c})",
    "`touch${{IFS}}{c}`",
    ";touch${{IFS}}{c}",
    "&&touch${{IFS}}{c}",
    "|touch${{IFS}}{c}",
    "';touch${{IFS}}{c};'",
    '";touch${{IFS}}{c};"',
    "$(touch${{IFS}}{c})'",
    "x$(touch${{IFS}}{c})",
    "feat/$(touch${{IFS}}{c})",
]
RUNS = 4
SOURCES = 10


def payloads(canary: Path) -> list[str]:
    """200 hostile values, each creating canary/<index> if anything ever runs it."""
    return [p + f.format(c=canary / f"v{i}") for i, (p, f) in enumerate((p, f) for p in PREFIXES for f in FORMS)]


def branch_payloads(canary: Path) -> list[str]:
    """Hostile values git accepts as branch names (no spaces, no ~^:?*[\\)."""
    out = []
    for prefix in ("", "hotfix-", "x/", "y_"):
        for i, form in enumerate(BRANCH_FORMS):
            name = prefix + form.format(c=canary / f"b{len(out)}-{i}")
            ok = subprocess.run(["git", "check-ref-format", "--branch", name], capture_output=True).returncode == 0
            if ok:
                out.append(name)
    return out


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=GIT_ENV
    ).stdout.strip()


def dump_command(path: Path) -> str:
    # A fixed command: every hostile value reaches it only through the environment.
    return (
        f'{sys.executable} -c "import json, os; json.dump({{k: v for k, v in os.environ.items() '
        f"if k.startswith('PWX_')}}, open('{path}', 'w'))\""
    )


def pipeline(dumps: Path, n_vars: int) -> pw.Pipeline:
    compute = pw.ActionType(category="Compute", provider="Commands")
    sources = [
        pw.Action(
            name=f"Source{i}",
            action_type=pw.ActionType(category="Source", provider="CodeStarSourceConnection"),
            configuration={
                "ConnectionArn": CONNECTION,
                "FullRepositoryId": "acme/web",
                "BranchName": f"placeholder-{i}",
                "DetectChanges": "false",
            },
            outputs=[pw.Artifact(f"Out{i}")],
            namespace=f"Src{i}",
        )
        for i in range(SOURCES)
    ]
    names = [f"PWX_M{i}" for i in range(SOURCES)] + [f"PWX_B{i}" for i in range(SOURCES)]
    names += [f"PWX_V{i}" for i in range(n_vars)]
    values = [f"#{{Src{i}.CommitMessage}}" for i in range(SOURCES)] + [
        f"#{{Src{i}.BranchName}}" for i in range(SOURCES)
    ]
    values += [f"#{{variables.v{i}}}" for i in range(n_vars)]
    envs = [pw.EnvironmentVariable(name=n, value=v) for n, v in zip(names, values, strict=True)]
    actions = []
    for k in range(0, len(envs), 10):
        chunk = envs[k : k + 10]
        actions.append(
            pw.Action(
                name=f"Dump{k // 10}",
                action_type=compute,
                commands=[dump_command(dumps / f"dump{k // 10}.json"), 'export PWX_OUT="$' + chunk[0].name + '"'],
                inputs=[sources[0].outputs[0]],
                environment_variables=chunk,
                output_variables=["PWX_OUT"],
                namespace=f"Dump{k // 10}",
            )
        )
    build = pw.Action(
        name="Build",
        action_type=pw.ActionType(category="Build", provider="CodeBuild"),
        configuration={"ProjectName": "hostile"},
        inputs=[sources[0].outputs[0]],
        namespace="Build",
    )
    return pw.Pipeline(
        name="hostile",
        role_arn=ROLE,
        artifact_store=pw.ArtifactStore(location="artifact-bucket"),
        pipeline_type="V2",
        variables=[pw.Variable(name=f"v{i}", default_value="x") for i in range(n_vars)],
        stages=[pw.Stage(name="Source", actions=sources), pw.Stage(name="Use", actions=[*actions, build])],
    )


def with_branches(p: pw.Pipeline, branches: list[str]) -> pw.Pipeline:
    import attrs

    source = p.stages[0]
    actions = [
        attrs.evolve(a, configuration={**a.configuration, "BranchName": b})
        for a, b in zip(source.actions, branches, strict=True)
    ]
    return attrs.evolve(p, stages=[attrs.evolve(source, actions=actions), *p.stages[1:]])


@pytest.fixture(name="hostile_repo")
def _hostile_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "app.txt").write_text("app\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    return repo


def test_hostile_values_never_run_where_pipeweaver_quotes(tmp_path: Path, hostile_repo: Path) -> None:
    """200 hostile commit messages, 200 variables and 40 branch names run nothing and arrive byte for byte."""
    canary = tmp_path / "canary"
    canary.mkdir()
    values = payloads(canary)
    branches = branch_payloads(canary)
    assert len(values) >= 200
    assert len(branches) >= RUNS * SOURCES
    buildspec = {
        "version": 0.2,
        "env": {"variables": {f"PWX_S{i}": v for i, v in enumerate(values[:20])}},
        "phases": {"build": {"commands": [dump_command(tmp_path / "buildspec.json")]}},
    }
    per_run = len(values) // RUNS
    mismatches: list[str] = []
    for run in range(RUNS):
        batch = values[run * per_run : (run + 1) * per_run]
        run_branches = branches[run * SOURCES : (run + 1) * SOURCES]
        messages = []
        for i, branch in enumerate(run_branches):
            # each branch's commit message carries a slice of the batch
            message = "\n".join(batch[i * 5 : (i + 1) * 5])
            git(hostile_repo, "checkout", "-q", "-B", branch, "main")
            (hostile_repo / "app.txt").write_text(f"run {run} source {i}\n")
            git(hostile_repo, "commit", "-q", "-a", "--cleanup=verbatim", "-m", message)
            messages.append(message)
        dumps = tmp_path / f"run{run}"
        dumps.mkdir()
        p = with_branches(pipeline(dumps, n_vars=per_run), run_branches)
        x = LocalExecutor(
            tmp_path / "wd",
            sources={f"Source{i}": hostile_repo for i in range(SOURCES)},
            buildspecs={"hostile": buildspec},
        )
        try:
            execution = x.run(p, variables={f"v{i}": v for i, v in enumerate(batch)})
        finally:
            x.close()

        assert ExecutionStatus.SUCCEEDED == execution.status, execution.status_summary
        seen: dict[str, str] = {}
        for dump in sorted(dumps.glob("dump*.json")):
            seen.update(json.loads(dump.read_text()))
        expected = {f"PWX_M{i}": m.strip() for i, m in enumerate(messages)}
        expected |= {f"PWX_B{i}": b for i, b in enumerate(run_branches)}
        expected |= {f"PWX_V{i}": v for i, v in enumerate(batch)}
        mismatches += [f"run {run} {k}: {seen.get(k)!r} != {v!r}" for k, v in expected.items() if seen.get(k) != v]
        outs = {a.name: a.output_variables.get("PWX_OUT") for a in execution.actions if a.name.startswith("Dump")}
        mismatches += [f"run {run} output {k}: {v!r}" for k, v in outs.items() if v is None]
        built = json.loads((tmp_path / "buildspec.json").read_text())
        mismatches += [f"buildspec PWX_S{i}" for i, v in enumerate(values[:20]) if built.get(f"PWX_S{i}") != v]

    assert [] == sorted(p.name for p in canary.iterdir())
    assert [] == mismatches


@pytest.mark.parametrize("source", ["$(touch {c})", "--output={c}", "`touch {c}`", "main;touch {c}"])
def test_hostile_source_revision_runs_nothing(tmp_path: Path, hostile_repo: Path, source: str) -> None:
    """A hostile source revision (as a webhook might send) fails the source action; nothing runs."""
    canary = tmp_path / "canary"
    p = pw.Pipeline(
        name="rev",
        role_arn=ROLE,
        artifact_store=pw.ArtifactStore(location="artifact-bucket"),
        stages=[
            pw.Stage(
                name="Source",
                actions=[
                    pw.Action(
                        name="Source",
                        action_type=pw.ActionType(category="Source", provider="CodeStarSourceConnection"),
                        configuration={"ConnectionArn": CONNECTION, "FullRepositoryId": "a/b", "BranchName": "main"},
                        outputs=[pw.Artifact("Src")],
                    )
                ],
            ),
            pw.Stage(
                name="Approve",
                actions=[pw.Action(name="Ok", action_type=pw.ActionType(category="Approval", provider="Manual"))],
            ),
        ],
    )
    x = LocalExecutor(tmp_path / "wd", sources={"Source": hostile_repo}, approval="approve")
    try:
        execution = x.run(p, source_revisions={"Source": source.format(c=canary)})
    finally:
        x.close()

    assert ExecutionStatus.FAILED == execution.status
    assert not canary.exists()


def _warned(p: pw.Pipeline) -> list[tuple[str, str]]:
    return [(i.code, i.path) for i in pw.lint(p) if i.code == "PW701"]


@pytest.mark.parametrize(
    "reference", ["#{Src0.CommitMessage}", "#{Src0.BranchName}", "#{Src0.AuthorDate}", "#{variables.v0}"]
)
def test_validator_warns_where_user_commands_interpolate(tmp_path: Path, reference: str) -> None:
    """A commit-metadata or pipeline variable inside `commands` is a PW701 warning at that command."""
    p = pipeline(tmp_path, n_vars=1)
    action = p.stages[1].actions[0]
    import attrs

    unsafe = attrs.evolve(action, commands=["echo ok", f"echo {reference}"])
    p = attrs.evolve(p, stages=[p.stages[0], attrs.evolve(p.stages[1], actions=[unsafe, *p.stages[1].actions[1:]])])

    assert [("PW701", "stages[1].actions[0].commands[1]")] == _warned(p)


def test_validator_warns_on_commit_metadata_in_codebuild_environment_json(tmp_path: Path) -> None:
    """Commit metadata in CodeBuild's EnvironmentVariables JSON is substituted as text (as on AWS): PW701 there."""
    import attrs

    p = pipeline(tmp_path, n_vars=0)
    build = p.stages[1].actions[-1]
    env = json.dumps([{"name": "MSG", "value": "#{Src1.CommitMessage}", "type": "PLAINTEXT"}])
    risky = attrs.evolve(build, configuration={**build.configuration, "EnvironmentVariables": env})
    p = attrs.evolve(p, stages=[p.stages[0], attrs.evolve(p.stages[1], actions=[*p.stages[1].actions[:-1], risky])])
    where = f"stages[1].actions[{len(p.stages[1].actions) - 1}].configuration.EnvironmentVariables"

    assert [("PW701", where)] == _warned(p)


def test_validator_is_quiet_when_values_travel_as_environment(tmp_path: Path) -> None:
    """The same values passed as environment variables (quoted by the script) draw no PW701."""
    assert [] == [w for w in _warned(pipeline(tmp_path, n_vars=3)) if "commands" in w[1]]


def test_positive_control_user_interpolation_does_run(tmp_path: Path, hostile_repo: Path) -> None:
    """Control: when the user's own command interpolates a hostile branch name, its canary fires (and lint warned)."""
    import attrs

    canary = tmp_path / "canary"
    canary.mkdir()
    branch = f"$(touch${{IFS}}{canary / 'control'})"
    git(hostile_repo, "branch", branch)
    p = pipeline(tmp_path, n_vars=0)
    unsafe = attrs.evolve(p.stages[1].actions[0], commands=["echo #{Src0.BranchName}"])
    p = attrs.evolve(p, stages=[p.stages[0], attrs.evolve(p.stages[1], actions=[unsafe])])
    p = with_branches(p, [branch] + ["main"] * (SOURCES - 1))
    x = LocalExecutor(tmp_path / "wd", sources={f"Source{i}": hostile_repo for i in range(SOURCES)})
    try:
        x.run(p)
    finally:
        x.close()

    assert ("PW701", "stages[1].actions[0].commands[0]") in _warned(p)
    assert ["control"] == sorted(c.name for c in canary.iterdir())
