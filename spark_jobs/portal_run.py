"""One portal's nightly model: evaluate on the next-day split, gate, then build the lists.

``train_portal`` is the ``train`` stage of :mod:`spark_jobs.nightly`:

1. split the portal's visits at ``as_of - eval_test_hours``; skip the portal when the test
   period has fewer than ``eval_min_users`` readers or nothing precedes the split;
2. number ids (``gold.id_map``), train ALS on the interactions known at the split, and score
   ALS, most viewed, trending, the blend and the version in service (its stored lists from
   ``gold.recommendations``) on the test period (:mod:`spark_jobs.evaluation`);
3. gate the blend (:mod:`spark_jobs.gate`);
4. if promoted, retrain ALS on everything up to ``as_of`` and write the published lists
   (``gold.recommendations``, ``gold.related``, ``gold.popular``) under ``version``;
5. record every model's metrics, the parameters, the input table versions, the stage
   timings and the decision in ``gold.model_runs``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from newslake import aws, versions
from newslake.settings import Settings
from spark_jobs import als, blend, delta_io, gate, gold, id_map
from spark_jobs import columns as C
from spark_jobs.evaluation import Evaluator, Split, relevant_sets, test_clicks
from spark_jobs.gold import ModelRun
from spark_jobs.interactions import strengths
from spark_jobs.popularity import most_viewed
from spark_jobs.portal_inputs import portal_visits, signal_params
from spark_jobs.tables import GoldPaths, StreamPaths

log = logging.getLogger("newslake.nightly")

CANDIDATE, REJECTED, SKIPPED, FAILED = "candidate", "rejected", "skipped", "failed"
BASELINES = ("most_viewed", "trending")


class _Skip(Exception):
    """Not enough data to train and evaluate the portal: not a failure."""


@dataclass
class Timings:
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.seconds[name] = round(time.monotonic() - started, 2)


@dataclass
class PortalOutcome:
    """What the ``train`` stage prints for one portal."""

    portal: str
    version: str
    status: str
    reason: str = ""
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    gate: dict[str, str] = field(default_factory=dict)
    stage_s: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def chosen_params(
    spark: SparkSession, settings: Settings, portal: str, as_of: datetime
) -> tuple[als.AlsParams, blend.BlendWeights, str]:
    """The newest search's choice for the portal, else the settings' defaults."""
    row = gold.latest_hyperparams(spark, GoldPaths.of(settings).hyperparams, portal, as_of)
    if row is None:
        return (
            als.AlsParams(
                settings.als_rank,
                settings.als_max_iter,
                settings.als_reg_param,
                settings.als_alpha,
                settings.als_seed,
            ),
            blend.BlendWeights(
                trending=settings.blend_w_trending,
                covisit=settings.blend_w_covisit,
                als=settings.blend_w_als,
                popular=settings.blend_w_popular,
                hot=settings.blend_w_hot,
            ),
            "settings",
        )
    return (
        als.AlsParams(row["rank"], row["max_iter"], row["reg_param"], row["alpha"], row["seed"]),
        blend.BlendWeights(  # a row from before a source existed had it at 0
            trending=row["w_trending"],
            covisit=row["w_covisit"],
            als=row["w_als"],
            popular=row.get("w_popular") or 0.0,
            hot=row.get("w_hot") or 0.0,
        ),
        f"gold.hyperparams searched on {row['searched_on']}",
    )


def production_interactions(
    spark: SparkSession, paths: GoldPaths, visits: DataFrame, portal: str, version: str,
    as_of: datetime,
) -> DataFrame:  # fmt: skip
    """gold.interactions of ``version`` when the interactions stage wrote it, else computed."""
    rows = gold.version_rows(spark, paths.interactions, portal, version)
    if rows is not None and rows.limit(1).count():
        return rows.select(C.USER_ID, C.ARTICLE_ID, C.STRENGTH)
    return strengths(visits, as_of)


def evaluate(
    spark: SparkSession,
    settings: Settings,
    visits: DataFrame,
    split: Split,
    relevant: dict[str, set[str]],
    maps: tuple[DataFrame, DataFrame],
    params: als.AlsParams,
    weights: blend.BlendWeights,
    in_service: DataFrame | None,
    t: Timings,
) -> dict[str, dict[str, Any]]:
    """Metrics of every model on ``split``: ALS, the baselines, the blend, the version in
    service (when its lists are given: (user_id, rank, article_id, score))."""
    k = settings.eval_k
    sig = blend.signals(visits, split.cutoff, signal_params(settings)).cache()
    users = spark.createDataFrame([(u,) for u in relevant], f"{C.USER_ID} string").cache()
    reads = sig.reads.join(users, C.USER_ID, "left_semi").cache()
    catalogue = [r[0] for r in sig.catalogue.collect()]
    evaluator = Evaluator(relevant, users, catalogue, k)
    out: dict[str, dict[str, Any]] = {}
    with t("evaluate.als_train"):
        trained = als.train(strengths(visits, split.cutoff), *maps, params)
    with t("evaluate.als"):
        als_top = als.recommend(trained, users, sig.fresh, sig.candidates).cache()
        out["als"] = evaluator.score(als_top.transform(blend.unread(reads, k)))
    with t("evaluate.baselines"):
        for name, ranked in (("most_viewed", sig.most_viewed), ("trending", sig.trending)):
            out[name] = evaluator.score(
                blend.for_users(users, ranked).transform(blend.unread(reads, k))
            )
    with t("evaluate.blend"):
        fused = blend.fuse(
            blend.source_lists(sig, users, als_top),
            weights.as_dict(),
            reads=reads,
            fresh=sig.fresh,
            top_n=k,
        )
        out["blend"] = evaluator.score(fused)
    if in_service is not None:
        with t("evaluate.in_service"):
            out["in_service"] = evaluator.score(in_service.transform(blend.unread(reads, k)))
    als_top.unpersist()
    reads.unpersist()
    users.unpersist()
    sig.unpersist()
    return out


def in_service_lists(
    spark: SparkSession, paths: GoldPaths, portal: str, version: str | None, users: DataFrame
) -> DataFrame | None:
    """What the version in service shows ``users``: its stored personal lists, topped up
    with its most-viewed list (as the service does); None when nothing is stored."""
    if version is None:
        return None
    stored = gold.version_rows(spark, paths.recommendations, portal, version)
    if stored is None or not stored.limit(1).count():
        return None
    personal = stored.select(C.USER_ID, C.RANK, C.ARTICLE_ID, C.SCORE)
    popular = gold.version_rows(spark, paths.popular, portal, version)
    if popular is not None:
        topped = blend.for_users(
            users,
            popular.select(
                (F.col(C.RANK) + 1000).alias(C.RANK),
                C.ARTICLE_ID,
                F.col(C.VIEWS).cast("double").alias(C.SCORE),
            ),
        )
        personal = (
            personal.unionByName(topped.select(C.USER_ID, C.RANK, C.ARTICLE_ID, C.SCORE))
            .groupBy(C.USER_ID, C.ARTICLE_ID)
            .agg(F.min(C.RANK).alias(C.RANK), F.max(C.SCORE).alias(C.SCORE))
        )
    return personal


def build_lists(
    spark: SparkSession,
    settings: Settings,
    paths: GoldPaths,
    visits: DataFrame,
    portal: str,
    as_of: datetime,
    version: str,
    interactions: DataFrame,
    maps: tuple[DataFrame, DataFrame],
    params: als.AlsParams,
    weights: blend.BlendWeights,
    t: Timings,
) -> dict[str, int]:
    """The lists to publish, made at ``as_of`` from everything up to it, into gold."""
    sig = blend.signals(visits, as_of, signal_params(settings)).cache()
    since = F.lit(as_of - timedelta(days=settings.personal_active_days)).cast("timestamp")
    active = visits.where(F.col(C.VISIT_START) > since).select(C.USER_ID).distinct().cache()
    als_top = None
    if weights.als > 0:
        with t("lists.als_train"):
            trained = als.train(interactions, *maps, params)
        als_top = als.recommend(trained, active, sig.fresh, sig.candidates)
    tag = [F.lit(portal).alias(C.PORTAL), F.lit(version).alias(C.VERSION)]
    match = {C.VERSION: version, C.PORTAL: portal}
    with t("lists.recommendations"):
        recs = blend.fuse(
            blend.source_lists(sig, active, als_top),
            weights.as_dict(),
            reads=sig.reads.join(active, C.USER_ID, "left_semi"),
            fresh=sig.fresh,
            top_n=settings.top_n,
        )
        delta_io.replace_rows(
            recs.select(C.USER_ID, C.RANK, C.ARTICLE_ID, C.SCORE, *tag),
            paths.recommendations,
            match=match,
        )
    with t("lists.related_popular"):
        related = sig.related.where(F.col(C.RANK) <= settings.top_n)
        delta_io.replace_rows(
            related.select(C.SOURCE_ARTICLE, C.RANK, C.ARTICLE_ID, C.SCORE, *tag),
            paths.related,
            match=match,
        )
        popular = visits.transform(
            most_viewed(as_of, timedelta(hours=settings.popular_window_hours), settings.top_n)
        )
        delta_io.replace_rows(
            popular.select(C.PORTAL, C.RANK, C.ARTICLE_ID, C.VIEWS, tag[1]),
            paths.popular,
            match=match,
        )
    active.unpersist()
    sig.unpersist()
    counts = (
        spark.read.format("delta")
        .load(paths.recommendations)
        .where((F.col(C.PORTAL) == portal) & (F.col(C.VERSION) == version))
    )
    return {"users": counts.select(C.USER_ID).distinct().count()}


def train_portal(
    spark: SparkSession,
    settings: Settings,
    portal: str,
    as_of: datetime,
    version: str,
    *,
    ddb: Any = None,
) -> PortalOutcome:
    """The ``train`` stage for one portal; never raises for the portal's own failures."""
    paths, t = GoldPaths.of(settings), Timings()
    outcome = PortalOutcome(portal, version, FAILED)
    split = Split.before(as_of, settings.eval_test_hours)
    runs: list[ModelRun] = []
    params, weights, source = None, None, ""
    maps: tuple[DataFrame, ...] = ()
    inputs: dict[str, int | None] = {}
    visits = portal_visits(spark, settings, portal, as_of).cache()
    try:
        with t("split"):
            inputs = {
                "silver.pageviews": gold.table_version(spark, StreamPaths.of(settings).visits),
                "gold.interactions": gold.table_version(spark, paths.interactions),
                "gold.hyperparams": gold.table_version(spark, paths.hyperparams),
                "gold.id_map": gold.table_version(spark, paths.id_map),
            }
            relevant = relevant_sets(test_clicks(visits, split))
            history = (
                visits.where(F.col(C.VISIT_START) <= F.lit(split.cutoff).cast("timestamp"))
                .limit(1)
                .count()
            )
        if not relevant and not history:
            raise _Skip(f"no visits of {portal} up to {as_of}")
        if not history:
            raise _Skip(f"no visits before the split {split.cutoff}")
        if len(relevant) < settings.eval_min_users:
            raise _Skip(
                f"too few users with clicks in the test period ({len(relevant)} < "
                f"{settings.eval_min_users})"
            )
        params, weights, source = chosen_params(spark, settings, portal, as_of)
        with t("id_map"):
            interactions = production_interactions(spark, paths, visits, portal, version, as_of)
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
        ddb = ddb or aws.client("dynamodb", settings)
        serving = versions.active_version(ddb, settings.versions_table, portal)
        with t("evaluate"):
            users = spark.createDataFrame([(u,) for u in relevant], f"{C.USER_ID} string")
            previous = in_service_lists(
                spark, paths, portal, serving if serving != version else None, users
            )
            outcome.metrics = evaluate(
                spark, settings, visits, split, relevant, maps, params, weights, previous, t
            )
        ndcg = f"ndcg_at_{settings.eval_k}"
        decision = gate.decide(
            outcome.metrics["blend"][ndcg],
            {b: outcome.metrics[b][ndcg] for b in BASELINES},
            outcome.metrics["in_service"][ndcg] if "in_service" in outcome.metrics else None,
            margin=settings.gate_margin,
            relative=settings.gate_margin_relative,
            metric=ndcg,
        )
        outcome.gate = {"decision": decision.decision, "reason": decision.reason}
        if serving is not None:
            outcome.gate["in_service_version"] = serving
        if decision.promoted:
            with t("lists"):
                build_lists(
                    spark, settings, paths, visits, portal, as_of, version, interactions, maps,
                    params, weights, t,
                )  # fmt: skip
            outcome.status = CANDIDATE
        else:
            outcome.status, outcome.reason = REJECTED, decision.reason
    except _Skip as skip:
        log.warning("%s: skipped: %s", portal, skip)
        outcome.status, outcome.reason = SKIPPED, str(skip)
    except Exception as exc:  # one portal's failure must not stop the others
        log.exception("%s: train failed; the service keeps its current version", portal)
        outcome.status = FAILED
        outcome.reason = (
            f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
        )
    finally:
        visits.unpersist()
        for m in maps:
            m.unpersist()
        outcome.stage_s = dict(t.seconds)
    model_params: dict[str, Any] = {
        "als": params.as_dict() if params else {},
        "blend": weights.as_dict() if weights else {},
        "chosen_by": source,
        "split": split.as_dict(),
    }
    runs = [ModelRun(m, v, model_params) for m, v in outcome.metrics.items()]
    try:
        gold.write_model_runs(
            spark,
            paths.model_runs,
            portal=portal,
            version=version,
            as_of=as_of,
            cutoff=split.cutoff,
            k=settings.eval_k,
            status=outcome.status,
            decision=outcome.gate.get("decision", gate.REJECT),
            reason=outcome.reason or outcome.gate.get("reason", ""),
            runs=runs,
            input_versions=inputs,
            stage_s=outcome.stage_s,
        )
    except Exception as exc:
        log.exception("%s: could not record the run", portal)
        if outcome.status == CANDIDATE:  # export refuses an unrecorded decision anyway
            outcome.status, outcome.reason = FAILED, f"recording the run failed: {exc}"
    return outcome
