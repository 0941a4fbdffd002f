from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from ingestion import handler, validation
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
    events, problems = validation.parse_events(json.dumps(event()), SETTINGS, NOW_MS)
    assert (len(events), problems) == (1, [])
    ge_event = event(event_id="e2", portal="ge", url="https://ge.globo.com/futebol/a2.html")
    batch = {"events": [event(), ge_event]}
    events, problems = validation.parse_events(json.dumps(batch), SETTINGS, NOW_MS)
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
    events, problems = validation.parse_events(body, SETTINGS, NOW_MS)
    assert events == [] or problems
    assert any(p["field"] == field and message in p["message"] for p in problems), problems


def test_oversize_body_and_batch_are_refused():
    big = json.dumps({"events": [event(url="https://g1.globo.com/" + "a" * 3000)] * 100})
    first_problem = lambda body: validation.parse_events(body, SETTINGS, NOW_MS)[1][0]["message"]  # noqa: E731
    assert "larger than 262144 bytes" in first_problem(big)
    many = json.dumps({"events": [event()] * 101})
    assert "at most 100 events" in first_problem(many)
    fat = json.dumps(event(clicked_urls=["https://g1.globo.com/" + "x" * 190] * 45))
    assert "larger than 8192 bytes" in first_problem(fat)


def test_every_problem_of_a_batch_is_listed_with_its_index():
    batch = {"events": [event(), event(portal="bbc"), event(user_id=None)]}
    _, problems = validation.parse_events(json.dumps(batch), SETTINGS, NOW_MS)
    assert [(p["index"], p["field"]) for p in problems] == [(1, "portal"), (2, "user_id")]


class StubKinesis:
    """Kinesis that refuses the records whose user id is listed, or everything."""

    def __init__(self, refuse_users=(), down=False):
        self.refuse_users, self.down, self.stored = set(refuse_users), down, []
        self.records = []  # the stored records, decoded

    def put_records(self, StreamName, Records):
        if self.down:
            raise ClientError({"Error": {"Code": "ResourceNotFoundException"}}, "PutRecords")
        results = []
        for r in Records:
            if r["PartitionKey"] in self.refuse_users:
                results.append({"ErrorCode": "ProvisionedThroughputExceededException"})
            else:
                self.stored.append((StreamName, r["PartitionKey"]))
                self.records.append(json.loads(r["Data"]))
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
        {
            "httpMethod": "POST",
            "path": "/pageview",
            "headers": {"Content-Type": "text/html"},
            "body": "<p>",
        }
    )
    assert resp["statusCode"] == 415


def _problems(*events):
    return validation.parse_events(json.dumps({"events": list(events)}), SETTINGS, NOW_MS)[1]


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/g1",
        "https://g1.globo.com.evil.example/",
        "https://notg1.globo.com/",
        "https://g1.globo.com@evil.example/",
        "https://ge.globo.com/futebol/a1.html",  # another portal's domain
    ],
)
def test_a_url_outside_the_portals_domains_is_refused(url):
    assert [(p["field"], p["message"][:9]) for p in _problems(event(url=url))] == [
        ("url", "url host ")
    ]


@pytest.mark.parametrize(
    "url", ["https://g1.globo.com/a.html", "http://G1.globo.com:8080/a", "https://m.g1.globo.com/a"]
)
def test_the_portals_domain_and_its_subdomains_are_accepted(url):
    assert _problems(event(url=url)) == []


@pytest.mark.parametrize(
    ("client_ts", "message"),
    [
        (NOW_MS + 301_000, "client_ts is 301 s ahead of the server clock (at most 300 s)"),
        (NOW_MS - 259_201_000, "client_ts is 259201 s old (at most 259200 s)"),
    ],
)
def test_a_client_clock_outside_the_bounds_is_refused(client_ts, message):
    assert _problems(event(client_ts=client_ts)) == [
        {"index": 0, "field": "client_ts", "message": message}
    ]


