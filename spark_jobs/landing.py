"""The landing query's micro-batch: landed lines to bronze and silver, idempotent under replay.

Each micro-batch (``foreachBatch``, :class:`LandingBatch`), in order:

* merges each visit's events into ``silver/pageviews`` first, since that is what readers
  wait for (one row per ``pageview_id``; dwell, scroll and clicks keep their maximum, so
  replaying a batch changes nothing);
* appends the batch's lines to ``bronze/pageviews``, the raw record with where and when it
  came from, partitioned by portal and event date;
* appends events not seen before to ``silver/events`` (an anti-join on event date and id
  within the batch's first to last event date);
* quarantines what does not parse or breaks a rule, with the reason;
* logs the batch's counts to ``silver/ingest_log``, so
  bronze = silver events + duplicates + quarantine can be checked at any time
  (:func:`silver_counts`).

Every append is made once per batch (:func:`delta_io.append_once`): its commit is tagged
with the query id and batch id, and a batch that may be a replay (the first after a start
or a failure) looks for its tags first and also names ``txnAppId``/``txnVersion``.

Bronze and silver share the micro-batch, so a visit is one hop from its landed object and
each line is parsed once. Bronze stays the replayable source of truth:
:func:`rebuild_silver` rebuilds the silver tables from it.

Late data: an event whose client time is more than ``late_after_s`` older than its arrival
at the collector is quarantined as late; an engagement update that arrives within that
limit still merges into its visit, whenever it comes.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from newslake.settings import Settings
from spark_jobs import columns as C
from spark_jobs import delta_io
from spark_jobs.bronze import RAW, READ_ERROR, event_date, to_bronze, to_lines
from spark_jobs.silver import REASON, check_rules, parse_lines, to_visits, usable_events
from spark_jobs.tables import StreamPaths

log = logging.getLogger("newslake.streaming")

BRONZE_APP = "newslake-bronze"
QUARANTINE_APP = "newslake-silver-quarantine"
LOG_APP = "newslake-silver-ingest-log"
EVENTS_APP = "newslake-silver-events"
# A batch's row in silver/ingest_log: what it read, and where each line went.
LOG_COLUMNS = ("batch_id", "bronze_rows", "new_events", "duplicates", "quarantined")
LOG_SCHEMA = ", ".join(f"{c} long" for c in LOG_COLUMNS)

VISIT_UPDATE = {
    C.VISIT_START: f"least(t.{C.VISIT_START}, s.{C.VISIT_START})",
    C.DWELL_MS: f"greatest(t.{C.DWELL_MS}, s.{C.DWELL_MS})",
    C.SCROLL_DEPTH: f"greatest(t.{C.SCROLL_DEPTH}, s.{C.SCROLL_DEPTH})",
    C.CLICKS: f"greatest(t.{C.CLICKS}, s.{C.CLICKS})",
    C.ARTICLE_ID: f"coalesce(t.{C.ARTICLE_ID}, s.{C.ARTICLE_ID})",
    C.SESSION_ID: f"coalesce(t.{C.SESSION_ID}, s.{C.SESSION_ID})",
    # the view's recommendation, as a pair: the id and position of the same event
    C.REC_POSITION: f"if(t.{C.REC_ID} IS NULL, s.{C.REC_POSITION}, t.{C.REC_POSITION})",
    C.REC_ID: f"coalesce(t.{C.REC_ID}, s.{C.REC_ID})",
    # silver_at is not updated: it records when the visit first became visible.
}


class LandingBatch:
    """The landing query's ``foreachBatch``: every write is idempotent under replay.

    Steps, in order (``fault`` is called after each with its name): ``visits`` (first,
    since that is what readers wait for), ``bronze`` (the lines, appended once per batch),
    ``counted`` (the batch's row and quarantine counts, first and last event), ``events`` (the
    events the table lacks, appended once per batch; the commit's metrics give the
    new-event count, and the commit is tagged with the query id and batch id, so a
    replayed batch reads the count of its first run), ``quarantined`` and ``logged``.

    A batch can only be a replay when it does not follow, in this process, the batch this
    object last completed: only then do the appends search the tables' history for their
    tags (and name ``txnAppId``/``txnVersion``): searching on every batch would slow
    them all.

    Args:
        settings: table paths, portals, late-data limits.
        fault: a test hook called between steps as ``fault(batch_id, step)``.
        on_views: given the batch's usable events once its visits are in silver
            (continuous mode: :meth:`spark_jobs.publisher.LivePublisher.feed`).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        fault: Callable[[int, str], None] | None = None,
        on_views: Callable[[DataFrame], None] | None = None,
    ) -> None:
        self.settings = settings
        self.paths = StreamPaths.of(settings)
        self.fault = fault or (lambda batch_id, step: None)
        self.on_views = on_views
        self._completed: tuple[str, int] | None = None  # (query, batch) last done here

    def __call__(self, objects: DataFrame, batch_id: int) -> None:
        spark = objects.sparkSession
        # The query id survives restarts from the same checkpoint and changes with a new
        # one, so tags and transaction ids never match a batch of an older checkpoint.
        query = spark.sparkContext.getLocalProperty("sql.streaming.queryId") or "adhoc"
        self.process(objects.transform(to_lines), query=query, batch_id=batch_id)

    def process(
        self, lines: DataFrame, *, query: str, batch_id: int, write_bronze: bool = True
    ) -> dict[str, int]:
        """Bronze (unless ``write_bronze`` is off) and silver from ``lines`` (``raw``,
        ``read_error``, ``source_object``, ``ingested_at``); returns the batch's counts.

        The visits MERGE comes first (it is what readers wait for, and it fills the
        parse's cache); every later step reads the cache. Every write is idempotent, so a
        batch that fails anywhere is replayed whole.
        """
        s = self.settings
        parsed = (
            lines.transform(parse_lines)
            .transform(check_rules(s.portals, s.late_after_s, s.max_clock_skew_future_s))
            .cache()
        )
        timings: dict[str, float] = {}
        started = time.monotonic()

        def done(step: str) -> None:
            nonlocal started
            timings[step] = round(time.monotonic() - started, 2)
            self.fault(batch_id, step)
            started = time.monotonic()

        # Only a batch that does not follow the one this object last completed can be a
        # replay: only then do the writes look for their own earlier commits.
        replay = self._completed != (query, batch_id - 1)
        try:
            usable = usable_events(parsed)
            self._merge_visits(usable)
            done("visits")
            if write_bronze:
                self._append_bronze(parsed, query, batch_id, replay)
                done("bronze")
            row = parsed.agg(
                F.count(F.lit(1)),
                F.count(REASON),
                F.count_distinct(F.when(F.col(REASON).isNull(), F.col(C.EVENT_ID))),
                # The batch's first and last event dates: min and max, since a set beside
                # the distinct count costs far more on a large batch.
                F.min(F.when(F.col(REASON).isNull(), F.col(C.CLIENT_TS))),
                F.max(F.when(F.col(REASON).isNull(), F.col(C.CLIENT_TS))),
            ).first()
            total, quarantined, distinct = (int(v) for v in row[:3]) if row else (0, 0, 0)
            client_ts = (row[3], row[4]) if row else (None, None)
            done("counted")
            # Deduplicating is a shuffle of every column: only when the batch needs it.
            events = (
                usable if distinct == total - quarantined else usable.dropDuplicates([C.EVENT_ID])
            )
            new = self._insert_events(events, client_ts, query, batch_id, replay=replay)
            done("events")
            if quarantined:
                self._quarantine(parsed, query, batch_id, replay)
            done("quarantined")
            counts = (batch_id, total, new, total - quarantined - new, quarantined)
            self._log(lines.sparkSession, counts, query, replay)
            done("logged")
            log.info("batch %d: %d rows; seconds per step %s", batch_id, total, timings)
            self._completed = (query, batch_id)
            return dict(zip(LOG_COLUMNS, counts, strict=True))
        except BaseException:
            self._completed = None
            raise
        finally:
            parsed.unpersist()

    def _merge_visits(self, usable: DataFrame) -> None:
        delta_io.upsert(
            usable.sparkSession,
            to_visits(usable).withColumn(C.SILVER_AT, F.current_timestamp()),
            self.paths.visits,
            keys=[C.PAGEVIEW_ID],
            update=VISIT_UPDATE,
            add_new_columns=True,  # a table from before visits named recommendations
        )
        if self.on_views is not None:
            self.on_views(usable)  # the live publisher's trending and recent reads

    def _append_bronze(self, parsed: DataFrame, query: str, batch_id: int, replay: bool) -> None:
        delta_io.append_once(
            parsed.transform(to_bronze),
            self.paths.bronze,
            tag=f"bronze:{query}:{batch_id}",
            replay=replay,
            app_id=f"{BRONZE_APP}:{query}",
            version=batch_id,
            partition_by=[C.PORTAL, C.EVENT_DATE],
        )

    def _quarantine(self, parsed: DataFrame, query: str, batch_id: int, replay: bool) -> None:
        bad = parsed.where(F.col(REASON).isNotNull()).select(
            RAW, C.SOURCE_OBJECT, C.INGESTED_AT, REASON, F.lit(batch_id).alias(C.BATCH_ID)
        )
        delta_io.append_once(
            bad,
            self.paths.quarantine,
            tag=f"quarantine:{query}:{batch_id}",
            replay=replay,
            app_id=f"{QUARANTINE_APP}:{query}",
            version=batch_id,
        )

    def _log(self, spark: SparkSession, counts: tuple[int, ...], query: str, replay: bool) -> None:
        delta_io.append_once(
            spark.createDataFrame([counts], LOG_SCHEMA),
            self.paths.ingest_log,
            tag=f"log:{query}:{counts[0]}",
            replay=replay,
            app_id=f"{LOG_APP}:{query}",
            version=counts[0],
        )

    def _insert_events(
        self,
        events: DataFrame,
        client_ts: tuple[int | None, int | None],
        query: str,
        batch_id: int,
        *,
        replay: bool,
    ) -> int:
        """New events of this batch (whose client times lie within ``client_ts``, first and
        last); on a replay, the count its first run committed."""
        return delta_io.append_new_once(
            events,
            self.paths.events,
            keys=[C.EVENT_DATE, C.EVENT_ID],
            within=F.col(C.EVENT_DATE).between(  # the batch's partitions only
                event_date(F.lit(client_ts[0])), event_date(F.lit(client_ts[1]))
            ),
            app_id=f"{EVENTS_APP}:{query}",
            version=batch_id,
            tag=f"silver:{query}:{batch_id}",
            replay=replay,
            partition_by=[C.PORTAL, C.EVENT_DATE],
            # Events gain nullable fields (rec_id, rec_position): older tables take them.
            merge_schema=True,
        )


