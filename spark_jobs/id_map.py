"""Stable integer ids for ALS: string user and article ids numbered once, kept for good.

MLlib's ALS wants ``int`` ids. ``gold.id_map`` (portal, kind, entity_id, idx) keeps the
numbering per portal and kind (``user``, ``article``): an id keeps the integer it got the
first time it was seen, and new ids are numbered after the largest one in sorted order,
so factors, logs and debugging sessions of different nights speak of the same integers.

One writer per portal at a time (the nightly run); two runs numbering the same portal at
once could give two new ids the same integer.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from newslake.errors import NewslakeError
from spark_jobs import columns as C
from spark_jobs import delta_io
from spark_jobs.validation import require_columns

MAX_INDEX = 2**31 - 1  # ALS ids are Java ints
USER, ARTICLE = "user", "article"


class IdOverflowError(NewslakeError):
    """A portal has more ids than ALS can number."""


def assign(
    spark: SparkSession,
    ids: DataFrame,
    path: str,
    *,
    portal: str,
    kind: str,
    max_index: int = MAX_INDEX,
) -> DataFrame:
    """(entity_id, idx) for every distinct ``entity_id`` of ``ids``; new ones are recorded.

    Raises:
        IdOverflowError: numbering the new ids would pass ``max_index``; nothing is written.
    """
    require_columns(ids, [C.ENTITY_ID], where="id_map.assign")
    wanted = ids.select(C.ENTITY_ID).where(F.col(C.ENTITY_ID).isNotNull()).distinct()
    table = delta_io.read_if_exists(spark, path)
    known = (
        table.where((F.col(C.PORTAL) == portal) & (F.col(C.KIND) == kind)).select(
            C.ENTITY_ID, C.IDX
        )
        if table is not None
        else None
    )
    new = wanted if known is None else wanted.join(known, C.ENTITY_ID, "left_anti")
    n_new = new.count()
    if n_new:
        top = known.agg(F.max(C.IDX)).first() if known is not None else None
        base = int(top[0]) + 1 if top and top[0] is not None else 0
        if base + n_new - 1 > max_index:
            raise IdOverflowError(
                f"{portal}: {base + n_new:,} {kind} ids would pass ALS's limit of "
                f"{max_index + 1:,}; train this portal on a shorter history or rebuild "
                "its id map (delete its gold.id_map rows)"
            )
        numbered = new.withColumn(
            C.IDX, (F.lit(base) + F.row_number().over(Window.orderBy(C.ENTITY_ID)) - 1).cast("int")
        ).select(F.lit(portal).alias(C.PORTAL), F.lit(kind).alias(C.KIND), C.ENTITY_ID, C.IDX)
        delta_io.append(numbered, path)
    mapping = (
        spark.read.format("delta")
        .load(path)
        .where((F.col(C.PORTAL) == portal) & (F.col(C.KIND) == kind))
        .select(C.ENTITY_ID, C.IDX)
    )
    return mapping.join(wanted, C.ENTITY_ID)
