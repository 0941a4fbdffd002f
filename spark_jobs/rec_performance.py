"""How the served lists do on the portals: the nightly ``rec_performance`` stage.

Three gold tables, each rebuilt per day (the day's rows replaced, so a rerun changes
nothing), for the last ``rec_performance_days`` days up to the run's time:

* ``gold/rec_performance``: per day the answer was served, portal, route, source,
  position, model version, experiment and variant: ``impressions`` (items shown),
  ``clicks`` (attributed, one per answer and position however often it was followed) and
  ``ctr``. A day is rebuilt the next night too, so the clicks of its last answers count.
* ``gold/rec_checks``: per day and portal, what would otherwise skew CTR silently:
  answer records served that day (``impressions``), those whose click window was still
  open at the run's time (``impressions_open``: their clicks may come), answer records
  that landed that day more than a day after they were served (``impressions_late``: their
  day is not rebuilt any more, so they count here and in no CTR), and the pageviews of the
  day naming a recommendation: ``attributed`` and each reason they were not
  (``unknown_rec``, also the clicks whose answer is lost or not landed yet, ...).
* ``gold/experiment_results``: per experiment and variant, from the experiment's first day
  to the day of the run (``first_day``..``day``): readers assigned, impressions, clicks,
  CTR with its interval, the lift over the control (the experiment's first variant) with
  its interval and p-value, and the sample-ratio check (``newslake.abstats``).

Attribution itself is :mod:`spark_jobs.attribution`, the experiments' rows
:mod:`spark_jobs.experiment_results`; ``spark_jobs/nightly.py`` runs the stage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from newslake.settings import Settings
from spark_jobs import attribution as A
from spark_jobs import columns as C
from spark_jobs import delta_io
from spark_jobs import impressions as I
from spark_jobs.tables import GoldPaths, StreamPaths
from spark_jobs.validation import require_columns

DAY = "day"
IMPRESSIONS = "impressions"
CLICKS = "clicks"
CTR = "ctr"
AS_OF = "as_of"
PERFORMANCE_KEYS = (
    DAY, C.PORTAL, I.ROUTE, I.SOURCE, I.POSITION, I.MODEL_VERSION, I.EXPERIMENT, I.VARIANT,
)  # fmt: skip
IMPRESSIONS_OPEN = "impressions_open"
IMPRESSIONS_LATE = "impressions_late"
PAGEVIEWS_WITH_REC = "pageviews_with_rec"
CHECK_COUNTS = (
    IMPRESSIONS, IMPRESSIONS_OPEN, IMPRESSIONS_LATE, PAGEVIEWS_WITH_REC, A.ATTRIBUTED,
    *A.REASONS,
)  # fmt: skip
LATE_LANDING = timedelta(days=1)


@dataclass(frozen=True)
class Attribution:
    """The attribution's parameters: the click window, how far a client clock may run
    behind, and how far back a pageview's answer is looked up (as far back as silver
    takes late events)."""

    window: timedelta
    skew: timedelta
    look_back: timedelta

    @classmethod
    def of(cls, settings: Settings) -> Attribution:
        return cls(
            window=timedelta(minutes=settings.attribution_window_minutes),
            skew=timedelta(seconds=settings.attribution_clock_skew_s),
            look_back=timedelta(days=math.ceil(settings.late_after_s / 86400)),
        )


def items_shown(impressions: DataFrame) -> DataFrame:
    """One row per item of each answer: the answer's fields, the item's source and position."""
    require_columns(impressions, I.IMPRESSION_COLUMNS, where="items_shown")
    return impressions.select(
        F.col(I.SERVED_DATE).alias(DAY),
        I.RECOMMENDATION_ID,
        C.PORTAL,
        I.ROUTE,
        I.MODEL_VERSION,
        I.EXPERIMENT,
        I.VARIANT,
        F.explode(I.ITEMS).alias("_item"),
    ).select(
        *[c for c in PERFORMANCE_KEYS if c not in (I.SOURCE, I.POSITION)],
        I.RECOMMENDATION_ID,
        F.col(f"_item.{I.SOURCE}").alias(I.SOURCE),
        F.col(f"_item.{I.POSITION}").alias(I.POSITION),
    )


def performance(shown: DataFrame, outcomes: DataFrame) -> DataFrame:
    """``PERFORMANCE_KEYS`` with impressions, clicks and CTR: each item shown is clicked
    when an attributed pageview names its answer and position (once, however many do)."""
    require_columns(outcomes, [C.REC_ID, C.REC_POSITION, A.ATTRIBUTED], where="performance")
    clicked = (
        outcomes.where(F.col(A.ATTRIBUTED))
        .select(
            F.col(C.REC_ID).alias(I.RECOMMENDATION_ID),
            F.col(C.REC_POSITION).alias(I.POSITION),
            F.lit(1).alias("_clicked"),
        )
        .distinct()
    )
    return (
        shown.join(clicked, [I.RECOMMENDATION_ID, I.POSITION], "left")
        .groupBy(*PERFORMANCE_KEYS)
        .agg(F.count(F.lit(1)).alias(IMPRESSIONS), F.count("_clicked").alias(CLICKS))
        .withColumn(CTR, F.col(CLICKS) / F.col(IMPRESSIONS))
    )


def checks(
    served: DataFrame, landed: DataFrame, outcomes: DataFrame, *, day: date, open_after: datetime
) -> DataFrame:
    """Per portal, the day's ``CHECK_COUNTS``: ``served`` are the answers served that day,
    ``landed`` those that reached silver that day, ``outcomes`` the day's pageviews naming a
    recommendation; an answer served after ``open_after`` still had its click window open."""
    late = (F.col(C.SILVER_AT) - F.col(I.SERVED_AT)) > F.expr(
        f"INTERVAL {int(LATE_LANDING.total_seconds())} SECONDS"
    )
    parts = [
        served.groupBy(C.PORTAL).agg(
            F.count(F.lit(1)).alias(IMPRESSIONS),
            F.count_if(F.col(I.SERVED_AT) > F.lit(open_after)).alias(IMPRESSIONS_OPEN),
        ),
        landed.groupBy(C.PORTAL).agg(F.count_if(late).alias(IMPRESSIONS_LATE)),
        outcomes.groupBy(C.PORTAL).agg(
            F.count(F.lit(1)).alias(PAGEVIEWS_WITH_REC),
            F.count_if(F.col(A.ATTRIBUTED)).alias(A.ATTRIBUTED),
            *[F.count_if(F.col(A.REASON) == r).alias(r) for r in A.REASONS],
        ),
    ]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.join(part, C.PORTAL, "full")
    return joined.select(
        F.lit(day).alias(DAY),
        C.PORTAL,
        *[F.coalesce(F.col(c), F.lit(0)).cast("long").alias(c) for c in CHECK_COUNTS],
    )


# ---- the stage ----------------------------------------------------------------------------
def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _ts(moment: datetime) -> Any:
    return F.lit(moment).cast("timestamp")


def _inputs(spark: SparkSession, settings: Settings) -> tuple[DataFrame, DataFrame] | str:
    """(impressions, visits), or why there is nothing to measure yet."""
    silver = StreamPaths.of(settings)
    impressions = delta_io.read_if_exists(spark, silver.impressions)
    visits = delta_io.read_if_exists(spark, silver.visits)
    if impressions is None:
        return "silver.impressions does not exist yet: no answer has landed"
    if visits is None:
        return "silver.pageviews does not exist yet: run the catch_up stage first"
    for column, kind in ((C.REC_ID, "string"), (C.REC_POSITION, "int")):
        if column not in visits.columns:  # a table from before pageviews named answers
            visits = visits.withColumn(column, F.lit(None).cast(kind))
    return impressions, visits


def build_day(
    spark: SparkSession, settings: Settings, day: date, as_of: datetime
) -> dict[str, Any]:
    """Replace ``day``'s rows of gold.rec_performance and gold.rec_checks with what is known
    at ``as_of``; returns the day's totals."""
    inputs = _inputs(spark, settings)
    if isinstance(inputs, str):
        return {"skipped": inputs}
    impressions, visits = inputs
    rules = Attribution.of(settings)
    start, end = _midnight(day), min(_midnight(day + timedelta(days=1)), as_of)
    known = impressions.where(F.col(I.SERVED_AT) <= _ts(as_of))
    answers = known.where(
        F.col(I.SERVED_DATE).between(F.lit(day - rules.look_back), F.lit(day + timedelta(days=1)))
    )
    pageviews = visits.where(
        F.col(C.VISIT_START).between(_ts(start - rules.skew), _ts(end + rules.window))
        & (F.col(C.VISIT_START) <= _ts(as_of))
    )
    outcomes = pageviews.transform(
        A.attribute(answers, window=rules.window, skew=rules.skew)
    ).cache()
    served = known.where(F.col(I.SERVED_DATE) == F.lit(day))
    rows = performance(items_shown(served), outcomes).withColumn(AS_OF, _ts(as_of))
    paths, match = GoldPaths.of(settings), {DAY: day.isoformat()}
    delta_io.replace_rows(rows, paths.rec_performance, match=match)
    of_day = outcomes.where(F.to_date(C.VISIT_START) == F.lit(day))
    landed = known.where(F.to_date(C.SILVER_AT) == F.lit(day))
    day_checks = checks(served, landed, of_day, day=day, open_after=as_of - rules.window)
    delta_io.replace_rows(day_checks.withColumn(AS_OF, _ts(as_of)), paths.rec_checks, match=match)
    outcomes.unpersist()
    return _day_totals(spark, paths, day)


def _day_totals(spark: SparkSession, paths: GoldPaths, day: date) -> dict[str, Any]:
    on_day = F.col(DAY) == F.lit(day)
    perf = spark.read.format("delta").load(paths.rec_performance).where(on_day)
    total = perf.agg(F.sum(IMPRESSIONS), F.sum(CLICKS), F.count(F.lit(1))).first()
    impressions, clicks, rows = (int(v or 0) for v in (total or (0, 0, 0)))
    check = (
        spark.read.format("delta")
        .load(paths.rec_checks)
        .where(on_day)
        .agg(*[F.sum(c).alias(c) for c in CHECK_COUNTS])
        .first()
    )
    counts = {c: int((check[c] if check else 0) or 0) for c in CHECK_COUNTS}
    ctr = clicks / impressions if impressions else None
    return {"rows": rows, IMPRESSIONS: impressions, CLICKS: clicks, CTR: ctr, "checks": counts}
