"""The service's OpenAPI document states the rules its routes judge by: as JSON Schema where
it can say them, in words (the route's description and 422) where it cannot."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

ERASURE = "/v1/portals/{portal}/users/{user_id}/erasure"
BLOCK = "/v1/portals/{portal}/editorial/blocks/{article_id}"
PROMOTION = "/v1/portals/{portal}/editorial/promotions/{article_id}"


@pytest.fixture
def paths(client: TestClient) -> dict[str, Any]:
    return client.get("/openapi.json").json()["paths"]


def test_the_erasure_states_the_reader_id_rule_as_a_pattern(paths: dict[str, Any]) -> None:
    (user_id,) = (p for p in paths[ERASURE]["post"]["parameters"] if p["name"] == "user_id")

    pattern = user_id["schema"]["pattern"]
    assert pattern.startswith("^[^\\u0000-\\u001F\\u007F-\\u009F\\u00AD\\u0600-\\u0605")
    assert pattern.endswith("\U000e0001\U000e0020-\U000e007f]{1,128}$")


def test_a_promotion_takes_a_position_or_a_share_as_one_of_two_shapes(
    paths: dict[str, Any],
) -> None:
    body = paths[PROMOTION]["put"]["requestBody"]["content"]["application/json"]["schema"]

    assert body["oneOf"] == [
        {
            "required": ["position"],
            "properties": {"position": {"type": "integer"}, "share": {"type": "null"}},
        },
        {
            "required": ["share"],
            "properties": {"share": {"type": "number"}, "position": {"type": "null"}},
        },
    ]


@pytest.mark.parametrize(
    ("path", "rule"),
    [
        (BLOCK, "until must be in the future"),
        (PROMOTION, "end must be after start and in the future"),
    ],
)
def test_a_rule_of_the_clock_is_named_in_the_route_and_its_422(
    paths: dict[str, Any], path: str, rule: str
) -> None:
    put = paths[path]["put"]

    assert f'(422 "{rule}")' in " ".join(put["description"].split())
    assert f"'{rule}' (judged by the server's clock)" in put["responses"]["422"]["description"]
