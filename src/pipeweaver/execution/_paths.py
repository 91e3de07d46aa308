"""Keeping local execution inside its folders.

Layer: execution. Two rules, each with its one home here:

* A configuration value, a variable or an artifact name that becomes a file-system path goes
  through :func:`confine`: the path is resolved (symbolic links included) and must stay inside
  its root. The refusal names the setting (``stages[1].actions[0].configuration.BucketName``),
  the value and the fix.
* A folder that is copied or zipped (a local source folder, an action's output artifact, the
  files a buildspec's ``artifacts`` section names) is listed by :func:`walk` and
  :func:`real_inside`, which follow a symbolic link only when its target stays inside the
  folder and refuse one that leads outside, naming the link and its target. Artifacts
  therefore never hold a link: what a link inside the folder points to is stored under the
  link's name as a regular file or folder, and extraction keeps refusing link entries.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ArtifactError
from ._base import ActionFailed, FailureType

if TYPE_CHECKING:
    from .._model import Action, Pipeline, Stage
    from ._base import ActionContext

__all__ = ["action_path", "confine", "real_inside", "s3_bucket_problem", "setting", "walk"]

#: Entries a tree may gain by following links inside it. Links to folders can multiply a tree
#: (two links to the next level, thirty levels deep); this bounds what a source made of links
#: alone can expand to. AWS's limit for the files of an S3 source object.
MAX_LINKED_ENTRIES = 100_000

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")
_IP = re.compile(r"\d+\.\d+\.\d+\.\d+")


def s3_bucket_problem(name: str) -> str | None:
    """Why *name* is not a general purpose S3 bucket name, or ``None`` when it is one."""
    if not 3 <= len(name) <= 63:
        return f"is {len(name)} characters long; an S3 bucket name has 3 to 63"
    if not _BUCKET.fullmatch(name):
        return (
            "is not an S3 bucket name: only lowercase letters, digits, dots and hyphens, "
            "beginning and ending with a letter or digit"
        )
    if ".." in name:
        return "is not an S3 bucket name: it has two adjacent dots"
    if _IP.fullmatch(name):
        return "is not an S3 bucket name: it is formatted as an IP address"
    return None


def action_path(pipeline: Pipeline, stage: Stage, action: Action) -> str:
    """``stages[i].actions[j]`` of *action* in *pipeline* (``Stage/Action`` if it is not there)."""
    for i, candidate in enumerate(pipeline.stages):
        if candidate.name == stage.name:
            for j, other in enumerate(candidate.actions):
                if other.name == action.name:
                    return f"stages[{i}].actions[{j}]"
    return f"{stage.name}/{action.name}"


def setting(ctx: ActionContext, key: str) -> str:
    """Name configuration *key* of the action being run, for messages.

    ``action Deploy/Site, stages[1].actions[0].configuration.BucketName``, plus the value as
    written when it was resolved from variables (the place to fix it).
    """
    raw = ctx.action.configuration.get(key)
    where = f"action {ctx.stage.name}/{ctx.action.name}, {action_path(ctx.pipeline, ctx.stage, ctx.action)}"
    where += f".configuration.{key}"
    if isinstance(raw, str) and raw != ctx.configuration.get(key):
        where += f" (resolved from {raw!r})"
    return where


def _within(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip(os.sep) + os.sep)


def confine(root: Path, value: str, *, what: str, fix: str, root_name: str = "its folder") -> Path:
    """
    ``root / value`` resolved, refused unless it stays inside *root* (or is *root*).

    Containment is checked on the resolved path, so ``..``, absolute paths and symbolic links
    on the way are all caught, whatever their spelling.

    Raises:
        ActionFailed: a configuration error ``"<what>: '<value>' <problem>; <fix>"``.
    """
    base = os.path.realpath(root)
    problem = None
    if "\x00" in value:
        problem = "contains a NUL byte"
    elif value.startswith("/"):
        problem = f"is an absolute path; it must be relative to {root_name} {base}"
    else:
        resolved = os.path.realpath(os.path.join(base, value))
        if not _within(resolved, base):
            problem = f"leads outside {root_name} {base} (to {resolved})"
        else:
            return Path(resolved)
    raise ActionFailed(f"{what}: {value!r} {problem}; {fix}", failure_type=FailureType.CONFIGURATION_ERROR)


def _first_link(top: str, rel: str) -> str:
    """The first component of *rel* under *top* that is a symbolic link (*rel* itself if none is)."""
    parts = rel.split("/")
    for n in range(1, len(parts) + 1):
        candidate = "/".join(parts[:n])
        if os.path.islink(os.path.join(top, candidate)):
            return candidate
    return rel


def _outside(what: str, top: str, name: str, link: str, target: str, real: str) -> ArtifactError:
    through = "is a symbolic link" if link == name else f"is reached through the symbolic link {link!r}"
    resolved = "" if target == real else f" ({real})"
    return ArtifactError(
        f"{what}: {name!r} {through} to {target!r}{resolved}, outside {top}; links are followed only "
        "when they stay inside the folder: replace the link with a copy of what it points to, or "
        "leave it out"
    )


def real_inside(top: Path, rel: str, *, what: str) -> str:
    """
    The real path of ``top / rel`` (a path found under *top*, say by a glob).

    Raises:
        ArtifactError: naming the link, when a link on the way leads outside *top*.
    """
    base = os.path.realpath(top)
    real = os.path.realpath(os.path.join(base, rel))
    if not _within(real, base):
        link = _first_link(base, rel)
        try:
            target = os.readlink(os.path.join(base, link))
        except OSError:  # not a link after all: the folder itself moved
            target = real
        raise _outside(what, base, rel, link, target, real)
    return real


def walk(
    root: Path, *, what: str | None = None, within: Path | None = None
) -> tuple[list[tuple[str, str | None]], int]:
    """
    List the tree under *root* without leaving it: ``(entries, total size)``.

    Each entry is ``(name, real path)`` for a regular file or ``(name + "/", None)`` for an
    empty folder, in ``os.walk`` order (folders and files sorted). A symbolic link whose
    target stays inside *within* (default *root*) is listed as what it points to, under the
    link's name; a link to a folder that contains it (a loop) or one that leads outside is
    refused. Links to nothing, sockets and devices are left out. The types come from the
    directory listing (no stat per file but the one that reads its size).

    Raises:
        ArtifactError: naming the link and its target.
    """
    top = os.path.realpath(root)
    fence = os.path.realpath(within) if within is not None else top
    label = what or str(root)
    out: list[tuple[str, str | None]] = []
    total = 0
    linked = 0
    # (real directory, name in the tree, real folders on the way down, reached through a link)
    stack: list[tuple[str, str, tuple[str, ...], bool]] = [(top, "", (top,), False)]
    while stack:
        directory, rel, chain, via_link = stack.pop()
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
        if rel and not entries:
            out.append((rel + "/", None))
        subdirs: list[tuple[str, str, tuple[str, ...], bool]] = []
        for entry in entries:
            name = f"{rel}/{entry.name}" if rel else entry.name
            if entry.is_symlink():
                real = os.path.realpath(entry.path)
                if not _within(real, fence):
                    raise _outside(label, fence, name, name, os.readlink(entry.path), real)
                if os.path.isdir(real):
                    if any(_within(folder, real) for folder in chain):
                        raise ArtifactError(
                            f"{label}: {name!r} is a symbolic link to {os.readlink(entry.path)!r}, a folder "
                            "that contains it (a loop); remove the link"
                        )
                    subdirs.append((real, name, (*chain, real), True))
                elif os.path.isfile(real):
                    out.append((name, real))
                    total += os.stat(real).st_size
                    linked += 1
                continue
            if entry.is_dir(follow_symlinks=False):
                subdirs.append((entry.path, name, (*chain, entry.path), via_link))
            elif entry.is_file(follow_symlinks=False):
                out.append((name, entry.path))
                total += entry.stat(follow_symlinks=False).st_size
                linked += via_link
        if linked > MAX_LINKED_ENTRIES:
            raise ArtifactError(
                f"{label}: symbolic links inside the folder expand it by more than {MAX_LINKED_ENTRIES} "
                "files; remove links that repeat folders"
            )
        stack.extend(reversed(subdirs))
    return out, total
