"""TokenVerifier and JwksCache, with tokens signed here by a key pair the tests own."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from serving.auth import (
    AuthUnavailableError,
    InvalidTokenError,
    JwksCache,
    Principal,
    TokenVerifier,
)
from tests.serving.forged import alg_none, hs256_with_public_key
from tests.utils.clock import FakeClock
from tests.utils.tokens import ISSUER, TokenFactory


class CountingFetcher:
    """Serves JWKS documents in turn (the last one repeats) and counts the fetches."""

    def __init__(self, *documents: dict[str, Any]) -> None:
        self.documents = list(documents)
        self.calls = 0

    def __call__(self) -> dict[str, Any]:
        self.calls += 1
        return self.documents[min(self.calls, len(self.documents)) - 1]


def _verifier(cache: JwksCache) -> TokenVerifier:
    return TokenVerifier(issuer=ISSUER, client_ids=["test-web-client"], jwks=cache)


# ---- accepted -------------------------------------------------------------------------
def test_valid_access_token_gives_its_principal(
    verifier: TokenVerifier, make_token: TokenFactory
) -> None:
    token = make_token(scope="aws.cognito.signin.user.admin news/read")

    assert verifier.verify(token) == Principal(
        username="alice",
        client_id="test-web-client",
        scopes=frozenset({"aws.cognito.signin.user.admin", "news/read"}),
    )


def test_token_expired_within_the_leeway_is_accepted(
    verifier: TokenVerifier, make_token: TokenFactory
) -> None:
    token = make_token(iat=int(time.time()) - 3600, exp=int(time.time()) - 10)

    assert verifier.verify(token).username == "alice"


def test_token_without_scope_has_no_scopes(
    verifier: TokenVerifier, make_token: TokenFactory
) -> None:
    assert verifier.verify(make_token(scope=None)).scopes == frozenset()


def test_client_credentials_token_is_a_machine_principal(
    verifier: TokenVerifier, make_machine_token: TokenFactory
) -> None:
    principal = verifier.verify(make_machine_token())

    assert (principal, principal.is_machine) == (
        Principal(
            username=None,
            client_id="test-machine-client",
            scopes=frozenset({"newslake/recommendations.read", "newslake/portal.g1"}),
        ),
        True,
    )


def test_token_without_username_whose_sub_is_not_its_client_is_rejected(
    verifier: TokenVerifier, make_machine_token: TokenFactory
) -> None:
    with pytest.raises(InvalidTokenError, match="no username"):
        verifier.verify(make_machine_token(sub="5f1c0d2e-0000-4000-8000-000000000001"))


def test_machine_token_of_a_client_not_allowed_is_rejected(
    verifier: TokenVerifier, make_machine_token: TokenFactory
) -> None:
    token = make_machine_token(sub="other-machine", client_id="other-machine")

    with pytest.raises(InvalidTokenError, match="app client"):
        verifier.verify(token)


def test_oversized_token_is_rejected_unparsed(
    verifier: TokenVerifier, make_token: TokenFactory
) -> None:
    with pytest.raises(InvalidTokenError, match="longer than 8192 characters"):
        verifier.verify(make_token(padding="x" * 9000))


def test_verifies_offline_unless_the_kid_is_unknown(
    jwks_document: dict[str, Any], make_token: TokenFactory, other_key: rsa.RSAPrivateKey
) -> None:
    verifier = _verifier(JwksCache(lambda: jwks_document))
    before = verifier.verifies_offline(make_token())
    verifier.verify(make_token())

    assert (
        before,
        verifier.verifies_offline(make_token()),
        verifier.verifies_offline(make_token(key=other_key, kid="rotated")),
        verifier.verifies_offline("not-a-jwt"),
    ) == (False, True, False, True)


# ---- rejected -------------------------------------------------------------------------
@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30"])
def test_malformed_token_is_rejected(verifier: TokenVerifier, token: str) -> None:
    with pytest.raises(InvalidTokenError, match="malformed"):
        verifier.verify(token)


def test_token_signed_by_another_key_under_a_known_kid_is_rejected(
    verifier: TokenVerifier, make_token: TokenFactory, other_key: rsa.RSAPrivateKey
) -> None:
    with pytest.raises(InvalidTokenError, match="signature does not verify"):
        verifier.verify(make_token(key=other_key))


def test_tampered_claims_are_rejected(verifier: TokenVerifier, make_token: TokenFactory) -> None:
    header, _, signature = make_token().split(".")
    mallorys_claims = make_token(username="mallory").split(".")[1]

    with pytest.raises(InvalidTokenError, match="signature does not verify"):
        verifier.verify(f"{header}.{mallorys_claims}.{signature}")


def test_alg_none_is_rejected(verifier: TokenVerifier, make_token: TokenFactory) -> None:
    with pytest.raises(InvalidTokenError, match="'none' is not accepted"):
        verifier.verify(alg_none(make_token()))


def test_hs256_keyed_with_the_public_key_is_rejected(
    verifier: TokenVerifier, make_token: TokenFactory, signing_key: rsa.RSAPrivateKey
) -> None:
    with pytest.raises(InvalidTokenError, match="'HS256' is not accepted"):
        verifier.verify(hs256_with_public_key(make_token(), signing_key))


def test_token_without_kid_is_rejected(
    verifier: TokenVerifier, make_token: TokenFactory, signing_key: rsa.RSAPrivateKey
) -> None:
    claims = jwt.decode(make_token(), options={"verify_signature": False})
    token = jwt.encode(claims, signing_key, algorithm="RS256")

    with pytest.raises(InvalidTokenError, match="no key id"):
        verifier.verify(token)


def test_unknown_kid_is_rejected(
    verifier: TokenVerifier, make_token: TokenFactory, other_key: rsa.RSAPrivateKey
) -> None:
    with pytest.raises(InvalidTokenError, match="does not publish"):
        verifier.verify(make_token(key=other_key, kid="forged-kid"))


def test_expired_token_is_rejected(verifier: TokenVerifier, make_token: TokenFactory) -> None:
    with pytest.raises(InvalidTokenError, match="expired"):
        verifier.verify(make_token(iat=int(time.time()) - 7200, exp=int(time.time()) - 120))


def test_token_not_valid_before_a_future_nbf_is_rejected(
    verifier: TokenVerifier, make_token: TokenFactory
) -> None:
    with pytest.raises(InvalidTokenError, match="not valid yet"):
        verifier.verify(make_token(nbf=int(time.time()) + 120))


def test_token_without_exp_is_rejected(verifier: TokenVerifier, make_token: TokenFactory) -> None:
    with pytest.raises(InvalidTokenError, match="lacks the 'exp' claim"):
        verifier.verify(make_token(exp=None))


def test_token_of_another_issuer_is_rejected(
    verifier: TokenVerifier, make_token: TokenFactory
) -> None:
    other_pool = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_OtherPool"

    with pytest.raises(InvalidTokenError, match="not issued by this user pool"):
        verifier.verify(make_token(iss=other_pool))


def test_token_of_another_app_client_is_rejected(
    verifier: TokenVerifier, make_token: TokenFactory
) -> None:
    with pytest.raises(InvalidTokenError, match="app client"):
        verifier.verify(make_token(client_id="someone-elses-client"))


def test_id_token_is_rejected(verifier: TokenVerifier, make_token: TokenFactory) -> None:
    id_token = make_token(token_use="id", client_id=None, aud="test-web-client")

    with pytest.raises(InvalidTokenError, match="expected an access token, got token_use='id'"):
        verifier.verify(id_token)


def test_token_without_username_is_rejected(
    verifier: TokenVerifier, make_token: TokenFactory
) -> None:
    with pytest.raises(InvalidTokenError, match="no username"):
        verifier.verify(make_token(username=None))


def test_verifier_needs_an_allowed_client() -> None:
    with pytest.raises(ValueError, match="at least one allowed app client"):
        TokenVerifier(issuer=ISSUER, client_ids=[], jwks=JwksCache(dict))


# ---- the key cache --------------------------------------------------------------------
def test_keys_are_fetched_once_for_many_tokens(
    jwks_document: dict[str, Any], make_token: TokenFactory
) -> None:
    fetch = CountingFetcher(jwks_document)
    verifier = _verifier(JwksCache(fetch))

    for _ in range(3):
        verifier.verify(make_token())

    assert fetch.calls == 1


def test_unknown_kid_refetches_at_most_once_per_interval(
    jwks_document: dict[str, Any], make_token: TokenFactory, other_key: rsa.RSAPrivateKey
) -> None:
    fetch, clock = CountingFetcher(jwks_document), FakeClock(1000.0)
    verifier = _verifier(JwksCache(fetch, min_refresh_s=5.0, clock=clock))
    verifier.verify(make_token())
    forged = make_token(key=other_key, kid="forged-kid")

    for _ in range(3):
        with pytest.raises(InvalidTokenError):
            verifier.verify(forged)
    calls_within_interval = fetch.calls
    clock.now += 5.0
    with pytest.raises(InvalidTokenError):
        verifier.verify(forged)

    assert (calls_within_interval, fetch.calls) == (1, 2)


def test_rotated_key_is_picked_up_on_its_first_token(
    jwks_document: dict[str, Any],
    make_jwks: Callable[..., dict[str, Any]],
    make_token: TokenFactory,
    signing_key: rsa.RSAPrivateKey,
    other_key: rsa.RSAPrivateKey,
) -> None:
    rotated = make_jwks((signing_key, "test-key-1"), (other_key, "test-key-2"))
    fetch, clock = CountingFetcher(jwks_document, rotated), FakeClock(1000.0)
    verifier = _verifier(JwksCache(fetch, clock=clock))
    verifier.verify(make_token())
    clock.now += 60.0

    principal = verifier.verify(make_token(key=other_key, kid="test-key-2"))

    assert (principal.username, fetch.calls) == ("alice", 2)


def test_keys_that_cannot_be_fetched_make_auth_unavailable(make_token: TokenFactory) -> None:
    def down() -> dict[str, Any]:
        raise AuthUnavailableError("cannot fetch signing keys: connection refused")

    with pytest.raises(AuthUnavailableError, match="connection refused"):
        _verifier(JwksCache(down)).verify(make_token())


def test_keys_of_other_algorithms_or_uses_are_ignored(make_token: TokenFactory) -> None:
    document = {"keys": [{"kty": "oct", "kid": "test-key-1", "k": "c2VjcmV0", "alg": "HS256"}]}

    with pytest.raises(AuthUnavailableError, match="no usable RS256 keys"):
        _verifier(JwksCache(lambda: document)).verify(make_token())
