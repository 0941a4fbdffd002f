"""The reader's list in the replay: newslake.ranking.reader_list on the lists the replay
built for the moment, and the nightly list as it was served."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation import readers, targets
from evaluation.nightly import Nightly, Published
from evaluation.protocol2 import Config, Engine
from newslake import ranking
from newslake.ranking import Pick
from tests.evaluation.g1files import sessions

MIN, HOUR = 60_000, 3_600_000
T0 = 2 * HOUR

# Reader 3 read 2 then 9 in an earlier session; now reads 1 and is predicted (7) at T0 + 10 min.
SESSIONS = sessions(
    [
        (0, [(1, T0), (2, T0 + 1 * MIN)]),  # 0: reader 1
        (0, [(1, T0 + 2 * MIN), (3, T0 + 3 * MIN)]),  # 1: reader 2
        (0, [(2, T0 + 5 * MIN), (9, T0 + 6 * MIN)]),  # 2: reader 3, earlier
        (0, [(8, 90 * MIN)]),  # 3: reader 4, before trending's window
        (1, [(1, T0 + 10 * MIN), (7, T0 + 11 * MIN)]),  # 4: reader 3, the query
    ],
    users=[1, 2, 3, 4, 3],
)
# What the nightly run published for reader 3 (row 0), before the query.
NIGHTLY = Nightly(
    [
        Published(
            cutoff=0,
            rows={3: 0},
            items={"blend": np.array([[5, -1]]), "als": np.array([[6, 5]])},
            scores={"blend": np.array([[1 / 11, 0.0]]), "als": np.array([[0.5, 0.25]])},
        )
    ]
)
CONFIG = Config(covisit_refresh_ms=MIN)


def _sweep(models, lend_ms=24 * HOUR):
    engine = Engine(SESSIONS, CONFIG, NIGHTLY)
    queries = targets.make_queries(SESSIONS, SESSIONS.hour == 1, every_position=False)
    return engine.sweep(queries, "online", models, vsknn=False, reads=3)


def test_the_replay_calls_reader_list_on_the_lists_it_built(monkeypatch):
    calls = []

    def spy(lists, params):
        calls.append((lists, params))
        return [Pick(42, 1.0, "hot")]

    monkeypatch.setattr(ranking, "reader_list", spy)
    params = ranking.ReaderParams(last_reads=3)
    model = readers.reader_model(params, 20, lend_ms=24 * HOUR)

    result = _sweep({"reader": model})

    [(lists, used)] = calls
    assert used == ranking.ReaderParams(last_reads=3, limit=20)
    assert list(lists.recent) == [1, 9, 2]  # newest first, the session's 1 included
    # Pairs formed before T0 + 10 min: 1 -> 2, 1 -> 3, 2 -> 9 (1/gap^2 forward, 0.1 back).
    assert lists.covisited == {1: [(2, 1.0), (3, 1.0)], 9: [(2, 0.1)], 2: [(9, 1.0), (1, 0.1)]}
    # 15 min before T0 + 10 min: 1 and 2 twice, 3 and 9 once (8 is older).
    assert lists.trending == [(1, 2.0), (2, 2.0), (3, 1.0), (9, 1.0)]
    # Minute buckets of the last hour, halved every 2 min of their middle's age: 9 at 4 min
    # before, 2 at 9 and 5, 1 at 10 and 8, 3 at 7, 8 at 40.
    assert [a for a, _ in lists.hot] == [9, 2, 1, 3, 8]
    assert [s for _, s in lists.hot] == pytest.approx(
        [2**-1.75, 2**-4.25 + 2**-2.25, 2**-4.75 + 2**-3.75, 2**-3.25, 2**-19.75]
    )
    assert lists.personal == [(6, 0.5), (5, 0.25)]  # the ALS list
    assert lists.popular == [(8, 1.0)]  # the last 24 h as of the hour (T0): only 8
    assert result.shown["reader"][0, :2].tolist() == [42, -1]


def test_only_reads_of_the_lending_window_lend_their_co_visitation(monkeypatch):
    calls = []
    monkeypatch.setattr(ranking, "reader_list", lambda lists, params: calls.append(lists) or [])
    model = readers.reader_model(ranking.ReaderParams(last_reads=3), 20, lend_ms=5 * MIN - 1)

    _sweep({"reader": model})

    # 9 and 2 were read 4 and 5 min before: only 1 (now) and 9 lend; 2 is still left out
    assert calls[0].covisited == {1: [(2, 1.0), (3, 1.0)], 9: [(2, 0.1)]}
    assert list(calls[0].recent) == [1, 9, 2]

    _sweep({"reader": readers.reader_model(ranking.ReaderParams(), 20, lend_ms=5 * MIN)})
    assert 2 in calls[1].covisited  # read exactly 5 min before: it lends, as serving has it


def test_the_nightly_list_as_served_is_the_published_blend_less_reads_then_trending_popular():
    result = _sweep(readers.models(CONFIG))

    # published 5; trending less the reads 1, 9, 2: 3; popular: 8
    assert result.shown["nightly"][0, :4].tolist() == [5, 3, 8, -1]
    assert result.shown["trending"][0, :3].tolist() == [3, 8, -1]
