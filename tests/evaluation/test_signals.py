"""The replay's live lists (numpy) equal newslake.ranking's on the same clicks."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from evaluation.signals import Covisitation, HotShape, Views, text_order
from newslake import ranking
from tests.evaluation.g1files import sessions

# articles 1, 2, 3, 9, 10 and 8; times in ms; window 9,500 ms ending at 10,000
SESSIONS = sessions(
    [
        (0, [(1, 1_000), (2, 2_000), (3, 3_000)]),
        (0, [(1, 5_000), (3, 6_000)]),
        (0, [(1, 100), (9, 200)]),  # before the window
        (0, [(1, 9_000), (8, 10_000)]),  # 8 is read at 10,000: not yet seen at 10,000
        (0, [(10, 7_000), (2, 7_500)]),
    ]
)
AT, WINDOW = 10_000, 9_500


def _visits():
    for s in range(len(SESSIONS)):
        a, b = SESSIONS.offsets[s], SESSIONS.offsets[s + 1]
        for item, ts in zip(SESSIONS.item[a:b].tolist(), SESSIONS.ts[a:b].tolist(), strict=True):
            if ts < AT:
                yield s, item, ts


def test_covisitation_lists_by_hand():
    pairs = Covisitation.of(SESSIONS, text_order(SESSIONS.item))
    lists = pairs.lists(AT, WINDOW, top_k=2, sources=np.array([1, 2]))
    # Read after the source: 1/gap^2; before it: 0.1/gap^2.
    # 1->3: 2 after in the first session (1/4) + 1 after in the second (1) = 1.25; 1->2: 1.
    # 2->3: 1 after (1); 2->1 and 2->10: 1 before (0.1 each), "1" < "10" as text.
    assert lists == {1: [(3, 1.25), (2, 1.0)], 2: [(3, 1.0), (1, 0.1)]}


def test_covisitation_lists_equal_newslake_ranking():
    pairs = Covisitation.of(SESSIONS, text_order(SESSIONS.item))
    fast = pairs.lists(AT, WINDOW, top_k=3, sources=np.array([1, 2, 3, 9, 10, 8]))
    plain = ranking.covisitation(_visits(), as_of=AT - 1, window=WINDOW - 1, top_k=3)
    assert fast == plain
    assert set(fast) == set(plain) == {1, 2, 3, 10}


def test_most_viewed_equals_newslake_ranking():
    views = Views.of(SESSIONS, text_order(SESSIONS.item))
    fast = views.most_viewed(AT, WINDOW, top_n=3)
    plain = ranking.top_by_views(
        ((i, t) for _, i, t in _visits()), as_of=AT - 1, window=WINDOW - 1, top_n=3
    )
    assert fast == plain == [(1, 3.0), (2, 2.0), (3, 2.0)]


HOT = HotShape(keep=5_000, bucket=2_000, half_life=1_000)


def test_the_hot_list_halves_each_buckets_views_by_the_age_of_its_middle():
    hot = Views.of(SESSIONS, text_order(SESSIONS.item)).hot(AT, HOT, top_n=3)

    # Buckets from 4,000 (the one holding 10,000 - 5,000), clicks before 10,000: 1 at
    # 5,000 (middle 5,000: 5 half-lives old); 3, 10 and 2 at 6,000 to 7,500 (middle 7,000:
    # 3); 1 at 9,000 (middle 9,000: 1); 8 at 10,000 is not yet seen. 3 is fourth ("10" <
    # "2" < "3" as text).
    assert hot == [(1, 0.5 + 0.03125), (10, 0.125), (2, 0.125)]


def test_strict_hot_counts_earlier_hours_views_after_the_moment_at_age_0():
    hot = Views.of(SESSIONS, text_order(SESSIONS.item)).hot(AT, HOT, top_n=2, hour=1)

    # every session is of hour 0: 8 (10,000, bucket 10,000, middle 11,000) is never
    # younger than 0, weighs 1 and leads
    assert hot == [(8, 1.0), (1, 0.5 + 0.03125)]


def test_the_hot_list_equals_newslake_ranking():
    buckets: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for _, item, ts in _visits():
        if ts >= 4_000:  # the buckets serving reads
            buckets[ts - ts % 2_000][item] += 1

    fast = Views.of(SESSIONS, text_order(SESSIONS.item)).hot(AT, HOT, top_n=5)
    plain = ranking.hot_list(buckets, as_of=AT, bucket_s=2_000, half_life_s=1_000, top_n=5)

    assert fast == plain
    assert [a for a, _ in fast] == [1, 10, 2, 3]
