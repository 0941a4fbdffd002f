"""The tests' Cognito user pool: its issuer, clients and key id, its JWKS, and the header
that carries a token. The keys themselves are fixtures (tests/serving/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool"
CLIENT_ID = "test-web-client"
MACHINE_CLIENT_ID = "test-machine-client"
KID = "test-key-1"

TokenFactory = Callable[..., str]
"""``make_token(key=None, kid=KID, **claims)``: the type of the token-signing fixtures."""


def jwks_of(*keys: tuple[rsa.RSAPrivateKey, str]) -> dict[str, Any]:
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


def bearer(token: str) -> dict[str, str]:
    """The request headers that present ``token`` to the service."""
    return {"Authorization": f"Bearer {token}"}
