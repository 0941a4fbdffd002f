"""Oversized requests against the real server (uvicorn with httptools, as shipped, on
loopback): 4xx, never 5xx. httptools sets no limit of its own; the app's is 16 kB."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from newslake.local.ports import free_port
from newslake.settings import Settings
from serving.auth import TokenVerifier
from serving.main import create_app


@pytest.fixture
def port(fake_reader: Any, verifier: TokenVerifier) -> Iterator[int]:
    app = create_app(
        Settings(profile="local", moto_port=9, portals=("g1",), serving_access_log=False),
        reader=fake_reader,
        verifier=verifier,
    )
    chosen = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=chosen, http="httptools", log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield chosen
    server.should_exit = True
    thread.join(10)


def _status(port: int, headers: dict[str, str]) -> int:
    """The status line's code of one raw GET of the recommendations route."""
    lines = ["GET /v1/portals/g1/users/alice/recommendations HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    request = ("\r\n".join(lines) + "\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while b"\r\n" not in answer and (chunk := sock.recv(4096)):
            answer += chunk
    return int(answer.split(b" ", 2)[1])


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Authorization": "Bearer " + "a" * 9_000}, 401),  # too long for a token
        ({"Authorization": "Bearer " + "a" * 70_000}, 431),  # too long for a request head
        ({"X-Padding": "p" * 70_000}, 431),
        ({f"X-Many-{i}": "v" for i in range(2_000)}, 431),
        ({"X-Padding": "p" * 1_000_000}, 431),
    ],
    ids=["token 9 kB", "token 70 kB", "header 70 kB", "2000 headers", "header 1 MB"],
)
def test_oversized_requests_are_refused_with_4xx(
    port: int, headers: dict[str, str], status: int
) -> None:
    assert _status(port, headers) == status
