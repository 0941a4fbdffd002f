"""Bodies and URLs a hostile client may send to ``POST /pageview``: each is answered with the
documented 400 and stores nothing, never with an exception (a 502 from API Gateway)."""

from __future__ import annotations

import base64
import json
import time

import pytest
from starlette.testclient import TestClient

from ingestion import gateway, handler
from ingestion.schema import SERVER_TS
from newslake.settings import Settings
from tests.utils.pageview_app import RecordingClients
from tests.utils.session_records import view

SETTINGS = Settings(portals=("g1", "ge"))
REFUSED = "invalid request: nothing was stored; fix the problems and send the whole batch again"


def _event(**fields: object) -> dict[str, object]:
    """A valid view of g1 sent a second ago: a collector's record less what it stamps."""
    record = view("9b2f6c1e-0000-4000-8000-0000000000aa", "u1", "a1", time.time() - 1, **fields)
    return {name: value for name, value in record.items() if name != SERVER_TS}


def _with(raw_field: str) -> str:
    """A valid event's JSON with one more member written as raw text (``"name": value``)."""
    return json.dumps(_event())[:-1] + ", " + raw_field + "}"


def _post(body: str | None, *, base64_encoded: bool = False) -> tuple[int, dict, list]:
    store = RecordingClients()
    app = handler.build_app(SETTINGS, lambda: handler.Clients(store, store, "queue-url"))
    request = {
        "httpMethod": "POST",
        "path": "/pageview",
        "headers": {"Content-Type": "application/json"},
        "body": body,
        "isBase64Encoded": base64_encoded,
        "requestContext": {"requestId": "req-hostile"},
    }
    response = handler.handle(request, handler.LocalContext("test"), app)
    return response["statusCode"], json.loads(response["body"]), store.puts


def test_the_gateway_answers_400_to_deeply_nested_brackets_not_502():
    """The request of the report, through the local API Gateway in front of the handler."""
    store = RecordingClients()
    app = handler.build_app(SETTINGS, lambda: handler.Clients(store, store, "queue-url"))
    invoke = lambda event, context: handler.handle(event, context, app)  # noqa: E731
    client = TestClient(gateway.create_app(SETTINGS, invoke=invoke), raise_server_exceptions=False)

    response = client.post(
        "/pageview",
        content=("[" * 10_000 + "]" * 10_000).encode(),
        headers={"Content-Type": "application/json"},
    )

    assert (response.status_code, response.json()["problems"][0]["message"], store.puts) == (
        400,
        "body is not valid JSON: it is nested deeper than 8 levels",
        [],
    )


def _request_problem(message: str) -> dict[str, object]:
    return {"error": REFUSED, "problems": [{"index": None, "field": None, "message": message}]}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[" * 10_000 + "]" * 10_000, "body is not valid JSON: it is nested deeper than 8 levels"),
        (
            '{"a":' * 10_000 + "1" + "}" * 10_000,
            "body is not valid JSON: it is nested deeper than 8 levels",
        ),
        (
            json.dumps({"events": [_event(url=[[[[[[[[["x"]]]]]]]]])]}),
            "body is not valid JSON: it is nested deeper than 8 levels",
        ),
        (
            _with('"clicks": ' + "9" * 5000),
            "body is not valid JSON: a number is longer than 32 characters",
        ),
        (
            _with('"clicks": 1' + "0" * 40 + ".5"),
            "body is not valid JSON: a number is longer than 32 characters",
        ),
        (_with('"clicks": 1e999999'), "body is not valid JSON: the number 1e999999 is too large"),
        (_with('"dwell_ms": NaN'), "body is not valid JSON: NaN is not a JSON number"),
        (_with('"dwell_ms": Infinity'), "body is not valid JSON: Infinity is not a JSON number"),
        (_with('"dwell_ms": -Infinity'), "body is not valid JSON: -Infinity is not a JSON number"),
    ],
    ids=["arrays", "objects", "deep-field", "long-int", "long-float", "huge", "nan", "inf", "-inf"],
)
def test_a_body_json_cannot_hold_is_400_and_stores_nothing(body, message):
    assert _post(body) == (400, _request_problem(message), [])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (json.dumps(_event(user_id="\ud800")), "user_id"),
        (json.dumps(_event(url="https://g1.globo.com/\udc00")), "url"),
        (json.dumps({**_event(), "\ud800": 1}), None),
        (json.dumps(_event(user_id=123)), "user_id"),
        (json.dumps(_event(portal=["g1"])), "portal"),
        (json.dumps(_event(url={"href": "https://g1.globo.com/"})), "url"),
        (json.dumps(_event(client_ts=True)), "client_ts"),
        (json.dumps(_event(client_ts=1e300)), "client_ts"),
        (json.dumps(_event(clicked_urls="https://g1.globo.com/")), "clicked_urls"),
        (json.dumps(_event(referrer="https://[zz/")), "referrer"),
        (json.dumps(_event(clicked_urls=["http://[/"])), "clicked_urls.0"),
        (json.dumps(_event(url="https://g1.globo.com:99999/")), "url"),
    ],
    ids=[
        "surrogate-id",
        "surrogate-url",
        "surrogate-key",
        "number-for-string",
        "list-for-string",
        "object-for-string",
        "bool-for-int",
        "huge-float-for-int",
        "string-for-list",
        "bad-ipv6-referrer",
        "bad-ipv6-clicked",
        "port-out-of-range",
    ],
)
def test_a_field_of_the_wrong_kind_is_400_and_stores_nothing(body, field):
    status, answer, stored = _post(body)
    assert (status, answer["error"], stored) == (400, REFUSED, [])
    assert [(p["index"], p["field"]) for p in answer["problems"]] == [(0, field)]


