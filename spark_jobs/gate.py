"""The promotion gate: judge what readers will be served, and earn the personal list's weight.

The service fuses each reader's list at request time (``newslake.ranking.reader_list``);
the nightly model adds one input to it, the reader's personal list. So the gate scores the
request-time list made at the split's cutoff, on the next day's clicks, with the
candidate's personal lists at each trial weight and without them:

1. the personal lists earn the trial weight that scores best, if that beats the list
   without them strictly; otherwise their weight is 0 (the candidate is still published:
   its related and popular lists, and personal lists for experiments, are current);
2. the list served with the earned weight must not fall below the list served with the
   version in service (its personal lists at its own weight) by more than ``margin``:
   relative, ``served >= in_service * (1 - margin)``; absolute, ``served >= in_service -
   margin``. With no version in service (or none whose lists can be re-evaluated) this
   passes.

Otherwise the run is rejected and the version in service stays.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from newslake.settings import get_settings

PROMOTE, REJECT = "promote", "reject"


@dataclass(frozen=True)
class Decision:
    decision: str
    reason: str
    personal_weight: float = 0.0

    @property
    def promoted(self) -> bool:
        return self.decision == PROMOTE


@dataclass(frozen=True)
class Served:
    """The metric of the request-time list on the split, as the gate compares it."""

    without: float  # no personal list
    with_personal: Mapping[float, float]  # the candidate's personal lists, by trial weight
    in_service: float | None = None  # the version in service's lists at its weight


def earned_weight(served: Served) -> tuple[float, float]:
    """(weight, metric): the best trial weight if it beats no personal list, else (0, without).
    Of equal metrics the smaller weight wins."""
    if not served.with_personal:
        return 0.0, served.without
    best = min(served.with_personal, key=lambda w: (-served.with_personal[w], w))
    if served.with_personal[best] > served.without:
        return best, served.with_personal[best]
    return 0.0, served.without


def decide(
    served: Served,
    *,
    margin: float,
    relative: bool | None = None,
    metric: str | None = None,
) -> Decision:
    """Gate the candidate on what it will serve (module docstring).

    ``relative`` (is ``margin`` a share of the version in service's figure?) and ``metric``
    (its name in the reasons) default to the settings' ``gate_margin_relative`` and NDCG
    at ``eval_k``.
    """
    if relative is None:
        relative = get_settings().gate_margin_relative
    if metric is None:
        metric = f"ndcg_at_{get_settings().eval_k}"
    weight, value = earned_weight(served)
    reason = _weight_reason(served, weight, metric)
    if served.in_service is not None:
        floor = served.in_service * (1 - margin) if relative else served.in_service - margin
        if value < floor:
            kind = f"{margin:.0%} relative" if relative else f"{margin:g} absolute"
            return Decision(
                REJECT,
                f"{metric} {value:.4f} served is below the version in service's "
                f"{served.in_service:.4f} by more than the {kind} margin; {reason}",
                weight,
            )
        reason += f"; in service {served.in_service:.4f}"
    return Decision(PROMOTE, reason, weight)


def _weight_reason(served: Served, weight: float, metric: str) -> str:
    if not served.with_personal:
        return f"{metric} {served.without:.4f} served; no personal lists to weigh"
    if weight > 0:
        lifted = served.with_personal[weight]
        return (
            f"personal lists at weight {weight:g} lift {metric} from {served.without:.4f} "
            f"to {lifted:.4f}"
        )
    best = min(served.with_personal, key=lambda w: (-served.with_personal[w], w))
    short = served.without - served.with_personal[best]
    return (
        f"personal lists fall short: {metric} {served.with_personal[best]:.4f} at their best "
        f"weight {best:g} against {served.without:.4f} without them (by {short:.4f}); "
        "weight 0"
    )
