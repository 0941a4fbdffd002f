"""Per-portal ALS on implicit feedback, and its top-N among the articles still worth showing.

Users and articles are numbered by the stable maps of :mod:`spark_jobs.id_map`. Training
is MLlib's ALS with ``implicitPrefs=True`` (strength is confidence, not a rating), a fixed
seed and ``coldStartStrategy="drop"``. Scoring does not use ``recommendForAllUsers``: only
fresh articles may be recommended, so their factors (a few thousand) go to every executor
and each partition of users is scored with one matrix product (numpy), best ``n`` kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from itertools import product
from typing import Any

import numpy as np
import pandas as pd
from pyspark.ml.recommendation import ALS, ALSModel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from newslake.settings import Settings, get_settings
from spark_jobs import columns as C
from spark_jobs.validation import require_columns


def _setting(name: str) -> Any:
    """A field whose default is the settings' value, read when the parameters are made."""
    return field(default_factory=lambda: getattr(get_settings(), name))


@dataclass(frozen=True)
class AlsParams:
    """ALS hyperparameters; what is not given comes from settings (``als_*``)."""

    rank: int = _setting("als_rank")
    max_iter: int = _setting("als_max_iter")
    reg_param: float = _setting("als_reg_param")
    alpha: float = _setting("als_alpha")
    seed: int = _setting("als_seed")

    @classmethod
    def of(cls, settings: Settings) -> AlsParams:
        """The parameters ``settings`` name."""
        return cls(
            settings.als_rank,
            settings.als_max_iter,
            settings.als_reg_param,
            settings.als_alpha,
            settings.als_seed,
        )

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def grid(seed: int, *, quick: bool = False) -> list[AlsParams]:
    """The weekly search's small grid (rank x regParam x alpha x maxIter)."""
    if quick:
        return [AlsParams(8, 5, 0.1, 1.0, seed)]
    return [
        AlsParams(rank, it, reg, alpha, seed)
        for rank, reg, alpha, it in product((16, 48), (0.01, 0.1), (5.0, 40.0), (5, 10))
    ]


@dataclass
class TrainedAls:
    model: ALSModel
    users: DataFrame  # user_id, user_idx
    items: DataFrame  # article_id, item_idx


def train(
    interactions: DataFrame, users: DataFrame, items: DataFrame, params: AlsParams
) -> TrainedAls:
    """Fit ALS on one portal's (user_id, article_id, strength) rows.

    Args:
        interactions: the portal's implicit feedback.
        users: (entity_id, idx) of every user in ``interactions`` (``id_map.assign``).
        items: (entity_id, idx) of every article in ``interactions``.
        params: hyperparameters (the seed makes the run repeatable).
    """
    require_columns(interactions, [C.USER_ID, C.ARTICLE_ID, C.STRENGTH], where="als.train")
    user_ids = users.select(F.col(C.ENTITY_ID).alias(C.USER_ID), F.col(C.IDX).alias(C.USER_IDX))
    item_ids = items.select(F.col(C.ENTITY_ID).alias(C.ARTICLE_ID), F.col(C.IDX).alias(C.ITEM_IDX))
    ratings = interactions.join(user_ids, C.USER_ID).join(item_ids, C.ARTICLE_ID)
    als = ALS(
        rank=params.rank,
        maxIter=params.max_iter,
        regParam=params.reg_param,
        alpha=params.alpha,
        seed=params.seed,
        implicitPrefs=True,
        coldStartStrategy="drop",
        userCol=C.USER_IDX,
        itemCol=C.ITEM_IDX,
        ratingCol=C.STRENGTH,
        nonnegative=False,
    )
    model = als.fit(ratings.select(C.USER_IDX, C.ITEM_IDX, C.STRENGTH))
    return TrainedAls(model, user_ids, item_ids)


TOP_SCHEMA = f"{C.USER_IDX} int, {C.RANK} int, {C.ITEM_IDX} int, {C.SCORE} double"


def _scorer(
    item_ids: np.ndarray, factors: np.ndarray, n: int
) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    k = min(n, len(item_ids))

    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in batches:
            if pdf.empty or k == 0:
                continue
            users = np.stack(pdf["features"].to_numpy()).astype(np.float32)
            scores = users @ factors.T
            part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
            top = np.take_along_axis(scores, part, axis=1)
            # best first; equal scores by item id, so reruns order ties the same way
            order = np.lexsort((item_ids[part], -top), axis=1)
            best = np.take_along_axis(part, order, axis=1)
            yield pd.DataFrame(
                {
                    C.USER_IDX: np.repeat(pdf["id"].to_numpy(), k).astype(np.int32),
                    C.RANK: np.tile(np.arange(1, k + 1, dtype=np.int32), len(pdf)),
                    C.ITEM_IDX: item_ids[best].ravel().astype(np.int32),
                    C.SCORE: np.take_along_axis(scores, best, axis=1).ravel().astype(np.float64),
                }
            )

    return score


def recommend(
    trained: TrainedAls, users: DataFrame, candidates: DataFrame, top_n: int
) -> DataFrame:
    """(user_id, rank, article_id, score): each user's best ``top_n`` among ``candidates``.

    Users and candidate articles the model never saw are left out (cold start).
    """
    require_columns(users, [C.USER_ID], where="als.recommend users")
    require_columns(candidates, [C.ARTICLE_ID], where="als.recommend candidates")
    wanted_items = trained.items.join(candidates.select(C.ARTICLE_ID).distinct(), C.ARTICLE_ID)
    rows = (
        trained.model.itemFactors.join(wanted_items, F.col("id") == F.col(C.ITEM_IDX))
        .select("id", "features")
        .collect()
    )
    item_ids = np.array([r["id"] for r in rows], dtype=np.int64)
    factors = (
        np.array([r["features"] for r in rows], dtype=np.float32)
        if rows
        else np.zeros((0, trained.model.rank), dtype=np.float32)
    )
    wanted_users = trained.users.join(users.select(C.USER_ID).distinct(), C.USER_ID)
    top = (
        trained.model.userFactors.join(wanted_users, F.col("id") == F.col(C.USER_IDX))
        .select("id", "features")
        .mapInPandas(_scorer(item_ids, factors, top_n), TOP_SCHEMA)
    )
    return (
        top.join(trained.users, C.USER_IDX)
        .join(trained.items, C.ITEM_IDX)
        .select(C.USER_ID, C.RANK, C.ARTICLE_ID, C.SCORE)
    )
