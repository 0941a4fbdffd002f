"""The newsroom's routes, and their controls on every list route, over the in-memory store
and a clock the tests move: a block set elsewhere holds on this instance within one
refresh (2 s, well inside 5 s), a promotion takes its place, an expired block lapses."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from newslake.editorial import Block, Promote
from newslake.store import ScoredItem
from serving.auth import TokenVerifier
from serving.editorial import EditorialCopy
from serving.main import create_app
from tests.utils.clock import FakeClock
from tests.utils.editorial import FakeControls
from tests.utils.fakes import FakeReader
from tests.utils.serving_app import SPLIT, app_settings
from tests.utils.tokens import MACHINE_CLIENT_ID, TokenFactory, bearer

WRITE = "newslake/editorial.write newslake/portal.g1"
REFRESH_S = 2.0
# alice falls in the nightly variant of SPLIT, bob in the request-time one.
ROUTES = {
    "reader (nightly list)": "/v1/portals/g1/users/alice/recommendations?limit=2",
    "reader (request time)": "/v1/portals/g1/users/bob/recommendations?limit=2",
    "related": "/v1/portals/g1/articles/a-5/related?limit=2",
    "trending": "/v1/portals/g1/trending?limit=2",
    "popular": "/v1/portals/g1/popular?limit=2",
}


@pytest.fixture
def reader() -> FakeReader:
    """g1 on v2, article x on every list."""
    fake = FakeReader()
    fake.versions["g1"] = "v2"
    fake.records[("g1#user#alice", "v2")] = [ScoredItem("x", 0.9), ScoredItem("a-1", 0.5)]
    fake.records[("g1#user#bob", "v2")] = [ScoredItem("x", 0.9), ScoredItem("b-1", 0.5)]
    fake.records[("g1#trending", "live")] = [ScoredItem("x", 50.0), ScoredItem("t-1", 40.0)]
    fake.records[("g1#popular", "v2")] = [ScoredItem("x", 130.0), ScoredItem("p-1", 120.0)]
    fake.records[("g1#related#a-5", "live")] = [ScoredItem("x", 13.0), ScoredItem("c-1", 12.0)]
    return fake


@pytest.fixture
def store() -> FakeControls:
    return FakeControls()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_800_000_000.0)


@pytest.fixture
def app(
    verifier: TokenVerifier, reader: FakeReader, store: FakeControls, clock: FakeClock
) -> FastAPI:
    copy = EditorialCopy(store, ("g1", "ge"), refresh_s=REFRESH_S, clock=clock, wall_clock=clock)
    settings = app_settings(experiments=(SPLIT,))
    return create_app(
        settings,
        reader=reader,
        verifier=verifier,
        impressions=logging.NullHandler(),
        editorial=copy,
    )


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app)


def _items(client: TestClient, url: str, token: str) -> list[tuple[str, str]]:
    response = client.get(url, headers=bearer(token))
    assert response.status_code == 200, response.text
    return [(i["article_id"], i["source"]) for i in response.json()["items"]]


def _lists(client: TestClient, token: str) -> dict[str, list[str]]:
    return {name: [a for a, _ in _items(client, url, token)] for name, url in ROUTES.items()}


def test_a_block_set_elsewhere_holds_on_every_route_within_one_refresh(
    client: TestClient, store: FakeControls, clock: FakeClock, make_machine_token: TokenFactory
) -> None:
    token = make_machine_token()  # reads every list of g1
    assert all(ids[0] == "x" for ids in _lists(client, token).values())

    store.block("g1", Block("x", "retracted", None, "newsroom", int(clock.now)))
    clock.now += REFRESH_S

    assert _lists(client, token) == {
        "reader (nightly list)": ["a-1", "t-1"],
        "reader (request time)": ["b-1", "t-1"],
        "related": ["c-1", "t-1"],
        "trending": ["t-1", "p-1"],
        "popular": ["p-1"],
    }


def test_a_block_lapses_at_its_end(
    client: TestClient, store: FakeControls, clock: FakeClock, make_machine_token: TokenFactory
) -> None:
    store.block("g1", Block("x", "embargo", int(clock.now) + 10, "newsroom", int(clock.now)))
    token = make_machine_token()
    assert _items(client, ROUTES["popular"], token) == [("p-1", "popular")]
    clock.now += 10
    assert _items(client, ROUTES["popular"], token) == [("x", "popular"), ("p-1", "popular")]


def test_a_promotion_takes_its_position_and_a_sectioned_one_only_its_pages(
    client: TestClient, store: FakeControls, clock: FakeClock, make_machine_token: TokenFactory
) -> None:
    now = int(clock.now)
    store.promote("g1", Promote("news", 2, None, now, now + 60, (), "newsroom", now))
    store.promote("g1", Promote("pol", 1, None, now, now + 60, ("politica",), "newsroom", now))
    token = make_machine_token()

    assert _items(client, ROUTES["trending"], token) == [("x", "trending"), ("news", "editorial")]
    politica = ROUTES["related"] + "&section=politica"
    assert _items(client, politica, token) == [("pol", "editorial"), ("news", "editorial")]


def test_the_newsroom_blocks_lists_and_ends_through_the_route(
    client: TestClient, store: FakeControls, clock: FakeClock, make_machine_token: TokenFactory
) -> None:
    headers = bearer(make_machine_token(scope=WRITE))
    put = client.put(
        "/v1/portals/g1/editorial/blocks/x", json={"reason": "court order"}, headers=headers
    )
    stored = {
        "article_id": "x",
        "reason": "court order",
        "until": None,
        "by": MACHINE_CLIENT_ID,
        "at": 1_800_000_000,
        "in_effect": True,
    }
    # known: there is no related list of x, it was never read
    assert (put.status_code, put.json()) == (200, {**stored, "portal": "g1", "known": False})
    # applied at once on the instance that took it
    popular = client.get(ROUTES["popular"], headers=bearer(make_machine_token()))
    assert [i["article_id"] for i in popular.json()["items"]] == ["p-1"]

    listed = client.get("/v1/portals/g1/editorial", headers=headers)
    assert listed.json() == {"portal": "g1", "blocks": [stored], "promotions": []}
    ended = client.delete("/v1/portals/g1/editorial/blocks/x", headers=headers)
    again = client.delete("/v1/portals/g1/editorial/blocks/x", headers=headers)
    assert (ended.json()["ended"], again.json()["ended"]) == (True, False)
    assert store.log == [
        ("block", "g1", "x", MACHINE_CLIENT_ID),
        ("unblock", "g1", "x", MACHINE_CLIENT_ID),
    ]


def test_a_promotion_through_the_route_of_a_known_article(
    client: TestClient, make_machine_token: TokenFactory
) -> None:
    body = {"position": 1, "end": 1_800_003_600, "sections": ["politica"]}
    put = client.put(
        "/v1/portals/g1/editorial/promotions/a-5",
        json=body,
        headers=bearer(make_machine_token(scope=WRITE)),
    )
    assert (put.status_code, put.json()) == (
        200,
        {
            "portal": "g1",
            "article_id": "a-5",
            "position": 1,
            "share": None,
            "start": 1_800_000_000,
            "end": 1_800_003_600,
            "sections": ["politica"],
            "by": MACHINE_CLIENT_ID,
            "at": 1_800_000_000,
            "in_effect": True,
            "known": True,
        },
    )


@pytest.mark.parametrize(
    ("scope", "status"),
    [
        ("newslake/recommendations.read newslake/portal.g1", 403),  # no editorial scope
        ("newslake/editorial.write newslake/portal.ge", 403),  # another portal's
        (WRITE, 200),
    ],
)
def test_only_a_machine_client_with_both_scopes_may_change_controls(
    client: TestClient, make_machine_token: TokenFactory, scope: str, status: int
) -> None:
    response = client.put(
        "/v1/portals/g1/editorial/blocks/x",
        json={"reason": "r"},
        headers=bearer(make_machine_token(scope=scope)),
    )
    assert response.status_code == status


def test_a_readers_token_is_refused_whatever_its_scopes(
    client: TestClient, make_token: TokenFactory, store: FakeControls
) -> None:
    headers = bearer(make_token(scope=WRITE))
    put = client.put("/v1/portals/g1/editorial/blocks/x", json={"reason": "r"}, headers=headers)
    listed = client.get("/v1/portals/g1/editorial", headers=headers)
    assert (put.status_code, listed.status_code, store.log) == (403, 403, [])


@pytest.mark.parametrize(
    ("url", "body", "status", "detail"),
    [
        ("/v1/portals/zz/editorial/blocks/x", {"reason": "r"}, 404, "unknown portal 'zz'"),
        ("/v1/portals/g1/editorial/blocks/a%23b", {"reason": "r"}, 422, "article_id must be"),
        ("/v1/portals/g1/editorial/blocks/x", {"reason": ""}, 422, "reason string should"),
        ("/v1/portals/g1/editorial/blocks/x", {"reason": "r", "until": 5}, 422, "until must be"),
        ("/v1/portals/g1/editorial/promotions/x", {"end": 1_900_000_000}, 422, "body give either"),
        (
            "/v1/portals/g1/editorial/promotions/x",
            {"position": 1, "start": 1_900_000_100, "end": 1_900_000_000},
            422,
            "end must be after start and in the future",
        ),
        (
            "/v1/portals/g1/editorial/promotions/x",
            {"share": 0.5, "end": 1_799_999_999},
            422,
            "end must be after start and in the future",
        ),
    ],
)
def test_bad_requests_are_refused_and_store_nothing(
    client: TestClient,
    make_machine_token: TokenFactory,
    store: FakeControls,
    url: str,
    body: dict[str, object],
    status: int,
    detail: str,
) -> None:
    token = make_machine_token(scope=f"{WRITE} newslake/portal.zz")
    response = client.put(url, json=body, headers=bearer(token))
    assert (response.status_code, response.json()["detail"][: len(detail)], store.log) == (
        status,
        detail,
        [],
    )


def test_a_store_that_cannot_be_written_is_a_503_and_nothing_changes(
    client: TestClient, make_machine_token: TokenFactory, store: FakeControls
) -> None:
    store.fail = True
    response = client.put(
        "/v1/portals/g1/editorial/blocks/x",
        json={"reason": "r"},
        headers=bearer(make_machine_token(scope=WRITE)),
    )
    assert (response.status_code, response.headers["Retry-After"], store.log) == (503, "5", [])


def test_a_method_the_path_does_not_take_names_every_method_it_does(client: TestClient) -> None:
    response = client.post("/v1/portals/g1/editorial/blocks/x")
    assert (response.status_code, response.headers["Allow"]) == (405, "DELETE, PUT")
