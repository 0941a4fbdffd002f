"""The Firehose stand-in's buffering, error output and restarts, on a platform of its own."""

from __future__ import annotations

import base64
import gzip
import json

import pytest

from ingestion import local_firehose
from ingestion.local_firehose import FirehoseStandIn
from newslake import aws
from newslake.local import server
from tests.utils.clock import FakeClock
from tests.utils.platform import start_platform

pytestmark = pytest.mark.slow


@pytest.fixture()
def platform(tmp_path):
    settings = start_platform(tmp_path)
    yield settings
    server.stop(settings)


def _put(settings, portal, payloads):
    kinesis = aws.client("kinesis", settings)
    for p in payloads:
        kinesis.put_record(StreamName=settings.stream_name(portal), Data=p, PartitionKey="u1")


def _objects(settings, prefix):
    s3 = aws.client("s3", settings)
    contents = s3.list_objects_v2(Bucket=settings.landing_bucket, Prefix=prefix).get("Contents", [])
    out = {}
    for o in contents:
        body = s3.get_object(Bucket=settings.landing_bucket, Key=o["Key"])["Body"].read()
        out[o["Key"]] = gzip.decompress(body).splitlines()
    return out


def _crash_before_the_checkpoint(settings, monkeypatch):
    """A delivery that dies after writing its objects, before moving the checkpoint."""

    def crash(*args, **kwargs):
        raise RuntimeError("killed before the checkpoint")

    monkeypatch.setattr(local_firehose, "write_checkpoint", crash)
    with pytest.raises(RuntimeError):
        _standin(settings).drain()
    monkeypatch.undo()


def _standin(settings, **kwargs):
    return FirehoseStandIn(
        settings, aws.client("kinesis", settings), aws.client("s3", settings), **kwargs
    )


def test_a_buffer_is_written_when_its_interval_has_passed(platform):
    clock = FakeClock(1000.0)
    standin = _standin(platform, buffer_interval_s=60, clock=clock)
    _put(platform, "g1", [b'{"event_id":"e1"}', b'{"event_id":"e2"}'])
    assert standin.poll() == 2
    assert _objects(platform, "pageviews/") == {}  # buffered, not yet due
    clock.now += 61
    standin.poll()
    (lines,) = _objects(platform, "pageviews/").values()
    assert [json.loads(x)["event_id"] for x in lines] == ["e1", "e2"]


def test_a_buffer_is_written_when_it_reaches_its_size(platform):
    standin = _standin(platform, buffer_bytes=10, buffer_interval_s=3600, clock=FakeClock(1000.0))
    _put(platform, "ge", [b'{"event_id":"e1"}'])
    standin.poll()
    (key,) = _objects(platform, "pageviews/").keys()
    assert key.startswith("pageviews/portal=ge/year=")


def test_records_that_are_not_json_objects_go_to_the_error_prefix(platform):
    _put(platform, "g1", [b'{"event_id":"e1"}', b"<script>x</script>", b"[1,2]"])
    stats = _standin(platform).drain()
    assert (stats.records, stats.errors) == (3, 2)
    (good,) = _objects(platform, "pageviews/").values()
    assert good == [b'{"event_id":"e1"}']
    (bad,) = _objects(platform, "errors/pageviews/processing-failed/portal=g1/").values()
    raw = [base64.b64decode(json.loads(x)["rawData"]) for x in bad]
    assert raw == [b"<script>x</script>", b"[1,2]"]
    assert {json.loads(x)["errorCode"] for x in bad} == {"Unparseable"}


def test_a_process_killed_with_records_buffered_loses_none(platform):
    _put(platform, "g1", [b'{"event_id":"e1"}', b'{"event_id":"e2"}'])
    crashed = _standin(platform, buffer_interval_s=3600, clock=FakeClock(1000.0))
    assert crashed.poll() == 2  # buffered in memory, then the process dies
    del crashed
    _put(platform, "g1", [b'{"event_id":"e3"}'])
    _standin(platform).drain()
    lines = [x for v in _objects(platform, "pageviews/").values() for x in v]
    assert sorted(json.loads(x)["event_id"] for x in lines) == ["e1", "e2", "e3"]


