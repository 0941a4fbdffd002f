"""The DAG as Airflow parses it: no import errors, the task graph, mapping, retries, tags,
and in EMR mode the StartJobRun arguments rendered for a run (no AWS call)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from tests.utils.airflow_venv import EMR_ENV

LOCAL_TASKS = {
    "catch_up",
    "check",
    "maintain",
    "erase",
    "interactions",
    "rec_performance",
    "editorial_audit",
    "portal.train",
    "portal.gate",
    "portal.export",
    "portal.switch_active_version",
    "summary",
}


def _dag(bag: Any) -> Any:
    assert bag.import_errors == {}
    return bag.dags["newslake_nightly"]


def _edges(dag: Any) -> set[tuple[str, str]]:
    return {(t.task_id, d) for t in dag.tasks for d in t.downstream_task_ids}


def test_the_dag_folder_parses_without_errors(load_dagbag: Any) -> None:
    bag = load_dagbag()
    assert bag.import_errors == {}
    assert list(bag.dags) == ["newslake_nightly"]


def test_local_mode_runs_one_task_per_stage_in_order(load_dagbag: Any) -> None:
    dag = _dag(load_dagbag())
    assert set(dag.task_ids) == LOCAL_TASKS
    assert _edges(dag) == {
        ("catch_up", "check"),
        ("catch_up", "rec_performance"),
        ("check", "maintain"),
        ("maintain", "erase"),
        ("erase", "interactions"),
        ("interactions", "portal.train"),
        ("portal.train", "portal.gate"),
        ("portal.gate", "portal.export"),
        ("portal.export", "portal.switch_active_version"),
        ("portal.switch_active_version", "summary"),
    }


def test_the_portal_chain_is_mapped_over_the_configured_portals(load_dagbag: Any) -> None:
    from airflow.sdk.definitions.taskgroup import MappedTaskGroup

    dag = _dag(load_dagbag())
    group = dag.task_group_dict["portal"]
    assert isinstance(group, MappedTaskGroup)
    assert group._expand_input.value == {"portal": ["g1", "ge"]}
    assert {t.task_id for t in group} == {
        "portal.train",
        "portal.gate",
        "portal.export",
        "portal.switch_active_version",
    }


def test_every_task_retries_with_exponential_backoff(load_dagbag: Any) -> None:
    dag = _dag(load_dagbag())
    for t in dag.tasks:
        assert t.retries >= 2, t.task_id
        assert t.retry_exponential_backoff > 1, t.task_id
        assert t.retry_delay == timedelta(minutes=5), t.task_id
        assert t.on_failure_callback, t.task_id


def test_schedule_catchup_tags_and_docs(load_dagbag: Any) -> None:
    dag = _dag(load_dagbag(NEWSLAKE_AIRFLOW_SCHEDULE="15 2 * * *"))
    assert dag.timetable.expression == "15 2 * * *"
    assert dag.catchup is False
    assert {"newslake", "nightly", "local"} <= set(dag.tags)
    assert "newslake nightly retraining" in dag.doc_md


def test_the_summary_runs_whatever_happened_upstream(load_dagbag: Any) -> None:
    dag = _dag(load_dagbag())
    assert dag.get_task("summary").trigger_rule == "all_done"


def test_emr_mode_starts_waits_and_reads_each_stage(load_dagbag: Any) -> None:
    dag = _dag(load_dagbag(**EMR_ENV))
    kinds = {t.task_id: type(t).__name__ for t in dag.tasks}
    for stage in (
        "catch_up", "check", "maintain", "erase", "interactions", "rec_performance",
        "editorial_audit", "portal.train", "portal.export",
    ):  # fmt: skip
        assert kinds[f"{stage}_start"] == "EmrServerlessStartJobOperator"
        assert kinds[f"{stage}_wait"] == "EmrServerlessJobSensor"
        assert (f"{stage}_start", f"{stage}_wait") in _edges(dag)
        assert (f"{stage}_wait", stage) in _edges(dag)
    assert ("interactions", "portal.train_start") in _edges(dag)
    assert ("catch_up", "rec_performance_start") in _edges(dag)
    assert ("portal.gate", "portal.export_start") in _edges(dag)
    assert kinds["portal.switch_active_version"] == "_PythonDecoratedOperator"


def _render(dag: Any, task_id: str, map_index: int) -> Any:
    """Render a task's templated fields for a run at 2026-03-03 03:30 UTC (no AWS call)."""
    task = dag.get_task(task_id)
    moment = datetime(2026, 3, 3, 3, 30, tzinfo=UTC)
    context = {
        "dag_run": SimpleNamespace(logical_date=moment, run_after=moment),
        "ti": SimpleNamespace(map_index=map_index, task_id=task_id),
    }
    task.render_template_fields(context)
    return task


