"""CPU time of the processes a benchmark runs beside it (Linux ``/proc``)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from newslake.settings import Settings


def _stat_fields(pid: int | str) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after "pid (name)" (state first), or None."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None  # gone meanwhile


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU time of the processes so far (0 for one gone)."""
    ticks = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            ticks += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15
    return ticks / os.sysconf("SC_CLK_TCK")


def group(pgid: int) -> list[int]:
    """The live processes of a process group (a process started in a session of its own,
    and its children: a gateway's workers, spark-submit's JVM and Python workers)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            fields = _stat_fields(proc.name)
            if fields is not None and fields[2] == str(pgid):
                pids.append(int(proc.name))
    return pids


def moto_pid(settings: Settings) -> int | None:
    """The moto server's process, when ``make up`` started it."""
    try:
        pid = int(settings.moto_pid_file.read_text().strip())
    except (OSError, ValueError):
        return None  # a moto server this project did not start
    return pid if Path(f"/proc/{pid}").exists() else None
