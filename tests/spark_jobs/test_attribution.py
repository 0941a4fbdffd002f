"""Attribution of pageviews to answers, on a hand-made set with one case per reason."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from spark_jobs.attribution import OUTCOME_COLUMNS, attribute
from tests.utils.impressions import answer, impressions_df, visit, visits_df

pytestmark = pytest.mark.slow

A, B, C_UNKNOWN = "a" * 32, "b" * 32, "c" * 32
T = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
WINDOW, SKEW = timedelta(minutes=30), timedelta(minutes=5)


def _at(minutes: float) -> datetime:
    return T + timedelta(minutes=minutes)


@pytest.fixture(scope="module")
def outcomes(spark):
    impressions = impressions_df(
        spark,
        [
            answer(A, T, [("art1", "personal"), ("art2", "trending"), ("art3", "hot")],
                   variant=("reader-list", "nightly")),
            answer(B, T, [("art1", "popular")], portal="ge", route="popular", user=None),
        ],
    )  # fmt: skip
    visits = visits_df(
        spark,
        [
            visit("pv-click", _at(5), "art2", (A, 2)),
            visit("pv-window-end", _at(30), "art1", (A, 1)),
            visit("pv-clock-behind", _at(-4), "art3", (A, 3)),
            visit("pv-other-article", _at(5), "art9", (A, 3)),
            visit("pv-no-such-position", _at(5), "art1", (A, 7)),
            visit("pv-after-window", _at(31), "art1", (A, 1)),
            visit("pv-before-answer", _at(-6), "art1", (A, 1)),
            visit("pv-unknown", _at(5), "art1", (C_UNKNOWN, 1)),
            visit("pv-foreign", _at(5), "art1", (B, 1)),
            visit("pv-organic", _at(5), "art1"),
        ],
    )
    rows = visits.transform(attribute(impressions, window=WINDOW, skew=SKEW)).collect()
    return {r["pageview_id"]: r for r in rows}


def test_every_pageview_naming_a_recommendation_has_one_outcome(outcomes) -> None:
    assert len(outcomes) == 9  # the organic pageview names none
    assert "pv-organic" not in outcomes
    assert list(next(iter(outcomes.values())).asDict()) == list(OUTCOME_COLUMNS)


def test_attributed_clicks_and_the_reason_of_each_other(outcomes) -> None:
    assert {p: (r["attributed"], r["reason"]) for p, r in outcomes.items()} == {
        "pv-click": (True, None),
        "pv-window-end": (True, None),
        "pv-clock-behind": (True, None),
        "pv-other-article": (False, "wrong_article"),
        "pv-no-such-position": (False, "wrong_article"),
        "pv-after-window": (False, "late"),
        "pv-before-answer": (False, "late"),
        "pv-unknown": (False, "unknown_rec"),
        "pv-foreign": (False, "foreign_rec"),
    }
    assert Counter(r["reason"] for r in outcomes.values()) == {
        None: 3, "wrong_article": 2, "late": 2, "unknown_rec": 1, "foreign_rec": 1,
    }  # fmt: skip


def test_an_attributed_click_carries_its_answer_and_item(outcomes) -> None:
    click = outcomes["pv-click"]
    assert (click["route"], click["experiment"], click["variant"], click["model_version"]) == (
        "reader",
        "reader-list",
        "nightly",
        "v1",
    )
    assert (click["source"], click["served_at"].replace(tzinfo=None)) == (
        "trending",
        T.replace(tzinfo=None),
    )


def test_another_portals_answer_is_never_described(outcomes) -> None:
    foreign = outcomes["pv-foreign"]
    assert (foreign["route"], foreign["source"], foreign["served_at"]) == (None, None, None)
