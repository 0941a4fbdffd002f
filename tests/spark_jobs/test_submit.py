"""``spark_jobs.submit``: a job under spark-submit gets the project's settings from the start."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from newslake.settings import Settings
from spark_jobs import submit

pytestmark = pytest.mark.slow

JOB = """
from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
print("rows", spark.range(3).count(), spark.conf.get("spark.sql.session.timeZone"))
"""


def test_a_submitted_job_runs_quietly_with_the_projects_settings(
    local_platform: Settings, tmp_path: Path
) -> None:
    job = tmp_path / "job.py"
    job.write_text(JOB)
    done = subprocess.run(
        submit.submit_command(local_platform, str(job), []),
        env=submit.submit_env(local_platform),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "rows 3 UTC" in done.stdout
    # Only what Spark logs before it reads its settings; about 80 INFO lines without them.
    info = [line for line in done.stderr.splitlines() if " INFO " in line]
    assert len(info) <= 5, "\n".join(info[:20])
