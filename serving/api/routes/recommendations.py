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

    Fused now from what the reader just read (its co-visitation), what is hot and
    trending, their nightly list and popular, never an article they read lately. When an
    experiment covers the reader's list, the reader's variant (``variant``) decides how it
    is made. When the store is slow or down the answer is still 200, from what this
    instance last read, with ``degraded`` true.
    """
    read = user_read(request, principal, portal, user_id)
    variant = read.experiments.assign("reader", user_id)
    method = read.experiments.reader_list(variant)
    shown = await read.answer(
        method, portal, user_id, limit=limit, route="reader", user_id=user_id, variant=variant
    )
    return RecommendationsOut.response(*shown)