@pytest.mark.parametrize("client_ts", [NOW_MS + 300_000, NOW_MS - 259_200_000])
def test_a_client_clock_at_the_bounds_is_accepted(client_ts):
    assert _problems(event(client_ts=client_ts)) == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"referrer": "javascript:alert(1)"}, "referrer"),
        ({"referrer": "/relative"}, "referrer"),
        ({"clicked_urls": ["https://g1.globo.com/", "data:text/html,x"]}, "clicked_urls.1"),
    ],
)
def test_referrer_and_clicked_urls_must_be_http(fields, field):
    assert [p["field"] for p in _problems(event(**fields))] == [field]


def test_any_http_referrer_and_an_empty_one_are_accepted():
    assert _problems(event(referrer="https://www.google.com/search?q=g1")) == []
    assert _problems(event(referrer="")) == []  # document.referrer when there is none


@pytest.mark.parametrize("bad", ["u\x00", "u\n1", "u\u202e1", "u\x7f", "u\u2028"])
@pytest.mark.parametrize(
    "field", ["event_id", "user_id", "session_id", "pageview_id", "article_id"]
)
def test_control_characters_in_ids_are_refused(field, bad):
    assert _problems(event(**{field: bad})) == [
        {"index": 0, "field": field, "message": "ids must not contain control characters"}
    ]


def test_ids_are_judged_by_character_on_both_sides_of_the_ascii_fast_path():
    printable_ascii = "".join(chr(c) for c in range(0x20, 0x7F))
    assert _problems(event(user_id=printable_ascii[:128])) == []
    assert _problems(event(user_id="usuário-ção-日本")) == []  # letters beyond ASCII
    for code in [*range(0x20), 0x7F]:  # every ASCII control character
        assert [p["field"] for p in _problems(event(user_id=f"u{chr(code)}1"))] == ["user_id"]


def test_markup_in_string_fields_is_stored_as_sent():
    markup = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    kinesis, sqs = StubKinesis(refuse_users={"u1"}), StubSqs()
    # A URL holds no spaces (a browser sends them as %20), so its markup has none.
    url = 'https://g1.globo.com/?q=<script>alert("x")</script>'
    body = json.dumps(event(article_id=markup, url=url))
    assert _accept(kinesis, sqs, body) == (200, {"accepted": 1})
    parked = json.loads(sqs.messages[0]["data"])
    assert (parked["article_id"], parked["url"]) == (markup, url)


def test_markup_in_a_refused_request_is_answered_as_json():
    resp = _post({"Content-Type": "application/json"}, json.dumps(event(portal="<script>")))
    assert resp["statusCode"] == 400
    assert resp["headers"]["Content-Type"] == "application/json"
    assert resp["headers"]["X-Content-Type-Options"] == "nosniff"
    assert json.loads(resp["body"])["problems"][0]["message"] == "unknown portal '<script>'"


def test_a_bad_event_refuses_the_whole_batch():
    kinesis, sqs = StubKinesis(), StubSqs()
    body = json.dumps({"events": [event(), event(event_id="e2", client_ts=NOW_MS + 3_600_000)]})
    status, payload = _accept(kinesis, sqs, body)
    assert (status, kinesis.stored, sqs.messages) == (400, [], [])
    assert [(p["index"], p["field"]) for p in payload["problems"]] == [(1, "client_ts")]
    assert "nothing was stored" in payload["error"]


def test_a_portal_without_configured_domains_is_refused():
    settings = Settings(portals=("g1", "bbc"))
    body = json.dumps(event(portal="bbc", url="https://www.bbc.co.uk/news/1"))
    problems = validation.parse_events(body, settings, NOW_MS)[1]
    assert problems == [
        {"index": 0, "field": "portal", "message": "no domains configured for portal 'bbc'"}
    ]


# ---- the Lambda entry point: request level and CORS ------------------------------


def _unreachable_clients():
    raise AssertionError("a refused request must not reach AWS")


APP = handler.build_app(SETTINGS, _unreachable_clients)


def _post(headers, body, *, base64_encoded=False):
    request = {
        "httpMethod": "POST",
        "path": "/pageview",
        "headers": headers,
        "body": body,
        "isBase64Encoded": base64_encoded,
        "requestContext": {"requestId": "req-1"},
    }
    return handler.handle(request, handler.LocalContext("test"), APP)


