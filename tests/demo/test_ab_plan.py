"""make replay-ab's decisions: the sample, the click on the list or organic, the tally, the
scaled live windows and the experiment switched on."""

from __future__ import annotations

import json

import pytest

from demo import ab_plan
from ingestion.g1 import Click
from ingestion.replay import TimeShift
from newslake.experiments import Experiment, Variant
from newslake.settings import Settings
from tests.utils.clock import FakeClock

RID = "0123456789abcdef0123456789abcdef"
HOUR = 3_600_000


def _answer(articles: list[str], variant: str | None = "nightly") -> dict:
    return {
        "recommendation_id": RID,
        "items": [
            {"article_id": a, "score": 1.0, "source": "trending", "position": p}
            for p, a in enumerate(articles, start=1)
        ],
        "variant": {"experiment": "reader-list", "name": variant} if variant else None,
    }


def _click(user: int, article: int, ts: int, hour: int = 5, session: int = 0) -> Click:
    return Click(hour, user, session or user * 10, ts, article, ts)


# ---- one click ---------------------------------------------------------------------------
def test_an_article_in_the_list_is_a_click_at_its_position() -> None:
    assert ab_plan.recommended_at(_answer(["11", "12", "13"]), "13") == (RID, 3)


def test_an_article_not_in_the_list_is_organic() -> None:
    assert ab_plan.recommended_at(_answer(["11", "12", "13"]), "14") is None
    assert ab_plan.recommended_at(_answer([]), "11") is None


def test_the_view_names_the_list_and_position_only_when_clicked_from_it() -> None:
    click = _click(7, 12, 1_000)
    clicked = ab_plan.tracked_view(click, 5_000, _answer(["11", "12"]))
    organic = ab_plan.tracked_view(click, 5_000, _answer(["11"]))
    unanswered = ab_plan.tracked_view(click, 5_000, None)

    assert (clicked["rec_id"], clicked["rec_position"]) == (RID, 2)
    assert (clicked["client_ts"], clicked["user_id"], clicked["article_id"]) == (5_000, "7", "12")
    assert "server_ts" not in clicked  # the collector stamps it
    assert "rec_id" not in organic and "rec_position" not in organic
    assert "rec_id" not in unanswered


# ---- the replay loop -----------------------------------------------------------------------


def test_the_tally_counts_lists_and_clicks_by_variant() -> None:
    clock = FakeClock(100.0)
    lists = {
        "1": _answer(["0", "5"], "nightly"),
        "2": _answer(["9", "3"], "request-time"),
    }
    # reader 1 reads "0" (first in their list), reader 2 "1" (not in it), reader 1 "2"
    # (not in it), reader 2 "3" (second)
    clicks = [
        _click(u, a, ts) for u, a, ts in [(1, 0, 0), (2, 1, 1_000), (1, 2, 2_000), (2, 3, 3_000)]
    ]
    sent: list[dict] = []

    def post(event: dict) -> bool:
        sent.append(event)
        return True

    channel = ab_plan.Channel(lambda reader: lists[reader], post, clock, clock.sleep)
    tally = ab_plan.replay_clicks(clicks, TimeShift(100_000, 0, 10.0), channel)

    assert dict(tally.lists) == {"nightly": 2, "request-time": 2}
    assert dict(tally.items) == {"nightly": 4, "request-time": 4}
    assert dict(tally.clicks) == {"nightly": 1, "request-time": 1}
    assert tally.organic == 2
    assert [e.get("rec_position") for e in sent] == [1, None, None, 2]
    assert [e["client_ts"] for e in sent] == [100_000, 100_100, 100_200, 100_300]
    assert clock.now == pytest.approx(100.3)  # the last click went out at its time


def test_a_list_not_answered_sends_the_view_as_organic_and_a_refused_view_is_counted() -> None:
    clock = FakeClock(100.0)
    answers = iter([None, _answer(["1"])])
    channel = ab_plan.Channel(lambda r: next(answers), lambda e: False, clock, clock.sleep)

    tally = ab_plan.replay_clicks([_click(1, 5, 0), _click(1, 1, 10)], TimeShift(0, 0, 1), channel)

    assert (tally.list_failures, tally.view_failures, tally.organic) == (1, 2, 0)
    assert dict(tally.lists) == {"nightly": 1} and not tally.clicks


def test_a_click_sent_late_is_stamped_when_sent_after_its_list() -> None:
    clock = FakeClock(now=0.0)

    def slow_list(reader: str) -> dict:
        clock.now += 2.5  # the list takes its time: the replay falls behind
        return _answer(["1"])

    sent: list[dict] = []
    channel = ab_plan.Channel(slow_list, lambda e: sent.append(e) is None, clock, clock.sleep)

    tally = ab_plan.replay_clicks(
        [_click(1, 1, 0), _click(1, 2, 1_000)], TimeShift(0, 0, 1), channel
    )

    assert [e["client_ts"] for e in sent] == [2_500, 5_000]
    assert tally.behind_ms == 1_500  # the second click's list was asked 1.5 s late


