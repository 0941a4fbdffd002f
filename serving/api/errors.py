"""Answers to bad requests: one clear line that says what to send instead.

FastAPI's own 422 body is a list of pydantic errors meant for programs; callers of this
API get ``{"detail": "limit must be an integer from 1 to 100 (got '0')"}`` instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from fastapi import FastAPI, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from serving.api.deps import ID_RULE

# What a valid value of each parameter looks like, for the message.
RULES = {
    "limit": "must be an integer from 1 to 100",
    "user_id": f"must be {ID_RULE}",
    "article_id": f"must be {ID_RULE}",
    "reader_id": f"must be {ID_RULE}",
}
SHOWN_INPUT_CHARS = 40
METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def _one(error: Mapping[str, Any]) -> str:
    location: Sequence[Any] = error.get("loc", ())
    name = str(location[-1]) if location else "request"
    rule = RULES.get(name, str(error.get("msg", "is invalid")).lower())
    given = error.get("input")
    if isinstance(given, str):
        shown = given if len(given) <= SHOWN_INPUT_CHARS else given[:SHOWN_INPUT_CHARS] + "..."
        return f"{name} {rule} (got {shown!r})"
    return f"{name} {rule}"


def validation_message(errors: Sequence[Mapping[str, Any]]) -> str:
    """One line for all of a request's validation errors, each parameter once."""
    return "; ".join(dict.fromkeys(_one(e) for e in errors)) or "the request is invalid"


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse(
        {"detail": validation_message(errors)},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    """FastAPI's answer, except that a 405's ``Allow`` names every method the path takes:
    Starlette names only those of the first route matching the path, and a path served
    by two routes (PUT and DELETE of an editorial control) would seem to take one."""
    if isinstance(exc, StarletteHTTPException) and exc.status_code == 405:
        routes = request.app.router.routes
        methods = [
            method
            for method in METHODS
            if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
        ]
        exc.headers = {**(exc.headers or {}), "Allow": ", ".join(methods)}
    return await http_exception_handler(request, cast(StarletteHTTPException, exc))


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
