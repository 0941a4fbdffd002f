"""Tokens a forger would make from a valid one: same claims, another header."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def reheaded(token: str, header: dict[str, Any]) -> str:
    """A valid token's claims under another header, unsigned: where a forger starts."""
    return f"{b64(json.dumps(header).encode())}.{token.split('.')[1]}"


def alg_none(token: str, kid: str = "test-key-1") -> str:
    """The claims, 'signed' with alg none (an empty signature)."""
    return reheaded(token, {"alg": "none", "kid": kid, "typ": "JWT"}) + "."


def hs256_with_public_key(token: str, key: rsa.RSAPrivateKey, kid: str = "test-key-1") -> str:
    """The classic confusion attack: HMAC-SHA256 keyed with the RSA public key's PEM."""
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = reheaded(token, {"alg": "HS256", "kid": kid, "typ": "JWT"})
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"