def test_an_empty_body_is_400():
    resp = _post({"Content-Type": "application/json"}, None)
    assert resp["statusCode"] == 400
    assert json.loads(resp["body"])["problems"][0]["message"].startswith("body is empty")


def test_a_body_that_is_not_utf8_is_400():
    resp = _post({"Content-Type": "text/plain"}, "/w==", base64_encoded=True)  # b"\xff"
    assert (resp["statusCode"], json.loads(resp["body"])["error"]) == (
        400,
        "body is not UTF-8 text",
    )


def test_a_sendbeacon_body_is_read_like_json():
    resp = _post({"content-type": "text/plain;charset=UTF-8"}, json.dumps(event(portal="bbc")))
    assert json.loads(resp["body"])["problems"][0]["field"] == "portal"


def _preflight(origin):
    request = {
        "httpMethod": "OPTIONS",
        "path": "/pageview",
        "headers": {
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        "body": None,
    }
    return handler.handle(request, handler.LocalContext("test"), APP)


def test_a_preflight_from_a_portal_is_allowed():
    resp = _preflight("https://ge.globo.com")
    assert resp["statusCode"] == 204
    assert resp["headers"]["Access-Control-Allow-Origin"] == "https://ge.globo.com"
    assert "POST" in resp["headers"]["Access-Control-Allow-Methods"]
    assert "Content-Type" in resp["headers"]["Access-Control-Allow-Headers"]
    assert resp["headers"]["Vary"] == "Origin"


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "http://g1.globo.com", "https://gshow.globo.com"]
)
def test_a_preflight_from_elsewhere_gets_no_allow_origin(origin):
    # gshow is not among SETTINGS' portals; plain http is not a portal origin.
    resp = _preflight(origin)
    assert "Access-Control-Allow-Origin" not in resp["headers"]


def test_localhost_origins_only_when_configured():
    assert "http://localhost:8056" not in Settings().allowed_origins()
    settings = Settings(portals=("g1",), cors_extra_origins="http://localhost:8056")
    assert settings.allowed_origins() == ("https://g1.globo.com", "http://localhost:8056")


def test_a_refusal_to_a_portal_carries_cors_headers_so_the_page_can_read_it():
    resp = _post({"Content-Type": "text/html", "Origin": "https://g1.globo.com"}, "<p>")
    assert resp["statusCode"] == 415
    assert resp["headers"]["Access-Control-Allow-Origin"] == "https://g1.globo.com"


# ---- recommendations named by a pageview (rec_id, rec_position) --------------------
REC_ID = "0123456789abcdef0123456789abcdef"


def _stored(body):
    """The outcome of a request, and the records Kinesis stored."""
    kinesis = StubKinesis()
    outcome = handler.decide(
        body, SETTINGS, lambda: handler.Clients(kinesis, StubSqs(), "queue-url"), NOW_MS
    )
    return outcome, kinesis.records


def test_a_well_formed_recommendation_is_stored_with_the_pageview():
    outcome, (record,) = _stored(json.dumps(event(rec_id=REC_ID, rec_position=3)))
    assert (outcome.status, outcome.rec_refused) == (200, {})
    assert (record["rec_id"], record["rec_position"]) == (REC_ID, 3)


@pytest.mark.parametrize("position", [1, 100])
def test_positions_at_the_bounds_are_kept(position):
    _, (record,) = _stored(json.dumps(event(rec_id=REC_ID, rec_position=position)))
    assert (record["rec_id"], record["rec_position"]) == (REC_ID, position)


