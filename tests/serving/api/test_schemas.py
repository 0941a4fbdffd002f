"""The answers' JSON, encoded without building the models, is exactly the models' JSON."""

from __future__ import annotations

import json

from serving.api.schemas import ListOut, RecommendationsOut, RelatedOut
from serving.recommender import Answer, Recommendation

ANSWER = Answer(
    "v2",
    (Recommendation("a-101", 0.91, "personal"), Recommendation("t-1", 40.0, "trending")),
    degraded=True,
)
ITEMS = [
    {"article_id": "a-101", "score": 0.91, "source": "personal"},
    {"article_id": "t-1", "score": 40.0, "source": "trending"},
]


def test_recommendations_body_is_the_models_json() -> None:
    response = RecommendationsOut.response("g1", "alice", ANSWER)

    model = RecommendationsOut.model_validate_json(response.body)
    assert (response.media_type, response.body) == (
        "application/json",
        model.model_dump_json().encode(),
    )
    assert json.loads(response.body) == {
        "portal": "g1",
        "model_version": "v2",
        "items": ITEMS,
        "degraded": True,
        "user_id": "alice",
    }


def test_related_body_is_the_models_json() -> None:
    response = RelatedOut.response("g1", "a-5", ANSWER)

    model = RelatedOut.model_validate_json(response.body)
    assert response.body == model.model_dump_json().encode()
    assert json.loads(response.body)["article_id"] == "a-5"


def test_list_body_is_the_models_json_and_null_version_stays_null() -> None:
    response = ListOut.response("ge", Answer(None, ()))

    assert response.body == ListOut.model_validate_json(response.body).model_dump_json().encode()
    assert json.loads(response.body) == {
        "portal": "ge",
        "model_version": None,
        "items": [],
        "degraded": False,
    }
