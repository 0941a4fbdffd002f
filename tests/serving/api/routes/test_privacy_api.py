"""POST /v1/portals/{portal}/users/{user_id}/erasure: machine clients with the erasure scope
record a reader's erasure in the local platform's requests table; everyone else is refused."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from newslake.settings import Settings
from serving.auth import TokenVerifier
from serving.main import create_app
from tests.utils.serving_app import app_settings
from tests.utils.tokens import bearer

ERASE = "newslake/privacy.erase"
# subject_of("g1", "erin", key="newslake-local-pseudonyms"), by
# printf 'g1:erin' | openssl dgst -sha256 -hmac newslake-local-pseudonyms
ERIN = "c5372e9d81cd996914b245fd1de282a3"


@pytest.fixture
def client(verifier: TokenVerifier, fake_reader: object, local_platform: Settings) -> TestClient:
    settings = app_settings(moto_port=local_platform.moto_port)
    return TestClient(create_app(settings, reader=fake_reader, verifier=verifier))  # type: ignore[arg-type]


def _url(user: str, portal: str = "g1") -> str:
    return f"/v1/portals/{portal}/users/{user}/erasure"


def _reader() -> str:
    return f"reader-{uuid.uuid4().hex[:8]}"


def test_a_machine_client_with_the_scope_records_a_pending_request(
    client: TestClient, make_machine_token: Callable[..., str]
) -> None:
    token = make_machine_token(scope=ERASE)
    user = _reader()

    first = client.post(_url(user), headers=bearer(token))
    again = client.post(_url(user), headers=bearer(token))

    assert first.status_code == 202
    body = first.json()
    assert (body["portal"], body["user_id"], body["status"]) == ("g1", user, "pending")
    assert body["asked_by"] == "client:test-machine-client"
    assert (body["steps"], body["done_at"], body["unreadable_by"]) == ({}, None, None)
    assert again.status_code == 202
    assert again.json() == body  # asked again: the first request stands


def test_the_request_is_keyed_by_the_readers_pseudonym(
    client: TestClient, make_machine_token: Callable[..., str]
) -> None:
    answer = client.post(_url("erin"), headers=bearer(make_machine_token(scope=ERASE)))

    assert answer.json()["subject"] == ERIN


@pytest.mark.parametrize(
    "scope",
    [
        "newslake/recommendations.read newslake/portal.g1",
        "newslake/privacy.erase.all",  # a longer name is another scope
    ],
)
def test_a_machine_client_without_the_scope_is_refused(
    client: TestClient, make_machine_token: Callable[..., str], scope: str
) -> None:
    answer = client.post(_url(_reader()), headers=bearer(make_machine_token(scope=scope)))

    assert answer.status_code == 403
    assert answer.json()["detail"] == f"this client's token lacks the scope {ERASE}"


def test_a_readers_token_is_refused_even_for_their_own_id_and_with_the_scope(
    client: TestClient, make_token: Callable[..., str]
) -> None:
    answer = client.post(_url("alice"), headers=bearer(make_token(scope=ERASE)))

    assert answer.status_code == 403
    assert "not a reader" in answer.json()["detail"]


def test_no_token_is_a_401(client: TestClient) -> None:
    assert client.post(_url("alice")).status_code == 401


def test_an_unknown_portal_is_a_404(
    client: TestClient, make_machine_token: Callable[..., str]
) -> None:
    answer = client.post(_url("alice", "nope"), headers=bearer(make_machine_token(scope=ERASE)))

    assert answer.status_code == 404
    assert answer.json()["detail"] == "unknown portal 'nope': use one of g1, ge"


@pytest.mark.parametrize("user", ["a%0Ab", "x" * 129, "a%E2%80%8Bb"])
def test_a_malformed_id_is_a_422(
    client: TestClient, make_machine_token: Callable[..., str], user: str
) -> None:
    answer = client.post(_url(user), headers=bearer(make_machine_token(scope=ERASE)))

    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("user_id must be 1 to 128 characters")


def test_an_id_the_pageview_api_accepts_is_accepted(
    client: TestClient, make_machine_token: Callable[..., str]
) -> None:
    answer = client.post(_url("a%20b%23c"), headers=bearer(make_machine_token(scope=ERASE)))

    assert answer.status_code == 202
    assert answer.json()["user_id"] == "a b#c"


def test_a_store_that_cannot_be_reached_is_a_503_to_retry(
    verifier: TokenVerifier, fake_reader: object, make_machine_token: Callable[..., str]
) -> None:
    app = create_app(app_settings(), reader=fake_reader, verifier=verifier)  # type: ignore[arg-type]

    answer = TestClient(app).post(_url("alice"), headers=bearer(make_machine_token(scope=ERASE)))

    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"


def test_the_route_is_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    operation = paths["/v1/portals/{portal}/users/{user_id}/erasure"]["post"]
    assert set(operation["responses"]) == {"202", "401", "403", "404", "422", "503"}
