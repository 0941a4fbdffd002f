"""Articles to read next, for an article page."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from serving.api.deps import DEFAULT_LIMIT, ArticleIdPath, CurrentPrincipal, Limit, portal_read
from serving.api.schemas import RelatedOut, error_responses

router = APIRouter(prefix="/v1/portals/{portal}", tags=["related"])


@router.get(
    "/articles/{article_id}/related",
    response_model=RelatedOut,
    responses=error_responses(401, 403, 404, 422, 503),
)
async def get_related(
    request: Request,
    principal: CurrentPrincipal,
    portal: str,
    article_id: ArticleIdPath,
    limit: Limit = DEFAULT_LIMIT,
) -> Response:
    """Related articles, best first, never the article itself.

    Read together in recent sessions (the streaming job's co-visitation, ``covisited``),
    then the nightly model's list (``related``), topped up from trending and popular.
    """
    read = portal_read(request, principal, portal)
    answer = await read.run(read.recommender.related, portal, article_id, limit)
    return RelatedOut.response(portal, article_id, answer)
