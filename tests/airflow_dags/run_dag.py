"""Run ``newslake_nightly`` once with ``dag.test()``; print what happened as JSON, last line.

Runs in the Airflow venv (``.venv-airflow/bin/python tests/airflow_dags/run_dag.py
--logical-date 2026-03-03T03:30:00+00:00``) with ``AIRFLOW_HOME`` on a migrated database
and the ``NEWSLAKE_*`` settings of the run in the environment. The main venv's tests start
it, then check the serving store themselves.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime

from tests.utils.paths import DAGS_FOLDER  # importable: the child's PYTHONPATH is the checkout


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--logical-date", type=datetime.fromisoformat, required=True)
    p.add_argument("--mark-success", default=None, help="regex of task ids not to run")
    args = p.parse_args(argv)

    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    if bag.import_errors:
        print(json.dumps({"import_errors": {str(k): v for k, v in bag.import_errors.items()}}))
        return 1
    dag = bag.get_dag("newslake_nightly")
    run = dag.test(logical_date=args.logical_date, mark_success_pattern=args.mark_success)
    with create_session() as session:
        found = DagRun.find(dag_id=dag.dag_id, run_id=run.run_id, session=session)[0]
        tasks = {
            f"{ti.task_id}[{ti.map_index}]" if ti.map_index >= 0 else ti.task_id: str(ti.state)
            for ti in found.get_task_instances(session=session)
        }
        state = str(found.state)
    print(json.dumps({"run_id": run.run_id, "state": state, "tasks": tasks}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
