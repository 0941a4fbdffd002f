"""The pageview API in process, over a Kinesis and an SQS that keep what is put to them: for
tests that send hostile requests and then check that a refused one stored nothing."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from ingestion import gateway, handler
from newslake.settings import Settings


class RecordingClients:
    """Kinesis and SQS that keep whatever is put to them."""

    def __init__(self) -> None:
        self.puts: list[object] = []

    def put_records(self, StreamName: str, Records: list[dict[str, object]]) -> dict[str, object]:
        self.puts.extend(Records)
        return {"FailedRecordCount": 0, "Records": [{"SequenceNumber": "1"} for _ in Records]}

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, object]]) -> object:
        self.puts.extend(Entries)
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}


def recording_gateway(settings: Settings, store: RecordingClients) -> Starlette:
    """The local API Gateway in front of the handler, whose events go to ``store``."""
    app = handler.build_app(settings, lambda: handler.Clients(store, store, "queue-url"))

    def invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return handler.handle(event, context, app)

    return gateway.create_app(settings, invoke=invoke)


def documented_answer(status: int, body: bytes) -> str | None:
    """What is wrong with an answer for the API's document (ingestion/openapi.json): a
    status it does not name, or a body that is not JSON of that status's schema; None when
    the answer is documented."""
    import json

    import jsonschema

    from ingestion import openapi

    doc = openapi.document()
    answers = doc["paths"][handler.PATH]["post"]["responses"]
    if str(status) not in answers:
        return f"undocumented status {status}: {body[:200]!r}"
    schema = answers[str(status)]["content"]["application/json"]["schema"]
    try:
        jsonschema.validate(json.loads(body), {**schema, "components": doc["components"]})
    except (ValueError, jsonschema.ValidationError) as exc:
        return f"{status} with an undocumented body {body[:200]!r}: {str(exc)[:200]}"
    return None
