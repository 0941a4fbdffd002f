"""Recommender's fallback chains, over an in-memory reader (tests/utils/fakes.FakeReader)."""

from __future__ import annotations

from typing import Any

import pytest

from newslake.store import ScoredItem
from serving.recommender import Answer, Recommendation, Recommender

PERSONAL = [ScoredItem("a-101", 0.91), ScoredItem("a-102", 0.55), ScoredItem("a-103", 0.12)]
TRENDING = [ScoredItem("t-1", 40.0), ScoredItem("a-101", 30.0), ScoredItem("t-2", 20.0)]
POPULAR = [ScoredItem("p-1", 120.0), ScoredItem("t-1", 90.0), ScoredItem("p-2", 80.0)]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


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


@pytest.fixture
def recommender(reader: Any, clock: FakeClock) -> Recommender:
    return Recommender(reader, ttl_s=5.0, clock=clock)


def _items(*triples: tuple[str, float, Any]) -> tuple[Recommendation, ...]:
    return tuple(Recommendation(a, s, src) for a, s, src in triples)


# ---- a reader's recommendations ----------------------------------------------------------
def test_reader_with_a_personal_list_gets_it_best_first(recommender: Recommender) -> None:
    answer = recommender.for_user("g1", "alice", limit=3)

    assert answer == Answer(
        "v2",
        _items(
            ("a-101", 0.91, "personal"), ("a-102", 0.55, "personal"), ("a-103", 0.12, "personal")
        ),
    )


def test_limit_keeps_the_best(recommender: Recommender) -> None:
    answer = recommender.for_user("g1", "alice", limit=2)

    assert [i.article_id for i in answer.items] == ["a-101", "a-102"]


def test_articles_read_lately_are_left_out(recommender: Recommender, reader: Any) -> None:
    reader.records[("g1#recent#alice", "live")] = [
        ScoredItem("a-102", 1_795_000_000.0),
        ScoredItem("x-9", 1_794_990_000.0),
    ]

    answer = recommender.for_user("g1", "alice", limit=2)

    assert answer.items == _items(("a-101", 0.91, "personal"), ("a-103", 0.12, "personal"))


def test_too_few_left_are_topped_up_from_trending_then_popular(
    recommender: Recommender, reader: Any
) -> None:
    reader.records[("g1#recent#alice", "live")] = [ScoredItem("a-103", 1.0), ScoredItem("t-2", 1.0)]

    answer = recommender.for_user("g1", "alice", limit=6)

    # a-101 is in trending too and t-1 in popular too: each article once, under its first source.
    assert answer == Answer(
        "v2",
        _items(
            ("a-101", 0.91, "personal"),
            ("a-102", 0.55, "personal"),
            ("t-1", 40.0, "trending"),
            ("p-1", 120.0, "popular"),
            ("p-2", 80.0, "popular"),
        ),
    )


def test_reader_without_a_personal_list_gets_trending_then_popular(
    recommender: Recommender,
) -> None:
    answer = recommender.for_user("g1", "bob", limit=4)

    assert answer == Answer(
        "v2",
        _items(
            ("t-1", 40.0, "trending"),
            ("a-101", 30.0, "trending"),
            ("t-2", 20.0, "trending"),
            ("p-1", 120.0, "popular"),
        ),
    )


def test_empty_personal_list_falls_back_like_a_missing_one(
    recommender: Recommender, reader: Any
) -> None:
    reader.records[("g1#user#carol", "v2")] = []

    answer = recommender.for_user("g1", "carol", limit=1)

    assert answer.items == _items(("t-1", 40.0, "trending"))


def test_portal_without_a_model_yet_serves_trending(fake_reader: Any) -> None:
    fake_reader.records[("ge#trending", "live")] = [ScoredItem("t-7", 5.0), ScoredItem("t-8", 4.0)]
    fake_reader.records[("ge#recent#bob", "live")] = [ScoredItem("t-7", 1.0)]

    answer = Recommender(fake_reader).for_user("ge", "bob", limit=10)

    assert answer == Answer(None, _items(("t-8", 4.0, "trending")))


def test_portal_with_nothing_published_answers_empty(fake_reader: Any) -> None:
    assert Recommender(fake_reader).for_user("ge", "bob", limit=10) == Answer(None, ())


def test_personal_list_and_recent_reads_are_one_round_trip(
    recommender: Recommender, reader: Any
) -> None:
    recommender.for_user("g1", "alice", limit=3)  # pointer, then personal + recent reads
    calls = reader.calls

    recommender.for_user("g1", "alice", limit=3)

    assert (calls, reader.calls) == (2, 3)


# ---- the cache and the store going down --------------------------------------------------
def test_shared_lists_are_read_once_within_the_ttl(recommender: Recommender, reader: Any) -> None:
    recommender.for_user("g1", "bob", limit=10)  # pointer, bob's keys, trending, popular
    first = reader.calls

    recommender.for_user("g1", "dan", limit=10)  # only dan's keys

    assert (first, reader.calls) == (4, 5)


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

    assert answer == Answer(
        "v2",
        _items(
            ("t-1", 40.0, "trending"),
            ("a-101", 30.0, "trending"),
            ("t-2", 20.0, "trending"),
            ("p-1", 120.0, "popular"),
        ),
        degraded=True,
    )


def test_store_down_within_the_ttl_still_marks_the_missing_personal_list(
    recommender: Recommender, reader: Any
) -> None:
    recommender.for_user("g1", "bob", limit=10)
    reader.fail = True

    answer = recommender.for_user("g1", "alice", limit=1)

    assert answer == Answer("v2", _items(("t-1", 40.0, "trending")), degraded=True)


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
