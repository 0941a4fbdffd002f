"""GET /healthz, /readyz and /metrics, and the request id on every answer."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from newslake.settings import Settings
from serving.main import create_app
from serving.observability import JsonFormatter
from tests.utils.tokens import bearer


def test_healthz_is_ok_without_any_platform() -> None:
    # Port 9 (discard) has no moto server: health must not depend on AWS.
    client = TestClient(create_app(Settings(profile="local", moto_port=9)))

    response = client.get("/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_is_ready_with_the_store_and_the_keys(client: TestClient) -> None:
    response = client.get("/readyz")

    assert (response.status_code, response.json()) == (
        200,
        {"status": "ready", "checks": {"store": "ok", "jwks": "ok"}},
    )


def test_readyz_is_503_naming_what_is_missing() -> None:
    client = TestClient(create_app(Settings(profile="local", moto_port=9)))

    response = client.get("/readyz")

    assert (response.status_code, response.json()) == (
        503,
        {"status": "not ready", "checks": {"store": "unreachable", "jwks": "unavailable"}},
    )


def test_metrics_has_latency_by_route_template_and_status(
    client: TestClient, make_token: Callable[..., str]
) -> None:
    client.get("/v1/portals/g1/users/alice/recommendations", headers=bearer(make_token()))
    client.get("/v1/portals/g1/users/alice/recommendations")

    response = client.get("/metrics")

    text = response.text
    series = 'method="GET",route="/v1/portals/{portal}/users/{user_id}/recommendations"'
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert f'newslake_serving_request_duration_seconds_count{{{series},status="200"}} 1' in text
    assert f'newslake_serving_request_duration_seconds_count{{{series},status="401"}} 1' in text
    assert "alice" not in text


def test_unknown_paths_share_one_series(client: TestClient) -> None:
    client.get("/no/such/path/123")

    assert 'route="unmatched",status="404"} 1' in client.get("/metrics").text


def test_answers_carry_the_callers_request_id_or_a_new_one(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "req-42"})
    made = client.get("/healthz")
    refused = client.get("/healthz", headers={"X-Request-ID": "bad id\twith tab"})

    assert given.headers["X-Request-ID"] == "req-42"
    assert len(made.headers["X-Request-ID"]) == 32
    assert refused.headers["X-Request-ID"] != "bad id\twith tab"


def test_access_line_is_json_with_the_request_id(caplog: pytest.LogCaptureFixture) -> None:
    client = TestClient(create_app(Settings(profile="local", moto_port=9)))
    caplog.set_level(logging.INFO, logger="serving.access")
    formatted: list[dict[str, Any]] = []

    class Capture(logging.Handler):
        # Formats while the request's id is still set, as the real handler does.
        def emit(self, record: logging.LogRecord) -> None:
            formatted.append(json.loads(JsonFormatter().format(record)))

    handler = Capture()
    logging.getLogger("serving.access").addHandler(handler)
    try:
        client.get("/healthz", headers={"X-Request-ID": "req-7"})
    finally:
        logging.getLogger("serving.access").removeHandler(handler)

    (line,) = formatted
    assert {k: line[k] for k in ("message", "request_id", "method", "route", "status")} == {
        "message": "request",
        "request_id": "req-7",
        "method": "GET",
        "route": "/healthz",
        "status": 200,
    }
    assert isinstance(line["duration_ms"], float)
