"""The landing query: started to run until stopped, or to catch up with what has landed.

The query reads the landing zone's GZIP JSON lines incrementally as objects arrive (its own
checkpoint) and hands each micro-batch to :class:`spark_jobs.landing.LandingBatch`. With
``available_now`` it processes everything landed so far and stops: the catch-up of tests,
the demo, backfills and the nightly run's first stage.
"""

from __future__ import annotations

import logging
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql.streaming import StreamingQuery

from newslake.settings import Settings
from spark_jobs import impressions_query
from spark_jobs.bronze import landing_stream
from spark_jobs.landing import LandingBatch
from spark_jobs.publisher import LivePublisher
from spark_jobs.tables import StreamPaths

log = logging.getLogger("newslake.streaming")


def start(
    spark: SparkSession,
    settings: Settings,
    *,
    available_now: bool,
    batch: LandingBatch | None = None,
) -> StreamingQuery:
    """Start the landing query. With ``available_now`` it catches up and stops by itself."""
    writer = (
        landing_stream(spark, settings)
        .writeStream.foreachBatch(batch or LandingBatch(settings))
        .option("checkpointLocation", StreamPaths.of(settings).checkpoint)
        .queryName("landing_pageviews")
    )
    if available_now:
        writer = writer.trigger(availableNow=True)
    else:
        writer = writer.trigger(processingTime=f"{settings.stream_trigger_s} seconds")
    return writer.start()


def catch_up(spark: SparkSession, settings: Settings, batch: LandingBatch | None = None) -> None:
    """Process everything landed so far, then stop (availableNow); then publish the live
    lists once (unless ``stream_publish_live`` is off). The service's impressions first,
    with their own query (:mod:`spark_jobs.impressions_query`)."""
    impressions_query.catch_up(spark, settings)
    if not _landing_has_objects(spark, settings):
        log.info("nothing has landed yet; nothing to catch up")
        return
    query = start(spark, settings, available_now=True, batch=batch)
    query.awaitTermination()
    for progress in query.recentProgress:
        log.info(
            "batch %s: %s rows; milliseconds per query stage %s",
            progress.batchId, progress.numInputRows, progress.durationMs,
        )  # fmt: skip
    if settings.stream_publish_live:
        LivePublisher(spark, settings).publish()


def _landing_has_objects(spark: SparkSession, settings: Settings) -> bool:
    jvm: Any = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(settings.landing_uri)
    fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return bool(fs.exists(path))
