"""Table care: compact small files (``OPTIMIZE``) and remove files no version needs any more
(``VACUUM``, keeping at least 7 days so time travel and slow readers keep working).

Streaming writes many small files (one commit per micro-batch); compaction keeps reads
fast. Run it when the nightly run starts (the Airflow DAG does), not while a job rewrites
the same table: Delta would refuse one of the two conflicting commits, and the run that
lost simply goes again next time.

``python -m spark_jobs.submit spark_jobs/maintenance.py [-- --no-vacuum]``
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from delta.tables import DeltaTable
from pyspark.sql import SparkSession

from newslake import logs
from newslake.settings import Settings
from spark_jobs.gold import GoldPaths
from spark_jobs.streaming import StreamPaths

log = logging.getLogger("newslake.maintenance")


def lake_tables(settings: Settings) -> dict[str, str]:
    """Every Delta table newslake writes, by name."""
    s = StreamPaths.of(settings)
    return {
        "bronze.pageviews": s.bronze,
        "silver.events": s.events,
        "silver.pageviews": s.visits,
        "silver.quarantine": s.quarantine,
        "silver.ingest_log": s.ingest_log,
        **GoldPaths.of(settings).tables(),
    }


def maintain(
    spark: SparkSession, settings: Settings, *, optimize: bool = True, vacuum: bool = True
) -> dict[str, dict[str, Any]]:
    """Compact and vacuum every table that exists; returns what was done per table."""
    report: dict[str, dict[str, Any]] = {}
    for name, path in lake_tables(settings).items():
        if not DeltaTable.isDeltaTable(spark, path):
            report[name] = {"skipped": "no table yet"}
            continue
        table = DeltaTable.forPath(spark, path)
        done: dict[str, Any] = {}
        if optimize:
            metrics = table.optimize().executeCompaction().select("metrics").first()
            m = metrics[0] if metrics else None
            done["files_removed"] = int(m["numFilesRemoved"]) if m else 0
            done["files_added"] = int(m["numFilesAdded"]) if m else 0
        if vacuum:
            table.vacuum(settings.vacuum_retention_hours)
            done["vacuum_retention_hours"] = settings.vacuum_retention_hours
        log.info("%s: %s", name, done)
        report[name] = done
    return report


def main(argv: list[str] | None = None) -> int:
    from spark_jobs.session import get_spark

    parser = argparse.ArgumentParser(
        prog="maintenance",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--no-optimize", action="store_true")
    parser.add_argument("--no-vacuum", action="store_true")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    logs.configure()
    settings = Settings()
    spark = get_spark(settings, app_name="newslake-maintenance")
    report = maintain(spark, settings, optimize=not args.no_optimize, vacuum=not args.no_vacuum)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
