"""The local Cognito's client-credentials token endpoint (moto has none): the privacy
office's client gets a token a deployed one would, anyone else is refused as Cognito does."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest

from newslake import aws, cognito
from newslake.local import oauth
from newslake.settings import Settings


def _privacy_client(settings: Settings) -> tuple[str, str, str]:
    idp = aws.client("cognito-idp", settings)
    pool_id = cognito.find_user_pool(idp, settings.user_pool_name)
    assert pool_id is not None
    client_id = cognito.find_app_client(idp, pool_id, "newslake-privacy")
    assert client_id is not None
    secret = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)
    return pool_id, client_id, secret["UserPoolClient"]["ClientSecret"]


def _post(settings: Settings, form: dict[str, str], auth: tuple[str, str]) -> tuple[int, Any]:
    basic = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    request = urllib.request.Request(
        f"{settings.endpoint_url}/oauth2/token",
        data=urlencode(form).encode(),
        headers={"Authorization": f"Basic {basic}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)


def test_the_privacy_client_gets_a_machine_token_with_its_scope(local_platform: Settings) -> None:
    pool_id, client_id, _ = _privacy_client(local_platform)

    claims = jwt.decode(
        oauth.client_token(local_platform, "newslake-privacy"), options={"verify_signature": False}
    )

    assert claims["client_id"] == claims["sub"] == client_id
    assert claims["scope"] == "newslake/privacy.erase"
    assert claims["token_use"] == "access"
    assert claims["iss"] == f"https://cognito-idp.us-east-1.amazonaws.com/{pool_id}"
    assert "username" not in claims


@pytest.mark.parametrize(
    ("form", "secret", "status", "error"),
    [
        ({"grant_type": "client_credentials"}, "wrong", 401, "invalid_client"),
        ({"grant_type": "password"}, None, 400, "unsupported_grant_type"),
        (
            {"grant_type": "client_credentials", "scope": "newslake/recommendations.read"},
            None,
            400,
            "invalid_scope",
        ),
    ],
)
def test_wrong_secrets_grants_and_scopes_are_refused(
    local_platform: Settings, form: dict[str, str], secret: str | None, status: int, error: str
) -> None:
    _, client_id, right = _privacy_client(local_platform)

    assert _post(local_platform, form, (client_id, secret or right)) == (status, {"error": error})


def test_the_web_client_has_no_client_credentials(local_platform: Settings) -> None:
    idp = aws.client("cognito-idp", local_platform)
    app = cognito.find_cognito_app(local_platform)

    editorial = cognito.find_app_client(idp, app.pool_id, "newslake-editorial")
    assert app.machine_client_ids == (_privacy_client(local_platform)[1], editorial)
    web = idp.describe_user_pool_client(UserPoolId=app.pool_id, ClientId=app.client_id)
    assert "ClientSecret" not in web["UserPoolClient"]
    assert _post(local_platform, {"grant_type": "client_credentials"}, (app.client_id, "")) == (
        401,
        {"error": "invalid_client"},
    )


def test_the_token_command_prints_the_privacy_clients_token(
    local_platform: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from newslake.local import __main__ as local_cli

    monkeypatch.setattr(local_cli, "get_settings", lambda: local_platform)

    assert local_cli.main(["token"]) == 0
    token = capsys.readouterr().out.strip()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["scope"] == "newslake/privacy.erase"
