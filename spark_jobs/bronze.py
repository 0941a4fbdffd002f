"""Landing zone (GZIP JSON lines written by Firehose) to ``bronze/pageviews``: the raw line
plus where and when it came from. Bronze is the replayable source of truth: silver and gold
can be rebuilt from it. Portal and event date are read out of the line only to partition by.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from newslake.settings import Settings
from spark_jobs import columns as C
from spark_jobs.validation import require_columns

RAW = "raw"


def landing_stream(spark: SparkSession, settings: Settings) -> DataFrame:
    """The landing zone as a stream of lines (``value``) with the object each came from."""
    return (
        spark.readStream.format("text")
        .option("recursiveFileLookup", "true")
        .option("pathGlobFilter", "*.json.gz")
        .option("maxFilesPerTrigger", settings.stream_max_files_per_trigger)
        .load(settings.landing_uri)
        .withColumn(C.SOURCE_OBJECT, F.col("_metadata.file_path"))
    )


def to_bronze(df: DataFrame) -> DataFrame:
    """A landed line as a bronze row, stamped with the time it was ingested."""
    require_columns(df, ["value", C.SOURCE_OBJECT], where="to_bronze")
    client_ts = F.get_json_object("value", "$.client_ts").cast("long")
    return df.select(
        F.col("value").alias(RAW),
        F.get_json_object("value", "$.portal").alias(C.PORTAL),
        F.to_date(F.timestamp_millis(client_ts)).alias(C.EVENT_DATE),
        F.col(C.SOURCE_OBJECT),
        F.current_timestamp().alias(C.INGESTED_AT),
    )
