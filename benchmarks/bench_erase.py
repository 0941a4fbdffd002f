"""``make bench-erase``: erase 100 readers from a lake built from the G1 clicks, timed, and
prove they are gone.

1. The moto server (``NEWSLAKE_MOTO_PORT``) reset, and a lake of the bench's own where
   the platform keeps its lake by default, on local disk, under ``state_dir/bench-erase``
   (:mod:`benchmarks.lake`; ``NEWSLAKE_LAKE_URI`` wins), emptied; portal ``g1`` only.
2. The G1 clicks of hourly files ``0..--last-hour`` (48 by default: two days of the 16,
   a subset so the bench runs in minutes) bulk-loaded into the landing zone as Firehose
   would have, and caught up into bronze and silver by the streaming job (availableNow).
3. ``gold.interactions`` by the nightly stage and the ALS id map of its readers; the
   trained model's outputs are written directly instead of training ALS: a published list
   (``gold.recommendations``) and, in DynamoDB, two versions of personal lists and the
   recent reads of each reader to erase.
4. ``--readers`` (100) readers drawn with a fixed seed among those with visits, one
   erasure request each, then the erasure stage in process: ``seconds`` is its wall time
   (every table, the landing objects, the store and its own check).
5. ``found_after``: a separate check of every readable place afterwards; it must be 0.

The last line printed is one JSON object with ``readers``, ``rows_removed`` (Delta rows,
landing lines and store items), ``seconds`` and ``found_after``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.lake import own_lake
from ingestion import bulk_load, g1
from newslake import aws, store
from newslake.local import provision, server
from newslake.privacy import ErasureRequests
from newslake.settings import Settings, get_settings

PORTAL = "g1"
VERSIONS = ("v-bench-erase-0", "v-bench-erase-1")


def _log(msg: str) -> None:
    print(f"[bench-erase] {msg}", file=sys.stderr, flush=True)


def _settings() -> Settings:
    base = get_settings()
    lake = own_lake(base, "bench-erase")
    return base.model_copy(
        update={"portals": (PORTAL,), "lake_uri": lake, "stream_publish_live": False}
    )


def pick_readers(user_ids: Iterable[str], n: int, seed: int) -> list[str]:
    """``n`` readers drawn with ``seed`` from ``user_ids`` (all of them when fewer), the
    same whatever order the ids come in."""
    pool = sorted(set(user_ids))
    return sorted(random.Random(seed).sample(pool, min(n, len(pool))))


def summarize(
    readers: int, removed: Mapping[str, int], seconds: float, found: Mapping[str, int]
) -> dict[str, Any]:
    """The bench's figures: ``removed`` per place of the run, ``found`` per place after."""
    return {
        "readers": readers,
        "rows_removed": sum(removed.values()),
        "seconds": round(seconds, 2),
        "found_after": sum(found.values()),
        "removed_by_place": dict(sorted(removed.items())),
        "found_after_by_place": {p: n for p, n in sorted(found.items()) if n},
    }


def _platform(settings: Settings) -> None:
    server.start(settings)
    server.reset(settings)
    provision.provision(settings)
    if settings.lake_root.startswith("file://"):
        shutil.rmtree(settings.lake_root.removeprefix("file://"), ignore_errors=True)


def _land(settings: Settings, data: Path, last_hour: int) -> int:
    total = sum(g1.hour_sizes(data)[: last_hour + 1])
    clicks = g1.read_clicks(data, last_hour=last_hour)
    events = map(g1.to_event, clicks)
    return bulk_load.bulk_load(settings, aws.client("s3", settings), events, total=total).events


