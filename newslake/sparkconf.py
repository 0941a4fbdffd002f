"""The Spark settings every newslake job runs with, wherever it runs (no pyspark import:
the Airflow environment builds EMR job settings from it too)."""

from __future__ import annotations


def base_spark_conf(*, shuffle_partitions: int, driver_memory: str) -> dict[str, str]:
    """Delta, small shuffles, UTC, and fair scheduling between a job's threads."""
    return {
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.shuffle.partitions": str(shuffle_partitions),
        "spark.default.parallelism": str(shuffle_partitions),
        "spark.databricks.delta.snapshotPartitions": "2",
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.memory": driver_memory,
        "spark.sql.adaptive.enabled": "true",
        # The streaming job's live publisher runs in a pool of its own beside the
        # micro-batches; jobs of a single thread run as before.
        "spark.scheduler.mode": "FAIR",
        # Set as the context starts (as setLogLevel would be after it): spark-submit would
        # print about a hundred INFO lines of start-up first.
        "spark.log.level": "ERROR",
    }
