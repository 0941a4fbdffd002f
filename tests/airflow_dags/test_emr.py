"""EMR jobs run with the Spark settings the local jobs get, less what only the local
platform needs, and with the environment that makes the job use AWS."""

from __future__ import annotations

from airflow_dags import emr
from airflow_dags.config import EmrConfig
from newslake.settings import Settings
from spark_jobs.session import spark_conf


def test_emr_jobs_get_the_same_spark_settings_as_spark_conf_in_the_aws_profile() -> None:
    settings = Settings(profile="aws", spark_shuffle_partitions=64, spark_driver_memory="8g")
    assert emr.job_spark_conf(shuffle_partitions=64, driver_memory="8g") == spark_conf(settings)


def test_extra_spark_settings_win_and_the_job_runs_as_aws() -> None:
    cfg = EmrConfig(code_uri="s3://c/", spark_conf={"spark.sql.shuffle.partitions": "200"})
    env = emr.newslake_env(region="sa-east-1", name_prefix="nl", portals=["g1"], lake_uri=None)
    conf = emr.spark_conf({"spark.sql.shuffle.partitions": "4"}, env, cfg)
    assert conf["spark.sql.shuffle.partitions"] == "200"
    assert conf["spark.emr-serverless.driverEnv.NEWSLAKE_PROFILE"] == "aws"
    assert conf["spark.executorEnv.NEWSLAKE_REGION"] == "sa-east-1"
    assert "spark.emr-serverless.driverEnv.PYSPARK_PYTHON" not in conf  # no packed env given


def test_the_job_driver_names_the_entry_point_and_the_code() -> None:
    cfg = EmrConfig(code_uri="s3://c/code/")
    driver = emr.job_driver(cfg, {"spark.a": "1"}, ["--stage", "maintain"])
    assert driver == {
        "sparkSubmit": {
            "entryPoint": "s3://c/code/spark_jobs/nightly.py",
            "entryPointArguments": ["--stage", "maintain"],
            "sparkSubmitParameters": "--conf spark.a=1 --py-files s3://c/code/newslake.zip",
        }
    }


def test_the_pseudonyms_key_reaches_a_job_by_its_secrets_name_only() -> None:
    env = emr.newslake_env(
        region="sa-east-1",
        name_prefix="nl",
        portals=["g1"],
        lake_uri=None,
        privacy_hash_key_secret="arn:aws:secretsmanager:sa-east-1:1:secret:k",
    )

    assert env["NEWSLAKE_PRIVACY_HASH_KEY_SECRET"] == "arn:aws:secretsmanager:sa-east-1:1:secret:k"
    assert "NEWSLAKE_PRIVACY_HASH_KEY" not in env
