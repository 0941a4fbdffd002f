"""GET related, trending and popular: bodies and fallbacks over the in-memory store."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.utils.answers import RECOMMENDATION_ID, with_id_checked
from tests.utils.tokens import TokenFactory, bearer


def test_related_prefers_covisitation_and_tops_up(
    client: TestClient, make_token: TokenFactory
) -> None:
    response = client.get(
        "/v1/portals/g1/articles/a-5/related?limit=3", headers=bearer(make_token())
    )

    assert (response.status_code, with_id_checked(response.json())) == (
        200,
        {
            "portal": "g1",
            "recommendation_id": RECOMMENDATION_ID,
            "article_id": "a-5",
            "model_version": "v2",
            "items": [
                {"article_id": "c-1", "score": 12.0, "source": "covisited", "position": 1},
                {"article_id": "t-1", "score": 40.0, "source": "trending", "position": 2},
                {"article_id": "p-1", "score": 120.0, "source": "popular", "position": 3},
            ],
            "degraded": False,
            "variant": None,
        },
    )


def test_related_of_a_malformed_article_id_is_422(
    client: TestClient, make_token: TokenFactory
) -> None:
    response = client.get("/v1/portals/g1/articles/a%235/related", headers=bearer(make_token()))

    assert (response.status_code, response.json()["detail"][:24]) == (
        422,
        "article_id must be 1 to ",
    )


def test_trending_is_topped_up_from_popular(client: TestClient, make_token: TokenFactory) -> None:
    response = client.get("/v1/portals/g1/trending", headers=bearer(make_token()))

    assert (response.status_code, with_id_checked(response.json())) == (
        200,
        {
            "portal": "g1",
            "recommendation_id": RECOMMENDATION_ID,
            "model_version": "v2",
            "items": [
                {"article_id": "t-1", "score": 40.0, "source": "trending", "position": 1},
                {"article_id": "p-1", "score": 120.0, "source": "popular", "position": 2},
            ],
            "degraded": False,
        },
    )


def test_popular_is_the_models_list(client: TestClient, make_token: TokenFactory) -> None:
    response = client.get("/v1/portals/g1/popular?limit=5", headers=bearer(make_token()))

    assert response.json()["items"] == [
        {"article_id": "p-1", "score": 120.0, "source": "popular", "position": 1}
    ]


def test_popular_in_an_outage_before_any_read_is_empty_and_degraded(
    client: TestClient, reader: Any, make_token: TokenFactory
) -> None:
    reader.fail = True

    response = client.get("/v1/portals/g1/popular", headers=bearer(make_token()))

    assert (response.status_code, with_id_checked(response.json())) == (
        200,
        {
            "portal": "g1",
            "recommendation_id": RECOMMENDATION_ID,
            "model_version": None,
            "items": [],
            "degraded": True,
        },
    )


def test_lists_of_an_unknown_portal_are_404(client: TestClient, make_token: TokenFactory) -> None:
    response = client.get("/v1/portals/nope/trending", headers=bearer(make_token()))

    assert response.status_code == 404


def test_lists_need_a_token(client: TestClient) -> None:
    assert client.get("/v1/portals/g1/popular").status_code == 401
