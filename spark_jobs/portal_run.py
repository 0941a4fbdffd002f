"""One portal's nightly model: evaluate on the next-day split, gate, then build the lists.

``train_portal`` is the ``train`` stage of :mod:`spark_jobs.nightly`:

1. split the portal's visits at ``as_of - eval_test_hours``; skip the portal when the test
   period has fewer than ``eval_min_users`` readers or nothing precedes the split;
2. number ids (``gold.id_map``), train ALS on the interactions known at the split, and score
   on the test period (:mod:`spark_jobs.evaluation`) ALS, popular and trending alone (for
   the record) and what readers will be served: the request-time reader's list
   (:mod:`spark_jobs.served`) without personal lists, with the candidate's ALS lists at each
   trial weight, and with the version in service's lists at its weight;
3. gate it (:mod:`spark_jobs.gate`): the personal lists earn a weight (0 when they do not
   help), and the served list must not fall below the version in service's;
4. if promoted, retrain ALS on everything up to ``as_of`` and write the published lists
   (``gold.recommendations``: each active reader's ALS list less what they read,
   ``gold.related``, ``gold.popular``) under ``version``;
5. record every model's metrics, the parameters (with the earned weight, which the export
   publishes beside the lists), the input table versions, the stage timings and the
   decision in ``gold.model_runs``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from newslake import aws, versions
from newslake.settings import Settings
from spark_jobs import als, blend, delta_io, gate, gold
from spark_jobs import columns as C
from spark_jobs.evaluation import Split
from spark_jobs.gold import ModelRun
from spark_jobs.interactions import strengths
from spark_jobs.popularity import top_by_views
from spark_jobs.portal_inputs import PortalRun, Scoring, signal_params
from spark_jobs.served import gather, personal_lists
from spark_jobs.tables import GoldPaths, StreamPaths

log = logging.getLogger("newslake.nightly")

CANDIDATE, REJECTED, SKIPPED, FAILED = "candidate", "rejected", "skipped", "failed"
SERVED, IN_SERVICE = "served", "in_service"


class _Skip(Exception):
    """Not enough data to train and evaluate the portal: not a failure."""


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


@dataclass(frozen=True)
class Chosen:
    """The ALS parameters and blend weights a run trains with, and who chose them."""

    params: als.AlsParams
    weights: blend.BlendWeights
    source: str


@dataclass
class _Attempt:
    """What one train attempt read and chose so far (recorded in ``gold.model_runs``
    whatever happens) and the id maps it keeps cached until it ends."""

    inputs: dict[str, int | None] = field(default_factory=dict)
    chosen: Chosen | None = None
    personal_weight: float = 0.0
    maps: tuple[DataFrame, DataFrame] | None = None

    def close(self) -> None:
        for m in self.maps or ():
            m.unpersist()


def chosen_params(spark: SparkSession, settings: Settings, portal: str, as_of: datetime) -> Chosen:
    """The newest search's choice for the portal, else the settings' defaults."""
    row = gold.latest_hyperparams(spark, GoldPaths.of(settings).hyperparams, portal, as_of)
    if row is None:
        return Chosen(als.AlsParams.of(settings), blend.BlendWeights.of(settings), "settings")
    return Chosen(
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


def production_interactions(run: PortalRun, version: str) -> DataFrame:
    """gold.interactions of ``version`` when the interactions stage wrote it, else computed."""
    rows = gold.version_rows(run.spark, run.paths.interactions, run.portal, version)
    if rows is not None and rows.limit(1).count():
        return rows.select(C.USER_ID, C.ARTICLE_ID, C.STRENGTH)
    return strengths(run.visits, run.as_of)


@dataclass(frozen=True)
class InService:
    """The version in service's personal lists (user_id, rank, article_id, score) and the
    weight the gate earned for them."""

    lists: DataFrame
    weight: float


def evaluate(
    run: PortalRun,
    *,
    maps: tuple[DataFrame, DataFrame],
    chosen: Chosen,
    in_service: InService | None,
) -> tuple[dict[str, dict[str, Any]], gate.Served]:
    """Metrics of every model on the run's split, and what the gate compares: ALS, popular
    and trending alone, and the request-time list as served (module docstring)."""
    t, scoring = run.timings, Scoring.of(run)
    sig, out = scoring.signals, {}
    with t("evaluate.als_train"):
        trained = als.train(strengths(run.visits, run.split.cutoff), *maps, chosen.params)
    with t("evaluate.als"):
        als_top = als.recommend(trained, scoring.users, sig.fresh, sig.candidates).cache()
        out["als"] = scoring.score_unread(als_top)
    with t("evaluate.baselines"):
        for name, ranked in (("popular", sig.popular), ("trending", sig.trending)):
            out[name] = scoring.score_unread(blend.for_users(scoring.users, ranked))
    with t("evaluate.served"):
        personal = als_top.transform(blend.unread(scoring.reads, run.settings.top_n))
        served = _score_served(run, scoring, personal, in_service, out)
    als_top.unpersist()
    scoring.close()
    return out, served


def _score_served(
    run: PortalRun,
    scoring: Scoring,
    personal: DataFrame,
    in_service: InService | None,
    out: dict[str, dict[str, Any]],
) -> gate.Served:
    """Score the request-time list without personal lists, with ``personal`` at each trial
    weight and with the version in service's; adds each to ``out``."""
    inputs = gather(scoring.signals, scoring.users, run.visits, settings=run.settings, k=scoring.k)
    score, metric = scoring.evaluator.score_lists, run.metric
    out[SERVED] = score(inputs.lists_of({}, 0.0))
    candidate, trials = personal_lists(personal), {}
    for weight in run.settings.gate_personal_weights:
        name = f"{SERVED}_personal_{weight:g}"
        out[name] = score(inputs.lists_of(candidate, weight))
        trials[weight] = out[name][metric]
    now = None
    if in_service is not None:
        stored = personal_lists(in_service.lists)
        out[IN_SERVICE] = score(inputs.lists_of(stored, in_service.weight))
        now = out[IN_SERVICE][metric]
    return gate.Served(without=out[SERVED][metric], with_personal=trials, in_service=now)


