"""Protocol 2's replay: leave-out, strict against online, arrivals' moment, the metrics' k."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation import protocol2, targets
from evaluation.protocol2 import Config, Engine
from newslake.ranking import ArticlePageParams
from tests.evaluation.g1files import RETURNS, sessions

MIN = 60_000


# Hour 0 (history): 1 -> 2 twice, 1 -> 3 once. Hour 1: two sessions read 1 then 3.
HISTORY = [
    (0, [(1, 0), (2, 1 * MIN)]),
    (0, [(1, 2 * MIN), (2, 3 * MIN)]),
    (0, [(1, 4 * MIN), (3, 5 * MIN)]),
]
HOUR1 = [(1, [(1, 60 * MIN), (3, 61 * MIN)]), (1, [(1, 65 * MIN), (3, 66 * MIN)])]


def _newslake_ranks(mode, history=HISTORY):
    s = sessions([*history, *HOUR1])
    engine = Engine(s, Config(blend=ArticlePageParams(trending_weight=0.5)))
    queries = targets.make_queries(s, s.hour == 1, every_position=False)
    models = {"newslake": protocol2.models(engine.config)["newslake"]}
    return engine.sweep(queries, mode, models, vsknn=False)


def test_strict_lists_are_those_of_the_hours_start():
    # At 60 min: related(1) = [2: 2.0, 3: 1.0], nothing trending: 3 comes second.
    result = _newslake_ranks("strict")
    assert result.ranks["newslake"].tolist() == [2, 2]
    summary = protocol2.summarise(result, last_only=True)["newslake"]
    assert summary["ndcg_at_20"] == pytest.approx(round(1 / np.log2(3), 4))
    assert summary["hr_at_20"] == 1.0


def test_strict_lists_hold_every_click_of_the_earlier_hours_sessions():
    # Two sessions of hour 0 read 1 then 3 just after hour 1 has started: strict counts
    # them (they are sessions of an earlier hour), so 3 (1 + 2) passes 2 (2).
    late = [(0, [(1, 58 * MIN), (3, 61 * MIN)]), (0, [(1, 59 * MIN), (3, 62 * MIN)])]
    result = _newslake_ranks("strict", [*HISTORY, *late])
    assert result.ranks["newslake"].tolist() == [1, 1]


def test_online_lists_see_the_hours_earlier_clicks_as_the_streaming_job_publishes_them():
    # The second session predicts at 65 min: trending (refreshed at 65 min, last 15 min)
    # holds 1 and 3 from the first session, so 3 (1.0 + 0.5) passes 2 (1.0).
    result = _newslake_ranks("online")
    assert result.ranks["newslake"].tolist() == [2, 1]
    summary = protocol2.summarise(result, last_only=True)["newslake"]
    assert summary["ndcg_at_20"] == pytest.approx(round((1 / np.log2(3) + 1) / 2, 4))


def test_articles_of_the_session_are_left_out_whatever_a_model_returns():
    s = sessions([*HISTORY, *HOUR1])
    engine = Engine(s)
    queries = targets.make_queries(s, s.hour == 1, every_position=False)

    def careless(prefix, ctx):
        return [*prefix, 3]

    result = engine.sweep(queries, "strict", {"careless": careless}, vsknn=False)
    assert result.ranks["careless"].tolist() == [1, 1]
    assert result.shown["careless"][:, :2].tolist() == [[3, -1], [3, -1]]


def test_the_metrics_are_at_config_k_so_a_target_past_20_counts_when_k_is_30():
    s = sessions([*HISTORY, *HOUR1])
    engine = Engine(s, Config(k=30))
    queries = targets.make_queries(s, s.hour == 1, every_position=False)

    def deep(prefix, ctx):
        return [*range(100, 125), 3]  # 25 other articles, then the target

    result = engine.sweep(queries, "strict", {"deep": deep}, vsknn=False)
    summary = protocol2.summarise(result, last_only=True)["deep"]
    assert result.ranks["deep"].tolist() == [26, 26]
    assert summary["ndcg_at_30"] == pytest.approx(round(1 / np.log2(27), 4))
    assert summary["hr_at_30"] == 1.0
    assert "ndcg_at_20" not in summary and "hr_at_20" not in summary


def test_an_arrival_is_predicted_at_its_own_click_and_its_session_is_not_read_yet():
    engine = Engine(RETURNS, Config(trending_window_ms=90 * MIN))
    queries = targets.arrivals(RETURNS, np.ones(len(RETURNS), dtype=bool))

    assert engine.query_times(queries, "online").tolist() == [60 * MIN, 41 * MIN, 50 * MIN]

    def seen(prefix, ctx):  # what trending holds when the reader arrives
        return [a for a, _ in ctx.trending()]

    result = engine.sweep(queries, "online", {"seen": seen}, vsknn=False)
    ranked = zip(result.targets.tolist(), result.ranks["seen"].tolist(), strict=True)
    assert sorted(ranked) == [
        (2, 2),  # at 50 min, reader 10's 2: before it 1 x4, 2 x3, 3 and 4 once
        (3, 0),  # at 41 min, reader 9's 3: not read by anyone before 41 min
        (3, 3),  # at 60 min, reader 7's 3: 1 x4, 2 x4, 3 x2 (41 and 51 min), 4
    ]
