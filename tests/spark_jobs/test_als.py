from __future__ import annotations

from spark_jobs import als, id_map


def test_recommend_fills_the_gap_in_a_users_taste_among_the_candidates(spark, tmp_path):
    # Two clear tastes: {a, b, c} and {x, y, z}. u4 read a and b; of the candidates c and
    # x (the articles still worth showing), c fits u4.
    rows = [(u, i, 1.0) for u in ("u1", "u2", "u3") for i in ("a", "b", "c")]
    rows += [(u, i, 1.0) for u in ("u5", "u6", "u7") for i in ("x", "y", "z")]
    rows += [("u4", "a", 1.0), ("u4", "b", 1.0)]
    interactions = spark.createDataFrame(rows, "user_id string, article_id string, strength double")
    path = str(tmp_path / "id_map")
    users = id_map.assign(
        spark, interactions.selectExpr("user_id AS entity_id"), path, portal="g1", kind="user"
    )
    items = id_map.assign(
        spark, interactions.selectExpr("article_id AS entity_id"), path, portal="g1", kind="article"
    )
    trained = als.train(interactions, users, items, als.AlsParams(rank=4, max_iter=10, seed=1))
    who = spark.createDataFrame([("u4",), ("unknown",)], "user_id string")
    candidates = spark.createDataFrame([("c",), ("x",), ("never-seen",)], "article_id string")
    recs = als.recommend(trained, who, candidates, top_n=2).orderBy("rank").collect()
    assert [(r["user_id"], r["rank"], r["article_id"]) for r in recs] == [
        ("u4", 1, "c"),
        ("u4", 2, "x"),
    ]
    assert recs[0]["score"] > recs[1]["score"]
