"""The streaming lakehouse: landing zone -> bronze and silver, and the fresh signals.

One query reads the landing zone's GZIP JSON lines incrementally as objects arrive (its own
checkpoint), and each micro-batch (``foreachBatch``, :class:`LandingBatch`), in order:

* merges each visit's events into ``silver/pageviews`` first, since that is what readers
  wait for (one row per ``pageview_id``; dwell, scroll and clicks keep their maximum, so
  replaying a batch changes nothing);
* appends the batch's lines to ``bronze/pageviews``, the raw record with where and when it
  came from, partitioned by portal and event date;
* appends events not seen before to ``silver/events`` (an anti-join on event date and id
  within the batch's first to last event date);
* quarantines what does not parse or breaks a rule, with the reason;
* logs the batch's counts to ``silver/ingest_log``, so
  bronze = silver events + duplicates + quarantine can be checked at any time.

Every append is made once per batch (:func:`delta_io.append_once`): its commit is tagged
with the query id and batch id, and a batch that may be a replay (the first after a start
or a failure) looks for its tags first and also names ``txnAppId``/``txnVersion``.

Bronze and silver share the micro-batch, so a visit is one hop from its landed object and
each line is parsed once. Bronze stays the replayable source of truth:
:func:`rebuild_silver` rebuilds the silver tables from it.

The **live publisher** (a driver thread, not a query) publishes every few seconds trending,
the recent reads of users seen since its last round and (every few minutes) related
articles, from ``silver/pageviews`` to the serving store. Its Spark jobs run in a pool of
their own (fair scheduling), so they share the cores with the micro-batches rather than
queue in front of them. In ``--available-now`` mode it publishes once, after the catch-up.

Late data: an event whose client time is more than ``late_after_s`` older than its arrival
at the collector is quarantined as late; an engagement update that arrives within that
limit still merges into its visit, whenever it comes.

Modes: ``--available-now`` catches up with everything landed and stops (tests, demo,
backfills, the nightly run's first step); otherwise a processing-time trigger runs until
stopped. ``--rebuild-silver`` rebuilds the silver tables from bronze. Run with
``python -m spark_jobs.submit spark_jobs/streaming.py`` or on EMR.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery

from newslake import aws, logs, store
from newslake.settings import Settings
from spark_jobs import columns as C
from spark_jobs import delta_io, export
from spark_jobs.bronze import RAW, READ_ERROR, event_date, landing_stream, to_bronze, to_lines
from spark_jobs.fresh import covisitation, recent_reads
from spark_jobs.live import LiveSignals, View, merge_reads
from spark_jobs.popularity import most_viewed
from spark_jobs.silver import REASON, check_rules, parse_events, to_visits, usable_events
from spark_jobs.tables import StreamPaths

log = logging.getLogger("newslake.streaming")

BRONZE_APP = "newslake-bronze"
QUARANTINE_APP = "newslake-silver-quarantine"
LOG_APP = "newslake-silver-ingest-log"
EVENTS_APP = "newslake-silver-events"
LIVE_POOL = "live"  # the live publisher's fair-scheduler pool
# Micro-batches are small: adaptive re-planning and a two-way split of the Delta log cost
# more than they save (measured: an idempotent append 2.2 s instead of 3.5 s on 2 cores).
# Tables this job creates checkpoint their log every 30 commits instead of 10: a checkpoint
# costs seconds, and every micro-batch commits to four tables (30 idempotent appends took
# 46 s instead of 63 s on 2 cores).
# Planning a micro-batch, the file source lists each landed object again (s3a: a LIST and
# a HEAD); past 32 objects Spark lists them in a job with a task per object by default,
# and 8 tasks did it in 5.1 s instead of 9.1 s for 300 objects.
STREAM_SPARK_CONF = {
    "spark.sql.sources.parallelPartitionDiscovery.parallelism": "8",
    "spark.sql.adaptive.enabled": "false",
    "spark.databricks.delta.snapshotPartitions": "1",
    "spark.databricks.delta.properties.defaults.checkpointInterval": "30",
}


VISIT_UPDATE = {
    C.VISIT_START: f"least(t.{C.VISIT_START}, s.{C.VISIT_START})",
    C.DWELL_MS: f"greatest(t.{C.DWELL_MS}, s.{C.DWELL_MS})",
    C.SCROLL_DEPTH: f"greatest(t.{C.SCROLL_DEPTH}, s.{C.SCROLL_DEPTH})",
    C.CLICKS: f"greatest(t.{C.CLICKS}, s.{C.CLICKS})",
    C.ARTICLE_ID: f"coalesce(t.{C.ARTICLE_ID}, s.{C.ARTICLE_ID})",
    C.SESSION_ID: f"coalesce(t.{C.SESSION_ID}, s.{C.SESSION_ID})",
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
    tags (and name ``txnAppId``/``txnVersion``), which costs about a second per table.

    Args:
        settings: table paths, portals, late-data limits.
        fault: a test hook called between steps as ``fault(batch_id, step)``.
        on_views: given the batch's usable events once its visits are in silver
            (continuous mode: :meth:`LivePublisher.feed`).
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
            lines.transform(parse_events)
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
                # the distinct count cost 6 s more on 1.16 million rows.
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


class LivePublisher:
    """Publishes the fresh signals to the serving store, on its own cadence and off the
    micro-batch's path, so neither waits for the other and a store outage never stops
    silver.

    :meth:`publish` computes every list from ``silver.pageviews`` with Spark: trending, the
    recent reads of users whose visits reached silver since the last call (``silver_at``
    above a watermark), and related articles (at most every ``related_refresh_s``). Windows
    end at the newest visit seen (data time, so backfills give the lists live traffic
    would). The catch-up calls it once at the end.

    In continuous mode (:meth:`start`) the first round is such a :meth:`publish`, which also
    seeds :attr:`signals` with the trending window's views; after that each micro-batch feeds
    its new views to :attr:`signals` and each round writes trending and the new readers'
    recent reads with no Spark job (:mod:`spark_jobs.live`); related articles still come
    from the table every ``related_refresh_s``. A restarted publisher starts over the same way.
    """

    def __init__(
        self, spark: SparkSession, settings: Settings, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.spark, self.settings, self.clock = spark, settings, clock
        self.paths = StreamPaths.of(settings)
        self.signals = LiveSignals(
            timedelta(minutes=settings.trending_window_minutes), settings.top_n
        )
        self._watermark: datetime | None = None
        self._as_of: datetime | None = None
        self._related_at = 0.0
        self._seeded = False
        self._ddb: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def publish(self) -> bool:
        """One round from the table; False when nothing new reached silver since the last."""
        visits = delta_io.read_if_exists(self.spark, self.paths.visits)
        if visits is None:
            return False
        changed = visits
        if self._watermark is not None:
            changed = visits.where(F.col(C.SILVER_AT) > F.lit(self._watermark))
        changed = changed.cache()
        try:
            newest = changed.agg(F.max(C.VISIT_START), F.max(C.SILVER_AT)).first()
            if not newest or newest[0] is None:
                return False
            batch_time = newest[0].replace(tzinfo=UTC)
            as_of = self._as_of = max(self._as_of or batch_time, batch_time)
            self._publish_window(visits, changed.select(C.PORTAL, C.USER_ID).distinct(), as_of)
            self._watermark = newest[1]
            return True
        finally:
            changed.unpersist()

    def round(self) -> bool:
        """One round in continuous mode: the first from the table, then from :attr:`signals`."""
        if not self._seeded:
            if not self.publish():
                return False
            self._seed()
            self._seeded = True
            return True
        trending, readers = self.signals.drain()
        as_of = self.signals.as_of
        if not readers or as_of is None:
            return False
        try:
            self._write_signals(trending, readers, as_of)
        except Exception:
            self.signals.restore(readers)  # written next round
            raise
        if self.clock() - self._related_at >= self.settings.related_refresh_s:
            newest = datetime.fromtimestamp(as_of, UTC)
            self._as_of = max(self._as_of or newest, newest)
            self._publish_related(self._recent_visits(self._as_of), self._as_of)
        return True

    def _write_signals(
        self,
        trending: dict[str, list[store.ScoredItem]],
        readers: dict[tuple[str, str], dict[str, float]],
        as_of: float,
    ) -> None:
        """Trending lists, and each reader's stored recent reads with the new ones merged in."""
        s = self.settings
        expires_at = int(time.time()) + s.live_ttl_hours * 3600
        ddb, table = self._client(), s.recommendations_table
        records = [
            store.item_record(store.trending_key(p), store.LIVE, items, expires_at)
            for p, items in trending.items()
        ]
        keys = {r: store.record_key(store.recent_key(*r), store.LIVE) for r in readers}
        current = export.read_items(ddb, table, list(keys.values()))
        for reader, reads in readers.items():
            merged = merge_reads(
                current.get(store.record_id_of(keys[reader]), []),
                reads,
                as_of=as_of,
                window=timedelta(hours=s.recent_reads_hours),
                limit=s.recent_reads_limit,
            )
            records.append(
                store.item_record(store.recent_key(*reader), store.LIVE, merged, expires_at)
            )
        export.write_batch(ddb, table, records)

    def _seed(self) -> None:
        """The trending window's views from the table, so trending starts whole."""
        assert self._as_of is not None
        since = self._as_of - timedelta(minutes=self.settings.trending_window_minutes)
        rows = (
            self.spark.read.format("delta")
            .load(self.paths.visits)
            .where(F.col(C.VISIT_START) > F.lit(since).cast("timestamp"))
            .where(F.col(C.ARTICLE_ID).isNotNull())
            .select(C.PORTAL, C.USER_ID, C.ARTICLE_ID, C.PAGEVIEW_ID, C.VISIT_START)
            .collect()
        )
        self.signals.add((_view(r, C.VISIT_START) for r in rows), readers=False)

    def _recent_visits(self, as_of: datetime) -> DataFrame:
        return (
            self.spark.read.format("delta")
            .load(self.paths.visits)
            .where(
                F.col(C.VISIT_START)
                > F.lit(as_of - timedelta(hours=self.settings.covisit_window_hours)).cast(
                    "timestamp"
                )
            )
        )

    def _publish_window(self, visits: DataFrame, users: DataFrame, as_of: datetime) -> None:
        s = self.settings
        since = as_of - timedelta(hours=max(s.covisit_window_hours, s.recent_reads_hours))
        visits = visits.where(
            F.col(C.VISIT_START) > F.lit(since).cast("timestamp")  # file skipping by stats
        )
        ttl = int(time.time()) + s.live_ttl_hours * 3600
        recent = visits.where(
            F.col(C.VISIT_START)
            > F.lit(as_of - timedelta(hours=s.covisit_window_hours)).cast("timestamp")
        )
        trending = recent.transform(
            most_viewed(as_of, timedelta(minutes=s.trending_window_minutes), s.top_n)
        ).withColumn(C.SCORE, F.col(C.VIEWS).cast("double"))
        self._publish(trending, export.RowKey(store.trending_key, C.PORTAL), ttl)
        reads = visits.join(users, [C.PORTAL, C.USER_ID]).transform(
            recent_reads(as_of, timedelta(hours=s.recent_reads_hours), s.recent_reads_limit)
        )
        self._publish(reads, export.RowKey(store.recent_key, C.PORTAL, C.USER_ID), ttl)
        if self.clock() - self._related_at >= s.related_refresh_s:
            self._publish_related(recent, as_of)

    def _publish_related(self, recent: DataFrame, as_of: datetime) -> None:
        s = self.settings
        related = recent.transform(
            covisitation(as_of, timedelta(hours=s.covisit_window_hours), s.top_n)
        )
        export.publish_lists(
            related,
            s,
            export.RowKey(store.related_key, C.PORTAL, C.SOURCE_ARTICLE),
            store.LIVE,
            int(time.time()) + s.live_ttl_hours * 3600,
        )
        self._related_at = self.clock()

    def _client(self) -> Any:
        if self._ddb is None:
            self._ddb = aws.client("dynamodb", self.settings)
        return self._ddb

    def _publish(self, df: DataFrame, pk_of: export.RowKey, expires_at: int) -> None:
        export.publish_small_lists(
            df, self._client(), self.settings.recommendations_table, pk_of, store.LIVE, expires_at
        )

    def feed(self, views: DataFrame) -> None:
        """A micro-batch's new ``view`` events (``usable_events`` rows) into :attr:`signals`."""
        rows = (
            views.where(F.col(C.EVENT_TYPE) == "view")
            .where(F.col(C.ARTICLE_ID).isNotNull())
            .select(C.PORTAL, C.USER_ID, C.ARTICLE_ID, C.PAGEVIEW_ID, C.EVENT_TIME)
            .collect()
        )
        self.signals.add(_view(r, C.EVENT_TIME) for r in rows)

    def start(self) -> None:
        """Publish every ``live_publish_interval_s`` in a daemon thread until :meth:`stop`."""

        def loop() -> None:
            # Fair scheduling: this thread's jobs share the cores with the micro-batches.
            self.spark.sparkContext.setLocalProperty("spark.scheduler.pool", LIVE_POOL)
            while not self._stop.wait(self.settings.live_publish_interval_s):
                started = time.monotonic()
                try:
                    if self.round():
                        log.info("published live lists in %.2fs", time.monotonic() - started)
                except Exception:  # the store or a read failed: try again next round
                    log.exception("publishing live lists failed; retrying next round")

        self._thread = threading.Thread(target=loop, name="live-publisher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def _view(row: Any, at: str) -> View:
    return View(
        row[C.PORTAL],
        row[C.USER_ID],
        str(row[C.ARTICLE_ID]),
        row[C.PAGEVIEW_ID],
        row[at].replace(tzinfo=UTC).timestamp(),
    )


LOG_COLUMNS = ("batch_id", "bronze_rows", "new_events", "duplicates", "quarantined")
LOG_SCHEMA = ", ".join(f"{c} long" for c in LOG_COLUMNS)


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


def silver_counts(spark: SparkSession, silver: StreamPaths) -> dict[str, int]:
    """What silver holds, reconciled: bronze rows = events + duplicates + quarantined."""
    totals = spark.read.format("delta").load(silver.ingest_log).groupBy().sum().first()
    names = list(LOG_COLUMNS[1:])
    counts = (
        {n: int(totals[f"sum({n})"] or 0) for n in names} if totals else dict.fromkeys(names, 0)
    )
    counts["visits"] = spark.read.format("delta").load(silver.visits).count()
    return counts


def catch_up(spark: SparkSession, settings: Settings, batch: LandingBatch | None = None) -> None:
    """Process everything landed so far, then stop (availableNow); then publish the live
    lists once (unless ``stream_publish_live`` is off)."""
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


def main(argv: list[str] | None = None) -> int:
    from spark_jobs.session import get_spark

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
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    logs.configure()
    settings = Settings()
    spark = get_spark(settings, app_name="newslake-streaming", extra_conf=STREAM_SPARK_CONF)
    if args.rebuild_silver:
        try:
            counts = rebuild_silver(spark, settings)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(json.dumps(counts))
        return 0
    started = datetime.now(UTC)
    if args.available_now:
        catch_up(spark, settings)
        elapsed = (datetime.now(UTC) - started).total_seconds()
        log.info("caught up in %.1fs", elapsed)
        paths = StreamPaths.of(settings)
        counts = silver_counts(spark, paths) if delta_io.read_if_exists(spark, paths.visits) else {}
        print(json.dumps({"caught_up_s": round(elapsed, 2), **counts}))
        return 0
    publisher = LivePublisher(spark, settings)
    feed = publisher.feed if settings.stream_publish_live else None
    query = start(spark, settings, available_now=False, batch=LandingBatch(settings, on_views=feed))
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
