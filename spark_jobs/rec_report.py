"""``python -m spark_jobs.rec_report``: the served lists' figures for ``make report``.

The report (``evaluation/report.py``) runs no Spark; this entry point reads
``gold/rec_performance`` and ``gold/experiment_results`` and writes what the report plots
as one JSON file (default ``<state_dir>/eval/rec_performance.json``): CTR per experiment
variant and day, CTR per route and position, and each experiment's latest result. With no
such table, or the local platform stopped, it says so in one line, writes nothing and
exits 0: the report then leaves the section out with a note.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from newslake import logs
from newslake.errors import NewslakeError
from newslake.settings import Settings, get_settings
from spark_jobs import delta_io
from spark_jobs import impressions as I
from spark_jobs.rec_performance import CLICKS, CTR, DAY, IMPRESSIONS
from spark_jobs.tables import GoldPaths


def _summed(performance: DataFrame, keys: list[str]) -> list[dict[str, Any]]:
    rows = (
        performance.groupBy(*keys)
        .agg(F.sum(IMPRESSIONS).alias(IMPRESSIONS), F.sum(CLICKS).alias(CLICKS))
        .withColumn(CTR, F.col(CLICKS) / F.col(IMPRESSIONS))
        .orderBy(*keys)
        .collect()
    )
    return [r.asDict() for r in rows]


def figures(performance: DataFrame, results: DataFrame | None) -> dict[str, Any]:
    """What the report plots: ``by_variant_day``, ``by_position`` and ``experiments`` (each
    experiment's rows of its latest day)."""
    by_variant_day = _summed(
        performance.where(F.col(I.EXPERIMENT).isNotNull()), [I.EXPERIMENT, I.VARIANT, DAY]
    )
    latest: list[dict[str, Any]] = []
    if results is not None:
        newest = F.max(DAY).over(Window.partitionBy("experiment"))
        rows = results.withColumn("_newest", newest).where(F.col(DAY) == F.col("_newest"))
        latest = [r.asDict() for r in rows.drop("_newest").orderBy("experiment").collect()]
    return {
        "by_variant_day": by_variant_day,
        "by_position": _summed(performance, [I.ROUTE, I.POSITION]),
        "experiments": latest,
    }


def export(spark: SparkSession, settings: Settings, out: Path) -> str:
    """Write the figures to ``out``; returns the line to print."""
    paths = GoldPaths.of(settings)
    performance = delta_io.read_if_exists(spark, paths.rec_performance)
    if performance is None:
        return "no gold.rec_performance yet (the nightly rec_performance stage writes it)"
    results = delta_io.read_if_exists(spark, paths.experiment_results)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures(performance, results), default=str))
    return f"the served lists' CTR: {out}"


def main(argv: list[str] | None = None) -> int:
    logs.configure()
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m spark_jobs.rec_report", description=__doc__)
    parser.add_argument(
        "--out", type=Path, default=settings.state_dir / "eval" / "rec_performance.json"
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if settings.profile == "local" and settings.lake_root.startswith("s3a://"):  # on moto's S3
        from newslake.local import server

        if not server.is_running(settings):
            print("note: the local platform is stopped (make up): no lake to read the CTR from")
            return 0
    from spark_jobs.session import get_spark

    try:
        spark = get_spark(settings, app_name="newslake-rec-report")
    except NewslakeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(export(spark, settings, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
