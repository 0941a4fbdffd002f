from __future__ import annotations

import pytest
from chispa import assert_df_equality

from spark_jobs import id_map

MAP = "entity_id string, idx int"


def _ids(spark, *ids):
    return spark.createDataFrame([(i,) for i in ids], "entity_id string")


def test_ids_keep_their_integers_across_runs_and_new_ids_come_after(spark, tmp_path):
    path = str(tmp_path / "id_map")
    first = id_map.assign(spark, _ids(spark, "u2", "u1", "u2"), path, portal="g1", kind="user")
    assert_df_equality(
        first,
        spark.createDataFrame([("u1", 0), ("u2", 1)], MAP),
        ignore_row_order=True,
        ignore_nullable=True,
    )
    # u0 sorts first but is new: it is numbered after the known ones; u1 left this run.
    second = id_map.assign(spark, _ids(spark, "u2", "u3", "u0"), path, portal="g1", kind="user")
    assert_df_equality(
        second,
        spark.createDataFrame([("u0", 2), ("u2", 1), ("u3", 3)], MAP),
        ignore_row_order=True,
        ignore_nullable=True,
    )


def test_portals_and_kinds_are_numbered_apart(spark, tmp_path):
    path = str(tmp_path / "id_map")
    id_map.assign(spark, _ids(spark, "x", "y"), path, portal="g1", kind="user")
    ge = id_map.assign(spark, _ids(spark, "y"), path, portal="ge", kind="user")
    articles = id_map.assign(spark, _ids(spark, "y"), path, portal="g1", kind="article")
    assert [tuple(r) for r in ge.collect()] == [("y", 0)]
    assert [tuple(r) for r in articles.collect()] == [("y", 0)]


def test_ids_past_the_int_limit_fail_naming_the_portal_and_write_nothing(spark, tmp_path):
    path = str(tmp_path / "id_map")
    id_map.assign(spark, _ids(spark, "a", "b"), path, portal="g1", kind="user", max_index=2)
    with pytest.raises(id_map.IdOverflowError, match=r"^g1: 4 user ids would pass"):
        id_map.assign(spark, _ids(spark, "c", "d"), path, portal="g1", kind="user", max_index=2)
    assert spark.read.format("delta").load(path).count() == 2
