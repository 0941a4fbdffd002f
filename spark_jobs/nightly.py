"""The nightly batch: per-portal models, evaluated, gated and published atomically.

``python -m spark_jobs.submit spark_jobs/nightly.py -- [--stage STAGE] [--portal P]
[--as-of ISO8601] [--version V]`` (or ``python -m spark_jobs.nightly ...`` in process).
Every stage prints one JSON object as its last stdout line; logs go to stderr. The
default stage, ``all``, runs the chain in one process: catch_up, rec_performance, erase,
interactions, then per portal train, export and switch, then editorial_audit; one portal's
failure spares the others, and so does a failure to measure the lists served or to audit,
but a failed erasure stops the chain before any model sees the data (the Airflow DAG runs
erase before interactions too).

What each stage does and its exit codes: spark_jobs/README.md, section "Nightly stages".

``--as-of`` defaults to the latest visit in silver; ``--version`` to ``vYYYYmmddTHHMMSSZ``
of the as-of time. Every path comes from settings.
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
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from newslake import aws, logs, versions
from newslake.errors import NewslakeError
from newslake.settings import Settings, get_settings
from spark_jobs import columns as C
from spark_jobs import (
    delta_io,
    editorial_audit_stage,
    erasure_stage,
    export,
    portal_run,
    rec_performance,
    table_care,
)
from spark_jobs.experiment_results import experiment_results
from spark_jobs.interactions import to_interactions
from spark_jobs.landing import silver_counts
from spark_jobs.landing_query import catch_up
from spark_jobs.popularity import top_by_views, trending
from spark_jobs.tables import GoldPaths, StreamPaths

__all__ = ["RunReport", "main", "run"]

log = logging.getLogger("newslake.nightly")

STAGES = (
    "all", "check", "catch_up", "maintain", "interactions", "search", "train", "export", "switch",
    "rec_performance", "erase",
    "editorial_audit",  # the newsroom's control changes into silver.editorial_audit
)  # fmt: skip
EXIT_NO_DATA = 3
PUBLISHED = "published"


@dataclass
class RunReport:
    version: str = ""
    as_of: str = ""
    stages_s: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    portals: dict[str, dict[str, Any]] = field(default_factory=dict)
    rec_performance: dict[str, Any] = field(default_factory=dict)
    erasure: dict[str, Any] = field(default_factory=dict)
    editorial_audit: dict[str, Any] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        log.info("stage %s ...", name)
        try:
            yield
        finally:
            self.stages_s[name] = round(time.monotonic() - started, 2)
            log.info("stage %s done in %.1fs", name, self.stages_s[name])

    @property
    def failed(self) -> list[str]:
        """The portals that failed, and ``rec_performance`` when measuring failed."""
        failed = [p for p, r in self.portals.items() if r["status"] == portal_run.FAILED]
        return failed + (["rec_performance"] if "failed" in self.rec_performance else [])


def latest_visit(spark: SparkSession, settings: Settings) -> datetime | None:
    visits = delta_io.read_if_exists(spark, StreamPaths.of(settings).visits)
    row = visits.agg(F.max(C.VISIT_START)).first() if visits is not None else None
    return row[0].replace(tzinfo=UTC) if row and row[0] else None


def resolve_as_of(spark: SparkSession, settings: Settings, as_of: datetime | None) -> datetime:
    if as_of is not None:
        return as_of
    latest = latest_visit(spark, settings)
    if latest is None:
        raise NewslakeError("silver.pageviews is empty: nothing has landed yet (pass --as-of?)")
    return latest


# ---- stages -------------------------------------------------------------------------------
def check(spark: SparkSession, settings: Settings, as_of: datetime) -> dict[str, Any]:
    """Whether silver holds visits in the 24 h before ``as_of``, per portal."""
    per_portal = dict.fromkeys(settings.portals, 0)
    visits = delta_io.read_if_exists(spark, StreamPaths.of(settings).visits)
    if visits is not None:
        since = F.lit(as_of - timedelta(hours=24)).cast("timestamp")
        rows = (
            visits.where(F.col(C.VISIT_START) > since)
            .where(F.col(C.VISIT_START) <= F.lit(as_of).cast("timestamp"))
            .groupBy(C.PORTAL)
            .count()
            .collect()
        )
        per_portal.update({r[C.PORTAL]: int(r["count"]) for r in rows})
    total = sum(per_portal.values())
    return {"ok": total > 0, "visits": total, "per_portal": per_portal, "as_of": as_of.isoformat()}


def build_interactions(
    spark: SparkSession, settings: Settings, as_of: datetime, version: str
) -> dict[str, Any]:
    """gold.interactions, gold.popular and gold.trending of every portal for ``version``."""
    paths = GoldPaths.of(settings)
    visits = delta_io.read_if_exists(spark, StreamPaths.of(settings).visits)
    if visits is None:
        raise NewslakeError("silver.pageviews does not exist: run the catch_up stage first")
    visits = visits.where(F.col(C.VISIT_START) <= F.lit(as_of).cast("timestamp"))
    tag = F.lit(version).alias(C.VERSION)
    interactions = visits.transform(to_interactions(as_of)).select("*", tag)
    delta_io.replace_rows(interactions, paths.interactions, match={C.VERSION: version})
    popular = visits.transform(
        top_by_views(
            as_of, timedelta(hours=settings.popular_window_hours), settings.published_depth
        )
    ).select("*", tag)
    delta_io.replace_rows(popular, paths.popular, match={C.VERSION: version})
    hot = visits.transform(
        trending(
            as_of,
            timedelta(hours=settings.trending_window_hours),
            timedelta(minutes=settings.trending_half_life_minutes),
            settings.top_n,
        )
    ).select("*", tag)
    delta_io.replace_rows(hot, paths.trending, match={C.VERSION: version})
    written = (
        spark.read.format("delta")
        .load(paths.interactions)
        .where(F.col(C.VERSION) == version)
        .groupBy(C.PORTAL)
        .count()
        .collect()
    )
    return {
        "version": version,
        "as_of": as_of.isoformat(),
        "interactions": {r[C.PORTAL]: int(r["count"]) for r in written},
    }


def measure(spark: SparkSession, settings: Settings, as_of: datetime) -> dict[str, Any]:
    """gold.rec_performance and gold.rec_checks for the last ``rec_performance_days`` days up
    to ``as_of`` (each day's rows replaced: a day's late clicks and answers count the next
    night), then gold.experiment_results through ``as_of``'s day."""
    last = as_of.astimezone(UTC).date()
    days = [last - timedelta(days=n) for n in reversed(range(settings.rec_performance_days))]
    per_day: dict[str, Any] = {}
    for day in days:
        built = rec_performance.build_day(spark, settings, day, as_of)
        if "skipped" in built:
            return {"as_of": as_of.isoformat(), "skipped": built["skipped"]}
        per_day[day.isoformat()] = built
    experiments = experiment_results(spark, settings, last, as_of)
    return {"as_of": as_of.isoformat(), "days": per_day, "experiments": experiments}


