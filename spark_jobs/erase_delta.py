"""Remove readers' rows from one Delta table, in one commit that says whose they were.

The commit's user metadata names the erasure requests it served by their marks (a
request's subject, a keyed hash and never a reader id since the log outlives the rows,
and the run's round) with the rows removed for each, so a run killed after the commit and
before the request recorded it finds the commit again and records the same counts rather
than zero or twice (:func:`erased_before`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from delta.tables import DeltaTable
from pyspark.sql import Column, SparkSession
from pyspark.sql import functions as F

from newslake.errors import NewslakeError
from spark_jobs import retention
from spark_jobs.reader_rows import Reader, ReaderTable, count_by_reader, of_readers

log = logging.getLogger("newslake.erasure")

TAG = "newslake_erasure"  # the key of an erasure commit's user metadata
_USER_METADATA = "spark.databricks.delta.commitInfo.userMetadata"
# Enough commits back to pass the streaming job's appends made while the stage ran.
LOOK_BACK = 500
DELETE_ATTEMPTS = 3


def erased_before(spark: SparkSession, path: str, marks: set[str]) -> dict[str, int]:
    """Rows removed per mark by the erasure commits of the table still in its history."""
    rows = (
        DeltaTable.forPath(spark, path)
        .history(LOOK_BACK)
        .where(F.col("userMetadata").startswith(f'{{"{TAG}"'))
        .select("userMetadata")
        .collect()
    )
    found: dict[str, int] = {}
    for row in rows:
        for mark, n in json.loads(row["userMetadata"])[TAG].items():
            if mark in marks:
                found[mark] = found.get(mark, 0) + int(n)
    return found


class ErasureError(NewslakeError):
    """A table's erasure failed; the message names no reader."""


def _delete(delta: DeltaTable, condition: Column, name: str) -> None:
    """DELETE, again after a conflict: the streaming job's MERGE into the same files makes
    Delta refuse one of the two commits, and the stage's is the one that can wait."""
    for attempt in range(1, DELETE_ATTEMPTS + 1):
        try:
            delta.delete(condition)
            return
        except Exception as exc:  # Delta's conflicts come through py4j as several classes
            if (
                "Concurrent" not in type(exc).__name__ + str(exc)[:200]
                or attempt == DELETE_ATTEMPTS
            ):
                raise
            log.warning("%s: concurrent commit, deleting again (%d)", name, attempt)


def erase_table(
    spark: SparkSession, table: ReaderTable, marks: Mapping[Reader, str]
) -> dict[str, int]:
    """Delete the rows of every reader of ``marks`` (reader -> the request's mark) from
    ``table`` in one commit; returns the rows removed per mark (no commit when none).

    A table with deletion vectors is purged as well, so the rows leave its files; then a
    checkpoint deletes the log entries already past the log retention (older statistics of
    the readers' rows among them) now rather than at the table's next checkpoint.
    """
    try:
        return _erase(spark, table, marks)
    except Exception as exc:
        # Spark's messages may quote the delete's condition, which names the readers.
        text = f"{type(exc).__name__}: {exc}"[:2000]
        for reader in marks:
            text = text.replace(reader.user_id, "<reader>")
        raise ErasureError(f"{table.name}: erasure failed: {text}") from None


def _erase(spark: SparkSession, table: ReaderTable, marks: Mapping[Reader, str]) -> dict[str, int]:
    df = spark.read.format("delta").load(table.path)
    counts = count_by_reader(df, table.shape, marks)
    removed = {marks[r]: n for r, n in counts.items()}
    if not any(removed.values()):
        return removed
    delta = DeltaTable.forPath(spark, table.path)
    tag = json.dumps({TAG: {m: n for m, n in removed.items() if n}}, sort_keys=True)
    previous = spark.conf.get(_USER_METADATA, None)
    spark.conf.set(_USER_METADATA, tag)
    try:
        _delete(delta, of_readers(table.shape, marks), table.name)
    finally:
        if previous is None:
            spark.conf.unset(_USER_METADATA)
        else:
            spark.conf.set(_USER_METADATA, previous)
    properties = delta.detail().select("properties").first()
    if properties and properties[0].get("delta.enableDeletionVectors") == "true":
        spark.sql(f"REORG TABLE delta.`{table.path}` APPLY (PURGE)")
    retention.checkpoint(spark, table.path)
    log.info("%s: removed %d rows of %d requests", table.name, sum(removed.values()), len(removed))
    return removed
