"""``POST /pageview``: the API Gateway (REST, proxy integration) Lambda handler.

The handler is thin: it decodes the proxy event, validates with :mod:`ingestion.schema`
and hands the events to :mod:`ingestion.routing`. A batch with any bad event is refused
whole with 400 and a list of every problem, so nothing of a bad request is stored.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from ingestion import routing
from ingestion.schema import SERVER_TS, Pageview
from newslake import aws
from newslake.settings import Settings, get_settings

MAX_BODY_BYTES = 256 * 1024
MAX_EVENT_BYTES = 8 * 1024
MAX_BATCH = 100


@dataclass(frozen=True)
class Clients:
    kinesis: Any
    sqs: Any
    retry_queue_url: str | None


@lru_cache(maxsize=1)
def _default_clients() -> Clients:
    settings = get_settings()
    # Short timeouts: the tracker is waiting, and the retry queue is the fallback.
    sqs = aws.client("sqs", settings, timeout_s=2.0, max_attempts=2)
    url = sqs.get_queue_url(QueueName=settings.retry_queue_name)["QueueUrl"]
    return Clients(aws.client("kinesis", settings, timeout_s=2.0, max_attempts=2), sqs, url)


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body, separators=(",", ":")),
    }


def parse_events(body: str, settings: Settings) -> tuple[list[Pageview], list[dict[str, Any]]]:
    """Decode and validate a request body: one event, or ``{"events": [...]}``.

    Returns:
        The valid events and a list of problems, each ``{"index", "field", "message"}``
        (``index`` is None for problems of the whole request).
    """
    if len(body.encode()) > MAX_BODY_BYTES:
        return [], [_problem(None, None, f"body is larger than {MAX_BODY_BYTES} bytes")]
    try:
        doc = json.loads(body)
    except json.JSONDecodeError as exc:
        return [], [_problem(None, None, f"body is not valid JSON: {exc.msg}")]
    if isinstance(doc, dict) and "events" in doc:
        raw = doc["events"]
        if not isinstance(raw, list) or not raw:
            return [], [_problem(None, "events", "events must be a non-empty list")]
    elif isinstance(doc, dict):
        raw = [doc]
    else:
        return [], [_problem(None, None, 'body must be an event object or {"events": [...]}')]
    if len(raw) > MAX_BATCH:
        return [], [_problem(None, "events", f"a batch holds at most {MAX_BATCH} events")]
    events: list[Pageview] = []
    problems: list[dict[str, Any]] = []
    for i, item in enumerate(raw):
        if len(json.dumps(item).encode()) > MAX_EVENT_BYTES:
            problems.append(_problem(i, None, f"event is larger than {MAX_EVENT_BYTES} bytes"))
            continue
        try:
            event = Pageview.model_validate(item)
        except ValidationError as exc:
            problems.extend(
                _problem(i, ".".join(str(p) for p in err["loc"]) or None, err["msg"])
                for err in exc.errors(include_url=False)
            )
            continue
        if event.portal not in settings.portals:
            problems.append(_problem(i, "portal", f"unknown portal {event.portal!r}"))
            continue
        events.append(event)
    return events, problems


def _problem(index: int | None, field: str | None, message: str) -> dict[str, Any]:
    return {"index": index, "field": field, "message": message}


def accept(
    body: str, settings: Settings, clients: Clients, now_ms: int
) -> tuple[int, dict[str, Any]]:
    """Validate and route one request body; returns (HTTP status, JSON body)."""
    events, problems = parse_events(body, settings)
    if problems:
        return 400, {"error": "invalid request", "problems": problems}
    records = routing.outbound_records(
        [{**e.model_dump(), SERVER_TS: now_ms} for e in events], settings
    )
    result = routing.route(records, clients.kinesis, clients.sqs, clients.retry_queue_url)
    if result.failed:
        return 503, {"error": "could not store the events, retry later", "stored": 0}
    return 200, {"accepted": len(records)}


def lambda_handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """API Gateway proxy entry point."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    content_type = headers.get("content-type", "")
    if not content_type.startswith(("application/json", "text/plain")):
        # text/plain is what navigator.sendBeacon sends with a string body.
        return _response(415, {"error": "content type must be application/json"})
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", errors="replace")
    status, payload = accept(body, get_settings(), _default_clients(), int(time.time() * 1000))
    return _response(status, payload)
