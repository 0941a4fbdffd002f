"""Silver tables written before pageviews named recommendations take the new events: the
columns ``rec_id`` and ``rec_position`` are added, and the older rows read them as null."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from pyspark.sql import functions as F

from newslake.settings import Settings
from spark_jobs.landing import LandingBatch
from spark_jobs.tables import StreamPaths

pytestmark = pytest.mark.slow

T0 = 1_767_268_800_000  # 2026-01-01T12:00:00Z
REC_ID = "0123456789abcdef0123456789abcdef"
# silver/events as the landing batch wrote it before the change.
OLD_EVENTS_SCHEMA = (
    "event_id string, event_type string, portal string, user_id string, session_id string, "
    "pageview_id string, url string, referrer string, article_id string, dwell_ms long, "
    "scroll_depth int, clicks int, clicked_urls array<string>, client_ts long, "
    "server_ts long, source_object string, ingested_at timestamp, event_time timestamp, "
    "event_date date"
)


def _line(event_id, **fields):
    return json.dumps(
        {
            "event_id": event_id,
            "event_type": "view",
            "portal": "g1",
            "user_id": "u1",
            "session_id": "s1",
            "pageview_id": f"pv-{event_id}",
            "url": "https://g1.globo.com/a1.html",
            "article_id": "a1",
            "client_ts": T0,
            "server_ts": T0 + 100,
            **fields,
        }
    )


def test_events_with_a_recommendation_append_to_a_table_written_before(spark, tmp_path):
    settings = Settings(portals=("g1",), lake_uri=f"file://{tmp_path}/lake")
    events = StreamPaths.of(settings).events
    at = datetime(2026, 1, 1, 12, 0, 0)
    old_row = (
        "e1", "view", "g1", "u1", "s1", "pv-e1", "https://g1.globo.com/a1.html", None, "a1",
        0, 0, 0, [], T0, T0 + 100, "o0", at, at, at.date(),
    )  # fmt: skip
    spark.createDataFrame([old_row], OLD_EVENTS_SCHEMA).write.format("delta").partitionBy(
        "portal", "event_date"
    ).save(events)

    lines = spark.createDataFrame(
        [
            (_line("e1"), None, "o1"),  # delivered again: not appended twice
            (_line("e2", rec_id=REC_ID, rec_position=2), None, "o1"),
            (_line("e3"), None, "o1"),
        ],
        "raw string, read_error string, source_object string",
    ).withColumn("ingested_at", F.current_timestamp())
    counts = LandingBatch(settings).process(lines, query="q", batch_id=0)

    assert (counts["new_events"], counts["duplicates"]) == (2, 1)
    table = spark.read.format("delta").load(events)
    assert {f.name: f.dataType.simpleString() for f in table.schema.fields}.items() >= {
        ("rec_id", "string"),
        ("rec_position", "int"),
    }
    rows = sorted((r.event_id, r.rec_id, r.rec_position) for r in table.collect())
    assert rows == [("e1", None, None), ("e2", REC_ID, 2), ("e3", None, None)]


OLD_VISITS_SCHEMA = (
    "pageview_id string, portal string, user_id string, session_id string, "
    "article_id string, visit_start timestamp, dwell_ms long, scroll_depth int, clicks int, "
    "silver_at timestamp"
)


def test_visits_take_their_views_recommendation_into_a_table_written_before(spark, tmp_path):
    settings = Settings(portals=("g1",), lake_uri=f"file://{tmp_path}/lake")
    visits = StreamPaths.of(settings).visits
    at = datetime(2026, 1, 1, 12, 0, 0)
    old_row = ("pv-e1", "g1", "u1", "s1", "a1", at, 0, 0, 0, at)
    spark.createDataFrame([old_row], OLD_VISITS_SCHEMA).write.format("delta").save(visits)
    other = "f" * 32

    lines = spark.createDataFrame(
        [
            # pv-e1's engagement names the link clicked on its page: not how it was reached
            (_line("e1b", event_type="engagement", pageview_id="pv-e1", dwell_ms=5000,
                   rec_id=other, rec_position=1), None, "o1"),
            (_line("e2", rec_id=REC_ID, rec_position=2), None, "o1"),
            (_line("e2b", event_type="engagement", pageview_id="pv-e2", dwell_ms=9000,
                   rec_id=other, rec_position=3), None, "o1"),
            (_line("e3"), None, "o1"),
        ],
        "raw string, read_error string, source_object string",
    ).withColumn("ingested_at", F.current_timestamp())  # fmt: skip
    LandingBatch(settings).process(lines, query="q", batch_id=0)

    rows = spark.read.format("delta").load(visits).collect()
    assert sorted((r.pageview_id, r.rec_id, r.rec_position, r.dwell_ms) for r in rows) == [
        ("pv-e1", None, None, 5000),
        ("pv-e2", REC_ID, 2, 9000),
        ("pv-e3", None, None, 0),
    ]
