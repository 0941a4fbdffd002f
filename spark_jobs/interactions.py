"""Visits to implicit feedback: how strongly each user showed interest in each article.

For one visit::

    weight = 1 + min(dwell_s, 300) / 300 + scroll_depth / 100        (between 1 and 3)

A glance counts 1; reading for five minutes to the end counts 3. A user's strength for an
article is the sum of the weights of their visits to it, each halved for every
``half_life_days`` between the visit and ``as_of``, so old reading fades from the profile.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from spark_jobs import columns as C
from spark_jobs.validation import require_columns

MAX_DWELL_S = 300


def visit_weight() -> F.Column:
    dwell_s = F.least(F.col(C.DWELL_MS) / 1000.0, F.lit(float(MAX_DWELL_S)))
    return 1.0 + dwell_s / MAX_DWELL_S + F.col(C.SCROLL_DEPTH) / 100.0


def to_interactions(
    as_of: datetime, half_life_days: float = 7.0
) -> Callable[[DataFrame], DataFrame]:
    """(portal, user, article) -> strength, visits, last_seen, from visits up to ``as_of``."""

    def transform(visits: DataFrame) -> DataFrame:
        require_columns(
            visits,
            [C.PORTAL, C.USER_ID, C.ARTICLE_ID, C.VISIT_START, C.DWELL_MS, C.SCROLL_DEPTH],
            where="to_interactions",
        )
        age_days = (
            F.lit(as_of).cast("timestamp").cast("double") - F.col(C.VISIT_START).cast("double")
        ) / 86400.0
        decay = F.pow(F.lit(0.5), age_days / half_life_days)
        return (
            visits.where(F.col(C.ARTICLE_ID).isNotNull())
            .where(F.col(C.VISIT_START) <= F.lit(as_of).cast("timestamp"))
            .groupBy(C.PORTAL, C.USER_ID, C.ARTICLE_ID)
            .agg(
                F.sum(visit_weight() * decay).alias(C.STRENGTH),
                F.count(F.lit(1)).alias(C.VISITS),
                F.max(C.VISIT_START).alias(C.LAST_SEEN),
            )
        )

    return transform


def strengths(visits: DataFrame, as_of: datetime) -> DataFrame:
    """ALS's input: (user_id, article_id, strength) of the visits up to ``as_of``."""
    return visits.transform(to_interactions(as_of)).select(C.USER_ID, C.ARTICLE_ID, C.STRENGTH)
