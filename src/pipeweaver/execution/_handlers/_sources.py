"""Source handlers: git repositories (CodeStarSourceConnection, CodeCommit, GitHub v1), S3 and
ECR sources, read from the local stand-ins the executor was given.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import subprocess
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ... import _catalog
from ...errors import ArtifactError
from .._artifacts import safe_extract
from .._base import ActionContext, ActionFailed, ActionResult, FailureType
from .._environment import base_environment
from ._common import LOCAL_ACCOUNT, _Bound, _copy_tree, _require, _single_output


def _git(repo: Path, *args: str, binary: bool = False) -> Any:
    proc = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        env={**base_environment(), "GIT_TERMINAL_PROMPT": "0"},
        check=False,
    )
    if proc.returncode != 0:
        raise ActionFailed(
            f"git {' '.join(args)} failed in {repo}: {proc.stderr.decode('utf-8', 'replace').strip()}",
            failure_type=FailureType.REVISION_UNAVAILABLE,
        )
    return proc.stdout if binary else proc.stdout.decode("utf-8", "replace")


def _archive(repo: Path, commit: str, out: Path) -> None:
    """The tree of *commit* extracted into *out* (``CODE_ZIP``: files only, no git metadata)."""
    data = _git(repo, "archive", "--format=tar", commit, binary=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        if hasattr(tarfile, "data_filter"):
            # The data filter refuses links that lead out of the tree (kept inside, they are
            # followed when the artifact is zipped).
            try:
                tar.extractall(out, filter="data")
            except tarfile.FilterError as exc:
                member = exc.tarinfo
                raise ActionFailed(
                    f"source {repo} at {commit[:12]}: {member.name!r} is a link to {member.linkname!r}, "
                    "outside the repository; links are kept only when they stay inside it: commit a "
                    "copy of the file instead, or remove the link",
                    failure_type=FailureType.CONFIGURATION_ERROR,
                ) from None
        else:  # Python < 3.11.4: keep regular files and directories only
            tar.extractall(out, members=[m for m in tar.getmembers() if m.isreg() or m.isdir()])


#: The file a ``CODEBUILD_CLONE_REF`` source artifact holds locally: where the repository is and
#: which commit to check out (on AWS the artifact is likewise a reference that only CodeBuild
#: actions turn into a clone).
CLONE_REF_FILE = "pipeweaver-clone-ref.json"


def write_clone_ref(out: Path, repo: Path, commit: str, branch: str) -> None:
    """Write the ``CODEBUILD_CLONE_REF`` reference to *repo* at *commit* into the artifact folder *out*."""
    reference = {"format": "CODEBUILD_CLONE_REF", "repository": str(repo.resolve()), "commit": commit, "branch": branch}
    (out / CLONE_REF_FILE).write_text(json.dumps(reference, indent=2) + "\n")


def clone_reference(folder: Path) -> dict[str, str] | None:
    """The clone reference an input artifact folder holds, or ``None`` for an ordinary artifact."""
    path = folder / CLONE_REF_FILE
    if not path.is_file() or any(p.name != CLONE_REF_FILE for p in folder.iterdir()):
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    keys = ("format", "repository", "commit", "branch")
    if (
        not isinstance(data, dict)
        or data.get("format") != "CODEBUILD_CLONE_REF"
        or not all(isinstance(data.get(k), str) for k in keys)
    ):
        return None
    return {k: data[k] for k in keys}


def clone_into(folder: Path, reference: Mapping[str, str], *, artifact: str) -> str:
    """Replace the reference in *folder* by a full clone of its repository, on its branch at its
    commit, as CodeBuild does for a ``CODEBUILD_CLONE_REF`` input; return the commit.

    Raises:
        ActionFailed: the repository or the commit is gone (the message says which and what
            to do); the build never runs on a tree without its git metadata.
    """
    repo, commit, branch = Path(reference["repository"]), reference["commit"], reference["branch"]
    if not repo.exists():
        raise ActionFailed(
            f"input artifact {artifact!r} is a CODEBUILD_CLONE_REF of {repo}, which no longer exists; a full clone "
            "cannot be made: restore the repository, or use OutputArtifactFormat CODE_ZIP",
            failure_type=FailureType.REVISION_UNAVAILABLE,
        )
    (folder / CLONE_REF_FILE).unlink()
    proc = subprocess.run(
        ["git", "clone", "--quiet", "--no-hardlinks", str(repo), str(folder)],
        capture_output=True,
        env={**base_environment(), "GIT_TERMINAL_PROMPT": "0"},
        check=False,
    )
    if proc.returncode != 0:
        raise ActionFailed(
            f"input artifact {artifact!r}: git clone of {repo} failed: "
            f"{proc.stderr.decode('utf-8', 'replace').strip()}",
            failure_type=FailureType.REVISION_UNAVAILABLE,
        )
    try:
        _git(folder, "cat-file", "-e", f"{commit}^{{commit}}")
    except ActionFailed:
        raise ActionFailed(
            f"input artifact {artifact!r} is a CODEBUILD_CLONE_REF of {repo} at {commit[:12]}, a commit the "
            "repository no longer has (rewritten or removed); a full clone at it cannot be made",
            failure_type=FailureType.REVISION_UNAVAILABLE,
        ) from None
    # On the source's branch at the source's commit, as CodeBuild checks it out.
    local = branch if branch != "HEAD" else "main"
    _git(folder, "checkout", "-q", "-B", local, commit)
    return commit


def _clip(text: str, limit: int) -> str:
    """*text* cut to at most *limit* UTF-8 bytes, never inside a character."""
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", "ignore")


def _version_id(etag: str) -> str:
    """A stand-in S3 version id for content with ETag *etag*: 32 URL-safe characters."""
    return base64.urlsafe_b64encode(hashlib.sha256(etag.encode()).digest()).decode()[:32]


def _registry_of(uri: str) -> str | None:
    """The registry (account) id at the start of an ECR image URI, if it has one."""
    found = re.match(r"(\d{12})\.dkr\.ecr\.", uri)
    return found.group(1) if found else None


class SourceHandlers(_Bound):
    """The source handlers, bound to one executor's local sources."""

    def _source_of(self, ctx: ActionContext) -> Any:
        found = self._x.source_for(ctx.stage.name, ctx.action.name)
        if found is None:
            raise ActionFailed(
                f"no local source for action {ctx.stage.name}/{ctx.action.name}; give one with "
                f"--source {ctx.action.name}=PATH (pipeweaver run), LOCAL = LocalEmulation(sources="
                f"{{{ctx.action.name!r}: 'path/to/repo-or-folder'}}) in the pipeline file, or "
                f"LocalExecutor(sources={{{ctx.action.name!r}: 'path/to/repo-or-folder'}})",
                failure_type=FailureType.CONFIGURATION_ERROR,
            )
        return found

    def git_source(self, ctx: ActionContext) -> ActionResult:
        """A git source from a local repository: the branch's tree at its commit."""
        repo = Path(self._source_of(ctx))
        if not (repo / ".git").exists() and not (repo / "HEAD").exists():
            raise ActionFailed(f"source {repo} is not a git repository", failure_type=FailureType.CONFIGURATION_ERROR)
        provider = ctx.action.provider
        branch = ctx.configuration.get("BranchName") or ctx.configuration.get("Branch") or "HEAD"
        revision = ctx.source_revision or branch
        commit = _git(repo, "rev-parse", "--verify", f"{revision}^{{commit}}").strip()
        if ctx.source_revision is None and branch != "HEAD":
            # AWS reads the branch as configured; a missing branch fails the action.
            _git(repo, "rev-parse", "--verify", f"refs/heads/{branch}")
        out = _single_output(ctx)
        if ctx.configuration.get("OutputArtifactFormat") == "CODEBUILD_CLONE_REF":
            write_clone_ref(out, repo, commit, branch)
        else:
            _archive(repo, commit, out)
        meta = _git(repo, "log", "-1", "--format=%H%x00%B%x00%aI%x00%cI", commit).split("\x00")
        message = meta[1].strip()
        variables = {
            "CommitId": commit,
            "CommitMessage": _clip(message, _catalog.COMMIT_MESSAGE_LIMIT),
            "AuthorDate": meta[2].strip(),
            "BranchName": branch,
        }
        if provider == _catalog.CONNECTION_SOURCE.provider:
            variables["FullRepositoryName"] = ctx.configuration.get("FullRepositoryId", repo.name)
            if ctx.configuration.get("ConnectionArn"):
                variables["ConnectionArn"] = ctx.configuration["ConnectionArn"]
        elif provider == _catalog.CODECOMMIT_SOURCE.provider:
            variables["RepositoryName"] = ctx.configuration.get("RepositoryName", repo.name)
            variables["CommitterDate"] = meta[3].strip()
        else:  # GitHub v1
            owner, name = ctx.configuration.get("Owner", ""), ctx.configuration.get("Repo", repo.name)
            variables["RepositoryName"] = name
            variables["CommitterDate"] = meta[3].strip()
            variables["CommitUrl"] = f"https://github.com/{owner}/{name}/commit/{commit}"
        ctx.log(f"fetched {repo} at {commit[:12]} ({branch}): {message.splitlines()[0] if message else ''}")
        return ActionResult(output_variables=variables, summary=message.splitlines()[0] if message else commit)

    def s3_source(self, ctx: ActionContext) -> ActionResult:
        """An S3 source from a local folder or zip (the "object")."""
        bucket, key = _require(ctx, "S3Bucket", "S3ObjectKey")
        path = Path(self._source_of(ctx))
        out = _single_output(ctx)
        variables = {"BucketName": bucket, "ObjectKey": key}
        if path.is_dir():
            variables["ETag"] = _copy_tree(path, out, what=f"S3 source folder {path}")[:32]
        elif path.is_file():
            try:
                safe_extract(path, out)
            except ArtifactError as exc:
                raise ActionFailed(str(exc)) from None
            # A single-part S3 upload's ETag is the MD5 of the object.
            variables["ETag"] = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
        else:
            raise ActionFailed(f"S3 source {path} does not exist", failure_type=FailureType.REVISION_UNAVAILABLE)
        if ctx.source_revision:
            variables["VersionId"] = ctx.source_revision
        else:
            # A local folder or zip has no S3 version: the stand-in is one per content (the same
            # object gives the same id), in the shape of S3's opaque ids.
            variables["VersionId"] = _version_id(variables["ETag"])
            ctx.log(f"[pipeweaver] VersionId {variables['VersionId']} stands for the local object's S3 version")
        ctx.log(f"read s3://{bucket}/{key} from local {path}")
        return ActionResult(output_variables=variables, summary=f"s3://{bucket}/{key} (local {path.name})")

    def ecr_source(self, ctx: ActionContext) -> ActionResult:
        """An ECR source from a configured digest (``sources={"Image": "sha256:..."}``)."""
        (repository,) = _require(ctx, "RepositoryName")
        tag = ctx.configuration.get("ImageTag", "latest")
        configured = self._source_of(ctx)
        spec: dict[str, str] = dict(configured) if isinstance(configured, Mapping) else {"digest": str(configured)}
        digest = ctx.source_revision or spec.get("digest", "")
        if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
            raise ActionFailed(
                f"ECR source {ctx.action.name!r}: {digest!r} is not an image digest (sha256:<64 hex>)",
                failure_type=FailureType.CONFIGURATION_ERROR,
            )
        uri = spec.get("uri") or f"{repository}@{digest}"
        detail = {"ImageDigest": digest, "RepositoryName": repository, "ImageURI": uri, "ImageTags": [tag]}
        registry = spec.get("registry_id") or _registry_of(uri) or LOCAL_ACCOUNT
        detail["RegistryId"] = registry
        (_single_output(ctx) / "imageDetail.json").write_text(json.dumps(detail, indent=2))
        variables = {"RepositoryName": repository, "ImageDigest": digest, "ImageURI": uri}
        if not ctx.source_revision:
            variables["ImageTag"] = tag
        variables["RegistryId"] = registry
        return ActionResult(output_variables=variables, summary=f"{repository}@{digest[:19]}")
