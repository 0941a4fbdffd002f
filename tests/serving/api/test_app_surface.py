"""What the app answers besides its routes: no redirect built from the Host header, no
documentation pages loading third-party scripts, /metrics only where a setting opens it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from serving.auth import TokenVerifier
from serving.main import create_app
from tests.utils.serving_app import app_settings
from tests.utils.tokens import bearer

NOT_FOUND = {"detail": "Not Found"}


def _client(verifier: TokenVerifier, reader: Any, **changes: Any) -> TestClient:
    return TestClient(create_app(app_settings(**changes), reader=reader, verifier=verifier))


@pytest.mark.parametrize(
    "path", ["/v1/portals/g1/users/alice/recommendations/", "/v1/portals/g1/trending/", "/healthz/"]
)
def test_a_trailing_slash_is_404_not_a_redirect_to_the_callers_host(
    client: TestClient, make_token: Any, path: str
) -> None:
    headers = {**bearer(make_token()), "Host": "evil.example"}

    response = client.get(path, headers=headers, follow_redirects=False)

    assert (response.status_code, response.json(), response.headers.get("location")) == (
        404,
        NOT_FOUND,
        None,
    )


@pytest.mark.parametrize("profile", ["local", "aws"])
def test_no_docs_pages_only_the_openapi_document(
    verifier: TokenVerifier, reader: Any, profile: str
) -> None:
    client = _client(verifier, reader, profile=profile)

    answers = {path: client.get(path).status_code for path in ("/docs", "/redoc", "/openapi.json")}

    assert answers == {"/docs": 404, "/redoc": 404, "/openapi.json": 200}
    assert client.get("/openapi.json").json()["info"]["title"] == "newslake serving"


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"profile": "local"}, 200),
        ({"profile": "aws"}, 404),
        ({"profile": "aws", "serving_metrics": True}, 200),
        ({"profile": "local", "serving_metrics": False}, 404),
    ],
    ids=["local", "aws", "aws-enabled", "local-disabled"],
)
def test_metrics_answer_only_where_enabled(
    verifier: TokenVerifier, reader: Any, changes: dict[str, Any], status: int
) -> None:
    response = _client(verifier, reader, **changes).get("/metrics")

    assert response.status_code == status
    if status == 404:
        assert response.json() == NOT_FOUND
    else:
        assert "newslake_serving_request_duration_seconds" in response.text