def rebuild_silver(spark: SparkSession, settings: Settings) -> dict[str, int]:
    """Rebuild the silver tables from bronze, as one batch, with the same steps as the
    stream. The silver tables must be gone first (delete them): rebuilding over them would
    quarantine and log every line twice.

    Raises:
        ValueError: a silver table still exists, or there is no bronze table.
    """
    p = StreamPaths.of(settings)
    left = [t for t in p.silver_tables() if delta_io.read_if_exists(spark, t) is not None]
    if left:
        raise ValueError(f"delete the silver tables before rebuilding them: {', '.join(left)}")
    bronze = delta_io.read_if_exists(spark, p.bronze)
    if bronze is None:
        raise ValueError(f"no bronze table at {p.bronze}: nothing to rebuild from")
    lines = bronze.select(RAW, READ_ERROR, C.SOURCE_OBJECT, C.INGESTED_AT)
    return LandingBatch(settings).process(
        lines, query=f"rebuild-{uuid.uuid4()}", batch_id=0, write_bronze=False
    )


def silver_counts(spark: SparkSession, silver: StreamPaths) -> dict[str, int]:
    """What silver holds, reconciled: bronze rows = events + duplicates + quarantined."""
    totals = spark.read.format("delta").load(silver.ingest_log).groupBy().sum().first()
    names = list(LOG_COLUMNS[1:])
    counts = (
        {n: int(totals[f"sum({n})"] or 0) for n in names} if totals else dict.fromkeys(names, 0)
    )
    counts["visits"] = spark.read.format("delta").load(silver.visits).count()
    return counts
