"""Source providers: S3, ECR, CodeCommit, CodeConnections and GitHub (v1).

Layer: names/limits. Entries of the provider catalog (see :mod:`pipeweaver._catalog`); each
cites the AWS page it comes from (reference/codepipeline.md §3.1, §4.6 for timeouts).
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from ._spec import BOOL, UG, Arn, EventSource, Grant, Named, ProviderSpec, Setting, entries

#: The entries are the module's ProviderSpec constants, collected in SPECS.
__all__ = ["COMMIT_MESSAGE_LIMIT", "OutputArtifactFormat", "SPECS"]

#: Bytes of a commit's message a git source's CommitMessage variable holds at most (UTF-8;
#: "Variables reference": up to 100 KB).
COMMIT_MESSAGE_LIMIT: Final = 100 * 1024


#: How a git source packs its artifact (the typed factories' parameter type).
OutputArtifactFormat = Literal["CODE_ZIP", "CODEBUILD_CLONE_REF"]
_OUTPUT_FORMATS: Final = get_args(OutputArtifactFormat)

S3_SOURCE: Final = ProviderSpec(
    category="Source",
    owner="AWS",
    provider="S3",
    inputs=(0, 0),
    outputs=(1, 1),
    required=("S3Bucket", "S3ObjectKey"),
    optional=("PollForSourceChanges", "AllowOverrideForS3ObjectKey"),
    allowed={"PollForSourceChanges": BOOL, "AllowOverrideForS3ObjectKey": BOOL},
    output_variables=("BucketName", "ETag", "ObjectKey", "VersionId"),
    iam=(
        Grant(
            actions=("s3:GetBucketVersioning",),
            resources=(Arn(service="s3", parts=(Setting("S3Bucket"),), account=False, regional=False),),
        ),
        Grant(
            actions=("s3:GetObject", "s3:GetObjectVersion"),
            resources=(
                Arn(
                    service="s3",
                    parts=(Setting("S3Bucket"), "/", Setting("S3ObjectKey", default="*")),
                    account=False,
                    regional=False,
                ),
            ),
        ),
    ),
    revision_type="S3_OBJECT_VERSION_ID",
    events=EventSource(rule="s3", poll_key="PollForSourceChanges"),
    handler="s3_source",
    source=UG + "action-reference-S3.html",
)

ECR_SOURCE: Final = ProviderSpec(
    category="Source",
    owner="AWS",
    provider="ECR",
    inputs=(0, 0),
    outputs=(1, 1),
    required=("RepositoryName",),
    optional=("ImageTag",),
    output_variables=("RegistryId", "RepositoryName", "ImageTag", "ImageDigest", "ImageURI"),
    iam=(Grant(actions=("ecr:DescribeImages",), resources=(Named("RepositoryName", "ecr", "repository/"),)),),
    revision_type="IMAGE_DIGEST",
    events=EventSource(rule="ecr"),
    handler="ecr_source",
    source=UG + "action-reference-ECR.html",
)

CODECOMMIT_SOURCE: Final = ProviderSpec(
    category="Source",
    owner="AWS",
    provider="CodeCommit",
    inputs=(0, 0),
    outputs=(1, 1),
    required=("RepositoryName", "BranchName"),
    optional=("PollForSourceChanges", "OutputArtifactFormat"),
    allowed={"PollForSourceChanges": BOOL, "OutputArtifactFormat": _OUTPUT_FORMATS},
    output_variables=(
        "CommitId",
        "CommitMessage",
        "RepositoryName",
        "BranchName",
        "AuthorDate",
        "CommitterDate",
    ),
    iam=(
        Grant(
            actions=(
                "codecommit:CancelUploadArchive",
                "codecommit:GetBranch",
                "codecommit:GetCommit",
                "codecommit:GetRepository",
                "codecommit:GetUploadArchiveStatus",
                "codecommit:UploadArchive",
            ),
            resources=(Named("RepositoryName", "codecommit", ""),),
        ),
    ),
    revision_type="COMMIT_ID",
    events=EventSource(
        rule="codecommit",
        poll_key="PollForSourceChanges",
        git=True,
        branch_key="BranchName",
        repository_keys=("RepositoryName",),
    ),
    handler="git_source",
    source=UG + "action-reference-CodeCommit.html",
)

CONNECTION_SOURCE: Final = ProviderSpec(
    category="Source",
    owner="AWS",
    provider="CodeStarSourceConnection",
    inputs=(0, 0),
    outputs=(1, 1),
    required=("ConnectionArn", "FullRepositoryId", "BranchName"),
    optional=("OutputArtifactFormat", "DetectChanges"),
    allowed={"OutputArtifactFormat": _OUTPUT_FORMATS, "DetectChanges": BOOL},
    output_variables=(
        "AuthorDate",
        "BranchName",
        "CommitId",
        "CommitMessage",
        "ConnectionArn",
        "FullRepositoryName",
    ),
    iam=(
        Grant(
            actions=("codestar-connections:UseConnection", "codeconnections:UseConnection"),
            resources=(Setting("ConnectionArn"),),
        ),
    ),
    revision_type="COMMIT_ID",
    events=EventSource(
        detect_key="DetectChanges", git=True, branch_key="BranchName", repository_keys=("FullRepositoryId",)
    ),
    handler="git_source",
    source=UG + "action-reference-CodestarConnectionSource.html",
)

GITHUB_V1_SOURCE: Final = ProviderSpec(
    category="Source",
    owner="ThirdParty",
    provider="GitHub",
    inputs=(0, 0),
    outputs=(1, 1),
    required=("Owner", "Repo", "Branch", "OAuthToken"),
    optional=("PollForSourceChanges",),
    allowed={"PollForSourceChanges": BOOL},
    secrets=("OAuthToken",),
    output_variables=(
        "AuthorDate",
        "BranchName",
        "CommitId",
        "CommitMessage",
        "CommitterDate",
        "CommitUrl",
        "RepositoryName",
    ),
    revision_type="COMMIT_ID",
    events=EventSource(
        webhook=True, poll_key="PollForSourceChanges", git=True, branch_key="Branch", repository_keys=("Owner", "Repo")
    ),
    handler="git_source",
    source=UG + "appendix-github-oauth.html",
)

#: This family's entries, in the order they are defined above (the catalog's order).
SPECS: Final = entries(globals())
