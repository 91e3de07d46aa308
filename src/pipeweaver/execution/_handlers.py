"""Action handlers: the registry and the built-in local handlers.

Layer: execution. Built-ins: git sources (CodeStarSourceConnection, CodeCommit, GitHub v1),
S3 and ECR sources, ``Commands``, CodeBuild build/test (buildspec phases), Lambda invoke
through Python callables, S3 deploy into a local folder, and **simulated** stand-ins for the
deploy providers that need AWS (CloudFormation, CodeDeploy, ECS, ...): they check their inputs
and record what they would deploy, and their summary says ``simulated``. Manual approvals are
answered by the executor (see :mod:`pipeweaver.execution._local`).
"""

from __future__ import annotations

import hashlib
import inspect
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from .. import _catalog
from .._loader import LoadFailure, load_json, load_yaml
from .._model import Action, ActionCategory, ActionType, Stage
from ..errors import ArtifactError
from ._artifacts import safe_extract, zip_directory
from ._base import ActionContext, ActionFailed, ActionResult, FailureType
from ._environment import base_environment
from ._paths import action_path, confine, real_inside, setting, walk
from ._shell import EXITING, Phase, run_phases

__all__ = [
    "HandlerKey",
    "HandlerRegistry",
    "HandlerServices",
    "builtin_handlers",
    "default_timeout",
    "handler_key",
]

#: ``(category, owner, provider, version)``.
HandlerKey = tuple[str, str, str, str]

#: What the registry stores: an :class:`ActionHandler` or any callable of the same shape.
HandlerFn = Callable[[ActionContext], "ActionResult | None"]


def default_timeout(action: Action) -> float:
    """AWS's timeout for *action* in seconds (reference §4.6): ``timeoutInMinutes`` for manual
    approvals, else its catalog entry's (which counts ECS's ``DeploymentTimeout``)."""
    if action.category is ActionCategory.APPROVAL and action.timeout_in_minutes:
        return action.timeout_in_minutes * 60.0
    return float(_catalog.default_timeout(action.action_type, action.configuration)) * 60.0


def handler_key(key: ActionType | tuple[str, str, str, str] | str) -> HandlerKey | str:
    """Normalize a registry key: an action type, a 4-tuple, ``"Category/Owner/Provider/Version"``
    (``*`` matches anything), or ``"Stage/Action"`` for one action."""
    if isinstance(key, ActionType):
        return (key.category.value, key.owner.value, key.provider, key.version)
    if isinstance(key, tuple):
        if len(key) != 4:
            raise ValueError(f"handler key {key!r} must be (category, owner, provider, version)")
        return (str(key[0]), str(key[1]), str(key[2]), str(key[3]))
    parts = key.split("/")
    if len(parts) == 4:
        return (parts[0], parts[1], parts[2], parts[3])
    if len(parts) == 2:
        return key
    raise ValueError(
        f"handler key {key!r} is neither 'Category/Owner/Provider/Version', 'Stage/Action', an ActionType nor a 4-tuple"
    )


class HandlerRegistry:
    """
    Action type (or one ``Stage/Action``) -> handler.

    Lookup order: the action itself (``"Stage/Action"``), then its exact type, then patterns
    with ``*`` parts.

    .. versionadded:: 0.1.0
    """

    def __init__(self, handlers: Mapping[Any, HandlerFn] | None = None) -> None:
        self._by_action: dict[str, HandlerFn] = {}
        self._by_type: dict[HandlerKey, HandlerFn] = {}
        for key, handler in (handlers or {}).items():
            self.register(key, handler)

    def register(self, key: ActionType | tuple[str, str, str, str] | str, handler: HandlerFn) -> None:
        """Register *handler* for an action type or for one ``Stage/Action``."""
        if not callable(handler):
            raise TypeError(f"handler for {key!r} must be callable (context) -> ActionResult | None")
        normal = handler_key(key)
        if isinstance(normal, str):
            self._by_action[normal] = handler
        else:
            self._by_type[normal] = handler

    def find(self, stage: Stage, action: Action) -> HandlerFn | None:
        """The handler for *action* in *stage*, or ``None``."""
        found = self._by_action.get(f"{stage.name}/{action.name}")
        if found is not None:
            return found
        t = action.action_type
        key = (t.category.value, t.owner.value, t.provider, t.version)
        found = self._by_type.get(key)
        if found is not None:
            return found
        for pattern, handler in self._by_type.items():
            if all(p in ("*", k) for p, k in zip(pattern, key, strict=True)):
                return handler
        return None

    def merged(self, other: HandlerRegistry) -> HandlerRegistry:
        """A registry where *other*'s entries win over this one's."""
        out = HandlerRegistry()
        out._by_action = {**self._by_action, **other._by_action}
        out._by_type = {**self._by_type, **other._by_type}
        return out


