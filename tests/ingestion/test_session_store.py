"""The session state's writes on a moto server of the tests' own: recent reads merged and
bounded, hot counts per bucket, replays that add nothing, racing writers that lose nothing,
a store that fails and recovers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from ingestion import session_state
from ingestion.session_store import SessionStore, consume
from newslake import aws, store
from newslake.local import server
from newslake.settings import Settings
from newslake.store import ScoredItem
from tests.utils.platform import start_platform
from tests.utils.session_records import NOW, Flaky, batch, view

pytestmark = pytest.mark.slow

T = int(NOW)  # a bucket start: NOW is a multiple of 60


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    settings = start_platform(tmp_path_factory.mktemp("session-store"))
    yield settings.model_copy(update={"recent_reads_limit": 3, "hot_bucket_s": 60})
    server.stop(settings)


@pytest.fixture()
def ddb(platform: Settings) -> Iterator[Any]:
    client = aws.client("dynamodb", platform)
    yield client
    for item in client.scan(TableName=platform.recommendations_table)["Items"]:
        client.delete_item(
            TableName=platform.recommendations_table, Key={"pk": item["pk"], "sk": item["sk"]}
        )


def _recent(ddb: Any, settings: Settings, user: str) -> dict[str, Any]:
    key = store.record_key(store.recent_key("g1", user), store.LIVE)
    return dict(ddb.get_item(TableName=settings.recommendations_table, Key=key)["Item"])


def _reads(ddb: Any, settings: Settings, user: str) -> list[tuple[str, float]]:
    return [(i.article_id, i.score) for i in store.items_of(_recent(ddb, settings, user))]


def _hot(ddb: Any, settings: Settings) -> dict[int, dict[str, int]]:
    items = ddb.query(
        TableName=settings.recommendations_table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": store.hot_key("g1")}},
    )["Items"]
    return store.hot_counts_of(items)


def test_reads_are_written_newest_first_and_merged_with_the_stored_ones(platform, ddb):
    writer = SessionStore(ddb, platform)

    consume(
        batch(view("e1", "u1", "a1", NOW - 30), view("e2", "u1", "a2", NOW - 20)), writer, now=NOW
    )
    consume(batch(view("e3", "u1", "a1", NOW - 10), first=3), writer, now=NOW)

    assert _reads(ddb, platform, "u1") == [("a1", NOW - 10), ("a2", NOW - 20)]
    item = _recent(ddb, platform, "u1")
    assert item["rev"] == {"N": "2"}
    assert item["expires_at"] == {"N": str(T + 48 * 3600)}


def test_the_list_keeps_the_newest_reads_within_the_window(platform, ddb):
    writer = SessionStore(ddb, platform)
    stored = [ScoredItem("old", NOW - 25 * 3600), ScoredItem("a0", NOW - 100)]
    ddb.put_item(
        TableName=platform.recommendations_table,
        Item=store.item_record(store.recent_key("g1", "u1"), store.LIVE, stored, T + 60),
    )

    consume(
        batch(*(view(f"e{i}", "u1", f"a{i}", NOW - 50 + i) for i in range(1, 4))),
        writer,
        now=NOW,
    )

    # limit 3: a3, a2, a1 are newer than a0; "old" is past the 24 h window
    assert _reads(ddb, platform, "u1") == [("a3", NOW - 47), ("a2", NOW - 48), ("a1", NOW - 49)]


def test_a_replayed_batch_changes_nothing(platform, ddb):
    writer = SessionStore(ddb, platform)
    replayed = batch(view("e1", "u1", "a1", NOW - 2), view("e2", "u2", "a1", NOW - 1))
    consume(replayed, writer, now=NOW)

    again = consume(replayed, writer, now=NOW + 5)

    assert (again.readers_written, again.views_counted) == (0, 0)
    assert _recent(ddb, platform, "u1")["rev"] == {"N": "1"}
    assert _hot(ddb, platform) == {T - 60: {"a1": 2}}


def test_views_are_counted_per_bucket(platform, ddb):
    writer = SessionStore(ddb, platform)

    consume(
        batch(
            view("e1", "u1", "a1", NOW - 61),
            view("e2", "u2", "a1", NOW - 59),
            view("e3", "u3", "a2", NOW - 1),
            view("e4", "u4", "a1", NOW + 1),
        ),
        writer,
        now=NOW + 2,
    )
    consume(batch(view("e5", "u5", "a2", NOW - 30), first=5), writer, now=NOW + 2)

    assert _hot(ddb, platform) == {T - 120: {"a1": 1}, T - 60: {"a1": 1, "a2": 2}, T: {"a1": 1}}


def test_a_replay_that_reaches_further_adds_only_the_new_views(platform, ddb):
    writer = SessionStore(ddb, platform)
    first = [view(f"e{i}", f"u{i}", "a1", NOW - 30) for i in range(1, 4)]
    consume(batch(*first), writer, now=NOW)

    # delivered again from the second record, with two records that came meanwhile
    more = [view("e4", "u4", "a2", NOW - 20), view("e5", "u5", "a1", NOW - 10)]
    again = consume(batch(*first[1:], *more, first=2), writer, now=NOW)

    assert again.views_counted == 2
    assert _hot(ddb, platform) == {T - 60: {"a1": 4, "a2": 1}}


def test_each_shard_keeps_its_own_position_in_a_bucket(platform, ddb):
    writer = SessionStore(ddb, platform)

    consume(batch(view("e1", "u1", "a1", NOW - 5), first=9, shard="shardId-1"), writer, now=NOW)
    consume(batch(view("e2", "u2", "a1", NOW - 5), first=1, shard="shardId-2"), writer, now=NOW)

    assert _hot(ddb, platform) == {T - 60: {"a1": 2}}


def test_a_writer_that_races_loses_no_read(platform, ddb):
    """Another writer changes the reader's item between this writer's read and its write."""
    other = SessionStore(ddb, platform)
    consume(batch(view("e0", "u1", "a0", NOW - 40)), other, now=NOW)

    class RacedOnce(Flaky):
        def __getattr__(self, operation: str) -> Any:
            if operation == "put_item" and not self.calls:
                self.calls["raced"] = 1
                consume(batch(view("e9", "u1", "a9", NOW - 5), first=9), other, now=NOW)
            return getattr(self.client, operation)

    writer = SessionStore(RacedOnce(ddb, {}), platform)
    consume(batch(view("e1", "u1", "a1", NOW - 10), first=2), writer, now=NOW)

    assert _reads(ddb, platform, "u1") == [("a9", NOW - 5), ("a1", NOW - 10), ("a0", NOW - 40)]
    assert _recent(ddb, platform, "u1")["rev"] == {"N": "3"}


def test_an_item_put_by_a_writer_without_revisions_is_merged(platform, ddb):
    stored = [ScoredItem("a0", NOW - 40)]
    ddb.put_item(
        TableName=platform.recommendations_table,
        Item=store.item_record(store.recent_key("g1", "u1"), store.LIVE, stored, T + 60),
    )

    consume(batch(view("e1", "u1", "a1", NOW - 10)), SessionStore(ddb, platform), now=NOW)

    assert _reads(ddb, platform, "u1") == [("a1", NOW - 10), ("a0", NOW - 40)]


def test_a_reader_with_10000_reads_keeps_a_bounded_item(platform, ddb):
    settings = platform.model_copy(update={"recent_reads_limit": 50})
    writer = SessionStore(ddb, settings)
    reads = [view(f"e{i}", "heavy", f"a{i}", NOW - 10_000 + i) for i in range(10_000)]

    for start in range(0, len(reads), 500):
        consume(batch(*reads[start : start + 500], first=start + 1), writer, now=NOW)

    kept = _reads(ddb, settings, "heavy")
    assert [a for a, _ in kept] == [f"a{i}" for i in range(9_999, 9_949, -1)]
    assert len(json.dumps(_recent(ddb, settings, "heavy"))) < 4_000


def test_a_store_that_throttles_leaves_the_batch_to_be_delivered_again(platform, ddb):
    events = [view("e1", "u1", "a1", NOW - 5), view("e2", "u2", "a2", NOW - 4)]
    throttled = Flaky(ddb, {"put_item": 10, "update_item": 10})  # it stays down

    failed = consume(batch(*events), SessionStore(throttled, platform), now=NOW)
    recovered = consume(batch(*events), SessionStore(ddb, platform), now=NOW)

    assert failed.failed_from == store.padded_sequence("1")
    assert recovered.failed_from is None
    assert _reads(ddb, platform, "u1") == [("a1", NOW - 5)]
    assert _reads(ddb, platform, "u2") == [("a2", NOW - 4)]
    assert _hot(ddb, platform) == {T - 60: {"a1": 1, "a2": 1}}


class BucketDownOnce:
    """A client whose first write to one hot bucket fails (its partition throttled)."""

    def __init__(self, client: Any, sk: str) -> None:
        self.client, self.sk, self.failed = client, sk, False

    def __getattr__(self, operation: str) -> Any:
        real = getattr(self.client, operation)
        if operation != "update_item":
            return real

        def update_item(**kwargs: Any) -> Any:
            if kwargs["Key"]["sk"]["S"] == self.sk and not self.failed:
                self.failed = True
                return Flaky(self.client, {"update_item": 1}).update_item(**kwargs)
            return real(**kwargs)

        return update_item


def test_a_failed_chunk_stops_its_bucket_but_not_the_others(platform, ddb, monkeypatch):
    monkeypatch.setattr(session_state, "HOT_ARTICLES_PER_WRITE", 1)
    events = [
        view("e1", "u1", "a1", NOW - 30),  # bucket T - 60, first chunk: its write fails
        view("e2", "u2", "a2", NOW - 20),  # bucket T - 60, second chunk: must wait
        view("e3", "u3", "a3", NOW - 90),  # bucket T - 120
    ]
    down = BucketDownOnce(ddb, store.hot_bucket_sk(T - 60))

    failed = consume(batch(*events), SessionStore(down, platform), now=NOW)

    assert failed.failed_from == store.padded_sequence("1")
    assert _hot(ddb, platform) == {T - 120: {"a3": 1}}
    consume(batch(*events), SessionStore(ddb, platform), now=NOW)
    assert _hot(ddb, platform) == {T - 120: {"a3": 1}, T - 60: {"a1": 1, "a2": 1}}


def test_reads_already_past_the_window_write_no_item(platform, ddb):
    old = NOW - 25 * 3600  # a tracker's offline queue, sent a day late

    consumed = consume(batch(view("e1", "u1", "a1", old)), SessionStore(ddb, platform), now=NOW)

    assert consumed.readers_written == 0
    key = store.record_key(store.recent_key("g1", "u1"), store.LIVE)
    assert "Item" not in ddb.get_item(TableName=platform.recommendations_table, Key=key)
