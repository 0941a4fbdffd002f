"""Appending once per batch, and only what a table lacks."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from spark_jobs import delta_io

SCHEMA = "day string, id string, v long"


def _rows(spark, path):
    return sorted(tuple(r) for r in spark.read.format("delta").load(path).collect())


def test_appends_only_missing_keys_and_counts_them(spark, tmp_path):
    path = str(tmp_path / "events")
    first = spark.createDataFrame([("d1", "a", 1), ("d1", "b", 2)], SCHEMA)
    assert (
        delta_io.append_new_once(
            first, path, keys=["day", "id"], app_id="app", version=0, tag="t0", replay=True,
            partition_by=["day"],
        )
        == 2
    )  # fmt: skip
    again = spark.createDataFrame([("d1", "a", 9), ("d1", "c", 3), ("d2", "a", 4)], SCHEMA)
    added = delta_io.append_new_once(
        again, path, keys=["day", "id"], app_id="app", version=1, tag="t1", replay=False,
        within=F.col("day").isin("d1", "d2"),
    )  # fmt: skip
    assert added == 2  # (d1, a) was there; (d1, c) and (d2, a) are new
    assert _rows(spark, path) == [("d1", "a", 1), ("d1", "b", 2), ("d1", "c", 3), ("d2", "a", 4)]

    replayed = spark.createDataFrame([("d3", "z", 5)], SCHEMA)  # a replay may see other rows
    assert (
        delta_io.append_new_once(
            replayed, path, keys=["day", "id"], app_id="app", version=1, tag="t1", replay=True,
        )
        == 2
    )  # fmt: skip  # the first run's count, and nothing written
    assert len(_rows(spark, path)) == 4


def test_a_replay_of_a_version_committed_without_its_tag_is_refused(spark, tmp_path):
    path = str(tmp_path / "events")
    df = spark.createDataFrame([("d1", "a", 1)], SCHEMA)
    delta_io.append_new_once(df, path, keys=["id"], app_id="app", version=3, tag="x", replay=True)
    with pytest.raises(RuntimeError, match="app version 3 was already committed"):
        delta_io.append_new_once(
            spark.createDataFrame([("d2", "b", 2)], SCHEMA), path, keys=["id"], app_id="app",
            version=3, tag="other", replay=True,
        )  # fmt: skip
    assert _rows(spark, path) == [("d1", "a", 1)]


def test_within_limits_the_rows_compared_with(spark, tmp_path):
    path = str(tmp_path / "events")
    old = spark.createDataFrame([("d1", "a", 1)], SCHEMA)
    delta_io.append_new_once(old, path, keys=["id"], app_id="a", version=0, tag="0", replay=False)
    same_id = spark.createDataFrame([("d2", "a", 2)], SCHEMA)
    added = delta_io.append_new_once(
        same_id, path, keys=["id"], app_id="a", version=1, tag="1", replay=False,
        within=F.col("day") == "d2",
    )  # fmt: skip
    assert added == 1  # d1's "a" was outside the rows compared with


def test_append_once_looks_for_its_tag_only_on_a_replay(spark, tmp_path):
    path = str(tmp_path / "log")
    row = spark.createDataFrame([("d1", "a", 1)], SCHEMA)
    assert delta_io.append_once(row, path, tag="b7", replay=False, app_id="log", version=7)
    assert not delta_io.append_once(row, path, tag="b7", replay=True, app_id="log", version=7)
    assert _rows(spark, path) == [("d1", "a", 1)]  # the replay wrote nothing
    # Not a replay: no search, a plain append (the caller vouches that b7 is new).
    assert delta_io.append_once(row, path, tag="b7", replay=False, app_id="log", version=7)
    assert len(_rows(spark, path)) == 2
    commits = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").orderBy("version").collect()
    assert [c["userMetadata"] for c in commits] == ["b7", "b7"]
