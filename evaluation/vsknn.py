"""V-SkNN, vector-multiplication session-based k nearest neighbours: the sanity reference.

Written from the method's description (Ludewig and Jannach, "Evaluation of session-based
recommendation algorithms", 2018; used as a baseline by Moreira et al., RecSys 2021):

* the current session is a vector over its articles weighted by a linear decay of their
  position: the i-th of n clicks weighs i/n, the last one 1;
* candidate neighbours are the ``sample_size`` most recent past sessions that share an
  article with it; a neighbour's similarity is the dot product of the weighted vector
  with the neighbour's binary vector;
* the ``k`` most similar neighbours (ties: the more recent) vote for their articles with
  their similarity; the session's own articles are left out.

The state grows click by click (:meth:`VSkNN.add`), so the same object serves the strict
protocol (state frozen at the hour's start) and the online one (every click before the
prediction).
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from typing import cast


@dataclass(frozen=True)
class VSkNNParams:
    k: int = 100
    sample_size: int = 500


class VSkNN:
    """A session's recency, as a candidate neighbour, is when it last read one of the
    articles it shares with the current session (its place in that article's list)."""

    def __init__(self, params: VSkNNParams = VSkNNParams()) -> None:
        self.params = params
        # article -> the sessions that read it, and when (click sequence number), in order
        self._sessions_of: dict[int, list[int]] = defaultdict(list)
        self._seq_of: dict[int, list[int]] = defaultdict(list)
        self._items_of: dict[int, list[int]] = defaultdict(list)  # session -> articles
        self._clicks = 0

    def add(self, session: int, item: int) -> None:
        """One click, in time order."""
        self._clicks += 1
        items = self._items_of[session]
        if item not in items:
            items.append(item)
            self._sessions_of[item].append(session)
            self._seq_of[item].append(self._clicks)

    def neighbours(
        self, prefix: Sequence[int], session: int | None = None
    ) -> list[tuple[int, float]]:
        """The ``k`` nearest sessions and their similarity, best first, among the
        ``sample_size`` most recent candidates."""
        p = self.params
        length = len(prefix)
        if length == 1:  # every candidate scores 1: the most recent win
            tail = self._sessions_of.get(prefix[0], [])[-(p.k + 1) :]
            return [(s, 1.0) for s in reversed(tail) if s != session][: p.k]
        similarity: dict[int, float] = defaultdict(float)
        recent: dict[int, int] = {}
        for i, item in enumerate(prefix):
            w = (i + 1) / length
            sessions = self._sessions_of.get(item)
            if not sessions:
                continue
            for s, seq in zip(
                sessions[-p.sample_size :], self._seq_of[item][-p.sample_size :], strict=True
            ):
                similarity[s] += w
                if recent.get(s, 0) < seq:
                    recent[s] = seq
        recent.pop(session, None)  # type: ignore[arg-type]
        if len(recent) > p.sample_size:
            ranked = sorted(recent.items(), key=itemgetter(1), reverse=True)
            recent = dict(ranked[: p.sample_size])
        best = sorted(((similarity[s], seq, s) for s, seq in recent.items()), reverse=True)
        return [(s, sim) for sim, _, s in best[: p.k]]

    def recommend(self, prefix: Sequence[int], n: int, session: int | None = None) -> list[int]:
        """The ``n`` best articles after ``prefix`` (oldest first), none of its own;
        ``session`` (the one being predicted) is never its own neighbour. Ties keep the
        order in which the nearest neighbours proposed them."""
        neighbours = self.neighbours(prefix, session)
        items_of = self._items_of
        if len(prefix) == 1:
            counts = Counter(chain.from_iterable(items_of[s] for s, _ in neighbours))
            scores: dict[int, float] = cast(dict[int, float], counts)
        else:
            scores = defaultdict(float)
            for s, similarity in neighbours:
                for item in items_of[s]:
                    scores[item] += similarity
        for item in prefix:
            scores.pop(item, None)
        return heapq.nlargest(n, scores, key=scores.__getitem__)
