"""The lake's nightly care, shared by ``make maintain`` (spark_jobs/maintenance.py) and the
nightly run's ``maintain`` stage (the Airflow DAG's task): the retention limits
(spark_jobs/retention.py), then compaction and vacuum of every table.

One function for both, so the DAG enforces the same limits the maintenance job does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pyspark.sql import SparkSession

from newslake import aws
from newslake.settings import Settings
from spark_jobs import delta_io, retention
from spark_jobs.tables import lake_tables


def maintain(
    spark: SparkSession,
    settings: Settings,
    *,
    optimize: bool = True,
    vacuum: bool = True,
    now: datetime | None = None,
) -> dict[str, dict[str, Any]]:
    """Enforce the retention limits, then compact and vacuum every table that exists;
    returns what was done, per table and under ``retention``."""
    tables = lake_tables(settings)
    # In AWS the landing bucket's lifecycle rules expire its objects.
    s3 = aws.client("s3", settings) if settings.profile == "local" else None
    limits = retention.apply(spark, settings, tables, s3=s3, now=now or datetime.now(UTC))
    report = delta_io.optimize_and_vacuum(
        spark,
        tables,
        optimize=optimize,
        vacuum=vacuum,
        retention_hours=settings.vacuum_retention_hours,
    )
    return {"retention": limits, **report}
