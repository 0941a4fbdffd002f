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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from newslake.settings import Settings
from spark_jobs import als, blend, gold
from spark_jobs import columns as C
from spark_jobs.evaluation import Split
from spark_jobs.interactions import strengths
from spark_jobs.portal_inputs import PortalRun, Scoring

log = logging.getLogger("newslake.search")


@dataclass
class _Found:
    """The search's best ALS (its lists cached while the weights are tried) and weights,
    with every trial's score."""

    als_score: float = -1.0
    params: als.AlsParams | None = None
    als_top: DataFrame | None = None
    blend_score: float = -1.0
    weights: blend.BlendWeights | None = None
    trials: list[dict[str, Any]] = field(default_factory=list)


def search_portal(
    spark: SparkSession,
    settings: Settings,
    portal: str,
    as_of: datetime,
    *,
    quick: bool = False,
) -> dict[str, Any]:
    """Search one portal and record the choice; returns it (or why it was skipped)."""
    val_end = as_of - timedelta(hours=settings.eval_test_hours)
    split = Split.before(val_end, settings.eval_test_hours)
    run = PortalRun.open(spark, settings, portal, as_of, split)
    try:
        run.gather_test_readers()
        if len(run.relevant) < settings.eval_min_users or not run.has_history():
            reason = f"too little data for a validation split ending {val_end}"
            log.warning("%s: search skipped: %s", portal, reason)
            return {"status": "skipped", "reason": reason}
        found = _search(run, quick=quick)
    finally:
        run.close()
    assert found.params is not None and found.weights is not None
    gold.write_hyperparams(spark, run.paths.hyperparams, _hyperparams_row(run, found))
    return {
        "status": "searched",
        "split": split.as_dict(),
        "als": found.params.as_dict(),
        "als_" + run.metric: found.als_score,
        "blend": found.weights.as_dict(),
        "blend_" + run.metric: found.blend_score,
        "trials": len(found.trials),
    }


def _search(run: PortalRun, *, quick: bool) -> _Found:
    """Every trial on the run's validation split: ALS alone, then the blends with the best."""
    interactions = strengths(run.visits, run.split.cutoff).cache()
    maps = run.id_maps(interactions)
    scoring, found = Scoring.of(run), _Found()
    _try_als(run, scoring, found, interactions=interactions, maps=maps, quick=quick)
    _try_weights(run, scoring, found, quick=quick)
    for df in (found.als_top, *maps):
        if df is not None:
            df.unpersist()
    scoring.close()
    interactions.unpersist()
    return found


def _try_als(
    run: PortalRun,
    scoring: Scoring,
    found: _Found,
    *,
    interactions: DataFrame,
    maps: tuple[DataFrame, DataFrame],
    quick: bool,
) -> None:
    """Each ALS of the grid scored alone; the best is kept in ``found``."""
    sig, metric = scoring.signals, run.metric
    for params in als.grid(run.settings.als_seed, quick=quick):
        trained = als.train(interactions, maps[0], maps[1], params)
        top = als.recommend(trained, scoring.users, sig.fresh, sig.candidates).cache()
        score = scoring.score_unread(top)[metric]
        found.trials.append({"als": params.as_dict(), metric: score})
        log.info("%s: ALS %s -> %s %.4f", run.portal, params, metric, score)
        if found.als_top is None or score > found.als_score:
            if found.als_top is not None:
                found.als_top.unpersist()
            found.als_score, found.params, found.als_top = score, params, top
        else:
            top.unpersist()


def _try_weights(run: PortalRun, scoring: Scoring, found: _Found, *, quick: bool) -> None:
    """Each weighting of the grid scored as a blend with the best ALS; the first of the
    best is kept in ``found``."""
    metric = run.metric
    sources = blend.source_lists(scoring.signals, scoring.users, found.als_top)
    lists = {n: df.cache() for n, df in sources.items()}
    for weights in blend.weight_grid(quick=quick):
        score = scoring.score(scoring.fuse(lists, weights))[metric]
        found.trials.append({"blend": weights.as_dict(), metric: score})
        log.info("%s: blend %s -> %s %.4f", run.portal, weights, metric, score)
        if score > found.blend_score:
            found.weights, found.blend_score = weights, score
    for df in lists.values():
        df.unpersist()


def _hyperparams_row(run: PortalRun, found: _Found) -> dict[str, Any]:
    """The search's row of gold.hyperparams: the choice and every trial."""
    p, w = found.params, found.weights
    assert p is not None and w is not None
    return {
        C.PORTAL: run.portal,
        "searched_on": run.as_of.date(),
        "as_of": run.as_of,
        "rank": p.rank,
        "max_iter": p.max_iter,
        "reg_param": p.reg_param,
        "alpha": p.alpha,
        "seed": p.seed,
        "w_trending": w.trending,
        "w_covisit": w.covisit,
        "w_als": w.als,
        "w_popular": w.popular,
        "w_hot": w.hot,
        "validation_ndcg": found.blend_score,
        "trials": json.dumps(found.trials),
        "recorded_at": datetime.now(UTC),
    }
