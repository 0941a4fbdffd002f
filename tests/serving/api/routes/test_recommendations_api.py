"""GET /v1/portals/{portal}/users/{user_id}/recommendations: HTTP status, auth and body.

The verifier is the real one, over the tests' own keys; the store is the in-memory
FakeReader (conftest), so these tests run without a platform.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from newslake.settings import Settings
from newslake.store import ScoredItem
from serving.api.deps import get_recommender, get_verifier
from serving.auth import AuthUnavailableError, JwksCache, TokenVerifier
from serving.main import create_app
from serving.recommender import Recommender

TokenFactory = Callable[..., str]


@pytest.fixture
def reader(fake_reader: Any) -> Any:
    fake_reader.versions["g1"] = "v2"
    fake_reader.records[("g1#user#alice", "v2")] = [
        ScoredItem("a-101", 0.91),
        ScoredItem("a-102", 0.55),
    ]
    fake_reader.records[("g1#popular", "v2")] = [ScoredItem("p-1", 120.0)]
    return fake_reader


@pytest.fixture
def app(verifier: TokenVerifier, reader: Any) -> FastAPI:
    # moto_port 9 has no server: anything not overridden that reached for AWS would fail.
    app = create_app(Settings(profile="local", moto_port=9, portals=("g1", "ge")))
    recommender = Recommender(reader)
    app.dependency_overrides[get_verifier] = lambda: verifier
    app.dependency_overrides[get_recommender] = lambda: recommender
    return app


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ---- answers --------------------------------------------------------------------------
def test_reader_gets_their_personal_recommendations(
    client: TestClient, make_token: TokenFactory
) -> None:
    response = client.get(
        "/v1/portals/g1/users/alice/recommendations", headers=_bearer(make_token())
    )

    assert response.status_code == 200
    assert response.json() == {
        "portal": "g1",
        "user_id": "alice",
        "model_version": "v2",
        "items": [
            {"article_id": "a-101", "score": 0.91, "source": "personal"},
            {"article_id": "a-102", "score": 0.55, "source": "personal"},
        ],
        "degraded": False,
    }


def test_limit_caps_the_items(client: TestClient, make_token: TokenFactory) -> None:
    response = client.get(
        "/v1/portals/g1/users/alice/recommendations?limit=1", headers=_bearer(make_token())
    )

    assert [i["article_id"] for i in response.json()["items"]] == ["a-101"]


@pytest.mark.parametrize("limit", ["0", "101", "ten"])
def test_limit_outside_1_to_100_is_422(
    client: TestClient, make_token: TokenFactory, limit: str
) -> None:
    response = client.get(
        f"/v1/portals/g1/users/alice/recommendations?limit={limit}", headers=_bearer(make_token())
    )

    assert response.status_code == 422


def test_reader_without_personal_list_gets_popular(
    client: TestClient, make_token: TokenFactory
) -> None:
    response = client.get(
        "/v1/portals/g1/users/bob/recommendations", headers=_bearer(make_token(username="bob"))
    )

    assert response.json()["items"] == [{"article_id": "p-1", "score": 120.0, "source": "popular"}]


def test_portal_without_a_model_yet_answers_empty(
    client: TestClient, make_token: TokenFactory
) -> None:
    response = client.get(
        "/v1/portals/ge/users/alice/recommendations", headers=_bearer(make_token())
    )

    assert (response.status_code, response.json()) == (
        200,
        {"portal": "ge", "user_id": "alice", "model_version": None, "items": [], "degraded": False},
    )


def test_store_outage_answers_200_degraded(
    client: TestClient, reader: Any, make_token: TokenFactory
) -> None:
    bob = _bearer(make_token(username="bob"))
    client.get("/v1/portals/g1/users/bob/recommendations", headers=bob)
    reader.fail = True

    response = client.get("/v1/portals/g1/users/bob/recommendations", headers=bob)

    assert (response.status_code, response.json()) == (
        200,
        {
            "portal": "g1",
            "user_id": "bob",
            "model_version": "v2",
            "items": [{"article_id": "p-1", "score": 120.0, "source": "popular"}],
            "degraded": True,
        },
    )


def test_unknown_portal_is_404(client: TestClient, make_token: TokenFactory) -> None:
    response = client.get(
        "/v1/portals/xx/users/alice/recommendations", headers=_bearer(make_token())
    )

    assert (response.status_code, response.json()) == (
        404,
        {"detail": "unknown portal 'xx': use one of g1, ge"},
    )


# ---- authentication and authorisation -------------------------------------------------
def test_missing_token_is_401_with_bearer_challenge(client: TestClient) -> None:
    response = client.get("/v1/portals/g1/users/alice/recommendations")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_non_bearer_credentials_are_401(client: TestClient) -> None:
    response = client.get(
        "/v1/portals/g1/users/alice/recommendations", headers={"Authorization": "Basic YTpi"}
    )

    assert (response.status_code, response.headers["WWW-Authenticate"]) == (401, "Bearer")


def test_malformed_token_is_401_invalid_token(client: TestClient) -> None:
    response = client.get(
        "/v1/portals/g1/users/alice/recommendations", headers=_bearer("not-a-jwt")
    )

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        'Bearer error="invalid_token", '
        'error_description="token is malformed: expected a signed JWT"'
    )


def test_expired_token_is_401_saying_so(client: TestClient, make_token: TokenFactory) -> None:
    expired = make_token(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)

    response = client.get("/v1/portals/g1/users/alice/recommendations", headers=_bearer(expired))

    assert (response.status_code, response.json()) == (
        401,
        {"detail": "token has expired: sign in again"},
    )


def test_another_users_recommendations_are_403(
    client: TestClient, make_token: TokenFactory
) -> None:
    response = client.get("/v1/portals/g1/users/bob/recommendations", headers=_bearer(make_token()))

    assert (response.status_code, response.json()) == (
        403,
        {"detail": "a token may only read its own user's recommendations"},
    )


def test_anonymous_caller_gets_401_before_the_portal_check(client: TestClient) -> None:
    response = client.get("/v1/portals/xx/users/alice/recommendations")

    assert response.status_code == 401


def test_keys_unreachable_is_503_with_retry_after(
    app: FastAPI, client: TestClient, make_token: TokenFactory
) -> None:
    def down() -> dict[str, Any]:
        raise AuthUnavailableError("cannot fetch signing keys: connection refused")

    keyless = TokenVerifier(
        issuer="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool",
        client_ids=["test-web-client"],
        jwks=JwksCache(down),
    )
    app.dependency_overrides[get_verifier] = lambda: keyless

    response = client.get(
        "/v1/portals/g1/users/alice/recommendations", headers=_bearer(make_token())
    )

    assert (response.status_code, response.headers["Retry-After"]) == (503, "5")


def test_openapi_declares_the_bearer_scheme_on_the_route(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operation = document["paths"]["/v1/portals/{portal}/users/{user_id}/recommendations"]["get"]

    assert document["components"]["securitySchemes"]["CognitoAccessToken"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A Cognito access token of the readers' user pool.",
    }
    assert operation["security"] == [{"CognitoAccessToken": []}]
