"""What a Delta table's history still holds of a reader, and until when, in both profiles:
the AWS lake bucket keeps a deleted file as a noncurrent version for a while longer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from delta.tables import DeltaTable
from pyspark.sql import functions as F

from newslake.settings import Settings
from spark_jobs.reader_rows import Reader
from spark_jobs.reader_scan import history

pytestmark = pytest.mark.slow


def test_history_dates_count_the_lake_bucket_versions_in_aws(spark, tmp_path) -> None:
    path = f"{tmp_path}/lake/gold/t"
    rows = [("g1", "ana", 1), ("g1", "bia", 2)]
    spark.createDataFrame(rows, "portal string, user_id string, n int").write.format("delta").save(
        path
    )
    DeltaTable.forPath(spark, path).delete(F.col("user_id") == "ana")
    now = datetime.now(UTC)
    ana = Reader("g1", "ana")

    dates = {
        profile: history(
            spark,
            Settings(profile=profile, lake_uri=f"file://{tmp_path}/lake", portals=("g1",)),
            [ana],
            now,
        )
        for profile in ("local", "aws")
    }

    today = now.date()
    # Delta's default log retention (30 days, no property set) and a night for the
    # maintenance; in AWS 7 days of noncurrent versions and S3's rounding up to a day
    assert dates["local"] == ({ana: {"delta/gold.t": 1}}, {ana: today + timedelta(days=31)})
    assert dates["aws"] == ({ana: {"delta/gold.t": 1}}, {ana: today + timedelta(days=39)})
