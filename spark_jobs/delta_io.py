"""Delta reads and writes shared by the batch jobs and (later) the streaming ``foreachBatch``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession


def read_if_exists(spark: SparkSession, path: str) -> DataFrame | None:
    if not DeltaTable.isDeltaTable(spark, path):
        return None
    return spark.read.format("delta").load(path)


def append(df: DataFrame, path: str, *, partition_by: Sequence[str] = ()) -> None:
    writer = df.write.format("delta").mode("append")
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    writer.save(path)


def replace_rows(
    df: DataFrame, path: str, *, match: Mapping[str, str], partition_by: Sequence[str] = ()
) -> None:
    """Overwrite the rows whose columns equal ``match`` and nothing else: reruns are idempotent."""
    condition = " AND ".join(f"`{k}` = '{v.replace(chr(39), '')}'" for k, v in match.items())
    writer = df.write.format("delta").mode("overwrite").option("replaceWhere", condition)
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    writer.save(path)


def merge_insert_new(
    spark: SparkSession,
    df: DataFrame,
    path: str,
    *,
    keys: Sequence[str],
    partition_by: Sequence[str] = (),
) -> None:
    """Insert the rows whose keys the table lacks; creates the table on first use."""
    if not DeltaTable.isDeltaTable(spark, path):
        append(df, path, partition_by=partition_by)
        return
    condition = " AND ".join(f"t.`{k}` = s.`{k}`" for k in keys)
    (
        DeltaTable.forPath(spark, path)
        .alias("t")
        .merge(df.alias("s"), condition)
        .whenNotMatchedInsertAll()
        .execute()
    )


def append_idempotent(
    df: DataFrame, path: str, *, app_id: str, version: int, partition_by: Sequence[str] = ()
) -> None:
    """Append once per (app_id, version): a replayed micro-batch's second append is skipped.

    Delta records the pair in the commit and ignores a write whose version is not newer.
    """
    writer = (
        df.write.format("delta")
        .mode("append")
        .option("txnAppId", app_id)
        .option("txnVersion", version)
    )
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    writer.save(path)


def upsert(
    spark: SparkSession,
    df: DataFrame,
    path: str,
    *,
    keys: Sequence[str],
    update: Mapping[str, str],
    partition_by: Sequence[str] = (),
) -> None:
    """MERGE by ``keys``: update matched rows with the ``update`` SQL expressions (``t`` is
    the table, ``s`` the new rows), insert the rest; creates the table on first use."""
    if not DeltaTable.isDeltaTable(spark, path):
        append(df, path, partition_by=partition_by)
        return
    condition = " AND ".join(f"t.`{k}` = s.`{k}`" for k in keys)
    (
        DeltaTable.forPath(spark, path)
        .alias("t")
        .merge(df.alias("s"), condition)
        .whenMatchedUpdate(set=dict(update))
        .whenNotMatchedInsertAll()
        .execute()
    )
