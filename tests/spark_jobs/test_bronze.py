from __future__ import annotations

import gzip
import zlib
from datetime import date

from chispa import assert_df_equality

from spark_jobs.bronze import Decoded, decode_object, to_bronze, to_lines
from spark_jobs.silver import parse_lines

GOOD = '{"portal":"g1","client_ts":1767225600000,"event_id":"e1"}'  # 2026-01-01T00:00Z


def test_decode_object_inflates_a_whole_object_as_text():
    assert decode_object(gzip.compress(b"a\n\nb\n")) == Decoded("a\n\nb\n", None, None)


def test_a_truncated_object_keeps_its_lines_and_says_so():
    whole = gzip.compress(("x" * 100 + "\n").encode() * 200)
    text, tail, error = decode_object(whole[: len(whole) // 2])
    lines = text.splitlines()
    assert error == f"truncated gzip object (after {len(lines)} lines)"
    assert 0 < len(tail) < 100 and set(tail) == {"x"}  # the cut-off line, kept for quarantine
    assert len(lines) > 0 and all(line == "x" * 100 for line in lines)


def test_an_object_that_is_not_gzip_is_one_error():
    assert decode_object(b"plain text") == Decoded(
        "",
        None,
        "corrupt gzip object: Error -3 while decompressing data: incorrect header check "
        "(after 0 lines)",
    )


def test_lines_then_bronze_keep_raw_lines_and_read_out_partition_columns(spark):
    objects = spark.createDataFrame(
        [
            ("s3a://b/o1.json.gz", gzip.compress(f"{GOOD}\n\n  \nnot json\n".encode())),
            ("s3a://b/o2.json.gz", b"garbage"),
            ("s3a://b/o3.json.gz", _unfinished_gzip(f"{GOOD}\ncut-off".encode())),
            ("s3a://b/o4.json.gz", None),
        ],
        "path string, content binary",
    )
    actual = objects.transform(to_lines).transform(parse_lines).transform(to_bronze)
    expected = spark.createDataFrame(
        [
            (GOOD, None, "g1", date(2026, 1, 1), "s3a://b/o1.json.gz"),
            ("not json", None, None, None, "s3a://b/o1.json.gz"),
            (
                None,
                "corrupt gzip object: Error -3 while decompressing data: incorrect header "
                "check (after 0 lines)",
                None,
                None,
                "s3a://b/o2.json.gz",
            ),
            (GOOD, None, "g1", date(2026, 1, 1), "s3a://b/o3.json.gz"),
            ("cut-off", "truncated gzip object (after 1 lines)", None, None, "s3a://b/o3.json.gz"),
            (None, "empty object", None, None, "s3a://b/o4.json.gz"),
        ],
        "raw string, read_error string, portal string, event_date date, source_object string",
    )
    assert_df_equality(
        actual.drop("ingested_at"), expected, ignore_row_order=True, ignore_nullable=True
    )
    assert actual.where("ingested_at IS NULL").count() == 0


def _unfinished_gzip(data: bytes) -> bytes:
    """A GZIP stream that holds all of ``data`` but stops before its last block and
    trailer, as an upload cut short would."""
    deflater = zlib.compressobj(wbits=zlib.MAX_WBITS | 16)
    return deflater.compress(data) + deflater.flush(zlib.Z_SYNC_FLUSH)
