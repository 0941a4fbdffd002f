"""Two implementations of the co-visitation and trending lists agree: Spark's (what the
streaming job publishes) and newslake.ranking's (what the evaluation scores)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newslake import ranking
from spark_jobs.fresh import covisitation
from spark_jobs.popularity import top_by_views

pytestmark = pytest.mark.slow

AS_OF = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)
T0 = datetime(2026, 1, 8, 11, 0, tzinfo=UTC)
VISITS = [  # (session, article, minutes after 11:00; negative: before the 3 h window)
    ("s1", "a", 0),
    ("s1", "b", 1),
    ("s1", "c", 2),
    ("s1", "d", 3),
    ("s2", "a", 5),
    ("s2", "c", 6),
    ("s3", "b", 10),
    ("s3", "a", 11),
    ("s3", "a", 12),  # read again: counts once, at its first read
    ("s4", "a", -200),
    ("s4", "z", 20),
]


SCHEMA = (
    "portal string, session_id string, user_id string, article_id string, visit_start timestamp"
)


def _spark_rows(df):
    return sorted(
        (r.source_article_id, r.rank, r.article_id, round(r.score, 9)) for r in df.collect()
    )


def test_spark_covisitation_equals_newslake_ranking_and_the_hand_count(spark):
    frame = spark.createDataFrame(
        [("g1", s, "u", a, (T0 + timedelta(minutes=m)).replace(tzinfo=None)) for s, a, m in VISITS],
        SCHEMA,
    )
    spark_lists = _spark_rows(frame.transform(covisitation(AS_OF, timedelta(hours=3), top_k=3)))
    plain = ranking.covisitation(
        ((s, a, int((T0 + timedelta(minutes=m)).timestamp())) for s, a, m in VISITS),
        as_of=int(AS_OF.timestamp()),
        window=3 * 3600,
        top_k=3,
    )
    plain_rows = sorted(
        (src, i + 1, a, round(sc, 9))
        for src, items in plain.items()
        for i, (a, sc) in enumerate(items)
    )
    assert spark_lists == plain_rows
    # By hand (after the source 1/gap^2, before it 0.1/gap^2): a-c = s1 2 after (1/4) + s2
    # 1 after (1); a-b = s1 1 after (1) + s3 1 before (0.1); a-d = s1 3 after (1/9).
    assert plain["a"] == [("c", 1.25), ("b", pytest.approx(1.1)), ("d", pytest.approx(1 / 9))]
    assert "z" not in plain  # its only partner was read before the window


def test_spark_top_by_views_equals_newslake_ranking(spark):
    frame = spark.createDataFrame(
        [("g1", a, (T0 + timedelta(minutes=m)).replace(tzinfo=None)) for _, a, m in VISITS],
        "portal string, article_id string, visit_start timestamp",
    )
    rows = frame.transform(top_by_views(AS_OF, timedelta(hours=3), top_n=3)).collect()
    spark_list = [(r.article_id, float(r.views)) for r in sorted(rows, key=lambda r: r.rank)]
    plain = ranking.top_by_views(
        ((a, int((T0 + timedelta(minutes=m)).timestamp())) for _, a, m in VISITS),
        as_of=int(AS_OF.timestamp()),
        window=3 * 3600,
        top_n=3,
    )
    assert spark_list == plain == [("a", 4.0), ("b", 2.0), ("c", 2.0)]
