"""Response bodies of the API; the OpenAPI document is generated from these."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic_core import to_json
from starlette.responses import Response

from newslake.experiments import NAME_PATTERN
from serving.impressions import Impression
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
            "related: the nightly model's related list; hot: read in the last minutes; "
            "trending: most read in the last hour; popular: most read in the model's window; "
            "editorial: placed there by the newsroom (a promotion)."
        )
    )
    position: int = Field(
        ge=1,
        le=100,
        description=(
            "The item's place in the list, from 1. A portal marks the link with it and the "
            "answer's recommendation_id, so a click is attributed to this list and place."
        ),
    )


class VariantOut(BaseModel):
    """The experiment's variant this answer was built in."""

    experiment: str = Field(pattern=NAME_PATTERN.pattern)
    name: str = Field(pattern=NAME_PATTERN.pattern)


class ItemList(BaseModel):
    """A list from the portal's active model version (``model_version``, null before the
    first model). ``degraded`` is true when part of the store could not be read and the
    list comes, in part or whole, from fallbacks or from memory."""

    portal: str
    recommendation_id: str = Field(
        pattern=r"^[0-9a-f]{32}$",
        description=(
            "This answer's id (32 lowercase hex), new for every answer and recorded with "
            "what it showed (an impression): clicks that name it are attributed to it."
        ),
    )
    model_version: str | None
    items: list[RecommendedItem]
    degraded: bool


_VARIANT = (
    "The variant of the experiment covering this route the reader is in; null when no "
    "experiment is enabled on it (or, on the article page, no reader_id was given)."
)


class RecommendationsOut(ItemList):
    """A reader's recommendations, best first, without what they read lately."""

    user_id: str
    variant: VariantOut | None = Field(description=_VARIANT)

    @staticmethod
    def response(impression: Impression, answer: Answer) -> Response:
        return _json_response(
            _body(impression, answer)
            | {"user_id": impression.user_id, "variant": _variant(impression)}
        )


class RelatedOut(ItemList):
    """Articles to read after ``article_id``, best first."""

    article_id: str
    variant: VariantOut | None = Field(description=_VARIANT)

    @staticmethod
    def response(impression: Impression, answer: Answer) -> Response:
        return _json_response(
            _body(impression, answer)
            | {"article_id": impression.article_id, "variant": _variant(impression)}
        )


class ListOut(ItemList):
    """A portal-wide list (trending or popular), best first."""

    @staticmethod
    def response(impression: Impression, answer: Answer) -> Response:
        return _json_response(_body(impression, answer))


def _body(impression: Impression, answer: Answer) -> dict[str, Any]:
    items = [
        {"article_id": i.article_id, "score": i.score, "source": i.source, "position": p}
        for p, i in enumerate(answer.items, start=1)
    ]
    return {
        "portal": impression.portal,
        "recommendation_id": impression.recommendation_id,
        "model_version": answer.model_version,
        "items": items,
        "degraded": answer.degraded,
    }


def _variant(impression: Impression) -> dict[str, str] | None:
    v = impression.variant
    return None if v is None else {"experiment": v.experiment, "name": v.name}


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
