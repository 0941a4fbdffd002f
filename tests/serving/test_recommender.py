"""Recommender's fallback chains, over an in-memory reader (tests/utils/fakes.FakeReader)."""

from __future__ import annotations

from typing import Any

import pytest

from newslake.ranking import ReaderParams
from newslake.store import ScoredItem
from serving.recommender import Answer, HotParams, Recommendation, Recommender
from tests.utils.clock import FakeClock

PERSONAL = [ScoredItem("a-101", 0.91), ScoredItem("a-102", 0.55), ScoredItem("a-103", 0.12)]
TRENDING = [ScoredItem("t-1", 40.0), ScoredItem("a-101", 30.0), ScoredItem("t-2", 20.0)]
POPULAR = [ScoredItem("p-1", 120.0), ScoredItem("t-1", 90.0), ScoredItem("p-2", 80.0)]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1000.0)


@pytest.fixture
def reader(fake_reader: Any) -> Any:
    """g1 on version v2: alice's list (and a stale one in v1), trending and popular lists;
    bob has no personal list."""
    fake_reader.versions["g1"] = "v2"
    fake_reader.records[("g1#user#alice", "v2")] = PERSONAL
    fake_reader.records[("g1#user#alice", "v1")] = [ScoredItem("stale", 1.0)]
    fake_reader.records[("g1#trending", "live")] = TRENDING
    fake_reader.records[("g1#popular", "v2")] = POPULAR
    return fake_reader


NOW = 1_795_000_000.0  # epoch seconds of the recommender's wall clock
READER_PARAMS = ReaderParams(
    covisited=1.0, hot=0.0, trending=0.5, personal=1.0, popular=0.0, last_reads=2, read_decay=0.5
)


def _recommender(reader: Any, clock: FakeClock | None = None) -> Recommender:
    return Recommender(
        reader,
        ttl_s=5.0,
        clock=clock or FakeClock(1000.0),
        reader_params=READER_PARAMS,
        lend_minutes=30,
        wall_clock=lambda: NOW,
    )


@pytest.fixture
def recommender(reader: Any, clock: FakeClock) -> Recommender:
    return _recommender(reader, clock)


def _items(*triples: tuple[str, float, Any]) -> tuple[Recommendation, ...]:
    return tuple(Recommendation(a, s, src) for a, s, src in triples)


def _rounded(answer: Answer) -> list[tuple[str, float, str]]:
    return [(i.article_id, round(i.score, 4), i.source) for i in answer.items]


# ---- a reader's recommendations ----------------------------------------------------------
# Scaled by their best and weighed (READER_PARAMS): personal a-101 1, a-102 0.55/0.91,
# a-103 0.12/0.91; trending x 0.5: t-1 0.5, a-101 0.375, t-2 0.25; popular only tops up.
def test_reader_list_fuses_the_personal_list_with_trending(recommender: Recommender) -> None:
    answer = recommender.for_user("g1", "alice", limit=3)

    assert (answer.model_version, answer.degraded) == ("v2", False)
    assert _rounded(answer) == [
        ("a-101", 1.375, "personal"),  # 1 + 0.375: personal gave most
        ("a-102", 0.6044, "personal"),
        ("t-1", 0.5, "trending"),
    ]


def test_recent_reads_are_left_out_and_lend_their_covisitation(
    recommender: Recommender, reader: Any
) -> None:
    reader.records[("g1#recent#alice", "live")] = [
        ScoredItem("x-9", NOW - 120),
        ScoredItem("a-102", NOW - 60),  # newest: its list weighs 1, x-9's 0.5
        ScoredItem("old-1", NOW - 31 * 60),  # read 31 min ago: left out, lends nothing
    ]
    reader.records[("g1#related#a-102", "live")] = [
        ScoredItem("c-1", 2.0),
        ScoredItem("a-101", 1.0),
    ]
    reader.records[("g1#related#x-9", "live")] = [ScoredItem("c-2", 4.0), ScoredItem("c-1", 4.0)]
    reader.records[("g1#related#old-1", "live")] = [ScoredItem("z-1", 9.0)]

    answer = recommender.for_user("g1", "alice", limit=6)

    # covisited: c-1 1 + 0.5 = 1.5, a-101 0.5, c-2 0.5; scaled by 1.5: 1, 1/3, 1/3.
    # a-101: 1/3 + 1 (personal) + 0.375 (trending); a-102 is read, so out.
    assert _rounded(answer) == [
        ("a-101", 1.7083, "personal"),
        ("c-1", 1.0, "covisited"),
        ("t-1", 0.5, "trending"),
        ("c-2", 0.3333, "covisited"),
        ("t-2", 0.25, "trending"),
        ("a-103", 0.1319, "personal"),
    ]


