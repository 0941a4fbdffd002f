"""What a reader has read at a moment of the replay: their recent reads across sessions.

Serving keeps each reader's recent reads as a bounded list (newest first, the last
``recent_reads_hours``, at most ``recent_reads_limit`` articles), updated within seconds of
each pageview; the reader's list leaves them all out and uses the co-visitation of the
newest. Here the same list is made for each prediction from the G1 clicks:

* **online**: the reader's clicks in other sessions in ``(at - window, at)`` (a click at the
  prediction's millisecond is not yet seen, as in ``evaluation.signals``), plus the session
  so far;
* **strict**: the clicks of the reader's sessions of earlier hours after ``at - window``
  (``at`` is the hour's start; those sessions whole, later clicks included, as strict's
  lists count them), plus the session so far.

The clicks are the replay's sessions (capped at their first 20 clicks).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from evaluation.data import Sessions
from newslake.settings import Settings, setting_default

HOUR = 3_600_000
_SHIFT = 42  # a reader's id above a click's epoch ms (41 bits until 2039), in one int64


def reader_key(user: np.ndarray | int, ts: np.ndarray | int) -> np.ndarray:
    """One sortable int64 per (reader, time): by reader, then time (from -1 to 2**42 - 2)."""
    return (np.asarray(user, dtype=np.int64) << _SHIFT) + np.asarray(ts, dtype=np.int64)


@dataclass(frozen=True)
class ReadsShape:
    """The recent reads serving keeps: ``window`` ms back, at most ``limit`` articles."""

    window: int = setting_default("recent_reads_hours") * HOUR
    limit: int = setting_default("recent_reads_limit")

    @classmethod
    def from_settings(cls, settings: Settings) -> ReadsShape:
        return cls(settings.recent_reads_hours * HOUR, settings.recent_reads_limit)


@dataclass(frozen=True)
class ReadQueries:
    """Whose reads to find, and when: per prediction, the session (index in ``Sessions``),
    how many of its clicks are read already, and the moment."""

    session: np.ndarray
    position: np.ndarray
    at: np.ndarray


class ReaderClicks:
    """Every click by reader, then time, for finding a reader's reads in a window."""

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions
        owner = np.repeat(np.arange(len(sessions)), sessions.lengths)
        user = sessions.user[owner].astype(np.int64)
        order = np.lexsort((sessions.ts, user))
        self._key = reader_key(user[order], sessions.ts[order])
        self._item = sessions.item[order].tolist()
        self._ts = sessions.ts[order].tolist()
        self._session = owner[order].tolist()
        self._hour = sessions.hour[owner][order].tolist()

    def recent(
        self, queries: ReadQueries, shape: ReadsShape, *, strict: bool = False
    ) -> Iterator[list[tuple[int, int]]]:
        """Each prediction's recent reads ``(article, time)``, newest first, each article
        once at its latest read (module docstring for what online and strict see)."""
        s = self._sessions
        user = s.user[queries.session]
        since = np.maximum(queries.at - shape.window, -1)  # no click is before time 0
        lo = np.searchsorted(self._key, reader_key(user, since), side="right")
        end = reader_key(user + 1, 0) if strict else reader_key(user, queries.at)
        hi = np.searchsorted(self._key, end, side="left")
        starts = s.offsets[queries.session]
        columns = (lo, hi, queries.session, s.hour[queries.session], starts, queries.position)
        items, ts = s.item.tolist(), s.ts.tolist()
        for a, b, own, hour, start, position in zip(*(c.tolist() for c in columns), strict=True):
            reads = [
                (self._ts[i], self._item[i])
                for i in range(a, b)
                if self._session[i] != own and (not strict or self._hour[i] < hour)
            ]
            reads += zip(ts[start : start + position], items[start : start + position], strict=True)
            yield _newest_first(reads, shape.limit)


def _newest_first(reads: list[tuple[int, int]], limit: int) -> list[tuple[int, int]]:
    """``reads`` (time, article) as (article, time), newest first (of equal times, the
    later in ``reads``), each article once, at most ``limit``."""
    seen: set[int] = set()
    out: list[tuple[int, int]] = []
    for ts, article in reversed(sorted(reads, key=lambda read: read[0])):
        if article not in seen:
            seen.add(article)
            out.append((article, ts))
            if len(out) == limit:
                break
    return out
