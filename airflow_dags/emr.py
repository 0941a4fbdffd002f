"""The EMR Serverless side of a stage: job driver, Spark settings and the run-time templates.

In ``emr`` mode each stage is a ``StartJobRun`` with the same entry point and arguments as
local mode. Values known only when the run starts (model time, version, the mapped portal)
are Jinja templates over the macros of :func:`macros`, so the operators render them like
any templated field. The job's Spark settings repeat what ``spark_jobs.session.spark_conf``
gives a job in the ``aws`` profile (this process has no pyspark to import it from; a test
compares the two).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from airflow_dags import stages
from airflow_dags.config import EmrConfig
from newslake.sparkconf import base_spark_conf

AS_OF = "{{ nl_as_of(dag_run) }}"
VERSION = "{{ nl_version(dag_run) }}"
PORTAL = "{{ nl_portal(ti) }}"


def macros(portals: Sequence[str], result_prefix: str) -> dict[str, Callable[..., Any]]:
    """The DAG's ``user_defined_macros`` behind the templates of this module."""

    def moment(dag_run: Any) -> Any:
        return stages.run_time(dag_run.logical_date, dag_run.run_after)

    def nl_result_uri(dag_run: Any, stage: str, portal: str | None = None) -> str:
        version = stages.version_of(moment(dag_run))
        return stages.result_uri(result_prefix, version, stage, portal)

    return {
        "nl_as_of": lambda dag_run: stages.iso(moment(dag_run)),
        "nl_version": lambda dag_run: stages.version_of(moment(dag_run)),
        "nl_portal": lambda ti: portals[ti.map_index],
        "nl_result_uri": nl_result_uri,
    }


def job_spark_conf(*, shuffle_partitions: int, driver_memory: str) -> dict[str, str]:
    """The Spark settings every nightly job runs with outside the local platform."""
    return base_spark_conf(shuffle_partitions=shuffle_partitions, driver_memory=driver_memory)


def newslake_env(
    *,
    region: str,
    name_prefix: str,
    portals: Sequence[str],
    lake_uri: str | None,
    privacy_hash_key_secret: str | None = None,
) -> dict[str, str]:
    """The NEWSLAKE_* settings an EMR job needs: the aws profile and the names it derives;
    the pseudonyms' key by the name of its secret, never its value."""
    env = {
        "NEWSLAKE_PROFILE": "aws",
        "NEWSLAKE_REGION": region,
        "NEWSLAKE_NAME_PREFIX": name_prefix,
        "NEWSLAKE_PORTALS": ",".join(portals),
    }
    if lake_uri:
        env["NEWSLAKE_LAKE_URI"] = lake_uri
    if privacy_hash_key_secret:  # privacy: the erasure stage names readers by pseudonym
        env["NEWSLAKE_PRIVACY_HASH_KEY_SECRET"] = privacy_hash_key_secret
    return env


def spark_conf(base: Mapping[str, str], env: Mapping[str, str], emr: EmrConfig) -> dict[str, str]:
    """The job's settings, its environment on driver and executors, the packed Python
    environment when there is one, then the configured extras (which win)."""
    conf = dict(base)
    for key, value in env.items():
        conf[f"spark.emr-serverless.driverEnv.{key}"] = value
        conf[f"spark.executorEnv.{key}"] = value
    if emr.python_env_uri:
        python = "./environment/bin/python"
        conf["spark.emr-serverless.driverEnv.PYSPARK_DRIVER_PYTHON"] = python
        conf["spark.emr-serverless.driverEnv.PYSPARK_PYTHON"] = python
        conf["spark.executorEnv.PYSPARK_PYTHON"] = python
    conf.update(emr.spark_conf)
    return conf


def spark_submit_parameters(conf: Mapping[str, str], emr: EmrConfig) -> str:
    """``sparkSubmitParameters``: the ``--conf`` pairs, the packages and the environment."""
    parts = [f"--conf {key}={value}" for key, value in conf.items()]
    parts.append(f"--py-files {emr.py_files}")
    if emr.python_env_uri:
        parts.append(f"--archives {emr.python_env_uri}#environment")
    return " ".join(parts)


def job_driver(emr: EmrConfig, conf: Mapping[str, str], args: Sequence[str]) -> dict[str, Any]:
    """``jobDriver`` of ``StartJobRun``: the nightly entry point with a stage's arguments."""
    return {
        "sparkSubmit": {
            "entryPoint": emr.entry_point,
            "entryPointArguments": list(args),
            "sparkSubmitParameters": spark_submit_parameters(conf, emr),
        }
    }


def configuration_overrides(emr: EmrConfig) -> dict[str, Any] | None:
    """Job logs to S3 when a log location is configured."""
    if not emr.log_uri:
        return None
    return {"monitoringConfiguration": {"s3MonitoringConfiguration": {"logUri": emr.log_uri}}}


def stage_arguments(stage: str, *, mapped: bool) -> list[str]:
    """A stage's arguments as templates: model time, version and the mapped portal are
    filled in at run time, and the result goes to this run's object for the stage."""
    portal = PORTAL if mapped else None
    where = f"'{stage}', nl_portal(ti)" if mapped else f"'{stage}'"
    return stages.stage_args(
        stage,
        portal=portal,
        as_of=AS_OF,
        version=VERSION,
        result_uri=f"{{{{ nl_result_uri(dag_run, {where}) }}}}",
    )
