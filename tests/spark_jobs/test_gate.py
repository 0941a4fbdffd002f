from __future__ import annotations

from spark_jobs.gate import PROMOTE, REJECT, decide

BASELINES = {"popular": 0.10, "trending": 0.14}


def test_a_blend_that_beats_every_baseline_with_nothing_in_service_is_promoted():
    d = decide(0.15, BASELINES, None, margin=0.02)
    assert d.decision == PROMOTE
    assert "beats trending 0.1400" in d.reason


def test_a_blend_that_only_ties_the_best_baseline_is_rejected():
    d = decide(0.14, BASELINES, None, margin=0.02)
    assert d.decision == REJECT
    assert "does not beat the best baseline (trending 0.1400)" in d.reason


def test_relative_margin_allows_a_small_loss_against_the_version_in_service():
    assert decide(0.196, BASELINES, 0.20, margin=0.02).decision == PROMOTE  # floor 0.196
    rejected = decide(0.195, BASELINES, 0.20, margin=0.02)
    assert rejected.decision == REJECT
    assert "below the version in service's 0.2000 by more than the 2% relative" in rejected.reason


def test_absolute_margin_is_subtracted():
    assert decide(0.181, BASELINES, 0.20, margin=0.02, relative=False).decision == PROMOTE
    assert decide(0.179, BASELINES, 0.20, margin=0.02, relative=False).decision == REJECT
