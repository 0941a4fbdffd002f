"""Which Delta tables hold readers' rows, and how a reader's rows are told apart in each.

Erasure and its check must reach every table that names a reader, including tables added
after this module was written, so tables are found by listing the lake (every directory
with a ``_delta_log`` two levels under the root, plus the tables :mod:`spark_jobs.tables`
names) and classified by their schema, never by a list kept here:

* ``user_id`` and ``portal`` columns: typed rows (silver events, visits, impressions, gold
  interactions and published lists, any later table of that shape);
* ``kind``, ``entity_id`` and ``portal``: the ALS id map, whose ``user`` rows name readers;
* a ``raw`` column: lines as they came (bronze, the quarantines), the reader named inside
  the JSON line, or by its text when the line is not JSON.

A table with any other column that names readers (:data:`READER_COLUMNS`, nested fields
too) cannot be filtered safely: :func:`reader_tables` raises rather than skip it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, DataType, MapType, StructType

from newslake.errors import NewslakeError
from newslake.settings import Settings
from spark_jobs import columns as C
from spark_jobs.bronze import RAW
from spark_jobs.id_map import USER
from spark_jobs.tables import lake_tables

TYPED, ID_MAP, RAW_LINES = "typed", "id_map", "raw_lines"
# Column names that hold a reader's id wherever they appear.
READER_COLUMNS = frozenset({C.USER_ID, "reader_id", "user", "reader", "subject_user_id"})
SEPARATOR = "\x1f"  # between portal and id in a reader's key: neither may hold it

# A JSON string field, for lines that are not JSON (a cut-off line still names its reader).
_FIELD = r'"{name}"\s*:\s*"((?:[^"\\]|\\.)*)"'


class UnfilterableTableError(NewslakeError):
    """A table holds readers' ids in a shape erasure cannot filter."""


@dataclass(frozen=True)
class Reader:
    """A reader as the lake names them: the portal and their id there."""

    portal: str
    user_id: str

    @property
    def key(self) -> str:
        return f"{self.portal}{SEPARATOR}{self.user_id}"


@dataclass(frozen=True)
class ReaderTable:
    """A Delta table that holds readers' rows, and the shape its rows name them in."""

    name: str
    path: str
    shape: str


def _names(data_type: DataType, prefix: str = "") -> Iterable[str]:
    """Every field name in a type, nested ones included (``a.b``)."""
    if isinstance(data_type, StructType):
        for f in data_type.fields:
            yield f"{prefix}{f.name}"
            yield from _names(f.dataType, f"{prefix}{f.name}.")
    elif isinstance(data_type, ArrayType):
        yield from _names(data_type.elementType, prefix)
    elif isinstance(data_type, MapType):
        yield from _names(data_type.valueType, prefix)


def shape_of(name: str, schema: StructType) -> str | None:
    """How a table's rows name readers: :data:`TYPED`, :data:`ID_MAP`, :data:`RAW_LINES`,
    or None when they name none.

    Raises:
        UnfilterableTableError: a column names readers in a shape none of those filters.
    """
    top = set(schema.fieldNames())
    if {C.USER_ID, C.PORTAL} <= top:
        shape: str | None = TYPED
    elif {C.KIND, C.ENTITY_ID, C.PORTAL} <= top:
        shape = ID_MAP
    elif RAW in top:
        shape = RAW_LINES
    else:
        shape = None
    handled = {C.USER_ID} if shape == TYPED else set()
    stray = sorted(
        n for n in _names(schema) if n.rsplit(".", 1)[-1] in READER_COLUMNS and n not in handled
    )
    if stray:
        raise UnfilterableTableError(
            f"table {name} holds reader ids in {', '.join(stray)}, which erasure cannot "
            "filter: give it top-level user_id and portal columns, or teach "
            "spark_jobs/reader_rows.py its shape"
        )
    return shape


