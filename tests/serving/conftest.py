"""Fixtures for the serving tests: a key pair the tests own, a fake store reader, and a
platform of a test's own to stop (the shared ``local_platform`` is in tests/conftest.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from newslake.store import ScoredItem
from serving.auth import JwksCache, TokenVerifier
from serving.reader import StoreUnavailableError

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool"
CLIENT_ID = "test-web-client"
MACHINE_CLIENT_ID = "test-machine-client"
KID = "test-key-1"

TokenFactory = Callable[..., str]


# ---- keys and tokens ------------------------------------------------------------------
@pytest.fixture(scope="session")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def other_key() -> rsa.RSAPrivateKey:
    """A key the user pool does not publish: what a forger would sign with."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwks_of(*keys: tuple[rsa.RSAPrivateKey, str]) -> dict[str, Any]:
    """The JWKS document publishing each key's public half under its kid, as Cognito does."""
    published = [
        {
            **RSAAlgorithm.to_jwk(key.public_key(), as_dict=True),
            "kid": kid,
            "alg": "RS256",
            "use": "sig",
        }
        for key, kid in keys
    ]
    return {"keys": published}


@pytest.fixture(scope="session")
def make_jwks() -> Callable[..., dict[str, Any]]:
    """``make_jwks((key, kid), ...)``: a JWKS document publishing those keys."""
    return _jwks_of


@pytest.fixture(scope="session")
def jwks_document(signing_key: rsa.RSAPrivateKey) -> dict[str, Any]:
    """The user pool's keys: the signing key under kid ``test-key-1``."""
    return _jwks_of((signing_key, KID))


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
class FakeReader:
    """RecommendationReader over dicts; ``fail = True`` makes it act like DynamoDB down.

    ``calls`` counts the reads, one per round trip, to check what the caches save.
    """

    def __init__(self) -> None:
        self.versions: dict[str, str] = {}
        self.records: dict[tuple[str, str], list[ScoredItem]] = {}
        self.fail = False
        self.calls = 0

    def active_version(self, portal: str) -> str | None:
        self._read()
        return self.versions.get(portal)

    def items(self, pk: str, sk: str) -> list[ScoredItem] | None:
        self._read()
        return self.records.get((pk, sk))

    def items_many(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], list[ScoredItem]]:
        self._read()
        return {key: self.records[key] for key in keys if key in self.records}

    def _read(self) -> None:
        self.calls += 1
        if self.fail:
            raise StoreUnavailableError("fake store is down")


@pytest.fixture
def fake_reader() -> FakeReader:
    return FakeReader()
