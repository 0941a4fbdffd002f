from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chispa import assert_approx_df_equality

from spark_jobs.fresh import covisitation

AS_OF = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)
VISITS = (
    "portal string, session_id string, user_id string, article_id string, visit_start timestamp"
)


def t(minute: int) -> datetime:
    return datetime(2026, 1, 8, 11, minute)


def test_covisitation_weighs_pairs_by_distance_and_more_when_read_after_the_source(spark):
    visits = spark.createDataFrame(
        [
            ("g1", "s1", "u1", "a", t(0)),
            ("g1", "s1", "u1", "b", t(1)),
            ("g1", "s1", "u1", "c", t(2)),
            ("g1", "s2", "u2", "a", t(5)),
            ("g1", "s2", "u2", "c", t(6)),
            ("g1", "s3", "u3", "a", datetime(2026, 1, 8, 8, 0)),  # before the 3 h window
            ("g1", "s3", "u3", "z", datetime(2026, 1, 8, 8, 1)),
            ("ge", "s1", "u9", "a", t(0)),  # same session id on another portal: no pair
        ],
        VISITS,
    )
    actual = visits.transform(covisitation(AS_OF, timedelta(hours=3), top_k=2)).where(
        "source_article_id in ('a', 'c')"
    )
    # Read after the source: 1/gap^2; before it: 0.1/gap^2.
    # a->c: s1 2 after (1/4) + s2 1 after (1) = 1.25; a->b: s1 1 after = 1.0
    # c->a: s1 2 before (0.025) + s2 1 before (0.1) = 0.125; c->b: s1 1 before = 0.1
    expected = spark.createDataFrame(
        [
            ("g1", "a", 1, "c", 1.25),
            ("g1", "a", 2, "b", 1.0),
            ("g1", "c", 1, "a", 0.125),
            ("g1", "c", 2, "b", 0.1),
        ],
        "portal string, source_article_id string, rank int, article_id string, score double",
    )
    assert_approx_df_equality(actual, expected, 1e-9, ignore_row_order=True, ignore_nullable=True)
