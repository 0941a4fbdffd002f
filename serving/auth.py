"""Verifying Cognito access tokens offline, against the user pool's published keys (JWKS).

The verifier is built once per process with everything it checks (issuer, allowed app
clients, token use, leeway) and a key cache, in the manner of awslabs/aws-jwt-verify's
``CognitoJwtVerifier``: keys are fetched once, and again only when a token names a key id
the cache does not know (a key rotation); at most every few seconds, so tokens with made-up
key ids cannot turn into a flood of fetches.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from botocore.exceptions import BotoCoreError, ClientError

from newslake.errors import PlatformError
from newslake.local.provision import find_cognito_app
from newslake.settings import Settings

# Cognito signs with RS256 only; accepting anything else (none, HS256 keyed with the
# public key) is how forged tokens get through.
ALGORITHMS = ("RS256",)
ACCESS_TOKEN_USE = "access"
DEFAULT_LEEWAY_S = 30.0
JWKS_MIN_REFRESH_S = 5.0
JWKS_TIMEOUT_S = 3.0

JwksFetcher = Callable[[], Mapping[str, Any]]


class InvalidTokenError(Exception):
    """The token fails a check; the message says which and is safe to send back."""


class AuthUnavailableError(Exception):
    """The pool or its keys cannot be reached, so no token can be checked right now."""


@dataclass(frozen=True)
class Principal:
    """The caller a verified access token speaks for."""

    username: str
    client_id: str
    scopes: frozenset[str]


def http_jwks_fetcher(url: str, *, timeout_s: float = JWKS_TIMEOUT_S) -> JwksFetcher:
    """A fetcher that GETs the JWKS document at ``url``.

    Raises (when called):
        AuthUnavailableError: the URL does not answer with a JSON object.
    """

    def fetch() -> Mapping[str, Any]:
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as response:
                data = json.load(response)
        except (OSError, ValueError) as exc:
            raise AuthUnavailableError(f"cannot fetch signing keys from {url}: {exc}") from exc
        if not isinstance(data, dict):
            raise AuthUnavailableError(f"signing keys at {url} are not a JWKS document")
        return data

    return fetch


def _usable_keys(document: Mapping[str, Any]) -> dict[str, jwt.PyJWK]:
    """Signature keys of an accepted algorithm, by key id; anything else is skipped."""
    keys: dict[str, jwt.PyJWK] = {}
    entries = document.get("keys")
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        if entry.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(entry)
        except jwt.PyJWTError:
            continue
        if key.algorithm_name in ALGORITHMS:
            keys[entry["kid"]] = key
    return keys


class JwksCache:
    """The pool's public keys by key id, refetched on an unknown id at most every few seconds.

    Args:
        fetch: returns the JWKS document; raises AuthUnavailableError when it cannot.
        min_refresh_s: the shortest time between two fetches.
        clock: monotonic seconds; tests pass their own.
    """

    def __init__(
        self,
        fetch: JwksFetcher,
        *,
        min_refresh_s: float = JWKS_MIN_REFRESH_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._min_refresh_s = min_refresh_s
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._last_fetch: float | None = None
        self._last_error: AuthUnavailableError | None = None
        self._lock = threading.Lock()  # one fetch at a time; the others wait for its keys

    def get(self, kid: str) -> jwt.PyJWK:
        """The key with id ``kid``.

        Raises:
            InvalidTokenError: no such key, even after a refresh (or too soon to refresh).
            AuthUnavailableError: the keys could not be fetched and none is known for ``kid``.
        """
        with self._lock:
            key = self._keys.get(kid)
            if key is None and self._may_refresh():
                self._refresh()
                key = self._keys.get(kid)
            if key is None and self._last_error is not None:
                raise self._last_error
        if key is None:
            raise InvalidTokenError("token is signed with a key this user pool does not publish")
        return key

    def _may_refresh(self) -> bool:
        if self._last_fetch is None:
            return True
        return self._clock() - self._last_fetch >= self._min_refresh_s

    def _refresh(self) -> None:
        # The attempt counts even when it fails, so a JWKS endpoint that is down is not hammered.
        self._last_fetch = self._clock()
        try:
            document = self._fetch()
        except AuthUnavailableError as exc:
            self._last_error = exc
            return
        keys = _usable_keys(document)
        if not keys:
            self._last_error = AuthUnavailableError("the JWKS document has no usable RS256 keys")
            return
        self._keys, self._last_error = keys, None


class TokenVerifier:
    """Checks a Cognito access token and says whose it is.

    Args:
        issuer: the exact ``iss`` expected, ``https://cognito-idp.<region>.amazonaws.com/<pool>``.
        client_ids: app clients whose tokens are accepted (the ``client_id`` claim).
        jwks: the pool's keys.
        token_use: ``access`` (id tokens are for the client, not for APIs).
        leeway_s: clock skew tolerated on ``exp``, ``nbf`` and ``iat``.
    """

    def __init__(
        self,
        *,
        issuer: str,
        client_ids: Iterable[str],
        jwks: JwksCache,
        token_use: str = ACCESS_TOKEN_USE,
        leeway_s: float = DEFAULT_LEEWAY_S,
    ) -> None:
        self.issuer = issuer
        self.client_ids = frozenset(client_ids)
        if not self.client_ids:
            raise ValueError("TokenVerifier needs at least one allowed app client id")
        self.token_use = token_use
        self.leeway_s = leeway_s
        self._jwks = jwks

    def verify(self, token: str) -> Principal:
        """The principal of a valid token.

        Raises:
            InvalidTokenError: any check fails; the message names the check.
            AuthUnavailableError: the signing keys cannot be fetched.
        """
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidTokenError("token is malformed: expected a signed JWT") from None
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise InvalidTokenError(f"token algorithm {alg!r} is not accepted; expected RS256")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidTokenError("token header has no key id (kid)")
        claims = self._decode(token, self._jwks.get(kid))
        return self._principal(claims)

    def _decode(self, token: str, key: jwt.PyJWK) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                issuer=self.issuer,
                leeway=self.leeway_s,
                # Cognito access tokens carry no aud; client_id is checked below instead.
                options={"require": ["exp", "iss", "token_use"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidTokenError("token has expired: sign in again") from None
        except jwt.ImmatureSignatureError:
            raise InvalidTokenError("token is not valid yet (nbf or iat in the future)") from None
        except jwt.InvalidIssuerError:
            raise InvalidTokenError("token was not issued by this user pool") from None
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidTokenError(f"token lacks the {exc.claim!r} claim") from None
        except jwt.InvalidSignatureError:
            raise InvalidTokenError("token signature does not verify") from None
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(f"token is invalid: {exc}") from None

    def _principal(self, claims: Mapping[str, Any]) -> Principal:
        if claims["token_use"] != self.token_use:
            raise InvalidTokenError(
                f"expected an {self.token_use} token, got token_use={claims['token_use']!r}"
            )
        client_id = claims.get("client_id")
        if client_id not in self.client_ids:
            raise InvalidTokenError("token was issued to an app client this API does not accept")
        username = claims.get("username")
        if not isinstance(username, str) or not username:
            raise InvalidTokenError("token has no username claim")
        scope = claims.get("scope")
        scopes = frozenset(scope.split()) if isinstance(scope, str) else frozenset()
        return Principal(username=username, client_id=str(client_id), scopes=scopes)


def verifier_from_settings(settings: Settings) -> TokenVerifier:
    """The verifier for the configured user pool; looks the pool up once, so call it lazily.

    Raises:
        AuthUnavailableError: the pool or app client cannot be found or reached.
    """
    try:
        app = find_cognito_app(settings)
    except PlatformError as exc:
        raise AuthUnavailableError(str(exc)) from exc
    except (BotoCoreError, ClientError) as exc:
        raise AuthUnavailableError(f"cannot look up the Cognito user pool: {exc}") from exc
    return TokenVerifier(
        issuer=settings.issuer_for(app.pool_id),
        client_ids=settings.cognito_client_ids or (app.client_id,),
        jwks=JwksCache(http_jwks_fetcher(settings.jwks_url_for(app.pool_id))),
    )
