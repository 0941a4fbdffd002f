"""The erasure stage and its check on the local platform (moto's S3 and DynamoDB, Delta on
local disk): synthetic traffic for eight readers landed, caught up into bronze and silver,
gold interactions built by the nightly stage; the id map, a published list, an impression,
a quarantined line, a table the lake gained later and the serving store's items are
written directly (training ALS would add minutes and nothing erasure reads).

The lake is built once for the module; each test erases readers of its own.
"""

from __future__ import annotations

import gzip
import itertools
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pyspark.sql import functions as F

from ingestion import bulk_load
from ingestion.synthetic import TrafficSpec, generate
from newslake import aws, store, versions
from newslake.errors import SetupError
from newslake.privacy import ErasureRequests, subject_of
from newslake.settings import Settings
from serving.reader import DynamoReader
from serving.recommender import Recommender
from spark_jobs import erase_delta, erasure_check, id_map, nightly, reader_scan
from spark_jobs import erasure_stage as erasure
from spark_jobs.erase_delta import ErasureError
from spark_jobs.erase_landing import split_lines
from spark_jobs.landing_query import catch_up
from spark_jobs.reader_rows import RAW_LINES, TYPED, Reader, ReaderTable, count_by_reader
from spark_jobs.tables import GoldPaths, StreamPaths

pytestmark = pytest.mark.slow

PORTAL = "erasure-test"
END = datetime(2026, 3, 2, 12, tzinfo=UTC)
VERSION = "v-erasure-1"
OLD_VERSION = "v-erasure-0"
USERS = [f"{PORTAL}-u{u:05d}" for u in range(8)]  # synthetic's ids
NEVER_SEEN = "nobody-at-all"
_n = itertools.count()


def _settings(local_platform: Settings, lake: str) -> Settings:
    return Settings(
        **{
            **local_platform.model_dump(),
            "lake_uri": f"file://{lake}",
            "portals": (PORTAL,),
            "landing_prefix": "erasure-test/pageviews",
            "impressions_prefix": "erasure-test/impressions",
            "stream_publish_live": False,
        }
    )


def _impression(rec: str, user: str, served_at_ms: int) -> str:
    return json.dumps(
        {
            "recommendation_id": rec * 32,
            "portal": PORTAL,
            "route": "reader",
            "user_id": user,
            "article_id": None,
            "variant": None,
            "model_version": VERSION,
            "items": [{"article_id": "a-1", "source": "popular", "position": 1}],
            "served_at": served_at_ms,
        }
    )


def _put(settings: Settings, key: str, lines: list[str]) -> None:
    body = gzip.compress(("\n".join(lines) + "\n").encode())
    aws.client("s3", settings).put_object(Bucket=settings.landing_bucket, Key=key, Body=body)


def _land(settings: Settings) -> None:
    """Synthetic pageviews, one quarantined line per reader (an unknown event type), and
    impression lines of readers 0 to 3 and an anonymous one."""
    spec = TrafficSpec(
        end=END, portals=(PORTAL,), days=0.5, users_per_portal=len(USERS),
        articles_per_portal=20, seed=11,
    )  # fmt: skip
    events = [e.model_dump() | {"server_ts": e.client_ts + 400} for e in generate(spec)]
    bulk_load.bulk_load(settings, aws.client("s3", settings), events, progress=False)
    bad = [
        json.dumps(events[0] | {"user_id": u, "event_type": "nonsense", "event_id": f"bad-{u}"})
        for u in USERS
    ]
    _put(settings, f"{settings.landing_prefix}/portal={PORTAL}/bad.json.gz", bad)
    at = int((END - timedelta(hours=1)).timestamp() * 1000)
    lines = [_impression(str(i + 1), u, at) for i, u in enumerate(USERS[:4])]
    lines.append(json.dumps(json.loads(_impression("9", "x", at)) | {"user_id": None}))
    _put(settings, f"{settings.impressions_prefix}/2026/03/02/11/imp.json.gz", lines)


