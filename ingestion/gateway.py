"""A local API Gateway (REST API, Lambda proxy integration) in front of the pageview handler.

``python -m ingestion.gateway`` (``make gateway``) serves ``POST /pageview`` and its CORS
preflight ``OPTIONS /pageview`` on ``NEWSLAKE_SERVE_HOST:NEWSLAKE_GATEWAY_PORT``, and the
API's OpenAPI document at ``GET /openapi.json``. Each
request becomes the proxy event API Gateway would send and goes, unchanged, to
``ingestion.handler.lambda_handler``: the browser tracker talks locally to the same code that
runs on Lambda. Like API Gateway with a proxy integration, the gateway adds nothing of its
own to the answer (CORS headers, for one, are the handler's to give); it only refuses bodies
over 1 MB with 413 and answers 502 when the handler fails, before or instead of the handler.

The handler keeps one invocation's state in module objects, as Lambda runs one invocation at
a time per instance; ``--workers N`` runs N processes, like N warm Lambda instances. A worker
calls the handler on its event loop's thread, so it answers one request at a time while the
handler runs (it did so before too, behind the handler's lock); handing each call to a
thread added CPU to every request and lengthened the tail latency of ``make bench-ingest``
(figures in ``benchmarks/README.md``).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import logging
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from newslake.gctune import freeze_long_lived
from newslake.settings import Settings, get_settings

log = logging.getLogger(__name__)

RESOURCE = "/pageview"
OPENAPI_PATH = "/openapi.json"  # the API's document (ingestion/openapi.py)
STAGE = "local"
MAX_BODY_BYTES = 1024 * 1024
INTEGRATION_TIMEOUT_MS = 29_000  # API Gateway's limit; the Lambda context counts down from it
ACCOUNT_ID = "123456789012"  # moto's account

Invoke = Callable[[dict[str, Any], Any], Mapping[str, Any]]
"""A Lambda handler: ``(event, context) -> {statusCode, headers, body, ...}``."""


@dataclass(frozen=True)
class LambdaContext:
    """The parts of Lambda's context object that handlers and Powertools' Logger read."""

    aws_request_id: str
    function_name: str
    invoked_function_arn: str
    deadline_ms: int
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    log_group_name: str = ""
    log_stream_name: str = "local"
    identity: Any = None  # Cognito identity: mobile SDK calls only
    client_context: Any = None  # mobile SDK calls only
    tenant_id: str | None = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - int(time.time() * 1000))


def proxy_event(
    *,
    method: str,
    path: str,
    headers: Iterable[tuple[str, str]],
    query: Iterable[tuple[str, str]],
    body: bytes,
    source_ip: str | None,
    request_id: str,
    now_ms: int,
    stage: str = STAGE,
    resource: str = RESOURCE,
) -> dict[str, Any]:
    """The API Gateway REST proxy event for one HTTP request.

    As API Gateway does, single-value maps keep the last of repeated names, empty maps and
    an empty body are None, and a body that is not UTF-8 text is passed base64-encoded.

    Args:
        method: the HTTP method, e.g. ``"POST"``.
        path: the request path, e.g. ``"/pageview"``.
        headers: header (name, value) pairs in the order received.
        query: query-string (name, value) pairs in the order received.
        body: the raw request body.
        source_ip: the client's address.
        request_id: a fresh id for ``requestContext.requestId`` and the Lambda context.
        now_ms: the request time, epoch milliseconds.
        stage: the API stage name.
        resource: the API resource the request matched.
    """
    multi_headers = _multi(headers)
    multi_query = _multi(query)
    single_headers = {name: values[-1] for name, values in multi_headers.items()}
    lower = {name.lower(): value for name, value in single_headers.items()}
    text, is_base64 = _event_body(body)
    context = _request_context(
        method=method,
        path=path,
        stage=stage,
        resource=resource,
        request_id=request_id,
        now_ms=now_ms,
        domain=lower.get("host"),
    )
    context["identity"] = _identity(source_ip, lower.get("user-agent"))
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": single_headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": context,
        "body": text,
        "isBase64Encoded": is_base64,
    }


def _event_body(body: bytes) -> tuple[str | None, bool]:
    """The event's body and whether it is base64: None when empty, base64 when not UTF-8."""
    try:
        text, is_base64 = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, is_base64 = base64.b64encode(body).decode("ascii"), True
    return (text if body else None), is_base64


