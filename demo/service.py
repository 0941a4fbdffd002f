"""The demo's recommendation service: uvicorn in a child process, asked over real HTTP."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from newslake.cognito import CognitoApp
from newslake.errors import NewslakeError
from newslake.local import provision, server
from newslake.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_S = 30
USERS_SHOWN_PER_PORTAL = 2


@contextmanager
def running_service(settings: Settings) -> Iterator[str]:
    """Serve ``serving.main:app`` on the settings' host and port; yields its base URL.

    Raises:
        NewslakeError: the port is busy, or the service does not answer in time.
    """
    if not server.port_free(settings.serve_host, settings.serve_port):
        raise NewslakeError(
            f"port {settings.serve_host}:{settings.serve_port} is busy (a service left from an "
            "interrupted demo?): stop it or set NEWSLAKE_SERVE_PORT"
        )
    service_log = settings.state_dir / "demo-service.log"
    service_log.parent.mkdir(parents=True, exist_ok=True)
    print(f"   its access log (a JSON line per request): {service_log}")
    with service_log.open("w") as log_file:
        uvicorn = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "serving.main:app",
                "--host",
                settings.serve_host,
                "--port",
                str(settings.serve_port),
                "--log-level",
                "warning",
            ],
            cwd=REPO_ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://{settings.serve_host}:{settings.serve_port}"
        try:
            _wait_http(f"{base}/healthz", STARTUP_TIMEOUT_S)
        except NewslakeError as exc:
            raise NewslakeError(f"{exc}; the service's output is in {service_log}") from exc
        yield base
    finally:
        uvicorn.terminate()
        uvicorn.wait(10)


def ask_as_readers(settings: Settings, app: CognitoApp, base: str, readers: Sequence[str]) -> bool:
    """Each portal's first readers ask for their recommendations with a Cognito token (200
    expected), then the last of them without one (401 expected); True when all answered so."""
    ok = True
    for portal in settings.portals:
        users = [u for u in readers if u.startswith(f"{portal}-")][:USERS_SHOWN_PER_PORTAL]
        for user in users:
            url = _recommendations_url(base, portal, user)
            status, body = _get(url, _token_for(settings, app, user))
            print(f"GET {url} (Cognito token) -> {status}")
            print("   " + json.dumps(body))
            ok &= status == 200
        if users:
            url = _recommendations_url(base, portal, users[-1])
            status, body = _get(url, None)
            print(f"GET {url} (no token) -> {status} {json.dumps(body)}")
            ok &= status == 401
    return ok


def _recommendations_url(base: str, portal: str, user: str) -> str:
    return f"{base}/v1/portals/{portal}/users/{user}/recommendations?limit=5"


def _token_for(settings: Settings, app: CognitoApp, user: str) -> str:
    """An access token for ``user``, who is created in the pool with a fresh password."""
    password = secrets.token_urlsafe(16) + "aA1!"
    provision.ensure_user(settings, app, user, password)
    return provision.login(settings, app, user, password)


def _wait_http(url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise NewslakeError(f"{url} did not answer within {timeout_s:.0f}s")


def _get(url: str, token: str | None) -> tuple[int, Any]:
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")
