"""Delta reads and writes shared by the batch jobs and the streaming ``foreachBatch``, and
the tables' care (``OPTIMIZE``, ``VACUUM``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

care_log = logging.getLogger("newslake.maintenance")  # OPTIMIZE and VACUUM


def read_if_exists(spark: SparkSession, path: str) -> DataFrame | None:
    if not DeltaTable.isDeltaTable(spark, path):
        return None
    return spark.read.format("delta").load(path)


def append(
    df: DataFrame, path: str, *, partition_by: Sequence[str] = (), tag: str | None = None
) -> None:
    writer = df.write.format("delta").mode("append")
    if tag is not None:
        writer = writer.option("userMetadata", tag)
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


def append_new_once(
    df: DataFrame,
    path: str,
    *,
    keys: Sequence[str],
    app_id: str,
    version: int,
    tag: str,
    replay: bool,
    within: Column | None = None,
    partition_by: Sequence[str] = (),
    merge_schema: bool = False,
) -> int:
    """Append the rows whose keys the table lacks, once, as :func:`append_once` does;
    creates the table on first use. Returns how many rows the commit added, from its
    metrics (no second pass over ``df``).

    ``within`` limits the table rows compared with (a filter on partition columns, so only
    those partitions are read). An insert-only MERGE does the same at a higher cost per
    micro-batch: its source materialisation, file search and rewrite bookkeeping.

    Raises:
        RuntimeError: the commit was skipped as already made (``replay``, and a commit of
            (``app_id``, ``version``) without ``tag``).
    """
    spark = df.sparkSession
    seen = read_if_exists(spark, path)
    if seen is not None:
        if within is not None:
            seen = seen.where(within)
        df = df.join(seen.select(*keys), list(keys), "left_anti")
    if not append_once(
        df, path, tag=tag, replay=replay, app_id=app_id, version=version,
        partition_by=partition_by, merge_schema=merge_schema,
    ):  # fmt: skip
        found = tagged_commit(spark, path, tag)
        return _inserted(found["operationMetrics"]) if found else 0
    last = DeltaTable.forPath(spark, path).history(1).first()
    if last is None or last["userMetadata"] != tag:
        raise RuntimeError(f"{path}: {app_id} version {version} was already committed")
    return _inserted(last["operationMetrics"])


def _inserted(metrics: Mapping[str, str] | None) -> int:
    metrics = metrics or {}
    return int(metrics.get("numTargetRowsInserted", metrics.get("numOutputRows", 0)))


def append_once(
    df: DataFrame,
    path: str,
    *,
    tag: str,
    replay: bool,
    app_id: str,
    version: int,
    partition_by: Sequence[str] = (),
    merge_schema: bool = False,
) -> bool:
    """Append ``df`` as one commit tagged ``tag`` (its user metadata), once: False when a
    commit tagged ``tag`` is already there and nothing was written.

    ``merge_schema`` adds the columns ``df`` has and the table lacks (a table whose rows
    gained nullable fields); without it such an append fails, which catches a misnamed
    column in every other table.

    Only a write that may be a replay (``replay``) looks: it searches the table's recent
    commits for ``tag``, and its append also names ``txnAppId``/``txnVersion``
    (``app_id``, ``version``), which Delta skips when that pair was committed before,
    tagged or not. A write that cannot be a replay appends plainly: Delta checks a
    ``txnVersion`` by rebuilding the table's state, which costs far more than the append.
    """
    spark = df.sparkSession
    if replay and tagged_commit(spark, path, tag) is not None:
        return False
    writer = df.write.format("delta").mode("append").option("userMetadata", tag)
    if merge_schema:
        writer = writer.option("mergeSchema", "true")
    if replay:
        writer = writer.option("txnAppId", app_id).option("txnVersion", version)
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    writer.save(path)
    return True


def tagged_commit(spark: SparkSession, path: str, tag: str, *, look_back: int = 100) -> Any:
    """The operation metrics of the earliest of the last ``look_back`` commits tagged
    ``tag``, or None (no such commit, or no table)."""
    if not DeltaTable.isDeltaTable(spark, path):
        return None
    found = (
        DeltaTable.forPath(spark, path)
        .history(look_back)
        .where(F.col("userMetadata") == tag)
        .orderBy("version")
        .select("operation", "operationMetrics")
        .first()
    )
    return found


def upsert(
    spark: SparkSession,
    df: DataFrame,
    path: str,
    *,
    keys: Sequence[str],
    update: Mapping[str, str],
    partition_by: Sequence[str] = (),
    add_new_columns: bool = False,
) -> None:
    """MERGE by ``keys``: update matched rows with the ``update`` SQL expressions (``t`` is
    the table, ``s`` the new rows), insert the rest; creates the table on first use.
    ``add_new_columns``: columns of ``df`` the table lacks are added first (nullable, null
    in the rows already there), so an additive column reaches a table written before it."""
    if not DeltaTable.isDeltaTable(spark, path):
        append(df, path, partition_by=partition_by)
        return
    if add_new_columns:
        add_columns(spark, path, df)
    condition = " AND ".join(f"t.`{k}` = s.`{k}`" for k in keys)
    (
        DeltaTable.forPath(spark, path)
        .alias("t")
        .merge(df.alias("s"), condition)
        .whenMatchedUpdate(set=dict(update))
        .whenNotMatchedInsertAll()
        .execute()
    )


def add_columns(spark: SparkSession, path: str, df: DataFrame) -> list[str]:
    """Add to the table at ``path`` the columns of ``df`` it lacks, by name and type, in
    one ``ALTER TABLE``; returns their names."""
    have = {f.name for f in DeltaTable.forPath(spark, path).toDF().schema.fields}
    new = [f for f in df.schema.fields if f.name not in have]
    if new:
        columns = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in new)
        spark.sql(f"ALTER TABLE delta.`{path}` ADD COLUMNS ({columns})")
    return [f.name for f in new]


def optimize_and_vacuum(
    spark: SparkSession,
    tables: Mapping[str, str],
    *,
    retention_hours: int,
    optimize: bool = True,
    vacuum: bool = True,
) -> dict[str, dict[str, Any]]:
    """Compact (``OPTIMIZE``) and vacuum each of ``tables`` (name -> path) that exists;
    returns what was done per table.

    Streaming writes many small files (one commit per micro-batch); compaction keeps reads
    fast. ``VACUUM`` removes files older than ``retention_hours`` that no version needs.
    """
    report: dict[str, dict[str, Any]] = {}
    for name, path in tables.items():
        if not DeltaTable.isDeltaTable(spark, path):
            report[name] = {"skipped": "no table yet"}
            continue
        table = DeltaTable.forPath(spark, path)
        done: dict[str, Any] = {}
        if optimize:
            metrics = table.optimize().executeCompaction().select("metrics").first()
            m = metrics[0] if metrics else None
            done["files_removed"] = int(m["numFilesRemoved"]) if m else 0
            done["files_added"] = int(m["numFilesAdded"]) if m else 0
        if vacuum:
            table.vacuum(retention_hours)
            done["vacuum_retention_hours"] = retention_hours
        care_log.info("%s: %s", name, done)
        report[name] = done
    return report
