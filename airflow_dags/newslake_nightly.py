"""``newslake_nightly``: retrain and publish each portal's model every night.

The DAG orchestrates only. Every Spark stage is ``spark_jobs/nightly.py --stage ...``, run
locally through ``python -m spark_jobs.submit`` or as an EMR Serverless job run
(``NEWSLAKE_SPARK_MODE``); the rules that read the stages' results live in
:mod:`airflow_dags.stages`, the settings in :mod:`airflow_dags.config`.
"""

from __future__ import annotations

import itertools
import logging
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import TriggerRule, dag, get_current_context, task, task_group

from airflow_dags import callbacks, config, emr, stages
from newslake.settings import get_settings

log = logging.getLogger("newslake.airflow")

CFG = config.from_env()
# The one setting the DAG's shape needs (a mapped group per portal, laid out at parse time);
# the tasks read the rest of the settings when they run.
PORTALS = list(get_settings().portals)
# erase: every pending erasure request is carried out before the models see the data.
SHARED_STAGES = ("catch_up", "check", "maintain", "erase", "interactions")
# Measuring the lists served runs beside the retraining, after the catch-up: its failure
# fails the run but retrains no portal less.
MEASURE_STAGE = "rec_performance"
# The newsroom's control changes into the lake's audit table: it needs no day's data, so it
# starts with the run, beside everything else; its failure fails the run and spares the
# models (the change log keeps every change for the next run).
AUDIT_STAGE = "editorial_audit"
PORTAL_GROUP = "portal"

DOC_MD = f"""
### newslake nightly retraining

Mode **{CFG.mode}** (`NEWSLAKE_SPARK_MODE`), portals **{", ".join(PORTALS)}**
(`NEWSLAKE_PORTALS`), schedule `{CFG.schedule}` UTC (`NEWSLAKE_AIRFLOW_SCHEDULE`).

The stages and what each does: `spark_jobs/README.md#nightly-stages` (the one stage table).
Each stage is a task here; the per-portal ones run in the mapped `portal` group, one
independent chain per portal, gated by `gate`. What the DAG adds:

- Missing data ({CFG.missing_data}, `NEWSLAKE_AIRFLOW_MISSING_DATA`): `fail` retries with
  backoff (late data) and then fails the run; `skip` skips retraining and the run succeeds.
- A run's model version is named after its logical date (the trigger time for a manual run
  without one).
- `rec_performance` measures the lists served (CTR, attribution checks, experiments'
  results) after `catch_up`, beside the retraining: its failure fails the run and spares
  every portal.
- `erase` carries out every pending erasure request (`spark_jobs/erasure.py`) after the
  maintenance and before the interactions, so no model of the night sees an erased reader.
- `editorial_audit` merges the newsroom's control changes into `silver.editorial_audit`
  from the start of the run, beside the rest: its failure fails the run and spares every
  portal.
- `gate` skips a version the gate rejected or skipped (and its export and switch), with the
  reason in the log.
- `summary` runs whatever happened: one line per portal; it fails the run when any portal
  failed, so the run's state tells the operator. Failed tasks are reported by
  `NEWSLAKE_AIRFLOW_ON_FAILURE`.
"""


def _moment() -> datetime:
    dag_run = get_current_context()["dag_run"]
    return stages.run_time(dag_run.logical_date, dag_run.run_after)


def _finish(stage: str, returncode: int, result: dict[str, Any] | None, tail: list[str]) -> Any:
    """Turn a stage's exit code and JSON into the task's outcome (return, skip or fail)."""
    from airflow.sdk.exceptions import AirflowException, AirflowSkipException

    if result is not None:
        # Kept even when the task fails, so the summary can say what happened.
        get_current_context()["ti"].xcom_push(key="result", value=result)
    try:
        return stages.interpret(stage, returncode, result, tail)
    except stages.MissingData as exc:
        if CFG.missing_data == "skip":
            raise AirflowSkipException(f"{exc} (NEWSLAKE_AIRFLOW_MISSING_DATA=skip)") from None
        raise AirflowException(str(exc)) from None
    except stages.StageError as exc:
        raise AirflowException(str(exc)) from None


