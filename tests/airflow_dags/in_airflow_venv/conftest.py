"""Runs in .venv-airflow only (see ../conftest.py): loads the DAG folder with a DagBag."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.utils.airflow_venv import EMR_ENV
from tests.utils.paths import DAGS_FOLDER


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