def test_covisitation_of_recent_reads_is_one_round_trip_then_cached(
    recommender: Recommender, reader: Any
) -> None:
    reader.records[("g1#recent#alice", "live")] = [
        ScoredItem("x-9", NOW - 120),
        ScoredItem("a-102", NOW - 60),
        ScoredItem("x-8", NOW - 180),  # third newest: past last_reads (2)
    ]
    # pointer, reader, weights, trending, popular, related
    recommender.for_user("g1", "alice", limit=3)
    first = reader.calls

    recommender.for_user("g1", "alice", limit=3)  # only the reader's keys

    assert (first, reader.calls) == (6, 7)


def test_a_short_list_is_topped_up_from_trending_then_popular(
    recommender: Recommender, reader: Any
) -> None:
    reader.records[("g1#recent#alice", "live")] = [ScoredItem("a-103", NOW), ScoredItem("t-2", NOW)]

    answer = recommender.for_user("g1", "alice", limit=6)

    # each article once: t-1 is in popular too; popular has no weight, so it only tops up
    assert _rounded(answer) == [
        ("a-101", 1.375, "personal"),
        ("a-102", 0.6044, "personal"),
        ("t-1", 0.5, "trending"),
        ("p-1", 0.0, "popular"),
        ("p-2", 0.0, "popular"),
    ]


def test_reader_without_a_personal_list_gets_trending_then_popular(
    recommender: Recommender,
) -> None:
    answer = recommender.for_user("g1", "bob", limit=4)

    assert _rounded(answer) == [
        ("t-1", 0.5, "trending"),
        ("a-101", 0.375, "trending"),
        ("t-2", 0.25, "trending"),
        ("p-1", 0.0, "popular"),
    ]


def test_empty_personal_list_falls_back_like_a_missing_one(
    recommender: Recommender, reader: Any
) -> None:
    reader.records[("g1#user#carol", "v2")] = []

    answer = recommender.for_user("g1", "carol", limit=1)

    assert _rounded(answer) == [("t-1", 0.5, "trending")]


def test_portal_without_a_model_yet_serves_trending(fake_reader: Any) -> None:
    fake_reader.records[("ge#trending", "live")] = [ScoredItem("t-7", 5.0), ScoredItem("t-8", 4.0)]
    fake_reader.records[("ge#recent#bob", "live")] = [ScoredItem("t-7", NOW)]

    answer = _recommender(fake_reader).for_user("ge", "bob", limit=10)

    assert (answer.model_version, _rounded(answer)) == (None, [("t-8", 0.4, "trending")])


def test_portal_with_nothing_published_answers_empty(fake_reader: Any) -> None:
    assert _recommender(fake_reader).for_user("ge", "bob", limit=10) == Answer(None, ())


def test_personal_list_and_recent_reads_are_one_round_trip(
    recommender: Recommender, reader: Any
) -> None:
    recommender.for_user("g1", "alice", limit=3)  # pointer, reader, weights, trending, popular
    calls = reader.calls

    recommender.for_user("g1", "alice", limit=3)

    assert (calls, reader.calls) == (5, 6)


def test_the_personal_lists_weigh_what_the_gate_earned_for_the_version(
    recommender: Recommender, reader: Any
) -> None:
    reader.records[("g1#weights", "v2")] = [ScoredItem("personal", 0.0)]  # ALS fell short

    # trending alone (x 0.5): t-1 0.5, a-101 0.375, t-2 0.25
    assert _rounded(recommender.for_user("g1", "alice", limit=3)) == [
        ("t-1", 0.5, "trending"),
        ("a-101", 0.375, "trending"),
        ("t-2", 0.25, "trending"),
    ]


