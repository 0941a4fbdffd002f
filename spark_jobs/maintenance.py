"""Table care: compact small files (``OPTIMIZE``) and remove files no version needs any more
(``VACUUM``, keeping at least 7 days so time travel and slow readers keep working), after
enforcing the retention limits (spark_jobs/retention.py): every table's deleted-file and
log retention, bronze rows past their days and, locally, landing objects past theirs.

Streaming writes many small files (one commit per micro-batch); compaction keeps reads
fast. Run it when the nightly run starts (the Airflow DAG does), not while a job rewrites
the same table: Delta would refuse one of the two conflicting commits, and the run that
lost simply goes again next time.

``python -m spark_jobs.submit spark_jobs/maintenance.py [-- --no-vacuum]``
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from pyspark.sql import SparkSession

from newslake import aws, logs
from newslake.settings import Settings, get_settings
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
    settings = get_settings()
    spark = get_spark(settings, app_name="newslake-maintenance")
    report = maintain(spark, settings, optimize=not args.no_optimize, vacuum=not args.no_vacuum)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
