"""The dates erasure promises, from a table's retention properties (no Spark)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from spark_jobs.delta_history import _interval, unreadable_date

WEEK = timedelta(days=7)


def test_retention_properties_read_as_delta_writes_them() -> None:
    assert _interval("interval 168 hours", WEEK) == timedelta(hours=168)
    assert _interval("interval 7 days", WEEK) == timedelta(days=7)
    assert _interval("INTERVAL 2 weeks", WEEK) == timedelta(weeks=2)
    assert _interval(None, WEEK) == WEEK
    assert _interval("7 days", WEEK) == WEEK  # not Delta's form: the default stands


def test_a_copy_is_gone_after_its_retention_and_the_next_nightly_vacuum() -> None:
    removed = int(datetime(2026, 3, 2, 23, 0, tzinfo=UTC).timestamp() * 1000)
    now = datetime(2026, 3, 5, tzinfo=UTC)
    # 2026-03-02 23:00 + 7 days = 03-09 23:00, + a day for the maintenance run
    assert unreadable_date(removed, timedelta(days=7), now) == date(2026, 3, 10)
    assert unreadable_date(None, timedelta(days=7), now) == date(2026, 3, 13)
