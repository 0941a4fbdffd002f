"""Ranking metrics for offline evaluation, per user; the protocols average them.

Conventions (the same for every model, so figures compare):

* a ranking is a list of item ids, best first; ties in score are broken by item id
  (:func:`rank`), so equal scores never reorder between runs;
* relevance is binary: an item is relevant when the user clicked it in the test period;
* users with no relevant item are left out of the averages (they cannot be scored), and
  :func:`summarise` says how many were scored.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass


def rank(scores: Mapping[str, float], k: int | None = None) -> list[str]:
    """Items by descending score, ties by ascending id; the first ``k`` when given."""
    ordered = sorted(scores, key=lambda item: (-scores[item], item))
    return ordered if k is None else ordered[:k]


def hit_rate(ranking: Sequence[str], relevant: set[str], k: int) -> float:
    return 1.0 if any(item in relevant for item in ranking[:k]) else 0.0


def precision(ranking: Sequence[str], relevant: set[str], k: int) -> float:
    return sum(item in relevant for item in ranking[:k]) / k


def recall(ranking: Sequence[str], relevant: set[str], k: int) -> float:
    return sum(item in relevant for item in ranking[:k]) / len(relevant) if relevant else 0.0


def ndcg(ranking: Sequence[str], relevant: set[str], k: int) -> float:
    """DCG of the top k over the best DCG possible with ``len(relevant)`` hits."""
    dcg = sum(1 / math.log2(i + 2) for i, item in enumerate(ranking[:k]) if item in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal if ideal else 0.0


def average_precision(ranking: Sequence[str], relevant: set[str], k: int) -> float:
    """AP@k: precision at each hit's rank, summed, over ``min(k, len(relevant))``."""
    hits, total = 0, 0.0
    for i, item in enumerate(ranking[:k]):
        if item in relevant:
            hits += 1
            total += hits / (i + 1)
    return total / min(k, len(relevant)) if relevant else 0.0


@dataclass(frozen=True)
class Summary:
    users: int  # users scored (with at least one relevant item)
    hr: float
    precision: float
    recall: float
    ndcg: float
    map: float
    coverage: float


def summarise(
    rankings: Mapping[str, Sequence[str]],
    relevant: Mapping[str, set[str]],
    k: int,
    catalogue: Iterable[str],
) -> Summary:
    """Means over users with relevant items, and catalogue coverage of all top-k lists.

    A user with relevant items but no ranking counts with an empty ranking (all zeros).
    """
    scored = [u for u, rel in relevant.items() if rel]
    if not scored:
        raise ValueError("no user has a relevant item: nothing to evaluate")
    lists = {u: list(rankings.get(u, ()))[:k] for u in scored}
    catalogue_size = len(set(catalogue))
    shown = {item for items in rankings.values() for item in list(items)[:k]}

    def mean(metric: Callable[[Sequence[str], set[str], int], float]) -> float:
        return sum(metric(lists[u], relevant[u], k) for u in scored) / len(scored)

    return Summary(
        users=len(scored),
        hr=mean(hit_rate),
        precision=mean(precision),
        recall=mean(recall),
        ndcg=mean(ndcg),
        map=mean(average_precision),
        coverage=len(shown) / catalogue_size if catalogue_size else 0.0,
    )
