"""Local stand-in for Kinesis Data Firehose (moto's Firehose does not read Kinesis).

It reads every portal's stream, all shards, from a checkpointed sequence number, and writes
GZIP newline-delimited JSON objects to the landing bucket under a Firehose-like custom prefix
``{landing_prefix}/portal={portal}/year=YYYY/month=MM/day=DD/hour=HH/``, partitioned by the
records' arrival hour (UTC). The checkpoint moves only after the object is written, and an
object's key is made of its shard and first sequence number, so a restart after a crash
rewrites the same key instead of adding a copy. In the ``aws`` profile this module is not
used: a real Firehose delivery stream per portal does this job.
"""

from __future__ import annotations

import gzip
import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from newslake.settings import Settings

log = logging.getLogger(__name__)

CHECKPOINT_PREFIX = "_checkpoints/local-firehose"
GET_RECORDS_LIMIT = 10_000


@dataclass
class DeliveryStats:
    records: int = 0
    objects: int = 0


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


def object_key(
    settings: Settings, portal: str, arrived: datetime, stream: str, shard_id: str, first_seq: str
) -> str:
    at = arrived.astimezone(UTC)
    return (
        f"{settings.landing_prefix}/portal={portal}/year={at:%Y}/month={at:%m}/day={at:%d}/"
        f"hour={at:%H}/{stream}-{shard_id}-{first_seq}.json.gz"
    )


def _shard_iterator(kinesis: Any, stream: str, shard_id: str, after: str | None) -> str:
    if after is None:
        resp = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        )
    else:
        resp = kinesis.get_shard_iterator(
            StreamName=stream,
            ShardId=shard_id,
            ShardIteratorType="AFTER_SEQUENCE_NUMBER",
            StartingSequenceNumber=after,
        )
    return str(resp["ShardIterator"])


def _flush(
    settings: Settings,
    s3: Any,
    portal: str,
    stream: str,
    shard_id: str,
    records: list[dict[str, Any]],
) -> int:
    """Write buffered records, one object per arrival hour. Returns the objects written."""
    by_hour: dict[datetime, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        arrived = r["ApproximateArrivalTimestamp"].astimezone(UTC)
        by_hour[arrived.replace(minute=0, second=0, microsecond=0)].append(r)
    for hour, recs in sorted(by_hour.items()):
        body = b"".join(r["Data"].rstrip(b"\n") + b"\n" for r in recs)
        key = object_key(settings, portal, hour, stream, shard_id, recs[0]["SequenceNumber"])
        s3.put_object(
            Bucket=settings.landing_bucket,
            Key=key,
            Body=gzip.compress(body),
            ContentType="application/x-ndjson",
            ContentEncoding="gzip",
        )
    return len(by_hour)


def deliver(
    settings: Settings, kinesis: Any, s3: Any, *, buffer_bytes: int = 5 * 1024 * 1024
) -> DeliveryStats:
    """Move everything the streams hold beyond the checkpoints into the landing bucket.

    Returns when every shard is caught up. ``buffer_bytes`` plays Firehose's size hint:
    an object is written whenever that much is buffered, and at the end.
    """
    stats = DeliveryStats()
    for portal in settings.portals:
        stream = settings.stream_name(portal)
        for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
            shard_id = shard["ShardId"]
            after = read_checkpoint(s3, settings.landing_bucket, stream, shard_id)
            iterator: str | None = _shard_iterator(kinesis, stream, shard_id, after)
            buffer: list[dict[str, Any]] = []
            size = 0
            while iterator:
                resp = kinesis.get_records(ShardIterator=iterator, Limit=GET_RECORDS_LIMIT)
                records = resp.get("Records", [])
                buffer.extend(records)
                size += sum(len(r["Data"]) for r in records)
                if buffer and (size >= buffer_bytes or not records):
                    stats.objects += _flush(settings, s3, portal, stream, shard_id, buffer)
                    stats.records += len(buffer)
                    write_checkpoint(
                        s3, settings.landing_bucket, stream, shard_id, buffer[-1]["SequenceNumber"]
                    )
                    buffer, size = [], 0
                if not records and resp.get("MillisBehindLatest", 0) == 0:
                    break
                iterator = resp.get("NextShardIterator")
    log.info("local firehose delivered %d records in %d objects", stats.records, stats.objects)
    return stats
