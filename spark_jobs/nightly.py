"""The nightly chain: catch up the streaming job (landing -> bronze -> silver), then
silver visits -> interactions -> per-portal ALS and most-viewed -> gold tables -> DynamoDB,
one portal's pointer switch at a time.

Run with ``spark-submit spark_jobs/nightly.py`` (see ``spark_jobs.submit``) or
``python -m spark_jobs.nightly``. Every path comes from settings.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from newslake import aws, store
from newslake.errors import NewslakeError
from newslake.settings import Settings
from spark_jobs import als, delta_io, export, streaming
from spark_jobs import columns as C
from spark_jobs.interactions import to_interactions
from spark_jobs.popularity import most_viewed
from spark_jobs.streaming import StreamPaths

log = logging.getLogger("newslake.nightly")


@dataclass
class RunReport:
    version: str = ""
    as_of: str = ""
    stages_s: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    portals: dict[str, dict[str, Any]] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        log.info("stage %s ...", name)
        yield
        self.stages_s[name] = round(time.monotonic() - started, 2)
        log.info("stage %s done in %.1fs", name, self.stages_s[name])


@dataclass(frozen=True)
class GoldPaths:
    interactions: str
    popular: str
    recommendations: str

    @classmethod
    def of(cls, settings: Settings) -> GoldPaths:
        t = settings.table_path
        return cls(
            interactions=t("gold", "interactions"),
            popular=t("gold", "popular"),
            recommendations=t("gold", "recommendations"),
        )


def run(
    spark: SparkSession,
    settings: Settings,
    *,
    as_of: datetime | None = None,
    version: str | None = None,
    now: datetime | None = None,
) -> RunReport:
    """The whole chain for every configured portal. One portal's failure spares the others."""
    now = now or datetime.now(UTC)
    paths, silver = GoldPaths.of(settings), StreamPaths.of(settings)
    report = RunReport()
    with report.stage("catch_up"):
        # The streaming job in availableNow mode: everything landed reaches silver first.
        streaming.catch_up(spark, settings)
        if delta_io.read_if_exists(spark, silver.visits) is None:
            raise NewslakeError("silver.pageviews is empty: nothing has landed yet")
        report.counts = streaming.silver_counts(spark, silver)
    visits = spark.read.format("delta").load(silver.visits).cache()
    if as_of is None:
        latest = visits.agg(F.max(C.VISIT_START)).first()
        as_of = latest[0].replace(tzinfo=UTC) if latest and latest[0] else now
    version = version or as_of.strftime("v%Y%m%dT%H%M%SZ")
    report.version, report.as_of = version, as_of.isoformat()

    with report.stage("interactions"):
        interactions = visits.transform(to_interactions(as_of)).cache()
        interactions.write.format("delta").mode("overwrite").save(paths.interactions)
    with report.stage("popular"):
        popular = visits.transform(
            most_viewed(as_of, timedelta(hours=settings.popular_window_hours), settings.top_n)
        ).withColumn(C.VERSION, F.lit(version))
        delta_io.replace_rows(popular, paths.popular, match={C.VERSION: version})
    popular = spark.read.format("delta").load(paths.popular).where(F.col(C.VERSION) == version)

    params = als.AlsParams(
        settings.als_rank,
        settings.als_max_iter,
        settings.als_reg_param,
        settings.als_alpha,
        settings.als_seed,
    )
    expires_at = int((now + timedelta(days=settings.version_ttl_days)).timestamp())
    ddb = aws.client("dynamodb", settings)
    for portal in settings.portals:
        report.portals[portal] = _run_portal(
            spark,
            settings,
            paths,
            portal,
            interactions,
            popular,
            params,
            version,
            expires_at,
            ddb,
            report,
        )
    interactions.unpersist()
    visits.unpersist()
    return report


def _run_portal(
    spark: SparkSession,
    settings: Settings,
    paths: GoldPaths,
    portal: str,
    interactions: DataFrame,
    popular: DataFrame,
    params: als.AlsParams,
    version: str,
    expires_at: int,
    ddb: Any,
    report: RunReport,
) -> dict[str, Any]:
    mine = interactions.where(F.col(C.PORTAL) == portal)
    n_users = mine.select(C.USER_ID).distinct().count()
    if n_users == 0:
        log.warning("%s: no interactions; the service keeps its current version", portal)
        return {"status": "skipped", "reason": "no data"}
    try:
        with report.stage(f"{portal}.als"):
            trained = als.train(mine, params)
            recs = (
                als.recommend(trained, mine, settings.top_n)
                .withColumn(C.PORTAL, F.lit(portal))
                .withColumn(C.VERSION, F.lit(version))
            )
            delta_io.replace_rows(
                recs, paths.recommendations, match={C.VERSION: version, C.PORTAL: portal}
            )
        with report.stage(f"{portal}.export"):
            saved = (
                spark.read.format("delta")
                .load(paths.recommendations)
                .where((F.col(C.VERSION) == version) & (F.col(C.PORTAL) == portal))
            )
            export.publish_lists(
                saved,
                settings,
                export.RowKey(store.user_key, C.PORTAL, C.USER_ID),
                version,
                expires_at,
            )
            export.publish_lists(
                popular.where(F.col(C.PORTAL) == portal).withColumn(
                    C.SCORE, F.col(C.VIEWS).cast("double")
                ),
                settings,
                export.RowKey(store.popular_key, C.PORTAL),
                version,
                expires_at,
            )
            previous = export.active_version(ddb, settings.versions_table, portal)
            export.switch_active_version(ddb, settings.versions_table, portal, version, previous)
    except Exception as exc:  # one portal's failure must not stop the others
        log.exception("%s: run failed; the service keeps its current version", portal)
        return {"status": "failed", "reason": str(exc).splitlines()[0][:300]}
    return {"status": "published", "users": n_users, "previous_version": previous}


def _parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="nightly", description=__doc__)
    p.add_argument(
        "--as-of",
        type=datetime.fromisoformat,
        default=None,
        help="model time (ISO 8601, UTC); default: the latest visit",
    )
    p.add_argument("--version", default=None, help="model version id; default from --as-of")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from spark_jobs.session import get_spark

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    settings = Settings()
    try:
        spark = get_spark(settings, app_name="newslake-nightly")
        as_of = args.as_of.replace(tzinfo=UTC) if args.as_of else None
        report = run(spark, settings, as_of=as_of, version=args.version)
    except NewslakeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report.__dict__, default=str))
    failed = [p for p, r in report.portals.items() if r["status"] == "failed"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