def _request_context(
    *,
    method: str,
    path: str,
    stage: str,
    resource: str,
    request_id: str,
    now_ms: int,
    domain: str | None,
) -> dict[str, Any]:
    """``requestContext`` without its ``identity``."""
    request_time = datetime.fromtimestamp(now_ms / 1000, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    return {
        "accountId": ACCOUNT_ID,
        "apiId": "local",
        "resourceId": "local",
        "resourcePath": resource,
        "httpMethod": method,
        "path": f"/{stage}{path}",
        "stage": stage,
        "protocol": "HTTP/1.1",
        "requestId": request_id,
        "extendedRequestId": request_id,
        "requestTime": request_time,
        "requestTimeEpoch": now_ms,
        "domainName": domain,
    }


def _identity(source_ip: str | None, user_agent: str | None) -> dict[str, Any]:
    """``requestContext.identity`` of an unauthenticated caller: its address and agent."""
    return {
        "sourceIp": source_ip,
        "userAgent": user_agent,
        "accountId": None,
        "caller": None,
        "user": None,
        "userArn": None,
        "apiKey": None,
        "accessKey": None,
        "cognitoIdentityId": None,
        "cognitoIdentityPoolId": None,
        "cognitoAuthenticationType": None,
        "cognitoAuthenticationProvider": None,
    }


def _multi(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return out


class BadHandlerResponse(ValueError):
    """The handler returned something API Gateway could not turn into an HTTP response."""


def http_response(result: Mapping[str, Any], request_id: str) -> Response:
    """The HTTP response API Gateway makes of a proxy integration's result.

    ``multiValueHeaders`` and ``headers`` are merged; where both name a header, the values
    of ``multiValueHeaders`` win, as on API Gateway.

    Raises:
        BadHandlerResponse: no integer ``statusCode``, a body that is not a string, or a
            base64 body that does not decode (API Gateway answers 502 to those).
    """
    if not isinstance(result, Mapping):
        raise BadHandlerResponse(f"the handler returned {type(result).__name__}, not a dict")
    status = result.get("statusCode")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise BadHandlerResponse(f"statusCode must be an HTTP status, not {status!r}")
    body = result.get("body")
    if body is None:
        content = b""
    elif not isinstance(body, str):
        raise BadHandlerResponse(f"body must be a string, not {type(body).__name__}")
    elif result.get("isBase64Encoded"):
        try:
            content = base64.b64decode(body, validate=True)
        except binascii.Error as exc:
            raise BadHandlerResponse(f"body is not valid base64: {exc}") from exc
    else:
        content = body.encode("utf-8")

    pairs: list[tuple[str, str]] = []
    multi = result.get("multiValueHeaders") or {}
    for name, values in multi.items():
        pairs.extend((name, str(v)) for v in (values if isinstance(values, list) else [values]))
    taken = {name.lower() for name in multi}
    pairs.extend(
        (name, str(v))
        for name, v in (result.get("headers") or {}).items()
        if name.lower() not in taken
    )
    response = Response(content=content, status_code=status)
    response.raw_headers.extend(
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in pairs
        if name.lower() != "content-length"  # the gateway frames the body itself
    )
    response.raw_headers.append((b"x-amzn-requestid", request_id.encode("latin-1")))
    return response


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to be longer than ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _gateway_error(status: int, message: str, request_id: str) -> Response:
    return JSONResponse({"message": message}, status, headers={"x-amzn-RequestId": request_id})


async def _openapi(request: Request) -> Response:
    """The API's OpenAPI document; local only: in AWS it is the committed openapi.json."""
    from ingestion.openapi import document

    return JSONResponse(document())


def create_app(
    settings: Settings | None = None,
    *,
    invoke: Invoke | None = None,
    stage: str = STAGE,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> Starlette:
    """The gateway app.

    Args:
        settings: names the Lambda function in the context object; None reads
            ``NEWSLAKE_*``. The handler reads its own settings, as it does on Lambda.
        invoke: the Lambda handler; None is ``ingestion.handler.lambda_handler``.
        stage: the stage name in ``requestContext``.
        max_body_bytes: longer bodies are answered 413 without calling the handler.
    """
    settings = settings or get_settings()
    if invoke is None:
        from ingestion.handler import lambda_handler

        invoke = lambda_handler
    handler: Invoke = invoke
    function_name = f"{settings.name_prefix}-pageview"
    function_arn = f"arn:aws:lambda:{settings.region}:{ACCOUNT_ID}:function:{function_name}"

    async def pageview(request: Request) -> Response:
        request_id = str(uuid.uuid4())
        body = await _read_body(request, max_body_bytes)
        if body is None:
            return _gateway_error(
                413, f"request body is larger than {max_body_bytes} bytes", request_id
            )
        now_ms = int(time.time() * 1000)
        event = proxy_event(
            method=request.method,
            path=request.url.path,
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
            query=request.query_params.multi_items(),
            body=body,
            source_ip=request.client.host if request.client else None,
            request_id=request_id,
            now_ms=now_ms,
            stage=stage,
        )
        context = LambdaContext(
            aws_request_id=request_id,
            function_name=function_name,
            invoked_function_arn=function_arn,
            deadline_ms=now_ms + INTEGRATION_TIMEOUT_MS,
            log_group_name=f"/aws/lambda/{function_name}",
        )
        try:
            # Blocking, on purpose: one invocation at a time per worker (see the module doc).
            result = handler(event, context)
            return http_response(result, request_id)
        except Exception:
            log.exception("the pageview handler failed on request %s", request_id)
            return _gateway_error(502, "Internal server error", request_id)

    return Starlette(
        routes=[
            Route(RESOURCE, pageview, methods=["POST", "OPTIONS"]),
            Route(OPENAPI_PATH, _openapi, methods=["GET"]),
        ]
    )


def serve_app() -> Starlette:
    """The app of one server worker process (uvicorn's factory): the handler's resolver and
    clients are built now, then the worker's heap is frozen out of full collections, which
    paused it under load for longer than a request takes (:mod:`newslake.gctune`)."""
    from ingestion.handler import prepare

    prepare()
    app = create_app()
    freeze_long_lived()
    return app


def main(argv: list[str] | None = None) -> int:
    """Serve on NEWSLAKE_SERVE_HOST:NEWSLAKE_GATEWAY_PORT until interrupted."""
    import uvicorn

    from newslake.local import server

    parser = argparse.ArgumentParser(
        prog="python -m ingestion.gateway", description="Serve POST /pageview locally."
    )
    parser.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        help="processes; the handler takes one request at a time per process, as a Lambda "
        "instance does, so this is the gateway's concurrency (default 1)",
    )
    parser.add_argument(
        "--no-access-log", action="store_true", help="no log line per request (benchmarks)"
    )
    args = parser.parse_args(argv)
    settings = get_settings()
    if settings.profile == "local" and not server.is_running(settings):
        print(
            f"error: the local platform is not running at {settings.endpoint_url}; "
            "start it with `make up` (or run `make gateway`)",
            file=sys.stderr,
        )
        return 1
    host, port = settings.serve_host, settings.gateway_port
    print(
        f"pageview gateway: POST http://{host}:{port}{RESOURCE} -> "
        f"ingestion.handler.lambda_handler ({settings.profile} profile, "
        f"{args.workers} worker{'s' if args.workers > 1 else ''})",
        flush=True,
    )
    # An import string, so that each worker process builds its own app (and handler state).
    uvicorn.run(
        "ingestion.gateway:serve_app",
        factory=True,
        host=host,
        port=port,
        workers=args.workers,
        log_level="info",
        access_log=not args.no_access_log,
    )
    return 0


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


if __name__ == "__main__":
    sys.exit(main())
