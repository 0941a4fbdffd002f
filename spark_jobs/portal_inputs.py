"""One portal's model run, as the nightly ``train`` stage and the weekly search share it.

Both read the portal's silver visits up to the end of a time split, gather the test
period's readers, number users and articles for ALS, and score every model the same way
(:class:`Scoring`), so their figures compare. :class:`PortalRun` carries the run's inputs
and its step timings from step to step.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from newslake.settings import Settings
from spark_jobs import blend, delta_io, id_map
from spark_jobs import columns as C
from spark_jobs.evaluation import Evaluator, Split, relevant_sets, test_clicks
from spark_jobs.tables import GoldPaths, StreamPaths

VISIT_COLUMNS = [
    C.PORTAL, C.USER_ID, C.SESSION_ID, C.ARTICLE_ID, C.VISIT_START, C.DWELL_MS, C.SCROLL_DEPTH,
]  # fmt: skip


def portal_visits(
    spark: SparkSession, settings: Settings, portal: str, until: datetime
) -> DataFrame:
    """The portal's silver visits up to ``until`` (empty when silver does not exist)."""
    df = delta_io.read_if_exists(spark, StreamPaths.of(settings).visits)
    if df is None:
        return spark.createDataFrame([], f"{C.PORTAL} string").limit(0)
    return (
        df.where(F.col(C.PORTAL) == portal)
        .where(F.col(C.VISIT_START) <= F.lit(until).cast("timestamp"))
        .where(F.col(C.ARTICLE_ID).isNotNull())
        .select(*VISIT_COLUMNS)
    )


def signal_params(settings: Settings) -> blend.SignalParams:
    """The blend's windows and sizes, from settings."""
    return blend.SignalParams(
        freshness_horizon=timedelta(hours=settings.freshness_horizon_hours),
        trending_window=timedelta(hours=settings.trending_window_hours),
        trending_half_life=timedelta(minutes=settings.trending_half_life_minutes),
        hot_half_life=timedelta(minutes=settings.blend_hot_half_life_minutes),
        popular_window=timedelta(hours=settings.popular_window_hours),
        related_window=timedelta(hours=settings.related_window_hours),
        last_reads=settings.blend_last_reads,
        candidates=settings.blend_candidates,
    )


@dataclass
class Timings:
    """Seconds per named step, recorded with the run."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.seconds[name] = round(time.monotonic() - started, 2)


@dataclass
class PortalRun:
    """One portal's run: its settings, model time, split, visits (cached up to the split's
    end until :meth:`close`), the test period's readers and the timings of its steps."""

    settings: Settings
    portal: str
    as_of: datetime
    split: Split
    visits: DataFrame
    relevant: dict[str, set[str]] = field(default_factory=dict)
    timings: Timings = field(default_factory=Timings)

    @classmethod
    def open(
        cls, spark: SparkSession, settings: Settings, portal: str, as_of: datetime, split: Split
    ) -> PortalRun:
        visits = portal_visits(spark, settings, portal, split.end).cache()
        return cls(settings, portal, as_of, split, visits)

    @property
    def spark(self) -> SparkSession:
        return self.visits.sparkSession

    @property
    def paths(self) -> GoldPaths:
        return GoldPaths.of(self.settings)

    @property
    def metric(self) -> str:
        """The metric the run ranks models by: NDCG at the settings' k."""
        return f"ndcg_at_{self.settings.eval_k}"

    def gather_test_readers(self) -> None:
        """Each reader of the test period with the articles they clicked, on the driver."""
        self.relevant = relevant_sets(test_clicks(self.visits, self.split))

    def has_history(self) -> bool:
        """Whether any visit precedes the split: there is something to train on."""
        before = self.visits.where(
            F.col(C.VISIT_START) <= F.lit(self.split.cutoff).cast("timestamp")
        )
        return bool(before.limit(1).count())

    def test_readers(self) -> DataFrame:
        """The test period's readers (user_id)."""
        return self.spark.createDataFrame([(u,) for u in self.relevant], f"{C.USER_ID} string")

    def id_maps(self, interactions: DataFrame) -> tuple[DataFrame, DataFrame]:
        """ALS numbers of the users and articles of ``interactions`` (cached)."""
        ids = id_map.assign_kinds(
            self.spark,
            {
                id_map.USER: interactions.select(F.col(C.USER_ID).alias(C.ENTITY_ID)),
                id_map.ARTICLE: interactions.select(F.col(C.ARTICLE_ID).alias(C.ENTITY_ID)),
            },
            self.paths.id_map,
            portal=self.portal,
        )
        return ids[id_map.USER].cache(), ids[id_map.ARTICLE].cache()

    def close(self) -> None:
        self.visits.unpersist()


@dataclass
class Scoring:
    """What scoring the test readers' lists made at the cutoff takes, made once for every
    model of the run: the signals, the readers, what they read before (left out of their
    lists) and the evaluator."""

    signals: blend.Signals
    users: DataFrame
    reads: DataFrame
    evaluator: Evaluator

    @classmethod
    def of(cls, run: PortalRun) -> Scoring:
        sig = blend.signals(run.visits, run.split.cutoff, signal_params(run.settings)).cache()
        users = run.test_readers().cache()
        reads = sig.reads.join(users, C.USER_ID, "left_semi").cache()
        catalogue = [r[0] for r in sig.catalogue.collect()]
        return cls(
            sig, users, reads, Evaluator(run.relevant, users, catalogue, run.settings.eval_k)
        )

    @property
    def k(self) -> int:
        return self.evaluator.k

    def score(self, ranking: DataFrame) -> dict[str, Any]:
        """Metrics of lists that already leave out what each reader read."""
        return self.evaluator.score(ranking)

    def score_unread(self, ranking: DataFrame) -> dict[str, Any]:
        """Metrics of ``ranking``'s first k articles each reader has not read."""
        return self.evaluator.score(ranking.transform(blend.unread(self.reads, self.k)))

    def fuse(self, lists: dict[str, DataFrame], weights: blend.BlendWeights) -> DataFrame:
        """The blend of ``lists`` for the test readers, k long."""
        return blend.fuse(
            lists, weights.as_dict(), reads=self.reads, fresh=self.signals.fresh, top_n=self.k
        )

    def close(self) -> None:
        self.reads.unpersist()
        self.users.unpersist()
        self.signals.unpersist()