# ---- local mode: one task per stage, the same spark-submit as `make batch` --------------------
@task(max_active_tis_per_dag=1)  # one Spark JVM per stage at a time on a small machine
def local_stage(stage: str, portal: str | None = None) -> Any:
    from airflow_dags import runner

    moment = _moment()
    args = stages.stage_args(
        stage, portal=portal, as_of=stages.iso(moment), version=stages.version_of(moment)
    )
    run = runner.run(
        [*CFG.local_command(), *args], cwd=config.REPO_ROOT, timeout_s=CFG.stage_timeout_s
    )
    return _finish(stage, run.returncode, run.result, run.stderr_tail)


# ---- emr mode: StartJobRun -> sensor -> result object read back from S3 ------------------------
@task
def emr_result(stage: str, portal: str | None = None) -> Any:
    import json

    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    uri = stages.result_uri(CFG.emr.result_uri, stages.version_of(_moment()), stage, portal)
    bucket, key = S3Hook.parse_s3_url(uri)
    hook = S3Hook(aws_conn_id=CFG.emr.aws_conn_id)
    if not hook.check_for_key(key, bucket):
        return _finish(stage, 1, None, [f"no result object at {uri}"])
    result = json.loads(hook.read_key(key, bucket))  # the stage writes its exit code in it
    return _finish(stage, int(result.pop("exit_code", 0)), result, [])


def _emr_stage(stage: str, portal: Any = None) -> Any:
    from airflow.providers.amazon.aws.operators.emr import EmrServerlessStartJobOperator
    from airflow.providers.amazon.aws.sensors.emr import EmrServerlessJobSensor

    settings = get_settings()
    conf = emr.spark_conf(
        emr.job_spark_conf(
            shuffle_partitions=settings.spark_shuffle_partitions,
            driver_memory=settings.spark_driver_memory,
        ),
        emr.newslake_env(
            region=settings.region,
            name_prefix=settings.name_prefix,
            portals=PORTALS,
            lake_uri=settings.lake_uri,
            privacy_hash_key_secret=settings.privacy_hash_key_secret,
        ),
        CFG.emr,
    )
    mapped = portal is not None
    start = EmrServerlessStartJobOperator(
        task_id=f"{stage}_start",
        application_id=CFG.emr.application_id,
        execution_role_arn=CFG.emr.execution_role_arn,
        job_driver=emr.job_driver(CFG.emr, conf, emr.stage_arguments(stage, mapped=mapped)),
        configuration_overrides=emr.configuration_overrides(CFG.emr),
        name=f"newslake-{stage}{'-{{ nl_portal(ti) }}' if mapped else ''}-{emr.VERSION}",
        wait_for_completion=False,
        aws_conn_id=CFG.emr.aws_conn_id,
    )
    wait = EmrServerlessJobSensor(
        task_id=f"{stage}_wait",
        application_id=CFG.emr.application_id,
        job_run_id=start.output,
        aws_conn_id=CFG.emr.aws_conn_id,
        poke_interval=60,
        timeout=CFG.stage_timeout_s,
        mode="reschedule",
    )
    result = emr_result.override(task_id=stage)(stage=stage, portal=portal)
    start >> wait >> result
    return start, result


def spark_stage(stage: str, portal: Any = None) -> tuple[Any, Any]:
    """The first and last task of one stage; the last is named ``stage`` and returns its
    result (in local mode they are the same task)."""
    if CFG.mode == "emr":
        return _emr_stage(stage, portal)
    run = local_stage.override(task_id=stage)(stage=stage, portal=portal)
    return run, run


