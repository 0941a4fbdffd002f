"""The nightly lists replayed: published at the DAG's time, for active readers, served
until the next run."""

from __future__ import annotations

import pytest

from evaluation import nightly
from evaluation.nightly import NightlyParams
from evaluation.protocol1 import Clicks, Params
from tests.evaluation.g1files import sessions

MIN, HOUR, DAY = 60_000, 3_600_000, 86_400_000
CUTOFF = 1_506_915_000_000  # 2017-10-02 03:30 UTC

CLICKS = Clicks.of(
    sessions(
        [
            (0, [(3, CUTOFF - 8 * DAY)]),  # reader 3: not active in the 7 days before
            (0, [(1, CUTOFF - 10 * MIN)]),  # reader 1
            (0, [(2, CUTOFF - 5 * MIN), (1, CUTOFF - 4 * MIN)]),  # reader 2
        ],
        users=[3, 1, 2],
    )
)
PARAMS = NightlyParams(offset_ms=nightly.schedule_offset_ms("30 3 * * *"), blend=Params())


def test_the_run_time_is_the_dags_daily_schedule():
    assert nightly.schedule_offset_ms("30 3 * * *") == 3 * HOUR + 30 * MIN
    with pytest.raises(ValueError, match="not 'M H"):
        nightly.schedule_offset_ms("0 */2 * * *")


def test_each_moment_is_served_the_lists_of_the_last_run_before_it():
    asked = [(CUTOFF + HOUR, 1), (CUTOFF + HOUR, 2), (CUTOFF + HOUR, 3), (CUTOFF - HOUR, 1)]

    found = nightly.build(CLICKS, asked, PARAMS, with_als=False)

    assert [night.cutoff for night in found.nights] == [CUTOFF - DAY, CUTOFF]
    # Hot at the cutoff (views of the last 3 h halved every 2 min): 1 (10 and 4 min old)
    # before 2 (5 min old); hot alone is the default blend, scored 1 / (10 + rank).
    assert found.ranked("blend", 1, CUTOFF + HOUR) == [(2, pytest.approx(1 / 12))]
    assert found.ranked("blend", 2, CUTOFF + HOUR) == []  # read both
    assert found.ranked("blend", 3, CUTOFF + HOUR) == []  # inactive: nothing published
    assert found.ranked("blend", 1, CUTOFF - HOUR) == []  # the run before: reader 1 was new
    assert found.ranked("als", 1, CUTOFF + HOUR) == []  # no ALS fitted
    assert found.at(CUTOFF - DAY - 1) is None
