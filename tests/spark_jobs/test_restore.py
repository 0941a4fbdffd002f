"""make down && make up on the local platform: the serving store, lost with the moto server,
is filled again from the lake on disk, and a reader gets the same list as before.

One portal (g1), a version published the nightly way (export, then the switch that also
records it in the lake), the live publisher's round over silver, and the session-state
consumer fed the same views as Kinesis records. Then the platform is stopped and started
through the functions ``make down`` and ``make up`` call, and the store restored.

The clock is pinned (session_records.NOW) for the publisher, the consumer, the restore and
the service: the hot list weighs each view by its age and the reader's recent reads lend
their co-visitation lists only for half an hour, so a list read a minute later would
differ for that reason alone.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingestion.session_store import SessionStore, consume
from newslake import aws, versions
from newslake.editorial import Block
from newslake.editorial_store import DynamoControls
from newslake.local import keep, lifecycle, server
from newslake.privacy import ErasureRequests
from newslake.ranking import ReaderParams
from newslake.settings import get_settings
from serving.reader import DynamoReader
from serving.recommender import HotParams, Recommender
from spark_jobs import gold, nightly, restore
from spark_jobs.publisher import LivePublisher
from spark_jobs.tables import GoldPaths, StreamPaths
from tests.utils import session_records

pytestmark = pytest.mark.slow

NOW = session_records.NOW
VERSION = "v20270115T000000Z"
# (event id, reader, session, article, minutes before NOW): ana reads a1, a2 then a3 now;
# others read a1 with a2 or a3 in their sessions, so a3 and a1 lend co-visited lists.
VIEWS = [
    ("e01", "bia", "s1", "a1", 50),
    ("e02", "bia", "s1", "a2", 49),
    ("e03", "caio", "s2", "a1", 40),
    ("e04", "caio", "s2", "a3", 39),
    ("e05", "dora", "s3", "a3", 20),
    ("e06", "dora", "s3", "a4", 19),
    ("e07", "ana", "s4", "a1", 12),
    ("e08", "ana", "s4", "a2", 8),
    ("e09", "eva", "s5", "a4", 6),
    ("e10", "eva", "s5", "a5", 5),
    ("e11", "ana", "s4", "a3", 3),
    ("e12", "fabio", "s6", "a5", 2),
]
VISITS = (
    "pageview_id string, portal string, user_id string, session_id string, article_id string, "
    "visit_start timestamp, dwell_ms long, scroll_depth int, clicks int, silver_at timestamp"
)
EVENTS = (
    "event_id string, event_type string, portal string, user_id string, article_id string, "
    "client_ts long, server_ts long"
)


def _at(minutes: int) -> float:
    return NOW - minutes * 60


def _write_silver(spark, settings):
    paths = StreamPaths.of(settings)
    visits, events = [], []
    for event_id, user, session, article, minutes in VIEWS:
        t = datetime.fromtimestamp(_at(minutes), UTC).replace(tzinfo=None)
        visits.append((f"pv-{event_id}", "g1", user, session, article, t, 0, 0, 0, t))
        ms = int(_at(minutes) * 1000)
        events.append((event_id, "view", "g1", user, article, ms, ms))
    # a portal this platform does not serve (NEWSLAKE_PORTALS changed): not restored
    events.append(("x01", "view", "ge", "ana", "a1", int(NOW * 1000), int(NOW * 1000)))
    spark.createDataFrame(visits, VISITS).write.format("delta").save(paths.visits)
    spark.createDataFrame(events, EVENTS).write.format("delta").save(paths.events)


def _write_version(spark, settings):
    """g1's promoted version: ana's personal list p1, p2; popular pop1, pop2; nightly
    related of a3; the gate earned the personal lists a weight of 0.5."""
    paths = GoldPaths.of(settings)
    spark.createDataFrame(
        [("ana", 1, "p1", 0.9, "g1", VERSION), ("ana", 2, "p2", 0.4, "g1", VERSION)],
        "user_id string, rank int, article_id string, score double, portal string, version string",
    ).write.format("delta").save(paths.recommendations)
    spark.createDataFrame(
        [("g1", VERSION, 1, "pop1", 90), ("g1", VERSION, 2, "pop2", 40)],
        "portal string, version string, rank int, article_id string, views long",
    ).write.format("delta").save(paths.popular)
    spark.createDataFrame(
        [("g1", VERSION, "a3", 1, "r1", 3.0)],
        "portal string, version string, source_article_id string, rank int, article_id string, "
        "score double",
    ).write.format("delta").save(paths.related)
    gold.write_model_runs(
        spark, paths.model_runs, portal="g1", version=VERSION,
        as_of=datetime.fromtimestamp(NOW, UTC), cutoff=None, k=10, status="published",
        decision="promote", reason="", input_versions={}, stage_s={},
        runs=[gold.ModelRun("served", {}, {"served": {"personal_weight": 0.5}})],
    )  # fmt: skip


def _run_platform(spark, settings):
    """What the running platform writes: the nightly publish, the streaming job's live
    round, the session-state consumer's reads of the stream."""
    ddb = aws.client("dynamodb", settings)
    nightly.publish(spark, settings, "g1", VERSION, ddb, now=datetime.fromtimestamp(NOW, UTC))
    assert LivePublisher(spark, settings, clock=lambda: NOW).publish()
    events = [session_records.view(e, u, a, _at(m), session_id=s) for e, u, s, a, m in VIEWS]
    consumed = consume(session_records.batch(*events), SessionStore(ddb, settings), now=NOW)
    assert consumed.failed_from is None


