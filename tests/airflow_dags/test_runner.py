"""A local stage run: exit code, the JSON on its last stdout line, the end of stderr."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from airflow_dags import runner


def _python(tmp_path: Path, code: str) -> list[str]:
    script = tmp_path / "stage.py"
    script.write_text(code)
    return [sys.executable, str(script)]


def test_the_result_is_the_last_stdout_line_and_stderr_is_kept(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "print('starting')\n"
        "print('spark says hello', file=sys.stderr)\n"
        'print(\'{"ok": true, "visits": 3}\')\n'
        "print('shutdown hook', file=sys.stderr)\n"
        "sys.exit(3)\n"
    )
    run = runner.run(_python(tmp_path, code), cwd=tmp_path)
    assert run.returncode == 3
    assert run.result == {"ok": True, "visits": 3}
    assert run.stderr_tail == ["spark says hello", "shutdown hook"]


def test_a_stage_past_its_timeout_is_killed_with_its_children(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    code = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n"
    )
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        runner.run(_python(tmp_path, code), cwd=tmp_path, timeout_s=2)
    assert time.monotonic() - started < 30
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{child}").exists()
