"""S3ArtifactStore on moto S3 and KMS: SSE-KMS on every write, sha256 checked, hostile zips refused."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import attrs
import pytest

import pipeweaver as pw
import pipeweaver.execution
from pipeweaver.aws import S3ArtifactStore
from pipeweaver.execution import ArtifactRef


def tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(name="source")
def _source(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    (root / "app").mkdir(parents=True)
    (root / "app" / "main.py").write_text("print('hi')\n")
    (root / "README.md").write_text("# web\n")
    return root


def test_put_encrypts_with_the_key_and_records_sha256(s3: Any, kms_key: str, source: Path, tmp_path: Path) -> None:
    """The object is SSE-KMS with the given key, carries the sha256, and extracts back to the same files."""
    store = S3ArtifactStore("my-artifact-bucket", client=s3, kms_key_id=kms_key, prefix="runs")

    ref = store.put("exec-1", "BuildOutput", source)
    bucket, _, key = ref.uri.removeprefix("s3://").partition("/")
    head = s3.head_object(Bucket=bucket, Key=key)
    store.get(ref, tmp_path / "out")

    assert ("my-artifact-bucket", True) == (bucket, key.startswith("runs/exec-1/BuildOutput-"))
    assert ("aws:kms", kms_key, ref.sha256) == (
        head["ServerSideEncryption"],
        head["SSEKMSKeyId"],
        head["Metadata"]["sha256"],
    )
    assert (ref.size, 64) == (head["ContentLength"], len(ref.sha256))
    assert tree(source) == tree(tmp_path / "out")


def test_without_a_key_the_aws_managed_key_is_used(s3: Any, source: Path) -> None:
    """No kms_key_id still writes SSE-KMS (AWS's aws/s3 key), never plain or SSE-S3."""
    ref = S3ArtifactStore("my-artifact-bucket", client=s3).put("exec-1", "Out", source)
    bucket, _, key = ref.uri.removeprefix("s3://").partition("/")

    assert "aws:kms" == s3.head_object(Bucket=bucket, Key=key)["ServerSideEncryption"]


def test_a_changed_object_fails_its_hash_check(s3: Any, source: Path, tmp_path: Path) -> None:
    """An object overwritten after put() is refused on get(), and nothing is extracted."""
    store = S3ArtifactStore("my-artifact-bucket", client=s3)
    ref = store.put("exec-1", "Out", source)
    bucket, _, key = ref.uri.removeprefix("s3://").partition("/")
    s3.put_object(Bucket=bucket, Key=key, Body=b"PK\x05\x06" + b"\x00" * 18)

    with pytest.raises(pw.ArtifactError, match="fails its hash check"):
        store.get(ref, tmp_path / "out")

    assert not (tmp_path / "out").exists()


def test_a_hostile_archive_is_refused_naming_the_entry(s3: Any, tmp_path: Path) -> None:
    """A zip with a `../` entry is refused by the executor's safe extraction; nothing lands outside."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("../escape.txt", "owned")
    body = buffer.getvalue()
    s3.put_object(Bucket="my-artifact-bucket", Key="evil.zip", Body=body)
    import hashlib

    ref = ArtifactRef(name="Evil", uri="s3://my-artifact-bucket/evil.zip", sha256=hashlib.sha256(body).hexdigest())

    with pytest.raises(pw.ArtifactError, match=r"'\.\./escape\.txt'"):
        S3ArtifactStore("my-artifact-bucket", client=s3).get(ref, tmp_path / "out" / "inner")

    assert not (tmp_path / "out" / "escape.txt").exists()


def test_a_missing_object_is_an_artifact_error(s3: Any, tmp_path: Path) -> None:
    """Reading a key that does not exist raises ArtifactError naming the URI and AWS's code."""
    ref = ArtifactRef(name="Gone", uri="s3://my-artifact-bucket/nope.zip", sha256="0" * 64)

    with pytest.raises(pw.ArtifactError, match=r"s3://my-artifact-bucket/nope.zip.*NoSuchKey"):
        S3ArtifactStore("my-artifact-bucket", client=s3).get(ref, tmp_path / "out")


def test_for_pipeline_uses_the_pipeline_bucket_and_key(
    sample: pw.Pipeline, s3: Any, kms_key: str, source: Path
) -> None:
    """The store built from a pipeline writes to its artifact bucket with its KMS key."""
    keyed = attrs.evolve(
        sample,
        artifact_store=pw.ArtifactStore(location="my-artifact-bucket", encryption_key=pw.EncryptionKey(id=kms_key)),
    )

    store = S3ArtifactStore.for_pipeline(keyed, client=s3)
    ref = store.put("exec-2", "Out", source)
    bucket, _, key = ref.uri.removeprefix("s3://").partition("/")

    assert ("my-artifact-bucket", kms_key) == (store.bucket, s3.head_object(Bucket=bucket, Key=key)["SSEKMSKeyId"])


def test_for_pipeline_needs_a_region_for_cross_region_stores(sample: pw.Pipeline) -> None:
    """A pipeline with several regional stores needs region= and names the choices."""
    multi = attrs.evolve(
        sample,
        artifact_store=None,
        artifact_stores={
            "us-east-1": pw.ArtifactStore(location="a-bucket"),
            "eu-west-1": pw.ArtifactStore(location="b-bucket"),
        },
    )

    with pytest.raises(pw.ArtifactError, match=r"\['eu-west-1', 'us-east-1'\]"):
        S3ArtifactStore.for_pipeline(multi)
    assert "b-bucket" == S3ArtifactStore.for_pipeline(multi, region="eu-west-1").bucket


def test_local_executor_keeps_its_artifacts_in_s3(s3: Any, kms_key: str, tmp_path: Path) -> None:
    """LocalExecutor(artifact_store=S3ArtifactStore(...)) passes artifacts between stages through S3 with SSE-KMS."""
    try:
        from pipeweaver.execution import LocalExecutor  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        pytest.skip("pipeweaver.execution does not export LocalExecutor yet")
    from pipeweaver.execution import ActionContext, ActionResult

    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("hello")
    src, built = pw.Artifact("Src"), pw.Artifact("Built")
    pipeline = pw.Pipeline(
        name="web",
        role_arn="arn:aws:iam::123456789012:role/PipelineRole",
        artifact_store=pw.ArtifactStore(location="my-artifact-bucket"),
        stages=[
            pw.Stage(
                name="Source",
                actions=[
                    pw.Action(
                        name="Source",
                        action_type=pw.ActionType(category="Source", provider="S3"),
                        configuration={"S3Bucket": "src", "S3ObjectKey": "site.zip", "PollForSourceChanges": "false"},
                        outputs=[src],
                    )
                ],
            ),
            pw.Stage(
                name="Build",
                actions=[
                    pw.Action(
                        name="Build",
                        action_type=pw.ActionType(category="Build", provider="CodeBuild"),
                        configuration={"ProjectName": "site"},
                        inputs=[src],
                        outputs=[built],
                    )
                ],
            ),
            pw.Stage(
                name="Check",
                actions=[
                    pw.Action(
                        name="Check",
                        action_type=pw.ActionType(category="Test", provider="CodeBuild"),
                        configuration={"ProjectName": "check"},
                        inputs=[built],
                    )
                ],
            ),
        ],
    )
    seen: list[str] = []

    def build(context: ActionContext) -> ActionResult:
        assert context.primary_input is not None
        text = (context.primary_input / "index.html").read_text()
        (context.outputs["Built"] / "out.txt").write_text(text.upper())
        return ActionResult(summary="built")

    def check(context: ActionContext) -> None:
        assert context.primary_input is not None
        seen.append((context.primary_input / "out.txt").read_text())

    store = S3ArtifactStore("my-artifact-bucket", client=s3, kms_key_id=kms_key)
    executor = LocalExecutor(
        tmp_path / "work",
        handlers={"Build/Build": build, "Check/Check": check},
        sources={"Source": tmp_path / "site"},
        artifact_store=store,
    )

    record = executor.run(pipeline)

    assert (pw.execution.ExecutionStatus.SUCCEEDED, ["HELLO"]) == (record.status, seen)
    assert {"Src", "Built"} == set(record.artifacts)
    for ref in record.artifacts.values():
        bucket, _, key = ref.uri.removeprefix("s3://").partition("/")
        head = s3.head_object(Bucket=bucket, Key=key)
        assert ("my-artifact-bucket", "aws:kms", kms_key, ref.sha256) == (
            bucket,
            head["ServerSideEncryption"],
            head["SSEKMSKeyId"],
            head["Metadata"]["sha256"],
        )
