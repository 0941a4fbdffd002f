"""Landing zone (GZIP JSON lines written by Firehose) to ``bronze/pageviews``: the raw line
plus where and when it came from. Bronze is the replayable source of truth: silver and gold
can be rebuilt from it. Portal and event date are read out of the line only to partition by.

Landed objects are read whole and decompressed here rather than by Spark's text reader, so
that a corrupt or truncated object is not lost silently (nor stops the stream): the lines
before the damage go to bronze as usual, and one more row with no line and a
``read_error`` says what was wrong; silver quarantines it with that reason.
"""

from __future__ import annotations

import zlib

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, StringType, StructField, StructType

from newslake.settings import Settings
from spark_jobs import columns as C
from spark_jobs.validation import require_columns

RAW = "raw"
READ_ERROR = "read_error"

BINARY_FILE_SCHEMA = "path string, modificationTime timestamp, length long, content binary"
_LINE = StructType([StructField(RAW, StringType()), StructField(READ_ERROR, StringType())])


def landing_stream(spark: SparkSession, settings: Settings) -> DataFrame:
    """The landing zone's objects as they arrive: ``path`` and ``content`` (bytes)."""
    return (
        spark.readStream.format("binaryFile")
        .schema(BINARY_FILE_SCHEMA)
        .option("recursiveFileLookup", "true")
        .option("pathGlobFilter", "*.json.gz")
        .option("maxFilesPerTrigger", settings.stream_max_files_per_trigger)
        .load(settings.landing_uri)
        .select("path", "content")
    )


def decode_object(content: bytes | None) -> list[tuple[str | None, str | None]]:
    """An object's lines as ``(line, None)``; if it was damaged, then one ``(rest, error)``
    where ``rest`` is a cut-off last line (or None)."""
    if content is None:
        return [(None, "empty object")]
    out: list[tuple[str | None, str | None]] = []
    error = None
    inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)  # gzip framing
    try:
        data = inflater.decompress(content)
        if not inflater.eof:
            error = "truncated gzip object"
    except zlib.error as exc:
        data, error = b"", f"corrupt gzip object: {exc}"
    text = data.decode("utf-8", errors="replace")
    partial = None
    if error and text and not text.endswith("\n"):
        text, _, partial = text.rpartition("\n")  # the cut-off last line is no event
    out.extend((line, None) for line in text.splitlines() if line.strip())
    if error:
        out.append((partial, f"{error} (after {len(out)} lines)"))
    return out


_decode = F.udf(decode_object, ArrayType(_LINE), useArrow=True)


def to_bronze(objects: DataFrame) -> DataFrame:
    """Landed objects as bronze rows: one per line, stamped with the time it was ingested."""
    require_columns(objects, ["path", "content"], where="to_bronze")
    lines = objects.select(
        F.col("path").alias(C.SOURCE_OBJECT), F.explode(_decode("content")).alias("l")
    )
    client_ts = F.get_json_object(f"l.{RAW}", "$.client_ts").cast("long")
    return lines.select(
        F.col(f"l.{RAW}").alias(RAW),
        F.col(f"l.{READ_ERROR}").alias(READ_ERROR),
        F.get_json_object(f"l.{RAW}", "$.portal").alias(C.PORTAL),
        F.to_date(F.timestamp_millis(client_ts)).alias(C.EVENT_DATE),
        F.col(C.SOURCE_OBJECT),
        F.current_timestamp().alias(C.INGESTED_AT),
    )
