"""Fill an empty serving store again from the lake: ``make up`` after the local platform's
moto server lost its memory (``make down``, a crash), or ``make restore``.

The local lake lives on disk and outlives the moto server; the serving store does not.
What the store held is rebuilt from what the lake keeps:

* each portal's active version (recorded in the lake at every switch,
  ``newslake.versions.switch_recorded``): its lists exported again from the gold tables
  (``export.export_version``), then the pointer set;
* the live publisher's first round from ``silver.pageviews``: trending and the live
  related lists (``publisher.LivePublisher.publish``);
* what the session-state consumer keeps, from ``silver.events``: readers' recent reads and
  the live hot counts, written by the consumer's own store code
  (``ingestion.session_store.SessionStore``). Views that had not reached silver when the
  platform stopped (still in Kinesis or the Firehose stand-in's buffer) are lost with it.

Every step overwrites or merges, so running it twice gives the same store. In AWS,
DynamoDB keeps the store and nothing of this runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pyspark.sql import Row, SparkSession
from pyspark.sql import functions as F

from ingestion.session_state import Read, hot_chunks, hot_keep_s, reader_updates
from ingestion.session_store import SessionStore
from newslake import aws, lake_objects, logs, store, versions
from newslake.errors import NewslakeError
from newslake.local import keep
from newslake.settings import Settings, get_settings
from spark_jobs import columns as C
from spark_jobs import delta_io, export
from spark_jobs.publisher import LivePublisher
from spark_jobs.tables import StreamPaths

# The hot counts' writes name this as their shard: a second restore adds nothing twice,
# and the streams' own shards count apart from it.
RESTORE_SHARD = "restore-from-silver"


def store_is_empty(ddb: Any, settings: Settings) -> bool:
    """True when no portal has a version pointer nor a trending list: a store that lost
    its tables, not one that runs."""
    if ddb.scan(TableName=settings.versions_table, Limit=1).get("Items"):
        return False
    return not any(
        ddb.get_item(
            TableName=settings.recommendations_table,
            Key=store.record_key(store.trending_key(portal), store.LIVE),
        ).get("Item")
        for portal in settings.portals
    )


def lake_has_data(settings: Settings) -> bool:
    """True when the lake holds a recorded version or silver visits to restore from."""
    silver = StreamPaths.of(settings).visits.removeprefix(f"{settings.lake_root}/")
    return bool(versions.recorded_in_lake(settings)) or lake_objects.exists(
        settings, f"{silver}/_delta_log"
    )


def restore_versions(
    spark: SparkSession, settings: Settings, ddb: Any, now: float
) -> dict[str, dict[str, Any]]:
    """Export each recorded active version again and point its portal at it. A portal
    whose version can no longer be exported keeps no pointer (its readers get the live
    lists) and says why."""
    expires_at = int(now) + settings.version_ttl_days * 86_400
    done: dict[str, dict[str, Any]] = {}
    for portal, version in versions.recorded_in_lake(settings).items():
        try:
            counts = export.export_version(spark, settings, portal, version, expires_at)
        except export.ExportError as exc:
            done[portal] = {"version": version, "failed": str(exc)}
            continue
        versions.switch(ddb, settings.versions_table, portal, version)
        done[portal] = {"version": version, "items": counts}
    return done


def recent_views(spark: SparkSession, settings: Settings, now: float) -> list[Row]:
    """Silver's views of an article recent enough to weigh in a reader's recent reads or
    a hot bucket, in arrival order."""
    events = delta_io.read_if_exists(spark, StreamPaths.of(settings).events)
    if events is None:
        return []
    keep_s = max(settings.recent_reads_hours * 3600, hot_keep_s(settings) + settings.hot_bucket_s)
    at_ms = F.least(F.col(C.CLIENT_TS), F.col(C.SERVER_TS))  # as the consumer times a read
    return (
        events.where((F.col(C.EVENT_TYPE) == "view") & F.col(C.ARTICLE_ID).isNotNull())
        .where(F.col(C.PORTAL).isin(*settings.portals))
        .where(at_ms > F.lit(int((now - keep_s) * 1000)))
        .select(C.PORTAL, C.USER_ID, C.ARTICLE_ID, at_ms.alias("at_ms"), C.SERVER_TS, C.EVENT_ID)
        .orderBy(C.SERVER_TS, C.EVENT_ID)
        .collect()
    )


def restore_session_state(
    settings: Settings, views: Sequence[Row], ddb: Any, now: float
) -> dict[str, int]:
    """The readers' recent reads and the hot counts the session-state consumer would hold
    after ``views``; returns the readers written and the views counted."""
    writer = SessionStore(ddb, settings)
    by_portal: dict[str, list[Read]] = {}
    for n, v in enumerate(views, start=1):
        read = Read(
            v[C.USER_ID], str(v[C.ARTICLE_ID]), v["at_ms"] / 1000, store.padded_sequence(str(n))
        )
        by_portal.setdefault(v[C.PORTAL], []).append(read)
    readers = counted = 0
    for portal, reads in by_portal.items():
        updates = reader_updates(reads)
        current = writer.current_reads(portal, [u.user_id for u in updates])
        for update in updates:
            readers += writer.write_reads(portal, update, current.get(update.user_id), now=now)
        for chunk in hot_chunks(reads, settings, now=now):
            counted += writer.add_hot(portal, RESTORE_SHARD, chunk)
    return {"readers": readers, "hot_views": counted}


def restore(
    spark: SparkSession, settings: Settings, *, clock: Callable[[], float] = time.time
) -> dict[str, Any]:
    """Fill the store from the lake (every step, whatever the store holds); the summary."""
    now = clock()
    ddb = aws.client("dynamodb", settings)
    portals = restore_versions(spark, settings, ddb, now)
    live = LivePublisher(spark, settings, clock=lambda: now).publish()
    session = restore_session_state(settings, recent_views(spark, settings, now), ddb, now)
    return {"versions": portals, "live_lists": live, **session}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spark_jobs.restore", description=__doc__)
    parser.add_argument(
        "--if-empty",
        action="store_true",
        help="only after a start of the moto server, when the store is empty and the lake "
        "holds something (make up)",
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    logs.configure()
    settings = get_settings()
    if settings.profile != "local":
        print(
            "error: restore is for the local platform; in AWS DynamoDB keeps the store",
            file=sys.stderr,
        )
        return 2
    if args.if_empty and not keep.restore_pending(settings):
        return 0  # the server was running: its store is as it was left
    ddb = aws.client("dynamodb", settings)
    if args.if_empty and not (store_is_empty(ddb, settings) and lake_has_data(settings)):
        keep.restore_done(settings)
        return 0
    print(f"filling the serving store from the lake at {settings.lake_root} (Spark starts)...")
    from spark_jobs.session import get_spark

    try:
        spark = get_spark(settings, app_name="newslake-restore")
    except NewslakeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        print(json.dumps(restore(spark, settings)))
    except (BotoCoreError, ClientError) as exc:
        # The pending mark stays: the next `make up` tries again.
        print(f"error: the store refused the restore ({exc}); run `make up` again", file=sys.stderr)
        return 1
    keep.restore_done(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
