"""Erasure requests from the privacy office: a machine client records that a reader is to
be erased everywhere; the nightly erasure stage does it and records the proof.

The answer is the request's record (202: recorded, not yet done). Asking again is
harmless: a pending request stays as it was first asked.
"""

from __future__ import annotations

import logging
import time
from typing import Annotated, cast

from botocore.exceptions import BotoCoreError, ClientError
from fastapi import APIRouter, HTTPException, Path, Request, status
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from newslake.ids import ID_RULE, READER_ID_PATTERN
from newslake.privacy import ErasureRequests, valid_user_id
from serving.api.deps import CurrentPrincipal
from serving.api.schemas import ErrorOut
from serving.authz import erasure_refusal
from serving.components import Components

logger = logging.getLogger(__name__)
RETRY_AFTER_S = 5

router = APIRouter(prefix="/v1/portals/{portal}", tags=["privacy"])

# The reader-id rule stated in the document only: the route judges it itself (valid_user_id,
# lone surrogates included), so that its 422 names the erasure's rule, not the list routes'.
ReaderIdPath = Annotated[
    str,
    Path(
        description=f"The reader's id as the pageview API took it: {ID_RULE}.",
        json_schema_extra={"pattern": READER_ID_PATTERN},
    ),
]


class ErasureOut(BaseModel):
    """An erasure request as recorded. ``subject`` is the reader's pseudonym, the request's
    key; ``steps`` gains one entry per place the stage erased, ``{"removed", "at"}``;
    once ``done`` the id leaves the record and ``unreadable_by`` dates the last copy."""

    subject: str = Field(pattern=r"^[0-9a-f]{32}$")
    portal: str
    user_id: str | None
    asked_at: float = Field(description="When it was asked (epoch seconds).")
    asked_by: str = Field(description="client:<app client id> or cli:<login>.")
    status: str = Field(description="pending, or done.")
    steps: dict[str, dict[str, float]]
    done_at: float | None
    unreadable_by: str | None = Field(description="ISO date by which no copy is readable.")


RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorOut, "description": "Missing or invalid access token"},
    403: {"model": ErrorOut, "description": "Not a machine client with the erasure scope"},
    404: {"model": ErrorOut, "description": "Unknown portal"},
    422: {"model": ErrorOut, "description": f"A malformed reader id: must be {ID_RULE}"},
    503: {"model": ErrorOut, "description": "Requests cannot be recorded now (Retry-After)"},
}


def _requests(request: Request) -> ErasureRequests:
    """The app's requests table, made on first use (a boto3 client, no call yet)."""
    state = request.app.state
    if getattr(state, "erasure_requests", None) is None:
        components = cast(Components, state.components)
        state.erasure_requests = ErasureRequests.of(components.settings)
    return cast(ErasureRequests, state.erasure_requests)


@router.post(
    "/users/{user_id}/erasure",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ErasureOut,
    responses=RESPONSES,
)
async def ask_erasure(
    request: Request, principal: CurrentPrincipal, portal: str, user_id: ReaderIdPath
) -> ErasureOut:
    """Record that the reader is to be erased from every copy the lake and the store hold."""
    if not valid_user_id(user_id):
        shown = user_id if len(user_id) <= 40 else user_id[:40] + "..."
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"user_id must be {ID_RULE} (got {shown!r})"
        )
    settings = cast(Components, request.app.state.components).settings
    refusal = erasure_refusal(principal, settings.privacy_erase_scope)
    if refusal is not None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, refusal)
    if portal not in settings.portals:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"unknown portal {portal[:64]!r}: use one of {', '.join(settings.portals)}",
        )
    requests = _requests(request)
    asked_by = f"client:{principal.client_id}"
    try:
        record = await run_in_threadpool(
            requests.ask, portal, user_id, asked_by=asked_by, now=time.time()
        )
    except (BotoCoreError, ClientError) as exc:
        logger.warning("erasure request not recorded: %s", exc)
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"the erasure request could not be recorded; retry in {RETRY_AFTER_S} s",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        ) from None
    logger.info("erasure requested", extra={"subject": record.subject, "asked_by": asked_by})
    return ErasureOut(**record.to_json())
