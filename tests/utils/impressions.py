"""Small ``silver/impressions`` and ``silver/pageviews`` tables written by hand, with the
shared contract's schemas, for the attribution and rec-performance tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pyspark.sql import DataFrame, SparkSession

IMPRESSIONS_SCHEMA = (
    "recommendation_id string, portal string, route string, user_id string, "
    "article_id string, experiment string, variant string, model_version string, "
    "served_at timestamp, served_date date, "
    "items array<struct<article_id:string, source:string, position:int>>, silver_at timestamp"
)
VISITS_SCHEMA = (
    "pageview_id string, portal string, user_id string, session_id string, "
    "article_id string, visit_start timestamp, dwell_ms long, scroll_depth int, clicks int, "
    "rec_id string, rec_position int, silver_at timestamp"
)


def answer(
    rec: str,
    served_at: datetime,
    items: list[tuple[str, str]],
    *,
    portal: str = "g1",
    route: str = "reader",
    user: str | None = "u1",
    variant: tuple[str, str] | None = None,
    model_version: str | None = "v1",
    landed_after: timedelta = timedelta(minutes=2),
) -> tuple[Any, ...]:
    """One impression row: ``items`` are (article, source) at positions 1, 2, ..."""
    experiment, name = variant or (None, None)
    return (
        rec, portal, route, user, None, experiment, name, model_version, served_at,
        served_at.date(), [(a, s, i) for i, (a, s) in enumerate(items, start=1)],
        served_at + landed_after,
    )  # fmt: skip


def visit(
    pageview: str,
    at: datetime,
    article: str | None,
    rec: tuple[str, int] | None = None,
    *,
    portal: str = "g1",
    user: str = "u1",
) -> tuple[Any, ...]:
    """One visit of ``article`` at ``at``, through recommendation (id, position) or organic."""
    rec_id, position = rec or (None, None)
    return (
        pageview, portal, user, f"s-{user}", article, at, 1000, 50, 0, rec_id, position,
        at + timedelta(seconds=30),
    )  # fmt: skip


def impressions_df(spark: SparkSession, rows: list[tuple[Any, ...]]) -> DataFrame:
    return spark.createDataFrame(rows, IMPRESSIONS_SCHEMA)


def visits_df(spark: SparkSession, rows: list[tuple[Any, ...]]) -> DataFrame:
    return spark.createDataFrame(rows, VISITS_SCHEMA)
