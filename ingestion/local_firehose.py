"""Local stand-in for Kinesis Data Firehose (moto's Firehose does not read Kinesis).

What it does, like a Firehose delivery stream per portal with its Kinesis stream as source:

* reads every shard of every portal's stream, from a checkpointed sequence number;
* buffers per shard and writes an object when the buffer reaches ``buffer_bytes`` or has
  waited ``buffer_interval_s`` (Firehose's size and interval buffering hints);
* writes GZIP newline-delimited JSON under a custom prefix partitioned by portal and the
  records' arrival hour (UTC):
  ``{landing_prefix}/portal={portal}/year=YYYY/month=MM/day=DD/hour=HH/``;
* sends records that are not a JSON object (so cannot be partitioned or read downstream)
  to an error prefix, ``errors/{landing_prefix}/processing-failed/portal={portal}/...``,
  as Firehose's error output: one JSON line per record with the raw data in base64.

No loss, no copies: the checkpoint moves only after the object is written, and an
object's key is its shard and first sequence number, so a restart after a crash re-reads
from the checkpoint and rewrites the same key rather than adding a copy.

In the ``aws`` profile this module is not used: a real Firehose delivery stream does this.
Run ``python -m ingestion.local_firehose`` (continuous) or ``--once`` (drain and stop).
"""

from __future__ import annotations

import argparse
import base64
import gzip
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

from newslake import aws
from newslake.settings import Settings

log = logging.getLogger(__name__)

CHECKPOINT_PREFIX = "_checkpoints/local-firehose"
ERROR_PREFIX = "errors"
GET_RECORDS_LIMIT = 10_000


@dataclass
class DeliveryStats:
    records: int = 0
    objects: int = 0
    errors: int = 0


def _checkpoint_key(stream: str, shard_id: str) -> str:
    return f"{CHECKPOINT_PREFIX}/{stream}/{shard_id}.json"


def read_checkpoint(s3: Any, bucket: str, stream: str, shard_id: str) -> str | None:
    try:
        obj = s3.get_object(Bucket=bucket, Key=_checkpoint_key(stream, shard_id))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
            return None
        raise
    return str(json.loads(obj["Body"].read())["sequence_number"])


def write_checkpoint(s3: Any, bucket: str, stream: str, shard_id: str, sequence: str) -> None:
    s3.put_object(
        Bucket=bucket,
        Key=_checkpoint_key(stream, shard_id),
        Body=json.dumps({"sequence_number": sequence}).encode(),
    )


def _hour_path(portal: str, at: datetime) -> str:
    at = at.astimezone(UTC)
    return f"portal={portal}/year={at:%Y}/month={at:%m}/day={at:%d}/hour={at:%H}"


def object_key(
    settings: Settings, portal: str, arrived: datetime, stream: str, shard_id: str, first_seq: str
) -> str:
    return (
        f"{settings.landing_prefix}/{_hour_path(portal, arrived)}/"
        f"{stream}-{shard_id}-{first_seq}.json.gz"
    )


