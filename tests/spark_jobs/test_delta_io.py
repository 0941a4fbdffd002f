"""Appending only what a table lacks, once per batch."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from spark_jobs import delta_io

SCHEMA = "day string, id string, v long"


def test_appends_only_missing_keys_once_per_version_and_counts_them(spark, tmp_path):
    path = str(tmp_path / "events")
    first = spark.createDataFrame([("d1", "a", 1), ("d1", "b", 2)], SCHEMA)
    assert (
        delta_io.append_new_once(
            first, path, keys=["day", "id"], app_id="app", version=0, tag="t0",
            partition_by=["day"],
        )
        == 2
    )  # fmt: skip
    again = spark.createDataFrame([("d1", "a", 9), ("d1", "c", 3), ("d2", "a", 4)], SCHEMA)
    added = delta_io.append_new_once(
        again, path, keys=["day", "id"], app_id="app", version=1, tag="t1",
        within=F.col("day").isin("d1", "d2"),
    )  # fmt: skip
    assert added == 2  # (d1, a) was there; (d1, c) and (d2, a) are new
    rows = sorted(tuple(r) for r in spark.read.format("delta").load(path).collect())
    assert rows == [("d1", "a", 1), ("d1", "b", 2), ("d1", "c", 3), ("d2", "a", 4)]
    assert delta_io.tagged_commit(spark, path, "t1")["operationMetrics"]["numOutputRows"] == "2"

    with pytest.raises(RuntimeError, match="app version 1 was already committed"):
        delta_io.append_new_once(
            spark.createDataFrame([("d3", "z", 5)], SCHEMA), path, keys=["day", "id"],
            app_id="app", version=1, tag="t1-replayed",
        )  # fmt: skip
    assert spark.read.format("delta").load(path).count() == 4  # the replay added nothing


def test_within_limits_the_rows_compared_with(spark, tmp_path):
    path = str(tmp_path / "events")
    old = spark.createDataFrame([("d1", "a", 1)], SCHEMA)
    delta_io.append_new_once(old, path, keys=["id"], app_id="app", version=0, tag="t0")
    same_id = spark.createDataFrame([("d2", "a", 2)], SCHEMA)
    added = delta_io.append_new_once(
        same_id, path, keys=["id"], app_id="app", version=1, tag="t1",
        within=F.col("day") == "d2",
    )  # fmt: skip
    assert added == 1  # d1's "a" was outside the rows compared with
