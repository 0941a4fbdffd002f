"""schemathesis against the pageview API's own document (ingestion/openapi.json): bodies the
document allows and bodies it does not, through the local gateway in front of the handler,
which serves the document.

The invariant: every answer is one of the document's statuses with its body (no 5xx the
document does not name, no 502 from an exception), and a request that is not a 200 stores
nothing, while a 200 stores exactly the events it counts. A body the document's schema
allows is refused only for what the document says in words.
"""

from __future__ import annotations

import json
import re
from typing import Any

import schemathesis
from schemathesis.checks import positive_data_acceptance

from newslake.settings import Settings
from tests.utils.fuzz import say_seed, schema_config
from tests.utils.pageview_app import RecordingClients, recording_gateway

STORE = RecordingClients()
APP = recording_gateway(Settings(portals=("g1", "ge")), STORE)

# What the document says in words, as no schema can hold it: the portal must be one the
# settings name, the page's host within its domains, client_ts near the server clock, and
# the body and each event within their sizes. A body the schema allows may be refused for
# these, each problem naming one, and for nothing else.
IN_WORDS = re.compile(
    r"unknown portal |no domains configured for portal |url host |client_ts is "
    r"|event is larger than |body is larger than "
)
# A beacon's text/plain body is "the same JSON, as text", which the document says in words:
# its schema, a string, cannot.
BEACON = "text/plain"
# What refuses a schema-violating request: schemathesis's own list, and the document's 413
# for a body over the size limit, which schemathesis does not count unless told (5xx are
# judged by its not_a_server_error check).
REFUSED = [
    "400",
    "401",
    "403",
    "404",
    "405",
    "406",
    "409",
    "413",
    "415",
    "422",
    "428",
    "429",
    "5xx",
]
CONFIG = schema_config(
    max_examples=150, checks={"negative_data_rejection": {"expected-statuses": REFUSED}}
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)


@schema.parametrize()
def test_every_answer_is_documented_and_a_refused_request_stores_nothing(case):
    say_seed()
    STORE.puts.clear()

    response = _call_and_validate(case)

    stored = len(STORE.puts)
    if response.status_code == 200:
        assert stored == json.loads(response.content)["accepted"]
    else:
        assert stored == 0, f"a {response.status_code} stored {stored} records"


def _call_and_validate(case: Any) -> Any:
    """The case's answer checked against the document; a 400 for a rule the document states
    in words is no refusal of valid data."""
    response = case.call()
    problems = response.json().get("problems", []) if response.status_code == 400 else None
    in_words = problems is not None and (
        case.media_type == BEACON or all(IN_WORDS.match(p["message"]) for p in problems)
    )
    case.validate_response(
        response, excluded_checks=[positive_data_acceptance] if in_words else None
    )
    return response
