"""Request ids, JSON logs and request metrics, as one pure ASGI middleware.

Every request gets an id (the caller's ``X-Request-ID`` when it is a sane token, else
API Gateway's request id behind Lambda, else a new one), sent back in ``X-Request-ID``
and put on every log line written while the request runs. One JSON access line per
request carries method, route template, status and latency; the same observation feeds
the Prometheus histogram.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newslake.privacy import logged_reader
from serving.metrics import RequestMetrics

REQUEST_ID_HEADER = b"x-request-id"
_SANE_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
_UNMATCHED = "unmatched"  # 404s of unknown paths share one series, whatever the path
# privacy: a reader's id in a path, matched or not (a 404 of a mistyped route holds one too)
_READER_IN_PATH = re.compile(r"(/portals/([^/]*)/users/)([^/]*)")

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
access_logger = logging.getLogger("serving.access")

# Attributes every LogRecord has; anything else on a record came in through ``extra``.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's copy of the message with terminal colours
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id.get()
        if rid is not None:
            entry["request_id"] = rid
        entry.update((k, v) for k, v in vars(record).items() if k not in _STANDARD)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, separators=(",", ":"))


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines on stderr for every logger (uvicorn's too); for entry points, not tests."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else _UNMATCHED


def logged_path(path: str, key: str | None) -> str:
    """``path`` with any reader id replaced by ``~`` and the reader's pseudonym, the key of
    their erasure request (``~`` alone without a key): logs name readers only so (README,
    "For the privacy officer")."""
    return _READER_IN_PATH.sub(
        lambda m: m[1] + logged_reader(m[2], m[3], key) if m[3] else m[0], path
    )


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            return value.decode() if _SANE_ID.fullmatch(value) else None
    # Behind API Gateway + Lambda, Mangum hands over the event: use the gateway's id.
    event = scope.get("aws.event")
    context = event.get("requestContext") if isinstance(event, dict) else None
    gateway_id = context.get("requestId") if isinstance(context, dict) else None
    return gateway_id if isinstance(gateway_id, str) and gateway_id else None


class ObservabilityMiddleware:
    """Wraps the app: request id, access log line and latency histogram per request.

    Args:
        app: the ASGI app.
        metrics: where latencies are observed.
        access_log: whether to write the JSON access line (the histogram is kept either
            way); asked on the first request, once settings are read.
        reader_key: the key of the readers' pseudonyms in logged paths, asked when the first
            line is written.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: RequestMetrics,
        access_log: Callable[[], bool],
        reader_key: Callable[[], str | None],
    ) -> None:
        self.app = app
        self.metrics = metrics
        self._access_log_setting = access_log
        self._access_log: bool | None = None
        self._reader_key_setting = reader_key
        self._reader_key: str | None = None
        self._reader_key_read = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming_id(scope) or uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500  # what the caller sees if the app dies before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", ()),
                    (REQUEST_ID_HEADER, rid.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_of(scope)
            self.metrics.observe(scope["method"], route, status, elapsed)
            if self._access_log is None:
                self._access_log = self._access_log_setting()
            if self._access_log:
                if not self._reader_key_read:
                    self._reader_key, self._reader_key_read = self._reader_key_setting(), True
                access_logger.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "route": route,
                        "path": logged_path(scope["path"], self._reader_key),
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 3),
                    },
                )
            request_id.reset(token)
