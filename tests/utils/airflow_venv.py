"""Airflow children for the DAG's tests: the Airflow venv's python, the environment a child
runs in, what a DAG run reported, and the settings that put the DAG in EMR mode.

The Airflow venv's pytest imports this module too: the standard library only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tests.utils.paths import DAGS_FOLDER, REPO_ROOT

AIRFLOW_PYTHON = REPO_ROOT / ".venv-airflow" / "bin" / "python"
RUN_DAG = REPO_ROOT / "tests" / "airflow_dags" / "run_dag.py"  # one dag.test() run, as JSON

EMR_ENV = {
    "NEWSLAKE_SPARK_MODE": "emr",
    "NEWSLAKE_EMR_APPLICATION_ID": "00fabc123",
    "NEWSLAKE_EMR_EXECUTION_ROLE_ARN": "arn:aws:iam::123456789012:role/newslake-emr",
    "NEWSLAKE_EMR_CODE_URI": "s3://newslake-artifacts/code/",
    "NEWSLAKE_EMR_RESULT_URI": "s3://newslake-artifacts/results",
    "NEWSLAKE_EMR_LOG_URI": "s3://newslake-artifacts/logs/",
    "NEWSLAKE_EMR_PYTHON_ENV_URI": "s3://newslake-artifacts/code/pyenv.tar.gz",
}


def airflow_env(home: Path, **extra: str) -> dict[str, str]:
    """An environment for an Airflow child: its own home and database, the repo's DAGs, no
    orchestration settings inherited from the developer's shell."""
    inherited = ("AIRFLOW", "NEWSLAKE_AIRFLOW_", "NEWSLAKE_EMR_", "NEWSLAKE_SPARK_MODE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(inherited)}
    env.update(
        PYTHONPATH=str(REPO_ROOT),
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS_FOLDER),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
    )
    env.update(extra)
    return env


@dataclass(frozen=True)
class DagRun:
    """What ``run_dag.py`` reported: the run's state and each task instance's."""

    state: str
    tasks: dict[str, str]
    log: str
