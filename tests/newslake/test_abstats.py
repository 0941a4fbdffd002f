"""The experiment statistics against the textbook formulas, written out here by hand."""

from __future__ import annotations

import math

import pytest

from newslake.abstats import (
    Rate,
    VariantCounts,
    analyse,
    compare,
    ctr_interval,
    sample_ratio,
)

Z95 = 1.959963984540054  # the normal quantile at 0.975


def wilson(clicks: int, n: int, z: float = Z95) -> tuple[float, float]:
    p = clicks / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_a_ctr_interval_is_wilsons() -> None:
    rate = ctr_interval(30, 1000, 0.95)
    low, high = wilson(30, 1000)
    assert rate.ctr == 0.03
    assert rate.low == pytest.approx(low, rel=1e-9)
    assert rate.high == pytest.approx(high, rel=1e-9)
    assert (round(rate.low, 4), round(rate.high, 4)) == (0.0211, 0.0425)


def test_no_click_still_has_an_upper_bound_and_no_impression_has_no_rate() -> None:
    rate = ctr_interval(0, 50, 0.95)
    assert (rate.ctr, rate.low) == (0.0, 0.0)
    assert rate.high == pytest.approx(wilson(0, 50)[1], rel=1e-9)
    assert ctr_interval(0, 0, 0.95) == Rate(0, 0, None, None, None)


def test_more_clicks_than_impressions_is_refused() -> None:
    with pytest.raises(ValueError, match="11 clicks of 10 impressions is not a rate"):
        ctr_interval(11, 10, 0.95)


def test_the_lift_interval_is_the_log_ratios_and_the_p_value_the_pooled_z_tests() -> None:
    treatment, control = Rate(40, 1000, 0.04, None, None), Rate(30, 1000, 0.03, None, None)
    result = compare(treatment, control, 0.95)
    # Katz: log(p1/p0) +- z * sqrt(1/c1 - 1/n1 + 1/c0 - 1/n0)
    se = math.sqrt(1 / 40 - 1 / 1000 + 1 / 30 - 1 / 1000)
    log_ratio = math.log(0.04 / 0.03)
    assert result.lift == pytest.approx(1 / 3, rel=1e-9)
    assert result.low == pytest.approx(math.exp(log_ratio - Z95 * se) - 1, rel=1e-9)
    assert result.high == pytest.approx(math.exp(log_ratio + Z95 * se) - 1, rel=1e-9)
    # two proportions, pooled: z = (p1 - p0) / sqrt(p (1 - p) (1/n1 + 1/n0))
    pooled = 70 / 2000
    z = (0.04 - 0.03) / math.sqrt(pooled * (1 - pooled) * (2 / 1000))
    assert result.p_value == pytest.approx(math.erfc(z / math.sqrt(2)), rel=1e-9)
    assert round(result.p_value, 4) == 0.2237


def test_a_side_without_clicks_has_no_lift_but_a_p_value() -> None:
    result = compare(Rate(0, 1000, 0.0, None, None), Rate(12, 1000, 0.012, None, None), 0.95)
    assert (result.lift, result.low, result.high) == (None, None, None)
    assert result.p_value is not None and result.p_value < 0.001
    nothing = compare(Rate(0, 10, 0.0, None, None), Rate(0, 10, 0.0, None, None), 0.95)
    assert nothing.p_value is None


def test_an_even_split_is_no_sample_ratio_mismatch() -> None:
    check = sample_ratio([1000, 1000], [0.5, 0.5], 0.001)
    assert (check.p_value, check.flagged) == (1.0, False)


def test_a_skewed_split_is_flagged() -> None:
    check = sample_ratio([1000, 1200], [0.5, 0.5], 0.001)
    # chi-square = 2 * 100^2 / 1100 with one degree of freedom: p = erfc(sqrt(chi2 / 2))
    assert check.p_value == pytest.approx(math.erfc(math.sqrt(20000 / 1100 / 2)), rel=1e-9)
    assert check.flagged


def test_uneven_shares_are_what_the_readers_are_checked_against() -> None:
    assert not sample_ratio([900, 100], [0.9, 0.1], 0.001).flagged
    assert sample_ratio([500, 500], [0.9, 0.1], 0.001).flagged


def test_readers_in_a_variant_without_share_are_a_mismatch() -> None:
    assert sample_ratio([10, 10, 1], [0.5, 0.5, 0.0], 0.001) == sample_ratio([1], [0], 0.001)
    assert sample_ratio([10, 10, 1], [0.5, 0.5, 0.0], 0.001).flagged
    assert sample_ratio([0, 0], [0.5, 0.5], 0.001).p_value is None


def test_the_analysis_compares_each_variant_with_the_first() -> None:
    rows = analyse(
        [
            VariantCounts("request-time", 0.5, readers=1000, impressions=1000, clicks=30),
            VariantCounts("nightly", 0.5, readers=1200, impressions=1000, clicks=40),
        ],
        confidence=0.95,
        srm_threshold=0.001,
    )
    control, treatment = rows
    assert (control["variant"], control["control"], treatment["control"]) == (
        "request-time",
        "request-time",
        "request-time",
    )
    assert (control["lift"], control["p_value"]) == (None, None)
    assert treatment["lift"] == pytest.approx(1 / 3, rel=1e-9)
    assert round(treatment["p_value"], 4) == 0.2237
    assert control["ctr_low"] == pytest.approx(wilson(30, 1000)[0], rel=1e-9)
    assert control["srm"] is treatment["srm"] is True
