"""How long the lake keeps what it no longer needs: the retention limits of the settings,
enforced by the maintenance stage.

* Every Delta table carries ``delta.deletedFileRetentionDuration`` (the vacuum retention)
  and ``delta.logRetentionDuration``, so removed files and the log entries describing
  them (with their column statistics) age out on the same clock the erasure stage dates
  its proof by.
* Bronze rows older than ``bronze_retention_days`` (by ingestion time) are deleted.
* Locally, landing objects older than ``landing_retention_days`` are deleted, as the S3
  lifecycle rules of infra/ expire them in AWS (moto keeps lifecycle rules but applies
  none).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from newslake.settings import Settings
from spark_jobs import columns as C

FILE_RETENTION = "delta.deletedFileRetentionDuration"
LOG_RETENTION = "delta.logRetentionDuration"
S3_DELETE_BATCH = 1000  # DeleteObjects' limit per call


def retention_properties(settings: Settings) -> dict[str, str]:
    """The Delta table properties that bound how long removed rows stay readable."""
    return {
        FILE_RETENTION: f"interval {settings.vacuum_retention_hours} hours",
        LOG_RETENTION: f"interval {settings.delta_log_retention_days} days",
    }


def set_retention(
    spark: SparkSession, tables: Mapping[str, str], properties: Mapping[str, str]
) -> list[str]:
    """Sets ``properties`` on every existing table that lacks them; returns the tables
    changed. Tables already set get no commit, so a nightly run adds nothing to the log."""
    changed = []
    for name, path in tables.items():
        if not DeltaTable.isDeltaTable(spark, path):
            continue
        row = DeltaTable.forPath(spark, path).detail().select("properties").first()
        current = dict(row[0]) if row and row[0] else {}
        if all(current.get(k) == v for k, v in properties.items()):
            continue
        assignments = ", ".join(f"'{k}' = '{v}'" for k, v in properties.items())
        spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ({assignments})")
        changed.append(name)
    return changed


def checkpoint(spark: SparkSession, path: str) -> None:
    """Write a checkpoint of the table's latest version now, which deletes the log entries
    older than its log retention (Delta does so only while checkpointing).

    Delta's Python and SQL APIs have no checkpoint call; its JVM ``DeltaLog`` has, the one
    Delta itself calls after a commit. A failure is logged by Delta, not raised: the entries
    then go at the next checkpoint.
    """
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    delta_log = jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path)
    none = jvm.scala.Option.empty()
    delta_log.checkpoint(delta_log.update(False, none, none), none)


def expire_bronze(spark: SparkSession, path: str, *, older_than: datetime) -> int:
    """Deletes bronze rows ingested before ``older_than``; returns how many."""
    if not DeltaTable.isDeltaTable(spark, path):
        return 0
    table = DeltaTable.forPath(spark, path)
    old = F.col(C.INGESTED_AT) < F.lit(older_than)
    if table.toDF().where(old).limit(1).count() == 0:
        return 0  # no empty commit
    table.delete(old)
    metrics = table.history(1).select("operationMetrics").first()
    return int((metrics[0] if metrics else {}).get("numDeletedRows", 0))


def expire_landing(s3: Any, bucket: str, prefixes: Iterable[str], *, older_than: datetime) -> int:
    """Deletes the objects under ``prefixes`` last written before ``older_than``; returns
    how many."""
    old = [
        obj["Key"]
        for prefix in prefixes
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/")
        for obj in page.get("Contents", [])
        if obj["LastModified"] < older_than
    ]
    for i in range(0, len(old), S3_DELETE_BATCH):
        batch = [{"Key": key} for key in old[i : i + S3_DELETE_BATCH]]
        failed = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        if failed.get("Errors"):  # the next night tries them again
            raise RuntimeError(f"landing objects not deleted: {failed['Errors'][:3]}")
    return len(old)


def apply(
    spark: SparkSession, settings: Settings, tables: Mapping[str, str], *, s3: Any, now: datetime
) -> dict[str, Any]:
    """Every limit at once, as the maintenance stage runs them; returns what was done.

    Args:
        tables: the lake's tables (name -> path); ``bronze.pageviews`` among them.
        s3: a client for the landing bucket, or None where the lifecycle rules do it (AWS).
        now: the run's clock (aware, UTC).
    """
    report: dict[str, Any] = {
        "properties_set": set_retention(spark, tables, retention_properties(settings)),
        "bronze_rows_expired": expire_bronze(
            spark,
            tables["bronze.pageviews"],
            older_than=now - timedelta(days=settings.bronze_retention_days),
        ),
    }
    existing = {n: p for n, p in tables.items() if DeltaTable.isDeltaTable(spark, p)}
    for path in existing.values():  # after the changes above, so the new retention counts
        checkpoint(spark, path)
    report["checkpointed"] = list(existing)
    if s3 is not None:
        report["landing_objects_expired"] = expire_landing(
            s3,
            settings.landing_bucket,
            (settings.landing_prefix, settings.impressions_prefix),
            older_than=now - timedelta(days=settings.landing_retention_days),
        )
    return report
