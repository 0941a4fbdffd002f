"""The DAG's settings from the environment: defaults, choices, and EMR's required values."""

from __future__ import annotations

import pytest

from airflow_dags import config


def test_defaults_run_locally_every_night_with_two_retries() -> None:
    cfg = config.from_env({})
    assert (cfg.mode, cfg.schedule, cfg.retries, cfg.missing_data) == (
        "local",
        "30 3 * * *",
        2,
        "fail",
    )
    assert cfg.local_command() == (
        str(config.REPO_ROOT / ".venv" / "bin" / "python"),
        "-m",
        "spark_jobs.submit",
        "spark_jobs/nightly.py",
        "--",
    )


def test_schedule_none_means_manual_runs_only() -> None:
    assert config.from_env({"NEWSLAKE_AIRFLOW_SCHEDULE": "none"}).schedule is None


def test_stage_command_takes_json_or_shell_words() -> None:
    json_form = config.from_env({"NEWSLAKE_AIRFLOW_STAGE_COMMAND": '["py", "fake.py"]'})
    shell_form = config.from_env({"NEWSLAKE_AIRFLOW_STAGE_COMMAND": "py 'fake stage.py'"})
    assert json_form.local_command() == ("py", "fake.py")
    assert shell_form.local_command() == ("py", "fake stage.py")


def test_an_unknown_mode_is_refused_with_the_choices() -> None:
    with pytest.raises(config.ConfigError, match="MODE='yarn': use one of local, emr"):
        config.from_env({"NEWSLAKE_SPARK_MODE": "yarn"})


def test_emr_mode_names_the_settings_it_lacks() -> None:
    with pytest.raises(config.ConfigError, match="NEWSLAKE_EMR_CODE_URI, NEWSLAKE_EMR_RESULT_URI"):
        config.from_env(
            {
                "NEWSLAKE_SPARK_MODE": "emr",
                "NEWSLAKE_EMR_APPLICATION_ID": "app",
                "NEWSLAKE_EMR_EXECUTION_ROLE_ARN": "arn:aws:iam::1:role/r",
            }
        )


def test_a_negative_retry_count_is_refused() -> None:
    with pytest.raises(config.ConfigError, match="NEWSLAKE_AIRFLOW_RETRIES='-1'"):
        config.from_env({"NEWSLAKE_AIRFLOW_RETRIES": "-1"})
