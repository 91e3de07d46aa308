"""Build handlers: ``Commands`` and CodeBuild build/test, run as buildspec phases in a shell
with the allow-listed environment, and the CodeBuild-style artifact globs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..._loader import LoadFailure, load_yaml
from .._base import ActionContext, ActionFailed, ActionResult, FailureType
from .._paths import action_path, confine, real_inside, setting, walk
from .._shell import Phase, run_phases
from ._common import LOCAL_ACCOUNT, InputOrigin, _Bound, _require, _stopped_reason
from ._sources import clone_into, clone_reference


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
        raise ActionFailed(
            f"CLIENT_ERROR: no matching artifact paths found: {what} {list(patterns)} under {start.name or start}"
        )
    for rel, file in chosen.items():
        target = destination / (Path(rel).name if discard else rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, target)


#: CODEBUILD_BUILD_IMAGE locally: the project's image is not known, so the image of the
#: Commands action's compute, which CodePipeline documents.
LOCAL_IMAGE = "aws/codebuild/amazonlinux2-x86_64-standard:5.0"


def _object_arn(uri: str) -> str:
    """CODEBUILD_SOURCE_VERSION of a build CodePipeline started: the input artifact's S3 object
    as an ARN; a zip of the local store is named by its ``file://`` URI."""
    if uri.startswith("s3://"):
        return "arn:aws:s3:::" + uri.removeprefix("s3://")
    return uri


