"""Refusing oversized request heads before any parsing: 431, the same behind uvicorn and
behind API Gateway + Lambda (where the gateway's own limit is 10 kB)."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

# h11's (uvicorn's) limit on an incomplete request head; a complete one may be larger.
MAX_HEADER_BYTES = 16 * 1024


class HeaderLimitMiddleware:
    """Answers 431 when the request's header names and values add up to over ``max_bytes``."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = MAX_HEADER_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = sum(len(name) + len(value) for name, value in scope["headers"])
            if size > self.max_bytes:
                await self._refuse(send)
                return
        await self.app(scope, receive, send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {"detail": f"request headers exceed {self.max_bytes} bytes: send fewer or shorter"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 431,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
