"""A nightly personal list fused by rank: fresh popularity, co-visitation and ALS.

The weekly search (:mod:`spark_jobs.search`) scores ALS hyperparameters through this blend;
what readers are served is fused at request time (``newslake.ranking.reader_list``), and
the nightly gate judges that (:mod:`spark_jobs.served`). This module also holds the Spark
signals both use.

News ages in hours: on G1 about 40 % of the articles read on a day did not exist the day
before, so a profile learned from yesterday (ALS) alone misses most of what is read today,
while what is being read right now does well. The blend leans on fresh signals and lets the
profile reorder them. For each reader ``u`` and candidate article ``a``::

    score(u, a) = sum over sources s of  w_s / (RRF_K + rank_s(u, a))

(reciprocal-rank fusion; a source that does not list ``a`` adds nothing), with sources

* ``hot``: what is being read in the last minutes before the cutoff: views of the trending
  window, each halved every ``hot_half_life`` (2 min by default, against trending's 30);
* ``trending``: the portal's time-decayed popularity at the cutoff (same list for all);
* ``popular``: the portal's top articles by views over the last day (same list for all);
* ``covisit``: articles read in the same sessions as the reader's last few reads
  (:func:`spark_jobs.fresh.covisitation` over the last day), summed over those reads;
* ``als``: the reader's ALS top list among fresh articles.

Then articles the reader has read and articles first seen more than the freshness horizon
before the cutoff are left out, and the best ``top_n`` are kept, ties by article id. The
weights ``w_s`` are chosen on a validation split by the weekly search
(:mod:`spark_jobs.search`) and recorded in ``gold.hyperparams``.

Why ``hot`` leads (protocol 1 on G1, ``evaluation/README.md``): the list is made at the
cutoff and read the whole next day, and the articles read in the last few minutes predict
that day better than the last hours' (mean NDCG@10 over 12 days 0.157 against trending's
0.146, better on 9 of the 12 days). The personal sources (co-visitation, ALS, and a
reader's category affinity, tried offline) lowered it at every weight tried, so the default
blend is ``hot`` alone and the search may still give them weight on another portal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from pyspark.sql import DataFrame, Window, WindowSpec
from pyspark.sql import functions as F

from newslake.settings import Settings
from spark_jobs import columns as C
from spark_jobs.fresh import covisitation
from spark_jobs.popularity import first_seen, top_by_views, trending
from spark_jobs.validation import require_columns

RRF_K = 10.0
HOT, TRENDING, POPULAR, COVISIT, ALS = "hot", "trending", "popular", "covisit", "als"


@dataclass(frozen=True)
class BlendWeights:
    """Each source's weight in the fusion."""

    trending: float
    covisit: float
    als: float
    popular: float
    hot: float

    @classmethod
    def of(cls, settings: Settings) -> BlendWeights:
        """The weights ``settings`` name (``blend_w_*``), used until a search chooses."""
        return cls(
            trending=settings.blend_w_trending,
            covisit=settings.blend_w_covisit,
            als=settings.blend_w_als,
            popular=settings.blend_w_popular,
            hot=settings.blend_w_hot,
        )

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def weight_grid(*, quick: bool = False) -> list[BlendWeights]:
    """The weights the search tries; hot's weight is fixed at 1 (only ratios matter), and
    the first is hot alone (the search keeps the first of equal scores).

    Small personal weights only reorder what is hot for each reader; large ones let the
    reader's own signals push in articles the crowd has not found.
    """
    trending = (0.0, 1.0) if quick else (0.0, 0.25, 1.0)
    covisit = (0.0, 0.05) if quick else (0.0, 0.05, 0.25, 1.0)
    als = (0.0,) if quick else (0.0, 0.05, 0.25)
    popular = (0.0, 0.25) if quick else (0.0, 0.25, 1.0)
    return [
        BlendWeights(trending=t, covisit=c, als=a, popular=p, hot=1.0)
        for t in trending
        for c in covisit
        for a in als
        for p in popular
    ]


def _by_user(*order: F.Column) -> WindowSpec:
    return Window.partitionBy(C.USER_ID).orderBy(*order, F.asc(C.ARTICLE_ID))


