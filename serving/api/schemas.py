"""Response bodies of the API; the OpenAPI document is generated from these."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic_core import to_json
from starlette.responses import Response

from serving.recommender import Answer, Source


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """``ready`` when the store answers and the signing keys are loaded."""

    status: Literal["ready", "not ready"]
    checks: dict[str, str] = Field(
        description="Per dependency (store, jwks): ok, or why it is not.",
    )


class RecommendedItem(BaseModel):
    article_id: str
    score: float
    source: Source = Field(
        description=(
            "personal: the reader's model list; covisited: read in the same sessions lately; "
            "related: the nightly model's related list; trending: most read in the last hour; "
            "popular: most read in the model's window."
        )
    )


class ItemList(BaseModel):
    """A list from the portal's active model version (``model_version``, null before the
    first model). ``degraded`` is true when part of the store could not be read and the
    list comes, in part or whole, from fallbacks or from memory."""

    portal: str
    model_version: str | None
    items: list[RecommendedItem]
    degraded: bool


class RecommendationsOut(ItemList):
    """A reader's recommendations, best first, without what they read lately."""

    user_id: str

    @staticmethod
    def response(portal: str, user_id: str, answer: Answer) -> Response:
        return _json_response(_body(portal, answer) | {"user_id": user_id})


class RelatedOut(ItemList):
    """Articles to read after ``article_id``, best first."""

    article_id: str

    @staticmethod
    def response(portal: str, article_id: str, answer: Answer) -> Response:
        return _json_response(_body(portal, answer) | {"article_id": article_id})


class ListOut(ItemList):
    """A portal-wide list (trending or popular), best first."""

    @staticmethod
    def response(portal: str, answer: Answer) -> Response:
        return _json_response(_body(portal, answer))


def _body(portal: str, answer: Answer) -> dict[str, Any]:
    items = [
        {"article_id": i.article_id, "score": i.score, "source": i.source} for i in answer.items
    ]
    return {
        "portal": portal,
        "model_version": answer.model_version,
        "items": items,
        "degraded": answer.degraded,
    }


def _json_response(body: dict[str, Any]) -> Response:
    """The body of one of the models above, as JSON encoded by pydantic-core from plain
    dicts: building the models for every answer (ten items each) and FastAPI serialising
    them again cost several times as much. Routes name the model as ``response_model``, so
    the OpenAPI document is unchanged; the route tests compare whole bodies."""
    return Response(to_json(body, inf_nan_mode="null"), media_type="application/json")


class ErrorOut(BaseModel):
    """FastAPI's error body, named so the OpenAPI document shows it."""

    detail: str


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a route that can answer these error statuses."""
    return {code: {"model": ErrorOut, "description": ERRORS[code]} for code in codes}


ERRORS = {
    401: "Missing or invalid access token (see WWW-Authenticate)",
    403: "The token may not read this user or portal",
    404: "Unknown portal",
    422: "A malformed id or a limit outside 1..100",
    503: "Tokens cannot be checked right now (Retry-After)",
}
