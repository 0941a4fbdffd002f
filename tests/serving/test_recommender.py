"""Recommender's choice of list, over an in-memory reader (see conftest.FakeReader)."""

from __future__ import annotations

from typing import Any

from newslake.store import ScoredItem
from serving.recommender import Recommendation, Recommendations, Recommender

PERSONAL = [ScoredItem("a-101", 0.91), ScoredItem("a-102", 0.55), ScoredItem("a-103", 0.12)]
POPULAR = [ScoredItem("p-1", 120.0), ScoredItem("p-2", 80.0)]


def _published(reader: Any) -> Any:
    """g1 on version v2, alice with a personal list, a popular list; bob has no personal list."""
    reader.versions["g1"] = "v2"
    reader.records[("g1#user#alice", "v2")] = PERSONAL
    reader.records[("g1#user#alice", "v1")] = [ScoredItem("stale", 1.0)]
    reader.records[("g1#popular", "v2")] = POPULAR
    return reader


def test_reader_with_a_personal_list_gets_it_best_first(fake_reader: Any) -> None:
    recs = Recommender(_published(fake_reader)).for_user("g1", "alice", limit=10)

    assert recs == Recommendations(
        portal="g1",
        user_id="alice",
        model_version="v2",
        items=(
            Recommendation("a-101", 0.91, "personal"),
            Recommendation("a-102", 0.55, "personal"),
            Recommendation("a-103", 0.12, "personal"),
        ),
        degraded=False,
    )


def test_limit_keeps_the_best(fake_reader: Any) -> None:
    recs = Recommender(_published(fake_reader)).for_user("g1", "alice", limit=2)

    assert [i.article_id for i in recs.items] == ["a-101", "a-102"]


def test_reader_without_a_personal_list_gets_the_popular_one(fake_reader: Any) -> None:
    recs = Recommender(_published(fake_reader)).for_user("g1", "bob", limit=10)

    assert recs == Recommendations(
        portal="g1",
        user_id="bob",
        model_version="v2",
        items=(Recommendation("p-1", 120.0, "popular"), Recommendation("p-2", 80.0, "popular")),
    )


def test_empty_personal_list_falls_back_to_popular(fake_reader: Any) -> None:
    reader = _published(fake_reader)
    reader.records[("g1#user#carol", "v2")] = []

    recs = Recommender(reader).for_user("g1", "carol", limit=10)

    assert [(i.article_id, i.source) for i in recs.items] == [
        ("p-1", "popular"),
        ("p-2", "popular"),
    ]


def test_portal_without_a_model_yet_gets_nothing(fake_reader: Any) -> None:
    recs = Recommender(fake_reader).for_user("ge", "alice", limit=10)

    assert recs == Recommendations("ge", "alice", None, (), degraded=False)


def test_version_without_a_popular_list_gets_nothing(fake_reader: Any) -> None:
    fake_reader.versions["ge"] = "v9"

    recs = Recommender(fake_reader).for_user("ge", "bob", limit=10)

    assert recs == Recommendations("ge", "bob", "v9", (), degraded=False)


def test_store_down_serves_the_last_popular_list_degraded(fake_reader: Any) -> None:
    recommender = Recommender(_published(fake_reader))
    recommender.for_user("g1", "bob", limit=10)  # reads, and so remembers, g1's popular list
    fake_reader.fail = True

    recs = recommender.for_user("g1", "alice", limit=1)

    assert recs == Recommendations(
        "g1", "alice", "v2", (Recommendation("p-1", 120.0, "popular"),), degraded=True
    )


def test_store_down_before_any_popular_read_serves_nothing_degraded(fake_reader: Any) -> None:
    recommender = Recommender(_published(fake_reader))
    recommender.for_user("g1", "alice", limit=10)  # personal: the popular list is never read
    fake_reader.fail = True

    recs = recommender.for_user("g1", "alice", limit=10)

    assert recs == Recommendations("g1", "alice", None, (), degraded=True)


def test_last_popular_list_is_kept_per_portal(fake_reader: Any) -> None:
    recommender = Recommender(_published(fake_reader))
    recommender.for_user("g1", "bob", limit=10)
    fake_reader.fail = True

    recs = recommender.for_user("ge", "bob", limit=10)

    assert recs == Recommendations("ge", "bob", None, (), degraded=True)
