"""Portal-wide lists: trending (the last hour) and popular (the model's window)."""

from __future__ import annotations

from fastapi import APIRouter

from serving.api.deps import DEFAULT_LIMIT, Limit, PortalRead
from serving.api.schemas import ListOut, error_responses

router = APIRouter(prefix="/v1/portals/{portal}", tags=["lists"])


@router.get("/trending", responses=error_responses(401, 403, 404, 422, 503))
async def get_trending(read: PortalRead, limit: Limit = DEFAULT_LIMIT) -> ListOut:
    """The most read articles of the last hour (streaming), topped up from popular."""
    return ListOut.of(read.portal, await read.run(read.recommender.trending, read.portal, limit))


@router.get("/popular", responses=error_responses(401, 403, 404, 422, 503))
async def get_popular(read: PortalRead, limit: Limit = DEFAULT_LIMIT) -> ListOut:
    """The most read articles of the active model version's window."""
    return ListOut.of(read.portal, await read.run(read.recommender.popular, read.portal, limit))