def in_service_lists(run: PortalRun, version: str | None) -> InService | None:
    """The version in service's stored personal lists and earned weight; None when nothing
    is stored."""
    if version is None:
        return None
    stored = gold.version_rows(run.spark, run.paths.recommendations, run.portal, version)
    if stored is None or not stored.limit(1).count():
        return None
    weight = gold.earned_weight(run.spark, run.paths.model_runs, run.portal, version)
    return InService(stored.select(C.USER_ID, C.RANK, C.ARTICLE_ID, C.SCORE), weight)


def build_lists(
    run: PortalRun,
    *,
    version: str,
    interactions: DataFrame,
    maps: tuple[DataFrame, DataFrame],
    chosen: Chosen,
) -> dict[str, int]:
    """The lists to publish, made at the run's ``as_of`` from everything up to it, into gold."""
    settings, paths, t, as_of = run.settings, run.paths, run.timings, run.as_of
    sig = blend.signals(run.visits, as_of, signal_params(settings)).cache()
    since = F.lit(as_of - timedelta(days=settings.personal_active_days)).cast("timestamp")
    active = run.visits.where(F.col(C.VISIT_START) > since).select(C.USER_ID).distinct().cache()
    with t("lists.als_train"):
        trained = als.train(interactions, *maps, chosen.params)
    tag = [F.lit(run.portal).alias(C.PORTAL), F.lit(version).alias(C.VERSION)]
    match = {C.VERSION: version, C.PORTAL: run.portal}
    with t("lists.recommendations"):
        reads = sig.reads.join(active, C.USER_ID, "left_semi")
        recs = als.recommend(trained, active, sig.fresh, sig.candidates).transform(
            blend.unread(reads, settings.published_depth)
        )
        delta_io.replace_rows(
            recs.select(C.USER_ID, C.RANK, C.ARTICLE_ID, C.SCORE, *tag),
            paths.recommendations,
            match=match,
        )
    with t("lists.related_popular"):
        related = sig.related.where(F.col(C.RANK) <= settings.published_depth)
        delta_io.replace_rows(
            related.select(C.SOURCE_ARTICLE, C.RANK, C.ARTICLE_ID, C.SCORE, *tag),
            paths.related,
            match=match,
        )
        popular = run.visits.transform(
            top_by_views(
                as_of, timedelta(hours=settings.popular_window_hours), settings.published_depth
            )
        )
        delta_io.replace_rows(
            popular.select(C.PORTAL, C.RANK, C.ARTICLE_ID, C.VIEWS, tag[1]),
            paths.popular,
            match=match,
        )
    active.unpersist()
    sig.unpersist()
    counts = (
        run.spark.read.format("delta")
        .load(paths.recommendations)
        .where((F.col(C.PORTAL) == run.portal) & (F.col(C.VERSION) == version))
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
    split = Split.before(as_of, settings.eval_test_hours)
    run = PortalRun.open(spark, settings, portal, as_of, split)
    outcome, attempt = PortalOutcome(portal, version, FAILED), _Attempt()
    try:
        _train(run, outcome, attempt, ddb)
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
        run.close()
        attempt.close()
        outcome.stage_s = dict(run.timings.seconds)
    _record(run, outcome, attempt)
    return outcome


def _train(run: PortalRun, outcome: PortalOutcome, attempt: _Attempt, ddb: Any) -> None:
    """Check, evaluate, gate and (if promoted) build the lists; fills ``outcome``."""
    with run.timings("split"):
        attempt.inputs = _input_versions(run)
        run.gather_test_readers()
        history = run.has_history()
    _check_enough(run, history)
    chosen = attempt.chosen = chosen_params(run.spark, run.settings, run.portal, run.as_of)
    with run.timings("id_map"):
        interactions = production_interactions(run, outcome.version)
        maps = attempt.maps = run.id_maps(interactions)
    ddb = ddb or aws.client("dynamodb", run.settings)
    serving = versions.active_version(ddb, run.settings.versions_table, run.portal)
    with run.timings("evaluate"):
        previous = in_service_lists(run, serving if serving != outcome.version else None)
        outcome.metrics, served = evaluate(run, maps=maps, chosen=chosen, in_service=previous)
    decision = gate.decide(
        served,
        margin=run.settings.gate_margin,
        relative=run.settings.gate_margin_relative,
        metric=run.metric,
    )
    attempt.personal_weight = decision.personal_weight
    outcome.gate = {
        "decision": decision.decision,
        "reason": decision.reason,
        "personal_weight": f"{decision.personal_weight:g}",
    }
    if serving is not None:
        outcome.gate["in_service_version"] = serving
    if not decision.promoted:
        outcome.status, outcome.reason = REJECTED, decision.reason
        return
    with run.timings("lists"):
        build_lists(
            run, version=outcome.version, interactions=interactions, maps=maps, chosen=chosen
        )
    outcome.status = CANDIDATE


def _input_versions(run: PortalRun) -> dict[str, int | None]:
    """The versions of the tables the run reads, recorded with it."""
    spark, paths = run.spark, run.paths
    return {
        "silver.pageviews": gold.table_version(spark, StreamPaths.of(run.settings).visits),
        "gold.interactions": gold.table_version(spark, paths.interactions),
        "gold.hyperparams": gold.table_version(spark, paths.hyperparams),
        "gold.id_map": gold.table_version(spark, paths.id_map),
    }


def _check_enough(run: PortalRun, history: bool) -> None:
    """Raise _Skip when the portal has too little data to train and evaluate."""
    readers, needed = len(run.relevant), run.settings.eval_min_users
    if not run.relevant and not history:
        raise _Skip(f"no visits of {run.portal} up to {run.as_of}")
    if not history:
        raise _Skip(f"no visits before the split {run.split.cutoff}")
    if readers < needed:
        raise _Skip(f"too few users with clicks in the test period ({readers} < {needed})")


def _record(run: PortalRun, outcome: PortalOutcome, attempt: _Attempt) -> None:
    """The run in gold.model_runs; a candidate that cannot be recorded fails (export
    refuses an unrecorded decision anyway)."""
    chosen = attempt.chosen
    model_params: dict[str, Any] = {
        "als": chosen.params.as_dict() if chosen else {},
        "blend": chosen.weights.as_dict() if chosen else {},
        "chosen_by": chosen.source if chosen else "",
        "served": {"personal_weight": attempt.personal_weight},
        "split": run.split.as_dict(),
    }
    try:
        gold.write_model_runs(
            run.spark,
            run.paths.model_runs,
            portal=run.portal,
            version=outcome.version,
            as_of=run.as_of,
            cutoff=run.split.cutoff,
            k=run.settings.eval_k,
            status=outcome.status,
            decision=outcome.gate.get("decision", gate.REJECT),
            reason=outcome.reason or outcome.gate.get("reason", ""),
            runs=[ModelRun(m, v, model_params) for m, v in outcome.metrics.items()],
            input_versions=attempt.inputs,
            stage_s=outcome.stage_s,
        )
    except Exception as exc:
        log.exception("%s: could not record the run", run.portal)
        if outcome.status == CANDIDATE:
            outcome.status, outcome.reason = FAILED, f"recording the run failed: {exc}"
