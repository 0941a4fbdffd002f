"""Articles to read next, for an article page."""

from __future__ import annotations

from fastapi import APIRouter

from serving.api.deps import DEFAULT_LIMIT, ArticleIdPath, Limit, PortalRead
from serving.api.schemas import RelatedOut, error_responses

router = APIRouter(prefix="/v1/portals/{portal}", tags=["related"])


@router.get(
    "/articles/{article_id}/related",
    responses=error_responses(401, 403, 404, 422, 503),
)
async def get_related(
    read: PortalRead, article_id: ArticleIdPath, limit: Limit = DEFAULT_LIMIT
) -> RelatedOut:
    """Related articles, best first, never the article itself.

    Read together in recent sessions (the streaming job's co-visitation, ``covisited``),
    then the nightly model's list (``related``), topped up from trending and popular.
    """
    answer = await read.run(read.recommender.related, read.portal, article_id, limit)
    return RelatedOut.of(read.portal, article_id, answer)
