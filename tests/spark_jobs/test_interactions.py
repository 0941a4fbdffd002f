from __future__ import annotations

from datetime import UTC, datetime

from chispa import assert_approx_df_equality

from spark_jobs.interactions import to_interactions

AS_OF = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)
VISITS = (
    "portal string, user_id string, article_id string, visit_start timestamp, "
    "dwell_ms long, scroll_depth int"
)


def test_strength_sums_visit_weights_with_dwell_cap_and_half_life(spark):
    visits = spark.createDataFrame(
        [
            # weight 1 + 150/300 + 0.50 = 2.0
            ("g1", "u1", "a1", datetime(2026, 1, 8, 12, 0), 150_000, 50),
            # dwell capped at 300 s: 1 + 1 + 1.0 = 3.0
            ("g1", "u1", "a1", datetime(2026, 1, 8, 11, 0, 0), 900_000, 100),
            # a glance a week (one half-life) before as_of: 1 * 0.5
            ("g1", "u2", "a1", datetime(2026, 1, 1, 12, 0), 0, 0),
            # after as_of: not counted
            ("g1", "u3", "a1", datetime(2026, 1, 8, 13, 0), 0, 0),
            # no article (a section front): not counted
            ("g1", "u1", None, datetime(2026, 1, 8, 12, 0), 0, 0),
        ],
        VISITS,
    )
    actual = visits.transform(to_interactions(AS_OF, half_life_days=7.0))
    expected = spark.createDataFrame(
        [
            ("g1", "u1", "a1", 2.0 + 3.0 * 0.5 ** (1 / 24 / 7), 2, datetime(2026, 1, 8, 12, 0)),
            ("g1", "u2", "a1", 0.5, 1, datetime(2026, 1, 1, 12, 0)),
        ],
        "portal string, user_id string, article_id string, strength double, visits long, "
        "last_seen timestamp",
    )
    assert_approx_df_equality(actual, expected, 1e-9, ignore_row_order=True, ignore_nullable=True)
