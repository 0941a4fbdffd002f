"""Recommendations for the signed-in reader of one portal."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from serving.api.deps import KnownPortal, OwnUserId, RecommenderDep
from serving.api.schemas import ErrorOut, RecommendationsOut

DEFAULT_LIMIT = 10
MAX_LIMIT = 100

router = APIRouter(prefix="/v1/portals/{portal}", tags=["recommendations"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Missing or invalid access token"},
    403: {"model": ErrorOut, "description": "The token is another user's"},
    404: {"model": ErrorOut, "description": "Unknown portal"},
    503: {"model": ErrorOut, "description": "Tokens cannot be checked right now"},
}


@router.get("/users/{user_id}/recommendations", responses=_ERRORS)
def get_recommendations(
    # Order matters: authentication and authorisation run before the portal check,
    # so an anonymous caller learns nothing about which portals exist.
    user_id: OwnUserId,
    portal: KnownPortal,
    recommender: RecommenderDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> RecommendationsOut:
    """The reader's top articles, best first.

    Personal when the active model has them, the portal's popular list otherwise; during
    a store outage, the last popular list this instance saw, with ``degraded`` true.
    """
    return RecommendationsOut.of(recommender.for_user(portal, user_id, limit))
