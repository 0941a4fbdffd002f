"""The streaming job on the local platform: landing objects on moto's S3 -> bronze -> silver,
with the lake on local disk so each test has a lake of its own."""

from __future__ import annotations

import gzip
import itertools
import json
import shutil
from datetime import datetime

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from newslake import aws, store
from newslake.settings import Settings
from spark_jobs.landing import LandingBatch, rebuild_silver
from spark_jobs.landing_query import catch_up
from spark_jobs.publisher import LivePublisher
from spark_jobs.tables import StreamPaths
from tests.utils.clock import FakeClock
from tests.utils.store import stored_lists

pytestmark = pytest.mark.slow

T0 = 1_767_268_800_000  # 2026-01-01T12:00:00Z
_run = itertools.count()


@pytest.fixture()
def settings(local_platform, tmp_path) -> Settings:
    return Settings(
        **{
            **local_platform.model_dump(),
            "lake_uri": f"file://{tmp_path}/lake",
            "landing_prefix": f"stream-test-{next(_run)}/pageviews",
        }
    )


def ev(
    event_id,
    pageview_id="pv1",
    *,
    event_type="view",
    user_id="u1",
    portal="g1",
    article_id="a1",
    session_id="s1",
    dwell_ms=0,
    scroll_depth=0,
    clicks=0,
    client_ts=T0,
    server_ts=None,
):
    return json.dumps(
        {
            "event_id": event_id,
            "event_type": event_type,
            "portal": portal,
            "user_id": user_id,
            "session_id": session_id,
            "pageview_id": pageview_id,
            "url": f"https://{portal}.globo.com/{article_id}.html",
            "article_id": article_id,
            "dwell_ms": dwell_ms,
            "scroll_depth": scroll_depth,
            "clicks": clicks,
            "clicked_urls": [],
            "client_ts": client_ts,
            "server_ts": server_ts if server_ts is not None else client_ts + 500,
        }
    )


def land(settings: Settings, name: str, lines: list[str]) -> None:
    body = gzip.compress(("\n".join(lines) + "\n").encode())
    key = f"{settings.landing_prefix}/portal=g1/year=2026/month=01/day=01/hour=12/{name}.json.gz"
    aws.client("s3", settings).put_object(Bucket=settings.landing_bucket, Key=key, Body=body)


FIRST = [
    ev("e1"),
    ev("e2", event_type="engagement", dwell_ms=30_000, scroll_depth=40, client_ts=T0 + 30_000),
    ev("e3", "pv2", user_id="u2", article_id="a2", session_id="s2", client_ts=T0 + 60_000),
    "{broken json",
    ev("e4", "pv3", portal="bbc"),
    ev("e5", "pv4", client_ts=T0 + 3_600_000, server_ts=T0),  # an hour in the future
    ev("e6", "pv5", client_ts=T0 - 8 * 86_400_000, server_ts=T0),  # 8 days late
]
SECOND = [
    ev("e1"),  # delivered again (at-least-once collection)
    ev(
        "e7",
        event_type="engagement",
        dwell_ms=95_000,
        scroll_depth=90,
        clicks=1,
        client_ts=T0 + 95_000,
    ),
]

VISIT_COLUMNS = [
    "pageview_id",
    "user_id",
    "article_id",
    "visit_start",
    "dwell_ms",
    "scroll_depth",
    "clicks",
]
VISIT_SCHEMA = (
    "pageview_id string, user_id string, article_id string, visit_start timestamp, "
    "dwell_ms long, scroll_depth int, clicks int"
)


def _table(spark, path):
    return spark.read.format("delta").load(path)