def top_per_user(n: int) -> Callable[[DataFrame], DataFrame]:
    """(user_id, rank, article_id, score): each user's rows re-ranked by score, best ``n``."""

    def transform(df: DataFrame) -> DataFrame:
        require_columns(df, [C.USER_ID, C.ARTICLE_ID, C.SCORE], where="top_per_user")
        return (
            df.withColumn(C.RANK, F.row_number().over(_by_user(F.desc(C.SCORE))))
            .where(F.col(C.RANK) <= n)
            .select(C.USER_ID, C.RANK, C.ARTICLE_ID, C.SCORE)
        )

    return transform


def unread(reads: DataFrame, n: int) -> Callable[[DataFrame], DataFrame]:
    """A ranking less what each user has read, re-ranked 1..n in the same order."""

    def transform(ranking: DataFrame) -> DataFrame:
        require_columns(ranking, [C.USER_ID, C.RANK, C.ARTICLE_ID, C.SCORE], where="unread")
        return (
            ranking.join(
                reads.select(C.USER_ID, C.ARTICLE_ID), [C.USER_ID, C.ARTICLE_ID], "left_anti"
            )
            .withColumn(C.RANK, F.row_number().over(_by_user(F.asc(C.RANK))))
            .where(F.col(C.RANK) <= n)
            .select(C.USER_ID, C.RANK, C.ARTICLE_ID, C.SCORE)
        )

    return transform


def for_users(users: DataFrame, ranked: DataFrame) -> DataFrame:
    """A list that is the same for everyone (rank, article_id, score), given to each user."""
    return (
        users.select(C.USER_ID)
        .distinct()
        .crossJoin(F.broadcast(ranked.select(C.RANK, C.ARTICLE_ID, C.SCORE)))
    )


def last_reads(cutoff: datetime, n: int) -> Callable[[DataFrame], DataFrame]:
    """(user_id, article_id): each user's ``n`` latest distinct reads up to ``cutoff``."""

    def transform(visits: DataFrame) -> DataFrame:
        require_columns(visits, [C.USER_ID, C.ARTICLE_ID, C.VISIT_START], where="last_reads")
        latest = (
            visits.where(F.col(C.ARTICLE_ID).isNotNull())
            .where(F.col(C.VISIT_START) <= F.lit(cutoff).cast("timestamp"))
            .groupBy(C.USER_ID, C.ARTICLE_ID)
            .agg(F.max(C.VISIT_START).alias(C.LAST_SEEN))
        )
        return (
            latest.withColumn("_n", F.row_number().over(_by_user(F.desc(C.LAST_SEEN))))
            .where(F.col("_n") <= n)
            .select(C.USER_ID, C.ARTICLE_ID)
        )

    return transform


def covisited(related: DataFrame, n: int) -> Callable[[DataFrame], DataFrame]:
    """(user_id, rank, article_id, score) from the users' last reads: each read's related
    articles, their co-visitation scores summed over the reads."""

    def transform(reads: DataFrame) -> DataFrame:
        require_columns(reads, [C.USER_ID, C.ARTICLE_ID], where="covisited")
        rel = related.select(
            F.col(C.SOURCE_ARTICLE).alias("_src"), C.ARTICLE_ID, F.col(C.SCORE).alias("_s")
        )
        return (
            reads.select(C.USER_ID, F.col(C.ARTICLE_ID).alias("_src"))
            .join(rel, "_src")
            .groupBy(C.USER_ID, C.ARTICLE_ID)
            .agg(F.sum("_s").alias(C.SCORE))
            .transform(top_per_user(n))
        )

    return transform


def fuse(
    sources: Mapping[str, DataFrame],
    weights: Mapping[str, float],
    *,
    reads: DataFrame,
    fresh: DataFrame,
    top_n: int,
) -> DataFrame:
    """(user_id, rank, article_id, score) by the formula in the module docstring.

    Args:
        sources: ranked lists per source, (user_id, rank, article_id, ...).
        weights: ``w_s`` per source name; a source with weight 0 is not read.
        reads: (user_id, article_id) already read: left out.
        fresh: (article_id) young enough to recommend: nothing else is kept.
        top_n: list length.
    """
    parts = [
        df.select(
            C.USER_ID,
            C.ARTICLE_ID,
            (F.lit(float(weights[name])) / (F.lit(RRF_K) + F.col(C.RANK))).alias(C.SCORE),
        )
        for name, df in sources.items()
        if weights.get(name, 0.0) > 0
    ]
    if not parts:
        raise ValueError("every blend weight is 0: nothing to rank")
    union = parts[0]
    for part in parts[1:]:
        union = union.unionByName(part)
    return (
        union.groupBy(C.USER_ID, C.ARTICLE_ID)
        .agg(F.sum(C.SCORE).alias(C.SCORE))
        .join(F.broadcast(fresh.select(C.ARTICLE_ID).distinct()), C.ARTICLE_ID, "left_semi")
        .join(reads.select(C.USER_ID, C.ARTICLE_ID), [C.USER_ID, C.ARTICLE_ID], "left_anti")
        .transform(top_per_user(top_n))
    )


