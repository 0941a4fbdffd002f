"""``python -m ingestion.session_daemon start|stop|restart|status``: the local session-state
poller in the background, started by ``make up`` after the moto server and stopped by
``make down``.

A command that resets the platform (new streams, no checkpoints) stops the poller before
the reset and starts it once the platform is provisioned again: a poller left running
would go on reading the new streams with its old positions and skip their first records.

Its process id and log are in the settings' ``state_dir`` (``session-state.pid``,
``session-state.log``), beside the moto server's. The poller is killed with SIGTERM: it
keeps nothing in memory that its checkpoint does not cover (``ingestion/session_poller.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from newslake.settings import Settings, get_settings

MODULE = "ingestion.session_poller"
REPO_ROOT = Path(__file__).resolve().parent.parent  # what ``python -m`` finds the module in
STARTUP_S = 1.0  # a poller that cannot start (a bad setting, no package) exits within it
STOP_WAIT_S = 10.0


def pid_file(settings: Settings) -> Path:
    return settings.state_dir / "session-state.pid"


def log_file(settings: Settings) -> Path:
    return settings.state_dir / "session-state.log"


def environment(settings: Settings) -> dict[str, str]:
    """The poller's environment: this one, with the settings that name the platform (a
    caller's own moto server and state directory, as the tests' and benches' are)."""
    return {
        **os.environ,
        "NEWSLAKE_PROFILE": settings.profile,
        "NEWSLAKE_REGION": settings.region,
        "NEWSLAKE_NAME_PREFIX": settings.name_prefix,
        "NEWSLAKE_PORTALS": ",".join(settings.portals),
        "NEWSLAKE_MOTO_HOST": settings.moto_host,
        "NEWSLAKE_MOTO_PORT": str(settings.moto_port),
        "NEWSLAKE_STATE_DIR": str(settings.state_dir),
    }


def _is_poller(pid: int) -> bool:
    """Whether ``pid`` is alive and runs the poller (not a process that reused the id)."""
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc to ask: the id is all there is
    return MODULE.encode() in command


def running_pid(settings: Settings) -> int | None:
    """The background poller's process id, when it runs."""
    try:
        pid = int(pid_file(settings).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _is_poller(pid) else None


def start(settings: Settings) -> bool:
    """Start the poller unless it runs; True when this call started it.

    Raises:
        RuntimeError: it exited at once (its log says why).
    """
    if running_pid(settings) is not None:
        return False
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    with log_file(settings).open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", MODULE],
            cwd=REPO_ROOT,
            env=environment(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # outlives the make recipe that started it
        )
    pid_file(settings).write_text(str(proc.pid))
    time.sleep(STARTUP_S)
    if proc.poll() is not None:
        pid_file(settings).unlink(missing_ok=True)
        raise RuntimeError(f"the session-state poller exited at once; see {log_file(settings)}")
    return True


def stop(settings: Settings) -> bool:
    """Stop the background poller; True when one was running."""
    pid = running_pid(settings)
    pid_file(settings).unlink(missing_ok=True)
    if pid is None:
        return False
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_WAIT_S
    while time.monotonic() < deadline and _is_poller(pid):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reap it when this process started it
        time.sleep(0.05)
    if _is_poller(pid):
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingestion.session_daemon")
    parser.add_argument("command", choices=["start", "stop", "restart", "status"])
    args = parser.parse_args(argv)
    settings = get_settings()
    if args.command in ("start", "restart"):
        if args.command == "restart":
            stop(settings)
        try:
            started = start(settings)
        except RuntimeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        state = "started" if started else "already running"
        print(f"session-state poller {state}, log in {log_file(settings)}")
    elif args.command == "stop":
        stopped = stop(settings)
        print("session-state poller stopped" if stopped else "session-state poller was not running")
    else:
        pid = running_pid(settings)
        print(f"session-state poller {'running' if pid else 'stopped'}")
        return 0 if pid else 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