def test_landing_to_silver_with_quarantine_and_reconciled_counts(spark, settings):
    land(settings, "o1", FIRST)
    catch_up(spark, settings)
    p = StreamPaths.of(settings)

    assert _table(spark, p.bronze).count() == 7
    reasons = sorted(r.reason for r in _table(spark, p.quarantine).collect())
    assert reasons == [
        "client time in the future",
        "late: older than the late-data limit",
        "not a JSON object",
        "unknown portal",
    ]
    visits = _table(spark, p.visits).select(*VISIT_COLUMNS)
    expected = spark.createDataFrame(
        [
            ("pv1", "u1", "a1", datetime(2026, 1, 1, 12, 0), 30_000, 40, 0),
            ("pv2", "u2", "a2", datetime(2026, 1, 1, 12, 1), 0, 0, 0),
        ],
        VISIT_SCHEMA,
    )
    assert_df_equality(visits, expected, ignore_row_order=True, ignore_nullable=True)

    land(settings, "o2", SECOND)
    catch_up(spark, settings)
    assert _table(spark, p.bronze).count() == 9
    pv1 = _table(spark, p.visits).where("pageview_id = 'pv1'").first()
    assert (pv1.dwell_ms, pv1.scroll_depth, pv1.clicks) == (95_000, 90, 1)
    assert sorted(r.event_id for r in _table(spark, p.events).collect()) == ["e1", "e2", "e3", "e7"]
    counted = ("bronze_rows", "new_events", "duplicates", "quarantined")
    totals = _table(spark, p.ingest_log).agg(*(F.sum(c).alias(c) for c in counted)).first()
    # bronze rows = new events + duplicates + quarantined
    assert totals.asDict() == {"bronze_rows": 9, "new_events": 4, "duplicates": 1, "quarantined": 4}


def test_fresh_signals_reach_the_serving_store(spark, settings):
    land(settings, "o1", FIRST + SECOND)
    catch_up(spark, settings)
    ddb = aws.client("dynamodb", settings)
    items = stored_lists(ddb, settings.recommendations_table, version=store.LIVE)

    assert items(store.trending_key("g1")) == ["a1", "a2"]  # 1 view each; ties by id
    # readers' recent reads are the session-state consumer's (ingestion/session_store.py)
    assert "Item" not in ddb.get_item(
        TableName=settings.recommendations_table,
        Key=store.record_key(store.recent_key("g1", "u1"), store.LIVE),
    )


def test_continuous_rounds_publish_from_the_table_then_from_the_batches_views(spark, settings):
    land(settings, "o1", FIRST + SECOND)
    catch_up(spark, Settings(**{**settings.model_dump(), "stream_publish_live": False}))
    publisher = LivePublisher(spark, settings)
    assert publisher.round()  # the first round: every list from the table, trending seeded
    views = spark.createDataFrame(
        [
            ("g1", "u1", "a2", "pv8", "view", datetime(2026, 1, 1, 12, 3)),
            ("g1", "u3", "a2", "pv9", "view", datetime(2026, 1, 1, 12, 4)),
            ("g1", "u3", "a1", "pv9", "engagement", datetime(2026, 1, 1, 12, 5)),
        ],
        "portal string, user_id string, article_id string, pageview_id string, "
        "event_type string, event_time timestamp",
    )
    publisher.feed(views)
    assert publisher.round()
    assert not publisher.round()  # nothing new since
    items = stored_lists(
        aws.client("dynamodb", settings), settings.recommendations_table, version=store.LIVE
    )

    assert items(store.trending_key("g1")) == ["a2", "a1"]  # a2: pv2, pv8, pv9; a1: pv1


class CrashOnce:
    """Fails the first batch once at ``step``, as a killed query would."""

    def __init__(self, step: str):
        self.step, self.fired = step, False

    def __call__(self, batch_id: int, step: str) -> None:
        if step == self.step and not self.fired:
            self.fired = True
            raise RuntimeError(f"killed at {step}")


def _snapshot(spark, settings):
    p = StreamPaths.of(settings)
    return (
        sorted(tuple(r) for r in _table(spark, p.visits).select(*VISIT_COLUMNS).collect()),
        sorted(r.event_id for r in _table(spark, p.events).collect()),
        _table(spark, p.quarantine).count(),
        sorted(tuple(r) for r in _table(spark, p.ingest_log).collect()),
    )


@pytest.mark.parametrize("step", ["bronze", "visits", "events", "quarantined", "logged"])
def test_a_batch_killed_midway_and_replayed_ends_as_an_uninterrupted_run(spark, settings, step):
    land(settings, "o1", FIRST)
    land(settings, "o2", SECOND)
    with pytest.raises(Exception, match=f"killed at {step}"):
        catch_up(spark, settings, LandingBatch(settings, fault=CrashOnce(step)))
    catch_up(spark, settings)  # restart from the checkpoints
    replayed = _snapshot(spark, settings)

    clean = Settings(**{**settings.model_dump(), "lake_uri": settings.lake_root + "-clean"})
    catch_up(spark, clean)
    assert replayed == _snapshot(spark, clean)
    assert len(replayed[1]) == 4 and replayed[2] == 4


