"""The collector path on the local platform: handler -> Kinesis -> local Firehose -> S3."""

from __future__ import annotations

import gzip
import json

import pytest

from ingestion import handler, local_firehose
from newslake import aws
from newslake.settings import Settings
from tests.utils.platform import start_platform

pytestmark = pytest.mark.slow


@pytest.fixture()
def platform(tmp_path):
    """A platform of this test's own, so landing counts are exact."""
    from newslake.local import server

    settings = start_platform(tmp_path)
    yield settings
    server.stop(settings)


def _clients(settings: Settings) -> handler.Clients:
    sqs = aws.client("sqs", settings)
    url = sqs.get_queue_url(QueueName=settings.retry_queue_name)["QueueUrl"]
    return handler.Clients(aws.client("kinesis", settings), sqs, url)


def _post(settings, events):
    body = json.dumps({"events": events})
    return handler.accept(body, settings, _clients(settings), 1_767_225_600_000)


def _event(i: int, portal: str = "g1"):
    return {
        "event_id": f"e{i}",
        "event_type": "view",
        "portal": portal,
        "user_id": f"u{i % 3}",
        "session_id": "s",
        "pageview_id": f"p{i}",
        "url": f"https://{portal}.globo.com/{i}",
        "client_ts": 1_767_225_599_000,
    }


def _landed(settings):
    s3 = aws.client("s3", settings)
    keys = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket=settings.landing_bucket, Prefix="pageviews/").get(
            "Contents", []
        )
    ]
    lines = []
    for key in keys:
        body = s3.get_object(Bucket=settings.landing_bucket, Key=key)["Body"].read()
        lines += [json.loads(x) for x in gzip.decompress(body).splitlines()]
    return keys, lines


def test_accepted_events_land_once_and_a_rerun_adds_nothing(platform):
    assert _post(platform, [_event(i) for i in range(5)] + [_event(9, "ge")]) == (
        200,
        {"accepted": 6},
    )
    kinesis, s3 = aws.client("kinesis", platform), aws.client("s3", platform)
    stats = local_firehose.deliver(platform, kinesis, s3)
    assert stats.records == 6
    keys, lines = _landed(platform)
    assert sorted(e["event_id"] for e in lines) == ["e0", "e1", "e2", "e3", "e4", "e9"]
    assert all(
        k.startswith(("pageviews/portal=g1/year=", "pageviews/portal=ge/year=")) for k in keys
    )
    assert all(k.endswith(".json.gz") and "/hour=" in k for k in keys)

    assert local_firehose.deliver(platform, kinesis, s3).records == 0  # checkpointed

    _post(platform, [_event(7)])
    assert local_firehose.deliver(platform, kinesis, s3).records == 1
    _, lines = _landed(platform)
    assert sorted(e["event_id"] for e in lines) == ["e0", "e1", "e2", "e3", "e4", "e7", "e9"]


def test_landed_records_carry_the_server_time(platform):
    _post(platform, [_event(1)])
    local_firehose.deliver(platform, aws.client("kinesis", platform), aws.client("s3", platform))
    _, lines = _landed(platform)
    assert lines[0]["server_ts"] == 1_767_225_600_000
