"""Typed action factories: one function per provider of the catalog, each returning a plain Action.

Layer: model. Imports the model and the provider catalog only. Keyword arguments are
snake_case and typed (``poll_for_source_changes: bool``, ``capabilities: Sequence[...]``);
the factories turn them into AWS's configuration strings, so everything downstream (lint,
synth, the local executor) sees one :class:`~pipeweaver.Action` model. Required settings are
required parameters; optional ones are left out of the configuration when not given.

.. code-block:: python

    from pipeweaver import actions

    source = actions.github_source("Source", connection_arn=arn, repository="acme/web", branch="main")
    build = actions.codebuild("Build", project_name="web", input=source.output())

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from .._catalog import ActionMode, Capability
from .._catalog import OutputArtifactFormat as OutputArtifactFormat
from ._build import codebuild, codebuild_test, commands, device_farm, ecr_build_and_publish, jenkins
from ._cloudformation import (
    cloudformation,
    cloudformation_change_set_execute,
    cloudformation_change_set_replace,
    cloudformation_create_update,
    cloudformation_delete,
    cloudformation_replace_on_failure,
    cloudformation_stack_instances,
    cloudformation_stackset,
)
from ._common import ArtifactFile as ArtifactFile
from ._common import ArtifactLike as ArtifactLike
from ._common import CodeBuildEnvironmentVariable
from ._common import Text as Text
from ._deploy import (
    alexa_skills_kit,
    appconfig_deploy,
    codedeploy,
    ec2_deploy,
    ecs_blue_green,
    ecs_deploy,
    eks_deploy,
    elastic_beanstalk,
    lambda_deploy,
    opsworks_deploy,
    s3_deploy,
    service_catalog,
)
from ._invoke import custom, inspector_scan, lambda_invoke, manual_approval, pipeline_invoke, snyk, step_functions
from ._source import (
    bitbucket_source,
    codecommit_source,
    connection_source,
    ecr_source,
    github_source,
    github_v1_source,
    gitlab_source,
    s3_source,
)

__all__ = [
    "ActionMode",
    "Capability",
    "CodeBuildEnvironmentVariable",
    "alexa_skills_kit",
    "appconfig_deploy",
    "bitbucket_source",
    "cloudformation",
    "cloudformation_change_set_execute",
    "cloudformation_change_set_replace",
    "cloudformation_create_update",
    "cloudformation_delete",
    "cloudformation_replace_on_failure",
    "cloudformation_stack_instances",
    "cloudformation_stackset",
    "codebuild",
    "codebuild_test",
    "codecommit_source",
    "codedeploy",
    "commands",
    "connection_source",
    "custom",
    "device_farm",
    "ec2_deploy",
    "ecr_build_and_publish",
    "ecr_source",
    "ecs_blue_green",
    "ecs_deploy",
    "eks_deploy",
    "elastic_beanstalk",
    "github_source",
    "github_v1_source",
    "gitlab_source",
    "inspector_scan",
    "jenkins",
    "lambda_deploy",
    "lambda_invoke",
    "manual_approval",
    "opsworks_deploy",
    "pipeline_invoke",
    "s3_deploy",
    "s3_source",
    "service_catalog",
    "snyk",
    "step_functions",
]

# The factories are defined by family in private modules; users (and the docs) know them as
# pipeweaver.actions.<name>.
for _name in __all__:
    _value = globals()[_name]
    if getattr(_value, "__module__", "").startswith(__name__ + "."):
        _value.__module__ = __name__
del _name, _value
