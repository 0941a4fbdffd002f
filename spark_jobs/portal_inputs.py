"""What one portal's model run reads: its silver visits, and the settings' signal windows.

The nightly ``train`` stage (:mod:`spark_jobs.portal_run`) and the weekly search
(:mod:`spark_jobs.search`) read the same visits the same way, so their figures compare.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from newslake.settings import Settings
from spark_jobs import blend, delta_io
from spark_jobs import columns as C
from spark_jobs.tables import StreamPaths

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