def _answers(settings):
    recommender = Recommender(
        DynamoReader.from_settings(settings),
        ttl_s=0,
        reader_params=ReaderParams.from_settings(settings),
        hot_params=HotParams.from_settings(settings),
        lend_minutes=settings.reader_lend_minutes,
        wall_clock=lambda: NOW,
    )
    reader, trending = recommender.for_user("g1", "ana", 8), recommender.trending("g1", 5)
    assert not reader.degraded and not trending.degraded
    return (
        reader.model_version,
        [(r.article_id, r.source, round(r.score, 6)) for r in reader.items],
        [(r.article_id, r.source) for r in trending.items],
    )


@pytest.fixture
def platform(disposable_platform):
    # The lake is the default one, under the platform's state folder; the store's reads
    # get time enough on a busy test machine.
    settings = disposable_platform.model_copy(
        update={"portals": ("g1",), "serving_store_timeout_s": 5.0}
    )
    assert settings.lake_root == f"file://{settings.state_dir.resolve()}/lake"
    return settings


def test_after_down_and_up_a_reader_gets_the_same_lists_from_the_restored_store(spark, platform):
    settings = platform
    _write_silver(spark, settings)
    _write_version(spark, settings)
    _run_platform(spark, settings)
    ErasureRequests.of(settings).ask("g1", "erin", asked_by="privacy-office", now=NOW)
    controls = DynamoControls(aws.client("dynamodb", settings), settings.recommendations_table)
    controls.block("g1", Block("a9", "legal hold", None, "newsroom", int(NOW)))
    before = _answers(settings)

    lifecycle.down(settings)
    assert not server.is_running(settings)
    lifecycle.up(settings)
    assert keep.restore_pending(settings)
    ddb = aws.client("dynamodb", settings)
    assert restore.store_is_empty(ddb, settings) and restore.lake_has_data(settings)
    summary = restore.restore(spark, settings, clock=lambda: NOW)

    assert summary["versions"]["g1"]["version"] == VERSION
    assert (summary["readers"], summary["hot_views"]) == (6, 12)
    assert _answers(settings) == before
    version, reader_list, trending = before
    assert version == VERSION
    # ana's own reads (a1, a2, a3) are never recommended. a4, co-visited with her newest
    # read a3, leads; then a5, trending's top (0.3) and hot's (0.25); her personal list at
    # the earned weight 0.5, scaled by its best (0.9, 0.4); popular only fills (weight 0).
    assert [(a, source) for a, source, _ in reader_list] == [
        ("a4", "covisited"),
        ("a5", "trending"),
        ("p1", "personal"),
        ("p2", "personal"),
        ("pop1", "popular"),
        ("pop2", "popular"),
    ]
    assert [score for _, _, score in reader_list][1:4] == [0.55, 0.5, 0.222222]
    # the last 15 minutes before the newest view: a5 twice, the others once, by id
    assert trending == [
        ("a5", "trending"),
        ("a1", "trending"),
        ("a2", "trending"),
        ("a3", "trending"),
        ("a4", "trending"),
    ]
    assert ErasureRequests.of(settings).get("g1", "erin").status == "pending"
    assert [b.article_id for b in controls.load("g1").blocks] == ["a9"]
    assert not restore.store_is_empty(ddb, settings)


def _main_of(platform, monkeypatch):
    """restore.main as make up runs it, on ``platform``; the restores it would run."""
    from newslake.settings import get_settings
    from spark_jobs import session

    for name, value in {
        "NEWSLAKE_STATE_DIR": str(platform.state_dir),
        "NEWSLAKE_MOTO_PORT": str(platform.moto_port),
        "NEWSLAKE_PORTALS": "g1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NEWSLAKE_LAKE_URI", raising=False)
    get_settings.cache_clear()
    ran: list[str] = []
    monkeypatch.setattr(session, "get_spark", lambda settings, **kwargs: "spark")
    monkeypatch.setattr(restore, "restore", lambda spark, settings: ran.append(spark) or {})
    return ran


def test_make_up_restores_only_after_starting_the_server_and_only_once(platform, monkeypatch):
    ran = _main_of(platform, monkeypatch)
    versions.record_in_lake(platform, "g1", VERSION)  # the lake holds a version, the store none
    try:
        assert restore.main(["--if-empty"]) == 0
        assert ran == []  # the server was started by no `up`: its store is as left
        keep.expect_restore(platform)  # what `up` does when it starts the server
        assert restore.main(["--if-empty"]) == 0
        assert ran == ["spark"]
        assert restore.main(["--if-empty"]) == 0
        assert ran == ["spark"]
    finally:
        get_settings.cache_clear()


def test_make_up_starts_no_spark_when_the_lake_holds_nothing(platform, monkeypatch):
    ran = _main_of(platform, monkeypatch)
    keep.expect_restore(platform)
    try:
        assert restore.main(["--if-empty"]) == 0
    finally:
        get_settings.cache_clear()
    assert ran == []
    assert not keep.restore_pending(platform)