# -- helpers -------------------------------------------------------------------------------


def _stopped_reason() -> str:
    if EXITING.is_set():
        return "interrupted: the Python process exited while the commands ran"
    return "stopped: the execution was stopped or the action timed out"


def _single_output(ctx: ActionContext) -> Path:
    if len(ctx.outputs) != 1:
        raise ActionFailed(
            f"action {ctx.action.name!r} needs exactly one output artifact, it has {len(ctx.outputs)}",
            failure_type=FailureType.CONFIGURATION_ERROR,
        )
    return next(iter(ctx.outputs.values()))


def _require(ctx: ActionContext, *keys: str) -> list[str]:
    missing = [k for k in keys if not ctx.configuration.get(k)]
    if missing:
        raise ActionFailed(
            f"action {ctx.action.name!r} lacks required configuration {missing}",
            failure_type=FailureType.CONFIGURATION_ERROR,
        )
    return [ctx.configuration[k] for k in keys]


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


def _artifact_file(ctx: ActionContext, spec: str, what: str) -> Path:
    """Resolve CloudFormation-style ``ArtifactName::path/in/artifact``."""
    name, sep, rel = spec.partition("::")
    if not sep:
        raise ActionFailed(
            f"{what} {spec!r} must look like 'ArtifactName::path/in/artifact'",
            failure_type=FailureType.CONFIGURATION_ERROR,
        )
    base = ctx.inputs.get(name)
    if base is None:
        raise ActionFailed(
            f"{what} {spec!r} names artifact {name!r}, which is not an input of this action "
            f"(inputs: {sorted(ctx.inputs)})",
            failure_type=FailureType.CONFIGURATION_ERROR,
        )
    path = confine(
        base,
        rel,
        what=setting(ctx, what),
        fix=f"name a file inside artifact {name!r} as '{name}::path/in/artifact'",
        root_name=f"artifact {name!r}",
    )
    if not path.is_file():
        raise ActionFailed(
            f"{what} {spec!r}: file {rel!r} is not in artifact {name!r}", failure_type=FailureType.JOB_FAILED
        )
    return path


def _load_structured(path: Path) -> Any:
    """A CloudFormation template's JSON or YAML, read by the bounded loader (short-form tags as data)."""
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("{"):
        try:
            return load_json(text)
        except LoadFailure as exc:
            if exc.unsafe:
                raise
    return load_yaml(text, cloudformation=True)


def _copy_tree(source: Path, destination: Path, *, what: str) -> str:
    """Copy the tree under *source* into *destination* without following a link out of
    *source* (see :func:`._paths.walk`); return a sha256 of its names and contents."""
    entries, _ = walk(source, what=what)
    digest = hashlib.sha256()
    top = os.path.realpath(destination)
    for name, real in sorted(entries):
        rel = name.rstrip("/")
        # The destination may be a bucket folder with older files: never make or write through
        # a linked folder that leads out of it, and replace a link rather than write through it.
        real_inside(Path(top), os.path.dirname(rel) or ".", what=f"destination {top}")
        target = destination / rel
        if real is None:
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()
        shutil.copy2(real, target)
        digest.update(name.encode())
        with open(real, "rb") as fh:
            digest.update(fh.read())
    return digest.hexdigest()


# -- the built-ins -------------------------------------------------------------------------


