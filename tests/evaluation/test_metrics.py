"""NDCG@20 and HR@20 of one target, checked against values worked out by hand."""

from __future__ import annotations

import math

import pytest

from evaluation import metrics
from newslake.ranking import top
from spark_jobs.metrics import ndcg as spark_ndcg


@pytest.mark.parametrize(
    ("rank", "ndcg", "hit"),
    [
        (1, 1.0, 1.0),
        (2, 0.6309297535714575, 1.0),  # 1 / log2(3)
        (3, 0.5, 1.0),  # 1 / log2(4)
        (20, 0.2276702486969530, 1.0),  # 1 / log2(21)
        (21, 0.0, 0.0),  # outside the top 20
        (0, 0.0, 0.0),  # not in the list at all
    ],
)
def test_ndcg_and_hit_of_a_single_target(rank, ndcg, hit):
    assert metrics.ndcg(rank) == pytest.approx(ndcg, abs=1e-12)
    assert metrics.hit(rank) == hit
    assert metrics.ndcg_array([rank])[0] == pytest.approx(ndcg, abs=1e-12)
    assert metrics.hit_array([rank])[0] == hit


def test_ties_are_broken_by_article_id_as_text_so_the_rank_is_defined():
    # "b" and "10" tie with "a": as text "10" < "a" < "b"; "c" scores best.
    ranking = [article for article, _ in top({"b": 1.0, "a": 1.0, "c": 2.0, "10": 1.0}, 20)]
    assert ranking == ["c", "10", "a", "b"]
    rank = metrics.target_rank(ranking, "b")
    assert rank == 4
    assert metrics.ndcg(rank) == pytest.approx(1 / math.log2(5))
    assert metrics.ndcg(rank) == pytest.approx(spark_ndcg(ranking, {"b"}, 20))


def test_hours_weigh_the_same_whatever_their_number_of_predictions():
    by_hour = metrics.per_hour([1, 1, 1, 2], [1.0, 1.0, 1.0, 0.0])
    assert by_hour == {1: 1.0, 2: 0.0}
    assert metrics.over_hours(by_hour) == 0.5  # the pooled mean would be 0.75


def test_no_hour_to_score_is_an_error_not_a_zero():
    with pytest.raises(ValueError, match="no hour"):
        metrics.over_hours({})
