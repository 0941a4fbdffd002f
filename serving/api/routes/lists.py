"""Portal-wide lists: trending (the last hour) and popular (the model's window)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from serving.api.deps import DEFAULT_LIMIT, CurrentPrincipal, Limit, portal_read
from serving.api.schemas import ListOut, error_responses

router = APIRouter(prefix="/v1/portals/{portal}", tags=["lists"])


@router.get("/trending", response_model=ListOut, responses=error_responses(401, 403, 404, 422, 503))
async def get_trending(
    request: Request, principal: CurrentPrincipal, portal: str, limit: Limit = DEFAULT_LIMIT
) -> Response:
    """The most read articles of the last hour (streaming), topped up from popular."""
    read = portal_read(request, principal, portal)
    shown = await read.answer(read.recommender.trending, portal, limit=limit, route="trending")
    return ListOut.response(*shown)


@router.get("/popular", response_model=ListOut, responses=error_responses(401, 403, 404, 422, 503))
async def get_popular(
    request: Request, principal: CurrentPrincipal, portal: str, limit: Limit = DEFAULT_LIMIT
) -> Response:
    """The most read articles of the active model version's window."""
    read = portal_read(request, principal, portal)
    shown = await read.answer(read.recommender.popular, portal, limit=limit, route="popular")
    return ListOut.response(*shown)
