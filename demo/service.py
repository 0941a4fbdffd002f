"""The demo's calls over real HTTP: readers asking the recommendation service for their
lists with a Cognito token (and once without), and pageviews posted to the gateway."""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

from newslake.cognito import CognitoApp
from newslake.local import provision
from newslake.settings import Settings

USERS_SHOWN_PER_PORTAL = 2
LIMIT = 5


def ask_as_readers(settings: Settings, app: CognitoApp, base: str, readers: Sequence[str]) -> bool:
    """Each portal's first readers ask for their recommendations with a Cognito token (200
    expected), then the last of them without one (401 expected); True when all answered so."""
    ok = True
    for portal in settings.portals:
        users = [u for u in readers if u.startswith(f"{portal}-")][:USERS_SHOWN_PER_PORTAL]
        for user in users:
            url = recommendations_url(base, portal, user)
            status, body = get_json(url, token_for(settings, app, user))
            print(f"GET {url} (Cognito token) -> {status}")
            print("   " + json.dumps(body))
            ok &= status == 200
        if users:
            url = recommendations_url(base, portal, users[-1])
            status, body = get_json(url, None)
            print(f"GET {url} (no token) -> {status} {json.dumps(body)}")
            ok &= status == 401
    return ok


def recommendations_url(base: str, portal: str, user: str) -> str:
    return f"{base}/v1/portals/{portal}/users/{user}/recommendations?limit={LIMIT}"


def token_for(settings: Settings, app: CognitoApp, user: str) -> str:
    """An access token for ``user``, who is created in the pool with a fresh password."""
    password = secrets.token_urlsafe(16) + "aA1!"
    provision.ensure_user(settings, app, user, password)
    return provision.login(settings, app, user, password)


def get_json(url: str, token: str | None) -> tuple[int, Any]:
    """GET ``url``, with a bearer token if given; the status and the JSON body."""
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    return _call(req)


def post_json(url: str, body: Any) -> tuple[int, Any]:
    """POST ``body`` as JSON to ``url``; the status and the JSON body."""
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    return _call(req)


def _call(req: urllib.request.Request) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")
