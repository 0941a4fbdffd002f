"""schemathesis against the serving API's own OpenAPI document, in process, with tokens
signed by the pool's key: a reader's own token on their own list, and a machine client's
on any reader's, the portal pinned to one that exists so that cases get past 403 and 404.

The invariant: every answer is one of the document's statuses with its body (no 500, no
status the document does not name), and a request the document allows is not refused as
malformed (422) unless for the one rule the document can only state in words.
"""

from __future__ import annotations

import logging
from typing import Any

import schemathesis
from schemathesis.checks import positive_data_acceptance

from newslake.store import ScoredItem
from serving.main import create_app
from tests.utils.fakes import FakeReader
from tests.utils.fuzz import say_seed, schema_config
from tests.utils.pool import Pool
from tests.utils.serving_app import app_settings

POOL = Pool()
MAX_EXAMPLES = 100


def _reader() -> FakeReader:
    """g1 on v2 with alice's list, her recent read, and every shared list."""
    reader = FakeReader()
    reader.versions["g1"] = "v2"
    reader.records[("g1#user#alice", "v2")] = [ScoredItem("a-101", 0.91)]
    reader.records[("g1#recent#alice", "live")] = [ScoredItem("a-102", 1_795_000_000.0)]
    reader.records[("g1#trending", "live")] = [ScoredItem("t-1", 40.0)]
    reader.records[("g1#popular", "v2")] = [ScoredItem("p-1", 120.0)]
    reader.records[("g1#related#a-5", "live")] = [ScoredItem("c-1", 12.0)]
    return reader


APP = create_app(
    app_settings(), reader=_reader(), verifier=POOL.verifier(), impressions=logging.NullHandler()
)
READER = POOL.reader_token("alice")
MACHINE = POOL.machine_token("newslake/recommendations.read newslake/portal.g1")
# A newsroom's and a privacy office's rights at once: past 403 on the write routes too.
WRITER = POOL.machine_token(
    "newslake/recommendations.read newslake/portal.g1 newslake/editorial.write "
    "newslake/privacy.erase"
)


# What no JSON Schema can state, as the PUT routes' description and 422 say it in words: a
# block's until and a promotion's end are judged by the server's clock. A body the
# document allows may be refused with that rule as the whole detail, and with no other.
CLOCK_RULES = {
    "/v1/portals/{portal}/editorial/blocks/{article_id}": "until must be in the future",
    "/v1/portals/{portal}/editorial/promotions/{article_id}": (
        "end must be after start and in the future"
    ),
}
# The writing client's store is out of reach (nothing listens on moto port 9): every write
# is the documented 503 "retry", which is no server error here.
STORE_OUT_OF_REACH = {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "503"]}}


def _schema(token: str, checks: dict[str, Any] | None = None, **pinned: str) -> Any:
    """The app's document, cases sent with ``token`` and ``pinned`` path parameters."""
    config = schema_config(
        MAX_EXAMPLES,
        auth={"openapi": {"CognitoAccessToken": {"bearer": token}}},
        parameters={f"path.{name}": value for name, value in pinned.items()},
        # Unknown query parameters are ignored, as HTTP APIs do (a cache buster, a
        # campaign tag), not refused: no case should expect a 4xx for one.
        generation={"allow-extra-parameters": False},
        checks=checks or {},
    )
    return schemathesis.openapi.from_asgi("/openapi.json", APP, config=config)


def _call_and_validate(case: Any) -> None:
    """The case's answer checked against the document; a 422 naming the route's clock rule
    is no refusal of valid data."""
    response = case.call()
    by_the_clock = (
        case.method == "PUT"
        and response.status_code == 422
        and response.json().get("detail") == CLOCK_RULES.get(case.operation.path)
    )
    case.validate_response(
        response, excluded_checks=[positive_data_acceptance] if by_the_clock else None
    )


as_reader = _schema(READER, portal="g1", user_id="alice")
as_machine = _schema(MACHINE, portal="g1")
as_writer = _schema(WRITER, STORE_OUT_OF_REACH, portal="g1")


@as_reader.parametrize()
def test_every_answer_to_a_reader_is_documented(case):
    say_seed()
    _call_and_validate(case)


@as_machine.parametrize()
def test_every_answer_to_a_machine_client_is_documented(case):
    say_seed()
    _call_and_validate(case)


@as_writer.parametrize()
def test_every_answer_to_a_writing_client_is_documented(case):
    say_seed()
    _call_and_validate(case)
