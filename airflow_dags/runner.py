"""Run one stage locally as a child process and hand back its exit code and JSON result.

The child is ``python -m spark_jobs.submit spark_jobs/nightly.py -- --stage ...`` in the main
virtualenv (the Airflow venv has no pyspark): the same spark-submit command, jars and
Delta/s3a settings as ``make batch``. Its stderr (Spark's and the job's logs) and stdout go
to the task log line by line while it runs; the last stdout line is the result.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from airflow_dags.stages import last_json_object

log = logging.getLogger("newslake.airflow.runner")

STDERR_TAIL_LINES = 20


@dataclass(frozen=True)
class StageRun:
    """What one stage process left: exit code, parsed last stdout line, end of its stderr."""

    returncode: int
    result: dict[str, Any] | None
    stderr_tail: list[str] = field(default_factory=list)


def _pump(stream: IO[str], sink: list[str] | deque[str], prefix: str) -> None:
    for line in stream:
        line = line.rstrip("\n")
        sink.append(line)
        log.info("%s%s", prefix, line)


def run(
    command: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout_s: float | None = None,
) -> StageRun:
    """Run ``command`` to the end, logging its output as it comes.

    Raises:
        subprocess.TimeoutExpired: it ran past ``timeout_s`` (it is killed first).
    """
    log.info("running: %s", " ".join(command))
    child_env = dict(os.environ if env is None else env)
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(cwd), child_env.get("PYTHONPATH")]))
    stdout: list[str] = []
    stderr: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
    with subprocess.Popen(
        list(command),
        cwd=cwd,
        env=child_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
        start_new_session=True,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        readers = [
            threading.Thread(target=_pump, args=(proc.stdout, stdout, "| "), daemon=True),
            threading.Thread(target=_pump, args=(proc.stderr, stderr, "! "), daemon=True),
        ]
        for reader in readers:
            reader.start()
        try:
            proc.wait(timeout=timeout_s)
        except BaseException:  # timed out, or the task was stopped: take Spark down too
            _kill_group(proc)
            raise
        for reader in readers:
            reader.join(timeout=10)
    return StageRun(proc.returncode, last_json_object(stdout), list(stderr))


def _kill_group(proc: subprocess.Popen[str]) -> None:
    """Stop the stage and everything it started (spark-submit starts a JVM and Python)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