@pytest.mark.parametrize(
    ("rec", "reason"),
    [
        ({"rec_id": REC_ID}, "incomplete"),
        ({"rec_position": 3}, "incomplete"),
        ({"rec_id": REC_ID, "rec_position": None}, "incomplete"),
        ({"rec_id": REC_ID.upper(), "rec_position": 3}, "malformed_id"),
        ({"rec_id": REC_ID[:31], "rec_position": 3}, "malformed_id"),
        ({"rec_id": REC_ID + "0", "rec_position": 3}, "malformed_id"),
        ({"rec_id": REC_ID + "\n", "rec_position": 3}, "malformed_id"),
        ({"rec_id": "0123456789abcdef-123456789abcdef", "rec_position": 3}, "malformed_id"),
        ({"rec_id": 12345, "rec_position": 3}, "malformed_id"),
        ({"rec_id": [REC_ID], "rec_position": 3}, "malformed_id"),
        ({"rec_id": REC_ID, "rec_position": 0}, "bad_position"),
        ({"rec_id": REC_ID, "rec_position": 101}, "bad_position"),
        ({"rec_id": REC_ID, "rec_position": -1}, "bad_position"),
        ({"rec_id": REC_ID, "rec_position": "3"}, "bad_position"),
        ({"rec_id": REC_ID, "rec_position": 3.0}, "bad_position"),
        ({"rec_id": REC_ID, "rec_position": True}, "bad_position"),
    ],
)
def test_a_malformed_recommendation_is_stored_as_an_organic_pageview(rec, reason):
    outcome, (record,) = _stored(json.dumps(event(**rec)))
    assert (outcome.status, outcome.body) == (200, {"accepted": 1})
    assert (record["rec_id"], record["rec_position"]) == (None, None)
    assert record["event_id"] == event()["event_id"]
    assert outcome.rec_refused == {reason: 1}


def test_a_batch_counts_each_refused_recommendation_by_reason():
    batch = [
        event(event_id="e1", rec_id=REC_ID, rec_position=2),
        event(event_id="e2", rec_id="nope", rec_position=2),
        event(event_id="e3", rec_id="NOPE", rec_position=2),
        event(event_id="e4", rec_position=2),
        event(event_id="e5"),
    ]
    outcome, records = _stored(json.dumps({"events": batch}))
    assert outcome.rec_refused == {"malformed_id": 2, "incomplete": 1}
    assert [(r["event_id"], r["rec_id"], r["rec_position"]) for r in records] == [
        ("e1", REC_ID, 2),
        ("e2", None, None),
        ("e3", None, None),
        ("e4", None, None),
        ("e5", None, None),
    ]


def test_a_pageview_without_a_recommendation_lands_as_before():
    outcome, (record,) = _stored(json.dumps(event()))
    assert (outcome.status, outcome.rec_refused) == (200, {})
    assert (record["rec_id"], record["rec_position"]) == (None, None)
    assert set(record) - {"rec_id", "rec_position"} == {
        *event(),
        "referrer",
        "dwell_ms",
        "scroll_depth",
        "clicks",
        "clicked_urls",
        "server_ts",
    }


def test_a_refused_batch_counts_no_recommendation():
    batch = [event(rec_id="nope", rec_position=2), event(event_id="e2", portal="bbc")]
    outcome, records = _stored(json.dumps({"events": batch}))
    assert (outcome.status, outcome.rec_refused, records) == (400, {}, [])


def test_a_malformed_recommendation_does_not_hide_another_problem():
    _, problems = validation.parse_events(
        json.dumps(event(rec_id="nope", rec_position=2, scroll_depth=140)), SETTINGS, NOW_MS
    )
    assert [p["field"] for p in problems] == ["scroll_depth"]


def test_refused_recommendations_are_counted_in_a_metric_per_reason(capsys):
    kinesis = StubKinesis()
    app = handler.build_app(SETTINGS, lambda: handler.Clients(kinesis, StubSqs(), "queue-url"))
    batch = [
        event(event_id="e1", rec_id="nope", rec_position=2),
        event(event_id="e2", rec_id=REC_ID, rec_position=101),
        event(event_id="e3", rec_id=REC_ID, rec_position=7),
    ]
    for e in batch:
        e["client_ts"] = int(time.time() * 1000)  # judged by the wall clock here
    request = {
        "httpMethod": "POST",
        "path": "/pageview",
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"events": batch}),
        "requestContext": {"requestId": "req-2"},
    }
    capsys.readouterr()
    resp = handler.handle(request, handler.LocalContext("test"), app)
    assert resp["statusCode"] == 200
    (emf,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    counts = {
        m["Name"]: emf[m["Name"]] for d in emf["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]
    }
    assert counts == {
        "EventsAccepted": [3.0],
        "RecAttributionRefusedMalformedId": [1.0],
        "RecAttributionRefusedBadPosition": [1.0],
    }
