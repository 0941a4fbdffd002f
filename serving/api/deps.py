"""FastAPI dependencies, one ``Annotated`` alias each, so routes read as what they need.

Settings, store reader and verifier come with the app
(``create_app(settings, reader=..., verifier=...)``), which is how tests swap them.

The tree is one level deep: FastAPI solves every level on every request (it was ~40 %
of a request's CPU with three), so a route takes the caller (``CurrentPrincipal``, the
only dependency) and its parameters, then asks ``user_read``/``portal_read`` for the
read it may make. That keeps the order of checks: token (401), the parameters' form
(422), the right to read (403), then the portal (404), so an anonymous caller learns
nothing about portals or ids.

Nothing here blocks the event loop: what may (building the verifier, fetching keys for
an unknown kid) goes to the thread pool.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, NamedTuple, TypeVar, cast

from fastapi import Depends, HTTPException, Path, Query, Request, status
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase
from starlette.concurrency import run_in_threadpool

from newslake.ids import ARTICLE_ID_PATTERN, ARTICLE_ID_RULE
from serving.auth import AuthUnavailableError, InvalidTokenError, Principal, TokenVerifier
from serving.components import Components
from serving.editorial import EditorialCopy
from serving.experiments import Assignment, Experiments
from serving.impressions import Impression, ImpressionLog, Route
from serving.recommender import Answer, Recommender

logger = logging.getLogger(__name__)
T = TypeVar("T")

AUTH_RETRY_AFTER_S = 5
# Ids in a list route's path or query, article's and reader's alike: the article-id form.
ID_PATTERN = ARTICLE_ID_PATTERN
ID_RULE = ARTICLE_ID_RULE
MISSING_TOKEN = "missing bearer token: send 'Authorization: Bearer <Cognito access token>'"


def _components(request: Request) -> Components:
    return cast(Components, request.app.state.components)


async def get_components(request: Request) -> Components:
    return _components(request)


ComponentsDep = Annotated[Components, Depends(get_components)]


class CognitoBearer(SecurityBase):
    """The API's security scheme and the check of its token, as one dependency: whose
    the bearer token is.

    A ``SecurityBase`` itself rather than a dependency on ``HTTPBearer``, so the OpenAPI
    document still declares the scheme on every route using it while FastAPI solves one
    level instead of two. A missing token is refused before the verifier is even built.
    """

    def __init__(self, scheme_name: str, description: str) -> None:
        self.model = HTTPBearerModel(bearerFormat="JWT", description=description)
        self.scheme_name = scheme_name

    async def __call__(self, request: Request) -> Principal:
        scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
        token = token.strip()
        if not token or scheme.lower() != "bearer":
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, MISSING_TOKEN, headers={"WWW-Authenticate": "Bearer"}
            )
        verifier = await _verifier(_components(request))
        try:
            if verifier.verifies_offline(token):
                return verifier.verify(token)  # cached, or one RS256 check: no IO
            return await run_in_threadpool(verifier.verify, token)  # fetches the pool's keys
        except InvalidTokenError as exc:
            message = str(exc)
            challenge = f'Bearer error="invalid_token", error_description="{_described(message)}"'
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, message, headers={"WWW-Authenticate": challenge}
            ) from None
        except AuthUnavailableError as exc:
            raise _auth_unavailable(exc) from exc


def _described(message: str) -> str:
    """``message`` as RFC 6750 allows in ``error_description``: printable ASCII but ``"`` and
    ``\\``. It may quote a claim's value, and a header Starlette cannot write in latin-1
    was a 500 where the answer is a 401."""
    text = message.replace("\\", "'").replace('"', "'")
    return "".join(c if " " <= c <= "~" else "?" for c in text)


cognito_bearer = CognitoBearer(
    "CognitoAccessToken",
    "A Cognito access token of the readers' user pool: a reader's own token, or a "
    "machine client's (client credentials) with the read scope and per-portal scopes.",
)
CurrentPrincipal = Annotated[Principal, Depends(cognito_bearer)]


async def _verifier(components: Components) -> TokenVerifier:
    """The verifier; built in the thread pool when start-up could not (it calls Cognito)."""
    if components.verifier_built:
        return components.verifier()
    try:
        return await run_in_threadpool(components.verifier)
    except AuthUnavailableError as exc:
        raise _auth_unavailable(exc) from exc


DEFAULT_LIMIT = 10
MAX_LIMIT = 100
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"How many items, 1 to {MAX_LIMIT}.")]
UserIdPath = Annotated[str, Path(pattern=ID_PATTERN, description=f"The reader's id: {ID_RULE}.")]
ArticleIdPath = Annotated[
    str, Path(pattern=ID_PATTERN, description=f"The article's id: {ID_RULE}.")
]
ReaderIdQuery = Annotated[
    str | None,
    Query(
        pattern=ID_PATTERN,
        description=(
            "The reader on the article page (their id, or the tracker's first-party id), "
            f"only to place them in the page's experiment: {ID_RULE}."
        ),
    ),
]

SECTION_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
SectionQuery = Annotated[
    str | None,
    Query(
        pattern=SECTION_PATTERN,
        description=(
            "The article page's section (as in its URL, e.g. politica), so the newsroom's "
            "promotions for that section are placed: 1 to 64 lowercase letters, digits or -."
        ),
    ),
]


class Shown(NamedTuple):
    """An answer as finished for the caller, and its recorded impression."""

    impression: Impression
    answer: Answer


@dataclass(frozen=True)
class Read:
    """A read the caller may make: on a known portal, through the app's recommender, in
    the app's experiments, under the portal's editorial controls, its answer recorded in
    the app's impression log."""

    portal: str
    recommender: Recommender
    experiments: Experiments
    impressions: ImpressionLog
    editorial: EditorialCopy
    reader: str | None = None  # the reader a reader's token names (None: a machine client)

    async def answer(
        self,
        method: Callable[..., Answer],
        *args: Any,
        limit: int,
        route: Route,
        user_id: str | None = None,
        article_id: str | None = None,
        variant: Assignment | None = None,
        section: str | None = None,
    ) -> Shown:
        """The list ``method(*args, n)`` makes, finished: the editorial controls applied
        (``n`` leaves room for what blocks take out), then recorded as an impression. Every
        list route answers through here, so none can serve a blocked article."""
        wanted = self.editorial.wanted(self.portal, limit, most=2 * MAX_LIMIT)
        made = await self.run(method, *args, wanted)
        reader = user_id or self.reader  # whom a share promotion is drawn for, all day
        answer = self.editorial.controlled(self.portal, made, limit, section, reader=reader)
        impression = self.shown(
            answer, route, user_id=user_id, article_id=article_id, variant=variant
        )
        return Shown(impression, answer)

    async def run(self, method: Callable[..., T], *args: Any) -> T:
        """Calls a recommender method; in the thread pool when its reads may block (DynamoDB),
        so the event loop keeps serving while a store call waits."""
        if self.recommender.blocking:
            return await run_in_threadpool(method, *args)
        return method(*args)

    def shown(
        self,
        answer: Answer,
        route: Route,
        *,
        user_id: str | None = None,
        article_id: str | None = None,
        variant: Assignment | None = None,
    ) -> Impression:
        """The answer under a new recommendation id, its impression recorded (off the
        request path)."""
        impression = Impression.of(
            answer, route, self.portal, user_id=user_id, article_id=article_id, variant=variant
        )
        self.impressions.record(impression)
        return impression


