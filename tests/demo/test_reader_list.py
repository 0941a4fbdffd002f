from __future__ import annotations

import time

from demo import reader_list
from demo.fresh_read import view_event
from ingestion.schema import Pageview
from ingestion.validation import check_event
from newslake.settings import Settings
from tests.utils.clock import FakeClock


def test_items_of_keeps_the_answers_order_and_sources():
    answer = {"items": [{"article_id": "a", "score": 1.0, "source": "covisited"},
                        {"article_id": "b", "score": 0.5, "source": "trending"}]}  # fmt: skip
    assert reader_list.items_of(answer) == [("a", "covisited"), ("b", "trending")]
    assert reader_list.items_of({"detail": "x"}) == []


def test_choose_reads_takes_the_first_articles_whose_lists_name_unread_articles():
    covisited = {
        "a": [],  # no live list
        "b": ["old"],  # co-visited only with what the reader read before
        "c": ["x", "old"],
        "d": ["y"],
        "e": ["z"],
    }
    listed = ["a", "b", "c", "d", "e"]
    assert reader_list.choose_reads(listed, covisited, ["old"]) == ("c", "d")


def test_choose_reads_passes_over_two_articles_co_visited_only_with_each_other():
    covisited = {"a": ["b"], "b": ["a"], "c": ["x"]}
    assert reader_list.choose_reads(["a", "b", "c"], covisited, []) == ("a", "c")


def test_choose_reads_is_none_when_too_few_articles_qualify():
    assert reader_list.choose_reads(["a", "b"], {"a": ["x"]}, []) is None
    assert reader_list.choose_reads([], {}, []) is None


def test_fresh_covisited_leaves_out_what_is_read_before_and_now():
    covisited = {"a": ["b", "x", "old"], "b": ["y", "a"]}
    assert reader_list.fresh_covisited(("a", "b"), covisited, ["old"]) == {"x", "y"}


def test_describe_names_sources_and_stars_the_marked():
    items = [("g1-1", "trending"), ("g1-2", "covisited")]
    assert reader_list.describe(items, ["g1-2"]) == "g1-1 trending, g1-2 covisited*"
    assert reader_list.describe([]) == "(no items)"


def test_covisited_shown_needs_the_source_and_the_article():
    items = [("x", "covisited"), ("y", "trending"), ("z", "covisited")]
    assert reader_list.covisited_shown(items, {"x", "y"}) == ["x"]


def test_wait_until_counts_from_since_to_the_first_done_answer():
    clock = FakeClock(100.0)
    answers = iter([1, 2, 3, 4])

    def ask() -> int:
        clock.now += 0.05  # one answer's latency
        return next(answers)

    since = clock.now - 0.5  # the read was accepted half a second ago
    got, seconds = reader_list.wait_until(
        ask, lambda n: n == 3, bound_s=15, every_s=0.1, since=since, clock=clock, sleep=clock.sleep
    )
    assert got == 3
    assert seconds is not None and abs(seconds - 0.85) < 1e-9
    assert clock.slept == [0.1, 0.1]


def test_wait_until_gives_up_at_the_bound():
    clock = FakeClock(100.0)
    asked = []

    def ask() -> int:
        asked.append(clock.now)
        return len(asked)

    got, seconds = reader_list.wait_until(
        ask, lambda n: False, bound_s=1.0, every_s=0.25, clock=clock, sleep=clock.sleep
    )
    assert (got, seconds) == (5, None)  # asked at 0, 0.25, 0.5, 0.75 and 1 s
    assert asked == [100.0, 100.25, 100.5, 100.75, 101.0]


def test_wait_until_does_not_count_an_answer_done_only_after_the_bound():
    clock = FakeClock(100.0)

    def slow() -> str:
        clock.now += 2.0
        return "done"

    got, seconds = reader_list.wait_until(
        slow, lambda s: s == "done", bound_s=1.0, every_s=0.1, clock=clock, sleep=clock.sleep
    )
    assert (got, seconds) == ("done", None)


def test_the_demos_read_is_an_event_the_collector_accepts():
    settings = Settings()
    event = Pageview.model_validate(view_event(settings, "g1", "g1-u00001", "g1-00042"))
    assert (event.event_type, event.user_id, event.article_id) == ("view", "g1-u00001", "g1-00042")
    assert check_event(0, event, settings, int(time.time() * 1000)) == []