def test_a_variant_that_sets_the_personal_weight_keeps_it_over_the_earned_one(
    recommender: Recommender, reader: Any
) -> None:
    reader.records[("g1#weights", "v2")] = [ScoredItem("personal", 0.0)]
    variant = recommender.with_reader_params(READER_PARAMS, personal_fixed=True)  # personal 1

    assert _rounded(variant.for_user("g1", "alice", limit=3)) == [
        ("a-101", 1.375, "personal"),
        ("a-102", 0.6044, "personal"),
        ("t-1", 0.5, "trending"),
    ]


def test_a_version_that_earned_a_weight_uses_it_over_the_settings(
    recommender: Recommender, reader: Any
) -> None:
    reader.records[("g1#weights", "v2")] = [ScoredItem("personal", 0.25)]

    # personal x 0.25: a-101 0.25, a-102 0.1511, a-103 0.033; trending x 0.5 as above
    assert _rounded(recommender.for_user("g1", "alice", limit=4)) == [
        ("a-101", 0.625, "trending"),  # 0.25 + 0.375: trending gave most
        ("t-1", 0.5, "trending"),
        ("t-2", 0.25, "trending"),
        ("a-102", 0.1511, "personal"),
    ]


def test_the_live_hot_list_weighs_each_bucket_by_its_age(reader: Any) -> None:
    reader.hot["g1"] = {
        int(NOW) - 90: {"h1": 2, "h2": 1},  # middle 60 s ago: weight 0.5 ** 0.5
        int(NOW) - 210: {"h2": 4},  # middle 180 s ago: weight 0.5 ** 1.5
        int(NOW) - 7200: {"old": 99},  # before keep_s: not read
    }
    hot_only = ReaderParams(
        covisited=0.0, hot=1.0, trending=0.0, personal=0.0, popular=0.0, limit=2
    )
    recommender = Recommender(
        reader,
        reader_params=hot_only,
        hot_params=HotParams(bucket_s=60, half_life_s=120.0, keep_s=3600, top_n=20),
        wall_clock=lambda: NOW,
    )

    answer = recommender.for_user("g1", "bob", limit=2)

    # h2 0.7071 + 1.4142 = 2.1213 (best: 1); h1 1.4142 / 2.1213
    assert _rounded(answer) == [("h2", 1.0, "hot"), ("h1", 0.6667, "hot")]


def test_a_list_short_of_articles_is_topped_up_from_hot(fake_reader: Any) -> None:
    fake_reader.records[("ge#trending", "live")] = [ScoredItem("t-7", 5.0)]
    fake_reader.hot["ge"] = {int(NOW) - 30: {"h-1": 3, "t-7": 9, "h-2": 1}}

    answer = _recommender(fake_reader).for_user("ge", "bob", limit=3)

    # no model yet, so no popular; hot has no weight but tops up, in its own order
    assert (answer.model_version, _rounded(answer)) == (
        None,
        [("t-7", 0.5, "trending"), ("h-1", 0.0, "hot"), ("h-2", 0.0, "hot")],
    )


# ---- the cache and the store going down --------------------------------------------------
def test_shared_lists_are_read_once_within_the_ttl(recommender: Recommender, reader: Any) -> None:
    # pointer, bob's keys, weights, trending, popular, and hot (10 is more than those hold)
    recommender.for_user("g1", "bob", limit=10)
    first = reader.calls

    recommender.for_user("g1", "dan", limit=10)  # only dan's keys

    assert (first, reader.calls) == (6, 7)


def test_shared_lists_are_read_again_after_the_ttl(
    recommender: Recommender, reader: Any, clock: FakeClock
) -> None:
    recommender.trending("g1", limit=10)
    reader.records[("g1#trending", "live")] = [ScoredItem("t-new", 9.0)]
    clock.now += 5.0

    answer = recommender.trending("g1", limit=1)

    assert answer.items == _items(("t-new", 9.0, "trending"))


