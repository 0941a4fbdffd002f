"""GET /v1/portals/{portal}/users/{user_id}/recommendations: status, body and checks.

The token matrix, shared by every route, is in test_token_matrix.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.utils.answers import RECOMMENDATION_ID, with_id_checked
from tests.utils.tokens import TokenFactory, bearer

URL = "/v1/portals/{portal}/users/{user}/recommendations"


def test_reader_gets_their_list_less_what_they_read_topped_up(
    client: TestClient, make_token: TokenFactory
) -> None:
    response = client.get(URL.format(portal="g1", user="alice"), headers=bearer(make_token()))

    assert (response.status_code, with_id_checked(response.json())) == (
        200,
        {
            "portal": "g1",
            "recommendation_id": RECOMMENDATION_ID,
            "user_id": "alice",
            "model_version": "v2",
            "items": [
                {"article_id": "a-101", "score": 1.0, "source": "personal", "position": 1},
                {"article_id": "t-1", "score": 0.5, "source": "trending", "position": 2},
                {"article_id": "p-1", "score": 0.0, "source": "popular", "position": 3},
            ],
            "degraded": False,
            "variant": None,
        },
    )


def test_limit_caps_the_items(client: TestClient, make_token: TokenFactory) -> None:
    response = client.get(
        URL.format(portal="g1", user="alice") + "?limit=1", headers=bearer(make_token())
    )

    assert [i["article_id"] for i in response.json()["items"]] == ["a-101"]


@pytest.mark.parametrize(
    ("limit", "detail"),
    [
        ("0", "limit must be an integer from 1 to 100 (got '0')"),
        ("101", "limit must be an integer from 1 to 100 (got '101')"),
        ("ten", "limit must be an integer from 1 to 100 (got 'ten')"),
    ],
)
def test_limit_outside_1_to_100_is_422_saying_so(
    client: TestClient, make_token: TokenFactory, limit: str, detail: str
) -> None:
    response = client.get(
        URL.format(portal="g1", user="alice") + f"?limit={limit}", headers=bearer(make_token())
    )

    assert (response.status_code, response.json()) == (422, {"detail": detail})


@pytest.mark.parametrize("user", ["al ice", "alice%23popular", "-alice", "a" * 129])
def test_malformed_user_id_is_422_saying_what_an_id_is(
    client: TestClient, make_machine_token: TokenFactory, user: str
) -> None:
    response = client.get(URL.format(portal="g1", user=user), headers=bearer(make_machine_token()))

    assert response.status_code == 422
    assert response.json()["detail"].startswith(
        "user_id must be 1 to 128 letters, digits or . _ : @ + = -, starting with a letter"
    )


def test_reader_without_personal_list_gets_trending_then_popular(
    client: TestClient, make_token: TokenFactory
) -> None:
    response = client.get(
        URL.format(portal="g1", user="bob"), headers=bearer(make_token(username="bob"))
    )

    assert response.json()["items"] == [
        {"article_id": "t-1", "score": 0.5, "source": "trending", "position": 1},
        {"article_id": "p-1", "score": 0.0, "source": "popular", "position": 2},
    ]


def test_portal_without_a_model_yet_answers_empty(
    client: TestClient, make_token: TokenFactory
) -> None:
    response = client.get(URL.format(portal="ge", user="alice"), headers=bearer(make_token()))

    assert (response.status_code, with_id_checked(response.json())) == (
        200,
        {
            "portal": "ge",
            "recommendation_id": RECOMMENDATION_ID,
            "user_id": "alice",
            "model_version": None,
            "items": [],
            "degraded": False,
            "variant": None,
        },
    )


def test_store_outage_answers_200_degraded_from_memory(
    client: TestClient, reader: Any, make_token: TokenFactory
) -> None:
    alice = bearer(make_token())
    client.get(URL.format(portal="g1", user="alice"), headers=alice)
    reader.fail = True

    response = client.get(URL.format(portal="g1", user="alice"), headers=alice)

    assert (response.status_code, with_id_checked(response.json())) == (
        200,
        {
            "portal": "g1",
            "recommendation_id": RECOMMENDATION_ID,
            "user_id": "alice",
            "model_version": "v2",
            "items": [
                {"article_id": "t-1", "score": 0.5, "source": "trending", "position": 1},
                {"article_id": "p-1", "score": 0.0, "source": "popular", "position": 2},
            ],
            "degraded": True,
            "variant": None,
        },
    )


def test_unknown_portal_is_404(client: TestClient, make_token: TokenFactory) -> None:
    response = client.get(URL.format(portal="xx", user="alice"), headers=bearer(make_token()))

    assert (response.status_code, response.json()) == (
        404,
        {"detail": "unknown portal 'xx': use one of g1, ge"},
    )


def test_anonymous_caller_gets_401_before_the_portal_and_id_checks(client: TestClient) -> None:
    response = client.get(URL.format(portal="xx", user="al ice"))

    assert response.status_code == 401


def test_openapi_declares_the_bearer_scheme_and_the_errors(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operation = document["paths"]["/v1/portals/{portal}/users/{user_id}/recommendations"]["get"]

    assert document["components"]["securitySchemes"]["CognitoAccessToken"]["scheme"] == "bearer"
    assert operation["security"] == [{"CognitoAccessToken": []}]
    assert sorted(operation["responses"]) == ["200", "401", "403", "404", "422", "503"]


def test_openapi_documents_the_answers_id_positions_and_variant(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]

    item = schemas["RecommendedItem"]["properties"]["position"]
    assert (item["type"], item["minimum"], item["maximum"]) == ("integer", 1, 100)
    for answer in ("RecommendationsOut", "RelatedOut", "ListOut"):
        assert "recommendation_id" in schemas[answer]["required"], answer
        assert schemas[answer]["properties"]["recommendation_id"]["pattern"] == "^[0-9a-f]{32}$"
    for answer in ("RecommendationsOut", "RelatedOut"):
        assert schemas[answer]["properties"]["variant"]["anyOf"] == [
            {"$ref": "#/components/schemas/VariantOut"},
            {"type": "null"},
        ]
    assert sorted(schemas["VariantOut"]["required"]) == ["experiment", "name"]


def test_openapi_documents_the_article_pages_reader_id(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operation = document["paths"]["/v1/portals/{portal}/articles/{article_id}/related"]["get"]

    (reader_id,) = [p for p in operation["parameters"] if p["name"] == "reader_id"]
    assert (reader_id["in"], reader_id["required"]) == ("query", False)
