"""Fixtures for the serving tests: a key pair the tests own, tokens signed with it, a
verifier that trusts it, and a fake store reader (the user pool's names are in
tests/utils/tokens.py, the reader in tests/utils/fakes.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from serving.auth import JwksCache, TokenVerifier
from tests.utils.fakes import FakeReader
from tests.utils.tokens import CLIENT_ID, ISSUER, KID, MACHINE_CLIENT_ID, TokenFactory, jwks_of


# ---- keys and tokens ------------------------------------------------------------------
@pytest.fixture(scope="session")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def other_key() -> rsa.RSAPrivateKey:
    """A key the user pool does not publish: what a forger would sign with."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def make_jwks() -> Callable[..., dict[str, Any]]:
    """``make_jwks((key, kid), ...)``: a JWKS document publishing those keys."""
    return jwks_of


@pytest.fixture(scope="session")
def jwks_document(signing_key: rsa.RSAPrivateKey) -> dict[str, Any]:
    """The user pool's keys: the signing key under kid ``test-key-1``."""
    return jwks_of((signing_key, KID))


@pytest.fixture
def make_token(signing_key: rsa.RSAPrivateKey) -> TokenFactory:
    """Signs a Cognito-shaped access token for ``alice`` with the pool's key (kid
    ``test-key-1``, issuer ISSUER, client ``test-web-client``); keyword arguments replace
    claims, and a claim given as None is left out."""

    def make(
        key: rsa.RSAPrivateKey | None = None,
        kid: str = KID,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": ISSUER,
            "sub": "5f1c0d2e-0000-4000-8000-000000000001",
            "client_id": CLIENT_ID,
            "token_use": "access",
            "scope": "aws.cognito.signin.user.admin",
            "username": "alice",
            "iat": now,
            "exp": now + 3600,
        }
        payload.update(claims)
        payload = {name: value for name, value in payload.items() if value is not None}
        return jwt.encode(payload, key or signing_key, algorithm="RS256", headers={"kid": kid})

    return make


@pytest.fixture
def make_machine_token(signing_key: rsa.RSAPrivateKey) -> TokenFactory:
    """Signs a client-credentials access token as Cognito issues them: sub and client_id
    are the machine client, no username, ``version`` 2, a ``jti``; ``scope`` defaults to
    reading portal g1. Keyword arguments replace claims, None leaves one out."""

    def make(key: rsa.RSAPrivateKey | None = None, kid: str = KID, **claims: Any) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {
            "sub": MACHINE_CLIENT_ID,
            "token_use": "access",
            "scope": "newslake/recommendations.read newslake/portal.g1",
            "auth_time": now,
            "iss": ISSUER,
            "exp": now + 3600,
            "iat": now,
            "version": 2,
            "jti": "0b9e7c3a-1f2d-4e5f-8a9b-0c1d2e3f4a5b",
            "client_id": MACHINE_CLIENT_ID,
        }
        payload.update(claims)
        payload = {name: value for name, value in payload.items() if value is not None}
        return jwt.encode(payload, key or signing_key, algorithm="RS256", headers={"kid": kid})

    return make


@pytest.fixture
def verifier(jwks_document: dict[str, Any]) -> TokenVerifier:
    """A verifier for ISSUER, the web and machine clients, whose keys come from memory."""
    return TokenVerifier(
        issuer=ISSUER,
        client_ids=[CLIENT_ID, MACHINE_CLIENT_ID],
        jwks=JwksCache(lambda: jwks_document),
    )


# ---- a store reader in memory -----------------------------------------------------------
@pytest.fixture
def fake_reader() -> FakeReader:
    return FakeReader()
