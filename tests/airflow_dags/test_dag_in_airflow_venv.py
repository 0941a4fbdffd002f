"""The DAG as Airflow parses it: ``in_airflow_venv/`` run by the Airflow venv's pytest."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.utils.airflow_venv import airflow_env
from tests.utils.paths import REPO_ROOT


def test_dagbag_and_emr_rendering_pass_in_the_airflow_venv(
    airflow_python: Path, tmp_path: Path
) -> None:
    done = subprocess.run(
        [
            str(airflow_python),
            "-m",
            "pytest",
            "tests/airflow_dags/in_airflow_venv",
            "-q",
            "-p",
            "no:cacheprovider",
            "-W",
            "ignore:GitWildMatchPattern:DeprecationWarning",
        ],
        env=airflow_env(tmp_path),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-4000:]
    assert " passed" in done.stdout.splitlines()[-1]
