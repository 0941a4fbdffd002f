"""The Spark session's settings that matter beyond speed."""

from __future__ import annotations

import gzip
import subprocess
import uuid
from pathlib import Path

import pytest

from newslake import aws
from spark_jobs.bronze import BINARY_FILE_SCHEMA

pytestmark = pytest.mark.slow


def _live_instances(spark, package: str) -> int:
    """Instances of ``package``'s classes alive in the driver JVM (after a full GC)."""
    jvm = spark.sparkContext._jvm
    jcmd = Path(jvm.java.lang.System.getProperty("java.home")) / "bin" / "jcmd"
    pid = str(jvm.java.lang.ProcessHandle.current().pid())
    histogram = subprocess.run(
        [str(jcmd), pid, "GC.class_histogram"], capture_output=True, text=True, check=True
    ).stdout
    return sum(int(line.split()[1]) for line in histogram.splitlines() if package in line)


def test_reading_landed_objects_through_s3a_keeps_nothing_per_object(spark, local_platform):
    """A streaming job reads new objects for as long as it runs: the s3a stream must not
    keep entries for the objects it read (hadoop-aws 3.5's default analytics stream
    does, HADOOP-20058)."""
    s3 = aws.client("s3", local_platform)
    prefix = f"session-test-{uuid.uuid4()}"
    body = gzip.compress(b'{"event_id": "e"}\n')
    for i in range(40):
        s3.put_object(Bucket=local_platform.landing_bucket, Key=f"{prefix}/o{i}.json.gz", Body=body)
    read = (
        spark.read.format("binaryFile")
        .schema(BINARY_FILE_SCHEMA)
        .load(f"s3a://{local_platform.landing_bucket}/{prefix}")
        .count()
    )
    assert read == 40
    assert _live_instances(spark, "software.amazon.s3.analyticsaccelerator") == 0


def test_a_delta_table_is_written_and_read_through_s3a_on_the_moto_server(spark, local_platform):
    """The lake on the local S3 (NEWSLAKE_LAKE_URI=s3a://<prefix>-lake) stays an option:
    Delta's log and data files go to the moto server's lake bucket and are read back."""
    on_s3 = local_platform.model_copy(
        update={"lake_uri": f"s3a://{local_platform.lake_bucket}/session-test-{uuid.uuid4()}"}
    )
    path = on_s3.table_path("silver", "probe")
    spark.createDataFrame([("a1", 2), ("a2", 1)], "article_id string, views int").write.format(
        "delta"
    ).save(path)
    spark.createDataFrame([("a3", 5)], "article_id string, views int").write.format("delta").mode(
        "append"
    ).save(path)

    rows = spark.read.format("delta").load(path).orderBy("article_id").collect()
    assert [tuple(r) for r in rows] == [("a1", 2), ("a2", 1), ("a3", 5)]
    prefix = path.removeprefix(f"s3a://{local_platform.lake_bucket}/")
    listed = aws.client("s3", local_platform).list_objects_v2(
        Bucket=local_platform.lake_bucket, Prefix=f"{prefix}/_delta_log/"
    )
    commits = [k for o in listed["Contents"] if (k := o["Key"].rsplit("/", 1)[-1]).endswith("json")]
    assert commits == ["00000000000000000000.json", "00000000000000000001.json"]
