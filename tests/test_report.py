"""The HTML execution report: self-contained, escaped, masked, and rendered by a real browser."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import pipeweaver as pw
from pipeweaver.execution import (
    ActionRecord,
    ActionStatus,
    ArtifactRef,
    Execution,
    ExecutionStatus,
    StageRecord,
    StageStatus,
)
from pipeweaver.report import mask, pipeline_svg, render_html, timeline_svg
from pipeweaver.testing import fake, run_with_fakes

T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
SECRET = "s3cr3t-Value-9"


@pytest.fixture(name="failed")
def _failed(sample: pw.Pipeline) -> tuple[Execution, pw.Pipeline]:
    records = (
        ActionRecord(
            stage="Source",
            name="Source",
            status=ActionStatus.SUCCEEDED,
            started_at=T0,
            ended_at=T0 + timedelta(seconds=2),
            output_variables={"CommitId": "0123abcd"},
        ),
        ActionRecord(
            stage="Build",
            name="Build",
            status=ActionStatus.SUCCEEDED,
            started_at=T0 + timedelta(seconds=2),
            ended_at=T0 + timedelta(seconds=30),
        ),
        ActionRecord(
            stage="Build",
            name="UnitTest",
            status=ActionStatus.FAILED,
            started_at=T0 + timedelta(seconds=2),
            ended_at=T0 + timedelta(seconds=12),
            error="<b>2 tests failed</b>",
        ),
    )
    execution = Execution(
        id="11111111-2222-3333-4444-555555555555",
        pipeline="web",
        status=ExecutionStatus.FAILED,
        started_at=T0,
        ended_at=T0 + timedelta(seconds=30),
        stages=(
            StageRecord(name="Source", status=StageStatus.SUCCEEDED, started_at=T0, ended_at=T0 + timedelta(seconds=2)),
            StageRecord(name="Build", status=StageStatus.FAILED, started_at=T0 + timedelta(seconds=2)),
        ),
        actions=records,
        artifacts={
            "SourceOutput": ArtifactRef(name="SourceOutput", uri="file:///tmp/a.zip", sha256="ab" * 32, size=1234)
        },
        variables={"environment": "prod"},
    )
    return execution, sample


@pytest.fixture(name="logs")
def _logs() -> dict[tuple[str, str], str]:
    return {
        (
            "Build",
            "UnitTest",
        ): f"running tests\n<script>alert(1)</script>\nDB_PASSWORD={SECRET}\nkey AKIAABCDEFGHIJKLMNOP\n",
        ("Build", "Build"): f"using token {SECRET} to fetch\n",
    }


def test_report_is_self_contained(failed: tuple[Execution, pw.Pipeline], logs: dict[tuple[str, str], str]) -> None:
    """No external scripts, styles, fonts or images: nothing with src/href, no url(), a CSP that forbids them."""
    html = render_html(*failed, logs=logs)

    assert [] == re.findall(r"\b(?:src|href)\s*=", html)
    assert "url(http" not in html
    assert "@import" not in html
    assert "http://" not in html
    assert "https://" not in html
    assert "default-src 'none'" in html


def test_user_data_is_escaped_and_secrets_masked(
    failed: tuple[Execution, pw.Pipeline], logs: dict[tuple[str, str], str]
) -> None:
    """Log lines and errors are HTML-escaped; declared secrets and credential-looking values are masked."""
    html = render_html(*failed, logs=logs, secrets=[SECRET])

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert "&lt;b&gt;2 tests failed&lt;/b&gt;" in html
    assert SECRET not in html
    assert "AKIAABCDEFGHIJKLMNOP" not in html
    assert "DB_PASSWORD=****" in html
    assert "using token **** to fetch" in html


def test_report_shows_statuses_variables_and_artifacts(failed: tuple[Execution, pw.Pipeline]) -> None:
    """Execution status, pipeline and output variables, and artifact hashes are all on the page."""
    html = render_html(*failed, logs={})

    assert "<title>web · Failed · pipeweaver report</title>" in html
    assert "<code>variables.environment</code></td><td>prod" in html
    assert "<code>SourceVariables.CommitId</code></td><td>0123abcd" in html
    assert "ab" * 32 in html


def test_diagram_has_one_box_per_action_coloured_by_status(failed: tuple[Execution, pw.Pipeline]) -> None:
    """The SVG diagram draws every action; ones that never ran are grey, failed ones red."""
    execution, pipeline = failed
    svg = pipeline_svg(pipeline, execution)
    boxes = dict(re.findall(r'data-action="([^"]+)"><title>[^<]*</title><rect [^>]*fill="(#[0-9a-f]{6})"', svg))

    assert {"Source": "#2e7d32", "Build": "#2e7d32", "UnitTest": "#c62828", "Deploy": "#bdbdbd"} == boxes
    assert 3 == svg.count('class="edge"')


def test_timeline_bars_follow_the_clock(failed: tuple[Execution, pw.Pipeline]) -> None:
    """One bar per action attempt; a bar's width is proportional to its duration."""
    svg = timeline_svg(failed[0])
    widths = [float(w) for w in re.findall(r'<rect x="[0-9.]+" y="[0-9.]+" width="([0-9.]+)"', svg)]

    assert 3 == len(widths)
    assert pytest.approx(600 * 2 / 30, abs=0.2) == widths[0]
    assert pytest.approx(600 * 28 / 30, abs=0.2) == widths[1]


