"""``gold/experiment_results``: each configured experiment's result from its first day on.

Impressions and clicks per variant are summed from ``gold/rec_performance`` (already
attributed, day by day); the readers assigned are counted from ``silver/impressions``
(distinct readers cannot be summed over days). The statistics are
:func:`newslake.abstats.analyse`'s, with the experiment's first variant as the control and
its configured shares for the sample-ratio check. A variant seen in the lake but no longer
configured is kept with share 0, so the check flags it.

An experiment with no impression yet has no rows; one that is switched off keeps its
rows, the days after it stop adding impressions.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from newslake.abstats import VariantCounts, analyse
from newslake.experiments import Experiment
from newslake.settings import Settings
from spark_jobs import columns as C
from spark_jobs import delta_io
from spark_jobs import impressions as I
from spark_jobs.rec_performance import CLICKS, DAY, IMPRESSIONS
from spark_jobs.tables import GoldPaths, StreamPaths

log = logging.getLogger("newslake.rec_performance")

RESULTS_SCHEMA = (
    "day date, experiment string, route string, first_day date, variant string, "
    "control string, share double, readers long, impressions long, clicks long, ctr double, "
    "ctr_low double, ctr_high double, lift double, lift_low double, lift_high double, "
    "p_value double, srm_p_value double, srm boolean, as_of timestamp"
)
READERS = "readers"
FIRST_DAY = "first_day"
Counts = dict[tuple[str, str], dict[str, Any]]


def variant_counts(performance: DataFrame, impressions: DataFrame, *, day: date) -> Counts:
    """Per (experiment, variant) up to ``day``: impressions, clicks, first day, readers."""
    through = F.col(DAY) <= F.lit(day)
    keys = (I.EXPERIMENT, I.VARIANT)
    sums = (
        performance.where(through & F.col(I.EXPERIMENT).isNotNull())
        .groupBy(*keys)
        .agg(
            F.sum(IMPRESSIONS).alias(IMPRESSIONS),
            F.sum(CLICKS).alias(CLICKS),
            F.min(DAY).alias(FIRST_DAY),
        )
    )
    readers = (
        impressions.where((F.col(I.SERVED_DATE) <= F.lit(day)) & F.col(I.EXPERIMENT).isNotNull())
        .groupBy(*keys)
        .agg(F.countDistinct(C.USER_ID).alias(READERS))
    )
    rows = sums.join(readers, list(keys), "left").collect()
    return {
        (r[I.EXPERIMENT], r[I.VARIANT]): {
            IMPRESSIONS: int(r[IMPRESSIONS]),
            CLICKS: int(r[CLICKS]),
            FIRST_DAY: r[FIRST_DAY],
            READERS: int(r[READERS] or 0),
        }
        for r in rows
    }


def results(
    experiments: Sequence[Experiment], counts: Counts, *, confidence: float, srm_threshold: float
) -> dict[str, dict[str, Any]]:
    """Per experiment with impressions: its first day and one row per variant (the
    configured ones first, in order, the control first)."""
    out: dict[str, dict[str, Any]] = {}
    for experiment in experiments:
        seen = {v: c for (e, v), c in counts.items() if e == experiment.name}
        if not seen:
            continue
        configured = {v.name: v.share for v in experiment.variants}
        names = [*configured, *sorted(set(seen) - set(configured))]
        empty = {IMPRESSIONS: 0, CLICKS: 0, READERS: 0}
        rows = analyse(
            [
                VariantCounts(
                    n,
                    configured.get(n, 0.0),
                    readers=seen.get(n, empty)[READERS],
                    impressions=seen.get(n, empty)[IMPRESSIONS],
                    clicks=seen.get(n, empty)[CLICKS],
                )
                for n in names
            ],
            confidence=confidence,
            srm_threshold=srm_threshold,
        )
        first_day = min(c[FIRST_DAY] for c in seen.values())
        out[experiment.name] = {"route": experiment.route, FIRST_DAY: first_day, "rows": rows}
    unknown = sorted({e for e, _ in counts} - {e.name for e in experiments})
    if unknown:
        log.warning("experiments in the lake but not configured, not analysed: %s", unknown)
    return out


def summary(result: dict[str, Any], day: date) -> dict[str, Any]:
    """The JSON of one experiment: its variants, and the first treatment's lift (the common
    two-variant case) at the top."""
    rows = result["rows"]
    pick = ("readers", "impressions", "clicks", "ctr", "ctr_low", "ctr_high")
    versus = ("lift", "lift_low", "lift_high", "p_value")
    variants = {r["variant"]: {k: r[k] for k in (*pick, *versus)} for r in rows}
    first = rows[1] if len(rows) > 1 else {k: None for k in versus}
    return {
        "route": result["route"],
        FIRST_DAY: result[FIRST_DAY].isoformat(),
        "last_day": day.isoformat(),
        "control": rows[0]["variant"],
        "variants": variants,
        "lift": first["lift"],
        "lift_ci_low": first["lift_low"],
        "lift_ci_high": first["lift_high"],
        "p_value": first["p_value"],
        "srm_p_value": rows[0]["srm_p_value"],
        "srm": rows[0]["srm"],
    }


def experiment_results(
    spark: SparkSession, settings: Settings, day: date, as_of: datetime
) -> dict[str, Any]:
    """Replace ``day``'s rows of gold.experiment_results; returns each experiment's summary."""
    paths = GoldPaths.of(settings)
    performance = spark.read.format("delta").load(paths.rec_performance)
    impressions = spark.read.format("delta").load(StreamPaths.of(settings).impressions)
    impressions = impressions.where(F.col(I.SERVED_AT) <= F.lit(as_of).cast("timestamp"))
    found = results(
        settings.experiments,
        variant_counts(performance, impressions, day=day),
        confidence=settings.experiment_confidence,
        srm_threshold=settings.srm_p_threshold,
    )
    records = [
        {DAY: day, "experiment": name, "route": r["route"], FIRST_DAY: r[FIRST_DAY]}
        | row
        | {"as_of": as_of}
        for name, r in found.items()
        for row in r["rows"]
    ]
    columns = [c.split()[0] for c in RESULTS_SCHEMA.split(", ")]
    df = spark.createDataFrame([tuple(rec[c] for c in columns) for rec in records], RESULTS_SCHEMA)
    delta_io.replace_rows(df, paths.experiment_results, match={DAY: day.isoformat()})
    return {name: summary(r, day) for name, r in found.items()}