def _gold(spark: Any, settings: Settings) -> None:
    """Interactions by the nightly stage; the id map of their readers; a published list;
    and a table the lake gained later, with readers' ids (found by listing the lake)."""
    nightly.build_interactions(spark, settings, END, VERSION)
    paths = GoldPaths.of(settings)
    users = (
        spark.read.format("delta")
        .load(paths.interactions)
        .select(F.col("user_id").alias("entity_id"))
    )
    id_map.assign(spark, users, paths.id_map, portal=PORTAL, kind=id_map.USER).count()
    recs = [(u, 1, "a-1", 1.0, PORTAL, VERSION) for u in USERS]
    spark.createDataFrame(
        recs,
        "user_id string, rank int, article_id string, score double, portal string, version string",
    ).write.format("delta").save(paths.recommendations)
    notes = [(u, PORTAL, "note") for u in USERS]
    spark.createDataFrame(notes, "user_id string, portal string, note string").write.format(
        "delta"
    ).save(settings.table_path("experimental", "reader_notes"))


def _store(settings: Settings) -> None:
    """Every reader's personal lists (two versions) and recent reads; the pointer."""
    ddb = aws.client("dynamodb", settings)
    table = settings.recommendations_table
    expires = int(time.time()) + 86_400
    items = [store.ScoredItem("a-personal", 1.0)]
    for u in USERS:
        for version in (OLD_VERSION, VERSION):
            record = store.item_record(store.user_key(PORTAL, u), version, items, expires)
            ddb.put_item(TableName=table, Item=record)
        recent = [store.ScoredItem("a-popular", time.time())]  # left out of their list
        record = store.item_record(store.recent_key(PORTAL, u), store.LIVE, recent, expires)
        ddb.put_item(TableName=table, Item=record)
    popular = [store.ScoredItem("a-popular", 1.0)]
    ddb.put_item(
        TableName=table,
        Item=store.item_record(store.popular_key(PORTAL), VERSION, popular, expires),
    )
    weights = [store.ScoredItem("personal", 1.0)]
    ddb.put_item(
        TableName=table,
        Item=store.item_record(store.weights_key(PORTAL), VERSION, weights, expires),
    )
    versions.switch(ddb, settings.versions_table, PORTAL, VERSION)


@pytest.fixture(scope="module")
def lake(local_platform, spark, tmp_path_factory) -> Settings:
    settings = _settings(local_platform, tmp_path_factory.mktemp("erasure") / "lake")
    _land(settings)
    catch_up(spark, settings)
    _gold(spark, settings)
    _store(settings)
    return settings


def _requests(settings: Settings) -> ErasureRequests:
    """A requests table of the test's own: the stage carries out every pending request."""
    ddb = aws.client("dynamodb", settings)
    name = f"erasure-requests-{next(_n)}-{time.monotonic_ns()}"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "subject", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "subject", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return ErasureRequests(ddb, name, settings.privacy_key)


def _ctx(spark, settings, requests, **kw) -> erasure.Context:
    s3, ddb = aws.client("s3", settings), aws.client("dynamodb", settings)
    return erasure.Context(spark, settings, requests, s3=s3, ddb=ddb, **kw)


def _found(spark, settings, users):
    readers = [Reader(PORTAL, u) for u in users]
    s3, ddb = aws.client("s3", settings), aws.client("dynamodb", settings)
    found = reader_scan.readable(spark, settings, readers, s3=s3, ddb=ddb)
    return {r.user_id: found[r] for r in readers}


def _counts_by_table(spark, settings) -> dict[str, dict[str, int]]:
    """Rows per reader in each table, counted the plain way (not the stage's matching)."""
    paths = {
        **StreamPaths.of(settings).tables(),
        **GoldPaths.of(settings).tables(),
        "experimental.reader_notes": settings.table_path("experimental", "reader_notes"),
    }
    counts: dict[str, dict[str, int]] = {}
    for name, path in paths.items():
        try:
            df = spark.read.format("delta").load(path)
        except Exception:  # a table this lake never wrote
            continue
        if "raw" in df.columns:
            who = F.regexp_extract("raw", r'"user_id":\s*"([^"]+)"', 1)
        elif "entity_id" in df.columns:
            who = F.when(F.col("kind") == "user", F.col("entity_id"))
        elif "user_id" in df.columns:
            who = F.col("user_id")
        else:
            continue
        rows = df.groupBy(who.alias("u")).count().collect()
        counts[name] = {r["u"]: r["count"] for r in rows if r["u"] in USERS}
    return counts


def _anonymous(settings: Settings, user: str) -> Any:
    recommender = Recommender(DynamoReader.from_settings(settings))
    return recommender.for_user(PORTAL, user, 10)


