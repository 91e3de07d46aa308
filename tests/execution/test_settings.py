"""EngineSettings and LocalEmulation: what LocalExecutor is given, as objects or keyword arguments."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

import pipeweaver as pw
from pipeweaver.execution import (
    ActionContext,
    EngineSettings,
    ExecutionStatus,
    LocalEmulation,
    LocalExecutor,
    StageStatus,
    SystemClock,
)

from .conftest import custom, pipeline

FAKE = pw.ActionType(category="Build", owner="Custom", provider="Fake")
IN_2099 = datetime(2099, 6, 1, 12, 0, tzinfo=UTC)


class FrozenClock:
    """A clock stopped at one moment (monotonic time still runs, so timeouts behave)."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment
        self._real = SystemClock()

    def now(self) -> datetime:
        return self.moment

    def monotonic(self) -> float:
        return self._real.monotonic()

    def wait(self, event: threading.Event, seconds: float) -> bool:
        return self._real.wait(event, seconds)


def test_settings_and_emulation_objects_or_keywords_make_the_same_executor(tmp_path: Path) -> None:
    def fn(event: object) -> None:
        return None

    a = LocalExecutor(
        tmp_path / "a",
        settings=EngineSettings(max_parallel=4, timeouts={"Build/X": 5.0}, validate=False, approval="approve"),
        emulation=LocalEmulation(
            sources={"Src": "repo"}, functions={"f": fn}, buckets={"b": "out"}, secrets={"k": "v"}
        ),
    )
    b = LocalExecutor(
        tmp_path / "b",
        max_parallel=4,
        timeouts={"Build/X": 5.0},
        validate=False,
        approval="approve",
        sources={"Src": "repo"},
        functions={"f": fn},
        buckets={"b": "out"},
        secrets={"k": "v"},
    )
    with a, b:
        assert a.settings == b.settings
        assert a.emulation == b.emulation
        assert (a.max_parallel, a.timeouts, a.validate, a.approval) == (4, {"Build/X": 5.0}, False, "approve")
        assert a.buckets == {"b": Path("out")}
        assert a.secret_value("k", where="test") == "v"


def test_keywords_take_precedence_over_the_objects(tmp_path: Path) -> None:
    with LocalExecutor(
        tmp_path, settings=EngineSettings(max_parallel=4, validate=False), max_parallel=2, sources={"S": "x"}
    ) as x:
        assert (x.settings.max_parallel, x.settings.validate) == (2, False)
        assert x.emulation.sources == {"S": "x"}


def test_defaults_and_checks_are_the_settings_ones(tmp_path: Path) -> None:
    settings = EngineSettings()
    assert (settings.max_parallel, settings.validate, settings.approval, settings.env_passthrough) == (
        50,
        True,
        "wait",
        (),
    )
    with pytest.raises(ValueError, match="max_parallel=0 must be at least 1"):
        LocalExecutor(tmp_path, max_parallel=0)
    with pytest.raises(ValueError, match="approval='sometimes' must be"):
        EngineSettings(approval="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="env_passthrough: '1X' is not an environment variable name"):
        EngineSettings(env_passthrough=["1X"])


def test_the_engine_reads_time_from_its_clock(tmp_path: Path) -> None:
    """Timestamps and deployment windows follow the injected clock: a 2099-only window is open."""
    window = pw.BeforeEntryConditions(
        conditions=pw.Condition(
            result="FAIL",
            rules=[
                pw.Rule(
                    name="Window",
                    rule_type=pw.RuleType(provider="DeploymentWindow"),
                    configuration={"Cron": "* * * * * ? 2099"},
                )
            ],
        )
    )

    def handler(ctx: ActionContext) -> None:
        ctx.log("running")

    p = pipeline(
        pw.Stage(name="A", actions=[custom("A")]), pw.Stage(name="Windowed", actions=[custom("W")], before_entry=window)
    )
    observed = []
    with LocalExecutor(
        tmp_path,
        settings=EngineSettings(validate=False, clock=FrozenClock(IN_2099)),
        handlers={FAKE: handler},
        observers=[lambda event: observed.append(event.at)],
    ) as x:
        e = x.run(p)
    assert e.status is ExecutionStatus.SUCCEEDED, e.status_summary
    assert e.stage("Windowed").status is StageStatus.SUCCEEDED
    assert e.started_at == e.ended_at == IN_2099
    assert {a.started_at for a in e.actions} == {a.ended_at for a in e.actions} == {IN_2099}
    assert {r.at for r in e.rules} == {IN_2099}
    assert set(observed) == {IN_2099}
