"""Start and stop the one moto server that stands in for AWS in local mode."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from newslake.errors import PlatformError
from newslake.settings import Settings


def _responds(host: str, port: int, timeout_s: float = 1.0) -> bool:
    """True when a moto server answers its management API at host:port."""
    try:
        # The dashboard page is small and static; data.json dumps every resource (slow).
        with urllib.request.urlopen(f"http://{host}:{port}/moto-api/", timeout=timeout_s) as r:
            return r.status == 200 and b"Moto" in r.read(4096)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _read_pid(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except OSError:
        return None
    return pid


def is_running(settings: Settings) -> bool:
    return _responds(settings.moto_host, settings.moto_port)


def start(settings: Settings, *, wait_s: float = 30.0) -> bool:
    """Start the moto server unless it already runs. Returns True when this call started it.

    Raises:
        PlatformError: the port is taken by something else, or the server did not come up.
    """
    host, port = settings.moto_host, settings.moto_port
    if _responds(host, port):
        return False
    if not port_free(host, port):
        raise PlatformError(
            f"port {host}:{port} is busy with something that is not a moto server: "
            f"stop it or choose another port with NEWSLAKE_MOTO_PORT"
        )
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    log = settings.moto_log_file.open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "newslake.local.moto_server", "-H", host, "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # survives the make recipe that started it
    )
    settings.moto_pid_file.write_text(str(proc.pid))
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if _responds(host, port):
            return True
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    _terminate(proc.pid)
    settings.moto_pid_file.unlink(missing_ok=True)
    raise PlatformError(
        f"the moto server did not come up on {host}:{port} within {wait_s:.0f}s; "
        f"see {settings.moto_log_file}"
    )


def _gone(pid: int) -> bool:
    """True once ``pid`` has exited (reaping it when it is our own child)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return True
    except ChildProcessError:
        pass  # not our child: started by an earlier `make up`
    try:
        os.kill(pid, 0)
    except OSError:
        return True
    return False


def _terminate(pid: int, wait_s: float = 10.0) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except OSError:
        return
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if _gone(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)


def reset(settings: Settings) -> None:
    """Empty every service of the running moto server (moto's own reset API)."""
    url = f"http://{settings.moto_host}:{settings.moto_port}/moto-api/reset"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=10):
            pass
    except (urllib.error.URLError, OSError) as exc:
        raise PlatformError(f"could not reset the moto server at {url}: {exc}") from exc


def stop(settings: Settings) -> bool:
    """Stop the moto server this project started. Returns True when one was stopped."""
    pid = _read_pid(settings.moto_pid_file)
    settings.moto_pid_file.unlink(missing_ok=True)
    if pid is None:
        return False
    _terminate(pid)
    return True
