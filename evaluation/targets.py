"""Which predictions protocol 2 makes: the validation/test split and the targets.

* Each hour's sessions are split 50:50 into validation and test with a fixed seed
  (:func:`split_sessions`; the split of an hour does not depend on the hours evaluated).
* *Last click*: a session's last click, predicted from the clicks before it; *every
  position*: each click after the first, from its prefix (:func:`make_queries`).
* *Arrival*: a returning reader's first click of a session, 30 min or more after their
  last click, predicted from their earlier clicks only (:func:`arrivals`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from evaluation.data import Sessions
from evaluation.history import reader_key

VALIDATION, TEST = 0, 1
MINUTE = 60_000


def split_sessions(sessions: Sessions, seed: int) -> np.ndarray:
    """VALIDATION or TEST for every session: per hour, sessions in id order, shuffled with
    a generator seeded by ``(seed, hour)``; the first half (rounded down) is validation."""
    labels = np.full(len(sessions), TEST, dtype=np.int8)
    order = np.lexsort((sessions.session_id, sessions.hour))
    hours = sessions.hour[order]
    bounds = np.flatnonzero(np.r_[True, hours[1:] != hours[:-1], True])
    for a, b in itertools.pairwise(bounds):
        members = order[a:b]
        shuffled = members[np.random.default_rng([seed, int(hours[a])]).permutation(len(members))]
        labels[shuffled[: len(members) // 2]] = VALIDATION
    return labels


@dataclass(frozen=True)
class Queries:
    """Predictions to make: session index and the target's position in the session."""

    session: np.ndarray
    position: np.ndarray

    def __len__(self) -> int:
        return len(self.session)


def arrivals(sessions: Sessions, chosen: np.ndarray, gap_ms: int = 30 * MINUTE) -> Queries:
    """The first click of each chosen session of a returning reader whose latest earlier
    click (in any session, strictly before this one's first) is ``gap_ms`` or more before it."""
    owner = np.repeat(np.arange(len(sessions)), sessions.lengths)
    key = np.sort(reader_key(sessions.user[owner], sessions.ts))
    first = sessions.ts[sessions.offsets[:-1]]
    before = np.searchsorted(key, reader_key(sessions.user, first), side="left") - 1
    base = reader_key(sessions.user, 0)
    previous = key[np.maximum(before, 0)]  # below the reader's first click: theirs if >= base
    returning = (before >= 0) & (previous >= base)
    gap = first - (previous - base)
    idx = np.flatnonzero(chosen & returning & (gap >= gap_ms))
    return Queries(idx, np.zeros(len(idx), dtype=np.int64))


def make_queries(sessions: Sessions, chosen: np.ndarray, *, every_position: bool) -> Queries:
    """The last click of each chosen session (with at least 2 clicks), or every click
    after the first."""
    idx = np.flatnonzero(chosen & (sessions.lengths >= 2))
    if not every_position:
        return Queries(idx, sessions.lengths[idx] - 1)
    counts = sessions.lengths[idx] - 1
    session = np.repeat(idx, counts)
    position = np.arange(len(session)) - np.repeat(np.cumsum(counts) - counts, counts) + 1
    return Queries(session, position)
