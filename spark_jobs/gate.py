"""The promotion gate: publish a candidate only when it earns it on the same split.

A candidate (the blend that would be published) is promoted when both hold:

1. its NDCG@k beats every baseline's (popular, trending) strictly;
2. it is not worse than the version in service, re-evaluated on the same split, by more
   than ``margin``: relative, ``ndcg >= in_service * (1 - margin)``; absolute,
   ``ndcg >= in_service - margin``. With no version in service (or none whose lists can be
   re-evaluated) the second test passes.

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

    @property
    def promoted(self) -> bool:
        return self.decision == PROMOTE


def decide(
    candidate: float,
    baselines: Mapping[str, float],
    in_service: float | None,
    *,
    margin: float,
    relative: bool | None = None,
    metric: str | None = None,
) -> Decision:
    """Gate ``candidate``'s metric against the baselines' and the version in service's.

    ``relative`` (is ``margin`` a share of the version in service's figure?) and ``metric``
    (its name in the reasons) default to the settings' ``gate_margin_relative`` and NDCG
    at ``eval_k``.
    """
    if relative is None:
        relative = get_settings().gate_margin_relative
    if metric is None:
        metric = f"ndcg_at_{get_settings().eval_k}"
    if baselines:
        best_name = max(baselines, key=lambda name: (baselines[name], name))
        best = baselines[best_name]
        if not candidate > best:
            return Decision(
                REJECT,
                f"{metric} {candidate:.4f} does not beat the best baseline "
                f"({best_name} {best:.4f})",
            )
    if in_service is not None:
        floor = in_service * (1 - margin) if relative else in_service - margin
        if candidate < floor:
            kind = f"{margin:.0%} relative" if relative else f"{margin:g} absolute"
            return Decision(
                REJECT,
                f"{metric} {candidate:.4f} is below the version in service's "
                f"{in_service:.4f} by more than the {kind} margin",
            )
    versus = "" if in_service is None else f"; in service {in_service:.4f}"
    best_txt = f" beats {best_name} {best:.4f}" if baselines else ""
    return Decision(PROMOTE, f"{metric} {candidate:.4f}{best_txt}{versus}")