class HandlerServices(Protocol):
    """
    **Protocol:** what the built-in handlers need from the executor running them.

    ``LocalExecutor`` provides it. Declared here, beside its users, so this module never
    imports the engine that imports it.
    """

    @property
    def buildspecs(self) -> Mapping[str, Any]:
        """CodeBuild project -> the buildspec given for it."""
        ...

    def source_for(self, stage: str, action: str) -> Any:
        """The local stand-in given for a source action, or ``None``."""
        ...

    def function_for(self, name: str) -> Callable[..., Any]:
        """The Python callable standing in for Lambda function *name*."""
        ...

    def base_environment(self) -> dict[str, str]:
        """The allow-listed host environment commands start from."""
        ...

    def secret_value(self, ref: str, *, where: str) -> str:
        """The value of a Secrets Manager reference (and mask it from then on)."""
        ...

    def bucket_path(self, bucket: str, *, what: str = "BucketName") -> Path:
        """The local folder standing in for S3 bucket *bucket*."""
        ...

    def resolve_text(self, ctx: ActionContext, text: str) -> str:
        """*text* with the execution's variables resolved."""
        ...

    def record_simulation(self, ctx: ActionContext, detail: str) -> None:
        """Note in the action's log that a deploy was simulated, and how."""
        ...


class Builtins:
    """The built-in handlers, bound to one executor's options (sources, functions, secrets...)."""

    def __init__(self, executor: HandlerServices) -> None:
        self._x = executor

    # sources -------------------------------------------------------------------------------

    def _source_of(self, ctx: ActionContext) -> Any:
        found = self._x.source_for(ctx.stage.name, ctx.action.name)
        if found is None:
            raise ActionFailed(
                f"no local source for action {ctx.stage.name}/{ctx.action.name}; pass "
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
        meta = _git(repo, "log", "-1", "--format=%H%x00%B%x00%aI%x00%cI", commit).split("\x00")
        message = meta[1].strip()
        variables = {
            "CommitId": commit,
            "CommitMessage": message[:4096],
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
        if spec.get("registry_id"):
            detail["RegistryId"] = spec["registry_id"]
        (_single_output(ctx) / "imageDetail.json").write_text(json.dumps(detail, indent=2))
        variables = {"RepositoryName": repository, "ImageDigest": digest, "ImageURI": uri}
        if not ctx.source_revision:
            variables["ImageTag"] = tag
        if spec.get("registry_id"):
            variables["RegistryId"] = spec["registry_id"]
        return ActionResult(output_variables=variables, summary=f"{repository}@{digest[:19]}")

    # compute -----------------------------------------------------------------------------------

    def _base_env(self, ctx: ActionContext, primary: Path) -> dict[str, str]:
        # The allow-listed host variables, never the whole os.environ (tokens stay out).
        env = {k: v for k, v in self._x.base_environment().items() if not k.startswith("CODEBUILD_")}
        env.update(
            {
                "CODEBUILD_SRC_DIR": str(primary),
                "CODEBUILD_BUILD_ID": f"local:{uuid.uuid4()}",
                "CODEBUILD_INITIATOR": f"codepipeline/{ctx.pipeline.name}",
                "CODEBUILD_LOCAL": "pipeweaver",
                "CODEPIPELINE_EXECUTION_ID": ctx.execution_id,
            }
        )
        for name, path in ctx.inputs.items():
            if path != primary:
                env[f"CODEBUILD_SRC_DIR_{name}"] = str(path)
        env.update(ctx.environment)
        return env

    def _primary(self, ctx: ActionContext) -> Path:
        name = ctx.configuration.get("PrimarySource")
        if name:
            if name not in ctx.inputs:
                raise ActionFailed(
                    f"PrimarySource {name!r} is not an input artifact (inputs: {sorted(ctx.inputs)})",
                    failure_type=FailureType.CONFIGURATION_ERROR,
                )
            return ctx.inputs[name]
        primary = ctx.primary_input
        if primary is None:
            primary = ctx.workdir / "src"
            primary.mkdir(parents=True, exist_ok=True)
        return primary

    def commands(self, ctx: ActionContext) -> ActionResult:
        """The ``Commands`` action: run ``commands`` in the primary input, collect files/variables."""
        if not ctx.action.commands:
            raise ActionFailed("Commands action has no commands", failure_type=FailureType.CONFIGURATION_ERROR)
        primary = self._primary(ctx)
        env = self._base_env(ctx, primary)
        result = run_phases(
            [Phase("build", tuple(self._x.resolve_text(ctx, c) for c in ctx.action.commands))],
            cwd=primary,
            env=env,
            log=ctx.log,
            cancel=ctx.cancel,
            capture=ctx.action.output_variables,
        )
        if result.returncode != 0:
            raise ActionFailed(_stopped_reason() if result.cancelled else result.failure())
        for index, artifact in enumerate(ctx.action.outputs):
            _collect(
                primary,
                ctx.outputs[artifact.name],
                artifact.files or ("**/*",),
                base=None,
                discard=False,
                what=f"{action_path(ctx.pipeline, ctx.stage, ctx.action)}.outputArtifacts[{index}].files",
            )
        missing = [n for n in ctx.action.output_variables if n not in result.variables]
        if missing:
            ctx.log(f"[pipeweaver] output variables not set by the commands: {missing}")
        return ActionResult(
            output_variables=dict(result.variables), summary=f"{len(ctx.action.commands)} command(s) succeeded"
        )

    def codebuild(self, ctx: ActionContext) -> ActionResult:
        """CodeBuild build/test: run the buildspec's phases and collect its artifacts."""
        (project,) = _require(ctx, "ProjectName")
        primary = self._primary(ctx)
        spec = self._buildspec(ctx, project, primary)
        env = self._base_env(ctx, primary)
        env_spec = spec.get("env") or {}
        for name, value in (env_spec.get("variables") or {}).items():
            env[str(name)] = str(value)
        for name, ref in (env_spec.get("secrets-manager") or {}).items():
            env[str(name)] = self._x.secret_value(str(ref), where=f"buildspec env.secrets-manager.{name}")
        for name, ref in (env_spec.get("parameter-store") or {}).items():
            env[str(name)] = self._x.secret_value(str(ref), where=f"buildspec env.parameter-store.{name}")
        raw = ctx.configuration.get("EnvironmentVariables")
        if raw:
            try:
                entries = json.loads(raw)
                assert isinstance(entries, list)
            except (ValueError, AssertionError):
                raise ActionFailed(
                    "configuration EnvironmentVariables must be a JSON list of {name, value, type}",
                    failure_type=FailureType.CONFIGURATION_ERROR,
                ) from None
            for entry in entries:
                kind = entry.get("type", "PLAINTEXT")
                value = str(entry.get("value", ""))
                if kind in ("SECRETS_MANAGER", "PARAMETER_STORE"):
                    value = self._x.secret_value(value, where=f"EnvironmentVariables {entry.get('name')}")
                env[str(entry["name"])] = value
        phases = spec.get("phases") or {}
        order = ("install", "pre_build", "build", "post_build")
        unknown = sorted(set(phases) - set(order))
        if unknown:
            raise ActionFailed(f"buildspec has unknown phases {unknown}", failure_type=FailureType.CONFIGURATION_ERROR)
        plan = []
        for name in order:
            if name not in phases:
                continue
            body = phases.get(name) or {}
            on_failure = str(body.get("on-failure", "ABORT"))
            if on_failure not in ("ABORT", "CONTINUE"):
                raise ActionFailed(
                    f"buildspec phases.{name}.on-failure is {on_failure!r}; locally it can be ABORT (the default) or "
                    "CONTINUE (the RETRY forms are not emulated)",
                    failure_type=FailureType.CONFIGURATION_ERROR,
                )
            plan.append(
                Phase(
                    name,
                    tuple(str(c) for c in body.get("commands") or ()),
                    tuple(str(c) for c in body.get("finally") or ()),
                    on_failure,
                )
            )
        exported = tuple(str(n) for n in env_spec.get("exported-variables") or ())
        result = run_phases(plan, cwd=primary, env=env, log=ctx.log, cancel=ctx.cancel, capture=exported)
        if result.returncode != 0:
            raise ActionFailed(
                _stopped_reason()
                if result.cancelled
                else f"build failed in phase {result.failed_phase} (project {project}): {result.failure()}"
            )
        self._codebuild_artifacts(ctx, spec, primary)
        return ActionResult(
            output_variables=dict(result.variables),
            summary=f"build succeeded (project {project}, local buildspec run)",
            external_execution_id=env["CODEBUILD_BUILD_ID"],
        )

    def _buildspec(self, ctx: ActionContext, project: str, primary: Path) -> dict[str, Any]:
        override = ctx.configuration.get("BuildspecOverride")
        mapped = self._x.buildspecs.get(project)
        source: Any
        if override:
            source = override
            if "\n" not in override:
                path = confine(
                    primary,
                    override,
                    what=setting(ctx, "BuildspecOverride"),
                    fix="name a buildspec file inside the primary source, or give the buildspec inline",
                    root_name="the primary source",
                )
                source = path if path.is_file() else override
        elif mapped is not None:
            source = mapped
        else:
            for candidate in ("buildspec.yml", "buildspec.yaml"):
                if (primary / candidate).is_file():
                    source = primary / candidate
                    break
            else:
                raise ActionFailed(
                    f"no buildspec for project {project!r}: none in the input artifact (buildspec.yml), no "
                    f"BuildspecOverride, and none given as LocalExecutor(buildspecs={{{project!r}: ...}})",
                    failure_type=FailureType.CONFIGURATION_ERROR,
                )
        if isinstance(source, Mapping):
            return dict(source)
        try:
            text = source.read_text() if isinstance(source, Path) else str(source)
            if isinstance(source, str) and "\n" not in source and Path(source).is_file():
                text = Path(source).read_text()
            data = load_yaml(text)
        except (OSError, UnicodeDecodeError, LoadFailure) as exc:
            hint = f" ({exc.hint})" if isinstance(exc, LoadFailure) and exc.hint else ""
            raise ActionFailed(
                f"buildspec is not readable YAML: {exc}{hint}", failure_type=FailureType.CONFIGURATION_ERROR
            ) from None
        if not isinstance(data, dict):
            raise ActionFailed("buildspec must be a YAML mapping", failure_type=FailureType.CONFIGURATION_ERROR)
        return data

    def _codebuild_artifacts(self, ctx: ActionContext, spec: Mapping[str, Any], primary: Path) -> None:
        outputs = list(ctx.action.outputs)
        if not outputs:
            return
        section = spec.get("artifacts") or {}
        secondary = section.get("secondary-artifacts") or {}
        for index, artifact in enumerate(outputs):
            if artifact.name in secondary:
                block = secondary[artifact.name]
                what = f"buildspec artifacts.secondary-artifacts.{artifact.name}"
            elif index == 0 and section.get("files"):
                block = section
                what = "buildspec artifacts"
            else:
                raise ActionFailed(
                    f"output artifact {artifact.name!r} has no files in the buildspec: use artifacts.files "
                    f"(first output) or artifacts.secondary-artifacts.{artifact.name}",
                    failure_type=FailureType.CONFIGURATION_ERROR,
                )
            files = block.get("files") or ()
            if isinstance(files, str):
                files = (files,)
            _collect(
                primary,
                ctx.outputs[artifact.name],
                tuple(str(f) for f in files),
                base=block.get("base-directory"),
                discard=str(block.get("discard-paths", "no")).lower() in ("yes", "true"),
                what=what,
            )

    # invoke / deploy ---------------------------------------------------------------------------

    def lambda_invoke(self, ctx: ActionContext) -> ActionResult:
        """Lambda invoke: call the registered Python function with a CodePipeline job event."""
        (name,) = _require(ctx, "FunctionName")
        function = self._x.function_for(name)
        event = job_event(ctx)
        try:
            value = call_function(function, event)
        except ActionFailed:
            raise
        except Exception as exc:
            raise ActionFailed(f"function {name} failed: {type(exc).__name__}: {exc}") from None
        if isinstance(value, ActionResult):
            return value
        if value is None:
            return ActionResult(summary=f"function {name} succeeded")
        if isinstance(value, Mapping):
            return ActionResult(
                output_variables={str(k): str(v) for k, v in value.items()}, summary=f"function {name} succeeded"
            )
        raise ActionFailed(f"function {name} returned {type(value).__name__}; return None, a dict or an ActionResult")

    def s3_deploy(self, ctx: ActionContext) -> ActionResult:
        """S3 deploy into a local folder standing in for the bucket."""
        bucket, extract = _require(ctx, "BucketName", "Extract")
        target = self._x.bucket_path(bucket, what=setting(ctx, "BucketName"))
        source = ctx.primary_input
        if source is None:
            raise ActionFailed("S3 deploy needs an input artifact", failure_type=FailureType.CONFIGURATION_ERROR)
        key = ctx.configuration.get("ObjectKey", "")
        fix = "give a key relative to the bucket, such as 'site/' or 'releases/app.zip'"
        if extract.lower() == "true":
            where = target
            if key:
                where = confine(target, key, what=setting(ctx, "ObjectKey"), fix=fix, root_name="the bucket folder")
            where.mkdir(parents=True, exist_ok=True)
            _copy_tree(source, where, what=f"input artifact {ctx.action.inputs[0].name!r}")
        else:
            if not key:
                raise ActionFailed(
                    "ObjectKey is required when Extract is false", failure_type=FailureType.CONFIGURATION_ERROR
                )
            key = key.replace("{datetime}", datetime.now(UTC).strftime("%Y-%m-%d_%H-%M-%S")).replace(
                "{uuid}", str(uuid.uuid4())
            )
            where = confine(target, key, what=setting(ctx, "ObjectKey"), fix=fix, root_name="the bucket folder")
            if where == target:
                raise ActionFailed(
                    f"{setting(ctx, 'ObjectKey')}: {key!r} names the bucket itself; {fix}",
                    failure_type=FailureType.CONFIGURATION_ERROR,
                )
            where.parent.mkdir(parents=True, exist_ok=True)
            if where.is_symlink():
                where.unlink()
            zip_directory(source, where)
        ctx.log(f"deployed to local bucket folder {where}")
        return ActionResult(summary=f"deployed to s3://{bucket}/{key} (local folder {where})")

    def simulated_deploy(self, ctx: ActionContext) -> ActionResult:
        """A local stand-in for a deploy provider that needs AWS: checks inputs, records intent."""
        provider = ctx.action.provider
        checks = _DEPLOY_CHECKS.get(provider)
        detail = checks(ctx) if checks else f"{provider} deploy with inputs {sorted(ctx.inputs)}"
        self._x.record_simulation(ctx, detail)
        ctx.log(f"SIMULATED (nothing was deployed): {detail}")
        for name, out in ctx.outputs.items():
            # CloudFormation's OutputFileName: the stand-in writes what it knows, no stack outputs.
            out.mkdir(parents=True, exist_ok=True)
            file = ctx.configuration.get("OutputFileName") or f"{name}.json"
            path = confine(
                out,
                file,
                what=setting(ctx, "OutputFileName"),
                fix="give a file name inside the output artifact, such as 'outputs.json'",
                root_name=f"output artifact {name!r}",
            )
            if path == Path(os.path.realpath(out)):
                raise ActionFailed(
                    f"{setting(ctx, 'OutputFileName')}: {file!r} names the artifact folder, not a file",
                    failure_type=FailureType.CONFIGURATION_ERROR,
                )
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"simulated": True, "detail": detail}, indent=2))
        return ActionResult(summary=f"simulated: {detail}")


