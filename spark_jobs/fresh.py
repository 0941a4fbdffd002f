"""The signals that must be minutes fresh, computed from silver visits by the streaming job.

* trending: top articles by views per portal over the last ``window`` (sliding,
  recomputed each batch);
* related: item-to-item co-visitation within sessions of the last few hours;
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from newslake.ranking import PAIR_WEIGHTS, PairWeights
from spark_jobs import columns as C
from spark_jobs.validation import require_columns


def _in_window(as_of: datetime, window: timedelta) -> F.Column:
    since = F.lit(as_of - window).cast("timestamp")
    return (F.col(C.VISIT_START) > since) & (F.col(C.VISIT_START) <= F.lit(as_of).cast("timestamp"))


def _pair_weight(gap: F.Column, weights: PairWeights) -> F.Column:
    """``weights(gap)`` as a column: the candidate's position minus the source's."""
    weight = F.lit(1.0) / F.pow(F.abs(gap).cast("double"), F.lit(float(weights.decay)))
    return F.when(gap > 0, weight).otherwise(F.lit(float(weights.backward)) * weight)


def covisitation(
    as_of: datetime, window: timedelta, top_k: int, weights: PairWeights = PAIR_WEIGHTS
) -> Callable[[DataFrame], DataFrame]:
    """(portal, source_article_id, rank, article_id, score) from sessions in the window.

    Two articles read in one session are related; the closer their positions in the
    session, the more, and more when the article was read after the source: each pair adds
    ``newslake.ranking.PairWeights`` of its gap (``1 / gap ** decay``, times ``backward``
    when the article came before the source) to each of the two articles' lists.
    """

    def transform(visits: DataFrame) -> DataFrame:
        require_columns(
            visits, [C.PORTAL, C.SESSION_ID, C.ARTICLE_ID, C.VISIT_START], where="covisitation"
        )
        in_session = Window.partitionBy(C.PORTAL, C.SESSION_ID).orderBy(C.VISIT_START, C.ARTICLE_ID)
        positioned = (
            visits.where(F.col(C.ARTICLE_ID).isNotNull() & F.col(C.SESSION_ID).isNotNull())
            .where(_in_window(as_of, window))
            .dropDuplicates([C.PORTAL, C.SESSION_ID, C.ARTICLE_ID])
            .withColumn("pos", F.row_number().over(in_session))
            .select(C.PORTAL, C.SESSION_ID, C.ARTICLE_ID, "pos")
        )
        a, b = positioned.alias("a"), positioned.alias("b")
        pairs = a.join(
            b,
            (F.col(f"a.{C.PORTAL}") == F.col(f"b.{C.PORTAL}"))
            & (F.col(f"a.{C.SESSION_ID}") == F.col(f"b.{C.SESSION_ID}"))
            & (F.col(f"a.{C.ARTICLE_ID}") != F.col(f"b.{C.ARTICLE_ID}")),
        ).select(
            F.col(f"a.{C.PORTAL}").alias(C.PORTAL),
            F.col(f"a.{C.ARTICLE_ID}").alias(C.SOURCE_ARTICLE),
            F.col(f"b.{C.ARTICLE_ID}").alias(C.ARTICLE_ID),
            _pair_weight(F.col("b.pos") - F.col("a.pos"), weights).alias(C.SCORE),
        )
        ranked = Window.partitionBy(C.PORTAL, C.SOURCE_ARTICLE).orderBy(
            F.desc(C.SCORE), F.asc(C.ARTICLE_ID)
        )
        return (
            pairs.groupBy(C.PORTAL, C.SOURCE_ARTICLE, C.ARTICLE_ID)
            .agg(F.sum(C.SCORE).alias(C.SCORE))
            .withColumn(C.RANK, F.row_number().over(ranked))
            .where(F.col(C.RANK) <= top_k)
            .select(C.PORTAL, C.SOURCE_ARTICLE, C.RANK, C.ARTICLE_ID, C.SCORE)
        )

    return transform
