"""ECS blue/green: a new image from ECR plus deployment files from git, shifted by CodeDeploy.

    python3 examples/ecs_blue_green.py

What it shows:

* two source actions in one stage: an ECR image (``imageDetail.json``) and the service's
  ``taskdef.json`` / ``appspec.yaml`` from a git repository;
* a ``CodeDeployToECS`` action whose ``<IMAGE1_NAME>`` placeholder is filled from the ECR artifact;
* a smoke test between the two production traffic shifts (blue/green in two services);
* a local run: the ECR source is the image digest given to the executor; the git source is a
  REAL repository; the blue/green deploy is SIMULATED (pipeweaver checks the task definition and
  AppSpec exist in their artifacts and parse, and records what it would deploy).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pipeweaver as pw
from pipeweaver import actions

DIGEST = "sha256:" + "5e" * 32

TASKDEF = {
    "family": "checkout",
    "containerDefinitions": [{"name": "web", "image": "<IMAGE1_NAME>", "portMappings": [{"containerPort": 8080}]}],
}
APPSPEC = """\
version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: <TASK_DEFINITION>
        LoadBalancerInfo: {ContainerName: web, ContainerPort: 8080}
"""


def build_pipeline() -> pw.Pipeline:
    """Checkout service: image + deployment files -> blue/green to the canary, smoke test, then main."""
    image = actions.ecr_source("Image", repository_name="checkout", image_tag="release", output="ImageArtifact")
    files = actions.connection_source(
        "DeployFiles",
        connection_arn="arn:aws:codeconnections:us-east-1:123456789012:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
        repository="acme/checkout-deploy",
        branch="main",
        output="DeployFiles",
    )

    def blue_green(name: str, group: str, run_order: int) -> pw.Action:
        return actions.ecs_blue_green(
            name,
            application_name="checkout",
            deployment_group_name=group,
            task_definition=(files.output(), "taskdef.json"),
            app_spec=(files.output(), "appspec.yaml"),
            images={"IMAGE1_NAME": image.output()},
            run_order=run_order,
        )

    smoke = actions.commands(
        "SmokeTest",
        input=files.output(),
        commands=["python3 -c \"import json; assert json.load(open('taskdef.json'))['family'] == 'checkout'\""],
        run_order=2,
    )
    return pw.Pipeline(
        name="checkout-blue-green",
        pipeline_type="V2",
        role_arn="arn:aws:iam::123456789012:role/PipelineRole",
        artifact_store=pw.ArtifactStore(location="checkout-artifacts"),
        stages=[
            pw.Stage(name="Source", actions=[image, files]),
            pw.Stage(
                name="Production",
                actions=[
                    blue_green("ShiftCanary", "checkout-canary", 1),
                    smoke,
                    blue_green("ShiftMain", "checkout-main", 3),
                ],
            ),
        ],
    )


def make_repository(folder: Path) -> Path:
    """A real git repository with the service's deployment files."""
    repo = folder / "checkout-deploy"
    repo.mkdir()
    (repo / "taskdef.json").write_text(json.dumps(TASKDEF, indent=2))
    (repo / "appspec.yaml").write_text(APPSPEC)
    git = ["git", "-c", "user.name=Example", "-c", "user.email=example@example.com", "-C", str(repo)]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "checkout: 2 vCPU"], check=True)
    return repo


def main() -> int:
    """Validate and run locally; print what each (simulated) traffic shift would deploy."""
    from pipeweaver.execution import LocalExecutor

    pipeline = build_pipeline()
    pipeline.validate()
    print(pipeline.plan().describe())
    with tempfile.TemporaryDirectory() as tmp:
        repo = make_repository(Path(tmp))
        executor = LocalExecutor(workdir=Path(tmp) / ".pipeweaver", sources={"Image": DIGEST, "DeployFiles": repo})
        execution = executor.run(pipeline)
        executor.close()
    print(f"{pipeline.name}: {execution.status}")
    for record in execution.actions:
        print(f"  {record.stage}/{record.name}: {record.status} - {record.summary or record.error}")
    image_uri = execution.action("Source", "Image").output_variables.get("ImageURI")
    print(f"image deployed: {image_uri}")
    return 0 if execution.succeeded and image_uri == f"checkout@{DIGEST}" else 1


if __name__ == "__main__":
    sys.exit(main())
