"""schemathesis against the pageview API's own document (ingestion/openapi.json): bodies the
document allows and bodies it does not, through the local gateway in front of the handler,
which serves the document.

The invariant: every answer is one of the document's statuses with its body (no 5xx the
document does not name, no 502 from an exception), and a request that is not a 200 stores
nothing, while a 200 stores exactly the events it counts.
"""

from __future__ import annotations

import json

import schemathesis

from newslake.settings import Settings
from tests.utils.fuzz import say_seed, schema_config
from tests.utils.pageview_app import RecordingClients, recording_gateway

STORE = RecordingClients()
APP = recording_gateway(Settings(portals=("g1", "ge")), STORE)

# A body the schema allows may still be refused: its portal, URL host and client_ts are
# judged against the settings and the clock, which no schema can hold.
CONFIG = schema_config(
    max_examples=150, checks={"positive_data_acceptance": {"expected-statuses": ["200", "400"]}}
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)


@schema.parametrize()
def test_every_answer_is_documented_and_a_refused_request_stores_nothing(case):
    say_seed()
    STORE.puts.clear()

    response = case.call_and_validate()

    stored = len(STORE.puts)
    if response.status_code == 200:
        assert stored == json.loads(response.content)["accepted"]
    else:
        assert stored == 0, f"a {response.status_code} stored {stored} records"
