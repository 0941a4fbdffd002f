from __future__ import annotations

import pytest

from spark_jobs.gate import PROMOTE, REJECT, Served, decide, earned_weight


def test_personal_lists_that_lift_the_served_list_earn_their_best_weight():
    d = decide(Served(without=0.30, with_personal={0.1: 0.31, 0.5: 0.33, 1.0: 0.32}), margin=0.02)
    assert (d.decision, d.personal_weight) == (PROMOTE, 0.5)
    assert "personal lists at weight 0.5 lift ndcg_at_10 from 0.3000 to 0.3300" in d.reason


def test_personal_lists_that_only_tie_get_weight_0_and_the_shortfall_is_said():
    d = decide(Served(without=0.30, with_personal={0.1: 0.30, 1.0: 0.25}), margin=0.02)
    assert (d.decision, d.personal_weight) == (PROMOTE, 0.0)
    assert "fall short: ndcg_at_10 0.3000 at their best weight 0.1 against 0.3000" in d.reason
    assert "(by 0.0000); weight 0" in d.reason


def test_of_equal_lifts_the_smaller_weight_wins():
    assert earned_weight(Served(0.2, {1.0: 0.25, 0.25: 0.25, 0.5: 0.21})) == (0.25, 0.25)
    assert earned_weight(Served(0.2, {})) == (0.0, 0.2)


def test_relative_margin_allows_a_small_loss_against_the_version_in_service():
    kept = Served(without=0.196, with_personal={0.1: 0.1}, in_service=0.20)
    assert decide(kept, margin=0.02).decision == PROMOTE  # floor 0.196
    rejected = decide(Served(0.195, {0.1: 0.1}, in_service=0.20), margin=0.02)
    assert (rejected.decision, rejected.personal_weight) == (REJECT, 0.0)
    assert (
        "0.1950 served is below the version in service's 0.2000 by more than the 2% relative"
        in (rejected.reason)
    )


@pytest.mark.parametrize(("served", "decision"), [(0.181, PROMOTE), (0.179, REJECT)])
def test_absolute_margin_is_subtracted(served, decision):
    gate = Served(without=0.1, with_personal={1.0: served}, in_service=0.20)
    assert decide(gate, margin=0.02, relative=False).decision == decision
