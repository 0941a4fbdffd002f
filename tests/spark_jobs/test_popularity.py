from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chispa import assert_df_equality

from spark_jobs.popularity import top_by_views, trending

AS_OF = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)


def test_top_by_views_counts_the_window_and_breaks_ties_by_article_id(spark):
    t_in, t_old = datetime(2026, 1, 8, 11, 0), datetime(2026, 1, 7, 11, 0)
    visits = spark.createDataFrame(
        [
            ("g1", "a2", t_in),
            ("g1", "a2", t_in),
            ("g1", "a1", t_in),
            ("g1", "a3", t_in),
            ("g1", "a9", t_old),
            ("g1", "a9", t_old),
            ("g1", "a9", t_old),  # outside 24 h
            ("g1", "a4", datetime(2026, 1, 8, 12, 30)),  # after as_of
            ("ge", "b1", t_in),
        ],
        "portal string, article_id string, visit_start timestamp",
    )
    actual = visits.transform(top_by_views(AS_OF, window=timedelta(hours=24), top_n=2))
    expected = spark.createDataFrame(
        [("g1", 1, "a2", 2), ("g1", 2, "a1", 1), ("ge", 1, "b1", 1)],
        "portal string, rank int, article_id string, views long",
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_trending_halves_a_views_weight_every_half_life(spark):
    visits = spark.createDataFrame(
        [
            ("g1", "a1", datetime(2026, 1, 8, 12, 0)),  # weight 1
            ("g1", "a2", datetime(2026, 1, 8, 11, 30)),  # one half-life: 0.5
            ("g1", "a2", datetime(2026, 1, 8, 11, 0)),  # two: 0.25
            ("g1", "a3", datetime(2026, 1, 8, 8, 0)),  # outside the 3 h window
        ],
        "portal string, article_id string, visit_start timestamp",
    )
    actual = visits.transform(trending(AS_OF, timedelta(hours=3), timedelta(minutes=30), top_n=10))
    expected = spark.createDataFrame(
        [("g1", 1, "a1", 1.0), ("g1", 2, "a2", 0.75)],
        "portal string, rank int, article_id string, score double",
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)
