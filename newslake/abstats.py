"""The statistics of an A/B experiment on the served lists, from counts alone.

A variant's click-through rate is attributed clicks over impressions (items shown). The
lake's analysis (``spark_jobs/rec_performance.py``) counts them; this module turns counts
into what a news team reads: each CTR with a Wilson interval, each treatment's relative
lift over the control with its interval and a two-sided p-value, and the sample-ratio
check that says whether the readers were split as configured (when they were not, the
comparison is not trusted, whatever its p-value).

Every test statistic comes from ``scipy.stats``; nothing here hand-writes one. Each
impression is treated as an independent trial: readers who see many lists weigh more,
and intervals are somewhat narrower than a per-reader analysis would give.

Pure Python over scipy, so the analysis and its tests run without Spark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scipy import stats
from scipy.stats.contingency import relative_risk


@dataclass(frozen=True)
class Rate:
    """A variant's CTR and its interval; None where there were no impressions."""

    clicks: int
    impressions: int
    ctr: float | None
    low: float | None
    high: float | None


def ctr_interval(clicks: int, impressions: int, confidence: float) -> Rate:
    """CTR with its Wilson score interval (``scipy.stats.binomtest(...).proportion_ci``),
    which stays inside [0, 1] and is sound for rates near 0, as CTRs are."""
    _check_counts(clicks, impressions)
    if impressions == 0:
        return Rate(clicks, impressions, None, None, None)
    ci = stats.binomtest(clicks, impressions).proportion_ci(
        confidence_level=confidence, method="wilson"
    )
    return Rate(clicks, impressions, clicks / impressions, float(ci.low), float(ci.high))


@dataclass(frozen=True)
class Comparison:
    """A treatment against the control: relative lift (``ctr_t / ctr_c - 1``) with its
    interval, and the two-sided p-value for a difference in CTR. None where undefined."""

    lift: float | None
    low: float | None
    high: float | None
    p_value: float | None


def compare(treatment: Rate, control: Rate, confidence: float) -> Comparison:
    """The treatment's lift over the control and the p-value of their difference.

    The lift's interval is the relative risk's (``scipy.stats.contingency.relative_risk``:
    the delta method on the log of the ratio, Katz), less 1; undefined when either side has
    no click. The p-value is Pearson's chi-square on the 2x2 table of clicks and non-clicks
    without continuity correction (``scipy.stats.chi2_contingency``), which equals the
    pooled two-proportion z-test; undefined when no side has a click or none a non-click.
    """
    if treatment.impressions == 0 or control.impressions == 0:
        return Comparison(None, None, None, None)
    lift = low = high = None
    if treatment.clicks > 0 and control.clicks > 0:
        rr = relative_risk(
            treatment.clicks, treatment.impressions, control.clicks, control.impressions
        )
        ci = rr.confidence_interval(confidence_level=confidence)
        lift, low, high = float(rr.relative_risk) - 1, float(ci.low) - 1, float(ci.high) - 1
    table = [
        [treatment.clicks, treatment.impressions - treatment.clicks],
        [control.clicks, control.impressions - control.clicks],
    ]
    p_value = None
    if all(sum(column) > 0 for column in zip(*table, strict=True)):
        p_value = float(stats.chi2_contingency(table, correction=False).pvalue)
    return Comparison(lift, low, high, p_value)


@dataclass(frozen=True)
class SampleRatio:
    """Whether the readers were split as configured: the chi-square goodness-of-fit
    p-value of readers per variant against the shares, and the flag (p below threshold)."""

    p_value: float | None
    flagged: bool


def sample_ratio(readers: Sequence[int], shares: Sequence[float], threshold: float) -> SampleRatio:
    """Sample-ratio mismatch check (``scipy.stats.chisquare``).

    A variant with share 0 expects no reader: any reader there is a mismatch (p 0). With
    fewer than two variants that expect readers, or no readers, there is nothing to test.
    """
    if len(readers) != len(shares):
        raise ValueError(f"{len(readers)} reader counts for {len(shares)} shares")
    if any(n < 0 for n in readers) or any(s < 0 for s in shares):
        raise ValueError("reader counts and shares must not be negative")
    if any(n > 0 and s == 0 for n, s in zip(readers, shares, strict=True)):
        return SampleRatio(0.0, True)
    kept = [(n, s) for n, s in zip(readers, shares, strict=True) if s > 0]
    total, share_sum = sum(n for n, _ in kept), sum(s for _, s in kept)
    if len(kept) < 2 or total == 0:
        return SampleRatio(None, False)
    expected = [total * s / share_sum for _, s in kept]
    p_value = float(stats.chisquare([n for n, _ in kept], f_exp=expected).pvalue)
    return SampleRatio(p_value, p_value < threshold)


@dataclass(frozen=True)
class VariantCounts:
    """What the lake counted for one variant over the experiment's days."""

    name: str
    share: float
    readers: int
    impressions: int
    clicks: int


def analyse(
    variants: Sequence[VariantCounts], *, confidence: float, srm_threshold: float
) -> list[dict[str, Any]]:
    """One result per variant, the first being the control: its CTR and interval, the lift
    over the control with its interval and p-value (None for the control itself), and the
    experiment's sample-ratio check on every row."""
    if not variants:
        return []
    srm = sample_ratio([v.readers for v in variants], [v.share for v in variants], srm_threshold)
    rates = [ctr_interval(v.clicks, v.impressions, confidence) for v in variants]
    control = rates[0]
    rows = []
    for i, (variant, rate) in enumerate(zip(variants, rates, strict=True)):
        versus = compare(rate, control, confidence) if i else Comparison(None, None, None, None)
        rows.append(
            {
                "variant": variant.name,
                "control": variants[0].name,
                "share": variant.share,
                "readers": variant.readers,
                "impressions": variant.impressions,
                "clicks": variant.clicks,
                "ctr": rate.ctr,
                "ctr_low": rate.low,
                "ctr_high": rate.high,
                "lift": versus.lift,
                "lift_low": versus.low,
                "lift_high": versus.high,
                "p_value": versus.p_value,
                "srm_p_value": srm.p_value,
                "srm": srm.flagged,
            }
        )
    return rows


def _check_counts(clicks: int, impressions: int) -> None:
    if impressions < 0 or not 0 <= clicks <= impressions:
        raise ValueError(f"{clicks} clicks of {impressions} impressions is not a rate")