def _collect(root: Path, destination: Path, patterns: tuple[str, ...], *, base: Any, discard: bool, what: str) -> None:
    """Copy files matching CodeBuild-style globs from *root* (or its *base* directory).

    Patterns and the base directory stay inside *root*; a matched file reached through a link
    is copied when the link stays inside *root* and refused when it leads outside (a
    ``dist/cache -> ~/.ssh`` link matched by ``dist/*/*`` would otherwise ship the keys).
    """
    top = Path(os.path.realpath(root))
    start = top
    if base:
        start = confine(
            top,
            str(base),
            what=f"{what} base-directory",
            fix="give a folder inside the source, such as 'dist'",
            root_name="the source folder",
        )
    chosen: dict[str, str] = {}
    for pattern in patterns:
        pattern = pattern.removeprefix("./")
        parts = pattern.replace("\\", "/").split("/")
        if pattern.startswith("/") or ".." in parts or "\x00" in pattern:
            raise ActionFailed(
                f"{what} {pattern!r} leaves the base folder {start}; "
                "give a path or glob inside it, such as 'dist/**/*'",
                failure_type=FailureType.CONFIGURATION_ERROR,
            )
        globbed = any(c in pattern for c in "*?[")
        if pattern in ("", "."):
            hits = [start]
        elif globbed:
            hits = list(start.glob(pattern))
        else:
            hits = [start / pattern]
        for hit in hits:
            rel = hit.relative_to(start).as_posix() if hit != start else ""
            if not os.path.lexists(hit) or (globbed and os.path.isdir(hit)):
                continue  # a glob takes files only: what lies behind a folder link is not reached
            real = real_inside(top, os.path.relpath(hit, top), what=f"{what} {pattern!r}")
            if os.path.isfile(real):
                chosen[rel] = real
            elif os.path.isdir(real) and not globbed:
                # An explicit directory name takes the whole directory.
                entries, _ = walk(Path(real), what=f"{what} {pattern!r}", within=top)
                for name, file in entries:
                    if file is not None:
                        chosen[f"{rel}/{name}" if rel else name] = file
    if not chosen:
        raise ActionFailed(f"no files matched the artifact paths {list(patterns)} under {start.name or start}")
    for rel, file in chosen.items():
        target = destination / (Path(rel).name if discard else rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, target)


