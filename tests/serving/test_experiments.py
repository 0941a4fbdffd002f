"""Experiments as serving applies them: assignment by route, a variant's overrides on the
reader's list, and the nightly list as served before the request-time list."""

from __future__ import annotations

from typing import Any

import pytest

from newslake.experiments import OVERRIDES, Experiment, Variant
from newslake.ranking import ReaderParams
from newslake.store import ScoredItem
from serving.experiments import READER_MODE, READER_PARAMS, Assignment, Experiments, reader_params
from serving.recommender import Answer, Recommender
from tests.utils.serving_app import SPLIT

BASE = ReaderParams(
    covisited=1.0, hot=0.0, trending=0.5, personal=1.0, popular=0.0, last_reads=3, read_decay=0.5
)
HEAVY_TRENDING = Experiment(
    "weights",
    "reader",
    True,
    (Variant("base", 0.0), Variant("trending-5", 1.0, {"reader_w_trending": 5.0})),
)


@pytest.fixture
def reader(fake_reader: Any) -> Any:
    """g1 on v2: alice's nightly list, her read of a-102 long ago, trending and popular."""
    fake_reader.versions["g1"] = "v2"
    fake_reader.records[("g1#user#alice", "v2")] = [
        ScoredItem("a-101", 0.91),
        ScoredItem("a-102", 0.55),
        ScoredItem("a-103", 0.12),
    ]
    fake_reader.records[("g1#recent#alice", "live")] = [ScoredItem("a-102", 1_000.0)]
    fake_reader.records[("g1#trending", "live")] = [
        ScoredItem("t-1", 40.0),
        ScoredItem("a-101", 30.0),
        ScoredItem("t-2", 20.0),
    ]
    fake_reader.records[("g1#popular", "v2")] = [ScoredItem("p-1", 120.0), ScoredItem("t-1", 90.0)]
    return fake_reader


def _experiments(reader: Any, *experiments: Experiment) -> Experiments:
    return Experiments(experiments, Recommender(reader, reader_params=BASE), BASE)


def _rounded(answer: Answer) -> list[tuple[str, float, str]]:
    return [(i.article_id, round(i.score, 4), i.source) for i in answer.items]


# ---- assignment ---------------------------------------------------------------------------
def test_a_reader_is_assigned_in_the_experiment_covering_the_route(reader: Any) -> None:
    experiments = _experiments(reader, SPLIT)

    assert experiments.assign("reader", "alice") == Assignment("reader-list", "nightly")
    assert experiments.assign("reader", "bob") == Assignment("reader-list", "request-time")


def test_no_variant_without_an_enabled_experiment_or_a_reader(reader: Any) -> None:
    switched_off = Experiment("reader-list", "reader", False, SPLIT.variants)

    assert _experiments(reader, switched_off).assign("reader", "alice") is None
    assert _experiments(reader, SPLIT).assign("related", "alice") is None
    assert _experiments(reader, SPLIT).assign("reader", None) is None


def test_the_article_page_is_assigned_by_its_reader(reader: Any) -> None:
    page = Experiment("page", "related", True, (Variant("all", 1.0),))

    assert _experiments(reader, page).assign("related", "alice") == Assignment("page", "all")


# ---- what a variant changes -----------------------------------------------------------------
def test_every_override_of_the_readers_route_is_applied_somewhere() -> None:
    assert set(READER_PARAMS) | {READER_MODE} == set(OVERRIDES["reader"])


def test_weight_overrides_change_the_readers_params() -> None:
    changed = reader_params(
        BASE, {"reader_w_hot": 0.7, "reader_last_reads": 5, "reader_mode": "request_time"}
    )

    assert changed == ReaderParams(
        covisited=1.0,
        hot=0.7,
        trending=0.5,
        personal=1.0,
        popular=0.0,
        last_reads=5,
        read_decay=0.5,
    )


# alice, personal (scaled by 0.91) a-101 1, a-103 0.1319, a-102 read; trending (scaled by
# 40) t-1 1, a-101 0.75, t-2 0.5.
def test_the_default_list_weighs_trending_at_the_settings_weight(reader: Any) -> None:
    experiments = _experiments(reader, SPLIT)

    answer = experiments.reader_list(None)("g1", "alice", 4)

    # trending x 0.5: a-101 1 + 0.375, t-1 0.5, t-2 0.25
    assert _rounded(answer) == [
        ("a-101", 1.375, "personal"),
        ("t-1", 0.5, "trending"),
        ("t-2", 0.25, "trending"),
        ("a-103", 0.1319, "personal"),
    ]


def test_a_weight_override_reorders_the_variants_list(reader: Any) -> None:
    experiments = _experiments(reader, HEAVY_TRENDING)
    variant = experiments.assign("reader", "alice")

    answer = experiments.reader_list(variant)("g1", "alice", 4)

    # trending x 5: t-1 5, a-101 1 + 3.75, t-2 2.5
    assert variant == Assignment("weights", "trending-5")
    assert _rounded(answer) == [
        ("t-1", 5.0, "trending"),
        ("a-101", 4.75, "trending"),
        ("t-2", 2.5, "trending"),
        ("a-103", 0.1319, "personal"),
    ]


def test_the_nightly_variant_serves_the_personal_list_less_reads_then_trending_popular(
    reader: Any,
) -> None:
    experiments = _experiments(reader, SPLIT)

    answer = experiments.reader_list(Assignment("reader-list", "nightly"))("g1", "alice", 5)

    assert (answer.model_version, answer.degraded) == ("v2", False)
    assert _rounded(answer) == [
        ("a-101", 0.91, "personal"),
        ("a-103", 0.12, "personal"),
        ("t-1", 40.0, "trending"),
        ("t-2", 20.0, "trending"),
        ("p-1", 120.0, "popular"),
    ]


def test_a_variant_shares_the_default_lists_cache(reader: Any) -> None:
    experiments = _experiments(reader, HEAVY_TRENDING)
    experiments.reader_list(None)("g1", "alice", 4)  # pointer, alice's keys, trending, popular
    calls = reader.calls

    experiments.reader_list(Assignment("weights", "trending-5"))("g1", "alice", 4)

    assert reader.calls - calls == 1  # only alice's keys: the shared lists come from memory
