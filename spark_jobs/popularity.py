"""Most-viewed articles per portal: the baseline every model must beat, and the fallback."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from spark_jobs import columns as C
from spark_jobs.validation import require_columns


def top_by_views(
    as_of: datetime, window: timedelta, top_n: int
) -> Callable[[DataFrame], DataFrame]:
    """(portal, rank, article_id, views): visits in (as_of - window, as_of], ties by article id.

    Over a day it is the nightly popular list; over the last hour, trending now.
    """

    def transform(visits: DataFrame) -> DataFrame:
        require_columns(visits, [C.PORTAL, C.ARTICLE_ID, C.VISIT_START], where="top_by_views")
        since = as_of - window
        ranked = Window.partitionBy(C.PORTAL).orderBy(F.desc(C.VIEWS), F.asc(C.ARTICLE_ID))
        return (
            visits.where(F.col(C.ARTICLE_ID).isNotNull())
            .where(F.col(C.VISIT_START) > F.lit(since).cast("timestamp"))
            .where(F.col(C.VISIT_START) <= F.lit(as_of).cast("timestamp"))
            .groupBy(C.PORTAL, C.ARTICLE_ID)
            .agg(F.count(F.lit(1)).alias(C.VIEWS))
            .withColumn(C.RANK, F.row_number().over(ranked))
            .where(F.col(C.RANK) <= top_n)
            .select(C.PORTAL, C.RANK, C.ARTICLE_ID, C.VIEWS)
        )

    return transform


def trending(
    as_of: datetime, window: timedelta, half_life: timedelta, top_n: int
) -> Callable[[DataFrame], DataFrame]:
    """(portal, rank, article_id, score): views in (as_of - window, as_of], each weighing
    ``0.5 ** (age / half_life)``, so the last hour's readers count most; ties by article id.
    """

    def transform(visits: DataFrame) -> DataFrame:
        require_columns(visits, [C.PORTAL, C.ARTICLE_ID, C.VISIT_START], where="trending")
        since = as_of - window
        age_s = F.lit(as_of).cast("timestamp").cast("double") - F.col(C.VISIT_START).cast("double")
        weight = F.pow(F.lit(0.5), age_s / half_life.total_seconds())
        ranked = Window.partitionBy(C.PORTAL).orderBy(F.desc(C.SCORE), F.asc(C.ARTICLE_ID))
        return (
            visits.where(F.col(C.ARTICLE_ID).isNotNull())
            .where(F.col(C.VISIT_START) > F.lit(since).cast("timestamp"))
            .where(F.col(C.VISIT_START) <= F.lit(as_of).cast("timestamp"))
            .groupBy(C.PORTAL, C.ARTICLE_ID)
            .agg(F.sum(weight).alias(C.SCORE))
            .withColumn(C.RANK, F.row_number().over(ranked))
            .where(F.col(C.RANK) <= top_n)
            .select(C.PORTAL, C.RANK, C.ARTICLE_ID, C.SCORE)
        )

    return transform


def first_seen(until: datetime) -> Callable[[DataFrame], DataFrame]:
    """(portal, article_id, first_seen): an article's age is the time of its first visit in
    silver (no publication time is collected), counting visits up to ``until``."""

    def transform(visits: DataFrame) -> DataFrame:
        require_columns(visits, [C.PORTAL, C.ARTICLE_ID, C.VISIT_START], where="first_seen")
        return (
            visits.where(F.col(C.ARTICLE_ID).isNotNull())
            .where(F.col(C.VISIT_START) <= F.lit(until).cast("timestamp"))
            .groupBy(C.PORTAL, C.ARTICLE_ID)
            .agg(F.min(C.VISIT_START).alias(C.FIRST_SEEN))
        )

    return transform