def test_store_down_serves_last_known_lists_degraded(
    recommender: Recommender, reader: Any, clock: FakeClock
) -> None:
    recommender.for_user("g1", "bob", limit=10)  # reads, and so remembers, the shared lists
    reader.fail = True
    clock.now += 60.0

    answer = recommender.for_user("g1", "alice", limit=4)

    assert (answer.model_version, answer.degraded) == ("v2", True)
    assert _rounded(answer) == [
        ("t-1", 0.5, "trending"),
        ("a-101", 0.375, "trending"),
        ("t-2", 0.25, "trending"),
        ("p-1", 0.0, "popular"),
    ]


def test_store_down_within_the_ttl_still_marks_the_missing_personal_list(
    recommender: Recommender, reader: Any
) -> None:
    recommender.for_user("g1", "bob", limit=10)
    reader.fail = True

    answer = recommender.for_user("g1", "alice", limit=1)

    assert (answer.degraded, _rounded(answer)) == (True, [("t-1", 0.5, "trending")])


def test_store_down_before_anything_was_read_answers_empty_degraded(
    recommender: Recommender, reader: Any
) -> None:
    reader.fail = True

    assert recommender.for_user("g1", "alice", limit=10) == Answer(None, (), degraded=True)


def test_last_known_lists_are_kept_per_portal(recommender: Recommender, reader: Any) -> None:
    recommender.for_user("g1", "bob", limit=10)
    reader.fail = True

    assert recommender.for_user("ge", "bob", limit=10) == Answer(None, (), degraded=True)


# ---- related, trending, popular ---------------------------------------------------------
def test_related_blends_covisitation_with_trending_then_nightly_then_popular(
    recommender: Recommender, reader: Any
) -> None:
    reader.records[("g1#related#a-5", "live")] = [ScoredItem("c-1", 12.0), ScoredItem("a-5", 9.0)]
    reader.records[("g1#related#a-5", "v2")] = [ScoredItem("c-1", 0.8), ScoredItem("r-1", 0.7)]

    answer = recommender.related("g1", "a-5", limit=6)

    # The blend (trending weight 0.5, trending articles join): c-1 12/12 = 1; t-1 0.5 * 40/40;
    # a-101 0.5 * 30/40; t-2 0.5 * 20/40. Then the nightly list's r-1, then popular.
    # The article itself is never recommended on its own page.
    assert answer == Answer(
        "v2",
        _items(
            ("c-1", 12.0, "covisited"),
            ("t-1", 40.0, "trending"),
            ("a-101", 30.0, "trending"),
            ("t-2", 20.0, "trending"),
            ("r-1", 0.7, "related"),
            ("p-1", 120.0, "popular"),
        ),
    )


def test_related_of_an_article_nobody_read_is_trending(recommender: Recommender) -> None:
    answer = recommender.related("g1", "t-1", limit=2)

    assert answer == Answer("v2", _items(("a-101", 30.0, "trending"), ("t-2", 20.0, "trending")))


def test_related_lists_are_cached_per_article(recommender: Recommender, reader: Any) -> None:
    recommender.related("g1", "a-5", limit=4)
    calls = reader.calls

    recommender.related("g1", "a-5", limit=4)
    recommender.related("g1", "a-6", limit=4)

    assert reader.calls - calls == 1  # a-6's lists only


def test_trending_is_topped_up_from_popular(recommender: Recommender) -> None:
    answer = recommender.trending("g1", limit=5)

    assert answer == Answer(
        "v2",
        _items(
            ("t-1", 40.0, "trending"),
            ("a-101", 30.0, "trending"),
            ("t-2", 20.0, "trending"),
            ("p-1", 120.0, "popular"),
            ("p-2", 80.0, "popular"),
        ),
    )


def test_popular_is_the_active_versions_list(recommender: Recommender) -> None:
    answer = recommender.popular("g1", limit=2)

    assert answer == Answer("v2", _items(("p-1", 120.0, "popular"), ("t-1", 90.0, "popular")))


def test_popular_before_the_first_model_is_empty(fake_reader: Any) -> None:
    assert Recommender(fake_reader).popular("ge", limit=5) == Answer(None, ())