def test_mask_leaves_ordinary_text_alone() -> None:
    """Masking changes secrets only."""
    assert "deploy web to prod" == mask("deploy web to prod", ["hunter2"])
    assert "pw **** and ****" == mask("pw hunter2 and hunter2x", ["hunter2", "hunter2x"])


# -- a real browser -------------------------------------------------------------------------------


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _browser() -> str:
    """Chromium, or a skip; where CI installed one (PIPEWEAVER_REQUIRE_BROWSER=1) its absence fails."""
    browser = _chromium()
    if browser is None:
        if os.environ.get("PIPEWEAVER_REQUIRE_BROWSER"):
            pytest.fail("PIPEWEAVER_REQUIRE_BROWSER is set, but no chromium is on PATH")
        pytest.skip("needs Debian's chromium (`apt-get install -y chromium`; nox -s report)")
    return browser


def _png_rows(data: bytes) -> Iterator[bytes]:
    """Decode an 8-bit RGB/RGBA PNG (what Chromium writes) into raw pixel rows."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert 8 == depth
            channels = {2: 3, 6: 4}[colour]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride = zlib.decompress(idat), width * channels
    previous = bytearray(stride)
    for y in range(height):
        line = raw[y * (stride + 1) : (y + 1) * (stride + 1)]
        kind, row = line[0], bytearray(line[1:])
        for i in range(stride):
            left = row[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                row[i] = (row[i] + left) & 0xFF
            elif kind == 2:
                row[i] = (row[i] + up) & 0xFF
            elif kind == 3:
                row[i] = (row[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                row[i] = (row[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        previous = row
        yield bytes(row)


def _render(browser: str, page: Path, tmp_path: Path) -> tuple[set[bytes], str, str]:
    shot = tmp_path / "shot.png"
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1200,900"]
    subprocess.run(
        [*common, f"--screenshot={shot}", page.as_uri()], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    dom = subprocess.run(
        [*common, "--enable-logging=stderr", "--v=0", "--virtual-time-budget=2000", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    colours = {row[i : i + 3] for row in _png_rows(shot.read_bytes()) for i in range(0, len(row), 37 * 4)}
    console = "\n".join(line for line in dom.stderr.splitlines() if ":CONSOLE" in line)
    return colours, dom.stdout, console


def test_real_report_renders_in_headless_chromium(tmp_path: Path, sample: pw.Pipeline) -> None:
    """A report of a real local execution renders: the screenshot is not blank, the self-check passes, no console errors."""
    browser = _browser()
    execution = run_with_fakes(
        sample,
        {"UnitTest": fake(fail="2 tests failed"), "Source": fake(variables={"CommitId": "abc123"})},
        workdir=tmp_path / "work",
    )
    page = tmp_path / "report.html"
    page.write_text(render_html(execution, sample, workdir=tmp_path / "work"))

    colours, dom, console = _render(browser, page, tmp_path)

    assert len(colours) > 10, "the screenshot is blank"
    assert 'data-selfcheck="ok"' in dom
    assert "" == console


def test_console_error_check_can_fail(tmp_path: Path) -> None:
    """The console scan really sees script errors: a page that throws is caught."""
    browser = _browser()
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><p>x</p><script>throw new Error('boom')</script></body></html>")

    _colours, dom, console = _render(browser, page, tmp_path)

    assert "Uncaught Error: boom" in console
    assert "data-selfcheck" not in dom


def test_stage_condition_results_are_listed(sample: pw.Pipeline) -> None:
    """Rule evaluations of stage conditions get their own escaped table; none, no section."""
    from pipeweaver.execution import RuleRecord

    with_rules = Execution(
        id="e",
        pipeline="web",
        status=ExecutionStatus.FAILED,
        rules=(
            RuleRecord(stage="Deploy", condition="BEFORE_ENTRY", name="Window", status="Failed", summary="<closed>"),
        ),
    )
    without = Execution(id="e", pipeline="web", status=ExecutionStatus.SUCCEEDED)

    assert "<td>BEFORE_ENTRY</td><td>Window</td>" in render_html(with_rules, sample, logs={})
    assert "&lt;closed&gt;" in render_html(with_rules, sample, logs={})
    assert 'id="conditions"' not in render_html(without, sample, logs={})