@pytest.mark.parametrize(
    "body",
    [
        "%%%not base64",
        base64.b64encode(b"\xed\xa0\x80").decode(),
        base64.b64encode(b"\xff").decode(),
    ],
    ids=["bad-base64", "utf8-surrogate", "not-utf8"],
)
def test_a_base64_body_that_is_no_utf8_text_is_400_and_stores_nothing(body):
    assert _post(body, base64_encoded=True) == (
        400,
        {"error": "body is not UTF-8 text", "problems": []},
        [],
    )


# ---- URL hosts as a browser reads them ------------------------------------------------

URL_REFUSED = (
    "url must be an absolute http(s) URL, without backslashes, spaces or control characters"
)


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.com\\@g1.globo.com/",  # a browser reads the host evil.com
        "https:\\\\evil.com\\g1.globo.com/",
        "https://g1.globo.com\\.evil.com/",
        "https://g1.glo\tbo.com/",
        "https://evil.com\t@g1.globo.com/",
        "https://g1.globo.com/\n",
        "https://g1.globo.com/a b",
        " https://g1.globo.com/",
        "https://g1.globo.com/\x00",
        "https://g1.globo.com/\x7f",
    ],
)
def test_a_url_browsers_read_differently_is_refused(url):
    status, answer, stored = _post(json.dumps(_event(url=url)))
    assert (status, stored) == (400, [])
    assert answer["problems"] == [
        {"index": 0, "field": "url", "message": f"Value error, {URL_REFUSED}"}
    ]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "https://g1.globo.com@evil.com/",
            "url host 'evil.com' is not within g1's ['g1.globo.com']",
        ),
        (
            "https://evil.com#@g1.globo.com",
            "url host 'evil.com' is not within g1's ['g1.globo.com']",
        ),
        (
            "https://evil.com?@g1.globo.com",
            "url host 'evil.com' is not within g1's ['g1.globo.com']",
        ),
        ("https://g1%2eglobo%2ecom/", "url host must be a plain domain name"),
        ("https://evil.com%00.g1.globo.com/", "url host must be a plain domain name"),
        ("https://g1\uff0eglobo\uff0ecom/", "url host must be a plain domain name"),
    ],
)
def test_a_url_whose_host_is_not_plainly_the_portals_is_refused(url, message):
    status, answer, stored = _post(json.dumps(_event(url=url)))
    assert (status, stored) == (400, [])
    assert [(p["field"], message in p["message"]) for p in answer["problems"]] == [("url", True)]


@pytest.mark.parametrize(
    "field",
    [
        {"referrer": "https://evil.com\\@g1.globo.com/"},
        {"clicked_urls": ["https://g1.globo.com/\ta"]},
    ],
)
def test_a_referrer_or_clicked_url_browsers_read_differently_is_refused(field):
    status, answer, stored = _post(json.dumps(_event(**field)))
    assert (status, stored) == (400, [])
    assert [p["field"] for p in answer["problems"]] == [
        next(iter(field)) + ("" if "referrer" in field else ".0")
    ]


@pytest.mark.parametrize(
    "url",
    [
        "https://g1.globo.com/politica/noticia/a1.html",
        "HTTPS://G1.GLOBO.COM/politica/noticia/a1.html",
        "https://g1.globo.com:443/a1.html?utm_source=x&q=a%20b#top",
        "https://reader@g1.globo.com/a1.html",
        "https://evil.com%2f@g1.globo.com/",  # user "evil.com/" on g1, to a browser too
        "https://www.g1.globo.com/a1.html",
        "http://g1.globo.com/a%5Cb.html",
    ],
)
def test_plain_urls_of_the_portal_are_still_accepted(url):
    referrer = "https://www.google.com/search?q=g1"
    status, answer, stored = _post(json.dumps(_event(url=url, referrer=referrer)))
    assert (status, answer, len(stored)) == (200, {"accepted": 1}, 1)
