"""A reader's recommendations on one portal."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from serving.api.deps import DEFAULT_LIMIT, CurrentPrincipal, Limit, UserIdPath, user_read
from serving.api.schemas import RecommendationsOut, error_responses

router = APIRouter(prefix="/v1/portals/{portal}", tags=["recommendations"])


@router.get(
    "/users/{user_id}/recommendations",
    response_model=RecommendationsOut,
    responses=error_responses(401, 403, 404, 422, 503),
)
async def get_recommendations(
    request: Request,
    principal: CurrentPrincipal,
    portal: str,
    user_id: UserIdPath,
    limit: Limit = DEFAULT_LIMIT,
) -> Response:
    """The reader's top articles, best first, for their own token or a machine client's.

    The personal list of the portal's active model version, less the articles the reader
    read lately, topped up from trending and then popular when too few remain. When the
    store is slow or down the answer is still 200, from what this instance last read,
    with ``degraded`` true.
    """
    read = user_read(request, principal, portal, user_id)
    answer = await read.run(read.recommender.for_user, portal, user_id, limit)
    return RecommendationsOut.response(portal, user_id, answer)
