"""Runs in .venv-airflow only (see ../conftest.py): loads the DAG folder with a DagBag."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

DAGS_FOLDER = Path(__file__).resolve().parents[3] / "airflow_dags"

EMR_ENV = {
    "NEWSLAKE_SPARK_MODE": "emr",
    "NEWSLAKE_EMR_APPLICATION_ID": "00fabc123",
    "NEWSLAKE_EMR_EXECUTION_ROLE_ARN": "arn:aws:iam::123456789012:role/newslake-emr",
    "NEWSLAKE_EMR_CODE_URI": "s3://newslake-artifacts/code/",
    "NEWSLAKE_EMR_RESULT_URI": "s3://newslake-artifacts/results",
    "NEWSLAKE_EMR_LOG_URI": "s3://newslake-artifacts/logs/",
    "NEWSLAKE_EMR_PYTHON_ENV_URI": "s3://newslake-artifacts/code/pyenv.tar.gz",
}


@pytest.fixture
def load_dagbag(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """``load_dagbag(**env)``: parse the DAG folder with these settings in the environment."""

    def load(**env: str) -> Any:
        from airflow.dag_processing.dagbag import DagBag

        for name in ("NEWSLAKE_SPARK_MODE", "NEWSLAKE_AIRFLOW_RETRIES", *EMR_ENV):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("NEWSLAKE_PORTALS", "g1,ge")
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return DagBag(dag_folder=str(DAGS_FOLDER))

    return load
