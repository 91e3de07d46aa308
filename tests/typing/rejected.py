"""Typed uses that mypy --strict must reject, one per line marked ``# expect: CODE``.

test_typing.py checks that mypy reports exactly these errors (line and code) and no others;
the code is never run. At run time the same mistakes raise DefinitionError, as before.
"""

from __future__ import annotations

import pipeweaver as pw
from pipeweaver.execution import ActionContext, Executor, LocalExecutor, Watcher
from pipeweaver.testing import run_with_fakes


def misspelt_enum_words(pipeline: pw.Pipeline) -> None:
    """A typo in AWS's word is a type error, not a surprise at run time."""
    pw.FailureConditions(result="ROLLBAK")  # expect: arg-type
    pw.FailureConditions(result="RETRY", retry_mode="FAILED")  # expect: arg-type
    pw.ActionType(category="Biuld", owner="AWS", provider="CodeBuild")  # expect: arg-type
    pw.ActionType(category="Build", owner="aws", provider="CodeBuild")  # expect: arg-type
    pw.EnvironmentVariable(name="TOKEN", value="x", type="SECRET")  # expect: arg-type
    pw.GitPullRequestFilter(events=["OPENED"])  # expect: list-item
    pw.GitPullRequest(event="MERGED", source_branch="f", destination_branch="main")  # expect: arg-type
    pw.Pipeline(name="p", role_arn="r", stages=pipeline.stages, execution_mode="QUEUD")  # expect: arg-type
    pw.Pipeline(name="p", role_arn="r", stages=pipeline.stages, pipeline_type="v2")  # expect: arg-type
    LocalExecutor().retry("id", "Build", mode="FAILED")  # expect: call-overload
    pw.ArtifactStore(location="bucket", type="s3")  # expect: arg-type
    pw.EncryptionKey(id="alias/k", type="KMS_DSSE")  # expect: arg-type
    pw.Blocker(name="b", type="Manual")  # expect: arg-type
    pw.RuleType(provider="Commands", category="Rules")  # expect: arg-type
    pw.RuleType(provider="Commands", owner="Custom")  # expect: arg-type
    pw.Trigger(source_action_name="Source", provider_type="GitHub")  # expect: arg-type
    LocalExecutor().history(pipeline, status="Succeded")  # expect: arg-type


def wrong_handler_signatures(pipeline: pw.Pipeline) -> None:
    """A handler takes the ActionContext and returns an ActionResult or None."""

    def takes_a_string(context: str) -> None:
        return None

    def returns_a_dict(context: ActionContext) -> dict[str, str]:
        return {}

    def takes_two(context: ActionContext, extra: int) -> None:
        return None

    LocalExecutor(handlers={"Build/Compile": takes_a_string})  # expect: dict-item
    LocalExecutor(handlers={"Build/Compile": returns_a_dict})  # expect: dict-item
    LocalExecutor(handlers={"Build/Compile": takes_two})  # expect: dict-item
    run_with_fakes(pipeline, {"Build": returns_a_dict}, workdir=".")  # expect: dict-item


class _StartsOnly:
    def start(self, pipeline: pw.Pipeline) -> None: ...


def not_an_executor(pipeline: pw.Pipeline) -> None:
    """Something with a start method is not an Executor."""
    _executor: Executor = _StartsOnly()  # expect: assignment
    Watcher(pipeline, _StartsOnly())  # expect: arg-type


def misspelt_public_names() -> None:
    """pipeweaver loads its names on first use, yet a name it does not have is a type error, not Any."""
    _pipeline = pw.Pipelin  # expect: attr-defined
    _evaluate = pw.evaluate_triggers  # expect: attr-defined
