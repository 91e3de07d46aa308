"""What in-process handlers print (custom handlers, rule functions) lands in their own log."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

import pipeweaver as pw
from pipeweaver.execution import Event, ExecutionStatus, LocalExecutor, LogLine

from .conftest import custom, pipeline

FAKE = "Build/Custom/Fake/1"


def test_handler_and_rule_prints_go_to_their_logs_and_other_threads_are_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    printing = threading.Event()
    printed = threading.Event()

    def other_thread() -> None:
        printing.wait(30)
        print("from a thread of the program")
        printed.set()

    def handler(ctx: object) -> None:
        print("handler says", "hi")
        sys.stderr.write("partial ")
        printing.set()
        # the program's own thread prints while this handler is still running
        printed.wait(30)
        sys.stderr.write("line\n")
        print("no newline at the end", end="")

    def rule(ctx: object) -> bool:
        print("rule says hi")
        return True

    check = pw.Rule(name="Check", rule_type=pw.RuleType(provider="Printing"), configuration={})
    stage = pw.Stage(
        name="A",
        actions=[custom("Shout")],
        on_success=pw.SuccessConditions(conditions=pw.Condition(rules=[check])),
    )
    events: list[Event] = []
    stdout, stderr = sys.stdout, sys.stderr
    worker = threading.Thread(target=other_thread)
    worker.start()

    x = LocalExecutor(
        tmp_path / "wd", handlers={FAKE: handler}, rules={"Printing": rule}, observers=[events.append], validate=False
    )
    e = x.run(pipeline(stage))
    worker.join()

    out, err = capsys.readouterr()
    lines = [(ev.action, ev.line) for ev in events if isinstance(ev, LogLine)]
    assert ExecutionStatus.SUCCEEDED == e.status
    assert "from a thread of the program\n" == out
    assert "" == err
    assert [
        ("Shout", "handler says hi"),
        ("Shout", "partial line"),
        ("Shout", "no newline at the end"),
        ("rule:Check", "rule says hi"),
    ] == lines
    assert (
        "handler says hi\npartial line\nno newline at the end\n"
        == next((tmp_path / "wd" / "runs").rglob("Shout/*/log.txt")).read_text()
    )
    assert (stdout, stderr) == (sys.stdout, sys.stderr)
