"""Each part of the interaction-strength formula (spark_jobs/interactions.py), by hand:

weight = 1 + min(dwell_s, 300) / 300 + scroll_depth / 100
strength = sum of weights * 0.5 ** (age_days / half_life_days), visits up to as_of
"""

from __future__ import annotations

from datetime import UTC, datetime

from chispa import assert_approx_df_equality

from spark_jobs.interactions import to_interactions

AS_OF = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)
NOW = datetime(2026, 1, 8, 12, 0)
VISITS = (
    "portal string, user_id string, article_id string, visit_start timestamp, "
    "dwell_ms long, scroll_depth int"
)
OUT = (
    "portal string, user_id string, article_id string, strength double, visits long, "
    "last_seen timestamp"
)


def _strengths(spark, rows, half_life_days=7.0):
    visits = spark.createDataFrame(rows, VISITS)
    return visits.transform(to_interactions(AS_OF, half_life_days=half_life_days))


def _check(spark, actual, expected_rows):
    expected = spark.createDataFrame(expected_rows, OUT)
    assert_approx_df_equality(actual, expected, 1e-9, ignore_row_order=True, ignore_nullable=True)


def test_a_glance_weighs_one(spark):
    actual = _strengths(spark, [("g1", "u1", "a1", NOW, 0, 0)])
    _check(spark, actual, [("g1", "u1", "a1", 1.0, 1, NOW)])


def test_dwell_adds_up_to_one_and_is_capped_at_five_minutes(spark):
    rows = [("g1", "u1", "a1", NOW, 150_000, 0), ("g1", "u2", "a1", NOW, 900_000, 0)]
    _check(
        spark,
        _strengths(spark, rows),
        [("g1", "u1", "a1", 1.5, 1, NOW), ("g1", "u2", "a1", 2.0, 1, NOW)],
    )


def test_scroll_depth_adds_its_share_of_the_page(spark):
    rows = [("g1", "u1", "a1", NOW, 0, 50), ("g1", "u2", "a1", NOW, 0, 100)]
    _check(
        spark,
        _strengths(spark, rows),
        [("g1", "u1", "a1", 1.5, 1, NOW), ("g1", "u2", "a1", 2.0, 1, NOW)],
    )


def test_a_visit_one_half_life_old_counts_half(spark):
    week_ago = datetime(2026, 1, 1, 12, 0)
    rows = [("g1", "u1", "a1", week_ago, 0, 0), ("g1", "u2", "a1", week_ago, 0, 0)]
    _check(
        spark,
        _strengths(spark, rows, half_life_days=7.0),
        [("g1", "u1", "a1", 0.5, 1, week_ago), ("g1", "u2", "a1", 0.5, 1, week_ago)],
    )


def test_visits_of_one_user_and_article_are_summed_with_the_latest_time(spark):
    earlier = datetime(2026, 1, 8, 11, 0)
    rows = [("g1", "u1", "a1", NOW, 300_000, 100), ("g1", "u1", "a1", earlier, 0, 0)]
    # 3.0 now, plus a glance an hour before as_of: 0.5 ** (1 / 24 / 7)
    _check(spark, _strengths(spark, rows), [("g1", "u1", "a1", 3.0 + 0.5 ** (1 / 168), 2, NOW)])


def test_visits_after_as_of_and_visits_without_an_article_are_left_out(spark):
    rows = [
        ("g1", "u1", "a1", NOW, 0, 0),
        ("g1", "u1", "a1", datetime(2026, 1, 8, 13, 0), 0, 0),  # after as_of
        ("g1", "u1", None, NOW, 0, 0),  # a section front
    ]
    _check(spark, _strengths(spark, rows), [("g1", "u1", "a1", 1.0, 1, NOW)])
