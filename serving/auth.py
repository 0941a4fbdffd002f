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

from newslake.cognito import find_cognito_app
from newslake.errors import PlatformError
from newslake.settings import Settings, setting_default

# Cognito signs with RS256 only; accepting anything else (none, HS256 keyed with the
# public key) is how forged tokens get through.
ALGORITHMS = ("RS256",)
ACCESS_TOKEN_USE = "access"
# verifier_from_settings passes the configured values; these serve what is built alone.
DEFAULT_LEEWAY_S: float = setting_default("serving_token_leeway_s")
JWKS_MIN_REFRESH_S: float = setting_default("serving_jwks_min_refresh_s")
JWKS_TIMEOUT_S: float = setting_default("serving_jwks_timeout_s")
DEFAULT_MAX_TOKEN_CHARS: int = setting_default("serving_max_token_chars")
VERIFIED_TOKENS_KEPT: int = setting_default("serving_verified_tokens_kept")

JwksFetcher = Callable[[], Mapping[str, Any]]

# The JSON type of each claim this API or PyJWT reads, as Cognito writes it. A token of the
# pool with another type (a misconfigured or future pool) is refused before any claim is
# used: a client_id that is a list would otherwise fail a set lookup with a TypeError.
_STRING, _NUMBER, _STRINGS = "a string", "a number", "a list of strings"
CLAIM_KINDS: Mapping[str, tuple[str, ...]] = {
    "iss": (_STRING,),
    "sub": (_STRING,),
    "client_id": (_STRING,),
    "token_use": (_STRING,),
    "scope": (_STRING,),
    "username": (_STRING,),
    "cognito:groups": (_STRINGS,),
    "aud": (_STRING, _STRINGS),  # RFC 7519 allows either
    "exp": (_NUMBER,),
    "iat": (_NUMBER,),
    "nbf": (_NUMBER,),
}


class InvalidTokenError(Exception):
    """The token fails a check; the message says which and is safe to send back."""


class AuthUnavailableError(Exception):
    """The pool or its keys cannot be reached, so no token can be checked right now."""


@dataclass(frozen=True)
class Principal:
    """The caller a verified access token speaks for.

    A reader's token names its ``username``. A machine token (OAuth client credentials)
    has none: Cognito sets its ``sub`` to the app client id, and its rights are its scopes.
    """

    username: str | None
    client_id: str
    scopes: frozenset[str]

    @property
    def is_machine(self) -> bool:
        return self.username is None


def _is_kind(value: Any, kind: str) -> bool:
    if kind == _STRING:
        return isinstance(value, str)
    if kind == _NUMBER:  # JSON's true is no NumericDate, though Python's bool is an int
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def check_claim_kinds(claims: Mapping[str, Any]) -> None:
    """Raise InvalidTokenError for the first claim of CLAIM_KINDS whose value (null
    included) is of another JSON type; absent claims are judged by the checks that need them."""
    for name, kinds in CLAIM_KINDS.items():
        if name in claims and not any(_is_kind(claims[name], kind) for kind in kinds):
            raise InvalidTokenError(f"token claim {name!r} must be {' or '.join(kinds)}")


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

    def knows(self, kid: str) -> bool:
        """True when ``kid`` is cached, so ``get`` returns without any network IO."""
        return kid in self._keys

    @property
    def loaded(self) -> bool:
        return bool(self._keys)

    def get(self, kid: str) -> jwt.PyJWK:
        """The key with id ``kid``.

        Raises:
            InvalidTokenError: no such key, even after a refresh (or too soon to refresh).
            AuthUnavailableError: the keys could not be fetched and none is known for ``kid``.
        """
        key = self._keys.get(kid)  # the hot path: no lock (the dict is replaced, not mutated)
        if key is not None:
            return key
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

    def ensure_loaded(self) -> None:
        """Fetch the keys unless some are cached: at start-up, and for readiness checks.

        Raises:
            AuthUnavailableError: no keys are cached and they cannot be fetched (now).
        """
        with self._lock:
            if not self._keys and self._may_refresh():
                self._refresh()
            if not self._keys:
                raise self._last_error or AuthUnavailableError("signing keys not fetched yet")

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


