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
        [("p1", "g1", "u1", "s1", "a1", datetime(2026, 1, 1, 0, 0, 0), 90_000, 80, 1)],
        "pageview_id string, portal string, user_id string, session_id string, "
        "article_id string, visit_start timestamp, dwell_ms long, scroll_depth int, clicks int",
    )
    assert_df_equality(actual, expected, ignore_nullable=True)


def test_to_visits_names_missing_columns(spark):
    df = spark.createDataFrame([("p1",)], "pageview_id string")
    with pytest.raises(ValueError, match="to_visits needs columns"):
        to_visits(df)
