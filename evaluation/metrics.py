"""Next-click metrics: one relevant article per prediction, averaged within each hour, then
over hours (as Moreira et al., RecSys 2021, report G1).

A model's list is already ranked (its ties broken by article id as text, the convention of
``spark_jobs.metrics.rank``), so the target's rank is well defined: NDCG@k is
``1 / log2(rank + 1)`` (rank from 1) when the target is in the top k, else 0; HR@k is 1
when it is in the top k. With one relevant item these are ``spark_jobs.metrics.ndcg`` and
``hit_rate``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

K = 20


def target_rank(ranking: Sequence[int], target: int) -> int:
    """1-based rank of ``target`` in ``ranking``; 0 when absent."""
    for i, item in enumerate(ranking):
        if item == target:
            return i + 1
    return 0


def ndcg(rank: int, k: int = K) -> float:
    return 1.0 / math.log2(rank + 1) if 0 < rank <= k else 0.0


def hit(rank: int, k: int = K) -> float:
    return 1.0 if 0 < rank <= k else 0.0


def ndcg_array(ranks: np.ndarray, k: int = K) -> np.ndarray:
    ranks = np.asarray(ranks, dtype=float)
    found = (ranks > 0) & (ranks <= k)
    out = np.zeros(len(ranks))
    out[found] = 1.0 / np.log2(ranks[found] + 1)
    return out


def hit_array(ranks: np.ndarray, k: int = K) -> np.ndarray:
    ranks = np.asarray(ranks)
    return ((ranks > 0) & (ranks <= k)).astype(float)


def per_hour(hours: np.ndarray, values: np.ndarray) -> dict[int, float]:
    """Mean of ``values`` within each hour."""
    hours = np.asarray(hours, dtype=np.int64)
    values = np.asarray(values, dtype=float)
    if len(hours) == 0:
        return {}
    counts = np.bincount(hours)
    sums = np.bincount(hours, weights=values)
    return {int(h): float(sums[h] / counts[h]) for h in np.flatnonzero(counts)}


def over_hours(by_hour: dict[int, float]) -> float:
    """Mean over hours of the hourly means (every hour weighs the same)."""
    if not by_hour:
        raise ValueError("no hour has a prediction to score")
    return sum(by_hour.values()) / len(by_hour)
