"""The erasure's DELETE on one table: its retry counted on a stand-in table whose ``delete``
fails the way Delta's conflicts reach Python (an exception class named after the conflict),
and the checkpoint that follows it on a real table."""

from __future__ import annotations

import json
from typing import Any, cast

import pytest

from spark_jobs import erase_delta
from spark_jobs.reader_rows import TYPED, Reader, ReaderTable


class ConcurrentAppendException(Exception):
    """Named as Delta's conflict between an append and a DELETE on the same files."""


class FlakyTable:
    """``delete`` raises each exception of ``failures`` in turn, then succeeds."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.calls = 0

    def delete(self, condition: Any) -> None:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)


def _delete(table: FlakyTable) -> None:
    erase_delta._delete(cast(Any, table), cast(Any, "user_id = 'x'"), "silver.pageviews")


def test_a_conflict_once_is_deleted_again() -> None:
    table = FlakyTable(ConcurrentAppendException("files were added"))

    _delete(table)

    assert table.calls == 2


def test_another_error_is_raised_at_once() -> None:
    table = FlakyTable(OSError("disk full"))

    with pytest.raises(OSError, match="disk full"):
        _delete(table)

    assert table.calls == 1


def test_conflicts_every_time_are_raised_after_the_last_attempt() -> None:
    table = FlakyTable(*(ConcurrentAppendException(f"attempt {n}") for n in range(5)))

    with pytest.raises(ConcurrentAppendException, match="attempt 2"):
        _delete(table)

    assert table.calls == 3  # erase_delta.DELETE_ATTEMPTS


@pytest.mark.slow
def test_an_erasure_commit_is_checkpointed(spark, tmp_path) -> None:
    path = f"{tmp_path}/gold/t"
    rows = [("g1", "ana", 1), ("g1", "bia", 2)]
    spark.createDataFrame(rows, "portal string, user_id string, n int").write.format("delta").save(
        path
    )  # version 0

    removed = erase_delta.erase_table(
        spark, ReaderTable("gold.t", path, TYPED), {Reader("g1", "ana"): "mark"}
    )  # version 1

    assert removed == {"mark": 1}
    last = json.loads((tmp_path / "gold" / "t" / "_delta_log" / "_last_checkpoint").read_text())
    assert last["version"] == 1