def job_event(ctx: ActionContext) -> dict[str, Any]:
    """A CodePipeline-style job event for a Lambda function; artifact locations are local folders."""

    def artifacts(items: Mapping[str, Path]) -> list[dict[str, Any]]:
        return [{"name": n, "location": {"type": "LocalDirectory", "localDirectory": str(p)}} for n, p in items.items()]

    config = {k: v for k, v in ctx.configuration.items() if k in ("FunctionName", "UserParameters")}
    data: dict[str, Any] = {
        "actionConfiguration": {"configuration": config},
        "inputArtifacts": artifacts(ctx.inputs),
        "outputArtifacts": artifacts(ctx.outputs),
        "artifactCredentials": {},
    }
    if ctx.continuation_token:
        data["continuationToken"] = ctx.continuation_token
    return {"CodePipeline.job": {"id": str(uuid.uuid4()), "accountId": "000000000000", "data": data}}


def call_function(function: Callable[..., Any], event: Mapping[str, Any]) -> Any:
    """Call a Lambda-style function with ``(event)`` or ``(event, context)``."""
    try:
        params = inspect.signature(function).parameters
        positional = [p for p in params.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        takes_two = len(positional) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in params.values())
    except (TypeError, ValueError):
        takes_two = False
    return function(event, None) if takes_two else function(event)


