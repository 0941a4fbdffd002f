from __future__ import annotations

from datetime import date

from chispa import assert_df_equality

from spark_jobs.bronze import to_bronze


def test_to_bronze_keeps_the_raw_line_and_reads_out_partition_columns(spark):
    good = '{"portal":"g1","client_ts":1767225600000,"event_id":"e1"}'  # 2026-01-01T00:00Z
    landed = spark.createDataFrame(
        [(good, "s3a://b/o1.json.gz"), ("not json", "s3a://b/o1.json.gz")],
        "value string, source_object string",
    )
    actual = landed.transform(to_bronze)
    expected = spark.createDataFrame(
        [
            (good, "g1", date(2026, 1, 1), "s3a://b/o1.json.gz"),
            ("not json", None, None, "s3a://b/o1.json.gz"),
        ],
        "raw string, portal string, event_date date, source_object string",
    )
    assert_df_equality(
        actual.drop("ingested_at"), expected, ignore_row_order=True, ignore_nullable=True
    )
    assert actual.where("ingested_at IS NULL").count() == 0