def test_clicks_past_the_deadline_are_counted_unsent() -> None:
    clock = FakeClock(now=0.0)
    channel = ab_plan.Channel(lambda r: _answer([]), lambda e: True, clock, clock.sleep)
    clicks = [_click(1, 1, 0), _click(1, 2, 5_000), _click(1, 3, 20_000), _click(1, 4, 30_000)]

    tally = ab_plan.replay_clicks(clicks, TimeShift(0, 0, 1), channel, deadline=10.0)

    assert (tally.organic, tally.unsent) == (2, 2)


def test_a_readers_clicks_stay_in_one_part_in_order() -> None:
    clicks = [_click(u, a, ts) for ts, (u, a) in enumerate([(1, 1), (2, 2), (3, 3), (1, 4)])]

    parts = ab_plan.partition(clicks, 2)

    assert [[(c.user_id, c.article_id) for c in p] for p in parts] == [
        [(2, 2)],
        [(1, 1), (3, 3), (1, 4)],
    ]


# ---- the sample ----------------------------------------------------------------------------
def _g1() -> list[Click]:
    return [
        _click(1, 10, 1_000, hour=3),
        _click(2, 11, 2_000, hour=3),
        _click(3, 12, 3_000, hour=4),
        _click(1, 13, 9_500, hour=4),  # a session of the history going on in the window
        _click(1, 14, 9_000, hour=5),
        _click(2, 15, 9_800, hour=5),
        _click(4, 16, 9_900, hour=6),
        _click(1, 17, 9_000 + HOUR, hour=5),  # the window's session an hour on: left out
    ]


def test_the_window_lasts_its_hours_and_the_history_ends_where_it_starts() -> None:
    every = ab_plan.sample(
        _g1(), first_hour=5, readers=3, history_share=0.0, seed=1, window_ms=HOUR
    )

    assert every.readers == {1, 2, 4}
    assert [(c.user_id, c.article_id) for c in every.window] == [(1, 14), (2, 15), (4, 16)]
    assert [(c.user_id, c.article_id) for c in every.history] == [(1, 10), (2, 11)]


def test_a_history_share_of_one_keeps_every_readers_history() -> None:
    found = ab_plan.sample(
        _g1(), first_hour=5, readers=3, history_share=1.0, seed=1, window_ms=HOUR
    )

    assert [c.article_id for c in found.history] == [10, 11, 12]


def test_a_smaller_sample_is_part_of_a_larger_one() -> None:
    small = ab_plan.sample(
        _g1(), first_hour=5, readers=1, history_share=0.0, seed=1, window_ms=HOUR
    )
    large = ab_plan.sample(
        _g1(), first_hour=5, readers=2, history_share=0.0, seed=1, window_ms=HOUR
    )

    assert len(small.readers) == 1 and len(large.readers) == 2
    assert small.readers < large.readers


def test_the_history_ends_where_the_window_starts_in_real_time() -> None:
    shift = ab_plan.history_shift(window_first_ms=9_000, end_ms=50_000)

    assert (shift(9_000), shift(1_000), shift(8_999)) == (50_000, 42_000, 49_999)


# ---- the platform's settings -----------------------------------------------------------------
def test_live_windows_shrink_by_the_speed_up_within_their_bounds() -> None:
    assert ab_plan.scaled_live_settings(Settings(), 60.0) == {
        "reader_lend_minutes": 0.5,
        "live_hot_half_life_s": 2.0,
        "hot_bucket_s": 1,
        "live_hot_keep_s": 60,
    }
    assert ab_plan.scaled_live_settings(Settings(), 1.0) == {
        "reader_lend_minutes": 30.0,
        "live_hot_half_life_s": 120.0,
        "hot_bucket_s": 60,
        "live_hot_keep_s": 3600,
    }


def test_the_named_experiment_is_switched_on_and_the_others_off() -> None:
    experiments = (
        Experiment("a", "reader", True, (Variant("x", 1.0),)),
        Experiment(
            "b", "reader", False, (Variant("x", 0.5), Variant("y", 0.5, {"reader_w_hot": 1}))
        ),
    )

    parsed = json.loads(ab_plan.experiments_json(experiments, "b"))

    assert [(e["name"], e["enabled"]) for e in parsed] == [("a", False), ("b", True)]
    assert parsed[1]["variants"][1] == {"name": "y", "share": 0.5, "overrides": {"reader_w_hot": 1}}
    assert Settings(experiments=json.dumps(parsed)).experiments[1].enabled
    with pytest.raises(KeyError):
        ab_plan.experiments_json(experiments, "c")