def _check_cfn(ctx: ActionContext) -> str:
    mode, stack = _require(ctx, "ActionMode", "StackName")
    parts = [f"CloudFormation {mode} stack {stack}"]
    template = ctx.configuration.get("TemplatePath")
    if mode in ("CREATE_UPDATE", "REPLACE_ON_FAILURE", "CHANGE_SET_REPLACE") and not template:
        raise ActionFailed(
            f"TemplatePath is required for ActionMode {mode}", failure_type=FailureType.CONFIGURATION_ERROR
        )
    if template:
        path = _artifact_file(ctx, template, "TemplatePath")
        try:
            body = _load_structured(path)
        except (LoadFailure, UnicodeDecodeError) as exc:
            raise ActionFailed(f"template {template} is not valid JSON/YAML: {exc}") from None
        if not isinstance(body, dict) or not isinstance(body.get("Resources"), dict):
            raise ActionFailed(f"template {template} has no Resources section")
        parts.append(f"from {template} ({len(body['Resources'])} resources)")
    config = ctx.configuration.get("TemplateConfiguration")
    if config:
        _artifact_file(ctx, config, "TemplateConfiguration")
    overrides = ctx.configuration.get("ParameterOverrides")
    if overrides:
        try:
            parsed = json.loads(overrides)
        except ValueError:
            raise ActionFailed(
                "ParameterOverrides is not valid JSON", failure_type=FailureType.CONFIGURATION_ERROR
            ) from None
        if not isinstance(parsed, dict):
            raise ActionFailed("ParameterOverrides must be a JSON object", failure_type=FailureType.CONFIGURATION_ERROR)
        parts.append(f"parameters {sorted(parsed)}")
    return " ".join(parts)


