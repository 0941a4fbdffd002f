"""Put what Kinesis refused back into Kinesis: the SQS-triggered retry Lambda.

The pageview API parks the records Kinesis refuses in the retry queue, one message per record
(``{"stream", "partition_key", "data"}``, see :func:`ingestion.routing.send_to_retry_queue`).
This handler puts each back with ``PutRecord``. Powertools' ``BatchProcessor`` reports the
messages whose put failed in ``batchItemFailures``: SQS makes them visible again after the
queue's visibility timeout, and after ``maxReceiveCount`` receives (5) moves them to the
dead-letter queue. Nothing is deleted before Kinesis has it, so a crash repeats a put (the
lake deduplicates by ``event_id``) and never loses one.

Local mode (no Lambda trigger on the moto server)::

    python -m ingestion.retry_worker            # long-poll the retry queue until Ctrl-C
    python -m ingestion.retry_worker --once     # drain what is visible now, then exit
    python -m ingestion.retry_worker redrive    # move the DLQ's messages back to the queue

The loop builds the same SQS event Lambda would, calls the same :func:`handle` and deletes
only the messages that succeeded. ``redrive`` receives, sends, then deletes, in that order,
so a crash duplicates rather than loses (moto has no ``StartMessageMoveTask``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from ingestion.handler import LocalContext
from newslake import aws
from newslake.settings import Settings, get_settings

SQS_MAX_MESSAGES = 10
LOCAL_FUNCTION_NAME = "newslake-retry-worker-local"

logger = Logger(service="newslake-retry-worker")
metrics = Metrics(namespace="newslake", service="retry-worker")
# An entire failed batch is reported item by item (not raised), so the Lambda and the local
# loop see one answer shape; SQS retries exactly the failed messages either way.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def put_back(kinesis: Any, body: str) -> str:
    """Put one parked record into its stream; returns the sequence number.

    Raises:
        ClientError, BotoCoreError: Kinesis refused; the message must stay in the queue.
        ValueError, KeyError: the message is not a parked record; it will reach the DLQ.
    """
    parked = json.loads(body)
    resp = kinesis.put_record(
        StreamName=parked["stream"],
        PartitionKey=parked["partition_key"],
        Data=parked["data"].encode(),
    )
    return str(resp["SequenceNumber"])


def _record_handler(record: SQSRecord, kinesis: Any) -> str:
    try:
        return put_back(kinesis, record.body)
    except Exception as exc:
        logger.warning(
            "put back failed; the message stays in the queue",
            extra={
                "message_id": record.message_id,
                "receive_count": record.attributes.approximate_receive_count,
                "error": repr(exc),
            },
        )
        raise


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handle(
    event: dict[str, Any], context: LambdaContext, kinesis: Any
) -> PartialItemFailureResponse:
    """Process one SQS event; the answer lists the messages to keep (``batchItemFailures``)."""
    response = process_partial_response(
        event=event,
        record_handler=partial(_record_handler, kinesis=kinesis),
        processor=processor,
        context=context,
    )
    failed = len(response.get("batchItemFailures", []))
    total = len(event.get("Records", []))
    if total - failed:
        metrics.add_metric(name="RecordsPutBack", unit=MetricUnit.Count, value=total - failed)
    if failed:
        metrics.add_metric(name="RecordsRetryFailed", unit=MetricUnit.Count, value=failed)
    return response


@lru_cache(maxsize=1)
def _default_kinesis() -> Any:
    return aws.client("kinesis", get_settings())


def lambda_handler(
    event: dict[str, Any], context: LambdaContext | None = None
) -> PartialItemFailureResponse:
    """SQS trigger entry point (the event source mapping reports batch item failures)."""
    return handle(event, context or LocalContext(LOCAL_FUNCTION_NAME), _default_kinesis())


# ---- local mode ----------------------------------------------------------------------


def sqs_event(messages: Sequence[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda's SQS trigger would build from ``ReceiveMessage`` output."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {
                    name: {k[0].lower() + k[1:]: v for k, v in attr.items()}
                    for name, attr in m.get("MessageAttributes", {}).items()
                },
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


@dataclass
class PollStats:
    received: int = 0
    put_back: int = 0
    failed: int = 0


def poll(
    sqs: Any,
    queue_url: str,
    kinesis: Any,
    settings: Settings,
    *,
    wait_s: int = 5,
    once: bool = False,
) -> PollStats:
    """Long-poll the retry queue and feed each batch to :func:`handle`, like the trigger.

    Args:
        sqs: SQS client.
        queue_url: the retry queue.
        kinesis: Kinesis client the records are put back with.
        settings: for the region in the event.
        wait_s: long-poll wait per receive (1 to 20 s).
        once: stop at the first receive that finds nothing (drain, then exit).
    """
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    stats = PollStats()
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=SQS_MAX_MESSAGES,
            WaitTimeSeconds=wait_s,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            if once:
                return stats
            continue
        event = sqs_event(messages, queue_arn, settings.region)
        response = handle(event, LocalContext(LOCAL_FUNCTION_NAME), kinesis)
        failed_ids = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed_ids]
        if done:
            _delete(sqs, queue_url, done)
        stats.received += len(messages)
        stats.put_back += len(done)
        stats.failed += len(messages) - len(done)


def _delete(sqs: Any, queue_url: str, messages: Sequence[dict[str, Any]]) -> None:
    resp = sqs.delete_message_batch(
        QueueUrl=queue_url,
        Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
        ],
    )
    for failure in resp.get("Failed", []):
        # The message comes back and is put again: a duplicate the lake drops, not a loss.
        logger.warning("delete failed; the record will be put again", extra={"failure": failure})


def redrive(sqs: Any, dlq_url: str, queue_url: str, *, wait_s: int = 1) -> int:
    """Move every message of the dead-letter queue back to the retry queue.

    Each batch is received, sent, and only then deleted from the DLQ. Returns the number moved.
    """
    moved = 0
    while True:
        messages = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=SQS_MAX_MESSAGES,
            WaitTimeSeconds=wait_s,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return moved
        entries = []
        for i, m in enumerate(messages):
            entry: dict[str, Any] = {"Id": str(i), "MessageBody": m["Body"]}
            if m.get("MessageAttributes"):
                entry["MessageAttributes"] = m["MessageAttributes"]
            entries.append(entry)
        resp = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        for failure in resp.get("Failed", []):
            logger.error("redrive send failed; it stays in the DLQ", extra={"failure": failure})
        sent = [messages[int(s["Id"])] for s in resp.get("Successful", [])]
        if sent:
            _delete(sqs, dlq_url, sent)
        moved += len(sent)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ingestion.retry_worker",
        description="Put records parked in the SQS retry queue back into Kinesis (local mode).",
    )
    parser.add_argument(
        "command",
        nargs="?",
        choices=("run", "redrive"),
        default="run",
        help="run: poll the retry queue (default); redrive: move the DLQ back to the queue",
    )
    parser.add_argument("--once", action="store_true", help="drain what is visible, then exit")
    parser.add_argument(
        "--wait", type=int, choices=range(1, 21), metavar="1-20", help="long-poll seconds"
    )
    args = parser.parse_args(argv)

    settings = get_settings()
    sqs = aws.client("sqs", settings)
    try:
        queue_url = sqs.get_queue_url(QueueName=settings.retry_queue_name)["QueueUrl"]
        if args.command == "redrive":
            dlq_url = sqs.get_queue_url(QueueName=settings.dead_letter_queue_name)["QueueUrl"]
            moved = redrive(sqs, dlq_url, queue_url)
            print(f"moved {moved} messages from {settings.dead_letter_queue_name} back")
            return 0
        wait_s = args.wait or (1 if args.once else 5)
        stats = poll(
            sqs, queue_url, aws.client("kinesis", settings), settings, wait_s=wait_s, once=args.once
        )
    except KeyboardInterrupt:
        return 130
    except (ClientError, BotoCoreError) as exc:
        print(f"retry worker: {exc} (is the platform up? run `make up`)", file=sys.stderr)
        return 2
    print(
        f"received {stats.received}, put back {stats.put_back}, "
        f"left for retry {stats.failed} (visible again after the visibility timeout)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
