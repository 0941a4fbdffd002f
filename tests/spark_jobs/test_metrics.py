from __future__ import annotations

import math

import pytest

from spark_jobs import metrics as m

RANKING = ["a", "b", "c", "d"]


def test_rank_breaks_ties_by_item_id():
    assert m.rank({"b": 1.0, "a": 1.0, "c": 2.0}) == ["c", "a", "b"]
    assert m.rank({"b": 1.0, "a": 1.0, "c": 2.0}, k=2) == ["c", "a"]


def test_hit_precision_recall_by_hand():
    relevant = {"b", "d", "z"}
    assert m.hit_rate(RANKING, relevant, 1) == 0.0
    assert m.hit_rate(RANKING, relevant, 2) == 1.0
    assert m.precision(RANKING, relevant, 4) == 0.5  # b, d of 4
    assert m.recall(RANKING, relevant, 4) == pytest.approx(2 / 3)  # b, d of b, d, z


def test_ndcg_by_hand():
    # hits at ranks 2 and 4: 1/log2(3) + 1/log2(5); ideal with 3 relevant in top 4:
    # 1 + 1/log2(3) + 1/log2(4)
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 + 1 / math.log2(3) + 0.5
    assert m.ndcg(RANKING, {"b", "d", "z"}, 4) == pytest.approx(dcg / ideal)
    assert m.ndcg(RANKING, {"a"}, 4) == 1.0
    assert m.ndcg(RANKING, {"z"}, 4) == 0.0


def test_average_precision_by_hand():
    # hits at 2 (P=1/2) and 4 (P=2/4): (0.5 + 0.5) / min(4, 3)
    assert m.average_precision(RANKING, {"b", "d", "z"}, 4) == pytest.approx(1 / 3)
    # one relevant item at rank 1
    assert m.average_precision(RANKING, {"a"}, 10) == 1.0


def test_summary_leaves_out_users_without_test_clicks_and_counts_coverage():
    rankings = {"u1": ["a", "b"], "u2": ["c", "a"], "u3": ["x", "y"]}
    relevant = {"u1": {"a"}, "u2": {"z"}, "u3": set(), "u4": {"a"}}  # u4 has no ranking
    s = m.summarise(rankings, relevant, k=2, catalogue=["a", "b", "c", "x", "y", "z", "w", "v"])
    assert s.users == 3  # u1, u2, u4; u3 has no test click
    assert s.hr == pytest.approx(1 / 3)  # only u1 hits
    assert s.ndcg == pytest.approx(1 / 3)
    assert s.precision == pytest.approx((1 / 2) / 3)
    assert s.coverage == pytest.approx(5 / 8)  # a, b, c, x, y shown


def test_summary_without_any_relevant_item_is_an_error():
    with pytest.raises(ValueError, match="nothing to evaluate"):
        m.summarise({"u1": ["a"]}, {"u1": set()}, k=10, catalogue=["a"])