def _check_ecs(ctx: ActionContext) -> str:
    cluster, service = _require(ctx, "ClusterName", "ServiceName")
    name = ctx.configuration.get("FileName", "imagedefinitions.json")
    primary = ctx.primary_input
    path = None
    if primary is not None:
        path = confine(
            primary,
            name,
            what=setting(ctx, "FileName"),
            fix="name a file inside the input artifact, such as 'imagedefinitions.json'",
            root_name="the input artifact",
        )
    if path is None or not path.is_file():
        raise ActionFailed(f"{name} is not in the input artifact")
    try:
        data = json.loads(path.read_text())
        assert isinstance(data, list)
        assert data
        images = [f"{d['name']}={d['imageUri']}" for d in data]
    except (ValueError, AssertionError, KeyError, TypeError):
        raise ActionFailed(f"{name} must be a JSON list of {{name, imageUri}} objects") from None
    return f"ECS service {service} on cluster {cluster} with images {images}"


def _check_codedeploy(ctx: ActionContext) -> str:
    app, group = _require(ctx, "ApplicationName", "DeploymentGroupName")
    primary = ctx.primary_input
    if primary is None or not any((primary / n).is_file() for n in ("appspec.yml", "appspec.yaml", "appspec.json")):
        raise ActionFailed("appspec.yml is not at the root of the input artifact")
    return f"CodeDeploy application {app} to deployment group {group}"


