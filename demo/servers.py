"""The demo's HTTP servers: the recommendation service and the pageview gateway, each a
child process on its settings' port, stopped when the demo is done with it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from newslake.errors import NewslakeError
from newslake.local import server
from newslake.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_S = 30


@dataclass(frozen=True)
class _Child:
    """One server: what runs it, on which port, and how to tell it answers."""

    name: str
    command: list[str]
    port: int
    port_setting: str  # the environment variable that moves it off a busy port
    probe_path: str
    log: Path
    env: Mapping[str, str] | None = None  # more variables than this process's


@contextmanager
def running_service(
    settings: Settings, env: Mapping[str, str] | None = None, log: Path | None = None
) -> Iterator[str]:
    """Serve ``serving.main:app`` on the settings' host and port (``env``: more settings
    for it); yields its base URL.

    Raises:
        NewslakeError: the port is busy, or the service does not answer in time.
    """
    log = log or settings.state_dir / "demo-service.log"
    print(f"   its access log (a JSON line per request): {log}")
    uvicorn = [sys.executable, "-m", "uvicorn", "serving.main:app", "--host", settings.serve_host,
               "--port", str(settings.serve_port), "--log-level", "warning"]  # fmt: skip
    child = _Child(
        "service", uvicorn, settings.serve_port, "NEWSLAKE_SERVE_PORT", "/healthz", log, env
    )
    with _running(settings, child) as base:
        yield base


@contextmanager
def running_gateway(settings: Settings) -> Iterator[str]:
    """Serve ``POST /pageview`` (``ingestion.gateway``, the local API Gateway in front of
    the handler) on the settings' host and gateway port; yields its base URL.

    Raises:
        NewslakeError: the port is busy, or the gateway does not answer in time.
    """
    child = _Child(
        "gateway",
        [sys.executable, "-m", "ingestion.gateway", "--no-access-log"],
        settings.gateway_port,
        "NEWSLAKE_GATEWAY_PORT",
        "/pageview",  # a GET answers 405 once the gateway serves
        settings.state_dir / "demo-gateway.log",
    )
    with _running(settings, child) as base:
        yield base


@contextmanager
def _running(settings: Settings, child: _Child) -> Iterator[str]:
    if not server.port_free(settings.serve_host, child.port):
        raise NewslakeError(
            f"port {settings.serve_host}:{child.port} is busy (a {child.name} left from an "
            f"interrupted demo?): stop it or set {child.port_setting}"
        )
    child.log.parent.mkdir(parents=True, exist_ok=True)
    with child.log.open("w") as log_file:
        proc = subprocess.Popen(
            child.command,
            cwd=REPO_ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, **child.env} if child.env else None,
        )
    try:
        base = f"http://{settings.serve_host}:{child.port}"
        try:
            _wait_http(f"{base}{child.probe_path}", STARTUP_TIMEOUT_S, proc)
        except NewslakeError as exc:
            raise NewslakeError(f"{exc}; the {child.name}'s output is in {child.log}") from exc
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


def _wait_http(url: str, timeout_s: float, proc: subprocess.Popen[bytes]) -> None:
    """Until ``url`` answers below 500 (a refusal, a 4xx, also says the server is up), or
    ``proc``, the server, has exited."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise NewslakeError(f"it exited with code {proc.returncode} before serving {url}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
            time.sleep(0.2)
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise NewslakeError(f"{url} did not answer within {timeout_s:.0f}s")
