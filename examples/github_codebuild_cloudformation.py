"""GitHub -> CodeBuild -> manual approval -> CloudFormation: the classic release flow.

    python3 examples/github_codebuild_cloudformation.py

What it shows:

* typed action factories from :mod:`pipeweaver.actions` (no hand-written configuration keys);
* a variable flowing from the source (``#{SourceVariables.CommitId}``) into the build and the
  approval message, and one from the build (``#{BuildVariables.IMAGE_TAG}``) into the deploy;
* a local run against a REAL git repository (created here in a temporary folder, standing in
  for the GitHub repository the CodeStar connection reads), a real buildspec, an auto-approved
  approval and a SIMULATED CloudFormation deploy (checked, recorded, not sent to AWS);
* the same pipeline synthesized as a CloudFormation template with a least-privilege role.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pipeweaver as pw
from pipeweaver import actions, synth

BUILDSPEC = """\
version: 0.2
env:
  exported-variables: [IMAGE_TAG]
phases:
  build:
    commands:
      - python3 -c "import json; json.load(open('config.json'))"
      - export IMAGE_TAG="web-$(echo "$COMMIT" | cut -c1-7)"
      - echo "would build and push image $IMAGE_TAG"
artifacts:
  files: [template.yaml, config.json]
"""

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  ImageTag: {Type: String}
Resources:
  Service:
    Type: AWS::SSM::Parameter
    Properties: {Type: String, Name: /web/image, Value: !Ref ImageTag}
"""


def build_pipeline() -> pw.Pipeline:
    """The web service's release pipeline."""
    source = actions.connection_source(
        "GitHub",
        connection_arn="arn:aws:codeconnections:us-east-1:123456789012:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
        repository="acme/web",
        branch="main",
        output="SourceOutput",
        namespace="SourceVariables",
    )
    build = actions.codebuild(
        "Build",
        project_name="web-build",
        input=source.output(),
        outputs=["BuildOutput"],
        environment_variables={"COMMIT": source.variable("CommitId")},
        namespace="BuildVariables",
    )
    approve = actions.manual_approval(
        "ApproveProduction",
        custom_data=f"Ship commit {source.variable('CommitId')} as {build.variable('IMAGE_TAG')} to production?",
    )
    deploy = actions.cloudformation_create_update(
        "DeployProduction",
        stack_name="web-production",
        template=(build.output(), "template.yaml"),
        deployment_role_arn="arn:aws:iam::123456789012:role/CloudFormationDeployRole",
        parameter_overrides={"ImageTag": build.variable("IMAGE_TAG")},
        run_order=2,
    )
    return pw.Pipeline(
        name="web-release",
        pipeline_type="V2",
        role_arn="arn:aws:iam::123456789012:role/PipelineRole",
        artifact_store=pw.ArtifactStore(location="web-release-artifacts"),
        stages=[
            pw.Stage(name="Source", actions=[source]),
            pw.Stage(name="Build", actions=[build]),
            pw.Stage(name="Production", actions=[approve, deploy]),
        ],
    )


def make_repository(folder: Path) -> Path:
    """A real git repository standing in for acme/web on GitHub."""
    repo = folder / "web"
    repo.mkdir()
    (repo / "buildspec.yml").write_text(BUILDSPEC)
    (repo / "template.yaml").write_text(TEMPLATE)
    (repo / "config.json").write_text(json.dumps({"replicas": 3}))
    git = ["git", "-c", "user.name=Example", "-c", "user.email=example@example.com", "-C", str(repo)]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "Release 3 replicas"], check=True)
    return repo


def main() -> int:
    """Validate, run locally against a real git repo, and synthesize CloudFormation."""
    from pipeweaver.execution import LocalExecutor

    pipeline = build_pipeline()
    pipeline.validate()
    print(pipeline.plan().describe())
    with tempfile.TemporaryDirectory() as tmp:
        repo = make_repository(Path(tmp))
        executor = LocalExecutor(workdir=Path(tmp) / ".pipeweaver", sources={"GitHub": repo}, approval="approve")
        execution = executor.run(pipeline)
        executor.close()
    print(f"local run: {execution.status}")
    for record in execution.actions:
        print(f"  {record.stage}/{record.name}: {record.status} - {record.summary or record.error}")
    tag = execution.action("Build", "Build").output_variables["IMAGE_TAG"]
    deployed = execution.action("Production", "DeployProduction")
    overrides = deployed.resolved_configuration.get("ParameterOverrides")
    print(f"image tag from the build: {tag}; the deploy received ParameterOverrides {overrides}")
    template = synth.to_cloudformation(pipeline, pipeline_role=True)
    print(
        f"CloudFormation template: {len(template['Resources'])} resources: {', '.join(sorted(template['Resources']))}"
    )
    return 0 if execution.succeeded and tag in str(deployed.resolved_configuration) else 1


if __name__ == "__main__":
    sys.exit(main())