def _check_blue_green(ctx: ActionContext) -> str:
    app, group, taskdef, appspec = _require(
        ctx, "ApplicationName", "DeploymentGroupName", "TaskDefinitionTemplateArtifact", "AppSpecTemplateArtifact"
    )
    for artifact, default_key, key in (
        (taskdef, "taskdef.json", "TaskDefinitionTemplatePath"),
        (appspec, "appspec.yaml", "AppSpecTemplatePath"),
    ):
        _artifact_file(ctx, f"{artifact}::{ctx.configuration.get(key, default_key)}", key)
    return f"ECS blue/green via CodeDeploy application {app}, group {group}"


def _check_beanstalk(ctx: ActionContext) -> str:
    app, env = _require(ctx, "ApplicationName", "EnvironmentName")
    primary = ctx.primary_input
    if primary is None or not any(primary.iterdir()):
        raise ActionFailed("the input artifact is empty")
    return f"Elastic Beanstalk application {app} to environment {env}"


def _check_appconfig(ctx: ActionContext) -> str:
    app, env, profile, path = _require(
        ctx, "Application", "Environment", "ConfigurationProfile", "InputArtifactConfigurationPath"
    )
    primary = ctx.primary_input
    where = setting(ctx, "InputArtifactConfigurationPath")
    fix = "name a file inside the input artifact"
    if primary is None or not confine(primary, path, what=where, fix=fix, root_name="the input artifact").is_file():
        raise ActionFailed(f"InputArtifactConfigurationPath {path!r} is not in the input artifact")
    return f"AppConfig {app}/{env} profile {profile} from {path}"


_DEPLOY_CHECKS: dict[str, Callable[[ActionContext], str]] = {
    _catalog.CLOUDFORMATION.provider: _check_cfn,
    _catalog.ECS_DEPLOY.provider: _check_ecs,
    _catalog.CODEDEPLOY.provider: _check_codedeploy,
    _catalog.ECS_BLUE_GREEN.provider: _check_blue_green,
    _catalog.ELASTIC_BEANSTALK.provider: _check_beanstalk,
    _catalog.APPCONFIG.provider: _check_appconfig,
}

#: Action types AWS does not document that the local engine has always run (a connection
#: source owned by ``ThirdParty``, ``Commands`` in a ``Build`` stage), with their handler keys.
_LOCAL_ONLY: tuple[tuple[HandlerKey, str], ...] = (
    (("Source", "ThirdParty", _catalog.CONNECTION_SOURCE.provider, "1"), "git_source"),
    (("Build", "AWS", _catalog.COMMANDS.provider, "1"), "commands"),
)


def builtin_handlers(executor: HandlerServices) -> HandlerRegistry:
    """The built-in registry bound to *executor*: each catalog entry names its handler by key
    (approvals are wired by the executor)."""
    b = Builtins(executor)
    by_key: dict[str, HandlerFn] = {
        "git_source": b.git_source,
        "s3_source": b.s3_source,
        "ecr_source": b.ecr_source,
        "commands": b.commands,
        "codebuild": b.codebuild,
        "lambda_invoke": b.lambda_invoke,
        "s3_deploy": b.s3_deploy,
        "simulated_deploy": b.simulated_deploy,
    }
    reg = HandlerRegistry()
    for spec in _catalog.iter_specs():
        if spec.handler is not None:
            reg.register((spec.category, spec.owner, spec.provider, spec.version), by_key[spec.handler])
    for key, name in _LOCAL_ONLY:
        reg.register(key, by_key[name])
    return reg