def test_emr_train_job_renders_entry_point_arguments_and_locations(load_dagbag: Any) -> None:
    dag = _dag(load_dagbag(**EMR_ENV))
    start = _render(dag, "portal.train_start", map_index=1)
    submit = start.job_driver["sparkSubmit"]
    assert start.application_id == "00fabc123"
    assert start.execution_role_arn == "arn:aws:iam::123456789012:role/newslake-emr"
    assert start.name == "newslake-train-ge-v20260303T033000Z"
    assert start.wait_for_completion is False
    assert submit["entryPoint"] == "s3://newslake-artifacts/code/spark_jobs/nightly.py"
    assert submit["entryPointArguments"] == [
        "--stage",
        "train",
        "--portal",
        "ge",
        "--as-of",
        "2026-03-03T03:30:00Z",
        "--version",
        "v20260303T033000Z",
        "--result-uri",
        "s3://newslake-artifacts/results/v20260303T033000Z/train-ge.json",
    ]
    assert start.configuration_overrides == {
        "monitoringConfiguration": {
            "s3MonitoringConfiguration": {"logUri": "s3://newslake-artifacts/logs/"}
        }
    }


def test_emr_jobs_carry_the_spark_settings_code_and_environment(load_dagbag: Any) -> None:
    dag = _dag(load_dagbag(**EMR_ENV))
    params = _render(dag, "check_start", map_index=-1).job_driver["sparkSubmit"][
        "sparkSubmitParameters"
    ]
    for expected in (
        "--conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension",
        "--conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "--conf spark.sql.session.timeZone=UTC",
        "--conf spark.emr-serverless.driverEnv.NEWSLAKE_PROFILE=aws",
        "--conf spark.executorEnv.NEWSLAKE_PORTALS=g1,ge",
        "--conf spark.emr-serverless.driverEnv.PYSPARK_PYTHON=./environment/bin/python",
        "--py-files s3://newslake-artifacts/code/newslake.zip",
        "--archives s3://newslake-artifacts/code/pyenv.tar.gz#environment",
    ):
        assert expected in params


def test_emr_shared_stage_writes_its_result_under_the_run_version(load_dagbag: Any) -> None:
    dag = _dag(load_dagbag(**EMR_ENV))
    args = _render(dag, "check_start", map_index=-1).job_driver["sparkSubmit"][
        "entryPointArguments"
    ]
    assert args == [
        "--stage",
        "check",
        "--as-of",
        "2026-03-03T03:30:00Z",
        "--result-uri",
        "s3://newslake-artifacts/results/v20260303T033000Z/check.json",
    ]


def test_emr_mode_without_its_settings_is_an_import_error_naming_them(load_dagbag: Any) -> None:
    bag = load_dagbag(NEWSLAKE_SPARK_MODE="emr")
    (error,) = bag.import_errors.values()
    assert "NEWSLAKE_SPARK_MODE=emr needs NEWSLAKE_EMR_APPLICATION_ID" in error
