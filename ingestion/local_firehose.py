"""Local stand-in for Kinesis Data Firehose (moto's Firehose does not read Kinesis).

What it does, like a Firehose delivery stream per portal with its Kinesis stream as source:

* reads every shard of every portal's stream, from checkpointed sequence numbers;
* buffers per stream (all its shards together, as Firehose does) and writes an object when
  the buffer reaches ``buffer_bytes`` or has waited ``buffer_interval_s`` (Firehose's size
  and interval buffering hints);
* writes GZIP newline-delimited JSON under a custom prefix partitioned by portal and the
  records' arrival hour (UTC):
  ``{landing_prefix}/portal={portal}/year=YYYY/month=MM/day=DD/hour=HH/``;
* sends records that are not a JSON object (so cannot be partitioned or read downstream)
  to an error prefix, ``errors/{landing_prefix}/processing-failed/portal={portal}/...``,
  as Firehose's error output: one JSON line per record with the raw data in base64.

No loss: a stream's checkpoint (every shard's last sequence number, in one object, so it
moves atomically) is written only after the buffer's objects. An object never changes once
written: its name ends in a digest of the (shard, sequence number) of every record it holds,
so a restart after a crash between object and checkpoint re-reads from the checkpoint and
writes the same key with the same bytes when the same records come back, or a new key when
more records have arrived meanwhile. In that case the landing zone holds those records
twice, like a retried Firehose delivery; downstream deduplicates by ``event_id``. (A
reader such as Spark's file source, which reads each key once, therefore never misses
records added to a key it has read.)

In the ``aws`` profile this module is not used: a real Firehose delivery stream does this.
Run ``python -m ingestion.local_firehose`` (continuous) or ``--once`` (drain and stop).
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import json
import logging
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from newslake import aws, logs
from newslake.settings import Settings, get_settings

log = logging.getLogger(__name__)

CHECKPOINT_PREFIX = "_checkpoints/local-firehose"
ERROR_PREFIX = "errors"
GET_RECORDS_LIMIT = 10_000
MIB = 1024 * 1024


@dataclass
class DeliveryStats:
    records: int = 0
    objects: int = 0
    errors: int = 0


def _checkpoint_key(stream: str) -> str:
    return f"{CHECKPOINT_PREFIX}/{stream}.json"


def read_checkpoint(s3: Any, bucket: str, stream: str) -> dict[str, str]:
    """The last sequence number delivered of each of the stream's shards ({} at first)."""
    try:
        obj = s3.get_object(Bucket=bucket, Key=_checkpoint_key(stream))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
            return {}
        raise
    return {k: str(v) for k, v in json.loads(obj["Body"].read())["shards"].items()}


def write_checkpoint(s3: Any, bucket: str, stream: str, shards: dict[str, str]) -> None:
    s3.put_object(
        Bucket=bucket,
        Key=_checkpoint_key(stream),
        Body=json.dumps({"shards": shards}, sort_keys=True).encode(),
    )


def _hour_path(portal: str, at: datetime) -> str:
    at = at.astimezone(UTC)
    return f"portal={portal}/year={at:%Y}/month={at:%m}/day={at:%d}/hour={at:%H}"


def object_name(stream: str, records: list[tuple[str, str]]) -> str:
    """``{stream}-{first sequence number}-{digest}.json.gz`` for records given as
    (shard id, sequence number): the same records always get the same name, other records
    another one."""
    digest = hashlib.sha1("\n".join(f"{sh} {seq}" for sh, seq in records).encode())
    return f"{stream}-{records[0][1]}-{digest.hexdigest()[:16]}.json.gz"


def object_key(settings: Settings, portal: str, arrived: datetime, name: str) -> str:
    return f"{settings.landing_prefix}/{_hour_path(portal, arrived)}/{name}"


def error_key(settings: Settings, portal: str, arrived: datetime, name: str) -> str:
    return (
        f"{ERROR_PREFIX}/{settings.landing_prefix}/processing-failed/"
        f"{_hour_path(portal, arrived)}/{name}"
    )


def _is_json_object(data: bytes) -> bool:
    try:
        return isinstance(json.loads(data), dict)
    except (ValueError, UnicodeDecodeError):
        return False


