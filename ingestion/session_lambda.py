"""The session-state consumer in AWS: a Lambda on each portal's Kinesis stream (beside
Firehose), through an event source mapping that reports partial batch failures.

Each invocation gets records of one shard, in order. The handler is thin: it turns the
event into a :class:`ingestion.session_state.Batch`, applies it with
:func:`ingestion.session_store.consume` (what the local poller calls too) and answers with
Powertools' ``BatchProcessor``: every record from ``failed_from`` on is reported in
``batchItemFailures``, so Lambda delivers the batch again from the first of them, and the
writes (idempotent) add only what was missing. Records that are no pageview are skipped
and counted (``RecordsSkipped``), never retried. The mapping's parallelization factor
must stay 1: a shard's records must be applied in order for its sequence numbers to mean
"counted up to here".
"""

from __future__ import annotations

import base64
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import (
    KinesisStreamRecord,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from ingestion.handler import LocalContext
from ingestion.session_state import Batch, StreamRecord
from ingestion.session_store import Consumed, SessionStore, consume
from newslake import aws
from newslake.settings import Settings, get_settings
from newslake.store import padded_sequence

LOCAL_FUNCTION_NAME = "newslake-session-state-local"

logger = Logger(service="newslake-session-state")
metrics = Metrics(namespace="newslake", service="session-state")
processor = BatchProcessor(
    event_type=EventType.KinesisDataStreams, raise_on_entire_batch_failure=False
)


class NotAppliedError(Exception):
    """A record at or after the batch's first failed write: Lambda delivers it again."""


def batch_of(event: dict[str, Any], settings: Settings) -> Batch:
    """The records of a Kinesis event as one shard's batch of one portal.

    Raises:
        ValueError: the event names a stream of no configured portal, or several shards.
    """
    records = event.get("Records", [])
    streams = {r["eventSourceARN"].rsplit("/", 1)[-1] for r in records}
    shards = {r["eventID"].split(":", 1)[0] for r in records}
    portals = [p for p in settings.portals if {settings.stream_name(p)} == streams]
    if len(portals) != 1 or len(shards) != 1:
        raise ValueError(f"not one shard of one portal's stream: {streams}, {shards}")
    return Batch(
        portals[0],
        shards.pop(),
        [
            StreamRecord(r["kinesis"]["sequenceNumber"], base64.b64decode(r["kinesis"]["data"]))
            for r in records
        ],
    )


def _record(consumed: Consumed) -> None:
    for name, value in (
        ("ReadsApplied", consumed.reads),
        ("ReadersWritten", consumed.readers_written),
        ("HotViewsCounted", consumed.views_counted),
        ("RecordsSkipped", consumed.skipped),
    ):
        if value:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def _check(record: KinesisStreamRecord, failed_from: str | None) -> str:
    sequence = record.kinesis.sequence_number
    if failed_from is not None and padded_sequence(sequence) >= failed_from:
        raise NotAppliedError(sequence)
    return sequence


@logger.inject_lambda_context(clear_state=True)
def handle(
    event: dict[str, Any], context: LambdaContext, writer: SessionStore
) -> PartialItemFailureResponse:
    """Apply one Kinesis event; the answer lists the records to deliver again."""
    if not event.get("Records"):
        return {"batchItemFailures": []}
    batch = batch_of(event, writer.settings)
    consumed = consume(batch, writer)
    _record(consumed)
    # Flushed here rather than by @metrics.log_metrics, which warns on a batch that counts
    # nothing (engagement events only).
    if metrics.metric_set:
        metrics.flush_metrics()
    if consumed.failed_from is not None:
        logger.warning(
            "writes failed; the batch is delivered again from the first failed record",
            extra={"shard": batch.shard_id, "from": consumed.failed_from},
        )
    return process_partial_response(
        event=event,
        record_handler=lambda record: _check(record, consumed.failed_from),
        processor=processor,
        context=context,
    )


@lru_cache(maxsize=1)
def _default_writer() -> SessionStore:
    settings = get_settings()
    return SessionStore(aws.client("dynamodb", settings), settings)


def lambda_handler(
    event: dict[str, Any], context: LambdaContext | None = None
) -> PartialItemFailureResponse:
    """Kinesis event source entry point (the mapping reports batch item failures)."""
    return handle(event, context or LocalContext(LOCAL_FUNCTION_NAME), _default_writer())