# ---- per portal -------------------------------------------------------------------------------
@task
def gate(trained: dict[str, Any]) -> str:
    """Let a promoted version through; skip (with the reason) what the gate kept out.

    A skip, not a short-circuit: inside a mapped group the trigger rules skip exactly this
    portal's export and switch, and the summary (all_done) still runs.
    """
    from airflow.sdk.exceptions import AirflowSkipException

    promote, reason = stages.promotes(trained)
    portal, version = trained.get("portal"), trained.get("version")
    if not promote:
        log.warning("%s %s: not published, %s; service keeps its version", portal, version, reason)
        raise AirflowSkipException(f"{portal} {version} not published: {reason}")
    log.info("%s %s: promote (%s)", portal, version, reason)
    return reason


@task
def switch_active_version(portal: str) -> dict[str, Any]:
    from newslake import aws, versions

    settings = get_settings()
    version = stages.version_of(_moment())
    ddb = aws.client("dynamodb", settings)
    previous = versions.switch_recorded(settings, ddb, portal, version)
    log.info("%s: active version %s (was %s)", portal, version, previous or "none")
    return {"portal": portal, "version": version, "previous_version": previous}


@task_group(group_id=PORTAL_GROUP)
def retrain_portal(portal: str) -> None:
    """One portal's chain; a portal that fails or is rejected leaves the others alone."""
    _, trained = spark_stage("train", portal)
    export_start, exported = spark_stage("export", portal)
    gate(trained) >> export_start
    exported >> switch_active_version(portal)


@task(trigger_rule=TriggerRule.ALL_DONE)
def summary() -> dict[str, str]:
    from airflow.sdk.exceptions import AirflowFailException

    ti = get_current_context()["ti"]
    check = ti.xcom_pull(task_ids="check", key="result")
    if check is not None and not check.get("ok", True):
        message = f"no silver data for this run's day ({check}); nothing was retrained"
        if CFG.missing_data == "skip":
            log.warning("%s; skipped by NEWSLAKE_AIRFLOW_MISSING_DATA=skip", message)
            return {p: "kept" for p in PORTALS}
        raise AirflowFailException(message)
    if ti.xcom_pull(task_ids=SHARED_STAGES[-1]) is None:  # it runs only after all the others
        unfinished = next(s for s in SHARED_STAGES if ti.xcom_pull(task_ids=s) is None)
        raise AirflowFailException(
            f"stage {unfinished} did not finish (see its log); no portal was retrained"
        )

    def pull(task_id: str, key: str = "return_value") -> list[Any]:
        return [
            ti.xcom_pull(task_ids=f"{PORTAL_GROUP}.{task_id}", key=key, map_indexes=i)
            for i in range(len(PORTALS))
        ]

    outcomes = stages.summarize(PORTALS, pull("train", "result"), pull("switch_active_version"))
    for outcome in outcomes:
        (log.error if outcome.failed else log.info)("%s", outcome.line)
    failed = [o.portal for o in outcomes if o.failed]
    if failed:
        raise AirflowFailException(f"portals failed: {', '.join(failed)} (see the lines above)")
    return {o.portal: o.outcome for o in outcomes}


@dag(
    dag_id="newslake_nightly",
    schedule=CFG.schedule,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["newslake", "nightly", "spark", CFG.mode],
    doc_md=DOC_MD,
    user_defined_macros=emr.macros(PORTALS, CFG.emr.result_uri),
    default_args={
        "owner": "newslake",
        "retries": CFG.retries,
        "retry_delay": timedelta(seconds=CFG.retry_delay_s),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(seconds=CFG.max_retry_delay_s),
        "execution_timeout": timedelta(seconds=CFG.stage_timeout_s),
        "on_failure_callback": callbacks.make_on_failure(CFG.on_failure, PORTALS),
    },
)
def newslake_nightly() -> None:
    shared = [spark_stage(stage) for stage in SHARED_STAGES]
    for (_, done), (start, _) in itertools.pairwise(shared):
        done >> start
    measure_start, _ = spark_stage(MEASURE_STAGE)
    shared[0][1] >> measure_start
    spark_stage(AUDIT_STAGE)
    shared[-1][1] >> retrain_portal.expand(portal=PORTALS) >> summary()


newslake_nightly()