class BuildHandlers(_Bound):
    """The ``Commands`` and CodeBuild handlers, bound to one executor's buildspecs and environment."""

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

    def _codebuild_env(self, ctx: ActionContext, project: str, primary: Path) -> dict[str, str]:
        """The variables CodeBuild documents for a build CodePipeline started ("Environment
        variables in build environments"), with values from this run.

        What a local run cannot know is given a stand-in with AWS's shape: the account
        (:data:`LOCAL_ACCOUNT`), the build image (:data:`LOCAL_IMAGE`) and the region (the
        action's, else ``AWS_REGION``/``AWS_DEFAULT_REGION`` passed through from the host, else
        ``us-east-1``). The webhook, batch and public-build variables stay unset, as in a build
        CodePipeline starts.
        """
        env = self._base_env(ctx, primary)
        region = ctx.action.region if isinstance(ctx.action.region, str) else None
        region = region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
        build = uuid.uuid4()
        build_id = f"{project}:{build}"
        arn = f"arn:aws:codebuild:{region}:{LOCAL_ACCOUNT}"
        primary_name = next((name for name, path in ctx.inputs.items() if path == primary), None)
        origin = self._x.input_origin(ctx, primary_name) if primary_name is not None else InputOrigin()
        store = ctx.pipeline.artifact_store or (ctx.pipeline.artifact_stores or {}).get(region)
        key = store.encryption_key.id if store is not None and store.encryption_key is not None else None
        if not isinstance(key, str):
            key = f"arn:aws:kms:{region}:{LOCAL_ACCOUNT}:alias/aws/s3"  # the AWS-managed key
        env.update(
            {
                "AWS_REGION": region,
                "AWS_DEFAULT_REGION": region,
                "CODEBUILD_BUILD_ID": build_id,
                "CODEBUILD_BUILD_ARN": f"{arn}:build/{build_id}",
                "CODEBUILD_PROJECT_ARN": f"{arn}:project/{project}",
                "CODEBUILD_BUILD_NUMBER": str(self._x.next_build_number(project)),
                "CODEBUILD_BUILD_IMAGE": LOCAL_IMAGE,
                "CODEBUILD_KMS_KEY_ID": key,
                "CODEBUILD_LOG_PATH": str(build),
                "CODEBUILD_START_TIME": str(int(self._x.now().timestamp() * 1000)),
                # CodePipeline hands CodeBuild the input artifact's S3 object; the repository
                # URL "may be empty" for such builds.
                "CODEBUILD_SOURCE_VERSION": _object_arn(origin.uri),
                "CODEBUILD_SOURCE_REPO_URL": "",
            }
        )
        if origin.revision is not None:
            env["CODEBUILD_RESOLVED_SOURCE_VERSION"] = origin.revision
        elif primary_name is not None:
            ctx.log(
                f"[pipeweaver] CODEBUILD_RESOLVED_SOURCE_VERSION is not set: input artifact {primary_name!r} "
                "carries no source revision (it was not made by a source action)"
            )
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
        _expand_clone_refs(ctx)
        primary = self._primary(ctx)
        spec = self._buildspec(ctx, project, primary)
        env = self._codebuild_env(ctx, project, primary)
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
        self._codebuild_artifacts(ctx, spec, primary, env, project)
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
            if not _inline(override):
                path = confine(
                    primary,
                    override,
                    what=setting(ctx, "BuildspecOverride"),
                    fix="name a buildspec file inside the primary source, or give the buildspec inline",
                    root_name="the primary source",
                )
                if not path.is_file():
                    artifact = next((name for name, where in ctx.inputs.items() if where == primary), None)
                    which = f"input artifact {artifact}" if artifact else "no input artifact: an empty folder"
                    raise ActionFailed(
                        f"BuildspecOverride {override!r} names no file: {override} does not exist in the primary "
                        f"source ({which}; {setting(ctx, 'BuildspecOverride')}); "
                        "add the file to the source, fix the path (it is relative to the source's root), "
                        "or give the buildspec inline as YAML text",
                        failure_type=FailureType.CONFIGURATION_ERROR,
                    )
                source = path
        elif mapped is not None:
            source = mapped
            if isinstance(source, str) and not _inline(source):
                source = Path(source)
            if isinstance(source, Path) and not source.is_file():
                raise ActionFailed(
                    f"the buildspec file for project {project!r} does not exist: {source.absolute()} "
                    "(a relative path in --buildspec is taken from the current folder, in LOCAL = "
                    "LocalEmulation(buildspecs=...) from the pipeline file's folder); fix the path in "
                    f"--buildspec {project}=FILE (pipeweaver run), LOCAL = LocalEmulation(buildspecs="
                    f"{{{project!r}: ...}}) or LocalExecutor(buildspecs={{{project!r}: ...}})",
                    failure_type=FailureType.CONFIGURATION_ERROR,
                )
        else:
            for candidate in ("buildspec.yml", "buildspec.yaml"):
                if (primary / candidate).is_file():
                    source = primary / candidate
                    break
            else:
                raise ActionFailed(
                    f"no buildspec for project {project!r}: none in the input artifact (buildspec.yml) and no "
                    f"BuildspecOverride; give one with --buildspec {project}=FILE (pipeweaver run), "
                    f"LOCAL = LocalEmulation(buildspecs={{{project!r}: 'buildspec.yml'}}) in the pipeline file, "
                    f"or LocalExecutor(buildspecs={{{project!r}: ...}})",
                    failure_type=FailureType.CONFIGURATION_ERROR,
                )
        if isinstance(source, Mapping):
            return dict(source)
        try:
            text = source.read_text() if isinstance(source, Path) else str(source)
            data = load_yaml(text)
        except (OSError, UnicodeDecodeError, LoadFailure) as exc:
            hint = f" ({exc.hint})" if isinstance(exc, LoadFailure) and exc.hint else ""
            raise ActionFailed(
                f"buildspec is not readable YAML: {exc}{hint}", failure_type=FailureType.CONFIGURATION_ERROR
            ) from None
        if not isinstance(data, dict):
            raise ActionFailed("buildspec must be a YAML mapping", failure_type=FailureType.CONFIGURATION_ERROR)
        return data

    def _codebuild_artifacts(
        self, ctx: ActionContext, spec: Mapping[str, Any], primary: Path, env: Mapping[str, str], project: str
    ) -> None:
        """Fill the output artifacts as CodeBuild's UPLOAD_ARTIFACTS phase does.

        One output artifact comes from the buildspec's ``artifacts`` section. With two or more,
        CodeBuild takes each from ``artifacts.secondary-artifacts`` under the output artifact's
        name, and a name missing there fails the build ("AWS CodeBuild build and test action
        reference", Output artifacts). A ``base-directory`` may name an input through its
        variable (``$CODEBUILD_SRC_DIR_<name>``), as CodeBuild's multiple-output sample does.
        """
        outputs = list(ctx.action.outputs)
        if not outputs:
            return
        section = spec.get("artifacts") or {}
        secondary = (section.get("secondary-artifacts") if isinstance(section, Mapping) else None) or {}
        if not isinstance(section, Mapping) or not isinstance(secondary, Mapping):
            raise ActionFailed(
                "buildspec artifacts and artifacts.secondary-artifacts must be mappings",
                failure_type=FailureType.CONFIGURATION_ERROR,
            )
        plan: list[tuple[str, Mapping[str, Any], str]] = []
        if len(outputs) == 1:
            name = outputs[0].name
            if section.get("files"):
                plan.append((name, section, "buildspec artifacts"))
            elif name in secondary:
                plan.append((name, secondary[name], f"buildspec artifacts.secondary-artifacts.{name}"))
            else:
                raise ActionFailed(
                    f"output artifact {name!r} has no files in the buildspec: give artifacts.files",
                    failure_type=FailureType.CONFIGURATION_ERROR,
                )
        else:
            missing = [a.name for a in outputs if a.name not in secondary]
            if missing:
                raise ActionFailed(
                    f"build failed in phase UPLOAD_ARTIFACTS (project {project}): CLIENT_ERROR: the action has "
                    f"{len(outputs)} output artifacts, so each must be a secondary artifact of the buildspec whose "
                    f"identifier is the output artifact's name; artifacts.secondary-artifacts has no "
                    f"{', '.join(repr(m) for m in missing)} (it has {sorted(map(str, secondary))})",
                    failure_type=FailureType.CONFIGURATION_ERROR,
                )
            plan = [(a.name, secondary[a.name], f"buildspec artifacts.secondary-artifacts.{a.name}") for a in outputs]
        for name, block, what in plan:
            if not isinstance(block, Mapping):
                raise ActionFailed(f"{what} must be a mapping", failure_type=FailureType.CONFIGURATION_ERROR)
            files = block.get("files") or ()
            if isinstance(files, str):
                files = (files,)
            root, base = _artifact_root(ctx, primary, block.get("base-directory"), env, what=what)
            _collect(
                root,
                ctx.outputs[name],
                tuple(str(f) for f in files),
                base=base,
                discard=str(block.get("discard-paths", "no")).lower() in ("yes", "true"),
                what=what,
            )


