"""Which predictions protocol 2 makes: the split, the last-click and every-position
targets, and the arrivals."""

from __future__ import annotations

import numpy as np

from evaluation import targets
from evaluation.targets import TEST, VALIDATION
from tests.evaluation.g1files import RETURNS, sessions


def test_the_split_is_half_and_half_per_hour_fixed_by_the_seed_and_the_hour_alone():
    hour1 = [(1, [(i, 3_600_000 + i), (i + 100, 3_600_000 + i + 1)]) for i in range(5)]
    both = sessions([(0, [(9, 0), (8, 1)]), *hour1], ids=[50, 10, 11, 12, 13, 14])
    alone = sessions(hour1, ids=[10, 11, 12, 13, 14])

    labels = targets.split_sessions(both, seed=7)

    assert (labels[1:] == VALIDATION).sum() == 2  # 5 sessions: 2 validation, 3 test
    assert labels[1:].tolist() == targets.split_sessions(alone, seed=7).tolist()
    assert labels.tolist() == targets.split_sessions(both, seed=7).tolist()
    seeds = {tuple(targets.split_sessions(alone, seed=s).tolist()) for s in range(20)}
    assert len(seeds) > 1  # the seed matters


def test_the_target_is_the_last_click_or_every_click_after_the_first():
    s = sessions([(0, [(1, 0), (2, 1), (3, 2)]), (0, [(4, 5)]), (0, [(5, 7), (6, 8)])])
    everyone = np.ones(len(s), dtype=bool)

    last = targets.make_queries(s, everyone, every_position=False)
    every = targets.make_queries(s, everyone, every_position=True)

    assert list(zip(last.session.tolist(), last.position.tolist(), strict=True)) == [(0, 2), (2, 1)]
    assert list(zip(every.session.tolist(), every.position.tolist(), strict=True)) == [
        (0, 1),
        (0, 2),
        (2, 1),
    ]


def test_every_split_label_is_validation_or_test():
    s = sessions([(0, [(1, 0), (2, 1)]), (0, [(1, 2), (3, 3)]), (1, [(1, 60), (3, 61)])])
    assert set(targets.split_sessions(s, seed=1).tolist()) <= {VALIDATION, TEST}


def test_an_arrival_is_a_returning_readers_first_click_30_min_or_more_after_their_last():
    everyone = np.ones(len(RETURNS), dtype=bool)

    found = targets.arrivals(RETURNS, everyone)

    # 0, 3, 4, 7: no earlier click; 2 and 6: 19 and 29 min; 8: the click at 100 min of the
    # open session comes after 50 min, so the last click before it is the one at 0.
    assert found.session.tolist() == [1, 5, 8]
    assert found.position.tolist() == [0, 0, 0]


def test_only_chosen_sessions_are_arrivals():
    chosen = np.ones(len(RETURNS), dtype=bool)
    chosen[5] = False
    assert targets.arrivals(RETURNS, chosen).session.tolist() == [1, 8]
