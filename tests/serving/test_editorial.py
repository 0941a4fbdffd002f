"""The in-process copy of the editorial controls: refreshes, outages, and answers."""

from __future__ import annotations

import logging

import pytest

from newslake.editorial import Block, Promote
from serving.editorial import EditorialCopy
from serving.recommender import Answer, Recommendation
from tests.utils.clock import FakeClock
from tests.utils.editorial import FakeControls

ANSWER = Answer(
    "v2",
    (Recommendation("x", 3.0, "popular"), Recommendation("a", 2.0, "popular")),
)


def _copy(store: FakeControls, clock: FakeClock) -> EditorialCopy:
    return EditorialCopy(store, ("g1",), refresh_s=2.0, clock=clock, wall_clock=clock)


def _ids(answer: Answer) -> list[str]:
    return [i.article_id for i in answer.items]


def test_the_store_down_keeps_the_last_known_block(caplog: pytest.LogCaptureFixture) -> None:
    store, clock = FakeControls(), FakeClock(1_800_000_000.0)
    store.block("g1", Block("x", "retracted", None, "nr", int(clock.now)))
    copy = _copy(store, clock)
    assert _ids(copy.controlled("g1", ANSWER, 2)) == ["a"]

    store.fail = True
    clock.now += 2.0
    with caplog.at_level(logging.WARNING, logger="serving.editorial"):
        first = copy.controlled("g1", ANSWER, 2)
        clock.now += 2.0
        second = copy.controlled("g1", ANSWER, 2)
    assert (_ids(first), first.degraded, _ids(second)) == (["a"], True, ["a"])
    assert len(caplog.records) == 1  # once per outage


def test_never_read_serves_the_list_as_made_and_degraded() -> None:
    store, clock = FakeControls(fail=True), FakeClock(1_800_000_000.0)
    copy = _copy(store, clock)
    got = copy.controlled("g1", ANSWER, 1)
    assert (_ids(got), got.degraded, copy.wanted("g1", 1, most=200)) == (["x"], True, 1)

    store.fail = False
    store.block("g1", Block("x", "retracted", None, "nr", int(clock.now)))
    clock.now += 2.0
    later = copy.controlled("g1", ANSWER, 1)
    assert (_ids(later), later.degraded) == (["a"], False)


def test_reads_once_per_refresh_whatever_the_requests() -> None:
    store, clock = FakeControls(), FakeClock(1_800_000_000.0)
    copy = _copy(store, clock)
    for _ in range(5):
        copy.controlled("g1", ANSWER, 2)
    clock.now += 1.9
    copy.controlled("g1", ANSWER, 2)
    assert store.loads == 1
    clock.now += 0.1
    copy.controlled("g1", ANSWER, 2)
    assert store.loads == 2


def test_the_background_thread_reads_at_start_and_stops() -> None:
    store = FakeControls()
    copy = EditorialCopy(store, ("g1", "ge"), refresh_s=0.05)
    copy.start()
    try:
        assert store.loads >= 2  # both portals read before start returns
    finally:
        copy.stop()
    assert copy.current("g1")[0] is not None


def test_a_share_promotion_is_drawn_once_a_day_per_reader() -> None:
    store, clock = FakeControls(), FakeClock(1_800_000_000.0)
    start, end = int(clock.now) - 60, int(clock.now) + 86_400
    store.promote("g1", Promote("p", None, 0.25, start, end, (), "nr", start))
    copy = _copy(store, clock)

    def answers(reader: str) -> set[tuple[str, ...]]:
        return {tuple(_ids(copy.controlled("g1", ANSWER, 2, reader=reader))) for _ in range(20)}

    # hand-picked readers: bruno's draw for p today is below 0.25, ana's above
    assert (answers("bruno"), answers("ana")) == ({("p", "x")}, {("x", "a")})
