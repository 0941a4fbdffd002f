"""Route accepted events to their portal's Kinesis stream, never losing one.

Records Kinesis refuses (throttled, stream missing, timeout) go to the SQS retry queue.
Only when both refuse does the caller learn of it, so the API can answer 503 and the
tracker retries: no 2xx for an event that is not durably in Kinesis or SQS.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from newslake.settings import Settings

log = logging.getLogger(__name__)

KINESIS_BATCH = 500
SQS_BATCH = 10


@dataclass(frozen=True)
class Outbound:
    """One record on its way to Kinesis: the stream, the partition key and the bytes."""

    stream: str
    partition_key: str
    data: bytes


@dataclass(frozen=True)
class RouteResult:
    in_kinesis: int
    in_retry_queue: int
    failed: tuple[Outbound, ...]


def outbound_records(events: Sequence[dict[str, Any]], settings: Settings) -> list[Outbound]:
    """Events (already validated, with server fields) as Kinesis records keyed by user id."""
    return [
        Outbound(
            stream=settings.stream_name(e["portal"]),
            partition_key=e["user_id"],
            data=json.dumps(e, separators=(",", ":")).encode(),
        )
        for e in events
    ]


def put_to_kinesis(kinesis: Any, records: Sequence[Outbound]) -> list[Outbound]:
    """PutRecords per stream in batches; returns the records Kinesis did not take."""
    by_stream: dict[str, list[Outbound]] = defaultdict(list)
    for r in records:
        by_stream[r.stream].append(r)
    refused: list[Outbound] = []
    for stream, recs in by_stream.items():
        for i in range(0, len(recs), KINESIS_BATCH):
            batch = recs[i : i + KINESIS_BATCH]
            try:
                resp = kinesis.put_records(
                    StreamName=stream,
                    Records=[{"Data": r.data, "PartitionKey": r.partition_key} for r in batch],
                )
            except (ClientError, BotoCoreError) as exc:
                log.warning("kinesis put_records to %s failed: %s", stream, exc)
                refused.extend(batch)
                continue
            if resp.get("FailedRecordCount", 0):
                refused.extend(
                    r for r, res in zip(batch, resp["Records"], strict=True) if "ErrorCode" in res
                )
    return refused


def send_to_retry_queue(sqs: Any, queue_url: str, records: Sequence[Outbound]) -> list[Outbound]:
    """Park records in the retry queue; returns those SQS did not take either."""
    failed: list[Outbound] = []
    for i in range(0, len(records), SQS_BATCH):
        batch = records[i : i + SQS_BATCH]
        entries = [
            {
                "Id": str(n),
                "MessageBody": json.dumps(
                    {"stream": r.stream, "partition_key": r.partition_key, "data": r.data.decode()}
                ),
            }
            for n, r in enumerate(batch)
        ]
        try:
            resp = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        except (ClientError, BotoCoreError) as exc:
            log.error("sqs send_message_batch failed: %s", exc)
            failed.extend(batch)
            continue
        failed.extend(batch[int(f["Id"])] for f in resp.get("Failed", []))
    return failed


def route(
    records: Sequence[Outbound], kinesis: Any, sqs: Any, retry_queue_url: str | None
) -> RouteResult:
    """Kinesis first, the retry queue for what Kinesis refuses."""
    refused = put_to_kinesis(kinesis, records)
    if not refused:
        return RouteResult(len(records), 0, ())
    if retry_queue_url is None:
        return RouteResult(len(records) - len(refused), 0, tuple(refused))
    failed = send_to_retry_queue(sqs, retry_queue_url, refused)
    return RouteResult(len(records) - len(refused), len(refused) - len(failed), tuple(failed))
