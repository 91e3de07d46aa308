"""The pytest plugin, used the way users use it: a test file run by pytest in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeweaver.testing import Snapshot

USER_TESTS = """
import pipeweaver as pw
from pipeweaver import synth


def pipeline(bucket):
    src = pw.Artifact("Src")
    return pw.Pipeline(
        name="snap", role_arn="arn:aws:iam::123456789012:role/PipelineRole",
        artifact_store=pw.ArtifactStore(location=bucket),
        stages=[
            pw.Stage(name="Source", actions=[pw.Action(
                name="Source", outputs=[src], action_type=pw.ActionType(category="Source", provider="S3"),
                configuration={"S3Bucket": "b-src", "S3ObjectKey": "k.zip", "PollForSourceChanges": "false"})]),
            pw.Stage(name="Check", actions=[pw.Action(
                name="Check", inputs=[src], action_type=pw.ActionType(category="Compute", provider="Commands"),
                commands=["ls"])]),
        ],
    )


def test_synth_snapshot(snapshot):
    snapshot.assert_match(synth.to_codepipeline(pipeline("BUCKET")), "declaration")


def test_executor_fixture(pipeweaver_executor, pipeweaver_workdir, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.py").write_text("print('hi')")
    pipeweaver_executor.sources["Source"] = tmp_path / "src"
    execution = pipeweaver_executor.run(pipeline("artifacts-bucket"))
    assert "Succeeded" == execution.status
    assert pipeweaver_executor.workdir == pipeweaver_workdir.resolve()
    assert (pipeweaver_workdir / "history.sqlite3").exists()
"""


def _pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, "test_user.py"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_snapshot_update_cycle(tmp_path: Path) -> None:
    """A missing snapshot fails; --snapshot-update writes it; a changed value fails with a diff."""
    (tmp_path / "test_user.py").write_text(USER_TESTS.replace("BUCKET", "bucket-one"))
    missing = _pytest(tmp_path)
    created = _pytest(tmp_path, "--snapshot-update")
    stored = tmp_path / "__snapshots__" / "test_user" / "test_synth_snapshot.declaration.json"
    same = _pytest(tmp_path)
    (tmp_path / "test_user.py").write_text(USER_TESTS.replace("BUCKET", "bucket-two"))
    changed = _pytest(tmp_path)

    assert 1 == missing.returncode
    assert "run pytest with --snapshot-update to create it" in missing.stdout
    assert 0 == created.returncode, created.stdout
    assert '"location": "bucket-one"' in stored.read_text()
    assert 0 == same.returncode, same.stdout
    assert 1 == changed.returncode
    assert '-    "location": "bucket-one",' in changed.stdout
    assert '+    "location": "bucket-two",' in changed.stdout


def test_executor_fixture_lives_in_tmp(tmp_path: Path) -> None:
    """pipeweaver_executor is a LocalExecutor whose workdir is the per-test pipeweaver_workdir."""
    (tmp_path / "test_user.py").write_text(USER_TESTS.replace("BUCKET", "bucket-one"))
    result = _pytest(tmp_path, "-k", "executor_fixture")

    assert 0 == result.returncode, result.stdout + result.stderr


def test_snapshot_accepts_text_and_rejects_other_types(tmp_path: Path) -> None:
    """Text snapshots are stored as .txt; other objects are refused with a TypeError."""
    Snapshot(tmp_path, update=True).assert_match("flowchart LR", "diagram")

    assert "flowchart LR\n" == (tmp_path / "diagram.txt").read_text()
    Snapshot(tmp_path).assert_match("flowchart LR", "diagram")
    with pytest.raises(TypeError, match="not int"):
        Snapshot(tmp_path).assert_match(3, "number")
