"""The one cron module: both dialects raise the same error and number the days as AWS documents."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import pipeweaver as pw
from pipeweaver._cron import CronError, CronSchedule, aws_cron, cron_matches

SUNDAY = datetime(2026, 1, 4, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (lambda: CronSchedule.parse("* * * *"), "schedule"),
        (lambda: CronSchedule.parse("0 0 31 2 *").next_after(SUNDAY), "schedule"),
        (lambda: cron_matches("* * * * *", SUNDAY), "Cron"),
        (lambda: cron_matches("0 0 0 ? * FUNDAY", SUNDAY), "Cron"),
        (lambda: aws_cron("60 * * * *"), "schedule"),
    ],
    ids=["classic-fields", "classic-never", "aws-fields", "aws-name", "conversion"],
)
def test_both_dialects_raise_the_one_error(bad: object, field: str) -> None:
    """A malformed expression in either dialect is a CronError (a DefinitionError) naming the setting."""
    with pytest.raises(CronError) as info:
        bad()  # type: ignore[operator]

    assert isinstance(info.value, pw.DefinitionError)
    assert field == info.value.field


def test_sunday_is_0_in_classic_cron_and_1_in_aws_cron() -> None:
    """Classic cron counts Sunday as 0 (or 7); AWS cron (DeploymentWindow, EventBridge) as 1."""
    assert CronSchedule.parse("0 0 * * 0").matches(SUNDAY)
    assert CronSchedule.parse("0 0 * * 7").matches(SUNDAY)
    assert cron_matches("0 0 0 ? * 1", SUNDAY)
    assert not cron_matches("0 0 0 ? * 2", SUNDAY)
    assert "cron(0 0 ? * 1 *)" == aws_cron("0 0 * * 0") == aws_cron("0 0 * * 7")
    assert "cron(0 0 ? * SUN *)" == aws_cron("0 0 * * SUN")
