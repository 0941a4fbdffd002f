"""The pageview API's OpenAPI document, built from the code that answers it.

The request body is :class:`ingestion.schema.Pageview` (or a batch of them) and the answers
are those of :mod:`ingestion.handler`, so the document cannot drift from them:
``tests/ingestion/test_openapi.py`` checks that the committed ``ingestion/openapi.json``
equals :func:`document`, and the fuzz suite sends what the document allows (and what it
does not) to the handler, expecting only the statuses and bodies written here.

``python -m ingestion.openapi`` writes the file again after a change; ``--check`` says
whether it is current (exit 1 when not), for CI.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from ingestion.handler import CONTENT_TYPES, PATH
from ingestion.schema import Pageview
from ingestion.validation import MAX_BATCH, MAX_BODY_BYTES, MAX_EVENT_BYTES, MAX_JSON_DEPTH

FILE = Path(__file__).with_name("openapi.json")
OPENAPI_VERSION = "3.1.0"
API_VERSION = "1"
_REF = "#/components/schemas/{model}"


class PageviewBatch(BaseModel):
    """Up to MAX_BATCH events, accepted or refused together."""

    model_config = ConfigDict(extra="forbid")

    events: list[Pageview] = Field(min_length=1, max_length=MAX_BATCH)


class Accepted(BaseModel):
    """Every event is durably in Kinesis or in the SQS retry queue."""

    accepted: int = Field(ge=1, le=MAX_BATCH)


class Problem(BaseModel):
    """One reason a request was refused; ``index`` is the event's, None for the request."""

    index: int | None
    field: str | None
    message: str


class Refused(BaseModel):
    """Nothing of the request was stored (503: part of it may be; resending is safe)."""

    error: str
    problems: list[Problem]


class GatewayError(BaseModel):
    """API Gateway's own answer, before the handler runs."""

    message: str


_BODIES: tuple[type[BaseModel], ...] = (Pageview, PageviewBatch)
_ANSWERS: tuple[type[BaseModel], ...] = (Accepted, Refused, GatewayError)


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    ref = {"$ref": _REF.format(model=model.__name__)}
    return {"description": description, "content": {"application/json": {"schema": ref}}}


def _request_body() -> dict[str, Any]:
    event_or_batch = {"oneOf": [{"$ref": _REF.format(model=m.__name__)} for m in _BODIES]}
    json_type, beacon_type = CONTENT_TYPES
    return {
        "required": True,
        "description": (
            f'One event or {{"events": [...]}}, at most {MAX_BODY_BYTES} bytes of UTF-8 JSON '
            f"nested at most {MAX_JSON_DEPTH} deep, each event at most {MAX_EVENT_BYTES} bytes. "
            "Beyond the schema an event must name a configured portal, a URL on one of its "
            "domains and a client_ts near the server clock (ingestion/README.md). "
            f"{beacon_type} is what navigator.sendBeacon sends: the same JSON, as text."
        ),
        "content": {
            json_type: {"schema": event_or_batch},
            beacon_type: {"schema": {"type": "string"}},
        },
    }


def _post() -> dict[str, Any]:
    return {
        "operationId": "postPageview",
        "summary": "Collect pageview events from the browser tracker",
        "requestBody": _request_body(),
        "responses": {
            "200": _json(Accepted, "Every event is stored (Kinesis or the retry queue)."),
            "400": _json(
                Refused, "An empty or malformed body, or any invalid event: nothing is stored."
            ),
            "413": _json(GatewayError, "The body is larger than the gateway takes."),
            "415": _json(Refused, "Another content type: nothing is stored."),
            "503": _json(
                Refused, "Kinesis and the retry queue both refused: send the whole batch again."
            ),
        },
    }


def document() -> dict[str, Any]:
    """The OpenAPI document of ``POST /pageview``."""
    _, schemas = models_json_schema(
        [(m, "validation") for m in (*_BODIES, *_ANSWERS)], ref_template=_REF
    )
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "newslake pageview API",
            "version": API_VERSION,
            "description": "Pageview events from the browser tracker into the lake "
            "(ingestion/README.md#pageview-api).",
        },
        "paths": {PATH: {"post": _post()}},
        "components": {"schemas": schemas["$defs"]},
    }


def rendered() -> str:
    """The document as committed: indented JSON ending with a newline."""
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ingestion.openapi",
        description=f"Write the pageview API's OpenAPI document to {FILE.name}.",
    )
    parser.add_argument("--check", action="store_true", help="only say whether it is current")
    args = parser.parse_args(argv)
    current = FILE.read_text(encoding="utf-8") if FILE.exists() else ""
    if args.check:
        if current != rendered():
            print(f"{FILE} is stale: run python -m ingestion.openapi", file=sys.stderr)
            return 1
        return 0
    FILE.write_text(rendered(), encoding="utf-8")
    print(f"wrote {FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
