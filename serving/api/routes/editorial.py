"""The newsroom's controls of a portal's lists: block an article, promote one, list them.

Only a machine client (the newsroom's tool) with the editorial scope and the portal's
scope may call these, reading included; a reader's token never may. A change is written
with its audit log item in one transaction, applied at once on the instance that took it
and within a refresh or two (``editorial_refresh_s``) on every other.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Literal, TypeVar

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from newslake.editorial import Block, Promote
from newslake.editorial_store import ControlsStoreError
from newslake.store import LIVE, related_key
from serving.api.deps import ArticleIdPath, CurrentPrincipal, editorial_access
from serving.api.editorial_schemas import (
    CLOCK_RULES,
    END_AHEAD,
    UNTIL_AHEAD,
    BlockIn,
    BlockOut,
    BlockSet,
    ControlsOut,
    Ended,
    PromoteIn,
    PromotionOut,
    PromotionSet,
)
from serving.api.schemas import ErrorOut
from serving.components import Components
from serving.reader import StoreUnavailableError

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/portals/{portal}/editorial", tags=["editorial"])

STORE_RETRY_AFTER_S = 5
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": description}
    for code, description in {
        401: "Missing or invalid access token (see WWW-Authenticate)",
        403: "Not a machine client with the editorial scope and the portal's scope",
        404: "Unknown portal",
        422: "A malformed article id or body",
        503: "Tokens cannot be checked, or the controls cannot be read or written (Retry-After)",
    }.items()
}


M = TypeVar("M", bound=BaseModel)


def _documented(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI request body of a route that reads ``model`` itself (:func:`_body`)."""
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


async def _body(request: Request, model: type[M]) -> M:
    """The request's JSON body as ``model``, read after the token and scopes were checked
    (FastAPI reads a declared body first, so a caller without rights would learn how the
    body is checked); a body that is not JSON or not that shape is a 422."""
    raw = await request.body()
    try:
        return model.model_validate(json.loads(raw))
    except ValidationError as exc:
        errors = [
            {**e, "loc": ("body", *e["loc"]), "msg": e["msg"].removeprefix("Value error, ")}
            for e in exc.errors()
        ]
        raise RequestValidationError(errors) from None
    except ValueError:  # not UTF-8, not JSON
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "the body must be a JSON object"
        ) from None


def _unavailable(exc: Exception) -> HTTPException:
    logger.warning("editorial controls unavailable: %s", exc)  # the cause is the operator's
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        f"the editorial controls cannot be reached now; nothing was changed: retry in "
        f"{STORE_RETRY_AFTER_S} s",
        headers={"Retry-After": str(STORE_RETRY_AFTER_S)},
    )


async def _store_call(components: Components, method: Any, *args: Any) -> Any:
    """A write or read of the controls in the thread pool; its failure is a 503."""
    try:
        return await run_in_threadpool(method, *args)
    except ControlsStoreError as exc:
        raise _unavailable(exc) from exc


def _known(components: Components, portal: str, article_id: str) -> bool | None:
    """Whether the article has a live or nightly related list (it has been read)."""
    reader = components.reader()
    try:
        version = reader.active_version(portal)
        pk = related_key(portal, article_id)
        keys = [(pk, LIVE)] + ([(pk, version)] if version is not None else [])
        return bool(reader.items_many(keys))
    except StoreUnavailableError:
        return None


async def _changed(components: Components, portal: str, article_id: str) -> bool | None:
    """After a change: this instance applies it now; whether the article is known."""
    await run_in_threadpool(components.editorial().refresh)
    return await run_in_threadpool(_known, components, portal, article_id)


def _put(path: str, answer: type[BaseModel], body: type[BaseModel], clock: str) -> Any:
    """A PUT route answering ``answer`` that reads ``body`` itself, documented as its body;
    its 422 also names the rule of the ``clock`` field, which no schema can state."""
    refused = {
        **_ERRORS[422],
        "description": f"{_ERRORS[422]['description']}, or '{CLOCK_RULES[clock]}' "
        "(judged by the server's clock)",
    }
    return router.put(
        path,
        response_model=answer,
        responses={**_ERRORS, 422: refused},
        openapi_extra=_documented(body),
    )


