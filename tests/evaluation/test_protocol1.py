"""Protocol 1 (next day per user) on clicks made by hand, every figure worked out by hand."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from evaluation import protocol1
from evaluation.protocol1 import DAY, HOUR, MINUTE, Clicks, Params

C = int(datetime(2017, 10, 5, tzinfo=UTC).timestamp() * 1000)  # the cutoff: midnight
A, B, CC, D, E = 10, 2, 9, 4, 5  # ids whose text order differs from their numeric order

# (user, session, article, time)
HISTORY = [
    (1, 1, A, C - 50 * MINUTE), (1, 1, B, C - 40 * MINUTE),
    (2, 2, A, C - 30 * MINUTE), (2, 2, CC, C - 20 * MINUTE),
    (3, 3, CC, C - 10 * MINUTE),
    (4, 4, D, C - 30 * HOUR),  # first seen 30 h before the cutoff: still fresh (48 h)
    (6, 6, E, C - 20 * HOUR), (7, 7, E, C - 20 * HOUR), (8, 8, E, C - 20 * HOUR),
]  # fmt: skip
NEXT_DAY = [
    (1, 11, CC, C + 1 * HOUR),
    (3, 13, A, C + 2 * HOUR), (3, 13, D, C + 3 * HOUR),
    (5, 15, B, C + 1 * HOUR),  # a reader never seen before
]  # fmt: skip
PARAMS = Params(k=2, min_users=1, candidates=3)


def clicks(rows):
    rows = sorted(rows, key=lambda r: r[3])
    user, session, item, ts = (np.array(c, dtype=np.int64) for c in zip(*rows, strict=True))
    return Clicks(user, session, item, ts)


def test_test_days_are_the_whole_days_inside_the_data():
    first = int(datetime(2017, 10, 1, 2, 37, tzinfo=UTC).timestamp() * 1000)
    last = int(datetime(2017, 10, 4, 3, 0, tzinfo=UTC).timestamp() * 1000)
    days = [datetime.fromtimestamp(t / 1000, UTC).date().isoformat() for t in
            protocol1.test_days(first, last)]  # fmt: skip
    # 10-01 starts at 02:37 (history only); 10-04 ends after the data: not a test day
    assert days == ["2017-10-02", "2017-10-03"]


def test_a_click_at_the_cutoff_is_history_and_one_a_day_later_is_tested():
    c = clicks([(1, 1, A, C), (1, 1, B, C + 1), (2, 2, D, C + DAY), (2, 2, E, C + DAY + 1)])
    assert protocol1.relevant_sets(c, C) == {1: {B}, 2: {D}}


def test_trending_halves_each_view_every_half_life():
    day = protocol1.signals(clicks(HISTORY), C, PARAMS, readers=[1, 3])
    # views of the last 3 h, each 0.5 ** (age / 30 min): c at 20 and 10 min, a at 50 and
    # 30 min, b at 40 min; e and d are older than 3 h
    expected = [
        (CC, 0.5 ** (2 / 3) + 0.5 ** (1 / 3)),  # 1.4237
        (A, 0.5 ** (5 / 3) + 0.5),  # 0.8150
        (B, 0.5 ** (4 / 3)),  # 0.3969
    ]
    assert [a for a, _ in day.trending] == [a for a, _ in expected]
    assert [s for _, s in day.trending] == pytest.approx([s for _, s in expected])
    # most viewed of the last 24 h: e 3, then a and c 2 each ("10" before "9" as text)
    assert day.most_viewed == [(E, 3.0), (A, 2.0), (CC, 2.0)]
    assert day.last_reads == {1: [B, A], 3: [CC]}
    assert day.fresh == day.catalogue == {A, B, CC, D, E}


def test_next_day_metrics_of_most_viewed_and_covisitation_by_hand():
    result = protocol1.evaluate_day(clicks(HISTORY + NEXT_DAY), C, PARAMS, with_als=False)

    # Scored: readers 1, 3 and 5 (reader 2 clicked nothing on the test day).
    # most viewed [e, a, c] less each reader's reads, top 2:
    #   1 (read a, b): [e, c] vs {c}: c 2nd: HR 1, P 1/2, R 1, NDCG 1/log2(3), AP 1/2
    #   3 (read c): [e, a] vs {a, d}: a 2nd: HR 1, P 1/2, R 1/2,
    #     NDCG (1/log2(3)) / (1 + 1/log2(3)), AP (1/2) / 2
    #   5 (new): [e, a] vs {b}: 0
    g = 1 / math.log2(3)
    assert result["users"] == 3
    assert result["most_viewed"] == {
        "hr_at_2": round(2 / 3, 4),
        "precision_at_2": round(1 / 3, 4),
        "recall_at_2": round(1.5 / 3, 4),
        "ndcg_at_2": round((g + g / (1 + g)) / 3, 4),
        "map_at_2": round(0.75 / 3, 4),
        "coverage": round(3 / 5, 4),  # e, a, c of the 5 articles read in the last 48 h
    }
    # co-visitation of the last reads (after the source 1/gap^2, before 0.1/gap^2):
    #   1's last reads b, a: a -> b 1, a -> c 1, b -> a 0.1; less a, b: [c]: all 1 (AP 1)
    #   3's last read c: c -> a 0.1: [a] vs {a, d}: HR 1, P 1/2, R 1/2, NDCG 1/(1 + g), AP 1/2
    #   5 has no history: empty list, 0
    assert result["covisitation"] == {
        "hr_at_2": round(2 / 3, 4),
        "precision_at_2": round(1 / 3, 4),
        "recall_at_2": round(1.5 / 3, 4),
        "ndcg_at_2": round((1 + 1 / (1 + g)) / 3, 4),
        "map_at_2": round(1.5 / 3, 4),
        "coverage": round(2 / 5, 4),
    }
    assert "als" not in result


def test_fuse_sums_weighted_reciprocal_ranks_of_fresh_unread_articles():
    t1, c1, old, r1, a1 = 1, 2, 3, 4, 5
    fused = protocol1.fuse(
        {"trending": [t1, c1, old, r1], "covisit": [c1, t1], "als": [a1]},
        {"trending": 1.0, "covisit": 2.0, "als": 0.5},
        read={r1},
        fresh={t1, c1, a1, r1},
        k=3,
    )
    # c1: 1/12 + 2/11 = 0.265; t1: 1/11 + 2/12 = 0.258; a1: 0.5/11; old is stale, r1 read
    assert [a for a, _ in fused] == [c1, t1, a1]
    assert [s for _, s in fused] == pytest.approx([1 / 12 + 2 / 11, 1 / 11 + 2 / 12, 0.5 / 11])


def test_a_day_with_too_few_readers_is_skipped_with_the_reason():
    few = Params(k=2, min_users=4, candidates=3)
    result = protocol1.evaluate_day(clicks(HISTORY + NEXT_DAY), C, few, with_als=False)
    assert result == {"skipped": "3 readers on the test day (< 4)"}


def test_the_mean_over_days_weighs_every_day_the_same():
    days = {
        "d1": {"trending": {"ndcg_at_2": 0.2}, "users": 10},
        "d2": {"trending": {"ndcg_at_2": 0.4}, "als": {"status": "not available"}, "users": 90},
    }
    assert protocol1.mean_over_days(days) == {"trending": {"ndcg_at_2": 0.3}}


def test_hot_halves_each_view_every_two_minutes():
    day = protocol1.signals(clicks(HISTORY), C, PARAMS, readers=[1, 3])
    # the trending window's views, each 0.5 ** (age / 2 min): c at 20 and 10 min, a at 50
    # and 30 min, b at 40 min
    expected = [
        (CC, 0.5**10 + 0.5**5),  # 0.0322
        (A, 0.5**25 + 0.5**15),  # 3.05e-5
        (B, 0.5**20),  # 9.5e-7
    ]
    assert [a for a, _ in day.hot] == [a for a, _ in expected]
    assert [s for _, s in day.hot] == pytest.approx([s for _, s in expected], rel=1e-12)


def test_the_default_blend_ranks_the_last_minutes_first_where_trending_does_not():
    x, y = 7, 8
    history = [
        (1, 1, x, C - 30 * MINUTE), (2, 2, x, C - 30 * MINUTE),  # trending 1.0, hot 6.1e-5
        (3, 3, y, C - 2 * MINUTE),  # trending 0.5 ** (1/15) = 0.955, hot 0.5
    ]  # fmt: skip
    next_day = [(9, 19, y, C + HOUR), (10, 20, y, C + HOUR), (10, 20, x, C + 2 * HOUR)]
    result = protocol1.evaluate_day(
        clicks(history + next_day), C, Params(k=1, min_users=1, candidates=3), with_als=False
    )
    # new readers 9 ({y}) and 10 ({x, y}); top 1: trending [x] hits only 10's, the blend
    # (hot alone by default) [y] hits both
    assert result["trending"]["ndcg_at_1"] == 0.5
    assert result["blend"]["ndcg_at_1"] == 1.0
