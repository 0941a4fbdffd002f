"""The whole serving path on the local platform: a real Cognito token from moto, the real
verifier fetching moto's JWKS, the real reader on moto's DynamoDB; records written by hand."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from newslake import aws
from newslake.local import provision, server
from newslake.settings import Settings
from serving.main import create_app

pytestmark = pytest.mark.slow

# Its own portal, so other tests that publish models on the shared platform cannot interfere.
PORTAL = "serving-it"
VERSION = "20261128T0600"
PASSWORD = "Serving-test-Passw0rd!"
URL = "/v1/portals/serving-it/users/{user}/recommendations"


def _with_test_portal(settings: Settings) -> Settings:
    return settings.model_copy(update={"portals": (*settings.portals, PORTAL)})


def _publish(settings: Settings) -> None:
    """Alice's list in the active and in an older version, a popular list, then the pointer."""
    ddb = aws.client("dynamodb", settings)
    records = [
        (
            "serving-it#user#alice",
            VERSION,
            '[{"article_id":"a-101","score":0.91},{"article_id":"a-102","score":0.55}]',
        ),
        ("serving-it#user#alice", "20261127T0600", '[{"article_id":"stale","score":1.0}]'),
        (
            "serving-it#popular",
            VERSION,
            '[{"article_id":"p-1","score":120.0},{"article_id":"p-2","score":80.0}]',
        ),
    ]
    for pk, version, items in records:
        ddb.put_item(
            TableName=settings.recommendations_table,
            Item={
                "pk": {"S": pk},
                "sk": {"S": version},
                "items": {"S": items},
                "expires_at": {"N": "4102444800"},
            },
        )
    ddb.put_item(
        TableName=settings.versions_table,
        Item={"portal": {"S": PORTAL}, "active_version": {"S": VERSION}},
    )


def _bearer(settings: Settings, username: str) -> dict[str, str]:
    app = provision.find_cognito_app(settings)
    provision.ensure_user(settings, app, username, PASSWORD)
    return {"Authorization": f"Bearer {provision.login(settings, app, username, PASSWORD)}"}


@pytest.fixture(scope="module")
def platform(local_platform: Settings) -> Settings:
    settings = _with_test_portal(local_platform)
    _publish(settings)
    return settings


@pytest.fixture(scope="module")
def client(platform: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(platform)) as client:
        yield client


ALICE_PERSONAL = [
    {"article_id": "a-101", "score": 0.91, "source": "personal"},
    {"article_id": "a-102", "score": 0.55, "source": "personal"},
]
POPULAR = [
    {"article_id": "p-1", "score": 120.0, "source": "popular"},
    {"article_id": "p-2", "score": 80.0, "source": "popular"},
]


def test_signed_in_reader_gets_the_active_versions_personal_list(
    client: TestClient, platform: Settings
) -> None:
    response = client.get(URL.format(user="alice"), headers=_bearer(platform, "alice"))

    assert (response.status_code, response.json()) == (
        200,
        {
            "portal": "serving-it",
            "user_id": "alice",
            "model_version": "20261128T0600",
            "items": ALICE_PERSONAL,
            "degraded": False,
        },
    )


def test_reader_without_personal_list_gets_popular(client: TestClient, platform: Settings) -> None:
    response = client.get(URL.format(user="bob"), headers=_bearer(platform, "bob"))

    assert (response.status_code, response.json()["items"]) == (200, POPULAR)


def test_no_token_is_401(client: TestClient) -> None:
    response = client.get(URL.format(user="alice"))

    assert (response.status_code, response.headers["WWW-Authenticate"]) == (401, "Bearer")


def test_another_users_path_is_403(client: TestClient, platform: Settings) -> None:
    response = client.get(URL.format(user="bob"), headers=_bearer(platform, "alice"))

    assert response.status_code == 403


def test_store_down_answers_degraded_with_the_last_popular_list(
    disposable_platform: Settings,
) -> None:
    settings = _with_test_portal(disposable_platform)
    _publish(settings)
    alice, bob = _bearer(settings, "alice"), _bearer(settings, "bob")
    client = TestClient(create_app(settings))
    warm = client.get(URL.format(user="bob"), headers=bob)  # reads the popular list
    assert warm.json()["degraded"] is False

    server.stop(settings)
    response = client.get(URL.format(user="alice"), headers=alice)

    assert (response.status_code, response.json()) == (
        200,
        {
            "portal": "serving-it",
            "user_id": "alice",
            "model_version": "20261128T0600",
            "items": POPULAR,
            "degraded": True,
        },
    )
