"""What a Delta table still keeps of rows no longer in its current version, and until when.

A DELETE writes new files without the rows and marks the old ones removed; the old files
stay on storage, readable by time travel, until VACUUM deletes them once their removal is
older than the table's deleted-file retention, and the log entries that describe them
(with the files' column statistics) stay until the log retention, and then until the next
checkpoint, which the nightly maintenance writes (spark_jobs/retention.py). So every
version still retained is read here as the union of the data files its log names: the
current version's, and the removed ones still on storage.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import unquote

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from newslake.settings import Settings
from spark_jobs.reader_rows import Reader, ReaderTable, count_by_reader_and

# Delta's own defaults when a table sets no property (delta.deletedFileRetentionDuration,
# delta.logRetentionDuration).
DEFAULT_FILE_RETENTION = timedelta(days=7)
DEFAULT_LOG_RETENTION = timedelta(days=30)
# VACUUM runs in the nightly maintenance stage: a file becomes removable during a day and
# is gone by the next night's run.
MAINTENANCE_LAG = timedelta(days=1)
_INTERVAL = re.compile(r"^\s*interval\s+(\d+)\s+(second|minute|hour|day|week)s?\s*$", re.I)


@dataclass(frozen=True)
class Retained:
    """A table's rows of each reader in files no longer in its current version, and the
    newest removal time (epoch ms) among the files that hold them."""

    rows: dict[Reader, int]
    removed_ms: dict[Reader, int | None]


def _glob(spark: SparkSession, pattern: str) -> list[str]:
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    path = jvm.org.apache.hadoop.fs.Path(pattern)
    fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return [str(s.getPath().toString()) for s in fs.globStatus(path) or []]


def _log_actions(spark: SparkSession, path: str) -> tuple[DataFrame | None, DataFrame | None]:
    """(add paths, remove paths with their time) of the table's retained log."""
    log = f"{path}/_delta_log"
    sources = []
    commits = _glob(spark, f"{log}/*.json")
    if commits:
        sources.append(spark.read.json(commits))
    checkpoints = _glob(spark, f"{log}/*.checkpoint*.parquet")
    if checkpoints:
        sources.append(spark.read.parquet(*checkpoints))
    adds: DataFrame | None = None
    removes: DataFrame | None = None
    for src in sources:
        if "add" in src.columns:
            part = src.where(F.col("add").isNotNull()).select(F.col("add.path").alias("file"))
            adds = part if adds is None else adds.unionByName(part)
        if "remove" in src.columns:
            part = src.where(F.col("remove").isNotNull()).select(
                F.col("remove.path").alias("file"),
                F.col("remove.deletionTimestamp").cast("long").alias("removed_ms"),
            )
            removes = part if removes is None else removes.unionByName(part)
    return adds, removes


def _name(file: str) -> str:
    """A data file's name: Delta names files with a UUID, unique within a table."""
    return unquote(file).rstrip("/").rsplit("/", 1)[-1]


def _absolute(path: str, file: str) -> str:
    file = unquote(file)
    return file if "://" in file or file.startswith("/") else f"{path}/{file}"


def retained(spark: SparkSession, table: ReaderTable, readers: Iterable[Reader]) -> Retained:
    """The rows of ``readers`` in files of ``table`` that only older versions still read."""
    readers = list(readers)
    adds, removes = _log_actions(spark, table.path)
    empty = Retained(dict.fromkeys(readers, 0), dict.fromkeys(readers))
    if adds is None:
        return empty
    current = {_name(f) for f in spark.read.format("delta").load(table.path).inputFiles()}
    every = {_absolute(table.path, r["file"]) for r in adds.distinct().collect()}
    old = sorted(f for f in every if _name(f) not in current)
    if not old:
        return empty
    df = (
        spark.read.option("basePath", table.path)
        .option("ignoreMissingFiles", "true")
        .option("mergeSchema", "true")
        .parquet(*old)
        .withColumn("_file", F.input_file_name())
    )
    per_file = count_by_reader_and(df, table.shape, readers, "_file")
    rows = dict.fromkeys(readers, 0)
    for (reader, _), n in per_file.items():
        rows[reader] += n
    if not per_file:
        return Retained(rows, dict.fromkeys(readers))
    removed_at: dict[str, int] = {}
    if removes is not None:
        for r in removes.groupBy("file").agg(F.max("removed_ms").alias("at")).collect():
            if r["at"] is not None:
                removed_at[_name(r["file"])] = int(r["at"])
    newest: dict[Reader, int | None] = dict.fromkeys(readers)
    for reader, file in per_file:
        at = removed_at.get(_name(str(file)))
        if at is not None:
            newest[reader] = max(at, newest[reader] or at)
    return Retained(rows, newest)


def _interval(value: str | None, default: timedelta) -> timedelta:
    m = _INTERVAL.match(value or "")
    if not m:
        return default
    n, unit = int(m.group(1)), m.group(2).lower()
    return timedelta(**{f"{unit}s": n})


def retention(spark: SparkSession, path: str, settings: Settings) -> timedelta:
    """How long after a file's removal the table may still read it or describe it: the
    longer of its deleted-file and log retentions (its properties, else Delta's defaults),
    never shorter than the vacuum retention the maintenance stage keeps."""
    row = DeltaTable.forPath(spark, path).detail().select("properties").first()
    props = dict(row[0]) if row and row[0] else {}
    files = _interval(props.get("delta.deletedFileRetentionDuration"), DEFAULT_FILE_RETENTION)
    log = _interval(props.get("delta.logRetentionDuration"), DEFAULT_LOG_RETENTION)
    return max(files, log, timedelta(hours=settings.vacuum_retention_hours))


def unreadable_date(removed_ms: int | None, kept: timedelta, now: datetime) -> date:
    """The date by which a copy removed at ``removed_ms`` (None: unknown, counted from
    ``now``) is gone, the nightly maintenance run included."""
    start = datetime.fromtimestamp(removed_ms / 1000, UTC) if removed_ms is not None else now
    return (start + kept + MAINTENANCE_LAG).date()
