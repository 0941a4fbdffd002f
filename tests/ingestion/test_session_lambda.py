"""The session-state Lambda: a Kinesis event in, the store updated, partial batch failures
reported from the first record whose writes failed (moto server of the tests' own)."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import pytest

from ingestion import session_lambda
from ingestion.handler import LocalContext
from ingestion.session_store import SessionStore
from newslake import aws, store
from newslake.local import server
from newslake.settings import Settings
from tests.utils.platform import start_platform
from tests.utils.session_records import SHARD, Flaky, data, view

pytestmark = pytest.mark.slow

REGION_ARN = "arn:aws:kinesis:us-east-1:123456789012"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    settings = start_platform(tmp_path_factory.mktemp("session-lambda"))
    yield settings
    server.stop(settings)


def kinesis_event(stream: str, *payloads: bytes, shard: str = SHARD) -> dict[str, Any]:
    """What the event source mapping hands the function: records of one shard."""
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": "u",
                    "sequenceNumber": str(4950 + i),
                    "data": base64.b64encode(p).decode(),
                    "approximateArrivalTimestamp": 1_800_000_000.5,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard}:{4950 + i}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/session-state",
                "awsRegion": "us-east-1",
                "eventSourceARN": f"{REGION_ARN}:stream/{stream}",
            }
            for i, p in enumerate(payloads)
        ]
    }


def _reads(settings: Settings, user: str) -> list[str]:
    key = store.record_key(store.recent_key("g1", user), store.LIVE)
    got = aws.client("dynamodb", settings).get_item(
        TableName=settings.recommendations_table, Key=key
    )
    return [i.article_id for i in store.items_of(got["Item"])] if "Item" in got else []


def _handle(settings: Settings, event: dict[str, Any], ddb: Any = None) -> Any:
    writer = SessionStore(ddb or aws.client("dynamodb", settings), settings)
    return session_lambda.handle(event, LocalContext("session-state-test"), writer)


def test_an_event_updates_the_readers_and_reports_no_failure(platform):
    at = time.time() - 5
    event = kinesis_event(
        platform.stream_name("g1"),
        data(view("l1", "lambda-u1", "a1", at)),
        b"garbage",  # skipped and counted, never retried
        data(view("l2", "lambda-u1", "a2", at + 1)),
    )

    response = _handle(platform, event)

    assert response == {"batchItemFailures": []}
    assert _reads(platform, "lambda-u1") == ["a2", "a1"]


class SecondReaderThrottled:
    """A client whose second reader's write is throttled (after botocore's own retries)."""

    def __init__(self, client: Any) -> None:
        self.client, self.writes = client, 0

    def __getattr__(self, operation: str) -> Any:
        if operation == "put_item":
            self.writes += 1
            if self.writes == 2:
                return Flaky(self.client, {operation: 1}).put_item
        return getattr(self.client, operation)


def test_records_from_the_first_failed_write_on_are_delivered_again(platform):
    at = time.time() - 5
    event = kinesis_event(
        platform.stream_name("g1"),
        data(view("l3", "lambda-u2", "a1", at)),
        data(view("l4", "lambda-u3", "a1", at)),
        data(view("l5", "lambda-u3", "a2", at)),
    )
    # u2's write and the hot counts go through; u3's write is throttled
    ddb = SecondReaderThrottled(aws.client("dynamodb", platform))

    response = _handle(platform, event, ddb)

    assert response == {
        "batchItemFailures": [{"itemIdentifier": "4951"}, {"itemIdentifier": "4952"}]
    }
    assert _reads(platform, "lambda-u2") == ["a1"]
    assert _reads(platform, "lambda-u3") == []


def test_an_empty_event_is_answered_with_no_failure(platform):
    assert _handle(platform, {"Records": []}) == {"batchItemFailures": []}


def test_a_batch_names_its_portal_and_shard(platform):
    event = kinesis_event(platform.stream_name("ge"), b"{}", shard="shardId-000000000001")

    batch = session_lambda.batch_of(event, platform)

    assert (batch.portal, batch.shard_id, len(batch.records)) == ("ge", "shardId-000000000001", 1)
    assert batch.records[0].data == b"{}"


def test_a_stream_of_no_portal_is_refused(platform):
    with pytest.raises(ValueError, match="not one shard of one portal's stream"):
        session_lambda.batch_of(kinesis_event("someone-elses-stream", b"{}"), platform)
