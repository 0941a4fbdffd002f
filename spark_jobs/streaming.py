"""The streaming lakehouse: landing zone -> bronze and silver, and the fresh signals.

One query reads the landing zone's GZIP JSON lines incrementally as objects arrive
(:mod:`spark_jobs.landing_query`); each micro-batch writes bronze and silver, every write
idempotent under replay (:mod:`spark_jobs.landing`). Beside it the **live publisher**, a
driver thread, publishes trending, recent reads and related articles from
``silver/pageviews`` to the serving store every few seconds (:mod:`spark_jobs.publisher`).

Modes: ``--available-now`` catches up with everything landed and stops (tests, demo,
backfills, the nightly run's first step), then publishes the live lists once; otherwise a
processing-time trigger runs until stopped. ``--rebuild-silver`` rebuilds the silver tables
from bronze. Run with ``python -m spark_jobs.submit spark_jobs/streaming.py`` or on EMR.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time

from pyspark.sql import SparkSession

from newslake import logs
from newslake.settings import Settings, get_settings
from spark_jobs import delta_io, impressions_query
from spark_jobs.landing import LandingBatch, rebuild_silver, silver_counts
from spark_jobs.landing_query import catch_up, start
from spark_jobs.publisher import LivePublisher
from spark_jobs.tables import StreamPaths

log = logging.getLogger("newslake.streaming")

# Micro-batches are small: adaptive re-planning and a two-way split of the Delta log cost
# more than they save.
# Tables this job creates checkpoint their log every 30 commits instead of 10: a checkpoint
# is slow to write, and every micro-batch commits to four tables.
# Planning a micro-batch, the file source lists each landed object again (s3a: a LIST and
# a HEAD); past 32 objects Spark lists them in a job with a task per object by default,
# whose scheduling costs more than the listing: 8 tasks share the work.
STREAM_SPARK_CONF = {
    "spark.sql.sources.parallelPartitionDiscovery.parallelism": "8",
    "spark.sql.adaptive.enabled": "false",
    "spark.databricks.delta.snapshotPartitions": "1",
    "spark.databricks.delta.properties.defaults.checkpointInterval": "30",
}


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="streaming", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--available-now", action="store_true", help="process everything landed so far, then stop"
    )
    mode.add_argument(
        "--rebuild-silver", action="store_true", help="rebuild the silver tables from bronze"
    )
    return parser.parse_args(argv)


def _rebuild(spark: SparkSession, settings: Settings) -> int:
    try:
        counts = rebuild_silver(spark, settings)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(counts))
    return 0


def _catch_up(spark: SparkSession, settings: Settings) -> int:
    """Catch up, then print how long it took and what silver holds."""
    started = time.monotonic()
    catch_up(spark, settings)
    elapsed = time.monotonic() - started
    log.info("caught up in %.1fs", elapsed)
    paths = StreamPaths.of(settings)
    counts = silver_counts(spark, paths) if delta_io.read_if_exists(spark, paths.visits) else {}
    print(json.dumps({"caught_up_s": round(elapsed, 2), **counts}))
    return 0


def _run(spark: SparkSession, settings: Settings) -> int:
    """The landing query and the live publisher, until Ctrl-C."""
    publisher = LivePublisher(spark, settings)
    feed = publisher.feed if settings.stream_publish_live else None
    query = start(spark, settings, available_now=False, batch=LandingBatch(settings, on_views=feed))
    impressions = impressions_query.start_if_landed(spark, settings)
    if settings.stream_publish_live:
        publisher.start()
    log.info("streaming every %ss; Ctrl-C to stop", settings.stream_trigger_s)
    try:
        query.awaitTermination()
    except KeyboardInterrupt:
        pass
    finally:
        publisher.stop()
        query.stop()
        if impressions is not None:
            impressions.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    from spark_jobs.session import get_spark

    args = _parse_args(sys.argv[1:] if argv is None else argv)
    logs.configure()
    settings = get_settings()
    spark = get_spark(settings, app_name="newslake-streaming", extra_conf=STREAM_SPARK_CONF)
    if args.rebuild_silver:
        return _rebuild(spark, settings)
    if args.available_now:
        return _catch_up(spark, settings)
    return _run(spark, settings)


if __name__ == "__main__":
    sys.exit(main())
