"""Offline evaluation on a time split: train up to the cutoff, test on the day after it.

Every model is scored the same way (see :mod:`spark_jobs.metrics`): for each user with at
least one click in the test period, their top-k list made at the cutoff (already-read
articles left out) against the articles they clicked in the test period. Users without a
list (new readers, for ALS) count with an empty one. Coverage is the share of the catalogue
(articles read within the freshness horizon before the cutoff) shown in the scored users'
top-k lists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from spark_jobs import columns as C
from spark_jobs import metrics
from spark_jobs.validation import require_columns


@dataclass(frozen=True)
class Split:
    """Train on visits up to ``cutoff``; test on those in (cutoff, end]."""

    cutoff: datetime
    end: datetime

    @classmethod
    def before(cls, end: datetime, test_hours: int) -> Split:
        return cls(end - timedelta(hours=test_hours), end)

    def as_dict(self) -> dict[str, str]:
        return {"cutoff": self.cutoff.isoformat(), "end": self.end.isoformat()}


def test_clicks(visits: DataFrame, split: Split) -> DataFrame:
    """(user_id, article_id) clicked in the test period, once each."""
    require_columns(visits, [C.USER_ID, C.ARTICLE_ID, C.VISIT_START], where="test_clicks")
    return (
        visits.where(F.col(C.ARTICLE_ID).isNotNull())
        .where(F.col(C.VISIT_START) > F.lit(split.cutoff).cast("timestamp"))
        .where(F.col(C.VISIT_START) <= F.lit(split.end).cast("timestamp"))
        .select(C.USER_ID, C.ARTICLE_ID)
        .distinct()
    )


def relevant_sets(clicks: DataFrame) -> dict[str, set[str]]:
    """Each test user's clicked articles, gathered on the driver."""
    rows = clicks.groupBy(C.USER_ID).agg(F.collect_set(C.ARTICLE_ID).alias("a")).collect()
    return {r[C.USER_ID]: set(r["a"]) for r in rows}


def rankings_of(ranking: DataFrame, users: DataFrame, k: int) -> dict[str, list[str]]:
    """Each of ``users``' top-k article ids, best first, gathered on the driver."""
    require_columns(ranking, [C.USER_ID, C.RANK, C.ARTICLE_ID], where="rankings_of")
    rows = (
        ranking.where(F.col(C.RANK) <= k)
        .join(users.select(C.USER_ID).distinct(), C.USER_ID, "left_semi")
        .groupBy(C.USER_ID)
        .agg(F.sort_array(F.collect_list(F.struct(C.RANK, C.ARTICLE_ID))).alias("l"))
        .collect()
    )
    return {r[C.USER_ID]: [x[C.ARTICLE_ID] for x in r["l"]] for r in rows}


def summary_dict(s: metrics.Summary, k: int) -> dict[str, Any]:
    return {
        "users": s.users,
        f"ndcg_at_{k}": round(s.ndcg, 6),
        f"hr_at_{k}": round(s.hr, 6),
        f"precision_at_{k}": round(s.precision, 6),
        f"recall_at_{k}": round(s.recall, 6),
        f"map_at_{k}": round(s.map, 6),
        "coverage": round(s.coverage, 6),
    }


@dataclass
class Evaluator:
    """Scores rankings against one split's test clicks; the test set is gathered once."""

    relevant: dict[str, set[str]]
    users: DataFrame  # user_id of every scored user
    catalogue: list[str]
    k: int

    def score(self, ranking: DataFrame) -> dict[str, Any]:
        return self.score_lists(rankings_of(ranking, self.users, self.k))

    def score_lists(self, lists: Mapping[str, Sequence[str]]) -> dict[str, Any]:
        """Metrics of lists already on the driver (user_id: article ids, best first)."""
        top = {user: list(ranked)[: self.k] for user, ranked in lists.items()}
        return summary_dict(metrics.summarise(top, self.relevant, self.k, self.catalogue), self.k)
