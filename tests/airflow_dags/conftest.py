"""The DAG's tests: pure rules here in the main venv; anything that imports Airflow runs in
``.venv-airflow`` as a child process (``in_airflow_venv/`` through pytest, whole DAG runs
through ``run_dag.py``). Without that venv they skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.utils.airflow_venv import AIRFLOW_PYTHON, RUN_DAG, DagRun, airflow_env
from tests.utils.paths import REPO_ROOT
from tests.utils.processes import kill_tree

# The Airflow-side tests import airflow: only the Airflow venv's pytest collects them.
collect_ignore = [] if importlib.util.find_spec("airflow") else ["in_airflow_venv"]


@pytest.fixture(scope="session")
def airflow_python() -> Path:
    if not AIRFLOW_PYTHON.exists():
        message = f"{AIRFLOW_PYTHON} is missing: run `make airflow-setup`"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return AIRFLOW_PYTHON


@pytest.fixture(scope="session")
def migrated_airflow_db(airflow_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Airflow home with a migrated SQLite database, copied for each DAG run (~20 s once)."""
    home = tmp_path_factory.mktemp("airflow-template")
    done = subprocess.run(
        [str(airflow_python.parent / "airflow"), "db", "migrate"],
        env=airflow_env(home),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return home / "airflow.db"


@pytest.fixture(scope="session")
def run_dag(
    airflow_python: Path, migrated_airflow_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> Any:
    """``run_dag(logical_date, env)``: one ``dag.test()`` run in the Airflow venv;
    ``mark_success`` (a regex of task ids) marks tasks done without running them."""

    def run(
        logical_date: str,
        env: Mapping[str, str],
        *,
        mark_success: str | None = None,
        timeout_s: float = 600,
    ) -> DagRun:
        home = tmp_path_factory.mktemp("airflow-run")
        shutil.copy(migrated_airflow_db, home / "airflow.db")
        command = [str(airflow_python), str(RUN_DAG), "--logical-date", logical_date]
        if mark_success:
            command += ["--mark-success", mark_success]
        with subprocess.Popen(
            command,
            env=airflow_env(home, **env),
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as proc:
            try:
                log, _ = proc.communicate(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                kill_tree(proc.pid)  # the stages run in sessions of their own
                log, _ = proc.communicate()
                (home / "run.log").write_text(log)
                pytest.fail(f"the DAG run took over {timeout_s:.0f}s; log: {home / 'run.log'}")
        (home / "run.log").write_text(log)
        assert proc.returncode == 0, f"run_dag.py exited {proc.returncode}:\n{log[-6000:]}"
        report = json.loads(log.strip().splitlines()[-1])
        return DagRun(report["state"], report["tasks"], log)

    return run
