from __future__ import annotations

import pytest
from pydantic import ValidationError

from newslake.settings import Settings
from spark_jobs.maintenance import maintain

pytestmark = pytest.mark.slow


def test_optimize_compacts_small_files_and_leaves_the_data(spark, local_platform, tmp_path):
    settings = Settings(**{**local_platform.model_dump(), "lake_uri": f"file://{tmp_path}/lake"})
    path = f"{tmp_path}/lake/silver/pageviews"
    for i in range(3):  # three commits, three small files
        spark.createDataFrame([(f"pv{i}", i)], "pageview_id string, n int").write.format(
            "delta"
        ).mode("append").save(path)
    report = maintain(spark, settings)
    assert report["silver.pageviews"]["files_removed"] == 3
    assert report["silver.pageviews"]["files_added"] == 1
    assert report["bronze.pageviews"] == {"skipped": "no table yet"}
    rows = spark.read.format("delta").load(path).orderBy("n").collect()
    assert [r.pageview_id for r in rows] == ["pv0", "pv1", "pv2"]


def test_vacuum_retention_below_seven_days_is_refused():
    with pytest.raises(ValidationError, match="greater than or equal to 168"):
        Settings(vacuum_retention_hours=24)
