"""The article-page ranking (newslake.ranking), against lists worked out by hand."""

from __future__ import annotations

import pytest

from newslake.ranking import (
    PAIR_WEIGHTS,
    ArticlePageParams,
    PairWeights,
    Pick,
    ReaderLists,
    ReaderParams,
    blend,
    covisitation,
    hot_list,
    reader_list,
    top,
    top_by_views,
)
from newslake.settings import Settings


def test_blend_scales_each_list_by_its_best_and_weighs_trending():
    covisited = [("b", 4.0), ("c", 2.0), ("d", 1.0)]
    trending = [("c", 10.0), ("e", 5.0), ("a", 5.0)]

    ranked = blend(
        covisited,
        trending,
        leave_out=["a"],
        params=ArticlePageParams(trending_weight=0.5, trending_joins=True, limit=3),
    )

    # b 4/4 = 1; c 2/4 + 0.5 * 10/10 = 1; d 1/4; e 0.5 * 5/10 = 0.25; a is left out.
    # Ties go by id as text: b before c, d before e.
    assert ranked == [("b", 1.0), ("c", 1.0), ("d", 0.25)]


def test_blend_without_covisitation_is_trending_and_without_weight_is_covisitation():
    trending = [("t", 3.0), ("u", 1.0)]
    joins = ArticlePageParams(trending_weight=0.2, trending_joins=True)
    assert blend([], trending, params=joins) == [
        ("t", pytest.approx(0.2)),
        ("u", pytest.approx(0.2 / 3)),
    ]
    assert blend([("x", 2.0)], trending, params=ArticlePageParams(trending_weight=0)) == [
        ("x", 1.0)
    ]


VISITS = [
    ("s1", "a", 10), ("s1", "b", 11), ("s1", "c", 12),
    ("s2", "c", 20), ("s2", "a", 21),
    ("s3", "a", 1), ("s3", "x", 2),  # before the window (as_of 30, window 25)
]  # fmt: skip


def test_covisitation_weighs_pairs_by_gap_and_more_when_read_after_the_source():
    lists = covisitation(
        VISITS, as_of=30, window=25, top_k=5, weights=PairWeights(decay=2.0, backward=0.1)
    )
    # a: b read 1 after (1); c read 2 after in s1 (1/4) and 1 before in s2 (0.1)
    assert lists["a"] == [("b", 1.0), ("c", pytest.approx(0.35))]
    # b: c read 1 after (1); a read 1 before (0.1)
    assert lists["b"] == [("c", 1.0), ("a", pytest.approx(0.1))]
    # c: a read 1 after in s2 (1) and 2 before in s1 (0.1/4); b read 1 before (0.1)
    assert lists["c"] == [("a", pytest.approx(1.025)), ("b", pytest.approx(0.1))]
    assert "x" not in lists


def test_covisitation_both_ways_by_inverse_gap():
    lists = covisitation(
        VISITS, as_of=30, window=25, top_k=5, weights=PairWeights(decay=1.0, backward=1.0)
    )
    assert lists["a"] == [("c", 1.5), ("b", 1.0)]  # c: 1/2 + 1; b: 1
    assert lists["b"] == [("a", 1.0), ("c", 1.0)]


def test_the_default_pair_weights_are_the_chosen_ones():
    assert PairWeights(decay=2.0, backward=0.1) == PAIR_WEIGHTS
    assert PAIR_WEIGHTS(3) == pytest.approx(1 / 9)
    assert PAIR_WEIGHTS(-3) == pytest.approx(0.1 / 9)


def test_top_by_views_and_top_break_ties_by_id_as_text():
    assert top_by_views([("9", 1), ("10", 2), ("9", 3)], as_of=3, window=3, top_n=2) == [
        ("9", 2.0),
        ("10", 1.0),
    ]
    assert top({9: 1.0, 10: 1.0}, 2) == [(10, 1.0), (9, 1.0)]  # "10" < "9" as text


def test_trending_can_be_kept_to_reordering_the_covisited_articles():
    ranked = blend(
        [("b", 4.0), ("c", 2.0)],
        [("c", 10.0), ("e", 5.0)],
        params=ArticlePageParams(trending_weight=0.5, trending_joins=False),
    )
    # b 1; c 0.5 + 0.5 = 1; e is trending but not co-visited: not in the blend
    assert ranked == [("b", 1.0), ("c", 1.0)]


