"""The whole serving path on the local platform: real Cognito tokens from moto, the real
verifier fetching moto's JWKS, the real reader on moto's DynamoDB; records written by hand,
in the layout the nightly and streaming jobs write (newslake.store)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from newslake import aws, cognito
from newslake.local import provision, server
from newslake.local.fault_load import ReaderLoad, stop_the_store
from newslake.local.fault_proxy import SlowProxy
from newslake.settings import Settings
from newslake.store import LIVE, ScoredItem, item_record
from serving.main import create_app
from tests.utils.answers import RECOMMENDATION_ID, with_id_checked

pytestmark = pytest.mark.slow

# Its own portal, so other tests that publish models on the shared platform cannot interfere.
PORTAL = "serving-it"
VERSION = "20261128T0600"
PASSWORD = "Serving-test-Passw0rd!"
URL = "/v1/portals/serving-it/users/{user}/recommendations"
FAR_FUTURE = 4102444800
# The store stopped under load: long enough for the breaker to open and stay open.
OUTAGE_S = 4.0


# The reader's list weighs what these tests expect, whatever the defaults become.
READER_WEIGHTS = {
    "reader_w_covisited": 1.0,
    "reader_w_hot": 0.0,
    "reader_w_trending": 0.5,
    "reader_w_personal": 1.0,
    "reader_w_popular": 0.0,
}


def _with_test_portal(settings: Settings, **overrides: Any) -> Settings:
    update = {"portals": (*settings.portals, PORTAL), **READER_WEIGHTS, **overrides}
    return settings.model_copy(update=update)


def _publish(settings: Settings) -> None:
    """Alice's list in the active and an older version, popular, trending, alice's recent
    reads and a related list, then the pointer: what the nightly and streaming jobs write."""
    ddb = aws.client("dynamodb", settings)
    records = [
        ("serving-it#user#alice", VERSION, [("a-101", 0.91), ("a-102", 0.55), ("a-103", 0.3)]),
        ("serving-it#user#alice", "20261127T0600", [("stale", 1.0)]),
        ("serving-it#popular", VERSION, [("p-1", 120.0), ("p-2", 80.0)]),
        ("serving-it#trending", LIVE, [("t-1", 40.0)]),
        ("serving-it#recent#alice", LIVE, [("a-102", time.time() - 60)]),
        ("serving-it#related#a-102", LIVE, [("c-2", 3.0)]),
        ("serving-it#related#a-101", LIVE, [("c-1", 7.0), ("a-101", 5.0)]),
        ("serving-it#related#a-101", VERSION, [("r-1", 0.8)]),
    ]
    for pk, sk, items in records:
        scored = [ScoredItem(a, s) for a, s in items]
        ddb.put_item(
            TableName=settings.recommendations_table,
            Item=item_record(pk, sk, scored, FAR_FUTURE),
        )
    ddb.put_item(
        TableName=settings.versions_table,
        Item={"portal": {"S": PORTAL}, "active_version": {"S": VERSION}},
    )


def _bearer(settings: Settings, username: str) -> dict[str, str]:
    app = cognito.find_cognito_app(settings)
    provision.ensure_user(settings, app, username, PASSWORD)
    return {"Authorization": f"Bearer {provision.login(settings, app, username, PASSWORD)}"}


@pytest.fixture(scope="module")
def platform(local_platform: Settings) -> Settings:
    settings = _with_test_portal(local_platform)
    _publish(settings)
    return settings


@pytest.fixture(scope="module")
def client(platform: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(platform)) as client:  # runs the start-up: keys, lists
        yield client


def _items(*triples: tuple[str, float, str]) -> list[dict[str, Any]]:
    return [
        {"article_id": a, "score": s, "source": src, "position": p}
        for p, (a, s, src) in enumerate(triples, start=1)
    ]


def _rounded(items: list[dict[str, Any]]) -> list[tuple[str, float, str]]:
    return [(i["article_id"], round(i["score"], 4), i["source"]) for i in items]


def test_reader_gets_their_list_fused_less_recent_reads_topped_up(
    client: TestClient, platform: Settings
) -> None:
    response = client.get(URL.format(user="alice") + "?limit=5", headers=_bearer(platform, "alice"))
    body = response.json()

    assert (response.status_code, body["model_version"], body["degraded"]) == (
        200,
        "20261128T0600",
        False,
    )
    # personal scaled by its best (a-102 was read); a-102's co-visited c-2; trending x 0.5;
    # popular tops up
    assert _rounded(body["items"]) == [
        ("a-101", 1.0, "personal"),
        ("c-2", 1.0, "covisited"),
        ("t-1", 0.5, "trending"),
        ("a-103", 0.3297, "personal"),
        ("p-1", 0.0, "popular"),
    ]


def test_reader_without_personal_list_gets_trending_then_popular(
    client: TestClient, platform: Settings
) -> None:
    response = client.get(URL.format(user="bob"), headers=_bearer(platform, "bob"))

    assert (response.status_code, _rounded(response.json()["items"])) == (
        200,
        [("t-1", 0.5, "trending"), ("p-1", 0.0, "popular"), ("p-2", 0.0, "popular")],
    )


def test_related_prefers_the_live_covisitation_list(client: TestClient, platform: Settings) -> None:
    response = client.get(
        "/v1/portals/serving-it/articles/a-101/related?limit=3", headers=_bearer(platform, "bob")
    )

    # the live list blended with trending (which joins it), then the nightly list
    assert response.json()["items"] == _items(
        ("c-1", 7.0, "covisited"), ("t-1", 40.0, "trending"), ("r-1", 0.8, "related")
    )


def test_readyz_is_ready_on_the_platform(client: TestClient) -> None:
    assert client.get("/readyz").json() == {
        "status": "ready",
        "checks": {"store": "ok", "jwks": "ok"},
    }


def test_no_token_is_401(client: TestClient) -> None:
    response = client.get(URL.format(user="alice"))

    assert (response.status_code, response.headers["WWW-Authenticate"]) == (401, "Bearer")


def test_another_users_path_is_403(client: TestClient, platform: Settings) -> None:
    response = client.get(URL.format(user="bob"), headers=_bearer(platform, "alice"))

    assert response.status_code == 403


def test_store_down_answers_200_degraded_with_the_last_known_lists(
    disposable_platform: Settings,
) -> None:
    settings = _with_test_portal(disposable_platform)
    _publish(settings)
    alice = _bearer(settings, "alice")
    with TestClient(create_app(settings)) as client:  # start-up reads the shared lists
        server.stop(settings)
        response = client.get(URL.format(user="alice"), headers=alice)

    assert (response.status_code, with_id_checked(response.json())) == (
        200,
        {
            "portal": "serving-it",
            "recommendation_id": RECOMMENDATION_ID,
            "user_id": "alice",
            "model_version": "20261128T0600",
            "items": _items(
                ("t-1", 0.5, "trending"), ("p-1", 0.0, "popular"), ("p-2", 0.0, "popular")
            ),
            "degraded": True,
            "variant": None,
        },
    )


def test_slow_store_answers_200_degraded_instead_of_waiting(platform: Settings) -> None:
    alice = _bearer(platform, "alice")
    with SlowProxy(platform.moto_port) as proxy:
        via_proxy = platform.model_copy(
            update={"moto_port": proxy.port, "serving_store_timeout_s": 0.2}
        )
        with TestClient(create_app(via_proxy)) as client:
            proxy.delay_s = 30.0  # far past the timeouts: only they can end the wait
            response = client.get(URL.format(user="alice") + "?limit=2", headers=alice)
            metrics = client.get("/metrics").text
            proxy.delay_s = 0.0

    assert (response.status_code, response.json()["items"], response.json()["degraded"]) == (
        200,
        _items(("t-1", 0.5, "trending"), ("p-1", 0.0, "popular")),
        True,
    )
    assert 'route="/v1/portals/{portal}/users/{user_id}/recommendations",status="200"} 1' in metrics


def test_store_stopped_under_load_answers_200_degraded_and_recovers(platform: Settings) -> None:
    readers = {user: _bearer(platform, user) for user in ("alice", "bob", "carol")}
    with SlowProxy(platform.moto_port) as proxy:
        via_proxy = platform.model_copy(
            update={"moto_port": proxy.port, "serving_store_timeout_s": 0.2}
        )
        with TestClient(create_app(via_proxy)) as client, ReaderLoad(client, URL, readers) as load:
            # settling: the breaker's open period, then the trial call that closes it
            stop_the_store(load, proxy, OUTAGE_S, settle_s=via_proxy.serving_breaker_open_s + 1.0)

    statuses, down, after = load.statuses(), load.degraded("down"), load.degraded("after")
    assert set(statuses) == {200}, statuses  # 5xx 0, and nothing else either
    assert down[True] > 0 and set(after) == {False}, (down, after)