def test_a_reader_is_erased_everywhere_readable_and_no_one_else(spark, lake):
    erased = USERS[0]
    before = _counts_by_table(spark, lake)
    # what the lake holds of the reader: every table below, landing and the store
    assert before["bronze.pageviews"][erased] > 0
    for table in ("silver.events", "silver.pageviews", "silver.quarantine",
                  "silver.impressions", "gold.interactions", "gold.id_map",
                  "gold.recommendations", "experimental.reader_notes"):  # fmt: skip
        assert before[table].get(erased, 0) > 0, table
    found_before = _found(spark, lake, [erased])[erased]
    assert found_before["store"] == 3 and found_before["landing"] > 0
    requests = _requests(lake)
    requests.ask(PORTAL, erased, asked_by="test", now=time.time())
    requests.ask(PORTAL, NEVER_SEEN, asked_by="test", now=time.time())

    out = erasure.run(_ctx(spark, lake, requests))

    assert sorted(out.completed) == sorted(
        [requests.subject(PORTAL, erased), requests.subject(PORTAL, NEVER_SEEN)]
    )
    found = _found(spark, lake, [erased, NEVER_SEEN])
    assert {p: n for p, n in found[erased].items() if n} == {}
    assert {p: n for p, n in found[NEVER_SEEN].items() if n} == {}
    after = _counts_by_table(spark, lake)
    for table, per_reader in before.items():
        assert after[table].get(erased, 0) == 0, table
        others = {u: n for u, n in per_reader.items() if u != erased}
        assert after[table] == others, table
    done = requests.get(PORTAL, erased)
    assert done is not None and done.status == "done" and done.user_id is None
    removed = {place: int(s["removed"]) for place, s in done.steps.items()}
    assert removed["delta/bronze.pageviews"] == before["bronze.pageviews"][erased]
    assert removed["delta/gold.id_map"] == 1
    assert removed["delta/experimental.reader_notes"] == 1
    assert removed["store"] == 3
    # Delta's default log retention (30 days) and the night's VACUUM
    assert done.unreadable_by == (datetime.now(UTC) + timedelta(days=31)).date().isoformat()
    unknown = requests.get(PORTAL, NEVER_SEEN)
    assert unknown is not None and unknown.status == "done"
    assert {int(s["removed"]) for s in unknown.steps.values()} == {0}
    assert _anonymous(lake, erased) == _anonymous(lake, NEVER_SEEN)
    assert _anonymous(lake, USERS[7]) != _anonymous(lake, NEVER_SEEN)  # the store still serves


def test_the_check_counts_the_history_delta_still_retains(spark, lake):
    reader = Reader(PORTAL, USERS[0])  # erased by the test above

    out = erasure_check.check(spark, lake, reader)

    assert out["subject"] == subject_of(PORTAL, USERS[0], key=lake.privacy_key)
    assert out["readable"] == 0 and set(out["found"].values()) == {0}
    assert {"landing", "store", "delta/bronze.pageviews", "delta/gold.id_map"} <= set(out["found"])
    assert out["history"]["delta/bronze.pageviews"] > 0
    assert out["history"]["delta/gold.id_map"] == 1
    # Delta's default retentions: 30 days of log, then the night's VACUUM
    assert out["unreadable_by"] == (datetime.now(UTC) + timedelta(days=31)).date().isoformat()
    assert USERS[0] not in json.dumps(out)


class Killed(Exception):
    pass


class DiesOnSecondRecord(ErasureRequests):
    """The process dies after the second table's commit, before the request records it."""

    def __init__(self, settings: Settings, table: str) -> None:
        super().__init__(aws.client("dynamodb", settings), table, settings.privacy_key)
        self.records = 0

    def record_step(self, subject: str, place: str, *, removed: int, at: float) -> None:
        self.records += 1
        if self.records == 3:  # the round's start, the first table, then the second
            raise Killed(place)
        super().record_step(subject, place, removed=removed, at=at)