def _allowed(components: Components, portal: str, refusal: str | None) -> None:
    """403 with ``refusal``, then 404 for an unknown portal: the order every route keeps."""
    if refusal is not None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, refusal)
    portals = components.settings.portals
    if portal not in portals:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"unknown portal {portal[:64]!r}: use one of {', '.join(portals)}",
        )


def _read(components: Components, portal: str, refusal: str | None, principal: Principal) -> Read:
    _allowed(components, portal, refusal)
    recommender = components.recommender()
    return Read(
        portal,
        recommender,
        components.experiments(),
        components.impressions,
        components.editorial(),
        principal.username,
    )


def portal_read(request: Request, principal: Principal, portal: str) -> Read:
    """A read of the portal's shared lists: 403 for a machine token without its scopes,
    404 for an unknown portal."""
    components = _components(request)
    refusal = components.policy.portal_refusal(principal, portal)
    return _read(components, portal, refusal, principal)


def user_read(request: Request, principal: Principal, portal: str, user_id: str) -> Read:
    """A read of one user's recommendations: 403 unless the token is that user's or a
    machine client's with the portal's scopes, 404 for an unknown portal."""
    components = _components(request)
    refusal = components.policy.user_refusal(principal, portal, user_id)
    return _read(components, portal, refusal, principal)


def editorial_access(request: Request, principal: Principal, portal: str) -> Components:
    """The app's parts, for reading or changing the portal's editorial controls: 403 unless
    the token is a machine client's with the editorial scope and the portal's, 404 for an
    unknown portal."""
    components = _components(request)
    scope = components.settings.editorial_write_scope
    _allowed(components, portal, components.policy.editorial_refusal(principal, portal, scope))
    return components


def _auth_unavailable(exc: Exception) -> HTTPException:
    # The cause (URLs, pool names) is for the operator's log, not for the caller.
    logger.warning("token verification unavailable: %s", exc)
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        f"token verification is unavailable; retry in {AUTH_RETRY_AFTER_S} s",
        headers={"Retry-After": str(AUTH_RETRY_AFTER_S)},
    )
