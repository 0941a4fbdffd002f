"""What the nightly DAG reads from the environment, in one place, with defaults.

Portals and everything the Spark stages read come from ``newslake.settings`` (the
``NEWSLAKE_*`` variables); this module adds only what orchestration needs:

* ``NEWSLAKE_SPARK_MODE``: ``local`` (``python -m spark_jobs.submit`` on this machine,
  ``spark-submit --master local[*]``) or ``emr`` (an EMR Serverless job run per stage).
* ``NEWSLAKE_AIRFLOW_SCHEDULE``: a cron expression (UTC), or ``none`` for manual runs only.
* ``NEWSLAKE_AIRFLOW_RETRIES``, ``..._RETRY_DELAY_S``, ``..._MAX_RETRY_DELAY_S``: every task
  retries with exponential backoff; late data gets the same chance through them.
* ``NEWSLAKE_AIRFLOW_MISSING_DATA``: ``fail`` (default: the check fails, retries, then fails
  the run) or ``skip`` (the run skips retraining and succeeds; the service keeps its versions).
* ``NEWSLAKE_AIRFLOW_STAGE_COMMAND``: local mode's command before ``--stage ...`` (default:
  the main venv's ``python -m spark_jobs.submit spark_jobs/nightly.py --``).
* ``NEWSLAKE_AIRFLOW_ON_FAILURE``: ``module:function`` called with the task context when a
  task fails (default: one log line, :func:`airflow_dags.callbacks.log_failure`).
* ``NEWSLAKE_EMR_*``: the EMR Serverless application, role and S3 locations (see below).

Nothing here imports Airflow, so tests and scripts read the same values the DAG does.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

REPO_ROOT = Path(__file__).resolve().parent.parent
NIGHTLY_ENTRY_POINT = "spark_jobs/nightly.py"

SparkMode = Literal["local", "emr"]
MissingData = Literal["fail", "skip"]


class ConfigError(ValueError):
    """A setting has a value the DAG cannot use; the message says which and what to set."""


@dataclass(frozen=True)
class EmrConfig:
    """Where the EMR Serverless job runs and finds its code.

    ``code_uri`` holds what ``make`` would ship: ``spark_jobs/nightly.py`` (the entry point)
    and ``newslake.zip`` (the packages, on ``--py-files``); ``python_env_uri`` is an optional
    packed virtualenv (``venv-pack``) with the Python dependencies, unpacked as
    ``environment``. Each stage writes its JSON result under ``result_uri``.
    """

    application_id: str = ""
    execution_role_arn: str = ""
    code_uri: str = ""
    result_uri: str = ""
    log_uri: str = ""
    python_env_uri: str = ""
    aws_conn_id: str | None = None  # None: boto3's default credential chain on the worker
    spark_conf: Mapping[str, str] = field(default_factory=dict)  # extra --conf pairs

    @property
    def entry_point(self) -> str:
        return f"{self.code_uri.rstrip('/')}/{NIGHTLY_ENTRY_POINT}"

    @property
    def py_files(self) -> str:
        return f"{self.code_uri.rstrip('/')}/newslake.zip"

    def missing(self) -> list[str]:
        """The NEWSLAKE_EMR_* variables EMR mode needs and that are not set."""
        needed = {
            "NEWSLAKE_EMR_APPLICATION_ID": self.application_id,
            "NEWSLAKE_EMR_EXECUTION_ROLE_ARN": self.execution_role_arn,
            "NEWSLAKE_EMR_CODE_URI": self.code_uri,
            "NEWSLAKE_EMR_RESULT_URI": self.result_uri,
        }
        return [name for name, value in needed.items() if not value]


@dataclass(frozen=True)
class DagConfig:
    mode: SparkMode = "local"
    schedule: str | None = "30 3 * * *"
    retries: int = 2
    retry_delay_s: float = 300.0
    max_retry_delay_s: float = 3600.0
    missing_data: MissingData = "fail"
    stage_timeout_s: float = 3 * 3600.0
    stage_command: tuple[str, ...] = ()
    on_failure: str = "airflow_dags.callbacks:log_failure"
    emr: EmrConfig = field(default_factory=EmrConfig)

    def local_command(self) -> tuple[str, ...]:
        """The command that runs one stage locally, before ``--stage ...``."""
        if self.stage_command:
            return self.stage_command
        python = REPO_ROOT / ".venv" / "bin" / "python"
        return (str(python), "-m", "spark_jobs.submit", NIGHTLY_ENTRY_POINT, "--")


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name, default).strip().lower() or default
    if value not in allowed:
        raise ConfigError(f"{name}={value!r}: use one of {', '.join(allowed)}")
    return value


def _number(env: Mapping[str, str], name: str, default: float, minimum: float = 0) -> float:
    raw = env.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a number") from None
    if value < minimum:
        raise ConfigError(f"{name}={raw!r}: expected at least {minimum:g}")
    return value


def _command(raw: str) -> tuple[str, ...]:
    raw = raw.strip()
    if not raw:
        return ()
    if raw.startswith("["):
        return tuple(str(part) for part in json.loads(raw))
    return tuple(shlex.split(raw))


def _conf_pairs(env: Mapping[str, str], name: str) -> dict[str, str]:
    raw = env.get(name, "").strip()
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise ConfigError(f"{name}: expected a JSON object of Spark settings") from None
    if not isinstance(value, dict):
        raise ConfigError(f"{name}: expected a JSON object of Spark settings")
    return {str(k): str(v) for k, v in value.items()}


def from_env(env: Mapping[str, str] | None = None) -> DagConfig:
    """The DAG's configuration from ``env`` (default: the process environment).

    Raises:
        ConfigError: a value is unusable, or EMR mode lacks its application or locations.
    """
    env = os.environ if env is None else env
    schedule = env.get("NEWSLAKE_AIRFLOW_SCHEDULE", DagConfig.schedule or "").strip()
    emr = EmrConfig(
        application_id=env.get("NEWSLAKE_EMR_APPLICATION_ID", ""),
        execution_role_arn=env.get("NEWSLAKE_EMR_EXECUTION_ROLE_ARN", ""),
        code_uri=env.get("NEWSLAKE_EMR_CODE_URI", ""),
        result_uri=env.get("NEWSLAKE_EMR_RESULT_URI", "").rstrip("/"),
        log_uri=env.get("NEWSLAKE_EMR_LOG_URI", ""),
        python_env_uri=env.get("NEWSLAKE_EMR_PYTHON_ENV_URI", ""),
        aws_conn_id=env.get("NEWSLAKE_EMR_AWS_CONN_ID") or None,
        spark_conf=_conf_pairs(env, "NEWSLAKE_EMR_SPARK_CONF"),
    )
    config = DagConfig(
        mode=_choice(env, "NEWSLAKE_SPARK_MODE", "local", ("local", "emr")),  # type: ignore[arg-type]
        schedule=None if schedule.lower() in {"", "none"} else schedule,
        retries=int(_number(env, "NEWSLAKE_AIRFLOW_RETRIES", DagConfig.retries)),
        retry_delay_s=_number(env, "NEWSLAKE_AIRFLOW_RETRY_DELAY_S", DagConfig.retry_delay_s),
        max_retry_delay_s=_number(
            env, "NEWSLAKE_AIRFLOW_MAX_RETRY_DELAY_S", DagConfig.max_retry_delay_s
        ),
        missing_data=_choice(  # type: ignore[arg-type]
            env, "NEWSLAKE_AIRFLOW_MISSING_DATA", "fail", ("fail", "skip")
        ),
        stage_timeout_s=_number(
            env, "NEWSLAKE_AIRFLOW_STAGE_TIMEOUT_S", DagConfig.stage_timeout_s, minimum=1
        ),
        stage_command=_command(env.get("NEWSLAKE_AIRFLOW_STAGE_COMMAND", "")),
        on_failure=env.get("NEWSLAKE_AIRFLOW_ON_FAILURE", "").strip() or DagConfig.on_failure,
        emr=emr,
    )
    if config.mode == "emr" and (missing := emr.missing()):
        raise ConfigError(f"NEWSLAKE_SPARK_MODE=emr needs {', '.join(missing)}")
    return config
