from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from ingestion import handler
from newslake.settings import Settings

SETTINGS = Settings(portals=("g1", "ge"))
NOW_MS = 1_767_225_600_000


def event(**fields):
    base = {
        "event_id": "9b2f6c1e-0000-4000-8000-000000000001",
        "event_type": "view",
        "portal": "g1",
        "user_id": "u1",
        "session_id": "s1",
        "pageview_id": "p1",
        "url": "https://g1.globo.com/politica/noticia/a1.html",
        "article_id": "a1",
        "client_ts": NOW_MS - 1000,
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def test_one_event_or_a_batch_is_accepted():
    events, problems = handler.parse_events(json.dumps(event()), SETTINGS)
    assert (len(events), problems) == (1, [])
    batch = {"events": [event(), event(event_id="e2", portal="ge")]}
    events, problems = handler.parse_events(json.dumps(batch), SETTINGS)
    assert [e.portal for e in events] == ["g1", "ge"]
    assert problems == []


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ("{not json", None, "not valid JSON"),
        ("[1, 2]", None, "event object or"),
        (json.dumps({"events": []}), "events", "non-empty list"),
        (json.dumps(event(user_id=None)), "user_id", "Field required"),
        (json.dumps(event(portal="bbc")), "portal", "unknown portal 'bbc'"),
        (json.dumps(event(url="javascript:alert(1)")), "url", "absolute http(s) URL"),
        (json.dumps(event(dwell_ms="long")), "dwell_ms", "valid integer"),
        (json.dumps(event(scroll_depth=140)), "scroll_depth", "less than or equal to 100"),
        (json.dumps(event(extra="x")), "extra", "Extra inputs are not permitted"),
        (json.dumps(event(event_type="click")), "event_type", "'view' or 'engagement'"),
    ],
)
def test_bad_input_names_the_problem(body, field, message):
    events, problems = handler.parse_events(body, SETTINGS)
    assert events == [] or problems
    assert any(p["field"] == field and message in p["message"] for p in problems), problems


def test_oversize_body_and_batch_are_refused():
    big = json.dumps({"events": [event(url="https://g1.globo.com/" + "a" * 3000)] * 100})
    assert "larger than 262144 bytes" in handler.parse_events(big, SETTINGS)[1][0]["message"]
    many = json.dumps({"events": [event()] * 101})
    assert "at most 100 events" in handler.parse_events(many, SETTINGS)[1][0]["message"]
    fat = json.dumps(event(clicked_urls=["https://g1.globo.com/" + "x" * 190] * 45))
    assert "larger than 8192 bytes" in handler.parse_events(fat, SETTINGS)[1][0]["message"]


def test_every_problem_of_a_batch_is_listed_with_its_index():
    batch = {"events": [event(), event(portal="bbc"), event(user_id=None)]}
    _, problems = handler.parse_events(json.dumps(batch), SETTINGS)
    assert [(p["index"], p["field"]) for p in problems] == [(1, "portal"), (2, "user_id")]


class StubKinesis:
    """Kinesis that refuses the records whose user id is listed, or everything."""

    def __init__(self, refuse_users=(), down=False):
        self.refuse_users, self.down, self.stored = set(refuse_users), down, []

    def put_records(self, StreamName, Records):
        if self.down:
            raise ClientError({"Error": {"Code": "ResourceNotFoundException"}}, "PutRecords")
        results = []
        for r in Records:
            if r["PartitionKey"] in self.refuse_users:
                results.append({"ErrorCode": "ProvisionedThroughputExceededException"})
            else:
                self.stored.append((StreamName, r["PartitionKey"]))
                results.append({"SequenceNumber": "1", "ShardId": "shardId-0"})
        failed = sum("ErrorCode" in x for x in results)
        return {"FailedRecordCount": failed, "Records": results}


class StubSqs:
    def __init__(self, down=False):
        self.down, self.messages = down, []

    def send_message_batch(self, QueueUrl, Entries):
        if self.down:
            raise ClientError({"Error": {"Code": "ServiceUnavailable"}}, "SendMessageBatch")
        self.messages.extend(json.loads(e["MessageBody"]) for e in Entries)
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}


def _accept(kinesis, sqs, body):
    return handler.accept(body, SETTINGS, handler.Clients(kinesis, sqs, "queue-url"), NOW_MS)


def test_records_kinesis_refuses_go_to_the_retry_queue():
    kinesis, sqs = StubKinesis(refuse_users={"u2"}), StubSqs()
    body = json.dumps({"events": [event(), event(event_id="e2", user_id="u2")]})
    assert _accept(kinesis, sqs, body) == (200, {"accepted": 2})
    assert kinesis.stored == [("newslake-pageviews-g1", "u1")]
    assert [(m["stream"], m["partition_key"]) for m in sqs.messages] == [
        ("newslake-pageviews-g1", "u2")
    ]
    parked = json.loads(sqs.messages[0]["data"])
    assert (parked["event_id"], parked["server_ts"]) == ("e2", NOW_MS)


def test_503_only_when_kinesis_and_the_retry_queue_both_refuse():
    status, body = _accept(StubKinesis(down=True), StubSqs(down=True), json.dumps(event()))
    assert status == 503
    assert "retry" in body["error"]


def test_a_bad_request_stores_nothing():
    kinesis, sqs = StubKinesis(), StubSqs()
    body = json.dumps({"events": [event(), event(portal="bbc")]})
    status, _ = _accept(kinesis, sqs, body)
    assert (status, kinesis.stored, sqs.messages) == (400, [], [])


def test_wrong_content_type_is_415():
    resp = handler.lambda_handler(
        {"httpMethod": "POST", "headers": {"Content-Type": "text/html"}, "body": "<p>"}
    )
    assert resp["statusCode"] == 415
