"""Every kind of token against the API, each with the status it must get.

Tokens are signed here with the tests' key pair and carry exactly the claims Cognito
puts in access tokens: a reader's (USER_PASSWORD_AUTH) and a machine client's (client
credentials: sub = client id, scopes, no username).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from newslake.settings import Settings
from serving.auth import AuthUnavailableError, JwksCache, TokenVerifier
from serving.main import create_app
from tests.serving.forged import alg_none, hs256_with_public_key
from tests.utils.tokens import ISSUER

RECS = "/v1/portals/g1/users/alice/recommendations"


def _now() -> int:
    """Read when a token is made, not at import: the suite may run long after collection."""
    return int(time.time())


@dataclass
class Tokens:
    user: Callable[..., str]
    machine: Callable[..., str]
    key: rsa.RSAPrivateKey
    other_key: rsa.RSAPrivateKey


@pytest.fixture
def tokens(
    make_token: Callable[..., str],
    make_machine_token: Callable[..., str],
    signing_key: rsa.RSAPrivateKey,
    other_key: rsa.RSAPrivateKey,
) -> Tokens:
    return Tokens(make_token, make_machine_token, signing_key, other_key)


def _auth(make: Callable[[Tokens], str]) -> Callable[[Tokens], dict[str, str]]:
    return lambda t: {"Authorization": f"Bearer {make(t)}"}


# (case, headers, expected status); every 401 must also carry WWW-Authenticate: Bearer...
MATRIX: list[tuple[str, Callable[[Tokens], dict[str, str]], int]] = [
    ("missing", lambda t: {}, 401),
    ("not bearer", lambda t: {"Authorization": "Basic YWxpY2U6cHc="}, 401),
    ("malformed", _auth(lambda t: "not.a.jwt"), 401),
    ("bad signature", _auth(lambda t: t.user(key=t.other_key)), 401),
    ("alg none", _auth(lambda t: alg_none(t.user())), 401),
    (
        "HS256 signed with the public key",
        _auth(lambda t: hs256_with_public_key(t.user(), t.key)),
        401,
    ),
    ("unknown kid", _auth(lambda t: t.user(key=t.other_key, kid="rotated-away")), 401),
    ("expired", _auth(lambda t: t.user(iat=_now() - 7200, exp=_now() - 3600)), 401),
    ("not yet valid", _auth(lambda t: t.user(nbf=_now() + 600)), 401),
    ("wrong issuer", _auth(lambda t: t.user(iss=ISSUER.replace("TestPool", "OtherPool"))), 401),
    ("wrong client_id", _auth(lambda t: t.user(client_id="someone-elses-client")), 401),
    ("token_use id", _auth(lambda t: t.user(token_use="id", client_id=None, aud="x")), 401),
    ("oversized token", _auth(lambda t: t.user(padding="x" * 10_000)), 401),
    ("valid, own user", _auth(lambda t: t.user()), 200),
    ("valid, another user", _auth(lambda t: t.user(username="bob")), 403),
    (
        "reader token with machine scopes, another user",
        _auth(
            lambda t: t.user(
                username="bob", scope="newslake/recommendations.read newslake/portal.g1"
            )
        ),
        403,
    ),
    ("machine, read + portal scope", _auth(lambda t: t.machine()), 200),
    (
        "machine without the portal's scope",
        _auth(lambda t: t.machine(scope="newslake/recommendations.read newslake/portal.ge")),
        403,
    ),
    ("machine without the read scope", _auth(lambda t: t.machine(scope="newslake/portal.g1")), 403),
    (
        "machine of a client not allowed",
        _auth(lambda t: t.machine(sub="rogue-client", client_id="rogue-client")),
        401,
    ),
]


@pytest.mark.parametrize(("case", "headers", "status"), MATRIX, ids=[m[0] for m in MATRIX])
def test_token_matrix_on_recommendations(
    client: TestClient,
    tokens: Tokens,
    case: str,
    headers: Callable[[Tokens], dict[str, str]],
    status: int,
) -> None:
    response = client.get(RECS, headers=headers(tokens))

    assert response.status_code == status, response.text
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("path", "scope", "status"),
    [
        ("/v1/portals/g1/trending", "newslake/recommendations.read newslake/portal.g1", 200),
        ("/v1/portals/g1/popular", "newslake/recommendations.read newslake/portal.g1", 200),
        (
            "/v1/portals/g1/articles/a-5/related",
            "newslake/recommendations.read newslake/portal.g1",
            200,
        ),
        ("/v1/portals/ge/trending", "newslake/recommendations.read newslake/portal.g1", 403),
        ("/v1/portals/g1/articles/a-5/related", "newslake/portal.g1", 403),
    ],
)
def test_machine_scopes_gate_the_shared_lists(
    client: TestClient, make_machine_token: Callable[..., str], path: str, scope: str, status: int
) -> None:
    response = client.get(
        path, headers={"Authorization": f"Bearer {make_machine_token(scope=scope)}"}
    )

    assert response.status_code == status


def test_keys_unreachable_is_503_with_retry_after(
    reader: Any, make_token: Callable[..., str]
) -> None:
    def down() -> dict[str, Any]:
        raise AuthUnavailableError("cannot fetch signing keys: connection refused")

    keyless = TokenVerifier(issuer=ISSUER, client_ids=["test-web-client"], jwks=JwksCache(down))
    app = create_app(Settings(profile="local", moto_port=9), reader=reader, verifier=keyless)

    response = TestClient(app).get(RECS, headers={"Authorization": f"Bearer {make_token()}"})

    assert (response.status_code, response.headers["Retry-After"]) == (503, "5")
