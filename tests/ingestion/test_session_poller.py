"""The local session-state poller on a platform of its own: every shard read from its
checkpoint, a kill between writes and checkpoint, a store and a Kinesis that throttle."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ingestion.session_poller import Checkpoints, SessionPoller
from ingestion.session_store import SessionStore
from newslake import aws, store
from newslake.local import server
from newslake.settings import Settings
from tests.utils.clock import FakeClock
from tests.utils.platform import start_platform
from tests.utils.session_records import NOW, Flaky, data, view

pytestmark = pytest.mark.slow

T = int(NOW)


class Killed(Exception):
    """The process dies here."""


@pytest.fixture()
def platform(tmp_path) -> Iterator[Settings]:
    settings = start_platform(tmp_path)
    yield settings.model_copy(update={"session_state_batch_size": 3})
    server.stop(settings)


def _put(settings: Settings, *events: dict[str, Any] | bytes, portal: str = "g1") -> None:
    kinesis = aws.client("kinesis", settings)
    for e in events:
        key = e["user_id"] if isinstance(e, dict) else "junk"
        kinesis.put_record(
            StreamName=settings.stream_name(portal),
            Data=e if isinstance(e, bytes) else data(e),
            PartitionKey=key,
        )


def _poller(settings: Settings, *, ddb: Any = None, kinesis: Any = None, **kwargs: Any):
    return SessionPoller(
        settings,
        kinesis or aws.client("kinesis", settings),
        Checkpoints(aws.client("s3", settings), settings.landing_bucket),
        SessionStore(ddb or aws.client("dynamodb", settings), settings),
        now=lambda: NOW,
        **kwargs,
    )


def _reads(settings: Settings, user: str, portal: str = "g1") -> list[str]:
    ddb = aws.client("dynamodb", settings)
    key = store.record_key(store.recent_key(portal, user), store.LIVE)
    item = ddb.get_item(TableName=settings.recommendations_table, Key=key).get("Item")
    return [i.article_id for i in store.items_of(item)] if item else []


def _hot(settings: Settings, portal: str = "g1") -> dict[int, dict[str, int]]:
    items = aws.client("dynamodb", settings).query(
        TableName=settings.recommendations_table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": store.hot_key(portal)}},
    )["Items"]
    return store.hot_counts_of(items)


def _ten_reads() -> list[dict[str, Any]]:
    """u1 reads a0..a4, u2 reads a0..a4, one second apart, all in bucket T - 60."""
    return [
        view(f"e{u}{i}", f"u{u}", f"a{i}", NOW - 50 + 10 * u + i) for u in (1, 2) for i in range(5)
    ]


def test_every_portal_and_shard_is_read_into_the_session_state(platform):
    _put(platform, *_ten_reads())
    ge = view("g1", "u1", "b1", NOW - 5, portal="ge", url="https://ge.globo.com/b1")
    _put(platform, ge, portal="ge")

    stats = _poller(platform).drain()

    assert (stats.records, stats.reads, stats.failures) == (11, 11, 0)
    assert _reads(platform, "u1") == ["a4", "a3", "a2", "a1", "a0"]
    assert _reads(platform, "u1", "ge") == ["b1"]
    assert _hot(platform) == {T - 60: {f"a{i}": 2 for i in range(5)}}
    assert _hot(platform, "ge") == {T - 60: {"b1": 1}}


def test_a_poller_killed_between_writes_and_checkpoint_loses_and_doubles_nothing(platform):
    _put(platform, *_ten_reads())
    kills = iter([True, False, True])  # dies after the first and third batch's writes

    def fault(step: str) -> None:
        if step == "applied" and next(kills, False):
            raise Killed(step)

    for _ in range(2):
        with pytest.raises(Killed):
            _poller(platform, fault=fault).drain()
    _put(platform, view("e9", "u1", "a9", NOW - 1))  # arrives while it is down
    _poller(platform).drain()

    assert _reads(platform, "u1") == ["a9", "a4", "a3", "a2", "a1", "a0"]
    assert _reads(platform, "u2") == ["a4", "a3", "a2", "a1", "a0"]
    assert _hot(platform) == {T - 60: {**{f"a{i}": 2 for i in range(5)}, "a9": 1}}


def test_a_store_that_throttles_is_waited_for_and_nothing_is_lost(platform):
    _put(platform, *_ten_reads())
    ddb = Flaky(
        aws.client("dynamodb", platform), {"put_item": 3, "update_item": 2, "batch_get_item": 2}
    )
    clock = FakeClock(100.0)

    stats = _poller(platform, ddb=ddb, clock=clock).drain(sleep=clock.sleep)

    assert stats.failures >= 2
    assert clock.slept and min(clock.slept) > 0
    assert _reads(platform, "u2") == ["a4", "a3", "a2", "a1", "a0"]
    assert _hot(platform) == {T - 60: {f"a{i}": 2 for i in range(5)}}


def test_the_checkpoint_stays_while_the_store_is_down(platform):
    _put(platform, view("e1", "u1", "a1", NOW - 5))
    down = Flaky(aws.client("dynamodb", platform), {"put_item": 1_000, "update_item": 1_000})
    checkpoints = Checkpoints(aws.client("s3", platform), platform.landing_bucket)

    poller = _poller(platform, ddb=down, clock=FakeClock(100.0))
    poller.poll()

    assert poller.stats.failures == 1
    assert checkpoints.load(platform.stream_name("g1")) == {}
    _poller(platform).drain()
    assert _reads(platform, "u1") == ["a1"]
    assert len(checkpoints.load(platform.stream_name("g1"))) == 1


def test_kinesis_throttling_is_waited_for(platform):
    _put(platform, *_ten_reads())
    kinesis = Flaky(aws.client("kinesis", platform), {"get_records": 3})
    clock = FakeClock(100.0)

    stats = _poller(platform, kinesis=kinesis, clock=clock).drain(sleep=clock.sleep)

    assert (stats.records, stats.failures) == (10, 3)
    assert _hot(platform) == {T - 60: {f"a{i}": 2 for i in range(5)}}


def test_malformed_records_are_skipped_counted_and_passed(platform):
    _put(platform, b"not json", b'{"event_id": 1}', view("e1", "u1", "a1", NOW - 5))

    stats = _poller(platform).drain()

    assert (stats.records, stats.skipped, stats.reads) == (3, 2, 1)
    assert _reads(platform, "u1") == ["a1"]
    assert _poller(platform).drain().records == 0  # the checkpoint is past them