def test_a_crash_between_object_and_checkpoint_rewrites_the_same_object(platform, monkeypatch):
    _put(platform, "g1", [b'{"event_id":"e1"}', b'{"event_id":"e2"}'])

    _crash_before_the_checkpoint(platform, monkeypatch)
    first = _objects(platform, "pageviews/")
    _standin(platform).drain()
    after = _objects(platform, "pageviews/")
    assert after.keys() == first.keys()
    lines = [x for v in after.values() for x in v]
    assert sorted(json.loads(x)["event_id"] for x in lines) == ["e1", "e2"]


def test_a_full_page_keeps_polling_and_a_caught_up_shard_lets_it_wait(platform, monkeypatch):
    monkeypatch.setattr(local_firehose, "GET_RECORDS_LIMIT", 2)
    standin = _standin(platform)
    _put(platform, "g1", [b'{"event_id":"e1"}', b'{"event_id":"e2"}', b'{"event_id":"e3"}'])
    assert standin.poll() == 2  # one shard (one partition key): a full page
    assert standin.behind
    assert standin.poll() == 1
    assert not standin.behind
    assert standin.poll() == 0
    assert not standin.behind


def test_the_shards_of_a_stream_go_into_one_object(platform):
    kinesis = aws.client("kinesis", platform)
    stream = platform.stream_name("g1")
    shards = kinesis.list_shards(StreamName=stream)["Shards"]
    assert len(shards) == 2
    for n, shard in enumerate(shards):  # one record into each shard
        kinesis.put_record(
            StreamName=stream,
            Data=f'{{"event_id":"e{n}"}}'.encode(),
            PartitionKey="u1",
            ExplicitHashKey=shard["HashKeyRange"]["StartingHashKey"],
        )
    stats = _standin(platform).drain()
    assert (stats.records, stats.objects) == (2, 1)
    (lines,) = _objects(platform, "pageviews/portal=g1/").values()
    assert sorted(json.loads(x)["event_id"] for x in lines) == ["e0", "e1"]


def test_an_object_once_written_never_changes_after_a_crash(platform, monkeypatch):
    """Records that arrive between the crash and the restart make a new object: a reader
    that has read the first key (Spark reads each key once) misses nothing."""
    _put(platform, "g1", [b'{"event_id":"e1"}', b'{"event_id":"e2"}'])

    _crash_before_the_checkpoint(platform, monkeypatch)
    first = _objects(platform, "pageviews/")
    _put(platform, "g1", [b'{"event_id":"e3"}'])
    _standin(platform).drain()
    after = _objects(platform, "pageviews/")
    (first_key,) = first
    assert after[first_key] == first[first_key]  # unchanged
    (second_key,) = after.keys() - first.keys()
    assert sorted(json.loads(x)["event_id"] for x in after[second_key]) == ["e1", "e2", "e3"]
    assert _standin(platform).drain().records == 0  # checkpointed past e3


def test_the_same_records_of_a_stream_made_again_land_under_a_new_name(platform):
    """The local lake and the streaming job's checkpoint outlive the moto server, whose
    streams, made again, number their records from 1 anew: a name landed before a restart
    must never come back, or the streaming job would skip it as already read."""
    import time

    from newslake.local import provision

    _put(platform, "g1", [b'{"event_id":"e1"}'])
    _standin(platform).drain()
    before = set(_objects(platform, "pageviews/"))
    time.sleep(1.1)  # a restart takes longer than the creation time's second
    server.reset(platform)
    provision.provision(platform)
    _put(platform, "g1", [b'{"event_id":"e1"}'])
    _standin(platform).drain()
    after = set(_objects(platform, "pageviews/"))
    assert len(before) == len(after) == 1
    assert before.isdisjoint(after)
