"""Stable integer ids for ALS: string user and article ids numbered once, kept for good.

MLlib's ALS wants ``int`` ids. ``gold.id_map`` (portal, kind, entity_id, idx) keeps the
numbering per portal and kind (``user``, ``article``): an id keeps the integer it got the
first time it was seen, and new ids are numbered after the largest one in sorted order,
so factors, logs and debugging sessions of different nights speak of the same integers.

One writer per portal at a time (the nightly run); two runs numbering the same portal at
once could give two new ids the same integer.
"""

from __future__ import annotations

from collections.abc import Mapping

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


def assign_kinds(
    spark: SparkSession,
    ids: Mapping[str, DataFrame],
    path: str,
    *,
    portal: str,
    max_index: int = MAX_INDEX,
) -> dict[str, DataFrame]:
    """(entity_id, idx) per kind for every distinct ``entity_id`` of ``ids[kind]``; ids not
    numbered yet are numbered and recorded in one commit.

    Raises:
        IdOverflowError: numbering the new ids would pass ``max_index``; nothing is written.
    """
    parts = []
    for kind, df in ids.items():
        require_columns(df, [C.ENTITY_ID], where="id_map.assign")
        parts.append(df.select(F.lit(kind).alias(C.KIND), C.ENTITY_ID))
    wanted = parts[0]
    for part in parts[1:]:
        wanted = wanted.unionByName(part)
    wanted = wanted.where(F.col(C.ENTITY_ID).isNotNull()).distinct()
    table = delta_io.read_if_exists(spark, path)
    known = (
        table.where(F.col(C.PORTAL) == portal).select(C.KIND, C.ENTITY_ID, C.IDX)
        if table is not None
        else None
    )
    keys = [C.KIND, C.ENTITY_ID]
    new = (wanted if known is None else wanted.join(known, keys, "left_anti")).cache()
    counts = {r[C.KIND]: int(r["count"]) for r in new.groupBy(C.KIND).count().collect()}
    if counts:
        tops = (
            {
                r[C.KIND]: int(r["m"])
                for r in known.groupBy(C.KIND).agg(F.max(C.IDX).alias("m")).collect()
            }
            if known is not None
            else {}
        )
        bases = {kind: tops.get(kind, -1) + 1 for kind in counts}
        for kind, n in counts.items():
            if bases[kind] + n - 1 > max_index:
                raise IdOverflowError(
                    f"{portal}: {bases[kind] + n:,} {kind} ids would pass ALS's limit of "
                    f"{max_index + 1:,}; train this portal on a shorter history or rebuild "
                    "its id map (delete its gold.id_map rows)"
                )
        base_df = spark.createDataFrame(list(bases.items()), f"{C.KIND} string, base long")
        in_kind = Window.partitionBy(C.KIND).orderBy(C.ENTITY_ID)
        numbered = new.join(F.broadcast(base_df), C.KIND).select(
            F.lit(portal).alias(C.PORTAL),
            C.KIND,
            C.ENTITY_ID,
            (F.col("base") + F.row_number().over(in_kind) - 1).cast("int").alias(C.IDX),
        )
        delta_io.append(numbered, path)
    new.unpersist()
    mapping = (
        spark.read.format("delta")
        .load(path)
        .where(F.col(C.PORTAL) == portal)
        .select(C.KIND, C.ENTITY_ID, C.IDX)
        .join(wanted, keys, "left_semi")
    )
    return {kind: mapping.where(F.col(C.KIND) == kind).select(C.ENTITY_ID, C.IDX) for kind in ids}


def assign(
    spark: SparkSession,
    ids: DataFrame,
    path: str,
    *,
    portal: str,
    kind: str,
    max_index: int = MAX_INDEX,
) -> DataFrame:
    """:func:`assign_kinds` for one kind: (entity_id, idx) of every distinct id of ``ids``."""
    return assign_kinds(spark, {kind: ids}, path, portal=portal, max_index=max_index)[kind]
