"""The weekly search: ALS hyperparameters, then the blend's weights, per portal.

It runs on a validation split one day earlier than the nightly evaluation's (train up to
``as_of - 2 days``, validate on the day after), so the nightly figures stay out of sample.
ALS is tried over :func:`spark_jobs.als.grid` and scored alone (NDCG@k); with the best ALS,
every weight combination of :func:`spark_jobs.blend.weight_grid` is scored as a blend. The
choice and every trial are recorded in ``gold.hyperparams``; nightly runs use the newest
row made at or before their as-of time.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from newslake.settings import Settings
from spark_jobs import als, blend, gold, id_map
from spark_jobs import columns as C
from spark_jobs.evaluation import Evaluator, Split, relevant_sets, test_clicks
from spark_jobs.interactions import strengths
from spark_jobs.portal_inputs import portal_visits, signal_params
from spark_jobs.tables import GoldPaths

log = logging.getLogger("newslake.search")


def search_portal(
    spark: SparkSession,
    settings: Settings,
    portal: str,
    as_of: datetime,
    *,
    quick: bool = False,
) -> dict[str, Any]:
    """Search one portal and record the choice; returns it (or why it was skipped)."""
    k, paths = settings.eval_k, GoldPaths.of(settings)
    ndcg = f"ndcg_at_{k}"
    val_end = as_of - timedelta(hours=settings.eval_test_hours)
    split = Split.before(val_end, settings.eval_test_hours)
    visits = portal_visits(spark, settings, portal, val_end).cache()
    try:
        relevant = relevant_sets(test_clicks(visits, split))
        history = visits.where(F.col(C.VISIT_START) <= F.lit(split.cutoff).cast("timestamp"))
        if len(relevant) < settings.eval_min_users or not history.limit(1).count():
            reason = f"too little data for a validation split ending {val_end}"
            log.warning("%s: search skipped: %s", portal, reason)
            return {"status": "skipped", "reason": reason}
        interactions = strengths(visits, split.cutoff).cache()
        ids = id_map.assign_kinds(
            spark,
            {
                id_map.USER: interactions.select(F.col(C.USER_ID).alias(C.ENTITY_ID)),
                id_map.ARTICLE: interactions.select(F.col(C.ARTICLE_ID).alias(C.ENTITY_ID)),
            },
            paths.id_map,
            portal=portal,
        )
        maps = (ids[id_map.USER].cache(), ids[id_map.ARTICLE].cache())
        sig = blend.signals(visits, split.cutoff, signal_params(settings)).cache()
        users = spark.createDataFrame([(u,) for u in relevant], f"{C.USER_ID} string").cache()
        reads = sig.reads.join(users, C.USER_ID, "left_semi").cache()
        evaluator = Evaluator(relevant, users, [r[0] for r in sig.catalogue.collect()], k)

        trials: list[dict[str, Any]] = []
        best: tuple[float, als.AlsParams, Any] | None = None
        for params in als.grid(settings.als_seed, quick=quick):
            trained = als.train(interactions, maps[0], maps[1], params)
            top = als.recommend(trained, users, sig.fresh, sig.candidates).cache()
            score = evaluator.score(top.transform(blend.unread(reads, k)))[ndcg]
            trials.append({"als": params.as_dict(), ndcg: score})
            log.info("%s: ALS %s -> %s %.4f", portal, params, ndcg, score)
            if best is None or score > best[0]:
                if best is not None:
                    best[2].unpersist()
                best = (score, params, top)
            else:
                top.unpersist()
        assert best is not None
        chosen_w, chosen_score = blend.BlendWeights(), -1.0
        lists = {n: df.cache() for n, df in blend.source_lists(sig, users, best[2]).items()}
        for weights in blend.weight_grid(quick=quick):
            fused = blend.fuse(
                lists,
                weights.as_dict(),
                reads=reads,
                fresh=sig.fresh,
                top_n=k,
            )
            score = evaluator.score(fused)[ndcg]
            trials.append({"blend": weights.as_dict(), ndcg: score})
            log.info("%s: blend %s -> %s %.4f", portal, weights, ndcg, score)
            if score > chosen_score:
                chosen_w, chosen_score = weights, score
        for df in (best[2], *lists.values()):
            df.unpersist()
        sig.unpersist()
        reads.unpersist()
        users.unpersist()
        interactions.unpersist()
    finally:
        visits.unpersist()
    p = best[1]
    row = {
        C.PORTAL: portal,
        "searched_on": as_of.date(),
        "as_of": as_of,
        "rank": p.rank,
        "max_iter": p.max_iter,
        "reg_param": p.reg_param,
        "alpha": p.alpha,
        "seed": p.seed,
        "w_trending": chosen_w.trending,
        "w_covisit": chosen_w.covisit,
        "w_als": chosen_w.als,
        "w_popular": chosen_w.popular,
        "w_hot": chosen_w.hot,
        "validation_ndcg": chosen_score,
        "trials": json.dumps(trials),
        "recorded_at": datetime.now(UTC),
    }
    gold.write_hyperparams(spark, paths.hyperparams, row)
    return {
        "status": "searched",
        "split": split.as_dict(),
        "als": p.as_dict(),
        "als_" + ndcg: best[0],
        "blend": chosen_w.as_dict(),
        "blend_" + ndcg: chosen_score,
        "trials": len(trials),
    }