def test_silver_rebuilt_from_bronze_equals_the_streamed_silver(spark, settings):
    land(settings, "o1", FIRST)
    land(settings, "o2", SECOND)
    catch_up(spark, settings)
    streamed = _snapshot(spark, settings)
    with pytest.raises(ValueError, match="delete the silver tables"):
        rebuild_silver(spark, settings)
    for table in StreamPaths.of(settings).silver_tables():
        shutil.rmtree(table.removeprefix("file://"))
    counts = rebuild_silver(spark, settings)
    assert (counts["bronze_rows"], counts["new_events"], counts["duplicates"]) == (9, 4, 1)
    visits, events, quarantined, _ = _snapshot(spark, settings)
    assert (visits, events, quarantined) == streamed[:3]  # the log has one batch, not two


def test_corrupt_and_truncated_objects_are_quarantined_and_the_stream_goes_on(spark, settings):
    s3 = aws.client("s3", settings)
    prefix = f"{settings.landing_prefix}/portal=g1/year=2026/month=01/day=01/hour=12"
    s3.put_object(Bucket=settings.landing_bucket, Key=f"{prefix}/bad.json.gz", Body=b"not gzip")
    whole = gzip.compress(("\n".join([ev("e1"), ev("e3", "pv2", user_id="u2")]) + "\n").encode())
    s3.put_object(
        Bucket=settings.landing_bucket, Key=f"{prefix}/cut.json.gz", Body=whole[:-8]
    )  # the gzip trailer is lost: every line is there, the object is not whole
    land(settings, "good", [ev("e7", "pv7", user_id="u7")])
    catch_up(spark, settings)
    p = StreamPaths.of(settings)
    reasons = sorted(r.reason.split(" (")[0] for r in _table(spark, p.quarantine).collect())
    assert reasons == [
        "corrupt gzip object: Error -3 while decompressing data: incorrect header check",
        "truncated gzip object",
    ]
    assert sorted(r.event_id for r in _table(spark, p.events).collect()) == ["e1", "e3", "e7"]


def test_a_batch_object_reused_after_a_crash_still_counts_its_replay_right(spark, settings):
    """A crash after the events commit of a second batch, then a restart with the same
    LandingBatch: the replay must read the first run's new-event count, not take the batch
    for a fresh one because the batch before it completed in this object."""
    batch = LandingBatch(settings)
    land(settings, "o1", [ev("e1")])
    catch_up(spark, settings, batch)
    land(settings, "o2", FIRST[1:3])  # e2 (same visit as e1) and e3: two new events
    batch.fault = CrashOnce("quarantined")  # after the events commit, before the log
    with pytest.raises(Exception, match="killed at quarantined"):
        catch_up(spark, settings, batch)
    catch_up(spark, settings, batch)  # restart, same object
    log = sorted(tuple(r) for r in _table(spark, StreamPaths.of(settings).ingest_log).collect())
    # (batch_id, bronze_rows, new_events, duplicates, quarantined), written out by hand
    assert log == [(0, 1, 1, 0, 0), (1, 2, 2, 0, 0)]


def test_the_live_publisher_times_every_expiry_by_its_clock(spark, settings):
    # u1 reads a1, then a2 in the same session: a1 and a2 are related
    land(
        settings, "o1", [*FIRST, *SECOND, ev("e8", "pv8", article_id="a2", client_ts=T0 + 120_000)]
    )
    catch_up(spark, Settings(**{**settings.model_dump(), "stream_publish_live": False}))
    clock = FakeClock(1_900_000_000.0)
    publisher = LivePublisher(spark, settings, clock=clock)
    ddb = aws.client("dynamodb", settings)
    keys = [store.trending_key("g1"), store.related_key("g1", "a1")]

    def expiries():
        got = [
            ddb.get_item(
                TableName=settings.recommendations_table, Key={"pk": {"S": k}, "sk": {"S": "live"}}
            )["Item"]
            for k in keys
        ]
        return [int(item[store.TTL_ATTRIBUTE]["N"]) for item in got]

    assert publisher.round()  # from the table: trending, related
    assert expiries() == [1_900_172_800] * 2  # the clock's time plus live_ttl_hours (48)

    clock.now += 3600  # an hour on: past related_refresh_s, so related is written again
    views = spark.createDataFrame(
        [("g1", "u1", "a2", "pv9", "view", datetime(2026, 1, 1, 12, 3))],
        "portal string, user_id string, article_id string, pageview_id string, "
        "event_type string, event_time timestamp",
    )
    publisher.feed(views)
    assert publisher.round()  # from the fed views: trending; related from the table again
    assert expiries() == [1_900_176_400] * 2
