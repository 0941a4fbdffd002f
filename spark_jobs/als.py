"""Per-portal ALS (implicit feedback) and its top-N recommendations.

MLlib's ALS wants integer ids, so users and articles of one portal are numbered by their
sorted string ids; the numbering lives only inside one training run here.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.ml.recommendation import ALS, ALSModel
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from spark_jobs import columns as C
from spark_jobs.validation import require_columns


@dataclass(frozen=True)
class AlsParams:
    rank: int = 16
    max_iter: int = 10
    reg_param: float = 0.1
    alpha: float = 10.0
    seed: int = 42


def index_ids(df: DataFrame, source: str, target: str) -> DataFrame:
    """Distinct ``source`` values numbered 0..n-1 in sorted order, as ``target``."""
    return (
        df.select(source)
        .distinct()
        .withColumn(target, (F.row_number().over(Window.orderBy(source)) - 1).cast("int"))
    )


@dataclass
class TrainedAls:
    model: ALSModel
    users: DataFrame  # user_id, user_idx
    items: DataFrame  # article_id, item_idx


def train(interactions: DataFrame, params: AlsParams) -> TrainedAls:
    """Fit ALS on one portal's (user_id, article_id, strength) rows."""
    require_columns(interactions, [C.USER_ID, C.ARTICLE_ID, C.STRENGTH], where="als.train")
    users = index_ids(interactions, C.USER_ID, C.USER_IDX).cache()
    items = index_ids(interactions, C.ARTICLE_ID, C.ITEM_IDX).cache()
    ratings = interactions.join(users, C.USER_ID).join(items, C.ARTICLE_ID)
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
    return TrainedAls(als.fit(ratings), users, items)


def recommend(trained: TrainedAls, seen: DataFrame, top_n: int) -> DataFrame:
    """(user_id, rank, article_id, score): best ``top_n`` the user has not read, best first."""
    require_columns(seen, [C.USER_ID, C.ARTICLE_ID], where="als.recommend")
    max_seen = seen.groupBy(C.USER_ID).count().agg(F.max("count")).first()
    extra = int(max_seen[0] or 0) if max_seen else 0
    n_items = trained.items.count()
    raw = trained.model.recommendForAllUsers(min(n_items, top_n + extra))
    exploded = raw.select(C.USER_IDX, F.explode("recommendations").alias("r")).select(
        C.USER_IDX,
        F.col(f"r.{C.ITEM_IDX}").alias(C.ITEM_IDX),
        F.col("r.rating").alias(C.SCORE),
    )
    ranked = Window.partitionBy(C.USER_ID).orderBy(F.desc(C.SCORE), F.asc(C.ARTICLE_ID))
    return (
        exploded.join(trained.users, C.USER_IDX)
        .join(trained.items, C.ITEM_IDX)
        .join(seen.select(C.USER_ID, C.ARTICLE_ID), [C.USER_ID, C.ARTICLE_ID], "left_anti")
        .withColumn(C.RANK, F.row_number().over(ranked))
        .where(F.col(C.RANK) <= top_n)
        .select(C.USER_ID, C.RANK, C.ARTICLE_ID, C.SCORE)
    )
