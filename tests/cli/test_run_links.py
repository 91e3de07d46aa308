"""``pipeweaver run --source ACTION=PATH`` never ships a file a link in that folder points to outside it."""

from __future__ import annotations

import zipfile
from pathlib import Path

from .conftest import Cli

CANARY = "TOP-SECRET-CANARY-cli-5e1d"

PIPELINE = """
import pipeweaver as pw

src = pw.Artifact("Src")
pipeline = pw.Pipeline(
    name="links", pipeline_type="V2", role_arn="arn:aws:iam::123456789012:role/PipelineRole",
    artifact_store=pw.ArtifactStore(location="links-artifacts"),
    stages=[
        pw.Stage(name="Source", actions=[pw.Action(
            name="Site", outputs=[src],
            action_type=pw.ActionType(category="Source", provider="S3"),
            configuration={"S3Bucket": "b-source", "S3ObjectKey": "s.zip", "PollForSourceChanges": "false"},
        )]),
        pw.Stage(name="Check", actions=[pw.Action(
            name="Check", inputs=[src],
            action_type=pw.ActionType(category="Compute", provider="Commands"),
            commands=["cat favicon.ico"],
        )]),
    ],
)
"""


def test_source_folder_link_out_fails_the_run_naming_the_link(cli: Cli, tmp_path: Path) -> None:
    """--source Site=site with site/favicon.ico -> a key outside: exit 1, the link and its target named, key nowhere."""
    key = tmp_path / "home" / ".ssh" / "id_rsa"
    key.parent.mkdir(parents=True)
    key.write_text(CANARY)
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("hi")
    (site / "favicon.ico").symlink_to(key)
    (tmp_path / "links.py").write_text(PIPELINE)

    result = cli("run", "links.py", "--source", "Site=site", cwd=tmp_path)

    output = result.stdout + result.stderr
    assert 1 == result.returncode, output
    assert f"'favicon.ico' is a symbolic link to '{key}'" in output
    assert "Traceback" not in output
    assert CANARY not in output
    for archive in (tmp_path / ".pipeweaver").rglob("*.zip"):
        with zipfile.ZipFile(archive) as zf:
            assert all(CANARY.encode() not in zf.read(n) for n in zf.namelist())
