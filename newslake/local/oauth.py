"""The local Cognito's token endpoint for machine clients: ``POST /oauth2/token`` with the
client-credentials grant, which moto does not serve.

Real Cognito answers it on the user pool's domain; locally the moto server answers it at
its own address (``newslake.local.moto_server`` routes the path here), so a machine client
provisioned in moto (the privacy office's, ``newslake.local.provision``) gets an access
token the service's verifier checks like a deployed one: signed with the pool's key (the
JWKS moto serves), ``client_id`` and ``sub`` the client, its scopes, no ``username``.

Only the local profile runs this; the aws profile never imports it.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import urllib.request
import uuid
from typing import Any
from urllib.parse import parse_qs, urlencode

from newslake import aws
from newslake.cognito import find_app_client, find_user_pool
from newslake.errors import PlatformError
from newslake.settings import Settings

TOKEN_PATH = "/oauth2/token"
TOKEN_LIFETIME_S = 3600
JSON = "application/json"
MAX_FORM_BYTES = 8192
Answer = tuple[str, list[tuple[str, str]], bytes]


def _answer(status: str, body: dict[str, Any]) -> Answer:
    content = json.dumps(body).encode()
    return status, [("Content-Type", JSON), ("Content-Length", str(len(content)))], content


def _refused(status: str, error: str) -> Answer:
    # Cognito's error names (OAuth 2.0, RFC 6749 section 5.2).
    return _answer(status, {"error": error})


def _credentials(environ: dict[str, Any], form: dict[str, list[str]]) -> tuple[str, str]:
    """The client id and secret: HTTP Basic, else the form's fields."""
    scheme, _, encoded = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
            return client_id, secret
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
    return form.get("client_id", [""])[0], form.get("client_secret", [""])[0]


def _find_client(client_id: str) -> tuple[Any, Any] | None:
    """(pool, client) of moto's Cognito holding ``client_id``, in any account and region."""
    from moto.cognitoidp.models import cognitoidp_backends

    for regions in list(cognitoidp_backends.values()):
        for backend in list(regions.values()):
            for pool in list(backend.user_pools.values()):
                client = pool.clients.get(client_id)
                if client is not None:
                    return pool, client
    return None


def token_answer(environ: dict[str, Any]) -> Answer:
    """The answer to one token request, as Cognito's token endpoint gives it."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if environ.get("REQUEST_METHOD") != "POST" or length > MAX_FORM_BYTES:
        return _refused("400 Bad Request", "invalid_request")
    form = parse_qs(environ["wsgi.input"].read(length).decode("utf-8", "replace"))
    if form.get("grant_type") != ["client_credentials"]:
        return _refused("400 Bad Request", "unsupported_grant_type")
    client_id, secret = _credentials(environ, form)
    found = _find_client(client_id) if client_id else None
    if found is None or not found[1].generate_secret or secret != found[1].secret:
        return _refused("401 Unauthorized", "invalid_client")
    pool, client = found
    config = client.extended_config
    if "client_credentials" not in config.get("AllowedOAuthFlows", []):
        return _refused("400 Bad Request", "unauthorized_client")
    allowed = list(config.get("AllowedOAuthScopes", []))
    asked = form.get("scope", [" ".join(allowed)])[0].split()
    if not asked or any(scope not in allowed for scope in asked):
        return _refused("400 Bad Request", "invalid_scope")
    return _answer("200 OK", _token(pool, client.id, asked))


def _token(pool: Any, client_id: str, scopes: list[str]) -> dict[str, Any]:
    from joserfc import jwt

    now = int(time.time())
    claims = {
        "sub": client_id,
        "token_use": "access",
        "scope": " ".join(scopes),
        "auth_time": now,
        "iss": f"https://cognito-idp.{pool.region}.amazonaws.com/{pool.id}",
        "exp": now + TOKEN_LIFETIME_S,
        "iat": now,
        "version": 2,
        "jti": str(uuid.uuid4()),
        "client_id": client_id,
    }
    # moto signs its own tokens with this kid, the one its JWKS publishes
    token = jwt.encode({"kid": "dummy", "alg": "RS256"}, claims, pool.json_web_key)
    return {"access_token": token, "expires_in": TOKEN_LIFETIME_S, "token_type": "Bearer"}


def client_token(settings: Settings, client_name: str) -> str:
    """An access token for the local pool's machine client ``client_name``, with all its
    scopes: what a deployed client gets from the pool domain's token endpoint.

    Raises:
        PlatformError: the pool or the client is not provisioned (run `make up`).
    """
    cognito = aws.client("cognito-idp", settings)
    pool_id = find_user_pool(cognito, settings.user_pool_name)
    client_id = find_app_client(cognito, pool_id, client_name) if pool_id else None
    if not pool_id or not client_id:
        raise PlatformError(f"no Cognito client named {client_name!r}: run `make up`")
    described = cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)
    secret = described["UserPoolClient"]["ClientSecret"]
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    request = urllib.request.Request(
        f"{settings.endpoint_url}{TOKEN_PATH}",
        data=urlencode({"grant_type": "client_credentials"}).encode(),
        headers={
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return str(json.load(answer)["access_token"])