def _expand_clone_refs(ctx: ActionContext) -> None:
    """Turn each input from a ``CODEBUILD_CLONE_REF`` source into a full git clone, as CodeBuild
    does before the build starts, so that ``git`` works in the build.

    Raises:
        ActionFailed: the input holds no clone reference (its source was handled by something
            that made ordinary files), or the clone cannot be made; never a plain tree instead.
    """
    for name, folder in ctx.inputs.items():
        producer = next(
            (a for st in ctx.pipeline.stages for a in st.actions if any(o.name == name for o in a.outputs)), None
        )
        if producer is None or producer.configuration.get("OutputArtifactFormat") != "CODEBUILD_CLONE_REF":
            continue
        reference = clone_reference(folder)
        if reference is None:
            raise ActionFailed(
                f"input artifact {name!r} comes from source {producer.name!r} with OutputArtifactFormat "
                "CODEBUILD_CLONE_REF, but it holds plain files, not a clone reference (the source was run by a "
                "handler other than the built-in git source); a full clone cannot be made: give the source a "
                "local git repository, or use OutputArtifactFormat CODE_ZIP",
                failure_type=FailureType.CONFIGURATION_ERROR,
            )
        commit = clone_into(folder, reference, artifact=name)
        ctx.log(
            f"[pipeweaver] input artifact {name!r}: full git clone of {reference['repository']} on "
            f"{reference['branch']} at {commit[:12]} (CODEBUILD_CLONE_REF)"
        )


_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def _artifact_root(
    ctx: ActionContext, primary: Path, base: Any, env: Mapping[str, str], *, what: str
) -> tuple[Path, str | None]:
    """The input folder an artifact's files are taken from, and its base directory inside it.

    Variables in *base* are expanded from the build's environment (an unset one is empty, as in
    the shell); an absolute result must lie inside one of the action's inputs, a relative one is
    read inside the primary input.
    """
    if base is None or base == "":
        return primary, None
    text = _VARIABLE.sub(lambda m: env.get(m.group(1) or m.group(2), ""), str(base))
    if not os.path.isabs(text):
        return primary, text
    real = os.path.realpath(text)
    for folder in ctx.inputs.values():
        top = os.path.realpath(folder)
        if real == top or real.startswith(top + os.sep):
            rel = os.path.relpath(real, top)
            return folder, None if rel == "." else rel
    raise ActionFailed(
        f"{what} base-directory {str(base)!r} ({text}) is not inside the action's inputs; "
        "give a folder inside the primary input or $CODEBUILD_SRC_DIR_<input artifact>/...",
        failure_type=FailureType.CONFIGURATION_ERROR,
    )


def _inline(buildspec: str) -> bool:
    """Whether a buildspec given as text is the YAML itself rather than a file's path: AWS takes
    a BuildspecOverride with a line break or a ``version:`` key as the buildspec's text."""
    return "\n" in buildspec or "version:" in buildspec
