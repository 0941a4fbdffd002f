"""The erasure stage's date of proof, without Spark: a request's recorded steps and each
table's retention given by hand, in both profiles (AWS adds what its versioned lake bucket
keeps of a deleted file)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import pytest

from newslake.privacy import PENDING, ErasureRequest
from newslake.settings import Settings
from spark_jobs.erasure_stage import Context, Work, unreadable_by
from spark_jobs.reader_rows import TYPED, ReaderTable

ERASED_AT = 1_800_000_000.0  # 2027-01-15T08:00Z


def _context(settings: Settings) -> Context:
    table = ReaderTable("gold.interactions", "/lake/gold/interactions", TYPED)
    none = cast(Any, None)
    return Context(
        none,
        settings,
        none,
        s3=None,
        ddb=None,
        now=lambda: ERASED_AT + 60,
        _tables=[table],
        _retention={"gold.interactions": timedelta(days=14)},  # the table's own
    )


def _work() -> Work:
    steps = {"delta/gold.interactions": {"removed": 3.0, "at": ERASED_AT}}
    request = ErasureRequest("subject", "g1", "ana", ERASED_AT - 5, "test", PENDING, steps)
    return Work.of(request)


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ("local", "2027-01-30"),  # 14 days, then a night for the maintenance
        ("aws", "2027-02-07"),  # and 7 days of noncurrent versions, rounded up a day
    ],
)
def test_the_date_counts_the_table_retention_and_the_lake_bucket_versions(
    profile: str, expected: str
) -> None:
    settings = Settings(profile=profile, lake_noncurrent_version_days=7)

    assert unreadable_by(_context(settings), _work()) == expected
