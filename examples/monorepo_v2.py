"""A monorepo: one V2 pipeline per service, generated in a loop, started only by its own files.

    python3 examples/monorepo_v2.py

What it shows:

* programmatic construction: ``service_pipeline(name)`` builds the same shape for each service;
* V2 git triggers with branch and file-path filters (``services/<name>/**``), evaluated
  locally for a sample push exactly as CodePipeline would decide;
* pipeline variables (``#{variables.deploy_env}``) with a default, overridden per execution,
  reaching the deploy step;
* a local run of the service whose files changed, against a real git repository.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pipeweaver as pw
from pipeweaver import GitPush, actions, evaluate_trigger

SERVICES = ("payments", "search")
CONNECTION = "arn:aws:codeconnections:us-east-1:123456789012:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789"


def service_pipeline(service: str) -> pw.Pipeline:
    """The release pipeline of one service of the monorepo."""
    env = pw.Variable(name="deploy_env", default_value="staging", description="Where this execution deploys")
    source = actions.connection_source(
        "Checkout",
        connection_arn=CONNECTION,
        repository="acme/monorepo",
        branch="main",
        output="Code",
        namespace="SourceVariables",
    )
    test = actions.commands(
        "Test",
        input=source.output(),
        commands=[f"cd services/{service}", "python3 -m unittest -q"],
    )
    deploy = actions.commands(
        "Deploy",
        input=source.output(),
        commands=[
            f'echo "deploying {service} at #{{SourceVariables.CommitId}} to {env.ref}"',
            f'export DEPLOYED_TO="{env.ref}"',
        ],
        output_variables=["DEPLOYED_TO"],
        namespace="DeployVariables",
    )
    return pw.Pipeline(
        name=f"{service}-release",
        pipeline_type="V2",
        execution_mode="QUEUED",
        role_arn="arn:aws:iam::123456789012:role/PipelineRole",
        artifact_store=pw.ArtifactStore(location="acme-monorepo-artifacts"),
        variables=[env],
        triggers=[
            pw.Trigger(
                source_action_name=source,
                push=[
                    pw.GitPushFilter(branches=["main"], file_paths=pw.GitFilter(includes=[f"services/{service}/**"]))
                ],
            )
        ],
        stages=[
            pw.Stage(name="Source", actions=[source]),
            pw.Stage(name="Test", actions=[test]),
            pw.Stage(name="Deploy", actions=[deploy]),
        ],
    )


#: The first service's pipeline, for the CLI: `pipeweaver validate examples/monorepo_v2.py`.
pipeline = service_pipeline(SERVICES[0])


def make_monorepo(folder: Path) -> Path:
    """A real git repository with two services, each with a passing test."""
    repo = folder / "monorepo"
    for service in SERVICES:
        code = repo / "services" / service
        code.mkdir(parents=True)
        (code / "app.py").write_text(f"NAME = {service!r}\n")
        (code / "test_app.py").write_text(
            "import unittest\nimport app\n\n\nclass T(unittest.TestCase):\n"
            f"    def test_name(self):\n        assert {service!r} == app.NAME\n"
        )
    git = ["git", "-c", "user.name=Example", "-c", "user.email=example@example.com", "-C", str(repo)]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "Add payments and search"], check=True)
    return repo


def main() -> int:
    """Decide which pipelines a push starts, then run the one that starts with deploy_env=prod."""
    from pipeweaver.execution import LocalExecutor

    pipelines = {s: service_pipeline(s) for s in SERVICES}
    for p in pipelines.values():
        p.validate()
    push = GitPush(branch="main", commit="4f2a9c1", changed_files=["services/payments/app.py", "README.md"])
    started = []
    for service, p in pipelines.items():
        decision = evaluate_trigger(p, push)
        print(f"{p.name}: {'STARTS' if decision.starts else 'stays idle'} - {decision.reason}")
        if decision.starts:
            started.append(service)
    assert ["payments"] == started, started

    with tempfile.TemporaryDirectory() as tmp:
        repo = make_monorepo(Path(tmp))
        executor = LocalExecutor(workdir=Path(tmp) / ".pipeweaver", sources={"Checkout": repo})
        execution = executor.run(pipelines["payments"], variables={"deploy_env": "prod"})
        executor.close()
    deployed = execution.action("Deploy", "Deploy").output_variables.get("DEPLOYED_TO")
    print(f"payments-release: {execution.status}; variables {dict(execution.variables)}; deployed to {deployed}")
    return 0 if execution.succeeded and deployed == "prod" else 1


if __name__ == "__main__":
    sys.exit(main())
