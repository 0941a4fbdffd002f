"""Landing zone (GZIP JSON lines written by Firehose) to ``bronze/pageviews``: the raw line
plus where and when it came from. Bronze is the replayable source of truth: silver and gold
can be rebuilt from it (``landing.rebuild_silver``).

Landed objects are read whole and decompressed here rather than by Spark's text reader, so
that a corrupt or truncated object is not lost silently (nor stops the stream): the lines
before the damage go to bronze as usual, and one more row with no line and a
``read_error`` says what was wrong; silver quarantines it with that reason.

Python only inflates each object (one call per object, not per line); Spark splits the
text into lines, and the portal and event date that bronze is partitioned by come from the
one JSON parse silver makes anyway (``silver.parse_lines``).
"""

from __future__ import annotations

import zlib
from typing import NamedTuple

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from newslake.settings import Settings
from spark_jobs import columns as C
from spark_jobs.validation import require_columns

RAW = "raw"
READ_ERROR = "read_error"
BRONZE_COLUMNS = (RAW, READ_ERROR, C.PORTAL, C.EVENT_DATE, C.SOURCE_OBJECT, C.INGESTED_AT)

BINARY_FILE_SCHEMA = "path string, modificationTime timestamp, length long, content binary"


class Decoded(NamedTuple):
    """One landed object: its whole lines, and if it was damaged, the cut-off last line
    (or None) and what was wrong."""

    text: str | None
    tail: str | None
    error: str | None


_DECODED = StructType([StructField(f, StringType()) for f in Decoded._fields])


def landing_stream(spark: SparkSession, settings: Settings, uri: str | None = None) -> DataFrame:
    """The landing zone's objects as they arrive: ``path`` and ``content`` (bytes); the
    pageviews', or those under ``uri`` (the impressions')."""
    return (
        spark.readStream.format("binaryFile")
        .schema(BINARY_FILE_SCHEMA)
        .option("recursiveFileLookup", "true")
        .option("pathGlobFilter", "*.json.gz")
        .option("maxFilesPerTrigger", settings.stream_max_files_per_trigger)
        .load(uri or settings.landing_uri)
        .select("path", "content")
    )


def decode_object(content: bytes | None) -> Decoded:
    """Inflate one GZIP object. A damaged object keeps the lines before the damage; its
    error says how many (non-blank) lines those were."""
    if content is None:
        return Decoded(None, None, "empty object")
    error = None
    inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)  # gzip framing
    try:
        data = inflater.decompress(content)
        if not inflater.eof:
            error = "truncated gzip object"
    except zlib.error as exc:
        data, error = b"", f"corrupt gzip object: {exc}"
    text = data.decode("utf-8", errors="replace")
    if error is None:
        return Decoded(text, None, None)
    tail = None
    if text and not text.endswith("\n"):
        text, _, tail = text.rpartition("\n")  # the cut-off last line is no event
    lines = sum(1 for line in text.splitlines() if line.strip())
    return Decoded(text, tail, f"{error} (after {lines} lines)")


_decode = F.udf(decode_object, _DECODED, useArrow=True)


def to_lines(objects: DataFrame) -> DataFrame:
    """Landed objects as lines (``raw``), one row per non-blank line plus one row with a
    ``read_error`` per damaged object, stamped with the object and the ingestion time.

    One pass: each object is read and inflated once, and its lines and its damage row come
    out of one ``explode`` (a union of two selects would read and inflate every object
    twice).
    """
    require_columns(objects, ["path", "content"], where="to_lines")
    decoded = objects.select(
        F.col("path").alias(C.SOURCE_OBJECT),
        F.current_timestamp().alias(C.INGESTED_AT),
        _decode("content").alias("d"),
    )
    no_error = F.lit(None).cast("string")
    lines = F.transform(
        F.split("d.text", "\n"), lambda line: F.struct(line.alias(RAW), no_error.alias(READ_ERROR))
    )
    damage = F.when(
        F.col("d.error").isNotNull(),
        F.array(F.struct(F.col("d.tail").alias(RAW), F.col("d.error").alias(READ_ERROR))),
    )
    rows = F.concat(F.coalesce(lines, F.array()), F.coalesce(damage, F.array()))
    return (
        decoded.select(F.explode(rows).alias("l"), C.SOURCE_OBJECT, C.INGESTED_AT)
        .select(f"l.{RAW}", f"l.{READ_ERROR}", C.SOURCE_OBJECT, C.INGESTED_AT)
        .where(F.col(READ_ERROR).isNotNull() | (F.length(F.trim(RAW)) > 0))
    )


def event_date(client_ts_ms: Column) -> Column:
    """The UTC date of a client timestamp in milliseconds: bronze's and silver's partition."""
    return F.to_date(F.timestamp_millis(client_ts_ms))


def to_bronze(parsed: DataFrame) -> DataFrame:
    """Bronze rows from parsed lines (``silver.parse_lines``): the raw line, its read error,
    the portal and event date to partition by (null when the line does not parse), and
    where and when it came from."""
    require_columns(parsed, [RAW, READ_ERROR, C.PORTAL, C.CLIENT_TS], where="to_bronze")
    return parsed.select(
        RAW, READ_ERROR, C.PORTAL, event_date(F.col(C.CLIENT_TS)).alias(C.EVENT_DATE),
        C.SOURCE_OBJECT, C.INGESTED_AT,
    )  # fmt: skip
