"""The streaming job's live lists at any moment of a replay, computed with numpy.

The lists are those of ``newslake.ranking.covisitation`` and ``top_by_views`` (and so of
``spark_jobs.fresh`` and ``spark_jobs.popularity``), for every refresh of the streaming
job over two weeks of G1, and the hot list serving computes from the session-state
consumer's counts: too many refreshes for plain Python, so this module computes
them in bulk. ``tests/evaluation/test_signals.py`` checks it against ``newslake.ranking``
and ``tests/spark_jobs/test_fresh_matches_ranking.py`` checks Spark against the same.

A list "at time T" is built from the clicks with time < T: a click at T itself is not yet
seen (the next click to predict may carry the same millisecond).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from evaluation.data import Sessions
from newslake.ranking import PAIR_WEIGHTS, PairWeights
from newslake.settings import Settings, setting_default

Ranked = list[tuple[int, float]]
"""(article id, score), best first."""


def text_order(items: np.ndarray) -> np.ndarray:
    """For ids ``0 .. items.max()``: each id's rank when the ids are sorted as text (the
    tie-break of Spark and ``newslake.ranking``)."""
    ids = np.arange(int(items.max()) + 1 if len(items) else 1)
    order = np.argsort(ids.astype(str), kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank


def top_per_group(
    group: np.ndarray, item: np.ndarray, score: np.ndarray, tie: np.ndarray, k: int
) -> dict[int, Ranked]:
    """Per group, the ``k`` items of highest score (ties by ``tie`` ascending)."""
    if len(group) == 0:
        return {}
    order = np.lexsort((tie[item], -score, group))
    group, item, score = group[order], item[order], score[order]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    position = np.arange(len(group)) - np.repeat(starts, np.diff(np.r_[starts, len(group)]))
    keep = position < k
    group, item, score = group[keep], item[keep], score[keep]
    bounds = np.flatnonzero(np.r_[True, group[1:] != group[:-1], True])
    items, scores = item.tolist(), score.tolist()
    return {
        int(group[a]): list(zip(items[a:b], scores[a:b], strict=True))
        for a, b in itertools.pairwise(bounds)
    }


@dataclass
class Covisitation:
    """Every directed pair of clicks in one session, ordered by when the pair formed."""

    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    formed: np.ndarray  # time of the later click: the pair exists from then
    first: np.ndarray  # time of the earlier click: the pair leaves the window with it
    tie: np.ndarray
    hour: np.ndarray  # hour of the pair's session
    by_first: np.ndarray  # pair indices in order of ``first``

    @classmethod
    def of(
        cls, sessions: Sessions, tie: np.ndarray, weights: PairWeights = PAIR_WEIGHTS
    ) -> Covisitation:
        """Pairs at every position gap; each adds ``weights(gap)`` to the earlier article's
        list and ``weights(-gap)`` to the later one's."""
        n = len(sessions.item)
        owner = np.repeat(np.arange(len(sessions)), sessions.lengths)
        parts: list[tuple[np.ndarray, ...]] = []
        max_gap = int(sessions.lengths.max()) if len(sessions) else 0
        for gap in range(1, max_gap):
            a = np.arange(n - gap)
            a = a[owner[a] == owner[a + gap]]
            b = a + gap
            ia, ib, ta, tb = sessions.item[a], sessions.item[b], sessions.ts[a], sessions.ts[b]
            h = sessions.hour[owner[a]]
            parts.append((ia, ib, np.full(len(a), weights(gap)), tb, ta, h))
            parts.append((ib, ia, np.full(len(a), weights(-gap)), tb, ta, h))
        if not parts:
            e = np.array([], dtype=np.int64)
            return cls(e, e, e.astype(float), e, e, tie, e, e)
        src, dst, weight, formed, first, hour = (
            np.concatenate(c) for c in zip(*parts, strict=True)
        )
        order = np.argsort(formed, kind="stable")
        first = first[order]
        return cls(
            src[order],
            dst[order],
            weight[order],
            formed[order],
            first,
            tie,
            hour[order],
            np.argsort(first, kind="stable"),
        )

    def lists(self, at: int, window: int, top_k: int, sources: np.ndarray) -> dict[int, Ranked]:
        """The co-visitation list of each article in ``sources`` at time ``at``."""
        lo = np.searchsorted(self.formed, at - window, side="right")
        hi = np.searchsorted(self.formed, at, side="left")
        keep = (self.first[lo:hi] > at - window) & np.isin(self.src[lo:hi], sources)
        return self._lists(np.arange(lo, hi)[keep], top_k)

    def lists_of_earlier_hours(
        self, at: int, window: int, top_k: int, sources: np.ndarray, hour: int
    ) -> dict[int, Ranked]:
        """Strict: the lists of ``sources`` from every pair of a session of an hour before
        ``hour`` whose earlier click is in the window ending at ``at`` (the hour's start),
        later clicks of those sessions included."""
        idx = self.by_first[np.searchsorted(self.first_sorted, at - window, side="right") :]
        idx = idx[(self.hour[idx] < hour) & np.isin(self.src[idx], sources)]
        return self._lists(idx, top_k)

    @cached_property
    def first_sorted(self) -> np.ndarray:
        return self.first[self.by_first]

    def _lists(self, idx: np.ndarray, top_k: int) -> dict[int, Ranked]:
        src, dst = self.src[idx], self.dst[idx]
        if len(src) == 0:
            return {}
        key = src.astype(np.int64) << 32 | dst.astype(np.int64)
        keys, inverse = np.unique(key, return_inverse=True)
        score = np.bincount(inverse, weights=self.weight[idx])
        return top_per_group(keys >> 32, keys & 0xFFFFFFFF, score, self.tie, top_k)


