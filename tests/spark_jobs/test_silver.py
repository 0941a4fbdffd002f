from __future__ import annotations

import json
from datetime import datetime

import pytest
from chispa import assert_df_equality

from spark_jobs.silver import parse_lines, quarantined, to_visits, valid_events


def _event(**fields):
    base = {
        "event_id": "e1",
        "event_type": "view",
        "portal": "g1",
        "user_id": "u1",
        "session_id": "s1",
        "pageview_id": "p1",
        "url": "https://g1.globo.com/a1.html",
        "article_id": "a1",
        "client_ts": 1767225600000,
        "server_ts": 1767225600100,
    }
    base.update(fields)
    return json.dumps(base)


@pytest.fixture()
def bronze(spark):
    rows = [
        (_event(), "o1"),
        (
            _event(
                event_id="e2",
                event_type="engagement",
                dwell_ms=90_000,
                scroll_depth=80,
                clicks=1,
                client_ts=1767225690000,
            ),
            "o1",
        ),
        (
            _event(
                event_id="e2",
                event_type="engagement",
                dwell_ms=90_000,
                scroll_depth=80,
                clicks=1,
                client_ts=1767225690000,
            ),
            "o2",
        ),  # delivered twice
        (_event(event_id="e3", user_id=None), "o1"),
        ("{not json", "o1"),
        (_event(event_id="e4", event_type="click"), "o1"),
        (_event(event_id="e5", client_ts="yesterday"), "o1"),
    ]
    return spark.createDataFrame(rows, "raw string, source_object string")


def test_quarantine_keeps_raw_line_and_reason(spark, bronze):
    actual = quarantined(parse_lines(bronze)).select("source_object", "reason")
    expected = spark.createDataFrame(
        [
            ("o1", "missing or mistyped: user_id"),
            ("o1", "not a JSON object"),
            ("o1", "unknown event_type"),
            ("o1", "missing or mistyped: client_ts"),
        ],
        "source_object string, reason string",
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_valid_events_are_deduplicated_by_event_id(bronze):
    ids = sorted(r.event_id for r in valid_events(parse_lines(bronze)).collect())
    assert ids == ["e1", "e2"]


def test_parse_counts_reconcile_with_bronze(bronze):
    parsed = parse_lines(bronze)
    # 7 lines = 2 valid events + 1 duplicate + 4 quarantined
    assert (valid_events(parsed).count(), quarantined(parsed).count()) == (2, 4)


def test_visit_merges_view_and_engagement(spark, bronze):
    actual = to_visits(valid_events(parse_lines(bronze)))
    expected = spark.createDataFrame(
        [("p1", "g1", "u1", "s1", "a1", datetime(2026, 1, 1, 0, 0, 0), 90_000, 80, 1, None,
          None)],
        "pageview_id string, portal string, user_id string, session_id string, "
        "article_id string, visit_start timestamp, dwell_ms long, scroll_depth int, "
        "clicks int, rec_id string, rec_position int",
    )  # fmt: skip
    assert_df_equality(actual, expected, ignore_nullable=True)


def test_to_visits_names_missing_columns(spark):
    df = spark.createDataFrame([("p1",)], "pageview_id string")
    with pytest.raises(ValueError, match="to_visits needs columns"):
        to_visits(df)


# ---- the recommendation a click came through (rec_id, rec_position) --------------------
REC_ID = "0123456789abcdef0123456789abcdef"


def _recs_of(spark, lines):
    """(event_id, rec_id, rec_position) of each valid event parsed from ``lines``."""
    bronze = spark.createDataFrame(
        [(line, "o1") for line in lines], "raw string, source_object string"
    )
    return sorted(
        (r.event_id, r.rec_id, r.rec_position) for r in valid_events(parse_lines(bronze)).collect()
    )


def test_a_recommendation_is_parsed_and_an_older_line_has_none(spark):
    lines = [
        _event(event_id="e1", rec_id=REC_ID, rec_position=4),
        _event(event_id="e2"),  # landed before pageviews named recommendations
        _event(event_id="e3", rec_id=None, rec_position=None),
    ]
    assert _recs_of(spark, lines) == [("e1", REC_ID, 4), ("e2", None, None), ("e3", None, None)]


def test_event_fields_keep_their_types_with_the_recommendation(spark):
    bronze = spark.createDataFrame([(_event(), "o1")], "raw string, source_object string")
    fields = {f.name: f.dataType.simpleString() for f in parse_lines(bronze).schema.fields}
    assert (fields["rec_id"], fields["rec_position"]) == ("string", "int")


@pytest.mark.parametrize(
    "rec",
    [
        {"rec_id": REC_ID},
        {"rec_position": 4},
        {"rec_id": REC_ID.upper(), "rec_position": 4},
        {"rec_id": REC_ID + "\n", "rec_position": 4},
        {"rec_id": REC_ID[:31], "rec_position": 4},
        {"rec_id": 12345, "rec_position": 4},
        {"rec_id": REC_ID, "rec_position": 0},
        {"rec_id": REC_ID, "rec_position": 101},
        {"rec_id": REC_ID, "rec_position": "4"},
        {"rec_id": REC_ID, "rec_position": 4.5},
        {"rec_id": REC_ID, "rec_position": 10_000_000_000},
    ],
)
def test_a_malformed_recommendation_keeps_the_event_as_organic(spark, rec):
    assert _recs_of(spark, [_event(**rec)]) == [("e1", None, None)]


def test_a_visit_carries_its_views_recommendation_not_its_engagements(spark):
    lines = [
        _event(rec_id=REC_ID, rec_position=4),
        _event(event_id="e2", event_type="engagement", rec_id="f" * 32, rec_position=1),
        _event(event_id="e3", pageview_id="p2", event_type="engagement", rec_id="f" * 32,
               rec_position=2),
    ]  # fmt: skip
    bronze = spark.createDataFrame(
        [(line, "o1") for line in lines], "raw string, source_object string"
    )
    visits = to_visits(valid_events(parse_lines(bronze)))
    assert visits.columns[-2:] == ["rec_id", "rec_position"]
    assert sorted((r.pageview_id, r.rec_id, r.rec_position) for r in visits.collect()) == [
        ("p1", REC_ID, 4),
        ("p2", None, None),
    ]