class VerifiedTokens:
    """Tokens that passed every check, by their exact text, until they expire.

    Only a byte-identical token hits, so nothing here can be forged; ``exp`` and
    ``nbf``/``iat`` are checked again on every hit, with the verifier's leeway.

    Args:
        max_entries: past this the oldest entry is dropped.
        clock: epoch seconds; tests pass their own.
    """

    def __init__(
        self, max_entries: int = VERIFIED_TOKENS_KEPT, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._max_entries = max_entries
        self._clock = clock
        self._entries: dict[str, tuple[Principal, float, float]] = {}
        self._lock = threading.Lock()

    def get(self, token: str, leeway_s: float) -> Principal | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        principal, not_before, expires = entry
        now = self._clock()
        if not_before - leeway_s <= now < expires + leeway_s:
            return principal
        with self._lock:
            self._entries.pop(token, None)
        return None

    def put(self, token: str, principal: Principal, claims: Mapping[str, Any]) -> None:
        not_before = max(float(claims.get("nbf", 0)), float(claims.get("iat", 0)))
        with self._lock:
            self._entries[token] = (principal, not_before, float(claims["exp"]))
            while len(self._entries) > self._max_entries:
                del self._entries[next(iter(self._entries))]


class TokenVerifier:
    """Checks a Cognito access token and says whose it is.

    Args:
        issuer: the exact ``iss`` expected, ``https://cognito-idp.<region>.amazonaws.com/<pool>``.
        client_ids: app clients whose tokens are accepted (the ``client_id`` claim).
        jwks: the pool's keys.
        token_use: ``access`` (id tokens are for the client, not for APIs).
        leeway_s: clock skew tolerated on ``exp``, ``nbf`` and ``iat``.
        max_token_chars: longer tokens are refused unparsed.
        verified: where tokens that passed are kept (a fresh one by default).
    """

    def __init__(
        self,
        *,
        issuer: str,
        client_ids: Iterable[str],
        jwks: JwksCache,
        token_use: str = ACCESS_TOKEN_USE,
        leeway_s: float = DEFAULT_LEEWAY_S,
        max_token_chars: int = DEFAULT_MAX_TOKEN_CHARS,
        verified: VerifiedTokens | None = None,
    ) -> None:
        self.issuer = issuer
        self.client_ids = frozenset(client_ids)
        if not self.client_ids:
            raise ValueError("TokenVerifier needs at least one allowed app client id")
        self.token_use = token_use
        self.leeway_s = leeway_s
        self.max_token_chars = max_token_chars
        self.jwks = jwks
        self._verified = verified if verified is not None else VerifiedTokens()

    def verifies_offline(self, token: str) -> bool:
        """True when ``verify(token)`` needs no network IO (its key is cached, or it is
        refused before any key is needed), so an event loop may call it directly."""
        if self._verified.get(token, self.leeway_s) is not None:
            return True
        try:
            kid = jwt.get_unverified_header(token).get("kid") if self._fits(token) else None
        except jwt.PyJWTError:
            return True
        return not isinstance(kid, str) or self.jwks.knows(kid)

    def _fits(self, token: str) -> bool:
        return len(token) <= self.max_token_chars

    def verify(self, token: str) -> Principal:
        """The principal of a valid token.

        Raises:
            InvalidTokenError: any check fails; the message names the check.
            AuthUnavailableError: the signing keys cannot be fetched.
        """
        known = self._verified.get(token, self.leeway_s)
        if known is not None:
            return known
        if not self._fits(token):
            raise InvalidTokenError(f"token is longer than {self.max_token_chars} characters")
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
        check_claim_kinds(_unverified_claims(token))  # before PyJWT reads exp, iat, iss
        claims = self._decode(token, self.jwks.get(kid))
        principal = self._principal(claims)
        self._verified.put(token, principal, claims)
        return principal

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
        scope = claims.get("scope")
        scopes = frozenset(scope.split()) if isinstance(scope, str) else frozenset()
        username = claims.get("username")
        if username is None and claims.get("sub") == client_id:
            # Client credentials: no user; Cognito's sub is the client itself.
            return Principal(username=None, client_id=client_id, scopes=scopes)
        if not isinstance(username, str) or not username:
            raise InvalidTokenError("token has no username claim")
        return Principal(username=username, client_id=str(client_id), scopes=scopes)


def _unverified_claims(token: str) -> dict[str, Any]:
    """The payload as sent; only to refuse claims of the wrong type, never to trust one."""
    try:
        return jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise InvalidTokenError("token is malformed: its payload is not a JSON object") from None


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
    fetch = http_jwks_fetcher(
        settings.jwks_url_for(app.pool_id), timeout_s=settings.serving_jwks_timeout_s
    )
    return TokenVerifier(
        issuer=settings.issuer_for(app.pool_id),
        client_ids=settings.cognito_client_ids or (app.client_id, *app.machine_client_ids),
        jwks=JwksCache(fetch, min_refresh_s=settings.serving_jwks_min_refresh_s),
        leeway_s=settings.serving_token_leeway_s,
        max_token_chars=settings.serving_max_token_chars,
        verified=VerifiedTokens(settings.serving_verified_tokens_kept),
    )
