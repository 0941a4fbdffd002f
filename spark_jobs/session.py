"""The one SparkSession factory: every job and the tests build their session here.

Jobs call :func:`get_spark` in ``main()`` only; library code takes ``spark`` as an argument.
Under ``spark-submit`` the JVM already has its master and jars from the command line
(:mod:`spark_jobs.submit` builds it from the same :func:`spark_conf`), so only
session-level settings are applied then.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyspark.sql import SparkSession

from newslake.errors import SetupError
from newslake.settings import Settings
from newslake.sparkconf import base_spark_conf
from spark_jobs import jars

LOOPBACK = "127.0.0.1"


def spark_conf(settings: Settings, *, local_dir: Path | None = None) -> dict[str, str]:
    """Spark configuration from settings: Delta, s3a to the local platform, small shuffles."""
    conf = base_spark_conf(
        shuffle_partitions=settings.spark_shuffle_partitions,
        driver_memory=settings.spark_driver_memory,
    )
    if settings.profile == "local":
        conf |= {
            "spark.driver.host": LOOPBACK,
            "spark.driver.bindAddress": LOOPBACK,
            "spark.ui.enabled": "false",
            "spark.hadoop.fs.s3a.endpoint": str(settings.endpoint_url),
            "spark.hadoop.fs.s3a.endpoint.region": settings.region,
            "spark.hadoop.fs.s3a.path.style.access": "true",
            "spark.hadoop.fs.s3a.connection.ssl.enabled": "false",
            "spark.hadoop.fs.s3a.access.key": "testing",
            "spark.hadoop.fs.s3a.secret.key": "testing",
            "spark.hadoop.fs.s3a.aws.credentials.provider": (
                "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
            ),
            # moto answers quickly or not at all: fail fast instead of minutes of retries.
            "spark.hadoop.fs.s3a.attempts.maximum": "3",
            "spark.hadoop.fs.s3a.retry.limit": "3",
            # hadoop-aws 3.5's default "analytics" input stream keeps an entry for every
            # object it ever read (HADOOP-20058), so the long-running streaming job's heap
            # grows with every landed object. The classic stream keeps none.
            "spark.hadoop.fs.s3a.input.stream.type": "classic",
        }
    if local_dir is not None:
        conf["spark.local.dir"] = str(local_dir)
    return conf


def _under_spark_submit() -> bool:
    return "PYSPARK_GATEWAY_PORT" in os.environ


def get_spark(
    settings: Settings,
    *,
    app_name: str = "newslake",
    local_dir: Path | None = None,
    extra_conf: dict[str, str] | None = None,
) -> SparkSession:
    """Build (or return the running) SparkSession configured for newslake.

    Raises:
        SetupError: the jar cache is missing (run ``make setup``).
    """
    builder = SparkSession.builder.appName(app_name)
    if not _under_spark_submit():
        # Workers must run this very interpreter, and the driver stays on loopback.
        os.environ["PYSPARK_PYTHON"] = sys.executable
        os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
        if settings.profile == "local":
            os.environ["SPARK_LOCAL_IP"] = LOOPBACK
        cached = jars.cached_jars(settings)
        if cached is None:
            raise SetupError("Spark jars are not resolved: run `make setup` first")
        builder = builder.master(settings.spark_master).config("spark.jars", ",".join(cached))
    for key, value in (spark_conf(settings, local_dir=local_dir) | (extra_conf or {})).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
