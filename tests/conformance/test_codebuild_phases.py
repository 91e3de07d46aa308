"""CodeBuild's buildspec phases, run locally as CodeBuild documents them.

Each test names the AWS page it follows. The shell runner is exercised directly (real bash, real
processes); one test runs a whole CodeBuild action to check the failure message users see.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

import pipeweaver as pw
from pipeweaver.execution import LocalExecutor
from pipeweaver.execution._shell import Phase, ShellResult, run_phases

from .conftest import SRC, source_then

PHASES = "https://docs.aws.amazon.com/codebuild/latest/userguide/view-build-details-phases.html"
BUILDSPEC = "https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html"
VARIABLES = "https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-env-vars.html"


def _run(tmp_path: Path, *phases: Phase, capture: tuple[str, ...] = ()) -> tuple[ShellResult, list[str]]:
    out: list[str] = []
    result = run_phases(
        phases,
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
        log=out.append,
        cancel=threading.Event(),
        capture=capture,
    )
    return result, [line for line in out if not line.startswith("[pipeweaver]")]


def test_exit_in_a_build_command_fails_the_build_phase_and_post_build_still_runs(tmp_path: Path) -> None:
    """Build phase transitions (PHASES): a failed BUILD goes on to POST_BUILD.

    `exit 1` ends the command, not the build: post_build runs with CODEBUILD_BUILD_SUCCEEDING=0,
    variables exported before the failure are still exported, and the failure names the command.
    """
    result, out = _run(
        tmp_path,
        Phase("build", ("export VERSION=1.2.3", "echo building", "exit 1", "echo never")),
        Phase("post_build", ("echo post $CODEBUILD_BUILD_SUCCEEDING $VERSION",)),
        capture=("VERSION",),
    )

    assert ["building", "post 0 1.2.3"] == out
    assert (1, "build", "exit 1", 1) == (
        result.returncode,
        result.failed_phase,
        result.failed_command,
        result.failed_status,
    )
    assert {"VERSION": "1.2.3"} == dict(result.variables)
    assert "COMMAND_EXECUTION_ERROR: Error while executing command: exit 1. Reason: exit status 1" == result.failure()


def test_a_failed_install_or_pre_build_skips_build_and_post_build(tmp_path: Path) -> None:
    """Build phase transitions (PHASES): a failed INSTALL or PRE_BUILD goes to FINALIZING."""
    result, out = _run(
        tmp_path,
        Phase("install", ("echo install", "false")),
        Phase("build", ("echo build",)),
        Phase("post_build", ("echo post",)),
    )

    assert ["install"] == out
    assert ("install", "false") == (result.failed_phase, result.failed_command)


def test_state_carries_over_between_commands_as_in_buildspec_0_2(tmp_path: Path) -> None:
    """Buildspec reference (BUILDSPEC), version 0.2: commands of a build share one shell.

    `cd`, exported and plain variables, `unset`, functions and shell options carry from one
    command to the next and into later phases.
    """
    (tmp_path / "sub").mkdir()
    result, out = _run(
        tmp_path,
        Phase(
            "install",
            (
                "cd sub",
                "export EXPORTED=e; PLAIN=p; GONE=g",
                "greet() { echo hello $1; }",
                "set -o pipefail",
            ),
        ),
        Phase(
            "build",
            ("unset GONE", 'echo "$(basename "$PWD") $EXPORTED $PLAIN ${GONE:-unset}"', "greet you", "false | true"),
        ),
    )

    assert ["sub e p unset", "hello you"] == out
    # pipefail from install is still on: `false | true` fails, and the report names it.
    assert ("build", "false | true") == (result.failed_phase, result.failed_command)


def test_set_e_in_a_command_ends_a_later_command_not_the_runner(tmp_path: Path) -> None:
    """Buildspec reference (BUILDSPEC): a `set -e` left by one command applies to the next ones, not to the build's runner.

    The command it stops fails its phase, and post_build still follows the failed build.
    """
    result, out = _run(
        tmp_path,
        Phase("build", ("set -e", "false; echo not-reached")),
        Phase("post_build", ("echo post",)),
    )

    assert ["post"] == out
    assert ("build", "false; echo not-reached", 1) == (
        result.failed_phase,
        result.failed_command,
        result.failed_status,
    )


def test_finally_runs_after_a_failed_command_and_its_own_failure_fails_the_phase(tmp_path: Path) -> None:
    """Buildspec reference (BUILDSPEC): `finally` commands run even if a command in `commands` fails."""
    failed, out = _run(tmp_path, Phase("build", ("false", "echo skipped"), ("echo cleanup",)))
    broken, _ = _run(tmp_path, Phase("build", ("echo ok",), ("exit 4",)))

    assert ["cleanup"] == out
    assert ("build", "false") == (failed.failed_phase, failed.failed_command)
    assert ("build", "exit 4", 4) == (broken.failed_phase, broken.failed_command, broken.failed_status)


def test_on_failure_continue_runs_the_next_phases_and_the_build_still_fails(tmp_path: Path) -> None:
    """Buildspec reference (BUILDSPEC): `on-failure: CONTINUE` continues to the next phase."""
    result, out = _run(
        tmp_path,
        Phase("install", ("false",), on_failure="CONTINUE"),
        Phase("pre_build", ("echo pre $CODEBUILD_BUILD_SUCCEEDING",)),
        Phase("build", ("echo build",)),
    )

    assert ["pre 0", "build"] == out
    assert (1, "install") == (result.returncode, result.failed_phase)


def test_codebuild_build_succeeding_is_set_in_every_phase(tmp_path: Path) -> None:
    """Environment variables in build environments (VARIABLES): CODEBUILD_BUILD_SUCCEEDING is 1 while succeeding."""
    result, out = _run(
        tmp_path,
        Phase("install", ("echo install $CODEBUILD_BUILD_SUCCEEDING",)),
        Phase("build", ("echo build $CODEBUILD_BUILD_SUCCEEDING",)),
    )

    assert (0, ["install 1", "build 1"]) == (result.returncode, out)


def test_a_syntax_error_fails_its_command_only(tmp_path: Path) -> None:
    """Build phase transitions (PHASES): a command with a shell syntax error fails that command; post_build follows."""
    result, out = _run(
        tmp_path,
        Phase("build", ("echo before", "if then fi")),
        Phase("post_build", ("echo post",)),
    )

    assert "post" == out[-1]
    assert ("build", "if then fi") == (result.failed_phase, result.failed_command)


def test_a_long_or_multi_line_command_is_named_by_its_first_line(tmp_path: Path) -> None:
    """Build phase transitions (PHASES): a failed command is reported as COMMAND_EXECUTION_ERROR naming it, a multi-line one by its first line."""
    result, _ = _run(tmp_path, Phase("build", ("echo one\nexit 2",)))

    assert "COMMAND_EXECUTION_ERROR: Error while executing command: echo one .... Reason: exit status 2" == (
        result.failure()
    )


def _codebuild_pipeline() -> pw.Pipeline:
    build = pw.Action(
        name="Build",
        action_type=pw.ActionType(category="Build", provider="CodeBuild"),
        configuration={"ProjectName": "app"},
        inputs=[SRC],
    )
    return source_then(pw.Stage(name="Build", actions=[build]))


def test_a_failed_codebuild_action_names_the_phase_and_the_command(tmp_path: Path) -> None:
    """Build phase transitions (PHASES): a failed build names its phase, and the command with its exit status."""
    (tmp_path / "app").mkdir()
    spec = {"version": 0.2, "phases": {"build": {"commands": ["echo ok", "test -f missing.txt"]}}}

    e = LocalExecutor(tmp_path / "wd", sources={"Source": tmp_path / "app"}, buildspecs={"app": spec}).run(
        _codebuild_pipeline()
    )

    assert (
        "build failed in phase build (project app): COMMAND_EXECUTION_ERROR: Error while executing command: "
        "test -f missing.txt. Reason: exit status 1"
    ) == e.action("Build", "Build").error


@pytest.mark.parametrize("choice", ["RETRY", "RETRY-3", "IGNORE"])
def test_on_failure_values_not_emulated_are_refused_with_the_ones_that_are(tmp_path: Path, choice: str) -> None:
    """Buildspec reference (BUILDSPEC): on-failure takes ABORT, CONTINUE and the RETRY forms.

    Local: refused: a RETRY form fails the action naming the values that run locally (ABORT, CONTINUE).
    """
    (tmp_path / "app").mkdir()
    spec = {"version": 0.2, "phases": {"build": {"on-failure": choice, "commands": ["echo ok"]}}}

    e = LocalExecutor(tmp_path / "wd", sources={"Source": tmp_path / "app"}, buildspecs={"app": spec}).run(
        _codebuild_pipeline()
    )

    assert (
        f"buildspec phases.build.on-failure is {choice!r}; locally it can be ABORT (the default) or CONTINUE "
        "(the RETRY forms are not emulated)"
    ) == e.action("Build", "Build").error
