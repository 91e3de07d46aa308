"""Fuzzing the CLI's file loading: every input ends in exit 0/1 with a readable report, never a traceback."""

from __future__ import annotations

import copy
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from pipeweaver.cli import main
from pipeweaver.synth import to_cloudformation

from ..strategies import pipelines
from ._hostile import FUZZ, TRICKY_TEXT, assert_issues_point_into, mutate, mutated_declarations

SUFFIXES = [".json", ".yaml", ".yml", ".template"]


@st.composite
def documents(draw: st.DrawFn) -> tuple[Any, str]:
    """(parsed data or None, file text): declarations, templates, junk and bombs."""
    kind = draw(st.sampled_from(["declaration", "template", "junk", "bytes", "bomb", "deep"]))
    if kind == "declaration":
        data = draw(mutated_declarations())
    elif kind == "template":
        data = mutate(draw, copy.deepcopy(to_cloudformation(draw(pipelines()))))
    elif kind == "junk":
        return None, draw(st.one_of(st.text(max_size=300), st.sampled_from(TRICKY_TEXT)))
    elif kind == "bytes":
        return None, draw(st.binary(max_size=300)).decode("latin-1")
    elif kind == "bomb":
        width = draw(st.integers(5, 12))
        lines = ["a0: &a0 [" + ",".join(['"x"'] * width) + "]"]
        lines += [f"a{n}: &a{n} [" + ",".join([f"*a{n - 1}"] * width) + "]" for n in range(1, 10)]
        return None, "\n".join(lines) + "\n"
    else:
        depth = draw(st.integers(50, 50_000))
        return None, draw(
            st.sampled_from(["[" * depth + "]" * depth, "a:\n" + "".join(" " * i + "- \n" for i in range(depth % 400))])
        )
    try:
        text = json.dumps(data, ensure_ascii=False)
        if len(text) < 20_000 and draw(st.booleans()):
            # PyYAML's pure-Python emitter and scanner need seconds for 200 KB values; huge
            # documents go as JSON text (which YAML files may hold too)
            text = yaml.safe_dump(data, allow_unicode=True)
    except (ValueError, TypeError, RecursionError, yaml.YAMLError):
        return None, "{not representable"
    return data, text


def _invoke(command: list[str], suffix: str, text: str) -> tuple[Any, str, Path]:
    with tempfile.TemporaryDirectory(prefix="pw-fuzz-") as tmp:
        path = Path(tmp) / f"pipeline{suffix}"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        result = CliRunner().invoke(main, [*command, str(path)], catch_exceptions=True)
        return result, result.output, path


@FUZZ
@given(documents(), st.sampled_from(SUFFIXES))
def test_validate_any_file_gives_a_report_and_no_traceback(doc: tuple[Any, str], suffix: str) -> None:
    """`pipeweaver validate --format json FILE` exits 0 or 1 with a JSON report whose paths point into the file."""
    data, text = doc
    # CPU time, not wall time: a bound on the work an input causes, whatever else the machine runs.
    start = time.process_time()

    result, output, _ = _invoke(["validate", "--format", "json"], suffix, text)

    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1), output
    assert "Traceback" not in output
    report = json.loads(output)
    issues = [i for target in report["targets"] for i in target["issues"]]
    assert all(i["code"] and i["message"] and isinstance(i["path"], str) for i in issues)
    assert (result.exit_code == 1) == any(i["severity"] == "error" for i in issues)
    if (
        data is not None
        and suffix == ".json"
        and text.startswith(("{", "["))
        and not any(i["path"].startswith("Resources") for i in issues)
    ):
        from pipeweaver.errors import Issue

        assert_issues_point_into(
            json.loads(text),
            [
                Issue(code=i["code"], severity=i["severity"], path=i["path"], message=i["message"])
                for i in issues
                if i["code"] != "PW000"
            ],
        )
    assert time.process_time() - start < 10


@FUZZ
@given(documents(), st.sampled_from(SUFFIXES), st.sampled_from(["codepipeline", "cloudformation", "python"]))
def test_synth_any_file_succeeds_or_explains(doc: tuple[Any, str], suffix: str, fmt: str) -> None:
    """`pipeweaver synth FILE` either writes output (exit 0) or prints one readable error (exit 1/2)."""
    _, text = doc

    result, output, _ = _invoke(["synth", "--format", fmt], suffix, text)

    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1, 2), output
    assert "Traceback" not in output
    if result.exit_code:
        assert output.strip(), "a failure must say why"


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_python_tag_in_a_file_runs_nothing(tmp_path: Path, suffix: str) -> None:
    """A !!python tag in a pipeline file is refused; its command never runs."""
    canary = tmp_path / "pwned"
    text = f"name: !!python/object/apply:os.system ['touch {canary}']\nstages: []\n"

    result, output, _ = _invoke(["validate"], suffix, text)

    assert 1 == result.exit_code, output
    assert not canary.exists()
