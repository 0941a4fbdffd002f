"""Table care: compact small files (``OPTIMIZE``) and remove files no version needs any more
(``VACUUM``, keeping at least 7 days so time travel and slow readers keep working), after
enforcing the retention limits (spark_jobs/retention.py): every table's deleted-file and
log retention, bronze rows past their days and, locally, landing objects past theirs.

Streaming writes many small files (one commit per micro-batch); compaction keeps reads
fast. Run it when the nightly run starts (the Airflow DAG does), not while a job rewrites
the same table: Delta would refuse one of the two conflicting commits, and the run that
lost simply goes again next time.

``python -m spark_jobs.submit spark_jobs/maintenance.py [-- --no-vacuum]``; the nightly
run's ``maintain`` stage does the same (:mod:`spark_jobs.table_care`).
"""

from __future__ import annotations

import argparse
import json
import sys

from newslake import logs
from newslake.settings import get_settings
from spark_jobs.table_care import maintain

__all__ = ["main", "maintain"]


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
