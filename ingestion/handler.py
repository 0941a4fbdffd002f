"""``POST /pageview``: the API Gateway (REST, proxy integration) Lambda handler.

The handler is thin: Powertools' ``APIGatewayRestResolver`` routes the request and answers
CORS preflights for the portals' origins, ``Logger`` writes JSON logs whose correlation id is
the API Gateway request id, and ``Metrics`` publishes CloudWatch EMF counts (namespace
``newslake``). The logic lives in plain functions:
:func:`ingestion.validation.parse_request` decodes and validates a body, :func:`decide` also
routes what is valid, and :func:`accept` does both for callers that hold their own clients
(tests, the end-to-end slice).

Answers (JSON, with ``error`` and a ``problems`` list when refused; a CORS preflight gets 204):

* 200 ``{"accepted": n}``: every event is durably in Kinesis or the SQS retry queue.
* 400: the body or an event is invalid. **A batch with any bad event is refused whole** and
  nothing of it is stored, so the tracker never has to work out which part got in; every
  problem is listed as ``{"index", "field", "message"}`` (``index`` None for the request).
* 415: the content type is neither ``application/json`` nor ``text/plain`` (sendBeacon).
* 503: neither Kinesis nor the retry queue took every event; part of the batch may be
  stored, and sending it again is safe because the lake deduplicates by ``event_id``.

What an event must be, beyond :class:`ingestion.schema.Pageview`: its portal is configured,
its URL's host is one of the portal's domains (or a subdomain) written plainly,
``referrer`` and ``clicked_urls`` are http(s), no URL holds what a browser reads otherwise
than ``urlsplit`` (a backslash, whitespace, a control character), ``client_ts`` lies
between ``max_event_age_s`` before and ``max_clock_skew_future_s`` after the server clock,
and ids hold no control characters.
Markup or script in a string field is data: stored as sent, only ever answered as JSON.
A malformed ``rec_id``/``rec_position`` refuses nothing: the event is stored as an organic
pageview (both null) and counted in a ``RecAttributionRefused…`` metric for its reason.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from ingestion import routing
from ingestion.schema import SERVER_TS
from ingestion.validation import (
    REC_BAD_POSITION,
    REC_INCOMPLETE,
    REC_MALFORMED_ID,
    parse_request,
)
from newslake import aws
from newslake.settings import Settings, get_settings

PATH = "/pageview"
# text/plain is what navigator.sendBeacon sends with a string body.
CONTENT_TYPES = ("application/json", "text/plain")
CORS_MAX_AGE_S = 600
# One metric per reason a pageview's recommendation was set aside, as for every count here.
REC_REFUSED_METRICS = {
    REC_INCOMPLETE: "RecAttributionRefusedIncomplete",
    REC_MALFORMED_ID: "RecAttributionRefusedMalformedId",
    REC_BAD_POSITION: "RecAttributionRefusedBadPosition",
}

logger = Logger(service="newslake-pageview-api")
metrics = Metrics(namespace="newslake", service="pageview-api")


@dataclass(frozen=True)
class Clients:
    kinesis: Any
    sqs: Any
    retry_queue_url: str | None


@dataclass(frozen=True)
class Outcome:
    """What one request came to: the HTTP answer and the counts behind the metrics."""

    status: int
    body: dict[str, Any]
    accepted: int = 0
    rejected: int = 0
    to_retry_queue: int = 0
    # Accepted events stored as organic pageviews, by why their recommendation was refused.
    rec_refused: Mapping[str, int] = field(default_factory=dict)


class LocalContext(LambdaContext):
    """The Lambda context for calls outside Lambda (tests, the local gateway, local loops).

    Powertools' Logger and Metrics read the function name, ARN, memory and request id from it.
    """

    def __init__(self, function_name: str, request_id: str | None = None) -> None:
        self._function_name = function_name
        self._function_version = "$LATEST"
        self._invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{function_name}"
        self._memory_limit_in_mb = 128
        self._aws_request_id = request_id or str(uuid.uuid4())
        self._log_group_name = f"/aws/lambda/{function_name}"
        self._log_stream_name = "local"


# ---- acceptance --------------------------------------------------------------------


def decide(body: str, settings: Settings, clients: Callable[[], Clients], now_ms: int) -> Outcome:
    """Validate a body and route its events; AWS is only reached for a valid batch."""
    parsed = parse_request(body, settings, now_ms)
    if parsed.problems:
        return Outcome(
            400,
            {
                "error": "invalid request: nothing was stored; fix the problems and send "
                "the whole batch again",
                "problems": parsed.problems,
            },
            rejected=parsed.received,
        )
    records = routing.outbound_records(
        [{**e.model_dump(), SERVER_TS: now_ms} for e in parsed.events], settings
    )
    c = clients()
    result = routing.route(records, c.kinesis, c.sqs, c.retry_queue_url)
    if result.failed:
        return Outcome(
            503,
            {
                "error": "could not store every event, retry the whole batch later "
                "(events are deduplicated by event_id)",
                "problems": [],
            },
            to_retry_queue=result.in_retry_queue,
        )
    return Outcome(
        200,
        {"accepted": len(records)},
        accepted=len(records),
        to_retry_queue=result.in_retry_queue,
        rec_refused=parsed.rec_refused,
    )


def accept(
    body: str, settings: Settings, clients: Clients, now_ms: int
) -> tuple[int, dict[str, Any]]:
    """Validate and route one request body; returns (HTTP status, JSON body)."""
    outcome = decide(body, settings, lambda: clients, now_ms)
    return outcome.status, outcome.body


# ---- Lambda wiring -----------------------------------------------------------------


@lru_cache(maxsize=1)
def _aws_clients() -> tuple[Any, Any]:
    settings = get_settings()
    # Short timeouts: the tracker is waiting, and the retry queue is the fallback.
    return (
        aws.client("kinesis", settings, timeout_s=2.0, max_attempts=2),
        aws.client("sqs", settings, timeout_s=2.0, max_attempts=2),
    )


@lru_cache(maxsize=1)
def _retry_queue_url() -> str:
    """Looked up once; a failed lookup raises, is not cached, and is tried again next time."""
    _, sqs = _aws_clients()
    return str(sqs.get_queue_url(QueueName=get_settings().retry_queue_name)["QueueUrl"])


def _default_clients() -> Clients:
    kinesis, sqs = _aws_clients()
    try:
        url: str | None = _retry_queue_url()
    except (ClientError, BotoCoreError) as exc:
        logger.error(
            "retry queue lookup failed; Kinesis alone this time", extra={"error": str(exc)}
        )
        url = None
    return Clients(kinesis, sqs, url)


def _json(status: int, body: dict[str, Any]) -> Response[str]:
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps(body, separators=(",", ":")),
    )


def _body_text(event: dict[str, Any]) -> str | None:
    """The body as text, or None when it is not valid UTF-8 (or base64)."""
    body = event.get("body") or ""
    try:
        raw = (
            base64.b64decode(body, validate=True) if event.get("isBase64Encoded") else body.encode()
        )
        return raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def _record(outcome: Outcome) -> None:
    for name, value in (
        ("EventsAccepted", outcome.accepted),
        ("EventsRejected", outcome.rejected),
        ("EventsToRetryQueue", outcome.to_retry_queue),
        ("RequestsUnavailable", int(outcome.status == 503)),
        *((REC_REFUSED_METRICS[r], n) for r, n in outcome.rec_refused.items()),
    ):
        if value:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def build_app(settings: Settings, clients: Callable[[], Clients]) -> APIGatewayRestResolver:
    """The API: ``POST /pageview`` and CORS for the portals' origins (Powertools answers
    preflights itself). ``clients`` is called only when a valid batch is to be stored."""
    origins = settings.allowed_origins()
    cors = (
        CORSConfig(allow_origin=origins[0], extra_origins=list(origins[1:]), max_age=CORS_MAX_AGE_S)
        if origins
        else None  # never CORSConfig's default, which allows every origin
    )
    app = APIGatewayRestResolver(cors=cors)

    @app.post(PATH)
    def post_pageview() -> Response[str]:
        content_type = (app.current_event.headers.get("content-type") or "").split(";")[0]
        if content_type.strip().lower() not in CONTENT_TYPES:
            logger.info("refused content type", extra={"content_type": content_type[:100]})
            message = "content type must be application/json (or text/plain from sendBeacon)"
            return _json(415, {"error": message, "problems": []})
        body = _body_text(app.current_event.raw_event)
        if body is None:
            return _json(400, {"error": "body is not UTF-8 text", "problems": []})
        outcome = decide(body, settings, clients, int(time.time() * 1000))
        _record(outcome)
        if outcome.status == 503:
            logger.error("kinesis and the retry queue both refused events")
        elif outcome.status == 400:
            logger.info("invalid request", extra={"problems": len(outcome.body["problems"])})
        elif outcome.to_retry_queue:
            logger.warning("events parked in the retry queue", extra={"n": outcome.to_retry_queue})
        if outcome.rec_refused:
            # A portal's markup is wrong: the events are stored, as organic pageviews.
            logger.info("recommendations set aside", extra={"reasons": dict(outcome.rec_refused)})
        return _json(outcome.status, outcome.body)

    return app


def _finish(response: dict[str, Any]) -> dict[str, Any]:
    """Add the headers every answer carries, and a single-value ``headers`` view.

    API Gateway merges ``headers`` and ``multiValueHeaders``; callers outside it (the local
    gateway, tests) read ``headers`` as before.
    """
    multi = {k: list(v) for k, v in (response.get("multiValueHeaders") or {}).items()}
    multi["X-Content-Type-Options"] = ["nosniff"]
    multi["Vary"] = ["Origin"]  # the CORS answer depends on it, so caches must too
    return {**response, "multiValueHeaders": multi, "headers": {k: v[-1] for k, v in multi.items()}}


# privacy: never the event, whatever POWERTOOLS_LOGGER_LOG_EVENT says: its body holds reader ids
@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True, log_event=False
)
def handle(
    event: dict[str, Any], context: LambdaContext, app: APIGatewayRestResolver
) -> dict[str, Any]:
    """Answer one API Gateway proxy event with ``app``, logged and measured."""
    if logger.get_correlation_id() is None:  # a local call without requestContext
        logger.set_correlation_id(context.aws_request_id)
    try:
        return _finish(app.resolve(event, context))
    finally:
        # Flushed here rather than by @metrics.log_metrics, which warns on every preflight
        # and 415: those count nothing, by design.
        if metrics.metric_set:
            metrics.flush_metrics()


@lru_cache(maxsize=1)
def _default_app() -> APIGatewayRestResolver:
    return build_app(get_settings(), _default_clients)


def prepare() -> None:
    """Build the resolver and the AWS clients now rather than on the first request (no
    network call): a long-running server can then freeze them as long-lived."""
    _default_app()
    _aws_clients()


# The resolver (current_event), Logger and Metrics hold one invocation's state in module
# objects, as Lambda runs one invocation at a time per process. A local server that calls
# from threads gets the same guarantee from this lock.
_one_at_a_time = threading.Lock()


def lambda_handler(event: dict[str, Any], context: LambdaContext | None = None) -> dict[str, Any]:
    """API Gateway proxy entry point; ``context`` is None when called outside Lambda."""
    if context is None:
        request_id = (event.get("requestContext") or {}).get("requestId")
        context = LocalContext("newslake-pageview-local", request_id)
    with _one_at_a_time:
        return handle(event, context, _default_app())
