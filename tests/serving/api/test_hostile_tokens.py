"""Tokens signed with the pool's own key whose claims have a JSON type Cognito never puts
there (a misconfigured or future pool): each is a 401 with the Bearer challenge, never a
500, for a reader's token and for a machine client's."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from tests.utils.tokens import KID, bearer

RECS = "/v1/portals/g1/users/alice/recommendations"
# A value of each JSON type; each claim is tried with every type it must not have.
KINDS: dict[str, Any] = {
    "list": ["test-web-client"],
    "object": {"value": "test-web-client"},
    "number": 7,
    "bool": True,
    "null": None,
    "string": "1795000000",
}
WRONG_KINDS = {
    "client_id": ["list", "object", "number", "bool", "null"],
    "scope": ["list", "object", "number", "bool", "null"],
    "token_use": ["list", "object", "number", "bool", "null"],
    "username": ["list", "object", "number", "bool", "null"],
    "sub": ["list", "object", "number", "bool", "null"],
    "iss": ["list", "object", "number", "bool", "null"],
    "cognito:groups": ["object", "number", "bool", "null", "string"],
    "aud": ["object", "number", "bool", "null"],
    "exp": ["list", "object", "bool", "null", "string"],
    "iat": ["list", "object", "bool", "null", "string"],
    "nbf": ["list", "object", "bool", "null", "string"],
}
CASES = [(claim, kind) for claim, kinds in WRONG_KINDS.items() for kind in kinds]


def _resigned(token: str, key: rsa.RSAPrivateKey, claim: str, value: Any) -> str:
    """``token`` with ``claim`` set to ``value`` (None: JSON null), signed again with ``key``."""
    claims = jwt.decode(token, options={"verify_signature": False})
    # Signed as bytes: jwt.encode itself refuses some of these types (an iss that is no string).
    payload = json.dumps({**claims, claim: value}).encode()
    return jwt.PyJWS().encode(payload, key, algorithm="RS256", headers={"kid": KID})


@pytest.mark.parametrize(("claim", "kind"), CASES, ids=[f"{c}-{k}" for c, k in CASES])
@pytest.mark.parametrize("who", ["reader", "machine"])
def test_a_claim_of_an_unexpected_type_is_401(
    client: TestClient,
    make_token: Callable[..., str],
    make_machine_token: Callable[..., str],
    signing_key: rsa.RSAPrivateKey,
    who: str,
    claim: str,
    kind: str,
) -> None:
    token = (make_token if who == "reader" else make_machine_token)()
    response = client.get(RECS, headers=bearer(_resigned(token, signing_key, claim, KINDS[kind])))

    assert (response.status_code, response.headers.get("WWW-Authenticate", "")[:6]) == (
        401,
        "Bearer",
    ), response.text


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("cognito:groups", ["readers", "editors"]),
        ("aud", "test-web-client"),
        ("aud", ["test-web-client", "other"]),
        ("iat", 1_795_000_000.5),
    ],
)
def test_claims_of_their_expected_types_still_pass(
    client: TestClient,
    make_token: Callable[..., str],
    signing_key: rsa.RSAPrivateKey,
    claim: str,
    value: Any,
) -> None:
    response = client.get(RECS, headers=bearer(_resigned(make_token(), signing_key, claim, value)))

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("value", ["\u0100", "\u00a1", "r\u00e9ader", "\u2028"])
def test_a_claim_outside_ascii_is_a_401_whose_challenge_is_ascii(
    client: TestClient,
    make_token: Callable[..., str],
    signing_key: rsa.RSAPrivateKey,
    value: str,
) -> None:
    """The refusal names the claim's value; RFC 6750 allows only printable ASCII but " and \\
    in error_description, and a header Starlette cannot write in latin-1 was a 500."""
    token = _resigned(make_token(), signing_key, "token_use", value)

    response = client.get(RECS, headers=bearer(token))

    challenge = response.headers.get("WWW-Authenticate", "")
    assert (response.status_code, challenge.isascii(), challenge.isprintable()) == (
        401,
        True,
        True,
    )
    assert challenge.startswith('Bearer error="invalid_token", error_description="expected an')
