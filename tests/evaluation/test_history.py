"""A reader's recent reads at a moment: the last 24 h across sessions, plus the session so far."""

from __future__ import annotations

import numpy as np

from evaluation.history import ReaderClicks, ReadQueries, ReadsShape
from tests.evaluation.g1files import sessions

MIN, HOUR = 60_000, 3_600_000
T = 48 * HOUR  # times below are after T

# Reader 7 reads in four sessions; reader 8 once. The prediction is session 1's third click
# (prefix 3, 4; target 5), online at 61 min.
READS = sessions(
    [
        (0, [(1, T), (3, T + 1 * MIN)]),  # 0: reader 7, 3 is read again in session 1
        (1, [(3, T + 60 * MIN), (4, T + 61 * MIN), (5, T + 62 * MIN)]),  # 1: the query
        (1, [(6, T + 61 * MIN - 1)]),  # 2: reader 8
        (0, [(7, T + 50 * MIN), (8, T + 70 * MIN)]),  # 3: reader 7, 8 after the prediction
        (0, [(9, T + 61 * MIN - 24 * HOUR), (10, T + 61 * MIN - 24 * HOUR + 1)]),  # 4: reader 7
    ],
    users=[7, 7, 8, 7, 7],
)
QUERY = ReadQueries(session=np.array([1]), position=np.array([2]), at=np.array([T + 61 * MIN]))


def test_online_the_reads_are_the_readers_other_sessions_last_24_h_and_the_session_so_far():
    recent = list(ReaderClicks(READS).recent(QUERY, ReadsShape(window=24 * HOUR, limit=50)))

    # newest first: 4 (61), 3 (60; also read at 1 min), 7 (50), 1 (0), 10 (24 h - 1 ms ago);
    # not 8 (read later), 9 (24 h ago, out of the window), 6 (another reader), 5 (the target)
    day = 24 * HOUR
    assert recent == [
        [
            (4, T + 61 * MIN),
            (3, T + 60 * MIN),
            (7, T + 50 * MIN),
            (1, T),
            (10, T + 61 * MIN - day + 1),
        ]
    ]


def test_strict_the_reads_are_the_readers_sessions_of_earlier_hours_whole():
    at_hour_start = ReadQueries(QUERY.session, QUERY.position, at=np.array([T + 60 * MIN]))

    strict = ReaderClicks(READS).recent(at_hour_start, ReadsShape(24 * HOUR, 50), strict=True)

    # sessions 0, 3 and 4 are of hour 0, whole: 8 (70 min) counts, as strict's lists count
    # it; the window ends at the hour's start (60 min), so 9 (24 h before 61 min) is in too
    assert [[a for a, _ in reads] for reads in strict] == [[8, 4, 3, 7, 1, 10, 9]]


def test_the_reads_are_at_most_the_limit_newest():
    recent = ReaderClicks(READS).recent(QUERY, ReadsShape(window=24 * HOUR, limit=3))
    assert [[a for a, _ in reads] for reads in recent] == [[4, 3, 7]]