def _error_line(record: dict[str, Any], stream: str) -> bytes:
    """Firehose's processing-failed output format, one JSON object per record."""
    return json.dumps(
        {
            "attemptsMade": 1,
            "arrivalTimestamp": int(record["ApproximateArrivalTimestamp"].timestamp() * 1000),
            "errorCode": "Unparseable",
            "errorMessage": "record is not a JSON object",
            "attemptEndingTimestamp": int(time.time() * 1000),
            "rawData": base64.b64encode(record["Data"]).decode(),
            "sourceStream": stream,
            "sequenceNumber": record["SequenceNumber"],
        }
    ).encode()


@dataclass
class _Stream:
    """One portal's delivery: its shards' iterators, positions and the shared buffer."""

    portal: str
    stream: str
    iterators: dict[str, str | None]  # shard id -> iterator; None once a closed shard is read
    delivered: dict[str, str]  # shard id -> last sequence number written (the checkpoint)
    # local platform: the stream's creation (epoch s) in every object's name. The local lake
    # and the streaming job's checkpoint outlive the moto server; a stream made again
    # numbers its records from 1 anew, and a name landed before would be skipped as read.
    created: int = 0
    buffer: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (shard id, record)
    size: int = 0
    since: float | None = None  # clock time of the oldest buffered record


