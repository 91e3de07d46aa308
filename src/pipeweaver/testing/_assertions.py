"""Assertions on an :class:`~pipeweaver.execution.Execution`, with messages that say what ran."""

from __future__ import annotations

import zipfile
from pathlib import Path
from urllib.parse import unquote, urlparse

from ..execution import ActionRecord, Execution, ExecutionStatus, Executor, LocalExecutor, StageStatus

__all__ = [
    "assert_artifact_contains",
    "assert_never_ran",
    "assert_ran",
    "assert_ran_before",
    "assert_rolled_back",
    "assert_stage_outcome",
    "assert_succeeded",
    "read_artifact",
]


def _ran(execution: Execution) -> str:
    return ", ".join(f"{a.stage}/{a.name}={a.status}" for a in execution.actions) or "nothing"


def _records(execution: Execution, name: str) -> list[ActionRecord]:
    stage, _, action = name.rpartition("/")
    return [a for a in execution.actions if a.name == action and (not stage or a.stage == stage)]


def assert_ran(execution: Execution, action: str) -> ActionRecord:
    """Assert *action* (``"Action"`` or ``"Stage/Action"``) started; return its latest attempt.

    .. versionadded:: 0.1.0
    """
    found = _records(execution, action)
    assert found, f"{action} never ran in execution {execution.id} ({execution.status}); ran: {_ran(execution)}"
    return found[-1]


def assert_never_ran(execution: Execution, action: str) -> None:
    """Assert *action* (``"Action"`` or ``"Stage/Action"``) never started.

    .. versionadded:: 0.1.0
    """
    found = _records(execution, action)
    assert not found, (
        f"{action} ran ({', '.join(str(a.status) for a in found)}) but should not have; ran: {_ran(execution)}"
    )


def assert_ran_before(execution: Execution, first: str, second: str) -> None:
    """Assert both actions ran and *first* ended before *second* started.

    .. versionadded:: 0.1.0
    """
    a = assert_ran(execution, first)
    b = assert_ran(execution, second)
    assert a.ended_at is not None, f"{first} has not ended ({a.status})"
    assert b.started_at is not None, f"{second} has no start time"
    assert a.ended_at <= b.started_at, f"{second} started at {b.started_at}, before {first} ended at {a.ended_at}"


def assert_succeeded(execution: Execution) -> None:
    """Assert the execution succeeded, showing every failed action's error otherwise.

    .. versionadded:: 0.1.0
    """
    failed = [f"{a.stage}/{a.name}: {a.error or a.summary}" for a in execution.actions if str(a.status) != "Succeeded"]
    assert execution.succeeded, (
        f"execution {execution.id} ended {execution.status}: {'; '.join(failed) or execution.status_summary}"
    )


def _zip_path(execution: Execution, artifact: str) -> Path:
    ref = execution.artifacts.get(artifact)
    assert ref is not None, (
        f"execution {execution.id} stored no artifact {artifact!r}; it stored {sorted(execution.artifacts)}"
    )
    parsed = urlparse(ref.uri)
    if parsed.scheme != "file":
        raise AssertionError(f"artifact {artifact!r} is at {ref.uri}; only local (file://) artifacts can be read here")
    return Path(unquote(parsed.path))


def read_artifact(execution: Execution, artifact: str) -> dict[str, bytes]:
    """Return every file of a stored artifact: relative path -> bytes.

    .. versionadded:: 0.1.0
    """
    with zipfile.ZipFile(_zip_path(execution, artifact)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}


def assert_artifact_contains(
    execution: Execution, artifact: str, path: str, content: str | bytes | None = None
) -> bytes:
    """Assert a stored artifact holds *path* (with exactly *content*, when given); return the bytes.

    .. versionadded:: 0.1.0
    """
    files = read_artifact(execution, artifact)
    assert path in files, f"artifact {artifact!r} has no {path!r}; it has {sorted(files)}"
    if content is not None:
        expected = content.encode() if isinstance(content, str) else content
        assert expected == files[path], f"{artifact}/{path} holds {files[path][:200]!r}, expected {expected[:200]!r}"
    return files[path]


def _stages(execution: Execution) -> str:
    return ", ".join(f"{s.name}={s.status}" for s in execution.stages) or "no stage ran"


def assert_stage_outcome(execution: Execution, stage: str, status: StageStatus | str) -> None:
    """Assert the latest attempt of *stage* ended with *status* (``"Succeeded"``, ``"Failed"``, ...).

    .. versionadded:: 0.1.0
    """
    wanted = StageStatus(status)
    records = [s for s in execution.stages if s.name == stage]
    assert records, f"stage {stage} never ran in execution {execution.id}; stages: {_stages(execution)}"
    assert wanted == records[-1].status, (
        f"stage {stage} ended {records[-1].status}, not {wanted}; stages: {_stages(execution)}"
    )


def assert_rolled_back(
    execution: Execution,
    stage: str,
    *,
    executor: Executor | None = None,
    workdir: Path | str | None = None,
    succeeded: bool = True,
) -> Execution:
    """
    Assert an automatic rollback of *stage* followed the failed *execution*; return the rollback.

    The rollback is a separate ``ROLLBACK`` execution: it is found in the history of *executor*,
    or of the work directory *workdir* (the one given to :func:`run_with_fakes`). With
    *succeeded*, the rollback must also have succeeded.

    .. versionadded:: 0.1.0
    """
    if (executor is None) == (workdir is None):
        raise ValueError("pass executor= or workdir= (where the execution ran), not both or neither")
    reader = executor if executor is not None else LocalExecutor(Path(workdir or "."), validate=False)
    try:
        rollbacks = [
            past
            for past in reader.history(execution.pipeline, limit=1000)
            if past.execution_type == "ROLLBACK" and past.trigger.detail == f"after {execution.id}"
        ]
    finally:
        if executor is None and isinstance(reader, LocalExecutor):
            reader.close()
    assert rollbacks, (
        f"no automatic rollback followed execution {execution.id} ({execution.status}: "
        f"{execution.status_summary or 'no summary'}); stages: {_stages(execution)}"
    )
    rollback = rollbacks[0]
    rolled = [s.name for s in rollback.stages]
    assert stage in rolled, f"the rollback {rollback.id} re-ran stages {rolled}, not {stage}"
    if succeeded:
        assert ExecutionStatus.SUCCEEDED == rollback.status, (
            f"the rollback {rollback.id} of stage {stage} ended {rollback.status}: {rollback.status_summary}"
        )
    return rollback
