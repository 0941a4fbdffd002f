"""The live publisher: the fresh signals from silver to the serving store, off the batch path.

A driver thread of the streaming job (not a query) publishes every few seconds trending
and (every ``related_refresh_s``) related articles. Readers' recent reads are not its: the
session-state consumer (``ingestion/session_store.py``) keeps them within seconds. Its
Spark jobs run in a fair-scheduler pool of their own, so they share the cores with the
micro-batches rather than queue in front of them. The catch-up
(``--available-now``) publishes once, after the landing query stops.

Expiries, the related lists' refresh and which editorial blocks are in effect are timed by
its ``clock`` (wall time unless a test gives another), never by a second clock.

Each round reads the portals' editorial controls once and leaves blocked articles out of
every list it writes, ranking one more item per block so the lists keep their length
(:mod:`spark_jobs.editorial_filter`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from newslake import aws, editorial_store, store
from newslake.editorial import Controls, unblocked
from newslake.editorial_store import ControlsStoreError
from newslake.settings import Settings
from spark_jobs import columns as C
from spark_jobs import delta_io, export
from spark_jobs.editorial_filter import Blocked, spare, without_blocked
from spark_jobs.fresh import covisitation
from spark_jobs.live import LiveSignals, View
from spark_jobs.popularity import top_by_views
from spark_jobs.tables import StreamPaths

log = logging.getLogger("newslake.streaming")

LIVE_POOL = "live"  # the live publisher's fair-scheduler pool


class LivePublisher:
    """Publishes the fresh signals to the serving store, on its own cadence and off the
    micro-batch's path, so neither waits for the other and a store outage never stops
    silver.

    :meth:`publish` computes every list from ``silver.pageviews`` with Spark when visits
    reached silver since the last call (``silver_at`` above a watermark): trending, and
    related articles (at most every ``related_refresh_s``). Windows end at the newest visit
    seen (data time, so backfills give the lists live traffic would). The catch-up calls it
    once at the end.

    In continuous mode (:meth:`start`) the first round is such a :meth:`publish`, which also
    seeds :attr:`signals` with the trending window's views; after that each micro-batch feeds
    its new views to :attr:`signals` and each round writes trending with no Spark job
    (:mod:`spark_jobs.live`); related articles still come from the table every
    ``related_refresh_s``. A restarted publisher starts over the same way.
    """

    def __init__(
        self,
        spark: SparkSession,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        controls: Callable[[str], Controls] | None = None,
    ) -> None:
        """``controls(portal)`` reads a portal's editorial controls (default: the serving
        store's); tests pass an in-memory store's."""
        self.spark, self.settings, self.clock = spark, settings, clock
        self._load_controls = controls or self._stored_controls
        self._controls: dict[str, Controls] = {}
        self._blocked: Blocked = {}
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
            self._blocked = self._read_blocked()
            self._publish_window(visits, as_of)
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
        self._blocked = self._read_blocked()
        self.signals.top_n = self.settings.top_n + spare(self._blocked)
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
        """The trending lists. Readers' recent reads are the session-state consumer's
        (``ingestion/session_store.py``): its conditional writes are their only writer, so
        no read is lost to a racing overwrite."""
        expires_at = self._expires_at()
        top_n, blocked = self.settings.top_n, self._blocked
        records = [
            store.item_record(
                store.trending_key(p),
                store.LIVE,
                unblocked(items, blocked.get(p, frozenset()), top_n),
                expires_at,
            )
            for p, items in trending.items()
        ]
        export.write_batch(self._client(), self.settings.recommendations_table, records)

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

    def _publish_window(self, visits: DataFrame, as_of: datetime) -> None:
        s = self.settings
        since = as_of - timedelta(hours=s.covisit_window_hours)
        recent = visits.where(
            F.col(C.VISIT_START) > F.lit(since).cast("timestamp")  # file skipping by stats
        )
        ttl = self._expires_at()
        window, asked = timedelta(minutes=s.trending_window_minutes), s.top_n + spare(self._blocked)
        trending = (
            recent.transform(top_by_views(as_of, window, asked))
            .transform(without_blocked(self._blocked, s.top_n, (C.PORTAL,)))
            .withColumn(C.SCORE, F.col(C.VIEWS).cast("double"))
        )
        self._publish(trending, export.RowKey(store.trending_key, C.PORTAL), ttl)
        if self.clock() - self._related_at >= s.related_refresh_s:
            self._publish_related(recent, as_of)

    def _publish_related(self, recent: DataFrame, as_of: datetime) -> None:
        s = self.settings
        window, asked = timedelta(hours=s.covisit_window_hours), s.top_n + spare(self._blocked)
        related = recent.transform(covisitation(as_of, window, asked)).transform(
            without_blocked(self._blocked, s.top_n, (C.PORTAL, C.SOURCE_ARTICLE))
        )
        export.publish_lists(
            related,
            s,
            export.RowKey(store.related_key, C.PORTAL, C.SOURCE_ARTICLE),
            store.LIVE,
            self._expires_at(),
        )
        self._related_at = self.clock()

    def _read_blocked(self) -> Blocked:
        """The articles blocked on each portal now, the controls read once per round.

        A portal whose controls cannot be read keeps those of its last read (logged): the
        lists go on refreshing, and no article blocked before the outage comes back. One
        never read fails the round (retried next round) rather than publish lists it cannot
        filter; the controls live in the table the lists are written to, so a store that
        cannot be read would mostly not take the lists either.
        """
        for portal in self.settings.portals:
            try:
                self._controls[portal] = self._load_controls(portal)
            except ControlsStoreError as exc:
                if portal not in self._controls:
                    raise ControlsStoreError(
                        f"the editorial controls of {portal} were never read, so no live list "
                        f"is published: {exc}"
                    ) from exc
                log.warning(
                    "editorial controls of %s not read; the last read apply: %s", portal, exc
                )
        now = self.clock()
        return {portal: c.blocked(now) for portal, c in self._controls.items()}

    def _stored_controls(self, portal: str) -> Controls:
        return editorial_store.load(self._client(), self.settings.recommendations_table, portal)

    def _expires_at(self) -> int:
        """When a live list written now expires (the store's TTL), by the publisher's clock."""
        return int(self.clock()) + self.settings.live_ttl_hours * 3600

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
