from __future__ import annotations

from datetime import UTC, date, datetime

from chispa import assert_df_equality
from pyspark.sql.types import DateType, StringType, StructField, StructType, TimestampType

from spark_jobs.bronze import only_new_objects, to_bronze

INGESTED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

BRONZE_SCHEMA = StructType(
    [
        StructField("raw", StringType()),
        StructField("portal", StringType()),
        StructField("event_date", DateType()),
        StructField("source_object", StringType()),
        StructField("ingested_at", TimestampType(), False),
    ]
)


def test_to_bronze_keeps_the_raw_line_and_reads_out_partition_columns(spark):
    good = '{"portal":"g1","client_ts":1767225600000,"event_id":"e1"}'  # 2026-01-01T00:00Z
    landed = spark.createDataFrame(
        [(good, "s3a://b/o1.json.gz"), ("not json", "s3a://b/o1.json.gz")],
        "value string, source_object string",
    )
    actual = landed.transform(to_bronze(INGESTED))
    expected = spark.createDataFrame(
        [
            (good, "g1", date(2026, 1, 1), "s3a://b/o1.json.gz", datetime(2026, 1, 2, 3, 4, 5)),
            ("not json", None, None, "s3a://b/o1.json.gz", datetime(2026, 1, 2, 3, 4, 5)),
        ],
        BRONZE_SCHEMA,
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_only_new_objects_skips_objects_bronze_already_holds(spark):
    landed = spark.createDataFrame(
        [("a1", "obj-a"), ("a2", "obj-a"), ("b1", "obj-b")], "value string, source_object string"
    )
    bronze = spark.createDataFrame([("a1", "obj-a")], "raw string, source_object string")
    actual = only_new_objects(landed, bronze).select("value", "source_object")
    expected = spark.createDataFrame([("b1", "obj-b")], "value string, source_object string")
    assert_df_equality(actual, expected, ignore_row_order=True)


def test_only_new_objects_takes_everything_before_bronze_exists(spark):
    landed = spark.createDataFrame([("a1", "obj-a")], "value string, source_object string")
    assert only_new_objects(landed, None).count() == 1
