from __future__ import annotations

from chispa import assert_df_equality

from spark_jobs import als


def test_index_ids_numbers_sorted_ids_from_zero(spark):
    df = spark.createDataFrame([("u2",), ("u1",), ("u2",), ("u3",)], "user_id string")
    actual = als.index_ids(df, "user_id", "user_idx")
    expected = spark.createDataFrame(
        [("u1", 0), ("u2", 1), ("u3", 2)], "user_id string, user_idx int"
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_recommend_fills_the_gap_in_a_users_taste_and_skips_what_was_read(spark):
    # Two clear tastes: {a, b, c} and {x, y, z}. u4 read a and b; its best unread is c.
    rows = [(u, i, 1.0) for u in ("u1", "u2", "u3") for i in ("a", "b", "c")]
    rows += [(u, i, 1.0) for u in ("u5", "u6", "u7") for i in ("x", "y", "z")]
    rows += [("u4", "a", 1.0), ("u4", "b", 1.0)]
    interactions = spark.createDataFrame(rows, "user_id string, article_id string, strength double")
    trained = als.train(interactions, als.AlsParams(rank=4, max_iter=10, seed=1))
    recs = als.recommend(trained, interactions, top_n=2).where("user_id = 'u4'").collect()
    assert (recs[0]["rank"], recs[0]["article_id"]) == (1, "c")
    assert {r["article_id"] for r in recs}.isdisjoint({"a", "b"})
    assert [r["rank"] for r in recs] == [1, 2]
