"""Landing zone (GZIP JSON lines) to ``bronze.pageviews``: the raw record plus where and when
it came from. Bronze is the replayable source of truth; silver and gold rebuild from it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType
from pyspark.sql.utils import AnalysisException

from spark_jobs import columns as C
from spark_jobs.validation import require_columns

RAW = "raw"
LANDING_SCHEMA = StructType([StructField("value", StringType())])


def extract_landing(spark: SparkSession, uri: str) -> DataFrame:
    """Every landed line with its object's path; empty (not an error) before anything landed."""
    try:
        df = (
            spark.read.option("recursiveFileLookup", "true")
            .option("pathGlobFilter", "*.json.gz")
            .text(uri)
        )
    except AnalysisException as exc:
        if "PATH_NOT_FOUND" not in str(exc):
            raise
        df = spark.createDataFrame([], LANDING_SCHEMA)
        return df.withColumn(C.SOURCE_OBJECT, F.lit(None).cast("string"))
    return df.withColumn(C.SOURCE_OBJECT, F.col("_metadata.file_path"))


def to_bronze(ingested_at: datetime) -> Callable[[DataFrame], DataFrame]:
    """Raw line -> bronze row; portal and event date are read out only to partition by."""

    def transform(df: DataFrame) -> DataFrame:
        require_columns(df, ["value", C.SOURCE_OBJECT], where="to_bronze")
        client_ts = F.get_json_object("value", "$.client_ts").cast("long")
        return df.select(
            F.col("value").alias(RAW),
            F.get_json_object("value", "$.portal").alias(C.PORTAL),
            F.to_date(F.timestamp_millis(client_ts)).alias(C.EVENT_DATE),
            F.col(C.SOURCE_OBJECT),
            F.lit(ingested_at).cast("timestamp").alias(C.INGESTED_AT),
        )

    return transform


def only_new_objects(landed: DataFrame, bronze: DataFrame | None) -> DataFrame:
    """Lines of objects bronze does not hold yet: a landed object is ingested exactly once."""
    if bronze is None:
        return landed
    seen = bronze.select(C.SOURCE_OBJECT).distinct()
    return landed.join(seen, on=C.SOURCE_OBJECT, how="left_anti")