@_put("/blocks/{article_id}", BlockSet, BlockIn, "until")
async def put_block(
    request: Request, principal: CurrentPrincipal, portal: str, article_id: ArticleIdPath
) -> dict[str, Any]:
    """Take the article out of every list of the portal (reader, article page, trending,
    popular; the streaming and nightly jobs' lists too) until ``until`` or until ended.
    The article need not exist yet (``known`` false). Setting it again replaces it.
    ``until`` must be in the future by the server's clock, a rule no schema can state
    (422 "until must be in the future")."""
    components = editorial_access(request, principal, portal)
    body = await _body(request, BlockIn)
    now = components.editorial().wall_clock()
    if body.until is not None and body.until <= now:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, UNTIL_AHEAD)
    block = Block(article_id, body.reason, body.until, principal.client_id, int(now))
    await _store_call(components, components.editorial().store.block, portal, block)
    known = await _changed(components, portal, article_id)
    return {**BlockOut.of(block, now), "portal": portal, "known": known}


@_put("/promotions/{article_id}", PromotionSet, PromoteIn, "end")
async def put_promotion(
    request: Request, principal: CurrentPrincipal, portal: str, article_id: ArticleIdPath
) -> dict[str, Any]:
    """Place the article at ``position`` of the portal's lists (or first in ``share`` of
    the answers) from ``start`` until ``end``; with ``sections``, only on the article
    pages of those sections. A block of the same article wins. Setting it again
    replaces it. ``end`` must be after ``start`` and in the future by the server's clock,
    rules no schema can state (422 "end must be after start and in the future")."""
    components = editorial_access(request, principal, portal)
    body = await _body(request, PromoteIn)
    now = components.editorial().wall_clock()
    start = body.start if body.start is not None else int(now)
    if body.end <= max(start, now):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, END_AHEAD)
    promotion = Promote(
        article_id,
        body.position,
        body.share,
        start,
        body.end,
        tuple(dict.fromkeys(body.sections)),
        principal.client_id,
        int(now),
    )
    await _store_call(components, components.editorial().store.promote, portal, promotion)
    known = await _changed(components, portal, article_id)
    return {**PromotionOut.of(promotion, now), "portal": portal, "known": known}


async def _end(
    request: Request,
    principal: Any,
    portal: str,
    kind: Literal["block", "promote"],
    article_id: str,
) -> dict[str, Any]:
    components = editorial_access(request, principal, portal)
    store = components.editorial().store
    ended = await _store_call(components, store.end, portal, kind, article_id, principal.client_id)
    if ended:
        await run_in_threadpool(components.editorial().refresh)
    return {"portal": portal, "article_id": article_id, "ended": ended}


@router.delete("/blocks/{article_id}", response_model=Ended, responses=_ERRORS)
async def delete_block(
    request: Request, principal: CurrentPrincipal, portal: str, article_id: ArticleIdPath
) -> dict[str, Any]:
    """End the article's block (logged like any change); ``ended`` false if it had none."""
    return await _end(request, principal, portal, "block", article_id)


@router.delete("/promotions/{article_id}", response_model=Ended, responses=_ERRORS)
async def delete_promotion(
    request: Request, principal: CurrentPrincipal, portal: str, article_id: ArticleIdPath
) -> dict[str, Any]:
    """End the article's promotion; ``ended`` false if it had none."""
    return await _end(request, principal, portal, "promote", article_id)


@router.get("", response_model=ControlsOut, responses=_ERRORS)
async def get_controls(
    request: Request, principal: CurrentPrincipal, portal: str
) -> dict[str, Any]:
    """The portal's blocks and promotions as stored now (read from the store, not from
    this instance's copy). Takes the same scopes as changing them."""
    components = editorial_access(request, principal, portal)
    controls = await _store_call(components, components.editorial().store.load, portal)
    now = components.editorial().wall_clock()
    return {
        "portal": portal,
        "blocks": [BlockOut.of(b, now) for b in controls.blocks],
        "promotions": [PromotionOut.of(p, now) for p in controls.promotions],
    }
