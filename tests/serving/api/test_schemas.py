"""The answers' JSON, encoded without building the models, is exactly the models' JSON."""

from __future__ import annotations

import json

from serving.api.schemas import ListOut, RecommendationsOut, RelatedOut
from serving.experiments import Assignment
from serving.impressions import Impression, ImpressionItem
from serving.recommender import Answer, Recommendation

ANSWER = Answer(
    "v2",
    (Recommendation("a-101", 0.91, "personal"), Recommendation("t-1", 40.0, "trending")),
    degraded=True,
)
ITEMS = [
    {"article_id": "a-101", "score": 0.91, "source": "personal", "position": 1},
    {"article_id": "t-1", "score": 40.0, "source": "trending", "position": 2},
]
REC_ID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def _shown(route: str = "reader", **fields: object) -> Impression:
    items = (ImpressionItem("a-101", "personal", 1), ImpressionItem("t-1", "trending", 2))
    base: dict[str, object] = {
        "recommendation_id": REC_ID,
        "portal": "g1",
        "route": route,
        "user_id": None,
        "article_id": None,
        "variant": None,
        "model_version": "v2",
        "items": items,
        "served_at": 1_795_000_000_000,
    }
    return Impression(**(base | fields))  # type: ignore[arg-type]


def test_recommendations_body_is_the_models_json() -> None:
    shown = _shown(user_id="alice", variant=Assignment("reader-list", "nightly"))
    response = RecommendationsOut.response(shown, ANSWER)

    model = RecommendationsOut.model_validate_json(response.body)
    assert (response.media_type, response.body) == (
        "application/json",
        model.model_dump_json().encode(),
    )
    assert json.loads(response.body) == {
        "portal": "g1",
        "recommendation_id": REC_ID,
        "model_version": "v2",
        "items": ITEMS,
        "degraded": True,
        "user_id": "alice",
        "variant": {"experiment": "reader-list", "name": "nightly"},
    }


def test_related_body_is_the_models_json() -> None:
    response = RelatedOut.response(_shown("related", article_id="a-5"), ANSWER)

    model = RelatedOut.model_validate_json(response.body)
    assert response.body == model.model_dump_json().encode()
    assert (json.loads(response.body)["article_id"], json.loads(response.body)["variant"]) == (
        "a-5",
        None,
    )


def test_list_body_is_the_models_json_and_null_version_stays_null() -> None:
    response = ListOut.response(_shown("popular", model_version=None, items=()), Answer(None, ()))

    assert response.body == ListOut.model_validate_json(response.body).model_dump_json().encode()
    assert json.loads(response.body) == {
        "portal": "g1",
        "recommendation_id": REC_ID,
        "model_version": None,
        "items": [],
        "degraded": False,
    }
