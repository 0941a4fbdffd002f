"""The erasure route on the local platform: the privacy office's client takes a token from
the local Cognito, the real verifier checks it against moto's JWKS, the request lands in
moto's DynamoDB; a reader's real token is refused."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from newslake import cognito
from newslake.local import oauth, provision
from newslake.settings import Settings
from serving.main import create_app

pytestmark = pytest.mark.slow

PASSWORD = "Erasure-test-Passw0rd!"


def test_the_privacy_client_records_an_erasure_and_a_reader_cannot(
    local_platform: Settings,
) -> None:
    app = cognito.find_cognito_app(local_platform)
    token = oauth.client_token(local_platform, local_platform.privacy_client_name)
    provision.ensure_user(local_platform, app, "erin", PASSWORD)
    reader_token = provision.login(local_platform, app, "erin", PASSWORD)
    user = f"reader-{uuid.uuid4().hex[:8]}"

    with TestClient(create_app(local_platform)) as client:
        asked = client.post(
            f"/v1/portals/g1/users/{user}/erasure", headers={"Authorization": f"Bearer {token}"}
        )
        refused = client.post(
            "/v1/portals/g1/users/erin/erasure", headers={"Authorization": f"Bearer {reader_token}"}
        )

    assert asked.status_code == 202, asked.text
    assert asked.json()["asked_by"] == f"client:{app.machine_client_ids[0]}"
    assert asked.json()["status"] == "pending"
    assert refused.status_code == 403