class FirehoseStandIn:
    """One delivery process over every portal's stream.

    Args:
        settings: streams, landing bucket and prefix.
        kinesis, s3: boto3 clients.
        buffer_bytes: write a stream's objects once its buffer holds this much
            (default: the settings' ``local_firehose_buffer_mib``).
        buffer_interval_s: ... or once its oldest record has waited this long
            (default: the settings' ``local_firehose_buffer_interval_s``).
        clock: monotonic seconds (tests pass a fake one).
    """

    def __init__(
        self,
        settings: Settings,
        kinesis: Any,
        s3: Any,
        *,
        buffer_bytes: int | None = None,
        buffer_interval_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings, self.kinesis, self.s3, self.clock = settings, kinesis, s3, clock
        self.buffer_bytes = (
            int(settings.local_firehose_buffer_mib * MIB) if buffer_bytes is None else buffer_bytes
        )
        self.buffer_interval_s = (
            settings.local_firehose_buffer_interval_s
            if buffer_interval_s is None
            else buffer_interval_s
        )
        self.stats = DeliveryStats()
        self._streams: list[_Stream] = []
        self._opened = False
        self.behind = False  # the last poll filled a page: more is waiting, poll again now

    def _open(self) -> None:
        """Find every shard and start after its checkpoint (re-reading after a restart)."""
        bucket = self.settings.landing_bucket
        self._streams = []
        for portal in self.settings.portals:
            stream = self.settings.stream_name(portal)
            delivered = read_checkpoint(self.s3, bucket, stream)
            iterators: dict[str, str | None] = {}
            for shard in self.kinesis.list_shards(StreamName=stream)["Shards"]:
                shard_id = shard["ShardId"]
                kwargs: dict[str, Any] = {"StreamName": stream, "ShardId": shard_id}
                if shard_id in delivered:
                    kwargs |= {
                        "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                        "StartingSequenceNumber": delivered[shard_id],
                    }
                else:
                    kwargs["ShardIteratorType"] = "TRIM_HORIZON"
                iterators[shard_id] = self.kinesis.get_shard_iterator(**kwargs)["ShardIterator"]
            summary = self.kinesis.describe_stream_summary(StreamName=stream)
            created = int(
                summary["StreamDescriptionSummary"]["StreamCreationTimestamp"].timestamp()
            )
            self._streams.append(_Stream(portal, stream, iterators, delivered, created=created))
        self._opened = True

    def poll(self) -> int:
        """Read what each shard has now, write the buffers that are due. Returns records read.

        ``behind`` says afterwards whether a shard had more than one page to give.
        """
        if not self._opened:
            self._open()
        read = 0
        behind = False
        for st in self._streams:
            for shard_id, iterator in st.iterators.items():
                if iterator is None:
                    continue  # a closed shard (after resharding) that has been read to its end
                resp = self.kinesis.get_records(ShardIterator=iterator, Limit=GET_RECORDS_LIMIT)
                st.iterators[shard_id] = resp.get("NextShardIterator")
                records = resp.get("Records", [])
                behind = behind or len(records) >= GET_RECORDS_LIMIT
                if records:
                    if not st.buffer:
                        st.since = self.clock()
                    st.buffer.extend((shard_id, r) for r in records)
                    st.size += sum(len(r["Data"]) for r in records)
                    read += len(records)
            if st.buffer and (
                st.size >= self.buffer_bytes
                or self.clock() - (st.since or 0) >= self.buffer_interval_s
            ):
                self._flush(st)
        self.behind = behind
        return read

    def flush_all(self) -> None:
        for st in self._streams:
            if st.buffer:
                self._flush(st)

    def drain(self) -> DeliveryStats:
        """Read every shard to its end and write everything: catch up, then stop."""
        while self.poll():
            pass
        self.flush_all()
        return self.stats

    def _flush(self, st: _Stream) -> None:
        good: dict[datetime, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        bad: dict[datetime, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        for shard_id, r in st.buffer:
            hour = r["ApproximateArrivalTimestamp"].astimezone(UTC)
            hour = hour.replace(minute=0, second=0, microsecond=0)
            (good if _is_json_object(r["Data"]) else bad)[hour].append((shard_id, r))
        bucket, s = self.settings.landing_bucket, self.settings
        for hour, recs in sorted(good.items()):
            body = b"".join(r["Data"].rstrip(b"\n") + b"\n" for _, r in recs)
            self._put(bucket, object_key(s, st.portal, hour, _name(st, recs)), body)
        for hour, recs in sorted(bad.items()):
            body = b"".join(_error_line(r, st.stream) + b"\n" for _, r in recs)
            self._put(bucket, error_key(s, st.portal, hour, _name(st, recs)), body)
            self.stats.errors += len(recs)
        delivered = dict(st.delivered)
        for shard_id, r in st.buffer:  # in each shard's order, so the last one wins
            delivered[shard_id] = r["SequenceNumber"]
        write_checkpoint(self.s3, bucket, st.stream, delivered)
        st.delivered = delivered
        self.stats.records += len(st.buffer)
        st.buffer, st.size, st.since = [], 0, None

    def _put(self, bucket: str, key: str, body: bytes) -> None:
        self.s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=gzip.compress(body),
            ContentType="application/x-ndjson",
            ContentEncoding="gzip",
        )
        self.stats.objects += 1


def _name(st: _Stream, recs: list[tuple[str, dict[str, Any]]]) -> str:
    records = [(shard_id, r["SequenceNumber"]) for shard_id, r in recs]
    return object_name(f"{st.stream}-{st.created}", records)


def deliver(
    settings: Settings, kinesis: Any, s3: Any, *, buffer_bytes: int | None = None
) -> DeliveryStats:
    """Move everything the streams hold beyond the checkpoints into the landing bucket."""
    stats = FirehoseStandIn(settings, kinesis, s3, buffer_bytes=buffer_bytes).drain()
    log.info("local firehose delivered %d records in %d objects", stats.records, stats.objects)
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ingestion.local_firehose",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--once", action="store_true", help="catch up, write everything, stop")
    parser.add_argument(
        "--interval",
        type=float,
        help="buffer interval, seconds (default: NEWSLAKE_LOCAL_FIREHOSE_BUFFER_INTERVAL_S)",
    )
    parser.add_argument(
        "--buffer-mb",
        type=float,
        help="buffer size, MiB (default: NEWSLAKE_LOCAL_FIREHOSE_BUFFER_MIB)",
    )
    parser.add_argument("--poll", type=float, default=1.0, help="pause between polls, seconds")
    args = parser.parse_args(argv)
    logs.configure()
    settings = get_settings()
    standin = FirehoseStandIn(
        settings,
        aws.client("kinesis", settings),
        aws.client("s3", settings),
        buffer_bytes=None if args.buffer_mb is None else int(args.buffer_mb * MIB),
        buffer_interval_s=args.interval,
    )
    if args.once:
        stats = standin.drain()
        print(json.dumps(stats.__dict__))
        return 0
    log.info(
        "delivering %s to s3://%s every %.0fs or %.1f MiB",
        ", ".join(settings.portals),
        settings.landing_bucket,
        standin.buffer_interval_s,
        standin.buffer_bytes / MIB,
    )
    try:
        while True:
            standin.poll()
            # Caught up: wait, as Firehose does (Kinesis allows 5 reads a second per shard),
            # rather than ask moto for every few records that arrive.
            if not standin.behind:
                time.sleep(args.poll)
    except KeyboardInterrupt:
        standin.flush_all()  # a clean stop loses nothing buffered; a kill re-reads it
    return 0


if __name__ == "__main__":
    sys.exit(main())
