"""The newsroom's machine client on the local platform: provisioned by make up, its token
from the local Cognito's token endpoint, it may block an article through the route; the
privacy office's client, a machine client without the editorial scope, may not."""

from __future__ import annotations

import uuid

import jwt
import pytest
from fastapi.testclient import TestClient

from newslake import cognito
from newslake.local import oauth
from newslake.settings import Settings
from serving.main import create_app

pytestmark = pytest.mark.slow


def test_the_editorial_client_blocks_and_the_privacy_client_is_refused(
    local_platform: Settings,
) -> None:
    app = cognito.find_cognito_app(local_platform)
    token = oauth.client_token(local_platform, "newslake-editorial")
    privacy = oauth.client_token(local_platform, local_platform.privacy_client_name)
    url = f"/v1/portals/g1/editorial/blocks/never-listed-{uuid.uuid4().hex[:8]}"
    body = {"reason": "a test of the newsroom's client"}

    with TestClient(create_app(local_platform)) as client:
        refused = client.put(url, json=body, headers={"Authorization": f"Bearer {privacy}"})
        put = client.put(url, json=body, headers={"Authorization": f"Bearer {token}"})
        ended = client.delete(url, headers={"Authorization": f"Bearer {token}"})

    assert refused.status_code == 403, refused.text
    assert put.status_code == 200, put.text
    assert put.json()["by"] == app.machine_client_ids[1]
    assert ended.status_code in (200, 204), ended.text
    scopes = jwt.decode(token, options={"verify_signature": False})["scope"].split()
    assert sorted(scopes) == [
        "newslake/editorial.write",
        "newslake/portal.g1",
        "newslake/portal.ge",
        "newslake/portal.gshow",
    ]