def test_a_run_killed_after_its_first_table_and_run_again_counts_each_row_once(spark, lake):
    reader = USERS[1]
    before = _counts_by_table(spark, lake)
    requests = _requests(lake)
    requests.ask(PORTAL, reader, asked_by="test", now=time.time())

    with pytest.raises(Killed):  # the first table recorded, the second committed only
        erasure.run(_ctx(spark, lake, DiesOnSecondRecord(lake, requests.table)))
    first = requests.get(PORTAL, reader)
    assert first is not None and first.status == "pending"
    assert sorted(first.steps) == ["delta/bronze.pageviews", "started"]

    out = erasure.run(_ctx(spark, lake, requests))

    assert out.completed == [requests.subject(PORTAL, reader)]
    done = requests.get(PORTAL, reader)
    assert done is not None
    removed = {p: int(s["removed"]) for p, s in done.steps.items() if p.startswith("delta/")}
    expected = {f"delta/{t}": n[reader] for t, n in before.items() if n.get(reader)}
    assert {p: n for p, n in removed.items() if n} == expected
    # the commit made before the kill is counted from its tag, not found empty
    assert removed["delta/experimental.reader_notes"] == 1


def test_a_failed_erasure_names_the_table_but_no_reader(spark):
    table = ReaderTable("gold.gone", "/nonexistent/erasure-test-u00001/table", TYPED)
    with pytest.raises(ErasureError) as failed:
        erase_delta.erase_table(spark, table, {Reader(PORTAL, USERS[1]): "mark"})
    assert str(failed.value).startswith("gold.gone: erasure failed: ")
    assert USERS[1] not in str(failed.value)


def test_a_reader_whose_rows_arrive_during_the_run_stays_pending_until_the_next(
    spark, lake, caplog
):
    caplog.set_level(logging.INFO, logger="newslake.erasure")
    reader = USERS[2]
    requests = _requests(lake)
    requests.ask(PORTAL, reader, asked_by="test", now=time.time())
    visits = StreamPaths.of(lake).visits

    def stream_writes(place: str) -> None:
        if place == "store":  # the streaming job merges a new visit of the reader
            row = spark.read.format("delta").load(visits).where(F.col("user_id") == USERS[3])
            row.limit(1).withColumn("user_id", F.lit(reader)).withColumn(
                "pageview_id", F.lit("late-visit")
            ).write.format("delta").mode("append").save(visits)

    out = erasure.run(_ctx(spark, lake, requests, after_place=stream_writes))

    subject = requests.subject(PORTAL, reader)
    assert out.completed == [] and out.pending == {subject: {"delta/silver.pageviews": 1}}
    assert requests.get(PORTAL, reader).status == "pending"  # type: ignore[union-attr]

    again = erasure.run(_ctx(spark, lake, requests))

    assert again.completed == [subject]
    done = requests.get(PORTAL, reader)
    assert done is not None and int(done.steps["delta/silver.pageviews@2"]["removed"]) == 1
    assert int(done.steps["check"]["removed"]) == 1
    # the stage's log names the request by its subject, never the reader by the id
    assert f"request {subject}: found again in ['delta/silver.pageviews']" in caplog.text
    assert f"request {subject}: erased and checked" in caplog.text
    assert reader not in caplog.text


def test_a_platform_without_the_requests_table_is_told_how_to_provision_it(spark, local_platform):
    settings = Settings(**{**local_platform.model_dump(), "name_prefix": "no-such-platform"})
    with pytest.raises(SetupError, match="no-such-platform-privacy-requests does not exist"):
        erasure.run_stage(spark, settings)


RAW_LINES_OF_ANA = [
    json.dumps({"portal": PORTAL, "user_id": "ana", "event_id": "1"}),  # ana's
    '{"portal": "' + PORTAL + '", "user_id": "ana", "dwell',  # cut off: still ana's
    '{"user_id":"ana", "cli',  # cut off before its portal: ana's on every portal
    json.dumps({"portal": "ge", "user_id": "ana"}),  # another portal's ana
    json.dumps({"portal": PORTAL, "event": {"user_id": "ana"}}),  # no user_id of its own
    json.dumps({"portal": PORTAL, "user_id": "anabel"}),
    "{not json at all",
]


def test_spark_and_the_landing_scan_find_the_same_lines_of_a_reader(spark):
    ana = Reader(PORTAL, "ana")
    df = spark.createDataFrame([(line,) for line in RAW_LINES_OF_ANA], "raw string")

    assert count_by_reader(df, RAW_LINES, [ana]) == {ana: 3}
    assert split_lines("\n".join(RAW_LINES_OF_ANA), [ana])[1] == {ana: 3}
