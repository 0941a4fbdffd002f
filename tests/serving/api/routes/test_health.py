"""GET /healthz."""

from __future__ import annotations

from fastapi.testclient import TestClient

from newslake.settings import Settings
from serving.main import create_app


def test_healthz_is_ok_without_any_platform() -> None:
    # Port 9 (discard) has no moto server: health must not depend on AWS.
    client = TestClient(create_app(Settings(profile="local", moto_port=9)))

    response = client.get("/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})
