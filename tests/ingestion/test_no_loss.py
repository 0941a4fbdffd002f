"""No accepted event is lost when Kinesis fails: API -> retry queue -> retry worker -> Kinesis.

Each test runs a platform of its own. Kinesis faults are injected with a stub in front of the
real (moto) Kinesis client; SQS, Kinesis, the local Firehose and S3 are the real local ones.
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from ingestion import handler, local_firehose, retry_worker
from newslake import aws
from newslake.local import provision, server
from newslake.local.ports import free_port
from newslake.settings import Settings
from tests.utils.paths import REPO_ROOT
from tests.utils.platform import start_platform

pytestmark = pytest.mark.slow

PORTALS = ("g1", "ge", "gshow")
PHASES = ("before", "down", "restarting", "after")


@pytest.fixture()
def platform(tmp_path):
    settings = start_platform(tmp_path)
    yield settings
    server.stop(settings)


class FlakyKinesis:
    """The real Kinesis behind a fault injector: its first ``bad_calls`` PutRecords calls fail
    in turn by throttling the whole call, by being unreachable, and by refusing every other
    record (the rest is stored for real). Later calls pass straight through."""

    def __init__(self, real, bad_calls: int):
        self.real, self.bad_calls, self.calls, self.refused = real, bad_calls, 0, 0

    def put_records(self, StreamName, Records):
        self.calls += 1
        if self.calls > self.bad_calls:
            return self.real.put_records(StreamName=StreamName, Records=Records)
        mode = self.calls % 3
        if mode == 0:
            self.refused += len(Records)
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException"}}, "PutRecords"
            )
        if mode == 1:
            self.refused += len(Records)
            raise EndpointConnectionError(endpoint_url="https://kinesis.invalid")
        kept = self.real.put_records(StreamName=StreamName, Records=Records[::2])["Records"]
        results = []
        for i in range(len(Records)):
            if i % 2:
                results.append({"ErrorCode": "ProvisionedThroughputExceededException"})
            else:
                results.append(kept[i // 2])
        refused = sum("ErrorCode" in r for r in results)
        self.refused += refused
        return {"FailedRecordCount": refused, "Records": results}


class DownKinesis:
    """Kinesis unreachable: every PutRecords call fails."""

    def put_records(self, **_):
        raise EndpointConnectionError(endpoint_url="https://kinesis.invalid")


class BrokenKinesis:
    """PutRecord always throttled (for the retry worker)."""

    def __init__(self):
        self.attempts = 0

    def put_record(self, **_):
        self.attempts += 1
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException"}}, "PutRecord"
        )


def _event(event_id: str, n: int, now_ms: int) -> dict:
    portal = PORTALS[n % len(PORTALS)]
    return {
        "event_id": event_id,
        "event_type": "view",
        "portal": portal,
        "user_id": f"u{n % 7}",
        "session_id": f"s{n % 5}",
        "pageview_id": f"p-{event_id}",
        "url": f"https://{portal}.globo.com/noticia/{n}.html",
        "client_ts": now_ms - 60_000,
    }


def _request(events: list[dict]) -> dict:
    return {
        "httpMethod": "POST",
        "path": "/pageview",
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"events": events}),
        "isBase64Encoded": False,
        "requestContext": {"requestId": f"req-{events[0]['event_id']}"},
    }


def _sqs_and_urls(settings: Settings):
    sqs = aws.client("sqs", settings)
    queue = sqs.get_queue_url(QueueName=settings.retry_queue_name)["QueueUrl"]
    dlq = sqs.get_queue_url(QueueName=settings.dead_letter_queue_name)["QueueUrl"]
    return sqs, queue, dlq


def _in_queue(sqs, url: str) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(
        attrs["ApproximateNumberOfMessagesNotVisible"]
    )


def _landed_ids(settings: Settings) -> list[str]:
    """Deliver what the streams hold, then every event id in the landing zone."""
    s3 = aws.client("s3", settings)
    local_firehose.deliver(settings, aws.client("kinesis", settings), s3)
    ids = []
    listing = s3.list_objects_v2(Bucket=settings.landing_bucket, Prefix=settings.landing_prefix)
    for obj in listing.get("Contents", []):
        body = s3.get_object(Bucket=settings.landing_bucket, Key=obj["Key"])["Body"].read()
        ids += [json.loads(line)["event_id"] for line in gzip.decompress(body).splitlines()]
    return ids


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m ingestion.retry_worker ...`` against this test's platform."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "NEWSLAKE_PROFILE": "local",
        "NEWSLAKE_MOTO_HOST": settings.moto_host,
        "NEWSLAKE_MOTO_PORT": str(settings.moto_port),
    }
    return subprocess.run(
        [sys.executable, "-m", "ingestion.retry_worker", *args],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_accepted_event_lands_exactly_once_through_a_kinesis_outage(platform):
    sqs, queue_url, dlq_url = _sqs_and_urls(platform)
    kinesis = FlakyKinesis(aws.client("kinesis", platform), bad_calls=12)
    clients = handler.Clients(kinesis, sqs, queue_url)
    app = handler.build_app(platform, lambda: clients)
    now_ms = int(time.time() * 1000)

    sent: list[str] = []
    accepted: list[str] = []
    statuses = []
    for b in range(10):
        events = [_event(f"b{b}-e{i}", b * 20 + i, now_ms) for i in range(20)]
        if b == 4:  # one foreign URL refuses this whole batch
            events[7]["url"] = "https://evil.example/x"
        sent += [e["event_id"] for e in events]
        resp = handler.handle(_request(events), handler.LocalContext("test"), app)
        statuses.append(resp["statusCode"])
        if resp["statusCode"] == 200:
            assert json.loads(resp["body"]) == {"accepted": 20}
            accepted += [e["event_id"] for e in events]

    assert statuses == [200, 200, 200, 200, 400, 200, 200, 200, 200, 200]
    assert (len(sent), len(accepted)) == (200, 180)
    assert kinesis.refused > 0
    parked = _in_queue(sqs, queue_url)
    assert parked == kinesis.refused  # everything Kinesis refused waits in the retry queue

    result = _cli(platform, "--once")
    assert result.returncode == 0, result.stderr
    assert f"put back {parked}," in result.stdout

    landed = _landed_ids(platform)
    assert [i for i, n in Counter(landed).items() if n > 1] == []
    assert set(landed) == set(accepted)
    assert (_in_queue(sqs, queue_url), _in_queue(sqs, dlq_url)) == (0, 0)


def test_kinesis_and_sqs_both_down_is_503_and_stores_nothing(platform):
    sqs, queue_url, _ = _sqs_and_urls(platform)
    down = platform.model_copy(update={"moto_port": free_port()})  # nothing listens there
    clients = handler.Clients(
        DownKinesis(),
        aws.client("sqs", down, timeout_s=1.0, max_attempts=1),
        queue_url,
    )
    now_ms = int(time.time() * 1000)
    body = json.dumps({"events": [_event(f"e{i}", i, now_ms) for i in range(3)]})

    status, payload = handler.accept(body, platform, clients, now_ms)

    assert status == 503
    assert "retry" in payload["error"]
    assert _in_queue(sqs, queue_url) == 0
    assert _landed_ids(platform) == []


def test_a_record_kinesis_keeps_refusing_reaches_the_dlq_and_redrive_lands_it(platform):
    sqs, queue_url, dlq_url = _sqs_and_urls(platform)
    # Failed messages come back at once instead of after 30 s.
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": "0"})
    parking = handler.Clients(DownKinesis(), sqs, queue_url)
    now_ms = int(time.time() * 1000)
    body = json.dumps(_event("poison-1", 0, now_ms))
    assert handler.accept(body, platform, parking, now_ms) == (200, {"accepted": 1})

    broken = BrokenKinesis()
    stats = retry_worker.poll(sqs, queue_url, broken, platform, wait_s=1, once=True)

    assert broken.attempts == platform.retry_max_receives == 5
    assert (stats.received, stats.put_back, stats.failed) == (5, 0, 5)
    assert (_in_queue(sqs, queue_url), _in_queue(sqs, dlq_url)) == (0, 1)
    assert _landed_ids(platform) == []

    result = _cli(platform, "redrive")
    assert result.returncode == 0, result.stderr
    assert "moved 1 messages" in result.stdout
    assert (_in_queue(sqs, queue_url), _in_queue(sqs, dlq_url)) == (1, 0)

    kinesis = aws.client("kinesis", platform)
    stats = retry_worker.poll(sqs, queue_url, kinesis, platform, wait_s=1, once=True)
    assert (stats.put_back, stats.failed) == (1, 0)
    assert _landed_ids(platform) == ["poison-1"]


class _Ingest:
    """Batches of ten events posted one after another from a thread until stopped, each
    answer kept with the phase of the outage its request began in."""

    def __init__(self, app) -> None:
        self.app, self.phase = app, "before"
        self.answers: list[tuple[str, int, list[str]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._post)

    def _post(self) -> None:
        now_ms = int(time.time() * 1000)
        for b in itertools.count():
            if self._stop.is_set():
                return
            phase = self.phase
            events = [_event(f"k{b}-e{i}", b * 10 + i, now_ms) for i in range(10)]
            resp = handler.handle(_request(events), handler.LocalContext("test"), self.app)
            self.answers.append((phase, resp["statusCode"], [e["event_id"] for e in events]))
            time.sleep(0.02)

    def accepted(self, *phases: str) -> set[str]:
        return {i for p, status, ids in self.answers if status == 200 and p in phases for i in ids}

    def __enter__(self) -> _Ingest:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_the_moto_server_killed_under_ingest_load_is_503_then_200_again(platform):
    """SIGKILL the local platform's one process while pageviews arrive: every request while
    it is down is a 503 (retry the batch), none a 502 or a hang; once it is back and
    provisioned, accepted events land again, exactly once.

    What the stand-in held when killed (the streams, the retry queue, the landing zone) was
    in its memory and is gone: the README says so, and why Kinesis and S3 keep it in AWS."""
    quick = {"timeout_s": 1.0, "max_attempts": 1}  # an answer within the load's pace
    sqs = aws.client("sqs", platform, **quick)
    queue = sqs.get_queue_url(QueueName=platform.retry_queue_name)["QueueUrl"]
    clients = handler.Clients(aws.client("kinesis", platform, **quick), sqs, queue)
    app = handler.build_app(platform, lambda: clients)

    with _Ingest(app) as load:
        time.sleep(1.0)
        os.killpg(int(platform.moto_pid_file.read_text()), signal.SIGKILL)
        load.phase = "down"
        time.sleep(2.0)
        load.phase = "restarting"
        server.start(platform)
        provision.provision(platform)
        load.phase = "after"
        time.sleep(1.0)

    statuses = {p: Counter(s for q, s, _ in load.answers if q == p) for p in PHASES}
    assert set(statuses["down"]) == {503} and 200 in statuses["before"], statuses
    assert set(statuses["after"]) == {200} and set(statuses["restarting"]) <= {200, 503}
    # A 200 while the streams were being made again parked its events in the retry queue.
    assert _cli(platform, "--once").returncode == 0
    landed = _landed_ids(platform)
    assert [i for i, n in Counter(landed).items() if n > 1] == []
    assert set(landed) == load.accepted("restarting", "after")  # what came before is gone
