"""Pipeline variables given to an execution are bounded as StartPipelineExecution bounds them."""

from __future__ import annotations

from pathlib import Path

import pytest

import pipeweaver as pw
from pipeweaver.errors import ExecutionError
from pipeweaver.execution import LocalExecutor

from .conftest import SRC, source_then

START = "https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PipelineVariable.html"


def _pipeline() -> pw.Pipeline:
    say = pw.Action(
        name="Say",
        action_type=pw.ActionType(category="Compute", provider="Commands"),
        commands=["echo #{variables.Env}"],
        inputs=[SRC],
    )
    return source_then(
        pw.Stage(name="Check", actions=[say]),
        pipeline_type="V2",
        variables=[pw.Variable(name="Env", default_value="dev")],
    )


@pytest.mark.parametrize(("value", "length"), [("", 0), ("x" * 1001, 1001)])
def test_a_variable_value_outside_1_to_1000_characters_is_refused_before_anything_runs(
    tmp_path: Path, value: str, length: int
) -> None:
    """PipelineVariable, API reference (START): a value is 1-1000 characters; StartPipelineExecution refuses others."""
    (tmp_path / "src").mkdir()
    x = LocalExecutor(tmp_path / "wd", sources={"Source": tmp_path / "src"})

    with pytest.raises(ExecutionError) as raised:
        x.run(_pipeline(), variables={"Env": value})

    assert f"variable 'Env' is {length} characters long; AWS takes 1-1000 (PipelineVariableValue)" in str(raised.value)
    assert [] == x.history()


def test_a_value_of_1000_characters_runs(tmp_path: Path) -> None:
    """PipelineVariable, API reference (START): a value of 1000 characters is accepted."""
    (tmp_path / "src").mkdir()
    x = LocalExecutor(tmp_path / "wd", sources={"Source": tmp_path / "src"})

    assert x.run(_pipeline(), variables={"Env": "y" * 1000}).succeeded
