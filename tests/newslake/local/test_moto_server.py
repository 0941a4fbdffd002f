"""The local platform's Kinesis: every acknowledged record is stored once, read in order."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import pytest

from newslake import aws

WRITERS, CALLS, PER_CALL = 8, 25, 20


_names = itertools.count()


@pytest.fixture()
def stream(local_platform):
    """A one-shard stream of the test's own, deleted afterwards (the platform is shared)."""
    kinesis = aws.client("kinesis", local_platform)
    name = f"{local_platform.name_prefix}-moto-test-{next(_names)}"
    kinesis.create_stream(StreamName=name, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=name)
    yield name
    kinesis.delete_stream(StreamName=name)


def _read_shard(kinesis, stream: str, shard_id: str, limit: int) -> list[tuple[str, bytes]]:
    iterator = kinesis.get_shard_iterator(
        StreamName=stream, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    got: list[tuple[str, bytes]] = []
    while True:
        page = kinesis.get_records(ShardIterator=iterator, Limit=limit)
        got += [(r["SequenceNumber"], r["Data"]) for r in page["Records"]]
        if not page["Records"]:
            return got
        iterator = page["NextShardIterator"]


def test_concurrent_writers_lose_nothing_and_pages_follow_sequence_numbers(local_platform, stream):
    kinesis = aws.client("kinesis", local_platform)

    def write(writer: int) -> list[str]:
        client = aws.client("kinesis", local_platform)  # a client of its own per thread
        acked = []
        for call in range(CALLS):
            records = [
                {"Data": f"{writer}-{call}-{i}".encode(), "PartitionKey": f"user-{writer}"}
                for i in range(PER_CALL)
            ]
            out = client.put_records(StreamName=stream, Records=records)
            assert out["FailedRecordCount"] == 0
            acked += [r["SequenceNumber"] for r in out["Records"]]
        return acked

    with ThreadPoolExecutor(WRITERS) as pool:
        acked = [seq for seqs in pool.map(write, range(WRITERS)) for seq in seqs]

    shard_id = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    stored = _read_shard(kinesis, stream, shard_id, limit=333)
    total = WRITERS * CALLS * PER_CALL
    assert len(acked) == len(set(acked)) == total  # no number handed out twice
    assert len(stored) == total
    assert sorted(seq for seq, _ in stored) == sorted(acked)
    assert {data for _, data in stored} == {
        f"{w}-{c}-{i}".encode()
        for w in range(WRITERS)
        for c in range(CALLS)
        for i in range(PER_CALL)
    }
    assert [int(seq) for seq, _ in stored] == list(range(1, total + 1))  # in order, no gaps


def test_reading_from_the_latest_position_returns_only_new_records(local_platform, stream):
    kinesis = aws.client("kinesis", local_platform)
    kinesis.put_record(StreamName=stream, Data=b"old", PartitionKey="k")
    shard_id = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    latest = kinesis.get_shard_iterator(
        StreamName=stream, ShardId=shard_id, ShardIteratorType="LATEST"
    )["ShardIterator"]
    kinesis.put_record(StreamName=stream, Data=b"new", PartitionKey="k")
    page = kinesis.get_records(ShardIterator=latest, Limit=10)
    assert [r["Data"] for r in page["Records"]] == [b"new"]
    empty = kinesis.get_records(ShardIterator=page["NextShardIterator"], Limit=10)
    assert empty["Records"] == []
