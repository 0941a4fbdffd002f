"""Blocked articles left out of the lists the jobs publish (:mod:`newslake.editorial`).

Serving applies the controls to every answer as well; the jobs leaving blocked articles out
too means the serving store never hands out a taken-down article, whichever reader of the
store comes next. A job ranks ``top_n`` plus :func:`spare` items per list before the
blocked ones go, so its lists keep their length.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import reduce

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from spark_jobs import columns as C
from spark_jobs.validation import require_columns

Blocked = Mapping[str, frozenset[str]]  # portal -> the articles blocked there now


def spare(blocked: Blocked) -> int:
    """How many items more to rank per list, so ``top_n`` remain once blocked ones go."""
    return max((len(articles) for articles in blocked.values()), default=0)


def _is_blocked(blocked: Blocked) -> Column | None:
    """True on a row whose article is blocked on its portal; None when nothing is."""
    per_portal = [
        (F.col(C.PORTAL) == portal) & F.col(C.ARTICLE_ID).isin(sorted(articles))
        for portal, articles in sorted(blocked.items())
        if articles
    ]
    return reduce(lambda a, b: a | b, per_portal) if per_portal else None


def without_blocked(
    blocked: Blocked, top_n: int, keys: tuple[str, ...]
) -> Callable[[DataFrame], DataFrame]:
    """Ranked rows (``keys``..., rank, article_id, ...) less the articles blocked on their
    portal, ranked again from 1 within each list (``keys``, the portal among them), the best
    ``top_n`` kept. With nothing blocked the rows only lose what ranks past ``top_n``.
    """

    def transform(df: DataFrame) -> DataFrame:
        require_columns(df, [C.PORTAL, C.RANK, C.ARTICLE_ID, *keys], where="without_blocked")
        dropped = _is_blocked(blocked)
        if dropped is None:
            return df.where(F.col(C.RANK) <= top_n)
        in_list = Window.partitionBy(*keys).orderBy(C.RANK, C.ARTICLE_ID)
        return (
            df.where(~dropped)
            .withColumn(C.RANK, F.row_number().over(in_list))
            .where(F.col(C.RANK) <= top_n)
        )

    return transform
