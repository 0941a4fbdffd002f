"""G1 clicks straight into ``silver/pageviews`` with Spark: the fast path for benchmarks.

The landing path (``ingestion.bulk_load`` then the streaming catch-up) takes the clicks
through bronze and silver like live traffic; for 2.6M clicks that is the slow part of a
benchmark that wants to time the nightly run. This loader writes the rows the streaming job
would have written for the same clicks: same pageview ids (``ingestion.g1.event_id``),
visit start = click time, no dwell time or scroll depth, portal ``g1``. The clicks are read
where they lie (``ingestion.g1.DEFAULT_DIR``), never copied.

``python -m spark_jobs.submit spark_jobs/g1_silver.py [-- --data DIR]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType

from ingestion import g1
from newslake.errors import NewslakeError
from newslake.settings import Settings, get_settings
from spark_jobs import columns as C
from spark_jobs import delta_io
from spark_jobs.tables import StreamPaths

PORTAL = "g1"
CSV_SCHEMA = ", ".join(f"{name} long" for name in g1.COLUMNS)


@F.pandas_udf(StringType())  # type: ignore[call-overload]
def _event_ids(session: pd.Series, ts: pd.Series, article: pd.Series) -> pd.Series:
    return pd.Series([g1.event_id(s, t, a) for s, t, a in zip(session, ts, article, strict=True)])


def read_clicks(spark: SparkSession, data_dir: Path) -> DataFrame:
    path = data_dir / "clicks.csv.gz"
    if not path.exists():
        raise NewslakeError(f"G1 clicks not found at {path}: pass --data")
    # one gzip file is one task: spread the rows before the per-row work
    return spark.read.csv(str(path), header=True, schema=CSV_SCHEMA).repartition(
        spark.sparkContext.defaultParallelism
    )


def to_silver(clicks: DataFrame) -> DataFrame:
    """Silver visit rows (the schema of ``silver.to_visits`` plus ``silver_at``)."""
    return clicks.select(
        _event_ids("session_id", "click_timestamp", "click_article_id").alias(C.PAGEVIEW_ID),
        F.lit(PORTAL).alias(C.PORTAL),
        F.col("user_id").cast("string").alias(C.USER_ID),
        F.col("session_id").cast("string").alias(C.SESSION_ID),
        F.col("click_article_id").cast("string").alias(C.ARTICLE_ID),
        F.timestamp_millis("click_timestamp").alias(C.VISIT_START),
        F.lit(0).cast("long").alias(C.DWELL_MS),
        F.lit(0).cast("int").alias(C.SCROLL_DEPTH),
        F.lit(0).cast("int").alias(C.CLICKS),
        F.lit(None).cast("string").alias(C.REC_ID),  # the G1 log names no recommendation
        F.lit(None).cast("int").alias(C.REC_POSITION),
        F.current_timestamp().alias(C.SILVER_AT),
    )


def load(spark: SparkSession, settings: Settings, data_dir: Path = g1.DEFAULT_DIR) -> int:
    """Replace portal g1's silver visits with the clicks; returns the rows written."""
    visits = read_clicks(spark, data_dir).transform(to_silver)
    delta_io.replace_rows(visits, StreamPaths.of(settings).visits, match={C.PORTAL: PORTAL})
    return int(
        spark.read.format("delta")
        .load(StreamPaths.of(settings).visits)
        .where(F.col(C.PORTAL) == PORTAL)
        .count()
    )


def main(argv: list[str] | None = None) -> int:
    from spark_jobs.session import get_spark

    parser = argparse.ArgumentParser(prog="g1_silver", description=__doc__)
    parser.add_argument("--data", type=Path, default=g1.DEFAULT_DIR, help="G1 data folder")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    settings = get_settings()
    started = time.monotonic()
    try:
        spark = get_spark(settings, app_name="newslake-g1-silver")
        rows = load(spark, settings, args.data)
    except NewslakeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"visits": rows, "seconds": round(time.monotonic() - started, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
