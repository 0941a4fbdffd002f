"""Trending now and recent reads kept in the streaming job's driver, fed by each micro-batch.

Recomputing the live lists from ``silver.pageviews`` every few seconds means Spark jobs that
rescan the table and compete with the micro-batches for the cores. Instead each micro-batch
hands its new ``view`` events (a few hundred rows) to :class:`LiveSignals`, which keeps the
trending window's views in memory, and the publisher writes the lists with no Spark job:

* **trending**: views in ``(as_of - window, as_of]`` per portal, as_of being the newest view
  seen (data time, as ``popularity.top_by_views``), ranked by views, ties by article id;
* **new readers**: the readers with new views since the last round, and their reads (the
  serving store's recent reads are the session-state consumer's, ``ingestion/``; here they
  only tell the publisher that a round has something new).

A view delivered twice (at-least-once collection, or a replayed micro-batch) counts once:
page-view ids are remembered for as long as their view is in the window.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from newslake.store import ScoredItem

Reader = tuple[str, str]  # (portal, user_id)


@dataclass(frozen=True)
class View:
    portal: str
    user_id: str
    article_id: str
    pageview_id: str
    at: float  # epoch seconds (client time)


@dataclass
class _Window:
    views: deque[View] = field(default_factory=deque)  # in arrival order, about time order
    counts: Counter[str] = field(default_factory=Counter)


class LiveSignals:
    """Thread-safe: micro-batches :meth:`add`, the publisher :meth:`drain`."""

    def __init__(self, trending_window: timedelta, top_n: int) -> None:
        self.window_s = trending_window.total_seconds()
        self.top_n = top_n
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}
        self._seen: set[str] = set()
        self._readers: dict[Reader, dict[str, float]] = {}
        self.as_of: float | None = None

    def add(self, views: Iterable[View], *, readers: bool = True) -> int:
        """Take new views (``readers=False``: count them for trending only). Returns how
        many were new."""
        added = 0
        with self._lock:
            for v in views:
                if v.pageview_id in self._seen:
                    continue
                self._seen.add(v.pageview_id)
                w = self._windows.setdefault(v.portal, _Window())
                w.views.append(v)
                w.counts[v.article_id] += 1
                if readers:
                    reads = self._readers.setdefault((v.portal, v.user_id), {})
                    reads[v.article_id] = max(reads.get(v.article_id, v.at), v.at)
                self.as_of = v.at if self.as_of is None else max(self.as_of, v.at)
                added += 1
        return added

    def drain(self) -> tuple[dict[str, list[ScoredItem]], dict[Reader, dict[str, float]]]:
        """Trending per portal now, and the readers with new reads since the last drain."""
        with self._lock:
            self._evict()
            trending = {p: self._top(w.counts) for p, w in self._windows.items()}
            readers, self._readers = self._readers, {}
        return trending, readers

    def restore(self, readers: Mapping[Reader, Mapping[str, float]]) -> None:
        """Give back drained readers whose lists could not be written (a store outage), so
        the next round writes them."""
        with self._lock:
            for reader, reads in readers.items():
                mine = self._readers.setdefault(reader, {})
                for article, at in reads.items():
                    mine[article] = max(mine.get(article, at), at)

    def _evict(self) -> None:
        if self.as_of is None:
            return
        since = self.as_of - self.window_s
        for w in self._windows.values():
            # One pass, not a pop from the left: views arrive only about in time order.
            kept: deque[View] = deque()
            for v in w.views:
                if v.at > since:
                    kept.append(v)
                    continue
                w.counts[v.article_id] -= 1
                if not w.counts[v.article_id]:
                    del w.counts[v.article_id]
                self._seen.discard(v.pageview_id)
            w.views = kept

    def _top(self, counts: Mapping[str, int]) -> list[ScoredItem]:
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: self.top_n]
        return [ScoredItem(article, float(views)) for article, views in ranked]
