"""The blend's parts on hand-written rows; RRF_K = 10, so rank r of a source with weight w
adds w / (10 + r)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from chispa import assert_approx_df_equality, assert_df_equality

from newslake.settings import Settings
from spark_jobs import blend

RANKED = "user_id string, rank int, article_id string, score double"
PAIRS = "user_id string, article_id string"


def test_fuse_sums_weighted_reciprocal_ranks_and_leaves_out_read_and_stale(spark):
    trending = spark.createDataFrame(
        [("u1", 1, "t1", 9.0), ("u1", 2, "c1", 8.0), ("u1", 3, "old", 7.0), ("u1", 4, "r1", 6.0)],
        RANKED,
    )
    covisit = spark.createDataFrame([("u1", 1, "c1", 3.0), ("u1", 2, "t1", 1.0)], RANKED)
    als = spark.createDataFrame([("u1", 1, "a1", 0.9)], RANKED)
    reads = spark.createDataFrame([("u1", "r1")], PAIRS)
    fresh = spark.createDataFrame([("t1",), ("c1",), ("a1",), ("r1",)], "article_id string")
    actual = blend.fuse(
        {"trending": trending, "covisit": covisit, "als": als},
        {"trending": 1.0, "covisit": 2.0, "als": 0.5},
        reads=reads,
        fresh=fresh,
        top_n=3,
    )
    expected = spark.createDataFrame(
        [
            ("u1", 1, "c1", 1 / 12 + 2 / 11),
            ("u1", 2, "t1", 1 / 11 + 2 / 12),
            ("u1", 3, "a1", 0.5 / 11),
        ],
        RANKED,
    )
    assert_approx_df_equality(actual, expected, 1e-12, ignore_row_order=True, ignore_nullable=True)


def test_fuse_skips_a_source_with_weight_zero_and_refuses_all_zero(spark):
    a = spark.createDataFrame([("u1", 1, "x", 1.0)], RANKED)
    b = spark.createDataFrame([("u1", 1, "y", 1.0)], RANKED)
    nothing = spark.createDataFrame([], PAIRS)
    fresh = spark.createDataFrame([("x",), ("y",)], "article_id string")
    out = blend.fuse({"a": a, "b": b}, {"a": 1.0, "b": 0.0}, reads=nothing, fresh=fresh, top_n=5)
    assert [r["article_id"] for r in out.collect()] == ["x"]
    with pytest.raises(ValueError, match="every blend weight is 0"):
        blend.fuse({"a": a}, {"a": 0.0}, reads=nothing, fresh=fresh, top_n=5)


def test_unread_drops_read_articles_and_closes_the_ranks(spark):
    ranking = spark.createDataFrame(
        [("u1", 1, "a", 3.0), ("u1", 2, "b", 2.0), ("u1", 3, "c", 1.0), ("u2", 1, "a", 3.0)],
        RANKED,
    )
    reads = spark.createDataFrame([("u1", "a")], PAIRS)
    expected = spark.createDataFrame(
        [("u1", 1, "b", 2.0), ("u1", 2, "c", 1.0), ("u2", 1, "a", 3.0)], RANKED
    )
    assert_df_equality(
        ranking.transform(blend.unread(reads, 2)),
        expected,
        ignore_row_order=True,
        ignore_nullable=True,
    )


def test_covisited_sums_the_related_scores_of_the_last_reads(spark):
    related = spark.createDataFrame(
        [("r1", 1, "x", 1.0), ("r1", 2, "y", 0.5), ("r2", 1, "y", 1.0), ("zz", 1, "w", 9.0)],
        "source_article_id string, rank int, article_id string, score double",
    )
    reads = spark.createDataFrame([("u1", "r1"), ("u1", "r2")], PAIRS)
    expected = spark.createDataFrame([("u1", 1, "y", 1.5), ("u1", 2, "x", 1.0)], RANKED)
    assert_df_equality(
        reads.transform(blend.covisited(related, 5)),
        expected,
        ignore_row_order=True,
        ignore_nullable=True,
    )


def test_last_reads_keeps_each_users_latest_distinct_reads_before_the_cutoff(spark):
    visits = spark.createDataFrame(
        [
            ("u1", "a", datetime(2026, 1, 1, 9)),
            ("u1", "b", datetime(2026, 1, 1, 10)),
            ("u1", "a", datetime(2026, 1, 1, 11)),  # a again: latest
            ("u1", "c", datetime(2026, 1, 1, 8)),  # oldest: beyond n = 2
            ("u1", "d", datetime(2026, 1, 1, 13)),  # after the cutoff
        ],
        "user_id string, article_id string, visit_start timestamp",
    )
    actual = visits.transform(blend.last_reads(datetime(2026, 1, 1, 12), 2))
    expected = spark.createDataFrame([("u1", "a"), ("u1", "b")], PAIRS)
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def _signal_params():
    return blend.SignalParams(
        freshness_horizon=timedelta(hours=168),
        trending_window=timedelta(hours=3),
        trending_half_life=timedelta(minutes=30),
        hot_half_life=timedelta(minutes=2),
        popular_window=timedelta(hours=24),
        related_window=timedelta(hours=24),
        last_reads=3,
        candidates=10,
    )


def test_hot_halves_views_every_two_minutes_so_the_last_minutes_lead(spark):
    visits = spark.createDataFrame(
        [
            ("g1", "r1", "s1", "x", datetime(2026, 1, 1, 11, 30)),  # 30 min old
            ("g1", "r2", "s2", "x", datetime(2026, 1, 1, 11, 30)),
            ("g1", "r3", "s3", "y", datetime(2026, 1, 1, 11, 58)),  # 2 min old
            ("g1", "r4", "s4", "z", datetime(2026, 1, 1, 8, 0)),  # outside the 3 h window
        ],
        "portal string, user_id string, session_id string, article_id string, "
        "visit_start timestamp",
    )
    sig = blend.signals(visits, datetime(2026, 1, 1, 12), _signal_params())
    ranked = "rank int, article_id string, score double"
    # trending (half-life 30 min): x 2 x 0.5 = 1.0 before y 0.5 ** (2/30) = 0.9548
    expected_trending = spark.createDataFrame([(1, "x", 1.0), (2, "y", 0.5 ** (2 / 30))], ranked)
    # hot (half-life 2 min): y 0.5 ** 1 = 0.5 before x 2 x 0.5 ** 15 = 6.1035e-5
    expected_hot = spark.createDataFrame([(1, "y", 0.5), (2, "x", 2 * 0.5**15)], ranked)
    assert_approx_df_equality(
        sig.trending, expected_trending, 1e-12, ignore_row_order=True, ignore_nullable=True
    )
    assert_approx_df_equality(
        sig.hot, expected_hot, 1e-12, ignore_row_order=True, ignore_nullable=True
    )


def test_source_lists_give_every_user_the_hot_list(spark):
    visits = spark.createDataFrame(
        [
            ("g1", "r1", "s1", "x", datetime(2026, 1, 1, 11, 30)),
            ("g1", "r2", "s2", "y", datetime(2026, 1, 1, 11, 58)),
        ],
        "portal string, user_id string, session_id string, article_id string, "
        "visit_start timestamp",
    )
    sig = blend.signals(visits, datetime(2026, 1, 1, 12), _signal_params())
    users = spark.createDataFrame([("u1",), ("u2",)], "user_id string")
    hot = blend.source_lists(sig, users, None)[blend.HOT].select("user_id", "rank", "article_id")
    expected = spark.createDataFrame(
        [("u1", 1, "y"), ("u1", 2, "x"), ("u2", 1, "y"), ("u2", 2, "x")],
        "user_id string, rank int, article_id string",
    )
    assert_df_equality(hot, expected, ignore_row_order=True, ignore_nullable=True)


def test_the_search_tries_hot_alone_first_and_keeps_hot_in_every_blend():
    grid = blend.weight_grid(quick=True)
    assert grid[0] == blend.BlendWeights(trending=0.0, covisit=0.0, als=0.0, popular=0.0, hot=1.0)
    assert {w.hot for w in grid} == {1.0}
    assert len(grid) == 8


def test_weights_before_any_search_are_the_settings():
    settings = Settings(blend_w_hot=0.5, blend_w_covisit=2.0)
    assert blend.BlendWeights.of(settings) == blend.BlendWeights(
        trending=0.0, covisit=2.0, als=0.0, popular=0.0, hot=0.5
    )
