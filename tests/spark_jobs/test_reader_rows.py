"""How erasure tells a table's shape and a raw line's reader, without Spark: schemas are
built by hand, lines written out."""

from __future__ import annotations

import json

import pytest
from pyspark.sql.types import ArrayType, StringType, StructField, StructType

from spark_jobs.reader_rows import (
    ID_MAP,
    RAW_LINES,
    TYPED,
    Reader,
    UnfilterableTableError,
    line_of,
    shape_of,
)

ANA = Reader("g1", "ana")


def _schema(*names: str, **nested: StructType) -> StructType:
    fields = [StructField(n, StringType()) for n in names]
    fields += [StructField(n, ArrayType(t)) for n, t in nested.items()]
    return StructType(fields)


@pytest.mark.parametrize(
    ("schema", "shape"),
    [
        (_schema("portal", "user_id", "article_id"), TYPED),
        (_schema("portal", "kind", "entity_id", "idx"), ID_MAP),
        (_schema("raw", "read_error", "source_object"), RAW_LINES),
        (_schema("portal", "day", "impressions", "readers"), None),  # a count, no ids
    ],
)
def test_a_table_is_classified_by_its_columns(schema: StructType, shape: str | None) -> None:
    assert shape_of("gold.x", schema) == shape


@pytest.mark.parametrize(
    ("schema", "column"),
    [
        (_schema("user_id", "article_id"), "user_id"),  # no portal: whose reader?
        (_schema("portal", "reader_id"), "reader_id"),
        (_schema("portal", "user_id", items=_schema("article_id", "user_id")), "items.user_id"),
    ],
)
def test_a_table_naming_readers_otherwise_cannot_be_skipped(
    schema: StructType, column: str
) -> None:
    with pytest.raises(UnfilterableTableError, match=f"table gold.x holds reader ids in {column}"):
        shape_of("gold.x", schema)


def test_a_json_line_belongs_to_its_user_on_its_portal() -> None:
    line = json.dumps({"portal": "g1", "user_id": "ana", "article_id": "a1"})
    assert line_of(line, [ANA]) == ANA
    assert line_of(line.replace('"g1"', '"ge"'), [ANA]) is None
    assert line_of(json.dumps({"portal": "g1", "user_id": "anabel"}), [ANA]) is None
    assert line_of(json.dumps({"portal": "g1", "article_id": "ana"}), [ANA]) is None


def test_a_line_that_is_not_json_still_names_its_reader() -> None:
    assert line_of('{"portal": "g1", "user_id": "ana", "dwell', [ANA]) == ANA
    assert line_of('{"user_id":"ana", "clic', [ANA]) == ANA  # no portal: matched by id
    assert line_of('{"portal": "ge", "user_id": "ana", "x', [ANA]) is None
    assert line_of("{broken json", [ANA]) is None


def test_a_json_line_is_read_from_its_json_only() -> None:
    nested = json.dumps({"portal": "g1", "event": {"user_id": "ana"}})
    assert line_of(nested, [ANA]) is None  # no user_id of its own
    assert line_of(json.dumps({"portal": 1, "user_id": "ana"}), [ANA]) is None
    assert line_of(json.dumps({"portal": "g1", "user_id": 7}), [Reader("g1", "7")]) == Reader(
        "g1", "7"
    )
    assert line_of(json.dumps(["g1", "ana"]), [ANA]) is None
