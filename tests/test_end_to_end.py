"""The thin slice through every layer on the local platform: synthetic tracker events ->
POST /pageview handler -> Kinesis -> local Firehose -> S3 -> nightly Spark job (bronze,
silver, interactions, ALS, popular) -> DynamoDB -> FastAPI with a Cognito token."""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from ingestion import handler, local_firehose, session_poller
from ingestion.synthetic import TrafficSpec, generate
from newslake import aws, cognito
from newslake.local import provision
from newslake.ranking import READER_SOURCES
from serving.main import create_app
from spark_jobs import nightly

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

END = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
# Two days, so the nightly run has a day to learn from and a day to evaluate on; readers
# who keep to their sections and a flat popularity curve, where personal lists can beat the
# trending and popular baselines. The default blend (hot alone, chosen on G1) may not,
# so the gate may publish or reject; the Airflow test sets personal weights to promote.
SPEC = TrafficSpec(
    end=END,
    days=2.0,
    users_per_portal=80,
    articles_per_portal=60,
    zipf_exponent=0.6,
    section_affinity=40.0,
    seed=11,
)


def _clients(settings):
    sqs = aws.client("sqs", settings)
    return handler.Clients(
        aws.client("kinesis", settings),
        sqs,
        sqs.get_queue_url(QueueName=settings.retry_queue_name)["QueueUrl"],
    )


@pytest.fixture(scope="module")
def slice_run(local_platform, spark):
    settings = local_platform
    events = list(generate(SPEC))
    clients = _clients(settings)
    accepted = 0
    for i in range(0, len(events), 100):
        body = json.dumps({"events": [e.model_dump() for e in events[i : i + 100]]})
        status, out = handler.accept(body, settings, clients, int(END.timestamp() * 1000))
        assert status == 200, out
        accepted += out["accepted"]
    delivered = local_firehose.deliver(
        settings, aws.client("kinesis", settings), aws.client("s3", settings)
    )
    report = nightly.run(spark, settings, now=END)
    return settings, events, accepted, delivered, report


def test_every_accepted_event_reaches_bronze_and_every_visit_silver(slice_run):
    _, events, accepted, delivered, report = slice_run
    assert accepted == delivered.records == len(events)
    assert report.counts["bronze_rows"] == report.counts["new_events"] == len(events)
    assert (report.counts["duplicates"], report.counts["quarantined"]) == (0, 0)
    assert report.counts["visits"] == len({e.pageview_id for e in events})


def test_each_portal_is_evaluated_and_the_gate_decides_its_pointer(slice_run):
    settings, *_, report = slice_run
    # The version is named after the last visit, which falls in the hour before END.
    assert re.fullmatch(r"v20260302T11\d{4}Z", report.version), report.version
    assert set(report.portals) == {"g1", "ge", "gshow"}
    ddb = aws.client("dynamodb", settings)
    for portal, outcome in report.portals.items():
        # Two days of traffic: a day to learn from and a day to judge on, so no portal is
        # skipped; the gate publishes or rejects with its reason (tests/spark_jobs/test_gate).
        assert outcome["status"] in {"published", "rejected"}, (portal, outcome)
        item = ddb.get_item(TableName=settings.versions_table, Key={"portal": {"S": portal}})
        active = item.get("Item", {}).get("active_version", {}).get("S")
        if outcome["status"] == "published":
            assert active == report.version
        else:
            assert outcome["reason"], outcome
            assert active != report.version


def test_a_reader_gets_unread_recommendations_with_a_cognito_token(slice_run):
    settings, events, *_, report = slice_run
    read = defaultdict(set)
    for e in events:
        read[e.user_id].add(e.article_id)
    user = max((u for u in read if u.startswith("ge-")), key=lambda u: len(read[u]))
    app = cognito.find_cognito_app(settings)
    provision.ensure_user(settings, app, user, "e2e-Password-1!")
    token = provision.login(settings, app, user, "e2e-Password-1!")
    client = TestClient(create_app(settings))
    url = f"/v1/portals/ge/users/{user}/recommendations?limit=5"

    resp = client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200
    body = resp.json()
    assert body["degraded"] is False
    shown = [i["article_id"] for i in body["items"]]
    if report.portals["ge"]["status"] == "published":
        assert body["model_version"] == report.version
        assert len(shown) == 5
    else:  # the service keeps what it had; the live lists fill in for this reader
        assert body["model_version"] != report.version
        assert 1 <= len(shown) <= 5
    assert {i["source"] for i in body["items"]} <= set(READER_SOURCES)
    assert all(article.startswith("ge-") for article in shown)

    # The reader reads the first article now: the session-state consumer takes the view
    # from Kinesis, and the next answer leaves it out.
    template = next(e for e in events if e.user_id == user and e.event_type == "view")
    now_ms = int(time.time() * 1000)
    read_now = template.model_copy(
        update={
            "event_id": "e2e-read-now",
            "pageview_id": "e2e-pv-now",
            "article_id": shown[0],
            "client_ts": now_ms,
        }
    )
    status, _ = handler.accept(
        json.dumps({"events": [read_now.model_dump()]}), settings, _clients(settings), now_ms
    )
    assert status == 200
    assert session_poller.build(settings).drain().reads >= 1
    again = client.get(url, headers={"Authorization": f"Bearer {token}"}).json()
    assert shown[0] not in {i["article_id"] for i in again["items"]}

    assert client.get(url).status_code == 401


def test_a_second_run_ingests_nothing_twice(slice_run, spark):
    settings, events, *_ = slice_run
    again = nightly.run(spark, settings, now=END, version="v-rerun")
    assert again.counts["bronze_rows"] == len(events)
    assert again.counts["visits"] == len({e.pageview_id for e in events})