def _expires_at(settings: Settings, now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    return int((now + timedelta(days=settings.version_ttl_days)).timestamp())


def publish(
    spark: SparkSession, settings: Settings, portal: str, version: str, ddb: Any,
    *, now: datetime | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Export a promoted version's items, then switch the pointer (the ``all`` chain)."""
    exported = export.export_version(spark, settings, portal, version, _expires_at(settings, now))
    previous = versions.switch_recorded(settings, ddb, portal, version)
    return {"exported": exported, "previous_version": previous}


def run(
    spark: SparkSession,
    settings: Settings,
    *,
    as_of: datetime | None = None,
    version: str | None = None,
    now: datetime | None = None,
    portals: tuple[str, ...] | None = None,
    search: bool = False,
) -> RunReport:
    """The ``all`` stage for every configured portal. One portal's failure spares the others."""
    silver = StreamPaths.of(settings)
    report = RunReport()
    with report.stage("catch_up"):
        # The streaming job in availableNow mode: everything landed reaches silver first.
        catch_up(spark, settings)
        if delta_io.read_if_exists(spark, silver.visits) is None:
            raise NewslakeError("silver.pageviews is empty: nothing has landed yet")
        if delta_io.read_if_exists(spark, silver.ingest_log) is not None:
            report.counts = silver_counts(spark, silver)
    as_of = resolve_as_of(spark, settings, as_of)
    version = version or versions.version_of(as_of)
    report.version, report.as_of = version, as_of.isoformat()
    with report.stage("rec_performance"):
        try:
            report.rec_performance = measure(spark, settings, as_of)
        except Exception as exc:  # measuring yesterday's lists must not stop today's models
            log.exception("rec_performance failed; the models are trained all the same")
            report.rec_performance = {"failed": f"{exc}"[:400]}
    with report.stage("erase"):  # privacy: every pending request, before any model
        report.erasure = erasure_stage.run_stage(spark, settings)
    with report.stage("interactions"):
        build_interactions(spark, settings, as_of, version)
    ddb = aws.client("dynamodb", settings)
    for portal in portals or settings.portals:
        if search:
            with report.stage(f"{portal}.search"):
                from spark_jobs import search as searching

                searching.search_portal(spark, settings, portal, as_of)
        with report.stage(f"{portal}.train"):
            outcome = portal_run.train_portal(spark, settings, portal, as_of, version, ddb=ddb)
        result = outcome.as_json()
        if outcome.status == portal_run.CANDIDATE:
            try:
                with report.stage(f"{portal}.export_switch"):
                    result |= publish(spark, settings, portal, version, ddb, now=now)
                result["status"] = PUBLISHED
            except Exception as exc:
                log.exception("%s: export failed; the service keeps its current version", portal)
                result["status"] = portal_run.FAILED
                result["reason"] = f"export failed, version in service unchanged: {exc}"[:400]
        report.portals[portal] = result
    with report.stage("editorial_audit"):  # after publishing: a failure spares the models
        report.editorial_audit = _audit(spark, settings)
    return report


def _audit(spark: SparkSession, settings: Settings) -> dict[str, Any]:
    """The editorial audit in the chain: its failure is logged and reported, the night's
    lists stay published (the change log keeps every change for the next run)."""
    try:
        return editorial_audit_stage.run(spark, settings)
    except Exception as exc:
        log.exception("editorial_audit failed; the change log keeps its changes for next run")
        return {"failed": f"{exc}"[:400]}


# ---- command line ---------------------------------------------------------------------------
def _as_of(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="nightly", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--stage", choices=STAGES, default="all")
    p.add_argument("--portal", default=None, help="one portal (default: every configured one)")
    p.add_argument(
        "--as-of", type=_as_of, default=None, help="model time, ISO 8601 (UTC if no offset)"
    )
    p.add_argument("--version", default=None, help="model version id; default from --as-of")
    p.add_argument("--search", action="store_true", help="stage all: run the weekly search first")
    p.add_argument(
        "--grid", choices=["full", "quick"], default="full", help="stage search: grid size"
    )
    p.add_argument(
        "--result-uri",
        default=None,
        help="also write the JSON result here (s3://bucket/key or a local path): how an "
        "orchestrator reads a stage that ran on EMR",
    )
    return p.parse_args(argv)


def write_result(uri: str, result: dict[str, Any], settings: Settings) -> None:
    """The stage's JSON result to ``s3://bucket/key`` (through the configured endpoint)
    or to a local file."""
    body = json.dumps(result, default=str).encode()
    if uri.startswith("s3://"):
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        if not bucket or not key:
            raise NewslakeError(f"--result-uri {uri!r}: expected s3://bucket/key")
        aws.client("s3", settings).put_object(
            Bucket=bucket, Key=key, Body=body, ContentType="application/json"
        )
        return
    path = Path(uri.removeprefix("file://"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)


def _portals(settings: Settings, portal: str | None) -> tuple[str, ...]:
    if portal is None:
        return settings.portals
    if portal not in settings.portals:
        raise NewslakeError(f"unknown portal {portal!r}: configured are {list(settings.portals)}")
    return (portal,)


def _need_version(args: argparse.Namespace) -> str:
    if args.version:
        return str(args.version)
    if args.as_of:
        return versions.version_of(args.as_of)
    raise NewslakeError(f"--stage {args.stage} needs --version (or --as-of)")


def _switch_stage(args: argparse.Namespace, settings: Settings) -> tuple[int, dict[str, Any]]:
    if not args.portal:
        raise NewslakeError("--stage switch needs --portal")
    (portal,) = _portals(settings, args.portal)
    version = _need_version(args)
    ddb = aws.client("dynamodb", settings)
    previous = versions.switch_recorded(settings, ddb, portal, version)
    return 0, {"portal": portal, "version": version, "previous_version": previous}


def _catch_up_stage(spark: SparkSession, settings: Settings, started: float) -> dict[str, Any]:
    catch_up(spark, settings)
    silver = StreamPaths.of(settings)
    counts = (
        silver_counts(spark, silver)
        if delta_io.read_if_exists(spark, silver.ingest_log) is not None
        else {}
    )
    return {"caught_up_s": round(time.monotonic() - started, 2), **counts}


def _train_stage(
    spark: SparkSession, settings: Settings, args: argparse.Namespace, as_of: datetime, version: str
) -> tuple[int, dict[str, Any]]:
    """Exit 1 only when a portal's training failed; one portal's outcome, else all."""
    outcomes = {
        p: portal_run.train_portal(spark, settings, p, as_of, version).as_json()
        for p in _portals(settings, args.portal)
    }
    failed = any(o["status"] == portal_run.FAILED for o in outcomes.values())
    out = next(iter(outcomes.values())) if args.portal else {"portals": outcomes}
    return (1 if failed else 0), out


def run_stage(args: argparse.Namespace, settings: Settings) -> tuple[int, dict[str, Any]]:
    """Run one stage; returns (exit code, the JSON object to print last)."""
    if args.stage == "switch":  # boto3 only: no SparkSession
        return _switch_stage(args, settings)
    from spark_jobs.session import get_spark

    spark = get_spark(settings, app_name=f"newslake-nightly-{args.stage}")
    started = time.monotonic()
    if args.stage == "all":
        report = run(
            spark,
            settings,
            as_of=args.as_of,
            version=args.version,
            portals=_portals(settings, args.portal),
            search=args.search,
        )
        report.stages_s["total"] = round(time.monotonic() - started, 2)
        return (1 if report.failed else 0), report.__dict__
    if args.stage == "check":
        if args.as_of is None:
            raise NewslakeError("--stage check needs --as-of")
        out = check(spark, settings, args.as_of)
        return (0 if out["ok"] else EXIT_NO_DATA), out
    if args.stage == "catch_up":
        return 0, _catch_up_stage(spark, settings, started)
    if args.stage == "maintain":  # the retention limits too, as make maintain
        return 0, table_care.maintain(spark, settings)
    if args.stage == "editorial_audit":
        return 0, editorial_audit_stage.run(spark, settings)
    if args.stage == "erase":  # privacy: every pending erasure request, before the training
        return 0, erasure_stage.run_stage(spark, settings)
    as_of = resolve_as_of(spark, settings, args.as_of)
    version = args.version or versions.version_of(as_of)
    if args.stage == "rec_performance":
        measured = measure(spark, settings, as_of)
        return 0, measured | {"seconds": round(time.monotonic() - started, 2)}
    if args.stage == "interactions":
        out = build_interactions(spark, settings, as_of, version)
        return 0, out | {"seconds": round(time.monotonic() - started, 2)}
    if args.stage == "search":
        from spark_jobs import search as searching

        chosen = {
            p: searching.search_portal(spark, settings, p, as_of, quick=args.grid == "quick")
            for p in _portals(settings, args.portal)
        }
        return 0, {"as_of": as_of.isoformat(), "portals": chosen}
    if args.stage == "train":
        return _train_stage(spark, settings, args, as_of, version)
    if args.stage == "export":
        if not args.portal:
            raise NewslakeError("--stage export needs --portal")
        exported = export.export_version(
            spark, settings, args.portal, version, _expires_at(settings)
        )
        return 0, {"portal": args.portal, "version": version, "exported": exported}
    raise NewslakeError(f"unknown stage {args.stage}")


def main(argv: list[str] | None = None) -> int:
    logs.configure()
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    settings = get_settings()
    try:
        code, out = run_stage(args, settings)
    except NewslakeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        code, out = 1, {"stage": args.stage, "error": str(exc)}
    if args.result_uri:
        write_result(args.result_uri, {**out, "exit_code": code}, settings)
    print(json.dumps(out, default=str))
    return code


if __name__ == "__main__":
    sys.exit(main())
