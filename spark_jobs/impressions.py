"""Impression lines to ``silver/impressions`` rows and quarantine rows: the pure part of
the impressions' landing query (:mod:`spark_jobs.impressions_query`).

A line is the service's record of one answer (``serving/impressions.py``; its fields in
serving/README.md, "Impressions"). It is parsed once as a VARIANT, which keeps JSON's own
types, so a number where a string belongs is a wrong type rather than a string, and an
absent field is told from a null one. A line that is not JSON, lacks a field, has a wrong
type, a position outside 1..100, an unknown route or portal, a malformed recommendation id
or variant name, gets the first such reason; the others become the contract's typed row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from spark_jobs import columns as C
from spark_jobs.bronze import RAW, READ_ERROR, event_date
from spark_jobs.validation import require_columns

# silver/impressions (the shared contract's columns, in its order).
RECOMMENDATION_ID = "recommendation_id"
ROUTE = "route"
EXPERIMENT = "experiment"
VARIANT = "variant"
MODEL_VERSION = "model_version"
SERVED_AT = "served_at"
SERVED_DATE = "served_date"
ITEMS = "items"
SOURCE = "source"
POSITION = "position"
ITEM_TYPE = f"array<struct<{C.ARTICLE_ID}:string, {SOURCE}:string, {POSITION}:int>>"
IMPRESSION_COLUMNS = {
    RECOMMENDATION_ID: "string",
    C.PORTAL: "string",
    ROUTE: "string",
    C.USER_ID: "string",
    C.ARTICLE_ID: "string",
    EXPERIMENT: "string",
    VARIANT: "string",
    MODEL_VERSION: "string",
    SERVED_AT: "timestamp",
    SERVED_DATE: "date",
    ITEMS: ITEM_TYPE,
    C.SILVER_AT: "timestamp",
}
IMPRESSION_SCHEMA = ", ".join(f"{name} {kind}" for name, kind in IMPRESSION_COLUMNS.items())
REASON = "reason"

ROUTES = ("reader", "related", "trending", "popular")
MAX_POSITION = 100
HEX32 = "^[0-9a-f]{32}$"
NAME = "^[a-z0-9][a-z0-9-]{0,39}$"  # an experiment's or a variant's name

_V = "_v"  # the parsed line, a VARIANT
_ITEMS_V = "_items_v"  # its items as array<variant>
# What each field's JSON value must be (schema_of_variant's names; null: absent or null).
_REQUIRED = {RECOMMENDATION_ID: "STRING", C.PORTAL: "STRING", ROUTE: "STRING", SERVED_AT: "BIGINT"}
_NULLABLE = (C.USER_ID, C.ARTICLE_ID, MODEL_VERSION)
_ITEM_FIELDS = {C.ARTICLE_ID: "STRING", SOURCE: "STRING", POSITION: "BIGINT"}


def _kind(value: Column, path: str) -> Column:
    """The JSON type at ``path`` (``STRING``, ``BIGINT``, ``OBJECT<...>``, ``VOID`` for
    null), or null when the path is absent."""
    return F.schema_of_variant(F.try_variant_get(value, path, "variant"))


def _absent(kind: Column) -> Column:
    return kind.isNull() | (kind == "VOID")


def _any_item(test: Callable[[Column], Column]) -> Column:
    """Whether any item of the record passes ``test`` (a function of the item's VARIANT)."""
    return F.exists(F.col(_ITEMS_V), test)


def _item_field_checks(field: str, expected: str) -> list[tuple[Column, str]]:
    path = f"$.{field}"
    return [
        (_any_item(lambda x: _absent(_kind(x, path))), f"missing items.{field}"),
        (_any_item(lambda x: _kind(x, path) != expected), f"wrong type: items.{field}"),
    ]


def _item_checks() -> list[tuple[Column, str]]:
    checks = [c for f, e in _ITEM_FIELDS.items() for c in _item_field_checks(f, e)]
    out_of_range = _any_item(
        lambda x: ~F.try_variant_get(x, "$.position", "bigint").between(1, MAX_POSITION)
    )
    return [*checks, (out_of_range, f"position not 1..{MAX_POSITION}")]


def _checks(portals: Sequence[str]) -> list[tuple[Column, str]]:
    """Each rule with its reason, in the order a line is judged (the first broken wins)."""
    v = F.col(_V)
    checks = [
        (v.isNull(), "not JSON"),
        (~F.schema_of_variant(v).startswith("OBJECT<"), "not a JSON object"),
    ]
    for field in (*_REQUIRED, ITEMS):
        checks.append((_absent(_kind(v, f"$.{field}")), f"missing {field}"))
    for field, expected in _REQUIRED.items():
        checks.append((_kind(v, f"$.{field}") != expected, f"wrong type: {field}"))
    checks.append((~_kind(v, f"$.{ITEMS}").startswith("ARRAY<"), f"wrong type: {ITEMS}"))
    for field in _NULLABLE:
        kind = _kind(v, f"$.{field}")
        checks.append((~_absent(kind) & (kind != "STRING"), f"wrong type: {field}"))
    variant = _kind(v, f"$.{VARIANT}")
    checks.append((~_absent(variant) & ~variant.startswith("OBJECT<"), f"wrong type: {VARIANT}"))
    checks += _item_checks()
    string = lambda path: F.try_variant_get(v, path, "string")  # noqa: E731
    named = [string(f"$.{VARIANT}.{part}").rlike(NAME) for part in ("experiment", "name")]
    return [
        *checks,
        (~string(f"$.{RECOMMENDATION_ID}").rlike(HEX32), "bad recommendation_id"),
        (~string(f"$.{ROUTE}").isin(*ROUTES), "unknown route"),
        (~string(f"$.{C.PORTAL}").isin(*portals), "unknown portal"),
        (~_absent(variant) & ~F.coalesce(named[0] & named[1], F.lit(False)), "bad variant"),
    ]


def parse_impressions(portals: Sequence[str]) -> Callable[[DataFrame], DataFrame]:
    """Lines (``raw``, ``read_error``) to the contract's typed columns plus ``reason``:
    null for a good record, else the first rule it breaks."""

    def transform(lines: DataFrame) -> DataFrame:
        require_columns(lines, [RAW, READ_ERROR], where="parse_impressions")
        v = F.col(_V)
        typed = lambda path, kind: F.try_variant_get(v, path, kind)  # noqa: E731
        reasons = [F.when(cond, F.lit(reason)) for cond, reason in _checks(portals)]
        served_at = typed(f"$.{SERVED_AT}", "bigint")
        return (
            lines.withColumn(_V, F.try_parse_json(RAW))
            .withColumn(_ITEMS_V, typed(f"$.{ITEMS}", "array<variant>"))
            .withColumn(REASON, F.coalesce(F.col(READ_ERROR), *reasons))
            .select(
                "*",
                typed(f"$.{RECOMMENDATION_ID}", "string").alias(RECOMMENDATION_ID),
                typed(f"$.{C.PORTAL}", "string").alias(C.PORTAL),
                typed(f"$.{ROUTE}", "string").alias(ROUTE),
                typed(f"$.{C.USER_ID}", "string").alias(C.USER_ID),
                typed(f"$.{C.ARTICLE_ID}", "string").alias(C.ARTICLE_ID),
                typed(f"$.{VARIANT}.experiment", "string").alias(EXPERIMENT),
                typed(f"$.{VARIANT}.name", "string").alias(VARIANT),
                typed(f"$.{MODEL_VERSION}", "string").alias(MODEL_VERSION),
                F.timestamp_millis(served_at).alias(SERVED_AT),
                event_date(served_at).alias(SERVED_DATE),
                typed(f"$.{ITEMS}", ITEM_TYPE).alias(ITEMS),
            )
            .drop(_V, _ITEMS_V)
        )

    return transform


def to_impressions(parsed: DataFrame) -> DataFrame:
    """The good records as ``silver/impressions`` rows, one per recommendation id."""
    require_columns(parsed, [REASON, RECOMMENDATION_ID], where="to_impressions")
    return (
        parsed.where(F.col(REASON).isNull())
        .dropDuplicates([RECOMMENDATION_ID])
        .withColumn(C.SILVER_AT, F.current_timestamp())
        .select(*IMPRESSION_COLUMNS)
    )


def to_quarantine(parsed: DataFrame, batch_id: int) -> DataFrame:
    """The bad lines: the raw line, the reason, the landed object, when and in which batch."""
    require_columns(parsed, [RAW, REASON, C.SOURCE_OBJECT], where="to_quarantine")
    return parsed.where(F.col(REASON).isNotNull()).select(
        RAW, REASON, C.SOURCE_OBJECT, C.INGESTED_AT, F.lit(batch_id).alias(C.BATCH_ID)
    )
