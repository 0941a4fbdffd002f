"""The gold tables the nightly run writes, and the records it keeps about itself.

Their paths live in :class:`spark_jobs.tables.GoldPaths`.

============================  ==============================================================
table                          rows
============================  ==============================================================
``gold/interactions``          (portal, user, article) strength per ``version``
``gold/popular``               top by views per portal and ``version`` (the published list)
``gold/trending``              time-decayed popularity per portal and ``version``
``gold/recommendations``       the published ALS lists less reads: top-N per (portal,
                               version, user)
``gold/related``               co-visitation lists per (portal, version, source article)
``gold/id_map``                stable ALS integers per (portal, kind, id)
``gold/hyperparams``           what the weekly search chose, per portal and day
``gold/model_runs``            per (portal, version, model): metrics on the next-day split,
                               parameters, input table versions, stage timings, the gate
``gold/rec_performance``       impressions, attributed clicks and CTR per portal, route,
                               source, position, model version, variant and day
``gold/rec_checks``            per day and portal: answers served, open or landed late,
                               and the clicks not attributed, by reason
``gold/experiment_results``    per running experiment and variant: CTR with its interval,
                               lift, p-value, the sample-ratio check
============================  ==============================================================
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from spark_jobs import columns as C
from spark_jobs import delta_io


def table_version(spark: SparkSession, path: str) -> int | None:
    """The Delta table's current version (what a run read), None when it does not exist.

    Read from the names of the commit files in ``_delta_log``: no Spark job.
    """
    jvm: Any = spark.sparkContext._jvm
    log_dir = jvm.org.apache.hadoop.fs.Path(f"{path}/_delta_log")
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    fs = log_dir.getFileSystem(conf)
    if not fs.exists(log_dir):
        return None
    names = [status.getPath().getName() for status in fs.listStatus(log_dir)]
    commits = [int(n[:20]) for n in names if n.endswith(".json") and n[:20].isdigit()]
    return max(commits) if commits else None


def version_rows(spark: SparkSession, path: str, portal: str, version: str) -> DataFrame | None:
    """The rows of one portal's version, or None when the table does not exist."""
    df = delta_io.read_if_exists(spark, path)
    if df is None:
        return None
    return df.where((F.col(C.PORTAL) == portal) & (F.col(C.VERSION) == version))


# ---- gold.model_runs ---------------------------------------------------------------------
MODEL_RUNS_SCHEMA = (
    "run_id string, portal string, version string, model string, as_of timestamp, "
    "cutoff timestamp, k int, status string, decision string, reason string, users long, "
    "ndcg double, hr double, precision double, recall double, map double, coverage double, "
    "params string, input_versions string, stage_s string, recorded_at timestamp"
)


@dataclass
class ModelRun:
    """One evaluated model of one portal's run (a row of gold.model_runs)."""

    model: str
    metrics: dict[str, Any]
    params: dict[str, Any]


def write_model_runs(
    spark: SparkSession,
    path: str,
    *,
    portal: str,
    version: str,
    as_of: datetime,
    cutoff: datetime | None,
    k: int,
    status: str,
    decision: str,
    reason: str,
    runs: list[ModelRun],
    input_versions: dict[str, int | None],
    stage_s: dict[str, float],
) -> None:
    """Replace the portal's rows for ``version`` (a rerun of the same version replaces)."""
    now = datetime.now(UTC)
    run_id = f"{portal}/{version}/{now:%Y%m%dT%H%M%SZ}"
    models = runs or [ModelRun("none", {}, {})]
    rows = [
        (
            run_id,
            portal,
            version,
            r.model,
            as_of,
            cutoff,
            k,
            status,
            decision,
            reason,
            r.metrics.get("users"),
            *(r.metrics.get(f"{m}_at_{k}") for m in ("ndcg", "hr", "precision", "recall", "map")),
            r.metrics.get("coverage"),
            json.dumps(r.params, sort_keys=True, default=str),
            json.dumps(input_versions, sort_keys=True),
            json.dumps(stage_s, sort_keys=True),
            now,
        )
        for r in models
    ]
    df = spark.createDataFrame(rows, MODEL_RUNS_SCHEMA)
    delta_io.replace_rows(df, path, match={C.PORTAL: portal, C.VERSION: version})


def gate_decision(spark: SparkSession, path: str, portal: str, version: str) -> str | None:
    """The recorded gate decision of a portal's version, None when it was never trained."""
    rows = version_rows(spark, path, portal, version)
    if rows is None:
        return None
    row = rows.select("decision").first()
    return str(row[0]) if row else None


def earned_weight(spark: SparkSession, path: str, portal: str, version: str) -> float:
    """The personal lists' weight the gate earned for a version (``params.served``), 0 for a
    version recorded before the gate weighed them or never trained."""
    rows = version_rows(spark, path, portal, version)
    row = rows.select("params").first() if rows is not None else None
    if row is None or not row[0]:
        return 0.0
    return float(json.loads(row[0]).get("served", {}).get("personal_weight", 0.0))


# ---- gold.hyperparams --------------------------------------------------------------------
HYPERPARAMS_SCHEMA = (
    "portal string, searched_on date, as_of timestamp, rank int, max_iter int, "
    "reg_param double, alpha double, seed int, w_trending double, w_covisit double, "
    "w_als double, w_popular double, w_hot double, validation_ndcg double, trials string, "
    "recorded_at timestamp"
)


def latest_hyperparams(
    spark: SparkSession, path: str, portal: str, as_of: datetime
) -> dict[str, Any] | None:
    """The newest search result for the portal made at or before ``as_of``."""
    df = delta_io.read_if_exists(spark, path)
    if df is None:
        return None
    row = (
        df.where((F.col(C.PORTAL) == portal) & (F.col("as_of") <= F.lit(as_of).cast("timestamp")))
        .orderBy(F.desc("as_of"), F.desc("recorded_at"))
        .first()
    )
    return row.asDict() if row else None


def write_hyperparams(spark: SparkSession, path: str, row: dict[str, Any]) -> None:
    """Record one search; a search of the same portal and day replaces that day's row."""
    names = [f.split()[0] for f in HYPERPARAMS_SCHEMA.split(", ")]
    df = spark.createDataFrame([tuple(row.get(n) for n in names)], HYPERPARAMS_SCHEMA)
    if delta_io.read_if_exists(spark, path) is not None:
        DeltaTable.forPath(spark, path).delete(
            (F.col(C.PORTAL) == row[C.PORTAL]) & (F.col("searched_on") == F.lit(row["searched_on"]))
        )
    # new weights arrive as new nullable columns (an older row reads them as null)
    df.write.format("delta").mode("append").option("mergeSchema", "true").save(path)