def error_key(
    settings: Settings, portal: str, arrived: datetime, stream: str, shard_id: str, first_seq: str
) -> str:
    return (
        f"{ERROR_PREFIX}/{settings.landing_prefix}/processing-failed/"
        f"{_hour_path(portal, arrived)}/{stream}-{shard_id}-{first_seq}.json.gz"
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
class _Shard:
    portal: str
    stream: str
    shard_id: str
    iterator: str | None
    buffer: list[dict[str, Any]] = field(default_factory=list)
    size: int = 0
    since: float | None = None  # clock time of the oldest buffered record


class FirehoseStandIn:
    """One delivery process over every portal's stream.

    Args:
        settings: streams, landing bucket and prefix.
        kinesis, s3: boto3 clients.
        buffer_bytes: write an object once a shard's buffer holds this much.
        buffer_interval_s: ... or once its oldest record has waited this long.
        clock: monotonic seconds (tests pass a fake one).
    """

    def __init__(
        self,
        settings: Settings,
        kinesis: Any,
        s3: Any,
        *,
        buffer_bytes: int = 5 * 1024 * 1024,
        buffer_interval_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings, self.kinesis, self.s3 = settings, kinesis, s3
        self.buffer_bytes, self.buffer_interval_s, self.clock = (
            buffer_bytes,
            buffer_interval_s,
            clock,
        )
        self.stats = DeliveryStats()
        self._shards: list[_Shard] = []
        self._opened = False
        self.behind = False  # the last poll filled a page: more is waiting, poll again now

    def _open(self) -> None:
        """Find every shard and start after its checkpoint (re-reading after a restart)."""
        bucket = self.settings.landing_bucket
        self._shards = []
        for portal in self.settings.portals:
            stream = self.settings.stream_name(portal)
            for shard in self.kinesis.list_shards(StreamName=stream)["Shards"]:
                shard_id = shard["ShardId"]
                after = read_checkpoint(self.s3, bucket, stream, shard_id)
                kwargs: dict[str, Any] = {"StreamName": stream, "ShardId": shard_id}
                if after is None:
                    kwargs["ShardIteratorType"] = "TRIM_HORIZON"
                else:
                    kwargs |= {
                        "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                        "StartingSequenceNumber": after,
                    }
                iterator = self.kinesis.get_shard_iterator(**kwargs)["ShardIterator"]
                self._shards.append(_Shard(portal, stream, shard_id, iterator))
        self._opened = True

    def poll(self) -> int:
        """Read what each shard has now, write the buffers that are due. Returns records read.

        ``behind`` says afterwards whether a shard had more than one page to give.
        """
        if not self._opened:
            self._open()
        read = 0
        behind = False
        for shard in self._shards:
            if shard.iterator is None:
                continue  # a closed shard (after resharding) that has been read to its end
            resp = self.kinesis.get_records(ShardIterator=shard.iterator, Limit=GET_RECORDS_LIMIT)
            shard.iterator = resp.get("NextShardIterator")
            records = resp.get("Records", [])
            behind = behind or len(records) >= GET_RECORDS_LIMIT
            if records:
                if not shard.buffer:
                    shard.since = self.clock()
                shard.buffer.extend(records)
                shard.size += sum(len(r["Data"]) for r in records)
                read += len(records)
            if shard.buffer and (
                shard.size >= self.buffer_bytes
                or self.clock() - (shard.since or 0) >= self.buffer_interval_s
            ):
                self._flush(shard)
        self.behind = behind
        return read

    def flush_all(self) -> None:
        for shard in self._shards:
            if shard.buffer:
                self._flush(shard)

    def drain(self) -> DeliveryStats:
        """Read every shard to its end and write everything: catch up, then stop."""
        while self.poll():
            pass
        self.flush_all()
        return self.stats

    def _flush(self, shard: _Shard) -> None:
        good: dict[datetime, list[dict[str, Any]]] = defaultdict(list)
        bad: dict[datetime, list[dict[str, Any]]] = defaultdict(list)
        for r in shard.buffer:
            hour = r["ApproximateArrivalTimestamp"].astimezone(UTC)
            hour = hour.replace(minute=0, second=0, microsecond=0)
            (good if _is_json_object(r["Data"]) else bad)[hour].append(r)
        bucket, s = self.settings.landing_bucket, self.settings
        for hour, recs in sorted(good.items()):
            body = b"".join(r["Data"].rstrip(b"\n") + b"\n" for r in recs)
            key = object_key(
                s, shard.portal, hour, shard.stream, shard.shard_id, recs[0]["SequenceNumber"]
            )
            self._put(bucket, key, body)
        for hour, recs in sorted(bad.items()):
            body = b"".join(_error_line(r, shard.stream) + b"\n" for r in recs)
            key = error_key(
                s, shard.portal, hour, shard.stream, shard.shard_id, recs[0]["SequenceNumber"]
            )
            self._put(bucket, key, body)
            self.stats.errors += len(recs)
        write_checkpoint(
            self.s3, bucket, shard.stream, shard.shard_id, shard.buffer[-1]["SequenceNumber"]
        )
        self.stats.records += len(shard.buffer)
        shard.buffer, shard.size, shard.since = [], 0, None

    def _put(self, bucket: str, key: str, body: bytes) -> None:
        self.s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=gzip.compress(body),
            ContentType="application/x-ndjson",
            ContentEncoding="gzip",
        )
        self.stats.objects += 1


def deliver(
    settings: Settings, kinesis: Any, s3: Any, *, buffer_bytes: int = 5 * 1024 * 1024
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
    parser.add_argument("--interval", type=float, default=60.0, help="buffer interval, seconds")
    parser.add_argument("--buffer-mb", type=float, default=5.0, help="buffer size, MiB")
    parser.add_argument("--poll", type=float, default=1.0, help="pause between polls, seconds")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = Settings()
    standin = FirehoseStandIn(
        settings,
        aws.client("kinesis", settings),
        aws.client("s3", settings),
        buffer_bytes=int(args.buffer_mb * 1024 * 1024),
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
        args.interval,
        args.buffer_mb,
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