@dataclass
class Signals:
    """What one portal's lists are made of, as known at ``cutoff``."""

    cutoff: datetime
    reads: DataFrame  # user_id, article_id: everything read up to the cutoff
    fresh: DataFrame  # article_id first seen within the freshness horizon
    catalogue: DataFrame  # article_id read within the horizon (coverage's denominator)
    hot: DataFrame  # rank, article_id, score
    trending: DataFrame  # rank, article_id, score
    popular: DataFrame  # rank, article_id, score
    related: DataFrame  # source_article_id, rank, article_id, score
    last_reads: DataFrame  # user_id, article_id
    candidates: int  # length of each source's list

    def _frames(self) -> list[DataFrame]:
        return [
            self.reads, self.fresh, self.catalogue, self.hot, self.trending, self.popular,
            self.related, self.last_reads,
        ]  # fmt: skip

    def cache(self) -> Signals:
        """Keep every signal once computed: each is read by several models."""
        for df in self._frames():
            df.cache()
        return self

    def unpersist(self) -> None:
        for df in self._frames():
            df.unpersist()


@dataclass(frozen=True)
class SignalParams:
    freshness_horizon: timedelta
    trending_window: timedelta
    trending_half_life: timedelta
    hot_half_life: timedelta  # the hot list: the trending window, a much shorter half-life
    popular_window: timedelta
    related_window: timedelta
    last_reads: int
    candidates: int


def signals(visits: DataFrame, cutoff: datetime, p: SignalParams) -> Signals:
    """One portal's signals at ``cutoff`` from its silver visits (lazy DataFrames)."""
    require_columns(
        visits,
        [C.PORTAL, C.USER_ID, C.SESSION_ID, C.ARTICLE_ID, C.VISIT_START],
        where="blend.signals",
    )
    upto = visits.where(F.col(C.ARTICLE_ID).isNotNull()).where(
        F.col(C.VISIT_START) <= F.lit(cutoff).cast("timestamp")
    )
    horizon = F.lit(cutoff - p.freshness_horizon).cast("timestamp")
    seen = upto.transform(first_seen(cutoff))
    return Signals(
        cutoff=cutoff,
        reads=upto.select(C.USER_ID, C.ARTICLE_ID).distinct(),
        fresh=seen.where(F.col(C.FIRST_SEEN) > horizon).select(C.ARTICLE_ID),
        catalogue=upto.where(F.col(C.VISIT_START) > horizon).select(C.ARTICLE_ID).distinct(),
        hot=upto.transform(trending(cutoff, p.trending_window, p.hot_half_life, p.candidates)).drop(
            C.PORTAL
        ),
        trending=upto.transform(
            trending(cutoff, p.trending_window, p.trending_half_life, p.candidates)
        ).drop(C.PORTAL),
        popular=upto.transform(top_by_views(cutoff, p.popular_window, p.candidates)).select(
            C.RANK, C.ARTICLE_ID, F.col(C.VIEWS).cast("double").alias(C.SCORE)
        ),
        related=upto.transform(covisitation(cutoff, p.related_window, p.candidates)).drop(C.PORTAL),
        last_reads=upto.transform(last_reads(cutoff, p.last_reads)),
        candidates=p.candidates,
    )


def source_lists(sig: Signals, users: DataFrame, als_top: DataFrame | None) -> dict[str, DataFrame]:
    """The per-user ranked lists the blend fuses, for ``users`` (user_id)."""
    out = {
        HOT: for_users(users, sig.hot),
        TRENDING: for_users(users, sig.trending),
        POPULAR: for_users(users, sig.popular),
        COVISIT: sig.last_reads.join(
            users.select(C.USER_ID).distinct(), C.USER_ID, "left_semi"
        ).transform(covisited(sig.related, sig.candidates)),
    }
    if als_top is not None:
        out[ALS] = als_top
    return out
