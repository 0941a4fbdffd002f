"""The impressions' landing query: the impression lines landed under the landing bucket's
``impressions/`` prefix (by Firehose in AWS, by ``ingestion/local_impressions.py``
locally) to ``silver/impressions``, and the bad ones to ``silver/impressions_quarantine``
with the reason.

A query of its own beside the pageviews' (its own checkpoint), run the same two ways:
:func:`catch_up` processes everything landed and stops (availableNow), which the streaming
job's catch-up runs first, so ``make stream ONCE=1`` and the nightly ``catch_up`` stage land
impressions too; :func:`start` with ``available_now=False`` runs it beside the continuous
pageview query.

Each micro-batch (:class:`ImpressionBatch`) reads each landed object whole, as the
pageviews' bronze does (``bronze.to_lines``), so a damaged object keeps its first lines and
quarantines the damage; parses the lines (:mod:`spark_jobs.impressions`); appends the
answers ``silver/impressions`` lacks, one row per ``recommendation_id`` (deduplicated in the
batch, and against the table within the batch's served dates, since an id's line always
carries the same ``served_at``); and appends the bad lines to the quarantine. Both appends
are tagged with the query and batch id (``delta_io.append_once``): a batch replayed after
a failure writes nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery

from newslake.settings import Settings
from spark_jobs import delta_io
from spark_jobs.bronze import landing_stream, to_lines
from spark_jobs.impressions import (
    RECOMMENDATION_ID,
    SERVED_DATE,
    parse_impressions,
    to_impressions,
    to_quarantine,
)
from spark_jobs.tables import StreamPaths

log = logging.getLogger("newslake.streaming")

SILVER_APP = "newslake-silver-impressions"
QUARANTINE_APP = "newslake-silver-impressions-quarantine"
QUERY_NAME = "landing_impressions"


class ImpressionBatch:
    """The impressions query's ``foreachBatch``; every write is made once per batch.

    Args:
        settings: table paths and portals.
        fault: a test hook called as ``fault(batch_id, step)`` after ``impressions`` and
            after ``quarantined``.
    """

    def __init__(
        self, settings: Settings, *, fault: Callable[[int, str], None] | None = None
    ) -> None:
        self.settings = settings
        self.paths = StreamPaths.of(settings)
        self.fault = fault or (lambda batch_id, step: None)
        self._completed: tuple[str, int] | None = None  # (query, batch) last done here

    def __call__(self, objects: DataFrame, batch_id: int) -> None:
        spark = objects.sparkSession
        query = spark.sparkContext.getLocalProperty("sql.streaming.queryId") or "adhoc"
        self.process(objects.transform(to_lines), query=query, batch_id=batch_id)

    def process(self, lines: DataFrame, *, query: str, batch_id: int) -> dict[str, int]:
        """Silver and quarantine rows from ``lines`` (``bronze.to_lines``); their counts."""
        parsed = lines.transform(parse_impressions(self.settings.portals)).cache()
        # Only a batch that does not follow the one this object last completed can be a
        # replay: only then do the appends look for their own earlier commits.
        replay = self._completed != (query, batch_id - 1)
        self._completed = None
        try:
            good = to_impressions(parsed)
            first, last = good.agg(F.min(SERVED_DATE), F.max(SERVED_DATE)).first() or (None, None)
            new = delta_io.append_new_once(
                good,
                self.paths.impressions,
                keys=[SERVED_DATE, RECOMMENDATION_ID],
                within=F.col(SERVED_DATE).between(F.lit(first), F.lit(last)),
                app_id=f"{SILVER_APP}:{query}",
                version=batch_id,
                tag=f"impressions:{query}:{batch_id}",
                replay=replay,
                partition_by=[SERVED_DATE],
            )
            self.fault(batch_id, "impressions")
            bad = to_quarantine(parsed, batch_id).cache()
            quarantined = bad.count()
            if quarantined:
                delta_io.append_once(
                    bad,
                    self.paths.impressions_quarantine,
                    tag=f"impressions-quarantine:{query}:{batch_id}",
                    replay=replay,
                    app_id=f"{QUARANTINE_APP}:{query}",
                    version=batch_id,
                )
            bad.unpersist()
            self.fault(batch_id, "quarantined")
            log.info("impressions batch %d: %d new, %d quarantined", batch_id, new, quarantined)
            self._completed = (query, batch_id)
            return {"new": new, "quarantined": quarantined}
        finally:
            parsed.unpersist()


def start(
    spark: SparkSession,
    settings: Settings,
    *,
    available_now: bool,
    batch: ImpressionBatch | None = None,
) -> StreamingQuery:
    """Start the impressions query. With ``available_now`` it catches up and stops."""
    writer = (
        landing_stream(spark, settings, settings.impressions_uri)
        .writeStream.foreachBatch(batch or ImpressionBatch(settings))
        .option("checkpointLocation", StreamPaths.of(settings).impressions_checkpoint)
        .queryName(QUERY_NAME)
    )
    if available_now:
        return writer.trigger(availableNow=True).start()
    return writer.trigger(processingTime=f"{settings.stream_trigger_s} seconds").start()


def catch_up(spark: SparkSession, settings: Settings, batch: ImpressionBatch | None = None) -> None:
    """Process every impression landed so far, then stop (nothing to do before the first)."""
    if not has_objects(spark, settings.impressions_uri):
        log.info("no impressions have landed yet")
        return
    query = start(spark, settings, available_now=True, batch=batch)
    query.awaitTermination()


def start_if_landed(spark: SparkSession, settings: Settings) -> StreamingQuery | None:
    """The continuous query, once something has landed (a file source needs its path to
    exist); before that, the next start or catch-up takes the impressions."""
    if not has_objects(spark, settings.impressions_uri):
        log.info("no impressions have landed yet: the next start or catch-up lands them")
        return None
    return start(spark, settings, available_now=False)


def has_objects(spark: SparkSession, uri: str) -> bool:
    jvm: Any = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return bool(fs.exists(path))