def _listed(spark: SparkSession, root: str) -> dict[str, str]:
    """``layer.name`` -> path of every Delta table two levels under ``root``."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    pattern = jvm.org.apache.hadoop.fs.Path(f"{root}/*/*/_delta_log")
    fs = pattern.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    found: dict[str, str] = {}
    for status in fs.globStatus(pattern) or []:
        table = status.getPath().getParent()
        layer = table.getParent().getName()
        if not layer.startswith("_"):  # _checkpoints and the like are no tables
            found[f"{layer}.{table.getName()}"] = f"{root}/{layer}/{table.getName()}"
    return found


def reader_tables(spark: SparkSession, settings: Settings) -> list[ReaderTable]:
    """Every existing Delta table of the lake that holds readers' rows, by name.

    Raises:
        UnfilterableTableError: a table names readers in a shape that cannot be filtered.
    """
    from delta.tables import DeltaTable

    paths = {**_listed(spark, settings.lake_root), **lake_tables(settings)}
    found = []
    for name, path in sorted(paths.items()):
        if not DeltaTable.isDeltaTable(spark, path):
            continue
        shape = shape_of(name, spark.read.format("delta").load(path).schema)
        if shape is not None:
            found.append(ReaderTable(name, path, shape))
    return found


def _json_field(field: str) -> Column:
    """A field of the raw line: from its JSON (a value of another type as its JSON text),
    or, when the line is not JSON, a string field found in its text."""
    from_text = F.nullif(F.regexp_extract(F.col(RAW), _FIELD.format(name=field), 1), F.lit(""))
    return F.when(F.get_json_object(F.col(RAW), "$").isNull(), from_text).otherwise(
        F.get_json_object(F.col(RAW), f"$.{field}")
    )


def row_key(shape: str) -> tuple[Column, Column]:
    """(the reader's id, their key ``portal<SEP>id``) of each row of a table of ``shape``;
    a raw line with no portal has the key null (it matches by id alone)."""
    if shape == TYPED:
        user, portal = F.col(C.USER_ID), F.col(C.PORTAL)
    elif shape == ID_MAP:
        user = F.when(F.col(C.KIND) == USER, F.col(C.ENTITY_ID))
        portal = F.col(C.PORTAL)
    elif shape == RAW_LINES:
        user, portal = _json_field(C.USER_ID), _json_field(C.PORTAL)
    else:
        raise ValueError(f"unknown table shape {shape!r}")
    return user, F.concat_ws(SEPARATOR, portal, user)


def of_readers(shape: str, readers: Iterable[Reader]) -> Column:
    """True on the rows of ``readers`` in a table of ``shape``."""
    readers = list(readers)
    user, key = row_key(shape)
    ids = sorted({r.user_id for r in readers})
    keys = sorted({r.key for r in readers})
    in_key = key.isin(keys)
    if shape == RAW_LINES:
        in_key = in_key | _json_field(C.PORTAL).isNull()
    return F.coalesce(user.isin(ids) & in_key, F.lit(False))


def count_by_reader(df: DataFrame, shape: str, readers: Iterable[Reader]) -> dict[Reader, int]:
    """How many of ``df``'s rows belong to each of ``readers`` (one pass)."""
    totals = dict.fromkeys(readers, 0)
    for (reader, _), n in count_by_reader_and(df, shape, totals, None).items():
        totals[reader] += n
    return totals


def count_by_reader_and(
    df: DataFrame, shape: str, readers: Iterable[Reader], by: str | None
) -> dict[tuple[Reader, str | None], int]:
    """Rows of each reader of ``readers`` per value of column ``by`` (one pass)."""
    readers = list(readers)
    user, key = row_key(shape)
    group = [user.alias("u"), key.alias("k")] + ([F.col(by).alias("by")] if by else [])
    rows = df.where(of_readers(shape, readers)).groupBy(*group).count().collect()
    by_id: dict[str, list[Reader]] = {}
    for reader in readers:
        by_id.setdefault(reader.user_id, []).append(reader)
    counts: dict[tuple[Reader, str | None], int] = {}
    for r in rows:
        for reader in by_id.get(r["u"], []):
            # a raw line without a portal (its key is the id alone) counts for each portal
            if r["k"] in (reader.key, r["u"]):
                at = (reader, r["by"] if by else None)
                counts[at] = counts.get(at, 0) + int(r["count"])
    return counts


def _text(value: object) -> str | None:
    """A JSON value as Spark's ``get_json_object`` gives it: a string as is, anything else
    as its JSON text, null as None."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def line_reader(line: str) -> tuple[str | None, str | None]:
    """(user_id, portal) a raw line names, the way :func:`row_key` reads it in Spark."""
    try:
        parsed = json.loads(line)
    except ValueError:

        def field(name: str) -> str | None:
            m = re.search(_FIELD.format(name=name), line)
            return m.group(1) if m and m.group(1) else None

        return field(C.USER_ID), field(C.PORTAL)
    if not isinstance(parsed, dict):
        return None, None
    return _text(parsed.get(C.USER_ID)), _text(parsed.get(C.PORTAL))


def line_of(line: str, readers: Iterable[Reader]) -> Reader | None:
    """The reader of ``readers`` a raw line belongs to, or None."""
    user, portal = line_reader(line)
    if user is None:
        return None
    for reader in readers:
        if reader.user_id == user and portal in (None, reader.portal):
            return reader
    return None
