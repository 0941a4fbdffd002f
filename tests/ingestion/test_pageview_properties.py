"""Hypothesis properties of ``POST /pageview`` through the local gateway, over a Kinesis and
an SQS that record every put: whatever a client sends (any JSON value in any field, any
body, any content type, any encoding), the answer is one the API documents, and a request
that is not a 200 stores nothing.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from ingestion.schema import HTTP_URL_PATTERN, SERVER_TS, Pageview, http_url_host
from newslake.settings import Settings
from tests.utils.fuzz import fuzz, say_seed
from tests.utils.pageview_app import RecordingClients, documented_answer, recording_gateway
from tests.utils.session_records import view

STORE = RecordingClients()
CLIENT = TestClient(
    recording_gateway(Settings(portals=("g1", "ge")), STORE), raise_server_exceptions=False
)
FIELDS = sorted(Pageview.model_fields)

# JSON as a client may write it: numbers of any size, every string, nesting.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
content_types = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "text/plain;charset=UTF-8",
        "text/plain; charset=utf-16",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "",
    ]
) | st.text(max_size=40)


def _event(**fields: Any) -> dict[str, Any]:
    """A valid view of g1 sent a second ago."""
    record = view("9b2f6c1e-0000-4000-8000-0000000000aa", "u1", "a1", time.time() - 1)
    return {**{name: value for name, value in record.items() if name != SERVER_TS}, **fields}


def _post(body: bytes, content_type: str | None = "application/json") -> tuple[int, int]:
    """Send ``body``; check the answer is documented and what a refusal stored; returns
    (status, records stored)."""
    say_seed()
    STORE.puts.clear()
    # A header is bytes on the wire: what latin-1 cannot write, a client cannot send.
    headers = (
        {} if content_type is None else {"Content-Type": content_type.encode("latin-1", "replace")}
    )
    response = CLIENT.post("/pageview", content=body, headers=headers)
    problem = documented_answer(response.status_code, response.content)
    assert problem is None, problem
    event(f"answered {response.status_code}")  # --hypothesis-show-statistics shows the mix
    stored = len(STORE.puts)
    if response.status_code == 200:
        assert stored == response.json()["accepted"]
    else:
        assert stored == 0, f"a {response.status_code} stored {stored} records"
    return response.status_code, stored


@fuzz(max_examples=300)
@given(field=st.sampled_from([*FIELDS, "events", "extra"]) | st.text(), value=json_values)
def test_any_json_value_in_any_field_is_a_documented_answer(field, value):
    body = json.dumps(_event(**{field: value}))

    assert _post(body.encode())[0] in {200, 400}


@fuzz(max_examples=150)
@given(
    index=st.integers(min_value=0, max_value=2),
    field=st.sampled_from(FIELDS),
    value=json_values,
)
def test_a_batch_is_stored_whole_or_not_at_all(index, field, value):
    events = [_event(event_id=f"e{i}") for i in range(3)]
    events[index] = {**events[index], field: value}

    status, stored = _post(json.dumps({"events": events}).encode())

    assert (status, stored) in {(200, 3), (400, 0)}


@fuzz(max_examples=300)
@given(body=st.binary(max_size=300), content_type=content_types | st.none())
def test_any_bytes_under_any_content_type_are_a_documented_answer(body, content_type):
    assert _post(body, content_type)[0] in {200, 400, 415}


@fuzz(max_examples=150)
@given(
    value=json_values,
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32", "latin-1", "cp1252"]),
)
def test_an_event_in_any_encoding_is_a_documented_answer(value, encoding):
    text = json.dumps(_event(article_id=value), ensure_ascii=False)

    assert _post(text.encode(encoding, errors="replace"))[0] in {200, 400}


@fuzz(max_examples=200)
@given(url=st.from_regex(HTTP_URL_PATTERN, fullmatch=True))
def test_a_url_the_document_allows_is_one_the_check_takes(url: str) -> None:
    say_seed()
    # A plain DNS name or IPv4 address, as ingestion.validation takes the page's host.
    assert re.fullmatch(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?", http_url_host(url) or "")
