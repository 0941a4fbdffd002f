"""The CPU accounting the benchmarks report per process."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from benchmarks import procs

SPIN = "while True: pass"
# A busy process that starts a busy child (same process group).
BUSY = f"import subprocess, sys; subprocess.Popen([sys.executable, '-c', {SPIN!r}])\n{SPIN}"


def test_a_session_leader_and_its_child_are_one_group_and_their_cpu_adds_up():
    leader = subprocess.Popen([sys.executable, "-c", BUSY], start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while len(procs.group(leader.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        members = procs.group(leader.pid)
        assert leader.pid in members and len(members) == 2
        assert os.getpid() not in members
        while procs.cpu_seconds(members) < 1.0 and time.monotonic() < deadline:
            time.sleep(0.05)
        # Two busy processes: their sum passes one second before either alone does.
        assert procs.cpu_seconds(members) >= 1.0
        assert procs.cpu_seconds([leader.pid]) < procs.cpu_seconds(members)
    finally:
        os.killpg(leader.pid, 9)
        leader.wait()


def test_a_gone_process_counts_no_cpu():
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert procs.cpu_seconds([gone.pid]) == 0
    assert procs.group(gone.pid) == []
