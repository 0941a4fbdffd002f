"""Articles to read next, for an article page."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from serving.api.deps import (
    DEFAULT_LIMIT,
    ArticleIdPath,
    CurrentPrincipal,
    Limit,
    ReaderIdQuery,
    SectionQuery,
    portal_read,
)
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
    *,
    limit: Limit = DEFAULT_LIMIT,
    reader_id: ReaderIdQuery = None,
    section: SectionQuery = None,
) -> Response:
    """Related articles, best first, never the article itself.

    Read together in recent sessions (the streaming job's co-visitation, ``covisited``),
    then the nightly model's list (``related``), topped up from trending and popular.
    With ``reader_id``, the answer names the reader's variant when an experiment covers
    the article page. With ``section`` (the page's section), the newsroom's promotions
    for that section are placed too.
    """
    read = portal_read(request, principal, portal)
    variant = read.experiments.assign("related", reader_id)
    shown = await read.answer(
        read.recommender.related,
        portal,
        article_id,
        limit=limit,
        route="related",
        user_id=reader_id,
        article_id=article_id,
        variant=variant,
        section=section,
    )
    return RelatedOut.response(*shown)
