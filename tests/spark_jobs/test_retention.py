"""The retention limits the maintenance stage enforces: Delta retention properties on every
table, bronze rows past their days, landing objects past theirs."""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from delta.tables import DeltaTable

from newslake import aws
from newslake.settings import Settings
from spark_jobs import retention

NOW = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)


def test_landing_objects_older_than_the_limit_are_deleted(local_platform: Settings) -> None:
    s3 = aws.client("s3", local_platform)
    bucket, prefix, other = local_platform.landing_bucket, f"t-{uuid.uuid4().hex[:8]}", "t-keep"
    for key in (f"{prefix}/2027/01/a.gz", f"{prefix}/2027/01/b.gz", f"{other}/{prefix}.gz"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"line\n")
    written = datetime.now(UTC)

    kept = retention.expire_landing(s3, bucket, [prefix], older_than=written - timedelta(days=1))
    expired = retention.expire_landing(s3, bucket, [prefix], older_than=written + timedelta(days=1))

    assert (kept, expired) == (0, 2)
    assert s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/")["KeyCount"] == 0
    assert s3.list_objects_v2(Bucket=bucket, Prefix=f"{other}/{prefix}")["KeyCount"] == 1


@pytest.mark.slow
def test_bronze_rows_past_the_limit_go_and_every_table_gets_its_retention(
    spark, local_platform: Settings, tmp_path
) -> None:
    settings = local_platform.model_copy(
        update={"bronze_retention_days": 30, "delta_log_retention_days": 9}
    )
    bronze = f"{tmp_path}/lake/bronze/pageviews"
    rows = [("old", NOW - timedelta(days=31)), ("edge", NOW - timedelta(days=29)), ("new", NOW)]
    spark.createDataFrame(rows, "raw string, ingested_at timestamp").write.format("delta").save(
        bronze
    )
    tables = {"bronze.pageviews": bronze, "silver.pageviews": f"{tmp_path}/lake/none"}

    first = retention.apply(spark, settings, tables, s3=None, now=NOW)
    again = retention.apply(spark, settings, tables, s3=None, now=NOW)

    assert first == {
        "properties_set": ["bronze.pageviews"],
        "bronze_rows_expired": 1,
        "checkpointed": ["bronze.pageviews"],
    }
    assert again == {
        "properties_set": [],
        "bronze_rows_expired": 0,
        "checkpointed": ["bronze.pageviews"],
    }
    left = spark.read.format("delta").load(bronze).orderBy("raw").collect()
    assert [r.raw for r in left] == ["edge", "new"]
    props = DeltaTable.forPath(spark, bronze).detail().first()["properties"]
    assert props["delta.deletedFileRetentionDuration"] == "interval 168 hours"
    assert props["delta.logRetentionDuration"] == "interval 9 days"


@pytest.mark.slow
def test_a_checkpoint_deletes_the_commits_past_the_log_retention(spark, tmp_path) -> None:
    path = f"{tmp_path}/t"
    spark.createDataFrame([("a",)], "v string").write.format("delta").save(path)  # version 0
    for value in ("b", "c"):  # versions 1 and 2
        spark.createDataFrame([(value,)], "v string").write.format("delta").mode("append").save(
            path
        )
    spark.sql(
        f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ("
        "'delta.logRetentionDuration' = 'interval 0 seconds', "
        "'delta.deletedFileRetentionDuration' = 'interval 0 seconds', "  # none above the log's
        "'delta.enableExpiredLogCleanup' = 'true')"
    )  # version 3
    log = tmp_path / "t" / "_delta_log"
    # Delta dates a commit by its file's modification time, its cut-off rounded down to
    # midnight: the commits are made two days old.
    two_days_ago = time.time() - 2 * 86400
    for commit in log.glob("*.json"):
        os.utime(commit, (two_days_ago, two_days_ago))

    retention.checkpoint(spark, path)

    assert sorted(f.name for f in log.glob("*.json")) == ["00000000000000000003.json"]
    assert spark.read.format("delta").load(path).count() == 3
