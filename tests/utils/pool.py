"""A user pool in memory for tests that need it outside fixtures (module-level apps of the
fuzz suite): its own key, a verifier that trusts it, and tokens of any claims signed with it."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from serving.auth import JwksCache, TokenVerifier
from tests.utils.tokens import CLIENT_ID, ISSUER, KID, MACHINE_CLIENT_ID, jwks_of

# Long enough for a token signed when the suite is collected to outlive the run.
TOKEN_LIFETIME_S = 24 * 3600


class Pool:
    """The pool's key pair and what is built on it."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def verifier(self) -> TokenVerifier:
        """A verifier for ISSUER and the web and machine clients, keys from memory."""
        return TokenVerifier(
            issuer=ISSUER,
            client_ids=[CLIENT_ID, MACHINE_CLIENT_ID],
            jwks=JwksCache(lambda: jwks_of((self.key, KID))),
        )

    def claims(self, **changes: Any) -> dict[str, Any]:
        """An access token's claims, valid now; ``changes`` replace or add claims."""
        now = int(time.time())
        base = {"iss": ISSUER, "token_use": "access", "iat": now, "exp": now + TOKEN_LIFETIME_S}
        return {**base, **changes}

    def sign(self, claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
        """``claims`` signed RS256 with the pool's key under kid KID (or ``header``'s
        fields), whatever their JSON types: assembled here, since PyJWT refuses to write
        some (a kid that is no string, an iss that is no string)."""
        fields = {"alg": "RS256", "typ": "JWT", "kid": KID, **(header or {})}
        signing_input = f"{_b64(fields)}.{_b64(claims)}"
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"

    def reader_token(self, username: str) -> str:
        return self.sign(self.claims(sub=f"{username}-sub", username=username, client_id=CLIENT_ID))

    def machine_token(self, scope: str) -> str:
        return self.sign(
            self.claims(sub=MACHINE_CLIENT_ID, client_id=MACHINE_CLIENT_ID, scope=scope)
        )


def _b64(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
