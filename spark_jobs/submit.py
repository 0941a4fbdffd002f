"""Run a Spark job's entry point with ``spark-submit`` on the local master.

``python -m spark_jobs.submit spark_jobs/nightly.py -- --version v1`` builds the same
configuration as :func:`spark_jobs.session.spark_conf` plus the cached jars, so a job runs
the same way under ``spark-submit`` as in-process. On EMR the orchestration layer submits
the same entry points with the cluster's own master.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyspark

from newslake.errors import SetupError
from newslake.settings import Settings, get_settings
from spark_jobs import jars
from spark_jobs.session import LOOPBACK, spark_conf

REPO_ROOT = Path(__file__).resolve().parent.parent


def submit_command(settings: Settings, entry_point: str, args: list[str]) -> list[str]:
    cached = jars.cached_jars(settings)
    if cached is None:
        raise SetupError("Spark jars are not resolved: run `make setup` first")
    spark_submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"
    cmd = [str(spark_submit), "--master", settings.spark_master, "--jars", ",".join(cached)]
    conf = spark_conf(settings)
    cmd += ["--driver-memory", conf.pop("spark.driver.memory")]
    for key, value in conf.items():
        cmd += ["--conf", f"{key}={value}"]
    return [*cmd, entry_point, *args]


def submit_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env["PYSPARK_PYTHON"] = sys.executable
    env["PYSPARK_DRIVER_PYTHON"] = sys.executable
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    if settings.profile == "local":
        env["SPARK_LOCAL_IP"] = LOOPBACK
    return env


def run(settings: Settings, entry_point: str, args: list[str]) -> int:
    """Run spark-submit in the foreground; returns its exit code."""
    cmd = submit_command(settings, entry_point, args)
    return subprocess.run(cmd, env=submit_env(settings), check=False).returncode


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        print("usage: python -m spark_jobs.submit ENTRY_POINT.py [-- ARGS...]", file=sys.stderr)
        return 2
    entry, rest = argv[0], argv[1:]
    if rest and rest[0] == "--":
        rest = rest[1:]
    try:
        return run(get_settings(), entry, rest)
    except SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
