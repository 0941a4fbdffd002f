"""Trending and recent reads kept in the streaming driver (no Spark)."""

from __future__ import annotations

from datetime import timedelta

from newslake.store import ScoredItem
from spark_jobs.live import LiveSignals, View

T = 1_767_268_800.0  # 2026-01-01T12:00:00Z


def view(pv, article, at, user="u1", portal="g1"):
    return View(portal, user, article, pv, at)


def test_trending_counts_each_view_once_within_the_window_ties_by_article():
    signals = LiveSignals(timedelta(minutes=15), top_n=2)
    signals.add(
        [
            view("p1", "a", T),
            view("p2", "b", T + 60),
            view("p3", "b", T + 120, user="u2"),
            view("p1", "a", T),  # delivered twice
            view("p4", "c", T + 120, portal="ge"),
        ]
    )
    trending, _ = signals.drain()
    assert trending == {
        "g1": [ScoredItem("b", 2.0), ScoredItem("a", 1.0)],
        "ge": [ScoredItem("c", 1.0)],
    }
    # 15 minutes after the first view it leaves the window; "a" and "d" tie at 1: by id
    signals.add([view("p5", "d", T + 900, user="u3")])
    trending, _ = signals.drain()
    assert trending["g1"] == [ScoredItem("b", 2.0), ScoredItem("d", 1.0)]
    assert signals.add([view("p1", "a", T + 901)]) == 1  # forgotten with its view: new again
    signals.add([view("p6", "f", T - 10, user="u4")])  # a straggler from before the window
    trending, _ = signals.drain()
    assert trending["g1"] == [ScoredItem("b", 2.0), ScoredItem("a", 1.0)]


def test_readers_are_drained_once_with_their_newest_read_per_article():
    signals = LiveSignals(timedelta(minutes=15), top_n=10)
    signals.add([view("p1", "a", T), view("p2", "a", T + 30), view("p3", "b", T + 10, user="u2")])
    signals.add([view("p9", "z", T)], readers=False)  # trending only
    _, readers = signals.drain()
    assert readers == {("g1", "u1"): {"a": T + 30}, ("g1", "u2"): {"b": T + 10}}
    assert signals.drain()[1] == {}


def test_readers_given_back_after_a_failed_write_are_drained_again_merged():
    signals = LiveSignals(timedelta(minutes=15), top_n=10)
    signals.add([view("p1", "a", T)])
    _, readers = signals.drain()
    signals.add([view("p2", "b", T + 5)])
    signals.restore(readers)
    assert signals.drain()[1] == {("g1", "u1"): {"a": T, "b": T + 5}}
