"""A variable the pipeline does not declare is refused before anything runs, with the near name."""

from __future__ import annotations

from pathlib import Path

import pytest

import pipeweaver as pw
from pipeweaver.errors import ExecutionError
from pipeweaver.execution import LocalExecutor

from .conftest import commands, pipeline, source_action


def test_an_undeclared_variable_names_the_declared_one_it_is_close_to(tmp_path: Path, repo: Path) -> None:
    src = source_action()
    build = commands("Echo", ["echo hi"], inputs=[src.outputs[0]])
    p = pipeline(
        pw.Stage(name="Source", actions=[src]),
        pw.Stage(name="Build", actions=[build]),
        variables=[pw.Variable(name="environment", default_value="dev")],
    )
    x = LocalExecutor(workdir=tmp_path / "w", sources={"Source": repo})
    with pytest.raises(ExecutionError, match=r"\['enviroment'\] are not declared .*; did you mean 'environment'\?"):
        x.start(p, variables={"enviroment": "prod"})
