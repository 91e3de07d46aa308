"""Helpers for unit-testing pipeline logic with pytest: fakes, a runner and assertions.

Layer: testing (top). Typical use::

    from pipeweaver.testing import fake, run_with_fakes, assert_never_ran

    def test_deploy_never_runs_when_tests_fail(tmp_path):
        execution = run_with_fakes(release(), {"UnitTest": fake(fail="2 tests failed")}, workdir=tmp_path)
        assert_never_ran(execution, "Deploy")

The pytest plugin (:mod:`pipeweaver.testing.plugin`, registered as an entry point) adds the
``pipeweaver_executor`` and ``snapshot`` fixtures and the ``--snapshot-update`` option.
"""

from __future__ import annotations

from .._public import publish as _publish
from ._assertions import (
    assert_artifact_contains,
    assert_never_ran,
    assert_ran,
    assert_ran_before,
    assert_rolled_back,
    assert_stage_outcome,
    assert_succeeded,
    read_artifact,
)
from ._fakes import Call, FakeHandler, RecordingHandler, fake, recording
from ._runner import run_with_fakes
from ._snapshot import Snapshot

__all__ = [
    "Call",
    "FakeHandler",
    "RecordingHandler",
    "Snapshot",
    "assert_artifact_contains",
    "assert_never_ran",
    "assert_ran",
    "assert_ran_before",
    "assert_rolled_back",
    "assert_stage_outcome",
    "assert_succeeded",
    "fake",
    "read_artifact",
    "recording",
    "run_with_fakes",
]

_publish(globals(), __all__, __name__)