# ---- the reader's list ----------------------------------------------------------------------
def test_reader_list_sums_the_newest_reads_covisitation_with_decay_and_names_the_main_source():
    lists = ReaderLists(
        recent=["r1", "r2", "r3", "r4"],  # newest first; r4 is past last_reads
        covisited={
            "r1": [("a", 2.0), ("b", 1.0)],
            "r2": [("b", 4.0), ("r1", 4.0), ("c", 2.0)],
            "r3": [("c", 1.0)],
            "r4": [("z", 9.0)],
        },
        trending=[("t", 10.0), ("c", 5.0), ("r2", 10.0)],
    )
    params = ReaderParams(covisited=1.0, trending=0.5, last_reads=3, read_decay=0.5, limit=4)

    picks = reader_list(lists, params)

    # covisited before scaling: a 1; b 0.5 + 0.5 * 1 = 1; c 0.5 * 0.5 + 0.25 * 1 = 0.5
    # (r1 is read: left out). Best is 1, so a 1, b 1, c 0.5.
    # trending scaled: t 1, c 0.5 (r2 is read); times 0.5: t 0.5, c 0.25.
    # a 1 (covisited), b 1 (covisited), c 0.5 + 0.25 = 0.75 (covisited), t 0.5 (trending).
    assert picks == [
        Pick("a", 1.0, "covisited"),
        Pick("b", 1.0, "covisited"),
        Pick("c", 0.75, "covisited"),
        Pick("t", 0.5, "trending"),
    ]


def test_reader_list_tops_up_from_trending_then_popular_and_never_shows_a_read_article():
    lists = ReaderLists(
        recent=["p1"],
        personal=[("x", 3.0)],
        trending=[("t1", 2.0), ("x", 1.0)],
        popular=[("p1", 9.0), ("p2", 8.0), ("p3", 7.0)],
    )
    params = ReaderParams(covisited=1.0, trending=0.0, personal=1.0, popular=0.0, limit=4)

    picks = reader_list(lists, params)

    assert picks == [
        Pick("x", 1.0, "personal"),
        Pick("t1", 0.0, "trending"),
        Pick("p2", 0.0, "popular"),
        Pick("p3", 0.0, "popular"),
    ]


def test_an_anonymous_reader_gets_the_fusion_of_the_shared_lists():
    lists: ReaderLists[str] = ReaderLists(
        hot=[("h", 4.0), ("t", 2.0)], trending=[("t", 6.0), ("u", 3.0)]
    )
    params = ReaderParams(hot=1.0, trending=1.0, limit=3)

    # h 1 (hot); t 0.5 + 1 = 1.5, of which trending gives most; u 0.5 (trending)
    assert reader_list(lists, params) == [
        Pick("t", 1.5, "trending"),
        Pick("h", 1.0, "hot"),
        Pick("u", 0.5, "trending"),
    ]


def test_a_tie_of_contributions_goes_to_the_source_named_first():
    lists = ReaderLists(recent=["r"], covisited={"r": [("a", 1.0)]}, trending=[("a", 5.0)])
    assert reader_list(lists, ReaderParams(covisited=1.0, trending=1.0, limit=1)) == [
        Pick("a", 2.0, "covisited")
    ]


def test_reader_params_come_from_the_settings():
    settings = Settings(reader_w_hot=0.25, reader_w_personal=0.5, reader_last_reads=5)
    params = ReaderParams.from_settings(settings, limit=7)
    assert (params.hot, params.personal, params.last_reads, params.limit) == (0.25, 0.5, 5, 7)
    assert (params.covisited, params.read_decay) == (
        settings.reader_w_covisited,
        settings.reader_read_decay,
    )


def test_hot_list_halves_each_buckets_views_every_half_life_of_its_age():
    buckets = {910: {"h1": 2, "h2": 1}, 790: {"h2": 4}, 1000: {"h3": 1}}
    # middles 940, 820 and 1030 (a bucket not over yet counts in full): ages 60, 180, 0
    ranked = hot_list(buckets, as_of=1000, bucket_s=60, half_life_s=120, top_n=2)
    # h2: 0.5 ** 0.5 + 4 * 0.5 ** 1.5 = 2.1213; h1: 2 * 0.5 ** 0.5 = 1.4142; h3: 1
    assert ranked == [
        ("h2", pytest.approx(2.12132, abs=1e-5)),
        ("h1", pytest.approx(1.41421, abs=1e-5)),
    ]
