"""A reader's rows, lines and items counted in every place the lake and the service keep
them: the Delta tables that hold readers (:mod:`spark_jobs.reader_rows`), the landed
objects and the serving store, readable now (:func:`readable`) or only through a Delta
table's retained history (:func:`history`). The erasure stage and its check
(``spark_jobs/erasure_check.py``) both count with these.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from pyspark.sql import SparkSession

from newslake import privacy
from newslake.settings import Settings
from spark_jobs import delta_history, erase_landing, erase_store
from spark_jobs.reader_rows import Reader, ReaderTable, count_by_reader, reader_tables

LANDING, STORE = "landing", "store"


def delta_place(table: str) -> str:
    """A Delta table's name as a place in a check or a request's steps."""
    return f"delta/{table}"


def readable(
    spark: SparkSession,
    settings: Settings,
    readers: Iterable[Reader],
    *,
    s3: Any,
    ddb: Any,
    tables: list[ReaderTable] | None = None,
) -> dict[Reader, dict[str, int]]:
    """Each reader's rows, lines or items readable now, per place (zeros included);
    ``tables``: the lake's reader tables when the caller has listed them."""
    readers = list(readers)
    found: dict[Reader, dict[str, int]] = {r: {} for r in readers}
    for table in reader_tables(spark, settings) if tables is None else tables:
        df = spark.read.format("delta").load(table.path)
        for reader, n in count_by_reader(df, table.shape, readers).items():
            found[reader][delta_place(table.name)] = n
    lines = erase_landing.scan(s3, erase_landing.Landing.of(settings), readers, rewrite=False)
    for reader in readers:
        found[reader][LANDING] = lines[reader]
        found[reader][STORE] = len(
            erase_store.reader_keys(ddb, settings.recommendations_table, reader)
        )
    return found


def history(
    spark: SparkSession, settings: Settings, readers: Iterable[Reader], now: datetime
) -> tuple[dict[Reader, dict[str, int]], dict[Reader, date | None]]:
    """Each reader's rows in versions still retained but no longer current, per table, and
    the date by which they are gone (None when there are none)."""
    readers = list(readers)
    rows: dict[Reader, dict[str, int]] = {r: {} for r in readers}
    gone: dict[Reader, date | None] = dict.fromkeys(readers)
    for table in reader_tables(spark, settings):
        kept = delta_history.retained(spark, table, readers)
        if not any(kept.rows.values()):
            continue
        keep = delta_history.retention(spark, table.path, settings)
        keep += privacy.storage_delay(settings)  # what Delta deleted, storage keeps longer
        for reader, n in kept.rows.items():
            if n:
                rows[reader][delta_place(table.name)] = n
                day = delta_history.unreadable_date(kept.removed_ms[reader], keep, now)
                gone[reader] = max(day, gone[reader] or day)
    return rows, gone
