"""FastAPI dependencies, one ``Annotated`` alias each, so routes read as what they need.

Tests replace pieces with ``app.dependency_overrides[get_verifier] = ...`` (or
``get_recommender``, ``get_settings``) instead of patching modules.
"""

from __future__ import annotations

import logging
from typing import Annotated, cast

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from newslake.settings import Settings
from serving.auth import AuthUnavailableError, InvalidTokenError, Principal, TokenVerifier
from serving.components import Components
from serving.recommender import Recommender

logger = logging.getLogger(__name__)

AUTH_RETRY_AFTER_S = 5

bearer_scheme = HTTPBearer(
    auto_error=False,  # we answer a missing token ourselves, with RFC 6750's 401
    scheme_name="CognitoAccessToken",
    bearerFormat="JWT",
    description="A Cognito access token of the readers' user pool.",
)


def get_components(request: Request) -> Components:
    return cast(Components, request.app.state.components)


ComponentsDep = Annotated[Components, Depends(get_components)]


def get_settings(components: ComponentsDep) -> Settings:
    """The app's settings, read once (see Components); override this in tests."""
    return components.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_verifier(components: ComponentsDep) -> TokenVerifier:
    try:
        return components.verifier()
    except AuthUnavailableError as exc:
        raise _auth_unavailable(exc) from exc


VerifierDep = Annotated[TokenVerifier, Depends(get_verifier)]


def get_recommender(components: ComponentsDep) -> Recommender:
    return components.recommender()


RecommenderDep = Annotated[Recommender, Depends(get_recommender)]


def get_bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> str:
    """The raw token. Checked before the verifier is built, so no token costs no lookup."""
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing bearer token: send 'Authorization: Bearer <Cognito access token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return credentials.credentials


BearerToken = Annotated[str, Depends(get_bearer_token)]


def get_current_principal(token: BearerToken, verifier: VerifierDep) -> Principal:
    try:
        return verifier.verify(token)
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


def get_own_user_id(user_id: str, principal: CurrentPrincipal) -> str:
    """The path's ``user_id``, allowed only when it is the caller's own."""
    if user_id != principal.username:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "a token may only read its own user's recommendations",
        )
    return user_id


OwnUserId = Annotated[str, Depends(get_own_user_id)]


def get_known_portal(portal: str, settings: SettingsDep) -> str:
    if portal not in settings.portals:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"unknown portal {portal!r}: use one of {', '.join(settings.portals)}",
        )
    return portal


KnownPortal = Annotated[str, Depends(get_known_portal)]


def _auth_unavailable(exc: Exception) -> HTTPException:
    # The cause (URLs, pool names) is for the operator's log, not for the caller.
    logger.warning("token verification unavailable: %s", exc)
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        f"token verification is unavailable; retry in {AUTH_RETRY_AFTER_S} s",
        headers={"Retry-After": str(AUTH_RETRY_AFTER_S)},
    )