def _model_outputs(spark: Any, settings: Settings, readers: list[str]) -> None:
    """What a published model keeps of the readers, written directly (no ALS fit)."""
    from spark_jobs.tables import GoldPaths

    rows = [(u, 1, "a-bench", 1.0, PORTAL, VERSIONS[-1]) for u in readers]
    spark.createDataFrame(
        rows,
        "user_id string, rank int, article_id string, score double, portal string, version string",
    ).write.format("delta").mode("append").save(GoldPaths.of(settings).recommendations)
    ddb = aws.client("dynamodb", settings)
    expires = int(time.time()) + 86_400
    items = [store.ScoredItem("a-bench", 1.0)]
    for u in readers:
        for version in VERSIONS:
            record = store.item_record(store.user_key(PORTAL, u), version, items, expires)
            ddb.put_item(TableName=settings.recommendations_table, Item=record)
        record = store.item_record(store.recent_key(PORTAL, u), store.LIVE, items, expires)
        ddb.put_item(TableName=settings.recommendations_table, Item=record)


def _lake(spark: Any, settings: Settings, n: int, seed: int) -> list[str]:
    """Silver by the catch-up, gold interactions and the id map; the readers to erase."""
    from pyspark.sql import functions as F

    from spark_jobs import id_map, nightly
    from spark_jobs.landing_query import catch_up
    from spark_jobs.tables import GoldPaths, StreamPaths

    catch_up(spark, settings)
    as_of = nightly.latest_visit(spark, settings)
    if as_of is None:
        raise SystemExit("error: no visit reached silver; see the log above")
    nightly.build_interactions(spark, settings, as_of, VERSIONS[-1])
    paths = GoldPaths.of(settings)
    users = (
        spark.read.format("delta")
        .load(paths.interactions)
        .select(F.col("user_id").alias("entity_id"))
    )
    id_map.assign(spark, users, paths.id_map, portal=PORTAL, kind=id_map.USER)
    visits = spark.read.format("delta").load(StreamPaths.of(settings).visits)
    ids = [r[0] for r in visits.select("user_id").distinct().collect()]
    return pick_readers(ids, n, seed)


def run(settings: Settings, data: Path, last_hour: int, n: int, seed: int) -> dict[str, Any]:
    from spark_jobs import erasure_stage, reader_scan
    from spark_jobs.reader_rows import Reader
    from spark_jobs.session import get_spark

    _platform(settings)
    events = _land(settings, data, last_hour)
    _log(f"{events} G1 clicks landed; catching up ...")
    spark = get_spark(settings, app_name="newslake-bench-erase")
    readers = _lake(spark, settings, n, seed)
    _model_outputs(spark, settings, readers)
    requests = ErasureRequests.of(settings)
    for u in readers:
        requests.ask(PORTAL, u, asked_by="bench-erase", now=time.time())
    s3, ddb = aws.client("s3", settings), aws.client("dynamodb", settings)
    ctx = erasure_stage.Context(spark, settings, requests, s3=s3, ddb=ddb)
    _log(f"erasing {len(readers)} readers ...")
    started = time.monotonic()
    out = erasure_stage.run(ctx)
    seconds = time.monotonic() - started
    found = reader_scan.readable(
        spark, settings, [Reader(PORTAL, u) for u in readers], s3=s3, ddb=ddb
    )
    after: dict[str, int] = {}
    for places in found.values():
        for place, count in places.items():
            after[place] = after.get(place, 0) + count
    return summarize(len(readers), out.removed, seconds, after) | {
        "seconds_by_step": out.seconds_by_step,
        "completed": len(out.completed),
        "g1_clicks": events,
        "last_hour": last_hour,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench-erase", description=__doc__)
    parser.add_argument("--readers", type=int, default=100)
    parser.add_argument("--last-hour", type=int, default=48, help="G1 hourly files 0..N")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, default=g1.DEFAULT_DIR)
    args = parser.parse_args(argv)
    settings = _settings()
    load_avg = os.getloadavg()
    _log(f"moto on port {settings.moto_port}, lake {settings.lake_root}")
    out = run(settings, args.data, args.last_hour, args.readers, args.seed)
    out["load_avg_at_start"] = [round(x, 2) for x in load_avg]
    out["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    print(json.dumps(out))
    return 0 if out["found_after"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
