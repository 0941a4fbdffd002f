"""FastAPI dependencies, one ``Annotated`` alias each, so routes read as what they need.

Settings, store reader and verifier come with the app
(``create_app(settings, reader=..., verifier=...)``), which is how tests swap them.

Every dependency is ``async`` and does no blocking IO on the event loop: what may block
(building the verifier, fetching keys for an unknown kid) goes to the thread pool.
Order of checks on a route: token (401), the ids' form (422), the right to read (403),
then the portal (404), so an anonymous caller learns nothing about portals or ids.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, cast

from fastapi import Depends, HTTPException, Path, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from serving.auth import AuthUnavailableError, InvalidTokenError, Principal, TokenVerifier
from serving.components import Components
from serving.recommender import Recommender

logger = logging.getLogger(__name__)
T = TypeVar("T")

AUTH_RETRY_AFTER_S = 5
# Ids as the tracker and Cognito make them: no '#' (the store's key separator), no spaces.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,127}$"
ID_RULE = "1 to 128 letters, digits or . _ : @ + = -, starting with a letter or digit"

bearer_scheme = HTTPBearer(
    auto_error=False,  # we answer a missing token ourselves, with RFC 6750's 401
    scheme_name="CognitoAccessToken",
    bearerFormat="JWT",
    description=(
        "A Cognito access token of the readers' user pool: a reader's own token, or a "
        "machine client's (client credentials) with the read scope and per-portal scopes."
    ),
)


def _components(request: Request) -> Components:
    return cast(Components, request.app.state.components)


async def get_components(request: Request) -> Components:
    return _components(request)


ComponentsDep = Annotated[Components, Depends(get_components)]


async def _verifier(components: Components) -> TokenVerifier:
    """The verifier; built in the thread pool when start-up could not (it calls Cognito)."""
    if components.verifier_built:
        return components.verifier()
    try:
        return await run_in_threadpool(components.verifier)
    except AuthUnavailableError as exc:
        raise _auth_unavailable(exc) from exc


async def get_current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """Whose the bearer token is. No token is refused before the verifier is even built."""
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing bearer token: send 'Authorization: Bearer <Cognito access token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token = credentials.credentials
    verifier = await _verifier(_components(request))
    try:
        if verifier.verifies_offline(token):
            return verifier.verify(token)  # microseconds of CPU: stays on the loop
        return await run_in_threadpool(verifier.verify, token)  # fetches the pool's keys
    except InvalidTokenError as exc:
        message = str(exc)
        quoted = message.replace("\\", "'").replace('"', "'")
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            message,
            headers={
                "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{quoted}"'
            },
        ) from None
    except AuthUnavailableError as exc:
        raise _auth_unavailable(exc) from exc


CurrentPrincipal = Annotated[Principal, Depends(get_current_principal)]

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"How many items, 1 to {MAX_LIMIT}.")]
UserIdPath = Annotated[str, Path(pattern=ID_PATTERN, description=f"The reader's id: {ID_RULE}.")]
ArticleIdPath = Annotated[
    str, Path(pattern=ID_PATTERN, description=f"The article's id: {ID_RULE}.")
]


@dataclass(frozen=True)
class Read:
    """A read the caller may make: on a known portal, through the app's recommender."""

    portal: str
    recommender: Recommender
    user_id: str = ""

    async def run(self, method: Callable[..., T], *args: Any) -> T:
        """Calls a recommender method; in the thread pool when its reads may block (DynamoDB),
        so the event loop keeps serving while a store call waits."""
        if self.recommender.blocking:
            return await run_in_threadpool(method, *args)
        return method(*args)


def _read(components: Components, portal: str, refusal: str | None, user_id: str = "") -> Read:
    if refusal is not None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, refusal)
    portals = components.settings.portals
    if portal not in portals:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"unknown portal {portal[:64]!r}: use one of {', '.join(portals)}",
        )
    return Read(portal, components.recommender(), user_id)


# One dependency per kind of route, reading the components off the request: every level
# of FastAPI's dependency tree costs CPU on every request.
async def get_portal_read(request: Request, portal: str, principal: CurrentPrincipal) -> Read:
    """A read of the portal's shared lists: 403 for a machine token without its scopes,
    404 for an unknown portal."""
    components = _components(request)
    return _read(components, portal, components.policy.portal_refusal(principal, portal))


PortalRead = Annotated[Read, Depends(get_portal_read)]


async def get_user_read(
    request: Request, portal: str, principal: CurrentPrincipal, user_id: UserIdPath
) -> Read:
    """A read of one user's recommendations: 403 unless the token is that user's or a
    machine client's with the portal's scopes, 404 for an unknown portal."""
    components = _components(request)
    refusal = components.policy.user_refusal(principal, portal, user_id)
    return _read(components, portal, refusal, user_id)


UserRead = Annotated[Read, Depends(get_user_read)]


def _auth_unavailable(exc: Exception) -> HTTPException:
    # The cause (URLs, pool names) is for the operator's log, not for the caller.
    logger.warning("token verification unavailable: %s", exc)
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        f"token verification is unavailable; retry in {AUTH_RETRY_AFTER_S} s",
        headers={"Retry-After": str(AUTH_RETRY_AFTER_S)},
    )
