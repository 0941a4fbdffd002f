"""Protocol 1's ALS: the interactions by hand, and what the model may recommend."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation import als

NOW = 30 * als.DAY_MS


def test_each_visit_is_halved_per_week_of_age_and_summed_per_pair():
    users = np.array([1, 1, 2])
    items = np.array([7, 7, 7])
    ts = np.array([NOW, NOW - 7 * als.DAY_MS, NOW - 14 * als.DAY_MS])

    u, i, strength = als.strengths(users, items, ts, NOW)

    assert u.tolist() == [1, 2] and i.tolist() == [7, 7]
    assert strength.tolist() == pytest.approx([1 + 0.5, 0.25])


def test_only_known_readers_get_lists_of_known_candidates_they_can_be_shown():
    pytest.importorskip("implicit")
    # readers 1-4 read x and y together; reader 5 read x only
    users = np.array([1, 1, 2, 2, 3, 3, 4, 4, 5])
    items = np.array([10, 11, 10, 11, 10, 11, 10, 11, 10])
    ts = np.full(len(users), NOW)

    lists = als.recommend(
        users, items, ts, NOW, wanted=[5, 99], candidates=[11, 12], n=5,
        params=als.AlsParams(rank=2, max_iter=5),
    )  # fmt: skip

    # 99 is unknown (cold start); 12 was never read; 10 is not a candidate
    assert lists == {5: [11]}