@dataclass(frozen=True)
class HotShape:
    """How serving makes the live hot list (all in ms): the buckets it reads (those that
    start in the last ``keep``, from the start of the bucket holding ``now - keep``), their
    length, and the half-life of a view."""

    keep: int = setting_default("live_hot_keep_s") * 1000
    bucket: int = setting_default("hot_bucket_s") * 1000
    half_life: float = setting_default("live_hot_half_life_s") * 1000

    @classmethod
    def from_settings(cls, settings: Settings) -> HotShape:
        return cls(
            keep=settings.live_hot_keep_s * 1000,
            bucket=settings.hot_bucket_s * 1000,
            half_life=settings.live_hot_half_life_s * 1000,
        )


@dataclass
class Views:
    """Every click in time order, for most-viewed lists over a window."""

    item: np.ndarray
    ts: np.ndarray
    tie: np.ndarray
    hour: np.ndarray  # of the click's session

    @classmethod
    def of(cls, sessions: Sessions, tie: np.ndarray) -> Views:
        order = np.argsort(sessions.ts, kind="stable")
        hour = np.repeat(sessions.hour, sessions.lengths)
        return cls(sessions.item[order], sessions.ts[order], tie, hour[order])

    def most_viewed(self, at: int, window: int, top_n: int, hour: int | None = None) -> Ranked:
        """The ``top_n`` articles clicked most in ``(at - window, at)``; with ``hour``
        (strict), clicks of sessions of earlier hours after ``at - window``, later ones too."""
        lo = np.searchsorted(self.ts, at - window, side="right")
        if hour is None:
            hi = np.searchsorted(self.ts, at, side="left")
            clicked = self.item[lo:hi]
        else:
            clicked = self.item[lo:][self.hour[lo:] < hour]
        items, counts = np.unique(clicked, return_counts=True)
        lists = top_per_group(
            np.zeros(len(items), dtype=np.int64), items, counts.astype(float), self.tie, top_n
        )
        return lists.get(0, [])

    def hot(self, at: int, shape: HotShape, top_n: int, hour: int | None = None) -> Ranked:
        """``newslake.ranking.hot_list`` of the session-state consumer's counts, as serving
        reads them at ``at``: views counted per bucket of ``shape.bucket`` ms, the buckets
        from the one holding ``at - shape.keep``, each bucket's views halved every
        ``shape.half_life`` ms of its middle's age (never below 0). Online, the views before
        ``at``; with ``hour`` (strict), those of sessions of earlier hours, later ones too
        (as strict trending counts them)."""
        bucket = shape.bucket
        lo = np.searchsorted(self.ts, (at - shape.keep) // bucket * bucket, side="left")
        if hour is None:
            hi = np.searchsorted(self.ts, at, side="left")
            clicked, ts = self.item[lo:hi], self.ts[lo:hi]
        else:
            earlier = self.hour[lo:] < hour
            clicked, ts = self.item[lo:][earlier], self.ts[lo:][earlier]
        age = np.maximum(at - (ts - ts % bucket + bucket / 2), 0)
        weight = np.power(0.5, age / shape.half_life)
        items, inverse = np.unique(clicked, return_inverse=True)
        scores = np.bincount(inverse.ravel(), weights=weight, minlength=len(items))
        lists = top_per_group(np.zeros(len(items), dtype=np.int64), items, scores, self.tie, top_n)
        return lists.get(0, [])

    def counts(self, at: int, window: int) -> dict[int, int]:
        """Clicks per article in ``(at - window, at)``."""
        lo = np.searchsorted(self.ts, at - window, side="right")
        hi = np.searchsorted(self.ts, at, side="left")
        items, counts = np.unique(self.item[lo:hi], return_counts=True)
        return dict(zip(items.tolist(), counts.tolist(), strict=True))
