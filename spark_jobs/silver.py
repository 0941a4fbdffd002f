"""Bronze to silver: typed events, a quarantine for what does not parse, and one row per visit.

A visit is one page load (``pageview_id``): its ``view`` event and the ``engagement`` updates
sent while the page was open. Engagement values are running totals on the client, so a
visit keeps the largest dwell time, scroll depth and click count it reported.

An event may name the recommendation its click came through (``rec_id``, ``rec_position``,
added later: lines landed before parse them as null). A pair that is not well formed is
no reason to lose the event: it is kept as an organic one, both null, as the collector
keeps it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
)

from ingestion.schema import MAX_REC_POSITION
from spark_jobs import columns as C
from spark_jobs.bronze import RAW, READ_ERROR
from spark_jobs.validation import require_columns

EVENT_SCHEMA = StructType(
    [
        StructField(C.EVENT_ID, StringType()),
        StructField(C.EVENT_TYPE, StringType()),
        StructField(C.PORTAL, StringType()),
        StructField(C.USER_ID, StringType()),
        StructField(C.SESSION_ID, StringType()),
        StructField(C.PAGEVIEW_ID, StringType()),
        StructField(C.URL, StringType()),
        StructField(C.REFERRER, StringType()),
        StructField(C.ARTICLE_ID, StringType()),
        StructField(C.DWELL_MS, LongType()),
        StructField(C.SCROLL_DEPTH, IntegerType()),
        StructField(C.CLICKS, IntegerType()),
        StructField(C.CLICKED_URLS, ArrayType(StringType())),
        StructField(C.CLIENT_TS, LongType()),
        StructField(C.SERVER_TS, LongType()),
        StructField(C.REC_ID, StringType()),
        StructField(C.REC_POSITION, IntegerType()),
    ]
)
# ingestion.schema's REC_ID_PATTERN for Java's regex, whose $ also matches before a final
# newline.
REC_ID_REGEX = r"\A[0-9a-f]{32}\z"

REASON = "reason"
REQUIRED = (C.EVENT_ID, C.EVENT_TYPE, C.PORTAL, C.USER_ID, C.PAGEVIEW_ID, C.CLIENT_TS)


def _event_fields(skip: Sequence[str]) -> list[Column]:
    """The parsed event's fields but ``skip``; a recommendation only when both halves are
    well formed.

    A mistyped half (``"3"`` for a position) parses as null alone: Spark keeps the rest of
    the record (``spark.sql.json.enablePartialResults``)."""
    rec_id, position = F.col(f"_e.{C.REC_ID}"), F.col(f"_e.{C.REC_POSITION}")
    well_formed = rec_id.rlike(REC_ID_REGEX) & position.between(1, MAX_REC_POSITION)
    rec = {C.REC_ID: F.when(well_formed, rec_id), C.REC_POSITION: F.when(well_formed, position)}
    return [
        rec.get(f.name, F.col(f"_e.{f.name}")).alias(f.name)
        for f in EVENT_SCHEMA.fields
        if f.name not in skip
    ]


def parse_lines(df: DataFrame) -> DataFrame:
    """Typed event columns beside the raw line; a ``reason`` says why a row is unusable."""
    require_columns(df, [RAW], where="parse_lines")
    parsed = df.withColumn("_e", F.from_json(RAW, EVENT_SCHEMA, {"mode": "PERMISSIVE"}))
    missing = [F.when(F.col(f"_e.{c}").isNull(), F.lit(c)) for c in REQUIRED]
    unreadable = F.col(READ_ERROR) if READ_ERROR in df.columns else F.lit(None).cast("string")
    # CASE WHEN stops at the first true branch: the second look at the raw line (is it a
    # JSON object at all?) is only taken for the few lines that lack a required field.
    reason = (
        F.when(unreadable.isNotNull(), unreadable)
        .when(
            F.size(F.array_compact(F.array(*missing))) > 0,
            F.when(F.json_object_keys(RAW).isNull(), F.lit("not a JSON object")).otherwise(
                F.concat(
                    F.lit("missing or mistyped: "),
                    F.array_join(F.array_compact(F.array(*missing)), ","),
                )
            ),
        )
        .when(~F.col(f"_e.{C.EVENT_TYPE}").isin("view", "engagement"), F.lit("unknown event_type"))
    )
    return parsed.select(
        RAW,
        *[c for c in df.columns if c != RAW],
        *_event_fields(skip=df.columns),
        reason.alias(REASON),
    )


def check_rules(
    portals: Sequence[str], max_age_s: int, max_future_s: int
) -> Callable[[DataFrame], DataFrame]:
    """Refuse what parses but cannot be trusted: unknown portals, and client times too far
    from the collector's clock (``server_ts``), which is the late-data policy: an event
    more than ``max_age_s`` older than its arrival is quarantined as late, never merged."""

    def transform(parsed: DataFrame) -> DataFrame:
        require_columns(parsed, [REASON, C.PORTAL, C.CLIENT_TS, C.SERVER_TS], where="check_rules")
        skew_ms = F.col(C.CLIENT_TS) - F.col(C.SERVER_TS)
        rule = (
            F.when(~F.col(C.PORTAL).isin(*portals), F.lit("unknown portal"))
            .when(skew_ms > max_future_s * 1000, F.lit("client time in the future"))
            .when(-skew_ms > max_age_s * 1000, F.lit("late: older than the late-data limit"))
        )
        return parsed.withColumn(REASON, F.coalesce(F.col(REASON), rule))

    return transform


def usable_events(parsed: DataFrame) -> DataFrame:
    """Events that passed every check, with their event time and date; an event delivered
    twice is still here twice (visits do not mind: they keep minima and maxima)."""
    return (
        parsed.where(F.col(REASON).isNull())
        .drop(REASON, RAW, READ_ERROR)
        .withColumn(C.EVENT_TIME, F.timestamp_millis(C.CLIENT_TS))
        .withColumn(C.EVENT_DATE, F.to_date(C.EVENT_TIME))
    )


def valid_events(parsed: DataFrame) -> DataFrame:
    """Usable events, one per event id (the collector delivers at least once)."""
    return usable_events(parsed).dropDuplicates([C.EVENT_ID])


def quarantined(parsed: DataFrame, columns: Sequence[str] = (RAW, C.SOURCE_OBJECT)) -> DataFrame:
    """Rows that failed parsing or validation, with the raw line and the reason."""
    return parsed.where(F.col(REASON).isNotNull()).select(*columns, REASON)


def to_visits(events: DataFrame) -> DataFrame:
    """One row per visit (``pageview_id``), merging its view and engagement events.

    A visit's ``rec_id``/``rec_position`` are its view's: the recommendation the reader came
    through. An engagement event's name the one clicked on the page, which is the next
    visit's arrival, so they are not the visit's own.
    """
    require_columns(
        events,
        [
            C.PAGEVIEW_ID, C.EVENT_TYPE, C.PORTAL, C.USER_ID, C.SESSION_ID, C.ARTICLE_ID,
            C.EVENT_TIME, C.DWELL_MS, C.SCROLL_DEPTH, C.CLICKS, C.REC_ID, C.REC_POSITION,
        ],
        where="to_visits",
    )  # fmt: skip
    came_through = (F.col(C.EVENT_TYPE) == "view") & F.col(C.REC_ID).isNotNull()
    return events.groupBy(C.PAGEVIEW_ID).agg(
        F.first(C.PORTAL, ignorenulls=True).alias(C.PORTAL),
        F.first(C.USER_ID, ignorenulls=True).alias(C.USER_ID),
        F.first(C.SESSION_ID, ignorenulls=True).alias(C.SESSION_ID),
        F.first(C.ARTICLE_ID, ignorenulls=True).alias(C.ARTICLE_ID),
        F.min(C.EVENT_TIME).alias(C.VISIT_START),
        F.coalesce(F.max(C.DWELL_MS), F.lit(0)).alias(C.DWELL_MS),
        F.coalesce(F.max(C.SCROLL_DEPTH), F.lit(0)).alias(C.SCROLL_DEPTH),
        F.coalesce(F.max(C.CLICKS), F.lit(0)).alias(C.CLICKS),
        F.first(F.when(came_through, F.col(C.REC_ID)), ignorenulls=True).alias(C.REC_ID),
        F.first(F.when(came_through, F.col(C.REC_POSITION)), ignorenulls=True).alias(
            C.REC_POSITION
        ),
    )
