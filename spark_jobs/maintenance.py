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
import sys
from typing import Any

from pyspark.sql import SparkSession

from newslake import logs
from newslake.settings import Settings, get_settings
from spark_jobs import delta_io
from spark_jobs.tables import lake_tables


def maintain(
    spark: SparkSession, settings: Settings, *, optimize: bool = True, vacuum: bool = True
) -> dict[str, dict[str, Any]]:
    """Compact and vacuum every table that exists; returns what was done per table."""
    return delta_io.optimize_and_vacuum(
        spark,
        lake_tables(settings),
        optimize=optimize,
        vacuum=vacuum,
        retention_hours=settings.vacuum_retention_hours,
    )


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
